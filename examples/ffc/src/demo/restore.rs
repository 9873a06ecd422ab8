//! Completeness restored (issue 17): the live counters' events (with receive times and
//! sessions, as `ffc listen --events` keeps them) are reconciled with what their counters
//! hold, the live-short buckets are backfilled from the device simulators with the fewest
//! requests (a second run sends none), the merged series replace the live ones (backfilled
//! hours `revised`), North-3's overflow is named from its receive times, and the health
//! strip (counters × hours, coloured by availability) is written beside the chart.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use ffc_core::aggregate::{Aggregator, Series};
use ffc_core::availability::{
    self, AvailabilityConfig, AvailabilityInput, MinuteState, OverflowSuspect, ReceivedEvent,
    SessionRecord,
};
use ffc_core::reconcile::{self, Reconciliation};
use ffc_core::{CameraSerial, CountEvent, CountRecord, Resolution};
use ffc_device::query::DataType;
use ffc_device::sim::Simulator;
use ffc_protocols::sink::MemorySink;

use super::{client, Day};

/// What the restore step did.
#[derive(Debug, Clone)]
pub struct Restored {
    /// Buckets that were live-short and are now backfilled.
    pub buckets_restored: usize,
    /// Count requests the backfill sent to the device simulators.
    pub requests: u64,
    /// Requests a second run sent (0: idempotent).
    pub second_run_requests: u64,
    /// The overflow named from the receive times.
    pub overflow: Option<OverflowSuspect>,
    /// The health strip.
    pub health_path: PathBuf,
    /// The live events file (with `received_utc`) and its `.sessions` beside it.
    pub live_path: PathBuf,
}

/// A live counter: its serial, label and simulator (which holds the truth).
pub(super) struct LiveCounter {
    pub serial: CameraSerial,
    pub label: &'static str,
    pub sim: Simulator,
}

/// The live events with their receive times, and the sessions, of every sink.
fn gather(sinks: &[&MemorySink]) -> (Vec<ReceivedEvent>, Vec<SessionRecord>) {
    let mut events = Vec::new();
    let mut sessions = Vec::new();
    for sink in sinks {
        for (event, at) in sink.received() {
            events.push(ReceivedEvent {
                event,
                received: Some(at),
            });
        }
        sessions.extend(sink.sessions());
    }
    (events, sessions)
}

/// Pulls `[from, to)` hourly from every counter in `windows` and returns the records and the
/// count requests it cost.
async fn pull_windows(
    counters: &[LiveCounter],
    day: &Day,
    windows: &[(CameraSerial, i64, i64, u32)],
) -> Result<(Vec<CountRecord>, u64), String> {
    let before: u64 = counters.iter().map(|c| c.sim.stats().count_requests).sum();
    let mut records = Vec::new();
    for &(serial, from, to, length) in windows {
        let counter = counters
            .iter()
            .find(|c| c.serial == serial)
            .ok_or_else(|| format!("no simulator for {serial}"))?;
        let resolution = reconcile::resolution_of(length).unwrap_or(Resolution::Hour);
        let pulled = client(&counter.sim, day.zone)?
            .pull(from, to, resolution, DataType::Json, |_| {})
            .await
            .map_err(|e| format!("{} backfill: {e}", counter.label))?;
        records.extend(pulled);
    }
    let after: u64 = counters.iter().map(|c| c.sim.stats().count_requests).sum();
    Ok((records, after - before))
}

/// The restore step; see the module docs. Replaces the live counters' series in `agg` by
/// their merged series.
pub(super) async fn run(
    day: &Day,
    out_dir: &Path,
    sinks: &[&MemorySink],
    counters: &[LiveCounter],
    agg: &mut Aggregator,
    say: &mut dyn FnMut(String),
) -> Result<Restored, String> {
    let (received, sessions) = gather(sinks);
    let live_path = out_dir.join("live-events.jsonl");
    write_live(&live_path, &received, &sessions)?;
    let events: Vec<CountEvent> = received.iter().map(|r| r.event).collect();
    // What the counters hold for the day: one hourly pull each.
    let whole: Vec<_> = counters
        .iter()
        .map(|c| (c.serial, day.start, day.end, 3600))
        .collect();
    let (pulled, pull_requests) = pull_windows(counters, day, &whole).await?;
    let found = reconcile::reconcile(&events, &pulled);
    for c in counters {
        let short = found
            .non_matching()
            .filter(|b| b.counter == c.serial)
            .count();
        say(format!(
            "reconcile {}: {short} of 24 hours not matching what the counter holds",
            c.label
        ));
    }
    let activity = availability::activity(&received, &sessions);
    let config = AvailabilityConfig::default().with_zone(day.zone);
    let overflow = counters
        .iter()
        .find_map(|c| availability::overflow(c.serial, activity.get(&c.serial)?, day.end, &config));
    if let Some(o) = &overflow {
        say(format!(
            "health: {} — {} ({} events in the burst)",
            label_of(counters, o.counter),
            OverflowSuspect::ADVICE,
            o.events
        ));
    }
    // The backfill: exactly the live-short windows.
    let plan: Vec<_> = reconcile::backfill_windows(&found)
        .iter()
        .map(|w| (w.counter, w.from, w.to, w.length))
        .collect();
    let (fresh, requests) = pull_windows(counters, day, &plan).await?;
    let mut merged = reconcile::reconcile(&events, &reconcile::overlay(&pulled, &fresh));
    merged.mark_held(&fresh);
    let restored = merged.buckets.iter().filter(|b| b.held).count();
    // A second run finds nothing to pull.
    let again: Vec<_> = reconcile::backfill_windows(&merged)
        .iter()
        .map(|w| (w.counter, w.from, w.to, w.length))
        .collect();
    let (_, second) = pull_windows(counters, day, &again).await?;
    say(format!(
        "backfill: {restored} buckets restored from the device simulators in {requests} requests ({} windows; the day's pulls for reconciling took {pull_requests}); a second run sent {second}",
        plan.len()
    ));
    for (serial, series) in merged_hourly(&merged, day) {
        *agg.series_mut(serial) = series;
    }
    let health_path = out_dir.join("health.svg");
    write_health(&health_path, counters, &merged, &activity, day, &config)?;
    say(format!("health strip {}", health_path.display()));
    Ok(Restored {
        buckets_restored: restored,
        requests,
        second_run_requests: second,
        overflow,
        health_path,
        live_path,
    })
}

/// The merged counts as hourly series, every bucket the pull raised marked `revised` (as
/// `Reconciliation::merged_series`, at the demo's resolution).
fn merged_hourly(merged: &Reconciliation, day: &Day) -> BTreeMap<CameraSerial, Series> {
    let mut out: BTreeMap<CameraSerial, Series> = BTreeMap::new();
    for b in merged.buckets.iter().filter(|b| b.length == 3600) {
        let series = out
            .entry(b.counter)
            .or_insert_with(|| Series::new(Resolution::Hour, day.zone));
        let mut live = b.merged_record();
        live.count_in = b.live_in;
        live.count_out = b.live_out;
        if series.put_record(&live).is_ok() {
            // Closing the bucket first makes the raise a late revision.
            series.close_through(b.end());
            let _ = series.put_record(&b.merged_record());
        }
    }
    out
}

fn label_of(counters: &[LiveCounter], serial: CameraSerial) -> &'static str {
    counters
        .iter()
        .find(|c| c.serial == serial)
        .map_or("?", |c| c.label)
}

/// The events file (`received_utc` per line) and its `.sessions`, as `ffc listen` writes.
fn write_live(
    path: &Path,
    events: &[ReceivedEvent],
    sessions: &[SessionRecord],
) -> Result<(), String> {
    let err = |p: &Path, e: &dyn std::fmt::Display| format!("{}: {e}", p.display());
    let mut text = String::new();
    for e in events {
        text.push_str(&serde_json::to_string(e).map_err(|e| err(path, &e))?);
        text.push('\n');
    }
    std::fs::write(path, text).map_err(|e| err(path, &e))?;
    let sessions_path = ffc_protocols::sink::sessions_path(path);
    let mut text = String::new();
    for s in sessions {
        text.push_str(&serde_json::to_string(s).map_err(|e| err(&sessions_path, &e))?);
        text.push('\n');
    }
    std::fs::write(&sessions_path, text).map_err(|e| err(&sessions_path, &e))
}

fn colour(state: Option<MinuteState>) -> &'static str {
    match state {
        Some(MinuteState::OnTime) => "#2e7d32",
        Some(MinuteState::Late) => "#f9a825",
        Some(MinuteState::Offline) => "#616161",
        Some(MinuteState::Backfillable) => "#ef6c00",
        Some(MinuteState::Backfilled) => "#1565c0",
        Some(MinuteState::Lost) => "#c62828",
        None => "#eeeeee",
    }
}

/// The state most minutes of a bucket are in.
fn most(counts: &availability::StateCounts) -> Option<MinuteState> {
    MinuteState::ALL
        .iter()
        .copied()
        .filter(|s| counts.get(*s) > 0)
        .max_by_key(|s| counts.get(*s))
}

/// Counters × hours, each hour coloured by the state most of its minutes are in.
fn write_health(
    path: &Path,
    counters: &[LiveCounter],
    merged: &Reconciliation,
    activity: &BTreeMap<CameraSerial, availability::Activity>,
    day: &Day,
    config: &AvailabilityConfig,
) -> Result<(), String> {
    let (cell, left, top) = (24, 110, 30);
    let width = left + 24 * cell + 10;
    let height = top + counters.len() * cell + 40;
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="11"><text x="4" y="16">Availability per hour (most minutes): green on time, yellow late, grey offline, orange backfillable, blue backfilled, red lost</text>"#
    );
    for (row, c) in counters.iter().enumerate() {
        let buckets: Vec<_> = merged
            .buckets
            .iter()
            .filter(|b| b.counter == c.serial)
            .cloned()
            .collect();
        let input = AvailabilityInput {
            counter: c.serial,
            from: day.start,
            to: day.end,
            buckets: &buckets,
            merged: true,
        };
        let minutes = availability::availability(&input, activity.get(&c.serial), config);
        let y = top + row * cell;
        let _ = write!(svg, r#"<text x="4" y="{}">{}</text>"#, y + 16, c.label);
        for (i, (_, counts)) in minutes
            .by_bucket(Resolution::Hour, day.zone)
            .iter()
            .enumerate()
        {
            let _ = write!(
                svg,
                r#"<rect x="{}" y="{y}" width="{}" height="{}" fill="{}"/>"#,
                left + i * cell,
                cell - 2,
                cell - 2,
                colour(most(counts))
            );
        }
    }
    for h in (0..24).step_by(3) {
        let _ = write!(
            svg,
            r#"<text x="{}" y="{}">{h:02}</text>"#,
            left + h * cell,
            top + counters.len() * cell + 14
        );
    }
    svg.push_str("</svg>\n");
    std::fs::write(path, svg).map_err(|e| format!("{}: {e}", path.display()))
}
