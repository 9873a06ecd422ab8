//! `ffc server token|export|cube|import-sales` against the V9 server simulator (real HTTP
//! on loopback), and the `--print-curl` scripts run by sh and curl against it.
mod common;

use std::collections::BTreeMap;

use common::{ffc_with, runtime};
use ffc_client::sim::{ServerSimConfig, SimSite, Simulator};
use ffc_core::aggregate::Series;
use ffc_core::rollup::BranchSpec;
use ffc_core::{CameraSerial, CountRecord, Resolution, SiteId, Source, Subject, UtcOffset, Zone};

const DAY: i64 = 1_718_582_400; // 2024-06-17 00:00 UTC

/// A simulator with site 7 (code S007): one counter, hour h of 2024-06-17 has 10h in and
/// 9h out.
fn simulator(rt: &tokio::runtime::Runtime) -> Simulator {
    let serial = CameraSerial::from_u64(0x6afc_e315);
    let mut series = Series::new(Resolution::Hour, Zone::UTC);
    for h in 0..24 {
        series
            .put_record(&CountRecord {
                subject: Subject::Counter(serial),
                start: DAY + h * 3600,
                length: 3600,
                offset: UtcOffset::UTC,
                count_in: h as u64 * 10,
                count_out: h as u64 * 9,
                outside: None,
                source: Source::DevicePull,
            })
            .expect("record");
    }
    rt.block_on(Simulator::start(
        ServerSimConfig::new("ops@example.com", ffc_client::Secret::new("v9-pw-secret"))
            .with_sites(vec![SimSite {
                spec: BranchSpec {
                    site: SiteId(7),
                    counters: vec![serial],
                },
                name: "Main St".into(),
                code: "S007".into(),
                zone: Zone::UTC,
                counters: BTreeMap::from([(serial, series)]),
            }]),
        DAY + 3 * 86_400,
    ))
    .expect("server simulator")
}

#[test]
fn export_gives_the_site_rollup_and_token_works() {
    let rt = runtime();
    let sim = simulator(&rt);
    let url = sim.base_url();
    let env = [
        ("FFC_V9_URL", url.as_str()),
        ("FFC_V9_EMAIL", "ops@example.com"),
        ("FFC_V9_PASSWORD", "v9-pw-secret"),
    ];
    let (ok, token, err) = ffc_with(&["server", "token"], &env, None);
    assert!(ok, "{err}");
    assert!(!token.trim().is_empty());
    assert!(!token.contains("v9-pw-secret"));

    let (ok, out, err) = ffc_with(
        &[
            "server",
            "export",
            "--ids",
            "7",
            "--from",
            "2024-06-17",
            "--to",
            "2024-06-17",
            "--format",
            "json",
        ],
        &env,
        None,
    );
    assert!(ok, "{err}");
    let rows: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert_eq!(rows.len(), 24);
    for (h, row) in rows.iter().enumerate() {
        assert_eq!(row["ValueDateTime"], DAY + h as i64 * 3600);
        assert_eq!(row["ValueIn"], h as u64 * 10);
        assert_eq!(row["ValueOut"], h as u64 * 9);
    }

    let bad = [
        ("FFC_V9_URL", url.as_str()),
        ("FFC_V9_EMAIL", "ops@example.com"),
        ("FFC_V9_PASSWORD", "wrong-v9-pw"),
    ];
    let (ok, _, err) = ffc_with(&["server", "token"], &bad, None);
    assert!(!ok);
    assert!(!err.contains("wrong-v9-pw"), "{err}");
}

fn env(url: &str) -> [(&'static str, &str); 3] {
    [
        ("FFC_V9_URL", url),
        ("FFC_V9_EMAIL", "ops@example.com"),
        ("FFC_V9_PASSWORD", "v9-pw-secret"),
    ]
}

fn json_lines(out: &str) -> Vec<serde_json::Value> {
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

const CUBE_HOURLY: [&str; 13] = [
    "server",
    "cube",
    "--measures",
    "A01,A02",
    "--dimensions",
    "SiteId,AggregationStatus",
    "--from",
    "2024-06-17",
    "--to",
    "2024-06-17",
    "--granularity",
    "hour",
    "--sites=7",
];

#[test]
fn cube_gives_measures_by_code_per_hour_and_day() {
    let rt = runtime();
    let sim = simulator(&rt);
    let url = sim.base_url();
    let (ok, out, err) = ffc_with(&CUBE_HOURLY, &env(&url), None);
    assert!(ok, "{err}");
    let rows = json_lines(&out);
    assert_eq!(rows.len(), 24);
    for (h, row) in rows.iter().enumerate() {
        assert_eq!(row["time"], format!("2024-06-17 {h:02}:00:00"));
        assert_eq!(row["A01"], h as f64 * 10.0);
        assert_eq!(row["A02"], h as f64 * 9.0);
        assert_eq!(row["SiteId"], "7");
        assert_eq!(row["AggregationStatus"], "complete");
    }
    // CSV, daily: one row, the day's sums; columns in the query's order.
    let mut args: Vec<&str> = CUBE_HOURLY.to_vec();
    args[11] = "day";
    args.extend(["--format", "csv"]);
    let (ok, out, err) = ffc_with(&args, &env(&url), None);
    assert!(ok, "{err}");
    let sum_in: u64 = (0..24).map(|h| h * 10).sum();
    let sum_out: u64 = (0..24).map(|h| h * 9).sum();
    assert_eq!(
        out,
        format!("time,A01,A02,SiteId,AggregationStatus\n2024-06-17 00:00:00,{sum_in},{sum_out},7,complete\n")
    );
    // The area cube: one area per counter.
    let (ok, out, err) = ffc_with(
        &[
            "server",
            "cube",
            "--cube",
            "area",
            "--measures",
            "A01",
            "--dimensions",
            "AreaId",
            "--from",
            "2024-06-17",
            "--to",
            "2024-06-17",
            "--areas",
            "000000006afce315",
        ],
        &env(&url),
        None,
    );
    assert!(ok, "{err}");
    let rows = json_lines(&out);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["AreaId"], "000000006afce315");
    assert_eq!(rows[0]["A01"], sum_in as f64);
    // A code that is not a measure is refused before sending, naming the known ones.
    let before: usize = sim.stats().requests.values().sum();
    let mut args: Vec<&str> = CUBE_HOURLY.to_vec();
    args[3] = "A01,Z99";
    let (ok, _, err) = ffc_with(&args, &env(&url), None);
    assert!(!ok);
    assert!(
        err.contains("\"Z99\" is not a measure code") && err.contains("B06"),
        "{err}"
    );
    assert_eq!(sim.stats().requests.values().sum::<usize>(), before);
}

#[test]
fn printed_curl_scripts_fetch_what_the_client_fetches() {
    let rt = runtime();
    let sim = simulator(&rt);
    let url = sim.base_url();
    let dir = tempfile::tempdir().expect("tempdir");
    let run_script = |script: &str| -> String {
        assert!(!script.contains("v9-pw-secret"), "{script}");
        let path = dir.path().join("request.sh");
        std::fs::write(&path, script).expect("write script");
        let out = std::process::Command::new("sh")
            .arg(&path)
            .env("FFC_V9_PASSWORD", "v9-pw-secret")
            .output()
            .expect("sh");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    };
    // Printing sends nothing, and needs no password.
    let requests_before = sim.stats().requests.values().sum::<usize>();
    let no_password = [
        ("FFC_V9_URL", url.as_str()),
        ("FFC_V9_EMAIL", "ops@example.com"),
    ];
    let mut cube_args = CUBE_HOURLY.to_vec();
    cube_args.push("--print-curl");
    let (ok, script, err) = ffc_with(&cube_args, &no_password, None);
    assert!(ok, "{err}");
    assert_eq!(
        sim.stats().requests.values().sum::<usize>(),
        requests_before
    );
    let body = run_script(&script);
    let (ok, decoded, err) = ffc_with(
        &["decode", "v9-cube", "-"],
        &[],
        Some(body.trim().as_bytes()),
    );
    assert!(ok, "{err}: {body}");
    let (ok, direct, err) = ffc_with(&CUBE_HOURLY, &env(&url), None);
    assert!(ok, "{err}");
    let decoded = json_lines(&decoded);
    let direct = json_lines(&direct);
    assert_eq!(decoded.len(), direct.len());
    for (d, c) in decoded.iter().zip(&direct) {
        assert_eq!(d["measures"]["A01"], c["A01"]);
        assert_eq!(d["time"], c["time"]);
    }

    let export = [
        "server",
        "export",
        "--ids",
        "7",
        "--from",
        "2024-06-17",
        "--to",
        "2024-06-17",
        "--print-curl",
    ];
    let (ok, script, err) = ffc_with(&export, &no_password, None);
    assert!(ok, "{err}");
    let body = run_script(&script);
    let (ok, decoded, err) = ffc_with(
        &["decode", "v9-export", "-"],
        &[],
        Some(body.trim().as_bytes()),
    );
    assert!(ok, "{err}: {body}");
    let decoded = json_lines(&decoded);
    assert_eq!(decoded.len(), 24);
    for (h, row) in decoded.iter().enumerate() {
        assert_eq!(row["ValueIn"], h as u64 * 10);
    }
    // The token script prints the token the server issued.
    let (ok, script, err) = ffc_with(&["server", "token", "--print-curl"], &no_password, None);
    assert!(ok, "{err}");
    let token = run_script(&script);
    assert!(!token.trim().is_empty());

    // --print-rust: the builder calls, no secret.
    let mut rust_args = CUBE_HOURLY.to_vec();
    rust_args.push("--print-rust");
    let (ok, program, err) = ffc_with(&rust_args, &env(&url), None);
    assert!(ok, "{err}");
    for needle in [
        "CubeQuery::new(Cube::SiteSummary)",
        ".measures([Measure::A01, Measure::A02])",
        ".time(Granularity::Hour,",
        ".filter(\"SiteId\", Operator::Equals, [\"7\"])",
        "client.load_chunked(&query)",
        "std::env::var(\"FFC_V9_PASSWORD\")",
    ] {
        assert!(program.contains(needle), "{needle} in\n{program}");
    }
    assert!(!program.contains("v9-pw-secret"));
    let mut rust_args = export.to_vec();
    rust_args.pop();
    rust_args.push("--print-rust");
    let (ok, program, _) = ffc_with(&rust_args, &env(&url), None);
    assert!(ok);
    assert!(
        program.contains("InfoJson::new(") && program.contains("export_chunked(&info)"),
        "{program}"
    );
}

const SALES_HEADER: &str = "StoreCode,DateTime,TotalTransactionQty,TotalTransactionValue\n";

fn held(sim: &Simulator) -> Vec<(String, String, u64, i64)> {
    sim.sales()
        .values()
        .flatten()
        .map(|r| {
            (
                r.site_code.clone(),
                r.transaction_date.to_string(),
                r.quantity,
                r.amount_cents,
            )
        })
        .collect()
}

#[test]
fn import_sales_uploads_validated_days_and_refuses_an_invalid_file_whole() {
    let rt = runtime();
    let sim = simulator(&rt);
    let url = sim.base_url();
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("sales.csv");
    let file_arg = file.display().to_string();
    let sales_requests = |sim: &Simulator| {
        sim.stats()
            .requests
            .get(&ffc_client::sim::Endpoint::Sales)
            .copied()
            .unwrap_or(0)
    };

    // Two days; receipts of one hour are summed into one import row.
    std::fs::write(
        &file,
        format!("{SALES_HEADER}S007,17-06-2024 10:05,2,10.50\nS007,17-06-2024 10:40,1,4.25\nS007,18-06-2024 09:00,3,30\n"),
    )
    .expect("write");
    let (ok, out, err) = ffc_with(
        &["server", "import-sales", &file_arg, "--store", "S007"],
        &env(&url),
        None,
    );
    assert!(ok, "{err}");
    let summary: serde_json::Value = serde_json::from_str(&out).expect("summary");
    assert_eq!(summary["report"]["outcome"], "imported");
    assert_eq!(summary["upload"]["done"], 2);
    assert_eq!(summary["upload"]["days"].as_array().expect("days").len(), 2);
    assert_eq!(
        held(&sim),
        vec![
            ("S007".into(), "2024-06-17 10:00:00".into(), 3, 1475),
            ("S007".into(), "2024-06-18 09:00:00".into(), 3, 3000),
        ]
    );
    assert_eq!(sales_requests(&sim), 2, "one request per (site, day)");

    // A file with an error is refused whole: nothing is sent, the server keeps its days.
    std::fs::write(
        &file,
        format!("{SALES_HEADER}S007,17-06-2024 11:00,5,50\nS007,18-06-2024 12:00,x,1\n"),
    )
    .expect("write");
    let (ok, out, err) = ffc_with(
        &["server", "import-sales", &file_arg, "--store", "S007"],
        &env(&url),
        None,
    );
    assert!(!ok);
    assert!(err.contains("nothing was sent"), "{err}");
    let summary: serde_json::Value = serde_json::from_str(&out).expect("summary");
    assert_eq!(summary["report"]["outcome"], "rejected");
    assert_eq!(summary["report"]["errors"][0]["line"], 3);
    assert_eq!(sales_requests(&sim), 2);
    assert_eq!(held(&sim).len(), 2);

    // --valid-rows-only: the clean day replaces the server's, the broken one is withheld
    // (the server keeps its earlier 18 June).
    let (ok, out, err) = ffc_with(
        &[
            "server",
            "import-sales",
            &file_arg,
            "--store",
            "S007",
            "--valid-rows-only",
        ],
        &env(&url),
        None,
    );
    assert!(ok, "{err}");
    let summary: serde_json::Value = serde_json::from_str(&out).expect("summary");
    assert_eq!(summary["report"]["outcome"], "partially_imported");
    assert_eq!(summary["upload"]["days"][0]["date"], "2024-06-17");
    assert_eq!(
        held(&sim),
        vec![
            ("S007".into(), "2024-06-17 11:00:00".into(), 5, 5000),
            ("S007".into(), "2024-06-18 09:00:00".into(), 3, 3000),
        ]
    );

    // A store the server does not know: it takes 0 of 1 rows, and the CLI says so.
    std::fs::write(&file, format!("{SALES_HEADER}S999,17-06-2024 11:00,5,50\n")).expect("write");
    let (ok, out, err) = ffc_with(&["server", "import-sales", &file_arg], &env(&url), None);
    assert!(!ok);
    assert!(err.contains("upload stopped at S999 2024-06-17"), "{err}");
    let summary: serde_json::Value = serde_json::from_str(&out).expect("summary");
    assert!(summary["upload"]["error"].is_string());
    assert!(!err.contains("v9-pw-secret") && !out.contains("v9-pw-secret"));
}
