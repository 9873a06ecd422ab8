//! `ffc reconcile`: live events against pulled records, a state per bucket, the merged
//! records with their state as provenance, and (with `--backfill`) exactly the requests
//! that fill the `live-short` buckets. Exit status as diff(1): 0 all match, 1 any bucket
//! not `match`, 2 bad input or trouble (nothing written).

pub mod backfill;
pub mod input;

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use ffc_core::reconcile::{reconcile, BucketState, Reconciliation};
use ffc_core::time::{seconds_to_naive, Format};
use ffc_core::{CountEvent, Zone};

use crate::args::{record_csv_line, RECORD_HEADER};
use input::{read_events, read_pulled, Pulled};

/// `ffc reconcile` arguments.
#[derive(clap::Args)]
pub struct ReconcileArgs {
    /// Events as `ffc listen ws|mqtt --events` writes them (JSON lines).
    #[arg(long)]
    pub live: PathBuf,
    /// Records as `ffc device pull --format csv` writes them (or a merged file).
    #[arg(long)]
    pub pulled: PathBuf,
    /// How the buckets that are not `match` are printed.
    #[arg(long, value_enum, default_value_t = ReconcileFormat::Table)]
    pub format: ReconcileFormat,
    /// Write the merged records here: the records header plus `state`.
    #[arg(long)]
    pub merged: Option<PathBuf>,
    /// Pull exactly the `live-short` windows (from --device or --server) before merging.
    #[arg(long, requires = "merged")]
    pub backfill: bool,
    /// Where `--backfill` pulls from.
    #[command(flatten)]
    pub from: backfill::BackfillSource,
}

/// Output of `ffc reconcile`.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReconcileFormat {
    /// An aligned table.
    Table,
    /// One JSON object per line for each bucket that is not `match`.
    Json,
}

/// Runs the command; the exit status is the result.
pub fn command(a: ReconcileArgs) -> ExitCode {
    match run(&a) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

/// Reads, reconciles, backfills when asked, prints, writes; `Ok(true)` when all match.
pub fn run(a: &ReconcileArgs) -> Result<bool, String> {
    let live: Vec<CountEvent> = read_events(&a.live)
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|e| e.event)
        .collect();
    let pulled = read_pulled(&a.pulled).map_err(|e| e.to_string())?;
    let mut result = reconcile_files(&live, &pulled);
    if a.backfill {
        let (after, requests) =
            crate::block_on_value(backfill::run(&a.from, &live, &pulled, &result))?;
        eprintln!("backfill: sent {requests} request(s)");
        result = after;
    }
    match a.format {
        ReconcileFormat::Table => print!("{}", table(&result)),
        ReconcileFormat::Json => print!("{}", json_lines(&result)?),
    }
    eprintln!("{}", summary(&result));
    if let Some(path) = &a.merged {
        std::fs::write(path, merged_csv(&result))
            .map_err(|e| format!("{}: {e}", path.display()))?;
        eprintln!("merged records written to {}", path.display());
    }
    Ok(result.all_match())
}

/// Reconciles, placing every pulled bucket in its counter's events' offset (so local
/// times are the events' own), and marks the rows a merged input already restored.
pub fn reconcile_files(live: &[CountEvent], pulled: &Pulled) -> Reconciliation {
    let mut offsets = std::collections::BTreeMap::new();
    for e in live {
        let o = offsets.entry(e.serial).or_insert(e.offset);
        *o = (*o).max(e.offset);
    }
    let place = |records: &[ffc_core::CountRecord]| -> Vec<ffc_core::CountRecord> {
        records
            .iter()
            .map(|r| {
                let mut r = *r;
                if let ffc_core::Subject::Counter(s) = r.subject {
                    if let Some(o) = offsets.get(&s) {
                        r.offset = *o;
                    }
                }
                r
            })
            .collect()
    };
    let mut result = reconcile(live, &place(&pulled.records));
    result.mark_held(&place(&pulled.held));
    result
}

/// One line per state with its bucket count.
pub fn summary(r: &Reconciliation) -> String {
    let n = r.state_counts();
    let parts: Vec<String> = BucketState::ALL
        .iter()
        .map(|s| format!("{} {}", n[*s as usize], s.label()))
        .collect();
    format!("{} buckets: {}", r.buckets.len(), parts.join(", "))
}

fn local(start: i64, offset: ffc_core::UtcOffset) -> String {
    seconds_to_naive(Zone::Fixed(offset).local_seconds(start))
        .map(|t| Format::DateTime.display(t).to_string())
        .unwrap_or_default()
}

/// The buckets that are not `match`, as a table (a line saying so when all match).
pub fn table(r: &Reconciliation) -> String {
    let mut out = String::new();
    if r.all_match() {
        out.push_str("every bucket matches\n");
        return out;
    }
    let _ = writeln!(
        out,
        "{:<16} {:<19} {:>6} {:<10} {:>7} {:>8} {:>9} {:>10}",
        "counter",
        "local start",
        "length",
        "state",
        "live in",
        "live out",
        "pulled in",
        "pulled out"
    );
    let opt = |v: Option<u64>| v.map_or_else(|| "-".to_owned(), |v| v.to_string());
    for b in r.non_matching() {
        let _ = writeln!(
            out,
            "{:<16} {:<19} {:>6} {:<10} {:>7} {:>8} {:>9} {:>10}",
            b.counter.to_string(),
            local(b.start, b.offset),
            b.length,
            b.state.label(),
            b.live_in,
            b.live_out,
            opt(b.pulled_in),
            opt(b.pulled_out)
        );
    }
    out
}

/// One JSON object per line for each bucket that is not `match`, by counter then start.
pub fn json_lines(r: &Reconciliation) -> Result<String, String> {
    let mut out = String::new();
    for b in r.non_matching() {
        out.push_str(&serde_json::to_string(b).map_err(|e| e.to_string())?);
        out.push('\n');
    }
    Ok(out)
}

/// The merged records: the records header plus `state`, one row per counter per bucket.
pub fn merged_csv(r: &Reconciliation) -> String {
    let mut out = format!("{RECORD_HEADER},state\n");
    for b in &r.buckets {
        out.push_str(&record_csv_line(&b.merged_record(), &Zone::Fixed(b.offset)));
        out.push(',');
        out.push_str(b.state.label());
        out.push('\n');
    }
    out
}
