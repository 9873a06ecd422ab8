//! `ffc reconcile` and `ffc health` as a user runs them: exit statuses as diff(1), JSON
//! lines for the buckets that are not `match`, the merged file, bad lines in either file
//! (exit 2, nothing written), and `--backfill --device` against the device simulator.

mod common;

use std::path::Path;
use std::process::Command;

use ffc_core::availability::{format_rfc3339, ReceivedEvent};
use ffc_core::{CameraSerial, CountEvent, CountRecord, Metric, PeopleId, PeopleType, RoiId};
use ffc_core::{Source, Subject, UtcOffset, Zone};

const DAY: i64 = 1_706_745_600; // 2024-02-01 00:00 UTC

/// Exit code, stdout, stderr.
fn run(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ffc"));
    cmd.args(args).env_remove("FFC_PASSWORD");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("ffc runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn event(serial: u64, id: u64, end: i64, metric: Metric) -> CountEvent {
    CountEvent {
        serial: CameraSerial::from_u64(serial),
        roi: RoiId(1),
        metric,
        people_type: PeopleType::Visitor,
        people_id: PeopleId(id),
        start: end - 1,
        end,
        offset: UtcOffset::from_seconds(3600).unwrap(),
        uuid: None,
        source: Source::WebSocket,
    }
}

fn write_events(path: &Path, events: &[CountEvent]) {
    let mut text = String::new();
    for e in events {
        let kept = ReceivedEvent {
            event: *e,
            received: Some(e.end + 2),
        };
        text.push_str(&serde_json::to_string(&kept).unwrap());
        text.push('\n');
    }
    std::fs::write(path, text).unwrap();
}

fn record(serial: u64, start: i64, i: u64, o: u64) -> CountRecord {
    CountRecord {
        subject: Subject::Counter(CameraSerial::from_u64(serial)),
        start,
        length: 900,
        offset: UtcOffset::from_seconds(3600).unwrap(),
        count_in: i,
        count_out: o,
        outside: None,
        source: Source::DevicePull,
    }
}

fn write_records(path: &Path, records: &[CountRecord]) {
    let zone = Zone::Fixed(UtcOffset::from_seconds(3600).unwrap());
    let text = ffc_cli::args::records(records, ffc_cli::args::RecordFormat::Csv, &zone).unwrap();
    std::fs::write(path, text).unwrap();
}

/// Counter 1: two ins in the first bucket (one of them delivered twice), one out in the
/// second; counter 2: one in, never pulled.
fn fixture(dir: &Path) -> (String, String) {
    let e = [
        event(1, 1, DAY + 10, Metric::In),
        event(1, 2, DAY + 20, Metric::In),
        event(1, 2, DAY + 20, Metric::In),
        event(1, 3, DAY + 950, Metric::Out),
        event(2, 4, DAY + 30, Metric::In),
    ];
    let (events, pulled) = (dir.join("events.jsonl"), dir.join("pulled.csv"));
    write_events(&events, &e);
    write_records(&pulled, &[record(1, DAY, 3, 0), record(1, DAY + 900, 0, 1)]);
    (events.display().to_string(), pulled.display().to_string())
}

#[test]
fn all_match_exits_0_and_prints_nothing_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let (events, pulled) = (dir.path().join("e.jsonl"), dir.path().join("p.csv"));
    write_events(&events, &[event(1, 1, DAY + 10, Metric::In)]);
    write_records(&pulled, &[record(1, DAY, 1, 0)]);
    let (code, out, err) = run(
        &[
            "reconcile",
            "--live",
            &events.display().to_string(),
            "--pulled",
            &pulled.display().to_string(),
            "--format",
            "json",
        ],
        &[],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "");
    assert!(err.contains("1 match"), "{err}");
}

#[test]
fn non_matching_buckets_as_json_lines_and_the_merged_file() {
    let dir = tempfile::tempdir().unwrap();
    let (events, pulled) = fixture(dir.path());
    let merged = dir.path().join("merged.csv");
    let m = merged.display().to_string();
    let (code, out, err) = run(
        &[
            "reconcile",
            "--live",
            &events,
            "--pulled",
            &pulled,
            "--format",
            "json",
            "--merged",
            &m,
        ],
        &[],
    );
    assert_eq!(code, 1, "{err}");
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert_eq!(lines[0]["counter"], "0000000000000001");
    assert_eq!(lines[0]["state"], "live-short");
    assert_eq!(
        (lines[0]["live_in"].as_u64(), lines[0]["pulled_in"].as_u64()),
        (Some(2), Some(3))
    );
    assert_eq!(lines[0]["start_utc"], DAY);
    assert_eq!(lines[0]["length_seconds"], 900);
    assert_eq!(lines[1]["counter"], "0000000000000002");
    assert_eq!(lines[1]["state"], "unverified");
    assert!(lines[1]["pulled_in"].is_null() && lines[1]["pulled_out"].is_null());
    let text = std::fs::read_to_string(&merged).unwrap();
    assert_eq!(
        text,
        format!(
            "{},state\n0000000000000001,{DAY},2024-02-01 01:00:00,900,3,0,DevicePull,live-short\n0000000000000001,{},2024-02-01 01:15:00,900,0,1,DevicePull,match\n0000000000000002,{DAY},2024-02-01 01:00:00,900,1,0,WebSocket,unverified\n",
            ffc_cli::args::RECORD_HEADER,
            DAY + 900
        )
    );
    // The merged file reads back as pulled input.
    let (code, _, err) = run(&["reconcile", "--live", &events, "--pulled", &m], &[]);
    assert_eq!(code, 1, "{err}");
}

#[test]
fn a_corrupt_line_in_either_file_exits_2_naming_it_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (events, pulled) = fixture(dir.path());
    let merged = dir.path().join("merged.csv");
    let m = merged.display().to_string();
    let bad_events = dir.path().join("bad.jsonl");
    let mut text = std::fs::read_to_string(&events).unwrap();
    text = text.replacen("\"MetricId\":1", "\"MetricId\":7", 2);
    std::fs::write(&bad_events, &text).unwrap();
    let b = bad_events.display().to_string();
    let (code, out, err) = run(
        &[
            "reconcile",
            "--live",
            &b,
            "--pulled",
            &pulled,
            "--merged",
            &m,
        ],
        &[],
    );
    assert_eq!(code, 2);
    assert_eq!(out, "");
    assert!(err.contains(&format!("{b}: line 1:")), "{err}");
    assert!(!merged.exists());
    let bad_pulled = dir.path().join("bad.csv");
    let mut lines: Vec<String> = std::fs::read_to_string(&pulled)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    lines[2] = lines[2].replace(",0,1,", ",zero,1,");
    std::fs::write(&bad_pulled, lines.join("\n") + "\n").unwrap();
    let p = bad_pulled.display().to_string();
    let (code, _, err) = run(
        &[
            "reconcile",
            "--live",
            &events,
            "--pulled",
            &p,
            "--merged",
            &m,
        ],
        &[],
    );
    assert_eq!(code, 2);
    assert!(
        err.contains(&format!("{p}: line 3:")) && err.contains("in is not a whole number"),
        "{err}"
    );
    assert!(!merged.exists());
    std::fs::write(&bad_pulled, "subject,start\n").unwrap();
    let (code, _, err) = run(&["reconcile", "--live", &events, "--pulled", &p], &[]);
    assert_eq!(code, 2);
    assert!(err.contains(&format!("{p}: line 1:")), "{err}");
}

#[test]
fn backfill_from_the_device_sends_the_minimal_requests_then_none() {
    use ffc_device::sim::{DeviceSimConfig, Simulator};
    let rt = common::runtime();
    let sim = rt
        .block_on(Simulator::start(
            DeviceSimConfig::default().with_zone(Zone::UTC).with_seed(7),
        ))
        .expect("simulator");
    let serial = sim.config().serial;
    let dir = tempfile::tempdir().unwrap();
    // The live path missed 10:00-10:30 and 13:00-13:15.
    let gaps = [(DAY + 36_000, DAY + 37_800), (DAY + 46_800, DAY + 47_700)];
    let live: Vec<CountEvent> = sim
        .events(DAY, DAY + 86_400)
        .into_iter()
        .filter(|e| !gaps.iter().any(|(a, b)| (*a..*b).contains(&e.end)))
        .collect();
    let events = dir.path().join("events.jsonl");
    write_events(&events, &live);
    // A pull from before: stale in the gap buckets (one visitor more than live).
    let full = rt.block_on(async {
        let client = ffc_device::client::DeviceClient::new(
            ffc_device::client::DeviceClientConfig::new(sim.base_url(), Zone::UTC),
            ffc_device::client::Credentials::new("admin", "123456"),
        )
        .unwrap();
        client
            .pull(
                DAY,
                DAY + 86_400,
                ffc_core::Resolution::Minutes(15),
                ffc_device::query::DataType::Json,
                |_| {},
            )
            .await
            .unwrap()
    });
    let first = ffc_core::reconcile::reconcile(&live, &full);
    let stale: Vec<CountRecord> = first
        .buckets
        .iter()
        .map(|b| {
            let mut r = b.merged_record();
            if gaps.iter().any(|(a, c)| (*a..*c).contains(&b.start)) {
                (r.count_in, r.count_out) = (b.live_in + 1, b.live_out);
            }
            r
        })
        .collect();
    let pulled = dir.path().join("pulled.csv");
    std::fs::write(
        &pulled,
        ffc_cli::args::records(&stale, ffc_cli::args::RecordFormat::Csv, &Zone::UTC).unwrap(),
    )
    .unwrap();
    let (e, p) = (events.display().to_string(), pulled.display().to_string());
    let merged = dir.path().join("merged.csv").display().to_string();
    let url = sim.base_url();
    let env = [("FFC_PASSWORD", "123456")];
    let before = sim.stats().count_requests;
    let args = [
        "reconcile",
        "--live",
        &e,
        "--pulled",
        &p,
        "--format",
        "json",
        "--merged",
        &merged,
        "--backfill",
        "--device",
        &url,
    ];
    let (code, out, err) = run(&args, &env);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("backfill: sent 2 request(s)"), "{err}");
    assert_eq!(sim.stats().count_requests - before, 2);
    assert_eq!(
        out.lines().filter(|l| l.contains("live-short")).count(),
        3,
        "{out}"
    );
    // The merged file holds the counter's own counts.
    let text = std::fs::read_to_string(&merged).unwrap();
    let truth = ffc_core::reconcile::reconcile(&sim.events(DAY, DAY + 86_400), &full);
    for b in &truth.buckets {
        let row = format!("{serial},{},", b.start);
        let line = text
            .lines()
            .find(|l| l.starts_with(&row))
            .expect("bucket row");
        let cells: Vec<&str> = line.split(',').collect();
        assert_eq!(
            (cells[4], cells[5]),
            (
                b.live_in.to_string().as_str(),
                b.live_out.to_string().as_str()
            )
        );
    }
    // Second run over the merged file: nothing to pull, no request.
    let merged2 = dir.path().join("merged2.csv").display().to_string();
    let args = [
        "reconcile",
        "--live",
        &e,
        "--pulled",
        &merged,
        "--merged",
        &merged2,
        "--backfill",
        "--device",
        &url,
    ];
    let (code, _, err) = run(&args, &env);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("backfill: sent 0 request(s)"), "{err}");
    assert_eq!(sim.stats().count_requests - before, 2);
}

#[test]
fn health_prints_hours_incidents_and_the_strip() {
    let dir = tempfile::tempdir().unwrap();
    let events = dir.path().join("events.jsonl");
    // Counter 1 delivers at 00:00-00:10 and again at 02:00; silent in between.
    let mut list = Vec::new();
    for k in 0..10 {
        list.push(event(1, k, DAY + 60 * k as i64 + 5, Metric::In));
    }
    list.push(event(1, 99, DAY + 7200 + 5, Metric::In));
    write_events(&events, &list);
    let sessions = format!(
        "{{\"counter\":\"0000000000000001\",\"source\":\"ws\",\"kind\":\"connect\",\"at_utc\":\"{}\"}}\n{{\"counter\":\"0000000000000001\",\"source\":\"ws\",\"kind\":\"disconnect\",\"at_utc\":\"{}\"}}\n",
        format_rfc3339(DAY),
        format_rfc3339(DAY + 600)
    );
    std::fs::write(dir.path().join("events.jsonl.sessions"), sessions).unwrap();
    let svg = dir.path().join("health.svg");
    let e = events.display().to_string();
    let s = svg.display().to_string();
    let now = format_rfc3339(DAY + 4 * 3600).to_string();
    let (code, out, err) = run(
        &[
            "health", "--events", &e, "--format", "json", "--svg", &s, "--now", &now,
        ],
        &[],
    );
    assert_eq!(code, 0, "{err}");
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let hours: Vec<&serde_json::Value> = lines.iter().filter(|l| l["kind"] == "hour").collect();
    assert_eq!(hours.len(), 3);
    assert_eq!(hours[0]["state"], "offline");
    assert_eq!(hours[0]["minutes"][0], 10);
    assert_eq!(hours[1]["minutes"][2], 60);
    let incidents: Vec<&serde_json::Value> =
        lines.iter().filter(|l| l["kind"] == "incident").collect();
    assert_eq!(incidents.len(), 2, "{out}");
    assert_eq!(incidents[1]["open"], true);
    let counter = lines.iter().find(|l| l["kind"] == "counter").unwrap();
    assert_eq!(
        counter["last_seen_utc"],
        format_rfc3339(DAY + 7207).to_string()
    );
    let strip = std::fs::read_to_string(&svg).unwrap();
    assert!(strip.starts_with("<svg") && strip.contains("#9e9e9e") && strip.contains("#2e7d32"));
    let (code, out, _) = run(&["health", "--events", &e, "--now", &now], &[]);
    assert_eq!(code, 0);
    assert!(out.contains("open incidents: 1"), "{out}");
}
