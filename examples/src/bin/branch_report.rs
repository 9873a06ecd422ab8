//! Turns a shipped sample of counter events into a branch report with completeness.
//!
//! `cargo run -p ffc-examples --bin branch_report [EVENTS.jsonl BRANCHES.json]`
//!
//! Reads events (JSON lines with FootfallCam's field names), drops resent duplicates by
//! event key, bins them hourly per counter in the site's local time, marks the hours each
//! counter was online as reported, rolls counters up per branch, and prints per hour the
//! footfall, occupancy and whether the hour is complete — an offline counter shows as
//! `partial` with its serial instead of silently lowering the total.
use std::collections::BTreeMap;
use std::process::ExitCode;

use ffc_core::aggregate::{Aggregator, Ingested};
use ffc_core::kpi::{footfall_in, OccupancyTracker, OperatingHours};
use ffc_core::rollup::{rollup_branch, BranchSpec, Completeness};
use ffc_core::time::{seconds_to_naive, Format};
use ffc_core::{CameraSerial, CountEvent, Resolution, SiteId, UtcOffset, Zone};
use serde::Deserialize;

#[derive(Deserialize)]
struct Branches {
    zone_offset_seconds: i32,
    day_start_utc: i64,
    branches: Vec<Branch>,
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

fn hhmm(text: &str) -> Result<u32, String> {
    let (h, m) = text
        .split_once(':')
        .ok_or_else(|| format!("time {text:?} is not HH:MM"))?;
    let h: u32 = h.parse().map_err(|_| format!("hour in {text:?}"))?;
    let m: u32 = m.parse().map_err(|_| format!("minute in {text:?}"))?;
    Ok(h * 3600 + m * 60)
}

fn run() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/data");
    let events_path = args
        .next()
        .unwrap_or_else(|| format!("{dir}/sample-events.jsonl"));
    let branches_path = args
        .next()
        .unwrap_or_else(|| format!("{dir}/sample-branches.json"));
    let text = std::fs::read_to_string(&events_path).map_err(|e| format!("{events_path}: {e}"))?;
    let config: Branches = serde_json::from_str(
        &std::fs::read_to_string(&branches_path).map_err(|e| format!("{branches_path}: {e}"))?,
    )
    .map_err(|e| format!("{branches_path}: {e}"))?;

    let offset = UtcOffset::from_seconds(config.zone_offset_seconds)
        .map_err(|e| format!("{branches_path}: zone_offset_seconds: {e}"))?;
    let zone = Zone::Fixed(offset);
    let mut agg = Aggregator::new(Resolution::Hour, zone);
    let (mut new, mut duplicates) = (0, 0);
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let event: CountEvent =
            serde_json::from_str(line).map_err(|e| format!("{events_path}:{}: {e}", i + 1))?;
        match agg.ingest(&event) {
            Ingested::New => new += 1,
            Ingested::Duplicate => duplicates += 1,
        }
    }
    for (serial, intervals) in &config.online {
        for (from, to) in intervals {
            agg.cover(*serial, *from, *to);
        }
    }
    println!("{new} events counted, {duplicates} resent duplicates dropped\n");

    let (from, to) = (config.day_start_utc, config.day_start_utc + 86_400);
    for branch in &config.branches {
        let hours = OperatingHours {
            open: hhmm(&branch.open)?,
            close: hhmm(&branch.close)?,
        };
        let spec = BranchSpec {
            site: SiteId(branch.site),
            counters: branch.counters.clone(),
        };
        let series = rollup_branch(&spec, agg.counters(), from, to, Resolution::Hour, zone)
            .map_err(|e| format!("branch {}: {e}", branch.site))?;
        println!(
            "{} (site {}, {} counters)",
            branch.name,
            branch.site,
            branch.counters.len()
        );
        println!(
            "  {:<16} {:>5} {:>5} {:>6} {:>9}  completeness",
            "hour", "in", "out", "staff", "occupancy"
        );
        let mut occupancy = OccupancyTracker::new(zone);
        for b in series
            .buckets
            .iter()
            .filter(|b| hours.is_open(b.start, &zone))
        {
            let occ = occupancy.push(b.start, &b.counts);
            let local = seconds_to_naive(zone.local_seconds(b.start))
                .map(|t| Format::DateTime.display(t).to_string())
                .unwrap_or_default();
            let flag = match &b.completeness {
                Completeness::Partial { missing } => format!(
                    "partial: {} of {} counters, missing {}",
                    b.reported,
                    b.expected,
                    missing
                        .iter()
                        .map(|m| m.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                other => other.label().to_string(),
            };
            println!(
                "  {:<16} {:>5} {:>5} {:>6} {:>8}{}  {}",
                &local[..16.min(local.len())],
                b.counts.visitors_in,
                b.counts.visitors_out,
                b.counts.staff_in + b.counts.staff_out,
                occ.value,
                if occ.clamped { "*" } else { " " },
                flag
            );
        }
        let a01 = footfall_in(
            series.buckets.iter().map(|b| (b.start, &b.counts)),
            &hours,
            &zone,
        );
        let partial = series
            .buckets
            .iter()
            .filter(|b| hours.is_open(b.start, &zone) && !b.completeness.is_whole())
            .count();
        println!(
            "  A01 footfall in: {a01}{}\n",
            if partial > 0 {
                format!(" — NOT complete: {partial} open hour(s) partial or without data")
            } else {
                " — complete".to_string()
            }
        );
    }
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
