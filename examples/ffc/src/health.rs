//! `ffc health`: data availability per counter per hour (table, JSON lines, an SVG strip
//! of counters × hours coloured by state), open offline incidents, last-seen, and the
//! outbox overflow case, from an events file and its sessions file (and, optionally, the
//! pulled or merged records, which tell backfillable, backfilled and lost apart).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use ffc_core::availability::{
    activity, availability, format_rfc3339, incidents, last_seen, overflow, parse_rfc3339,
    Activity, AvailabilityConfig, AvailabilityInput, CounterAvailability, Incident, MinuteState,
    OverflowSuspect, StateCounts,
};
use ffc_core::kpi::OperatingHours;
use ffc_core::reconcile::Reconciliation;
use ffc_core::time::{seconds_to_naive, Format};
use ffc_core::{CameraSerial, Resolution, UnixSeconds, Zone};
use serde::Serialize;

use crate::reconcile::input::{read_events, read_pulled, read_sessions};
use ffc_protocols::sink::sessions_path;

/// `ffc health` arguments.
#[derive(clap::Args)]
pub struct HealthArgs {
    /// Events as `ffc listen ws|mqtt --events` writes them (with `received_utc`).
    #[arg(long)]
    pub events: PathBuf,
    /// The sessions file (default: EVENTS.sessions).
    #[arg(long)]
    pub sessions: Option<PathBuf>,
    /// Pulled records (or a merged file from `ffc reconcile --merged`): tells backfillable,
    /// backfilled and lost apart.
    #[arg(long)]
    pub pulled: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = HealthFormat::Table)]
    pub format: HealthFormat,
    /// Also write the SVG strip (counters × hours coloured by state) here.
    #[arg(long)]
    pub svg: Option<PathBuf>,
    /// "Now", RFC 3339 (default: the last instant in the files).
    #[arg(long)]
    pub now: Option<String>,
    /// Minutes of silence within opening hours that open an incident.
    #[arg(long, default_value_t = 15)]
    pub offline_after: i64,
    /// Opening time `HH:MM` local (default: always open).
    #[arg(long, requires = "close")]
    pub open: Option<String>,
    /// Closing time `HH:MM` local.
    #[arg(long, requires = "open")]
    pub close: Option<String>,
    /// The zone of hours and opening times.
    #[arg(long, default_value = "UTC")]
    pub zone: String,
}

/// Output of `ffc health`.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum HealthFormat {
    /// Tables.
    Table,
    /// JSON lines: `kind` = `hour`, `incident` or `counter`.
    Json,
}

/// One counter's hour.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HealthRow {
    /// Always `hour`.
    pub kind: &'static str,
    /// The counter.
    pub counter: String,
    /// Hour start, UTC unix seconds.
    pub start_utc: i64,
    /// Hour start, local.
    pub local_start: String,
    /// The most severe state of its minutes.
    pub state: &'static str,
    /// Share of minutes whose data the pipeline holds.
    pub available: f64,
    /// Minutes per state, in the order on-time, late, offline, backfillable, backfilled, lost.
    pub minutes: [u32; 6],
}

/// Everything `ffc health` shows.
#[derive(Debug, Clone, Default)]
pub struct Health {
    /// Per counter per hour.
    pub rows: Vec<HealthRow>,
    /// Incidents (open ones have no end).
    pub incidents: Vec<Incident>,
    /// Per counter: last seen, and the overflow case when recognised.
    pub counters: Vec<(CameraSerial, Option<UnixSeconds>, Option<OverflowSuspect>)>,
    /// "Now".
    pub now: UnixSeconds,
}

/// The inputs read and gathered per counter.
pub struct Inputs {
    /// Per counter, what the receivers kept.
    pub activity: BTreeMap<CameraSerial, Activity>,
    /// The reconciliation against the pull, when one was given, and whether it is merged.
    pub reconciliation: Option<(Reconciliation, bool)>,
}

/// Reads the events, sessions and (optional) pulled files.
pub fn read_inputs(
    events: &Path,
    sessions: Option<&Path>,
    pulled: Option<&Path>,
) -> Result<Inputs, String> {
    let kept = read_events(events).map_err(|e| e.to_string())?;
    let sessions_file = sessions.map_or_else(|| sessions_path(events), Path::to_path_buf);
    let sessions = read_sessions(&sessions_file).map_err(|e| e.to_string())?;
    let reconciliation = match pulled {
        Some(p) => {
            let pulled = read_pulled(p).map_err(|e| e.to_string())?;
            let live: Vec<_> = kept.iter().map(|e| e.event).collect();
            let merged = !pulled.held.is_empty();
            Some((crate::reconcile::reconcile_files(&live, &pulled), merged))
        }
        None => None,
    };
    Ok(Inputs {
        activity: activity(&kept, &sessions),
        reconciliation,
    })
}

fn local(zone: &Zone, t: UnixSeconds) -> String {
    seconds_to_naive(zone.local_seconds(t))
        .map(|t| Format::DateTime.display(t).to_string())
        .unwrap_or_default()
}

/// The span the files cover: first to last instant heard (and pulled), whole hours.
fn span(inputs: &Inputs, zone: &Zone) -> Option<(UnixSeconds, UnixSeconds)> {
    let mut times: Vec<UnixSeconds> = Vec::new();
    for a in inputs.activity.values() {
        times.extend(a.events.iter().map(|(end, _)| *end));
        times.extend(a.heard());
    }
    if let Some((r, _)) = &inputs.reconciliation {
        times.extend(r.buckets.iter().flat_map(|b| [b.start, b.end() - 1]));
    }
    let (lo, hi) = (times.iter().min()?, times.iter().max()?);
    let from = Resolution::Hour.bucket_start(*lo, zone);
    let to = Resolution::Hour.next_start(Resolution::Hour.bucket_start(*hi, zone), zone);
    Some((from, to))
}

/// Availability per counter per hour, incidents and last-seen over the files' span.
pub fn health(inputs: &Inputs, config: &AvailabilityConfig, now: Option<UnixSeconds>) -> Health {
    let zone = config.zone;
    let Some((from, to)) = span(inputs, &zone) else {
        return Health::default();
    };
    let last = inputs
        .activity
        .values()
        .filter_map(last_seen)
        .max()
        .unwrap_or(from);
    let now = now.unwrap_or(last);
    let mut counters: BTreeSet<CameraSerial> = inputs.activity.keys().copied().collect();
    if let Some((r, _)) = &inputs.reconciliation {
        counters.extend(r.buckets.iter().map(|b| b.counter));
    }
    let mut out = Health {
        now,
        ..Health::default()
    };
    for counter in counters {
        let act = inputs.activity.get(&counter);
        let minutes = counter_minutes(inputs, counter, act, (from, to), config);
        for (start, n) in minutes.by_bucket(Resolution::Hour, zone) {
            out.rows.push(row(counter, start, &n, &zone));
        }
        let empty = Activity::default();
        let act = act.unwrap_or(&empty);
        out.incidents.extend(incidents(counter, act, now, config));
        out.counters
            .push((counter, last_seen(act), overflow(counter, act, now, config)));
    }
    out
}

fn counter_minutes(
    inputs: &Inputs,
    counter: CameraSerial,
    act: Option<&Activity>,
    (from, to): (UnixSeconds, UnixSeconds),
    config: &AvailabilityConfig,
) -> CounterAvailability {
    let (buckets, merged): (Vec<_>, bool) = match &inputs.reconciliation {
        Some((r, merged)) => (
            r.buckets
                .iter()
                .filter(|b| b.counter == counter)
                .copied()
                .collect(),
            *merged,
        ),
        None => (Vec::new(), false),
    };
    let input = AvailabilityInput {
        counter,
        from,
        to,
        buckets: &buckets,
        merged,
    };
    availability(&input, act, config)
}

fn row(counter: CameraSerial, start: UnixSeconds, n: &StateCounts, zone: &Zone) -> HealthRow {
    HealthRow {
        kind: "hour",
        counter: counter.to_string(),
        start_utc: start,
        local_start: local(zone, start),
        state: n.worst().map_or("none", MinuteState::label),
        available: (n.available() * 10_000.0).round() / 10_000.0,
        minutes: n.0,
    }
}

/// Tables: hours per counter, incidents, counters.
pub fn table(h: &Health, zone: &Zone) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<16} {:<16} {:<12} {:>9}",
        "counter", "hour", "state", "available"
    );
    for r in &h.rows {
        let hour = r.local_start.get(..16).unwrap_or(&r.local_start);
        let pct = format!("{:.1}%", r.available * 100.0);
        let _ = writeln!(
            out,
            "{:<16} {:<16} {:<12} {:>9}",
            r.counter, hour, r.state, pct
        );
    }
    let open: Vec<&Incident> = h.incidents.iter().filter(|i| i.to.is_none()).collect();
    let _ = writeln!(out, "\nopen incidents: {}", open.len());
    for i in &h.incidents {
        let until = i.to.map_or_else(|| "open".to_owned(), |t| local(zone, t));
        let _ = writeln!(
            out,
            "  {} silent from {} until {} ({} min within opening hours)",
            i.counter,
            local(zone, i.from),
            until,
            i.open_seconds / 60
        );
    }
    let _ = writeln!(out, "\nlast seen:");
    for (c, seen, over) in &h.counters {
        let seen = seen.map_or_else(|| "never".to_owned(), |t| local(zone, t));
        let _ = writeln!(out, "  {c} {seen}");
        if let Some(o) = over {
            let _ = writeln!(
                out,
                "    {} ({} events at {})",
                OverflowSuspect::ADVICE,
                o.events,
                local(zone, o.burst_from)
            );
        }
    }
    out
}

/// JSON lines: the hours, then incidents, then one line per counter.
pub fn json_lines(h: &Health) -> Result<String, String> {
    let mut out = String::new();
    let mut push = |v: serde_json::Value| {
        out.push_str(&v.to_string());
        out.push('\n');
    };
    for r in &h.rows {
        push(serde_json::to_value(r).map_err(|e| e.to_string())?);
    }
    for i in &h.incidents {
        push(serde_json::json!({
            "kind": "incident", "counter": i.counter.to_string(),
            "from_utc": format_rfc3339(i.from).to_string(),
            "to_utc": i.to.map(|t| format_rfc3339(t).to_string()),
            "open": i.to.is_none(), "open_seconds": i.open_seconds,
        }));
    }
    for (c, seen, over) in &h.counters {
        push(serde_json::json!({
            "kind": "counter", "counter": c.to_string(),
            "last_seen_utc": seen.map(|t| format_rfc3339(t).to_string()),
            "overflow": over.map(|o| serde_json::json!({
                "events": o.events, "burst_from_utc": format_rfc3339(o.burst_from).to_string(),
                "outage_from_utc": format_rfc3339(o.outage_from).to_string(),
                "advice": OverflowSuspect::ADVICE,
            })),
        }));
    }
    Ok(out)
}

/// The colour of a state in the strip.
pub fn colour(state: &str) -> &'static str {
    match state {
        "on-time" => "#2e7d32",
        "late" => "#f9a825",
        "offline" => "#9e9e9e",
        "backfillable" => "#ef6c00",
        "backfilled" => "#1565c0",
        "lost" => "#c62828",
        _ => "#eeeeee",
    }
}

/// The SVG strip: one row per counter, one cell per hour, coloured by the hour's state.
pub fn svg(h: &Health) -> String {
    let hours: Vec<i64> = h
        .rows
        .iter()
        .map(|r| r.start_utc)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let counters: Vec<&str> = h
        .rows
        .iter()
        .map(|r| r.counter.as_str())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let (cell, left, top) = (16, 140, 40);
    let width = left + cell * hours.len().max(1) + 20;
    let height = top + cell * counters.len().max(1) + 60;
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"11\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n<text x=\"{left}\" y=\"16\" font-size=\"14\">Data availability per counter per hour</text>\n"
    );
    for r in &h.rows {
        let x = left + cell * hours.iter().position(|s| *s == r.start_utc).unwrap_or(0);
        let y = top + cell * counters.iter().position(|c| *c == r.counter).unwrap_or(0);
        let _ = writeln!(
            out,
            "<rect x=\"{x}\" y=\"{y}\" width=\"{}\" height=\"{}\" fill=\"{}\"><title>{} {} {}</title></rect>",
            cell - 1, cell - 1, colour(r.state), r.counter, r.local_start, r.state
        );
    }
    for (i, c) in counters.iter().enumerate() {
        let _ = writeln!(
            out,
            "<text x=\"4\" y=\"{}\">{c}</text>",
            top + cell * i + 12
        );
    }
    for (i, r) in h
        .rows
        .iter()
        .filter(|r| Some(r.counter.as_str()) == counters.first().copied())
        .enumerate()
    {
        if i % 3 == 0 {
            let hour = r.local_start.get(11..13).unwrap_or("");
            let _ = writeln!(
                out,
                "<text x=\"{}\" y=\"{}\">{hour}</text>",
                left + cell * i,
                top - 4
            );
        }
    }
    let y = top + cell * counters.len().max(1) + 24;
    for (i, s) in MinuteState::ALL.iter().enumerate() {
        let x = left + i * 100;
        let _ = writeln!(out, "<rect x=\"{x}\" y=\"{y}\" width=\"12\" height=\"12\" fill=\"{}\"/><text x=\"{}\" y=\"{}\">{}</text>", colour(s.label()), x + 16, y + 10, s.label());
    }
    out.push_str("</svg>\n");
    out
}

fn config(a: &HealthArgs) -> Result<AvailabilityConfig, String> {
    let zone = crate::args::parse_zone(&a.zone)?;
    let mut config = AvailabilityConfig::default()
        .with_zone(zone)
        .with_offline_after_seconds(a.offline_after * 60);
    if let (Some(open), Some(close)) = (&a.open, &a.close) {
        let t = |s: &str| {
            crate::args::parse_time(s).map(|t| {
                use chrono::Timelike;
                t.num_seconds_from_midnight()
            })
        };
        config = config.with_hours(OperatingHours {
            open: t(open)?,
            close: t(close)?,
        });
    }
    Ok(config)
}

/// Reads, computes and prints; writes the strip when asked.
pub fn run(a: HealthArgs) -> Result<(), String> {
    let config = config(&a)?;
    let now = a
        .now
        .as_deref()
        .map(|t| parse_rfc3339(t).map_err(|e| format!("--now {t:?}: {e}")))
        .transpose()?;
    let inputs = read_inputs(&a.events, a.sessions.as_deref(), a.pulled.as_deref())?;
    let h = health(&inputs, &config, now);
    match a.format {
        HealthFormat::Table => print!("{}", table(&h, &config.zone)),
        HealthFormat::Json => print!("{}", json_lines(&h)?),
    }
    if let Some(path) = &a.svg {
        std::fs::write(path, svg(&h)).map_err(|e| format!("{}: {e}", path.display()))?;
        eprintln!("health strip written to {}", path.display());
    }
    Ok(())
}
