//! `ffc server token|export` against the V9 server simulator (real HTTP on loopback).
mod common;

use std::collections::BTreeMap;

use common::{ffc_with, runtime};
use ffc_client::sim::{SimConfig, SimSite, Simulator};
use ffc_core::aggregate::Series;
use ffc_core::rollup::BranchSpec;
use ffc_core::{CameraSerial, CountRecord, Resolution, SiteId, Source, Subject, UtcOffset, Zone};

const DAY: i64 = 1_718_582_400; // 2024-06-17 00:00 UTC

#[test]
fn export_gives_the_site_rollup_and_token_works() {
    let rt = runtime();
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
    let sim = rt
        .block_on(Simulator::start(
            SimConfig {
                email: "ops@example.com".into(),
                password: ffc_client::Secret::new("v9-pw-secret"),
                token_lifetime: None,
                sites: vec![SimSite {
                    spec: BranchSpec {
                        site: SiteId(7),
                        counters: vec![serial],
                    },
                    name: "Main St".into(),
                    code: "S007".into(),
                    zone: Zone::UTC,
                    counters: BTreeMap::from([(serial, series)]),
                }],
                multi_shape: false,
            },
            DAY + 3 * 86_400,
        ))
        .expect("server simulator");
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
