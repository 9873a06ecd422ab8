//! `ffc demo` end to end: it starts its simulators, the embedded MQTT broker and the V9
//! server simulator on loopback, exits 0, checks every source (HTTP, BACnet, WebSocket,
//! MQTT, exportData, the sales upload), flags North-2's offline hour as partial and writes
//! the report CSV, the SVG chart and the raw records.
mod common;

use common::ffc;

#[test]
fn demo_reports_both_branches_and_flags_the_offline_hour() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out_dir = dir.path().join("demo");
    let (ok, out, err) = ffc(&["demo", "--out", &out_dir.display().to_string()]);
    assert!(ok, "{err}\n{out}");
    assert!(
        out.contains("pulled North-1: 24 hourly records (JSON), equal to the simulator's"),
        "{out}"
    );
    assert!(
        out.contains("pulled North-2: 23 hourly records (XML)"),
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
        out.contains("exportData gave 48 hourly site rows (1 not complete), equal to our roll-up"),
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
    let not_complete: Vec<_> = rows
        .iter()
        .filter(|r| &r[col("completeness")] != "complete")
        .collect();
    assert_eq!(not_complete.len(), 1);
    assert_eq!(&not_complete[0][col("branch")], "North");
    assert_eq!(&not_complete[0][col("completeness")], "partial");
    assert_eq!(&not_complete[0][col("missing")], "000000006afce316");
    assert_eq!(&not_complete[0][col("reported")], "2");
    assert_eq!(&not_complete[0][col("expected")], "3");
    assert!(not_complete[0][col("local_start")].ends_with(" 14:00:00"));
    // Conversion: withheld for the partial hour, given for every whole hour with footfall.
    assert_eq!(&not_complete[0][col("conversion")], "");
    assert!(!not_complete[0][col("transactions")].is_empty());
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
    assert_eq!(records.lines().count(), 1 + 24 + 23 + 24);
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
