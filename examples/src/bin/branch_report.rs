//! Turns a shipped sample of counter events into a branch report with completeness.
//!
//! `cargo run -p ffc-examples --bin branch_report [EVENTS.jsonl BRANCHES.json]`
//!
//! Reads events (JSON lines with FootfallCam's field names), drops resent duplicates by
//! event key, bins them hourly per counter in the site's local time, marks the hours each
//! counter was online as reported, rolls counters up per branch, and prints per hour the
//! footfall, occupancy and whether the hour is complete — an offline counter shows as
//! `partial` with its serial instead of silently lowering the total.
//!
//! Uses nothing but ffc-core's public API, as a BI team's own program would.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use ffc_core::aggregate::{Aggregator, Ingested};
use ffc_core::kpi::{OccupancyTracker, OperatingHours};
use ffc_core::rollup::{rollup_branch, BranchSeries, BranchSpec, Completeness};
use ffc_core::time::{seconds_to_naive, Format};
use ffc_core::{CameraSerial, CountEvent, Resolution, SiteId, UtcOffset, Zone};
use serde::Deserialize;

/// The branch layout file: the sites' offset, the reported day, the branches and when each
/// counter was online.
#[derive(Deserialize)]
struct Layout {
    zone_offset_seconds: i32,
    day_start_utc: i64,
    branches: Vec<Branch>,
    #[serde(default)]
    online: BTreeMap<CameraSerial, Vec<(i64, i64)>>,
}

#[derive(Deserialize)]
struct Branch {
    site: u32,
    name: String,
    counters: Vec<CameraSerial>,
    open: String,
    close: String,
}

/// `HH:MM` as seconds after local midnight.
fn hhmm(text: &str) -> Result<u32, String> {
    let (h, m) = text
        .split_once(':')
        .ok_or_else(|| format!("time {text:?} is not HH:MM"))?;
    let h: u32 = h.parse().map_err(|_| format!("hour in {text:?}"))?;
    let m: u32 = m.parse().map_err(|_| format!("minute in {text:?}"))?;
    if h > 24 || m > 59 {
        return Err(format!("time {text:?} out of range"));
    }
    Ok(h * 3600 + m * 60)
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// Every event into one hourly aggregator; returns (counted, duplicates).
fn ingest(agg: &mut Aggregator, events: &Path) -> Result<(usize, usize), String> {
    let (mut counted, mut duplicates) = (0, 0);
    for (i, line) in read(events)?.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let event: CountEvent = serde_json::from_str(line)
            .map_err(|e| format!("{}:{}: {e}", events.display(), i + 1))?;
        match agg.ingest(&event) {
            Ingested::New => counted += 1,
            Ingested::Duplicate => duplicates += 1,
        }
    }
    Ok((counted, duplicates))
}

/// One branch's open hours: footfall, occupancy and completeness, then the A01 total and
/// whether it is whole.
fn print_branch(b: &Branch, series: &BranchSeries, zone: Zone) -> Result<(), String> {
    let hours = OperatingHours {
        open: hhmm(&b.open)?,
        close: hhmm(&b.close)?,
    };
    println!("{} (site {})", b.name, b.site);
    println!(
        "  {:<16} {:>5} {:>5} {:>9}  completeness",
        "hour", "in", "out", "occupancy"
    );
    let mut occupancy = OccupancyTracker::new(zone);
    let (mut a01, mut not_whole) = (0u64, 0usize);
    for bucket in series
        .buckets
        .iter()
        .filter(|x| hours.is_open(x.start, &zone))
    {
        let occ = occupancy.push(bucket.start, &bucket.counts);
        let local = seconds_to_naive(zone.local_seconds(bucket.start))
            .map(|t| Format::DateTime.display(t).to_string())
            .unwrap_or_default();
        let flag = match &bucket.completeness {
            Completeness::Partial { missing } => {
                let missing: Vec<String> = missing.iter().map(|m| m.to_string()).collect();
                format!(
                    "partial: {} of {} counters, missing {}",
                    bucket.reported,
                    bucket.expected,
                    missing.join(", ")
                )
            }
            other => other.label().to_string(),
        };
        a01 += bucket.counts.visitors_in;
        not_whole += usize::from(matches!(
            bucket.completeness,
            Completeness::Partial { .. } | Completeness::NoData
        ));
        println!(
            "  {:<16} {:>5} {:>5} {:>8}{}  {flag}",
            local.get(..16).unwrap_or(&local),
            bucket.counts.visitors_in,
            bucket.counts.visitors_out,
            occ.value,
            if occ.clamped { "*" } else { " " },
        );
    }
    if not_whole > 0 {
        println!("  A01 footfall in: {a01} — NOT complete: {not_whole} open hour(s) partial or without data\n");
    } else {
        println!("  A01 footfall in: {a01} — complete\n");
    }
    Ok(())
}

fn run() -> Result<(), String> {
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/data");
    let mut args = std::env::args().skip(1);
    let events = PathBuf::from(
        args.next()
            .unwrap_or_else(|| format!("{data}/sample-events.jsonl")),
    );
    let layout_path = PathBuf::from(
        args.next()
            .unwrap_or_else(|| format!("{data}/sample-branches.json")),
    );
    let layout: Layout = serde_json::from_str(&read(&layout_path)?)
        .map_err(|e| format!("{}: {e}", layout_path.display()))?;
    let offset = UtcOffset::from_seconds(layout.zone_offset_seconds)
        .map_err(|e| format!("{}: zone_offset_seconds: {e}", layout_path.display()))?;
    let zone = Zone::Fixed(offset);
    let mut agg = Aggregator::new(Resolution::Hour, zone);
    let (counted, duplicates) = ingest(&mut agg, &events)?;
    for (serial, intervals) in &layout.online {
        for (from, to) in intervals {
            agg.cover(*serial, *from, *to);
        }
    }
    println!("{counted} events counted, {duplicates} resent duplicates dropped\n");
    let (from, to) = (layout.day_start_utc, layout.day_start_utc + 86_400);
    for b in &layout.branches {
        let spec = BranchSpec {
            site: SiteId(b.site),
            counters: b.counters.clone(),
        };
        let series = rollup_branch(&spec, agg.counters(), from, to, Resolution::Hour, zone)
            .map_err(|e| format!("branch {}: {e}", b.site))?;
        print_branch(b, &series, zone)?;
    }
    Ok(())
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
