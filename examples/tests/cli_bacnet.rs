//! `ffc bacnet discover|read` end to end against a simulated FFC device on loopback (real
//! UDP), serving known values.
mod common;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use common::{ffc, runtime};
use ffc_core::Metric;
use ffc_protocols::bacnet::device::{BacnetDeviceConfig, SimulatedDevice};

const INSTANCE: u32 = 123_315;

/// In-C-X = 1000 + X, Out-C-X = 2000 + X.
fn values(metric: Metric, hours_back: u8) -> u64 {
    match metric {
        Metric::In => 1000 + u64::from(hours_back),
        _ => 2000 + u64::from(hours_back),
    }
}

fn spawn(rt: &tokio::runtime::Runtime) -> SimulatedDevice {
    let values: fn(Metric, u8) -> u64 = values;
    rt.block_on(SimulatedDevice::spawn(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        BacnetDeviceConfig::new(INSTANCE),
        Arc::new(Mutex::new(values)),
    ))
    .expect("device")
}

#[test]
fn discover_finds_the_device_and_nothing_where_none_runs() {
    let rt = runtime();
    let device = spawn(&rt);
    let target = device.local_addr().to_string();
    let (ok, out, err) = ffc(&[
        "bacnet",
        "discover",
        "--target",
        &target,
        "--wait-ms",
        "300",
    ]);
    assert!(ok, "{err}");
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["instance"], INSTANCE);
    assert_eq!(lines[0]["address"], target);

    // A UDP socket that never answers.
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    let silent = silent.local_addr().expect("addr").to_string();
    let (ok, out, err) = ffc(&[
        "bacnet",
        "discover",
        "--target",
        &silent,
        "--wait-ms",
        "100",
    ]);
    assert!(!ok);
    assert!(out.is_empty());
    assert!(err.contains("no device answered"), "{err}");
}

#[test]
fn read_gives_48_hourly_records_newest_last() {
    let rt = runtime();
    let device = spawn(&rt);
    let target = device.local_addr().to_string();
    for instance in [None, Some(INSTANCE.to_string())] {
        let mut args = vec![
            "bacnet",
            "read",
            "--target",
            &target,
            "--serial",
            "000000006afce315",
            "--format",
            "json",
        ];
        if let Some(i) = &instance {
            args.extend(["--instance", i.as_str()]);
        }
        let (ok, out, err) = ffc(&args);
        assert!(ok, "{err}");
        let rows: Vec<serde_json::Value> = out
            .lines()
            .map(|l| serde_json::from_str(l).expect("json"))
            .collect();
        assert_eq!(rows.len(), 48);
        for (i, row) in rows.iter().enumerate() {
            let back = 47 - i as u64;
            assert_eq!(row["ValueIn"], 1000 + back, "row {i}");
            assert_eq!(row["ValueOut"], 2000 + back, "row {i}");
            assert_eq!(row["LengthSeconds"], 3600);
        }
        let starts: Vec<i64> = rows
            .iter()
            .map(|r| r["ValueDateTime"].as_i64().expect("start"))
            .collect();
        assert!(starts.windows(2).all(|w| w[1] - w[0] == 3600));
        assert!(err.contains("48 hours read"), "{err}");
    }
}
