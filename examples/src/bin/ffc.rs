//! `ffc`: the command-line tool for FootfallCam data.
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use ffc_examples::{report, sample};

/// One typed, reliable way to get FootfallCam data out of every interface.
#[derive(Parser)]
#[command(name = "ffc", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Branch report with completeness per bucket, from events (JSON lines) and a branch layout.
    Report {
        /// Events as JSON lines with FootfallCam's field names (default: the shipped sample).
        #[arg(long)]
        events: Option<PathBuf>,
        /// Branch layout JSON (default: the shipped sample's).
        #[arg(long)]
        layout: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
        format: OutputFormat,
        /// Also write an SVG chart here.
        #[arg(long)]
        svg: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum OutputFormat {
    Table,
    Csv,
    Json,
}

fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Report {
            events,
            layout,
            format,
            svg,
        } => {
            let (default_events, default_layout) = sample::default_paths();
            let events = events.unwrap_or_else(|| default_events.into());
            let layout = layout.unwrap_or_else(|| default_layout.into());
            let rolled = sample::roll_up(&events, &layout)?;
            let mut rows = Vec::new();
            for (b, series) in &rolled.branches {
                rows.extend(report::rows(&b.name, series, &b.hours()?, rolled.zone));
            }
            match format {
                OutputFormat::Table => print!("{}", report::table(&rows)),
                OutputFormat::Csv => print!("{}", report::csv(&rows).map_err(|e| e.to_string())?),
                OutputFormat::Json => {
                    print!("{}", report::json_lines(&rows).map_err(|e| e.to_string())?)
                }
            }
            if let Some(path) = svg {
                let chart = report::svg(&rows, "Visitors in per hour (red cross: not complete)")?;
                std::fs::write(&path, chart).map_err(|e| format!("{}: {e}", path.display()))?;
                eprintln!("chart written to {}", path.display());
            }
            Ok(())
        }
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
