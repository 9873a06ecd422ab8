//! `ffc device token|counts|pull` end to end against the device simulator on loopback
//! (real HTTP), and `--print-curl` / `--print-rust`: the printed script is run with curl
//! against the same simulator and must fetch the same records.
mod common;

use common::{ffc, ffc_with, runtime};
use ffc_core::{Resolution, Zone};
use ffc_device::query::{DataType, Query};
use ffc_device::secret::Secret;
use ffc_device::sim::{DeviceSimConfig, Simulator};

const PASSWORD: &str = "s3cret-pw-xyz";

fn start(rt: &tokio::runtime::Runtime) -> Simulator {
    rt.block_on(Simulator::start(
        DeviceSimConfig::default()
            .with_password(Secret::new(PASSWORD))
            .with_zone(Zone::iana("Europe/London").expect("zone")),
    ))
    .expect("simulator")
}

fn sim_records(sim: &Simulator, date: &str, resolution: Resolution) -> Vec<(i64, u64, u64)> {
    let zone = Zone::iana("Europe/London").expect("zone");
    let query = Query::builder()
        .data_type(DataType::Json)
        .resolution(resolution)
        .date_start(chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").expect("date"))
        .build(&zone)
        .expect("query");
    sim.records(&query)
        .iter()
        .map(|r| (r.start, r.count_in, r.count_out))
        .collect()
}

fn csv_triples(csv_text: &str) -> Vec<(i64, u64, u64)> {
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let headers = reader.headers().expect("header").clone();
    let col = |name: &str| headers.iter().position(|h| h == name).expect(name);
    let (s, i, o) = (col("start_utc"), col("in"), col("out"));
    reader
        .records()
        .map(|r| {
            let r = r.expect("row");
            (
                r[s].parse().expect("start"),
                r[i].parse().expect("in"),
                r[o].parse().expect("out"),
            )
        })
        .collect()
}

fn json_triples(lines: &str) -> Vec<(i64, u64, u64)> {
    lines
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("json line");
            (
                v["ValueDateTime"].as_i64().expect("start"),
                v["ValueIn"].as_u64().expect("in"),
                v["ValueOut"].as_u64().expect("out"),
            )
        })
        .collect()
}

#[test]
fn token_is_fetched_and_a_wrong_password_is_refused_without_echoing_it() {
    let rt = runtime();
    let sim = start(&rt);
    let url = sim.base_url();
    let (ok, out, err) = ffc(&["device", "--url", &url, "--password", PASSWORD, "token"]);
    assert!(ok, "{err}");
    assert_eq!(out.trim(), sim.current_token().expose());

    let (ok, out, err) = ffc(&[
        "device",
        "--url",
        &url,
        "--password",
        "wrong-pw-123",
        "token",
    ]);
    assert!(!ok);
    assert!(out.is_empty());
    assert!(!err.contains("wrong-pw-123"), "{err}");
    assert!(err.contains("refused"), "{err}");
}

#[test]
fn counts_in_csv_and_json_from_json_and_xml_bodies_equal_the_simulator() {
    let rt = runtime();
    let sim = start(&rt);
    let url = sim.base_url();
    let env = [("FFC_PASSWORD", PASSWORD), ("FFC_DEVICE_URL", url.as_str())];
    let base = [
        "device",
        "--zone",
        "Europe/London",
        "counts",
        "--date",
        "2024-07-01",
        "--resolution",
        "15m",
    ];
    let truth = sim_records(&sim, "2024-07-01", Resolution::Minutes(15));
    assert_eq!(truth.len(), 96);

    let (ok, csv_out, err) = ffc_with(&base, &env, None);
    assert!(ok, "{err}");
    assert_eq!(csv_triples(&csv_out), truth);
    // Local times are London summer time (UTC+1): the first bucket is 00:00 local.
    assert!(csv_out
        .lines()
        .nth(1)
        .expect("row")
        .contains(",2024-07-01 00:00:00,"));

    let mut xml = base.to_vec();
    xml.extend(["--data-type", "xml", "--format", "json"]);
    let (ok, json_out, err) = ffc_with(&xml, &env, None);
    assert!(ok, "{err}");
    assert_eq!(json_triples(&json_out), truth);

    // A window: 08:00 to 12:00 inclusive of the 12:00 bucket.
    let mut window = base.to_vec();
    window.extend(["--time-start", "08:00", "--time-end", "12:00"]);
    let (ok, out, err) = ffc_with(&window, &env, None);
    assert!(ok, "{err}");
    let rows = csv_triples(&out);
    assert_eq!(rows.len(), 17);
    assert_eq!(rows.first(), truth.get(32));

    // Refused before sending: a resolution the device does not know.
    let mut bad = base.to_vec();
    bad[7] = "7m";
    let (ok, _, err) = ffc_with(&bad, &env, None);
    assert!(!ok);
    assert!(err.contains("resolution"), "{err}");
}

#[test]
fn pull_splits_a_long_range_and_writes_every_bucket_once() {
    let rt = runtime();
    let sim = start(&rt);
    let url = sim.base_url();
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("pull.csv");
    let file_arg = file.display().to_string();
    let env = [("FFC_PASSWORD", PASSWORD)];
    let before = sim.stats();
    let (ok, out, err) = ffc_with(
        &[
            "device",
            "--url",
            &url,
            "--zone",
            "Europe/London",
            "pull",
            "--from",
            "2024-10-26",
            "--to",
            "2024-10-29",
            "--output",
            &file_arg,
            "--concurrency",
            "2",
        ],
        &env,
        None,
    );
    assert!(ok, "{err}");
    assert!(out.is_empty(), "records went to the file");
    // What the simulator holds, asked window by window (a 25-hour day is two windows).
    let zone = Zone::iana("Europe/London").expect("zone");
    let (from, to) = (1_729_897_200, 1_730_160_000); // 26 Oct 00:00 BST .. 29 Oct 00:00 GMT
    let mut truth = Vec::new();
    for w in ffc_device::query::split_range(from, to, Resolution::Hour, DataType::Json, &zone)
        .expect("windows")
    {
        truth.extend(
            sim.records(&w.query)
                .iter()
                .filter(|r| r.start >= w.from && r.start < w.to)
                .map(|r| (r.start, r.count_in, r.count_out)),
        );
    }
    // 24 + 25 (the clocks go back on 27 October) + 24 hours.
    assert_eq!(truth.len(), 73);
    let written = std::fs::read_to_string(&file).expect("file");
    assert_eq!(csv_triples(&written), truth);
    assert!(err.contains("pulled 73 records"), "{err}");
    let after = sim.stats();
    assert!(format!("{after:?}") != format!("{before:?}"));
}

#[test]
fn printed_curl_script_has_no_secret_and_fetches_the_same_records() {
    let rt = runtime();
    let sim = start(&rt);
    let url = sim.base_url();
    let args = [
        "device",
        "--url",
        &url,
        "--password",
        PASSWORD,
        "--zone",
        "Europe/London",
        "counts",
        "--date",
        "2024-07-01",
        "--resolution",
        "hour",
        "--print-curl",
    ];
    let requests_before = format!("{:?}", sim.stats());
    let (ok, script, err) = ffc(&args);
    assert!(ok, "{err}");
    assert!(!script.contains(PASSWORD), "{script}");
    assert!(!script.contains(sim.current_token().expose()), "{script}");
    assert!(script.contains("$FFC_PASSWORD") && script.contains("$FFC_TOKEN"));
    assert_eq!(
        format!("{:?}", sim.stats()),
        requests_before,
        "printing sends nothing"
    );

    if std::process::Command::new("curl")
        .arg("--version")
        .output()
        .is_err()
    {
        assert!(std::env::var_os("CI").is_none(), "curl is needed in CI");
        eprintln!("curl is not installed: the printed script is not run");
        return;
    }
    let body = std::process::Command::new("sh")
        .arg("-c")
        .arg(&script)
        .env("FFC_PASSWORD", PASSWORD)
        .output()
        .expect("sh");
    assert!(
        body.status.success(),
        "{}",
        String::from_utf8_lossy(&body.stderr)
    );
    let (ok, decoded, err) = ffc_with(
        &["decode", "device-json", "-", "--zone", "Europe/London"],
        &[],
        Some(&body.stdout),
    );
    assert!(ok, "{err}\n{decoded}");
    assert_eq!(
        json_triples(&decoded),
        sim_records(&sim, "2024-07-01", Resolution::Hour)
    );
}

#[test]
fn printed_rust_uses_the_typed_builder_and_no_secret() {
    let (ok, rust, err) = ffc(&[
        "device",
        "--url",
        "http://127.0.0.1:9/cgi-bin/",
        "--password",
        PASSWORD,
        "counts",
        "--date",
        "2024-07-01",
        "--time-start",
        "08:00",
        "--resolution",
        "15m",
        "--data-type",
        "xml",
        "--print-rust",
    ]);
    assert!(ok, "{err}");
    assert!(!rust.contains(PASSWORD));
    for want in [
        "Query::builder()",
        ".data_type(DataType::Xml)",
        ".resolution(Resolution::Minutes(15))",
        ".date_start(NaiveDate::from_ymd_opt(2024, 7, 1)",
        ".time_start(NaiveTime::from_hms_opt(8, 0, 0)",
        "std::env::var(\"FFC_PASSWORD\")",
        "client.counts(&query).await?",
    ] {
        assert!(rust.contains(want), "missing {want} in\n{rust}");
    }
    let (ok, rust, err) = ffc(&[
        "device",
        "--url",
        "http://127.0.0.1:9/cgi-bin/",
        "pull",
        "--from",
        "2024-07-01",
        "--to",
        "2024-07-03",
        "--print-rust",
    ]);
    assert!(ok, "{err}");
    assert!(
        rust.contains(".pull(1719792000, 1719964800, Resolution::Hour, DataType::Json"),
        "{rust}"
    );
}
