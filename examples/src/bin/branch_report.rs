//! Turns a shipped sample of counter events into a branch report with completeness.
//!
//! `cargo run -p ffc-examples --bin branch_report [EVENTS.jsonl BRANCHES.json]`
//!
//! Reads events (JSON lines with FootfallCam's field names), drops resent duplicates by
//! event key, bins them hourly per counter in the site's local time, marks the hours each
//! counter was online as reported, rolls counters up per branch, and prints per hour the
//! footfall, occupancy and whether the hour is complete — an offline counter shows as
//! `partial` with its serial instead of silently lowering the total.
use std::path::PathBuf;
use std::process::ExitCode;

use ffc_examples::{report, sample};

fn run() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let (events, layout) = sample::default_paths();
    let events = PathBuf::from(args.next().unwrap_or(events));
    let layout = PathBuf::from(args.next().unwrap_or(layout));
    let rolled = sample::roll_up(&events, &layout)?;
    println!(
        "{} events counted, {} resent duplicates dropped\n",
        rolled.counted, rolled.duplicates
    );
    let mut rows = Vec::new();
    for (b, series) in &rolled.branches {
        rows.extend(report::rows(&b.name, series, &b.hours()?, rolled.zone));
    }
    print!("{}", report::table(&rows));
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
