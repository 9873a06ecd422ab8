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
    assert!(
        out.contains("reconcile North-3: 10 of 24 hours not matching"),
        "{out}"
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
        out.contains("backfill: 11 buckets restored from the device simulators in 2 requests")
            && out.contains("a second run sent 0"),
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
    let mut want: Vec<_> = ["14:00", "15:00", "16:00", "17:00", "18:00", "19:00"]
        .iter()
        .map(|h| hour("North", h))
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
