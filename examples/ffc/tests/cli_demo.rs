//! `ffc demo` end to end: it starts its simulators, the embedded MQTT broker and the V9
//! server simulator on loopback, exits 0, checks every source (HTTP, BACnet, WebSocket,
//! MQTT, exportData, the sales upload), backfills North-2's offline pull hour, finds North-3's
//! outbox overflow and South-3's 40-minute link cut by reconciling live with pulled, restores
//! both with the fewest requests (a second run sends none), reports every open hour complete
//! (restored hours `revised`) and writes the report CSV, the SVG chart, the raw records, the
//! live events with receive times and sessions, and the health strip.
mod common;

use common::ffc;

#[test]
fn demo_restores_every_gap_and_reports_every_hour_complete() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out_dir = dir.path().join("demo");
    let (ok, out, err) = ffc(&["demo", "--out", &out_dir.display().to_string()]);
    assert!(ok, "{err}\n{out}");
    assert!(
        out.contains("pulled North-1: 24 hourly records (JSON), equal to the simulator's"),
        "{out}"
    );
    assert!(
        out.contains("pulled North-2: 24 hourly records (XML), the offline hour backfilled"),
        "{out}"
    );
    assert!(out.contains("North-2 offline 14:00-15:00"), "{out}");
    assert!(
        out.contains("over BACnet/IP") && out.contains("equal to the device's"),
        "{out}"
    );
    assert!(
        out.contains("events over MQTT from South-3 through the embedded broker")
            && out.contains("equal to what it published"),
        "{out}"
    );
    assert!(
        out.contains("North-2 back online: its 14:00 hour backfilled (1 record, 1 request)"),
        "{out}"
    );
    assert!(out.contains("its outbox filled to 10000 events"), "{out}");
    // The simulators' counts are seeded by the hour, so the reported day (yesterday) decides
    // when North-3's outbox overflows: from that hour on its pushes are missing, in every
    // hour with traffic. The hours that follow from it are checked against it.
    let overflow_hour = north_3_overflow_hour(&out);
    assert!(
        (10..=19).contains(&overflow_hour),
        "overflow at {overflow_hour}:00\n{out}"
    );
    let north_3_short = short_hours(&out, "North-3");
    assert!(
        (20 - overflow_hour..=24 - overflow_hour).contains(&north_3_short),
        "North-3 short {north_3_short} hours after an overflow at {overflow_hour}:00\n{out}"
    );
    assert!(
        out.contains("reconcile South-2: 0 of 24 hours not matching"),
        "{out}"
    );
    assert!(
        out.contains("reconcile South-3: 1 of 24 hours not matching"),
        "{out}"
    );
    assert!(out.contains("health: North-3 — outbox overflow"), "{out}");
    assert!(
        out.contains(&format!(
            "backfill: {} buckets restored from the device simulators in 2 requests",
            north_3_short + 1
        )) && out.contains("a second run sent 0"),
        "{out}"
    );
    assert!(
        out.contains("exportData gave 48 hourly site rows") && out.contains("equal to our roll-up"),
        "{out}"
    );
    // 12 open hours x 2 stores of sales, one (site, day) each, held by the server as sent.
    assert!(
        out.contains(
            "sales import took 24 hourly rows of 2 (site, day)s, equal to the validated file's"
        ),
        "{out}"
    );

    let csv_text = std::fs::read_to_string(out_dir.join("branch-report.csv")).expect("csv");
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let headers = reader.headers().expect("header").clone();
    let col = |name: &str| headers.iter().position(|h| h == name).expect(name);
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    assert_eq!(rows.len(), 24, "12 open hours x 2 branches");
    let state = |r: &csv::StringRecord| r[col("completeness")].to_string();
    assert!(
        rows.iter()
            .all(|r| state(r) == "complete" || state(r) == "revised"),
        "every open hour whole: {rows:?}"
    );
    let revised: Vec<(String, String)> = rows
        .iter()
        .filter(|r| state(r) == "revised")
        .map(|r| {
            (
                r[col("branch")].to_string(),
                r[col("local_start")][11..16].to_string(),
            )
        })
        .collect();
    let hour = |b: &str, h: &str| (b.to_string(), h.to_string());
    // North's open hours from the overflow on, and South-3's cut hour.
    let mut want: Vec<_> = (overflow_hour..=19)
        .map(|h| hour("North", &format!("{h:02}:00")))
        .collect();
    want.insert(0, hour("South", "12:00"));
    let mut got = revised.clone();
    got.sort();
    want.sort();
    assert_eq!(got, want);
    for r in rows
        .iter()
        .filter(|r| &r[col("completeness")] == "complete")
    {
        let visitors: f64 = r[col("visitors_in")].parse().expect("number");
        let transactions: f64 = r[col("transactions")].parse().expect("transactions");
        let rate: f64 = r[col("conversion")].parse().expect("conversion");
        // The CSV rounds to four decimals.
        assert!((rate - transactions / visitors).abs() <= 5e-5, "{r:?}");
    }
    assert!(out_dir.join("sales.csv").exists());
    let south_in: u64 = rows
        .iter()
        .filter(|r| &r[col("branch")] == "South")
        .map(|r| r[col("visitors_in")].parse::<u64>().expect("number"))
        .sum();
    assert!(south_in > 0, "the BACnet counter reported visitors");

    let svg = std::fs::read_to_string(out_dir.join("branch-report.svg")).expect("svg");
    assert!(svg.contains("<svg") && svg.contains("North") && svg.contains("South"));
    let records = std::fs::read_to_string(out_dir.join("records.csv")).expect("records");
    assert_eq!(records.lines().count(), 1 + 24 + 24 + 24);
    let live = std::fs::read_to_string(out_dir.join("live-events.jsonl")).expect("live");
    assert!(
        live.lines().all(|l| l.contains("\"received_utc\":\"")),
        "receive times"
    );
    let sessions =
        std::fs::read_to_string(out_dir.join("live-events.jsonl.sessions")).expect("sessions");
    assert!(sessions.contains("\"kind\":\"connect\"") && sessions.contains("\"source\":\"mqtt\""));
    let health = std::fs::read_to_string(out_dir.join("health.svg")).expect("health strip");
    assert!(health.contains("<svg") && health.contains("North-3") && health.contains("#1565c0"));
}

/// The UTC hour of the event North-3's full outbox refused ("the next one (counted
/// 2026-01-01T14:05:00Z) was refused").
fn north_3_overflow_hour(out: &str) -> u32 {
    let (_, rest) = out
        .split_once("the next one (counted ")
        .unwrap_or_else(|| panic!("no overflow line\n{out}"));
    rest.get(11..13)
        .and_then(|h| h.parse().ok())
        .unwrap_or_else(|| panic!("no hour in {rest:.40}"))
}

/// The hours `counter` is short of what it holds ("reconcile North-3: 10 of 24 hours").
fn short_hours(out: &str, counter: &str) -> u32 {
    let (_, rest) = out
        .split_once(&format!("reconcile {counter}: "))
        .unwrap_or_else(|| panic!("no reconcile line for {counter}\n{out}"));
    rest.split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count in {rest:.40}"))
}

/// `RUST_LOG=debug ffc demo`: every source runs in its own span, shown on stderr with the
/// lines logged inside it; the human output stays on stdout.
#[test]
fn demo_with_rust_log_debug_shows_each_source_span_on_stderr() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out_dir = dir.path().join("demo");
    let (ok, out, err) = common::ffc_with(
        &["demo", "--out", &out_dir.display().to_string()],
        &[("RUST_LOG", "debug")],
        None,
    );
    assert!(ok, "{err}\n{out}");
    for span in ["device{", "bacnet{", "ws{", "mqtt{", "server{", "sales{"] {
        assert!(err.contains(span), "no {span} span on stderr:\n{err}");
    }
    // The counter serials travel as span fields.
    assert!(err.contains("serial=000000006afce316"), "{err}");
    assert!(
        !out.contains("device{"),
        "diagnostics leaked to stdout:\n{out}"
    );
    assert!(out.contains("demo finished in"), "{out}");
}

/// `--log-format json`: the same diagnostics as one JSON object per line, with the span.
#[test]
fn log_format_json_writes_json_lines_with_spans() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out_dir = dir.path().join("demo");
    let (ok, out, err) = common::ffc_with(
        &[
            "--log-format",
            "json",
            "demo",
            "--out",
            &out_dir.display().to_string(),
        ],
        &[("RUST_LOG", "ffc_cli=debug")],
        None,
    );
    assert!(ok, "{err}\n{out}");
    let lines: Vec<serde_json::Value> = err
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(!lines.is_empty(), "no diagnostics on stderr");
    assert!(
        lines
            .iter()
            .any(|l| l["span"]["name"] == "mqtt" && l["span"]["serial"] == "000000006afce31a"),
        "{err}"
    );
}
