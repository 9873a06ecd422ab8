//! `ffc sales validate|convert`: sales files in FootfallCam's import layout, validated by
//! ffc-sales, and conversion joined with footfall. [`upload`] is the upload path shared
//! with `ffc server import-sales` and the demo.
use std::path::{Path, PathBuf};

use clap::Subcommand;

use crate::args::{self, RecordFormat};

pub mod convert;
pub mod upload;

/// The sales commands.
#[derive(Subcommand)]
pub enum SalesCommand {
    /// Validate a sales CSV and print its import report as JSON (exit 1 when rejected).
    Validate {
        /// The CSV file.
        file: PathBuf,
        /// A known store code (repeat); rows of other stores are errors.
        #[arg(long = "store")]
        stores: Vec<String>,
        /// Import the (store, day) batches free of errors instead of rejecting the file.
        #[arg(long)]
        valid_rows_only: bool,
        /// Write the import batches (V9 import rows per store and day) here as JSON.
        #[arg(long)]
        batches: Option<PathBuf>,
    },
    /// Join a sales CSV with footfall into conversion (transactions / footfall in) and
    /// ATV per store, per hour or per day. An hour whose footfall is partial or missing is
    /// flagged and gets no rate; a day gets one only when every open hour is whole.
    Convert(ConvertArgs),
}

/// `ffc sales convert` arguments.
#[derive(clap::Args)]
pub struct ConvertArgs {
    /// The sales CSV (spec §8 layout); rows with errors are left out and counted.
    pub file: PathBuf,
    /// Footfall: records as `ffc device pull`/`server export`/`bacnet read` print them
    /// (CSV or JSON lines), or events as `ffc listen ws|mqtt --events` store them.
    #[arg(long)]
    pub footfall: PathBuf,
    /// A store and its footfall: `CODE=SERIAL[,SERIAL..]` (counters, rolled up with
    /// completeness) or `CODE=site:ID` (repeat per store).
    #[arg(long = "store", required = true)]
    pub stores: Vec<String>,
    /// Opening time, local `HH:MM`.
    #[arg(long, default_value = "08:00")]
    pub open: String,
    /// Closing time, local `HH:MM`.
    #[arg(long, default_value = "20:00")]
    pub close: String,
    /// The stores' zone.
    #[arg(long, default_value = "UTC")]
    pub zone: String,
    /// Hourly or daily rows.
    #[arg(long, value_enum, default_value_t = convert::Per::Hour)]
    pub per: convert::Per,
    /// CSV or JSON lines.
    #[arg(long, value_enum, default_value_t = RecordFormat::Csv)]
    pub format: RecordFormat,
}

/// Runs a sales command.
pub fn run(command: SalesCommand) -> Result<(), String> {
    match command {
        SalesCommand::Validate {
            file,
            stores,
            valid_rows_only,
            batches,
        } => validate(&file, stores, valid_rows_only, batches.as_ref()),
        SalesCommand::Convert(a) => convert_command(&a),
    }
}

/// Reads and validates a sales CSV into ffc-sales' import (report and batches).
pub fn import(
    file: &Path,
    stores: Vec<String>,
    valid_rows_only: bool,
) -> Result<ffc_sales::Import, String> {
    let bytes = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let mut config = ffc_sales::ValidationConfig::default();
    if !stores.is_empty() {
        config = config.with_known_stores(stores);
    }
    let mode = if valid_rows_only {
        ffc_sales::ImportMode::ValidRowsOnly
    } else {
        ffc_sales::ImportMode::Atomic
    };
    Ok(ffc_sales::validate_bytes(&bytes, &config).import(&file.display().to_string(), mode))
}

fn validate(
    file: &Path,
    stores: Vec<String>,
    valid_rows_only: bool,
    batches: Option<&PathBuf>,
) -> Result<(), String> {
    let import = import(file, stores, valid_rows_only)?;
    println!(
        "{}",
        serde_json::to_string_pretty(&import.report).map_err(|e| e.to_string())?
    );
    if let Some(path) = batches {
        let text = serde_json::to_string_pretty(&import.batches).map_err(|e| e.to_string())?;
        std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    match import.report.outcome {
        ffc_sales::Outcome::Rejected => Err(format!(
            "{}: rejected, {} errors",
            file.display(),
            import.report.error_count
        )),
        _ => Ok(()),
    }
}

fn convert_command(a: &ConvertArgs) -> Result<(), String> {
    let zone = args::parse_zone(&a.zone)?;
    let seconds = |t: &str| -> Result<u32, String> {
        use chrono::Timelike as _;
        Ok(args::parse_time(t)?.num_seconds_from_midnight())
    };
    let hours = ffc_core::kpi::OperatingHours {
        open: seconds(&a.open)?,
        close: seconds(&a.close)?,
    };
    if hours.close <= hours.open {
        return Err(format!(
            "--close {} is not after --open {}",
            a.close, a.open
        ));
    }
    let stores = a
        .stores
        .iter()
        .map(|s| convert::parse_store(s))
        .collect::<Result<Vec<_>, _>>()?;
    let read = |p: &Path| std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()));
    let sales = read(&a.file)?;
    let footfall = convert::read_footfall(&read(&a.footfall)?)
        .map_err(|e| format!("{}: {e}", a.footfall.display()))?;
    let (validation, conversion) = convert::convert(&sales, &footfall, &stores, &hours, zone)?;
    print!("{}", convert::render(&conversion, a.per, a.format, &zone)?);
    let flagged = conversion.hours.iter().filter(|h| h.flag.is_some()).count();
    let without = if conversion.stores_without_footfall.is_empty() {
        String::new()
    } else {
        format!(
            "; no footfall for {}",
            conversion.stores_without_footfall.join(", ")
        )
    };
    eprintln!(
        "{} valid sales rows ({} with errors left out); {} store-hours, {} flagged; {} store-days{without}",
        validation.counts.valid,
        validation.error_count,
        conversion.hours.len(),
        flagged,
        conversion.days.len(),
    );
    Ok(())
}
