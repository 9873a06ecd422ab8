//! `ffc report` end to end on the shipped sample: every output agrees on the numbers and
//! carries the completeness of each hour.
use std::process::Command;

fn ffc(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ffc"))
        .args(args)
        .output()
        .expect("run ffc");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn csv_json_and_table_agree_and_flag_the_partial_hour() {
    let (ok, csv, err) = ffc(&["report", "--format", "csv"]);
    assert!(ok, "{err}");
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let headers = reader.headers().expect("header").clone();
    let col = |name: &str| headers.iter().position(|h| h == name).expect(name);
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    assert_eq!(rows.len(), 24, "12 open hours × 2 branches");
    let partial: Vec<_> = rows
        .iter()
        .filter(|r| &r[col("completeness")] == "partial")
        .collect();
    assert_eq!(partial.len(), 1);
    assert_eq!(&partial[0][col("missing")], "000000006afce316");
    assert_eq!(&partial[0][col("local_start")], "2020-06-17 14:00:00");
    let csv_in: u64 = rows
        .iter()
        .map(|r| r[col("visitors_in")].parse::<u64>().expect("number"))
        .sum();

    let (ok, json, err) = ffc(&["report", "--format", "json"]);
    assert!(ok, "{err}");
    let json_in: u64 = json
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).expect("json line")["visitors_in"]
                .as_u64()
                .expect("u64")
        })
        .sum();
    assert_eq!(csv_in, json_in);

    let (ok, table, err) = ffc(&["report"]);
    assert!(ok, "{err}");
    let a01: u64 = table
        .lines()
        .filter_map(|l| l.trim().strip_prefix("A01 footfall in: "))
        .map(|rest| {
            rest.split_whitespace()
                .next()
                .expect("n")
                .parse::<u64>()
                .expect("number")
        })
        .sum();
    assert_eq!(a01, csv_in);
}

#[test]
fn svg_chart_is_written_with_a_mark_per_incomplete_hour() {
    let dir = std::env::temp_dir().join(format!("ffc-cli-report-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("chart.svg");
    let (ok, _, err) = ffc(&["report", "--svg", path.to_str().expect("utf-8 path")]);
    assert!(ok, "{err}");
    let svg = std::fs::read_to_string(&path).expect("svg written");
    assert!(svg.starts_with("<svg"), "{}", &svg[..svg.len().min(80)]);
    assert!(svg.contains("Mid Valley") && svg.contains("Pavilion"));
    // Every hour of the sample day labelled, the date and the unit stated.
    for hour in 10..=21 {
        let label = format!("{hour}:00");
        assert!(
            svg.lines().any(|l| l.trim() == label),
            "no label for {label}"
        );
    }
    assert!(svg.contains("2020-06-17") && svg.contains("people per hour"));
    // The one partial hour is marked in red (plotters draws a cross as two red lines).
    assert!(
        svg.matches("#FF0000").count() >= 2,
        "no red mark in the chart"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bad_layout_gives_a_reason_and_a_failing_exit() {
    let (ok, _, err) = ffc(&["report", "--layout", "/nonexistent/layout.json"]);
    assert!(!ok);
    assert!(err.contains("/nonexistent/layout.json"), "{err}");
}
