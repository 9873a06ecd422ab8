//! The reference integrations run against the simulators: device pull to CSV (with a
//! resumed pull) and BACnet polling.
mod common;

use std::net::SocketAddr;
use std::process::Command;
use std::sync::{Arc, Mutex};

use common::runtime;
use ffc_core::{Metric, Resolution, Zone};
use ffc_device::query::{split_range, DataType};
use ffc_device::secret::Secret;
use ffc_device::sim::{DeviceSimConfig, Fault, Simulator};
use ffc_protocols::bacnet::device::{BacnetDeviceConfig, SimulatedDevice};

#[test]
fn device_pull_to_csv_writes_every_hour_and_resumes_after_a_failure() {
    let rt = runtime();
    let sim = rt
        .block_on(Simulator::start(
            DeviceSimConfig::default().with_password(Secret::new("pull-pw-1")),
        ))
        .expect("simulator");
    // The first four requests fail (503): the first pull gives up, the resumed one succeeds.
    sim.inject([Fault::Status(503); 4]);
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("counts.csv");
    let run = Command::new(env!("CARGO_BIN_EXE_device_pull_to_csv"))
        .args([
            sim.base_url().as_str(),
            "2024-07-01",
            "2024-07-03 12:00",
            &out.display().to_string(),
        ])
        .env("FFC_PASSWORD", "pull-pw-1")
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{err}");
    assert!(err.contains("resuming from 1719792000"), "{err}");
    assert!(!err.contains("pull-pw-1"));
    let (from, to) = (1_719_792_000, 1_719_792_000 + 60 * 3600);
    let mut truth = Vec::new();
    for w in split_range(from, to, Resolution::Hour, DataType::Json, &Zone::UTC).expect("windows") {
        truth.extend(
            sim.records(&w.query)
                .into_iter()
                .filter(|r| r.start >= w.from && r.start < w.to)
                .map(|r| format!("{},{},{}", r.start, r.count_in, r.count_out)),
        );
    }
    let written: Vec<String> = std::fs::read_to_string(&out)
        .expect("csv")
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            format!("{},{},{}", f[1], f[4], f[5])
        })
        .collect();
    assert_eq!(written.len(), 60);
    assert_eq!(written, truth);
}

#[test]
fn bacnet_poll_prints_the_last_complete_hour_each_poll() {
    let rt = runtime();
    let values: fn(Metric, u8) -> u64 = |metric, back| match metric {
        Metric::In => 1000 + u64::from(back),
        _ => 2000 + u64::from(back),
    };
    let device = rt
        .block_on(SimulatedDevice::spawn(
            SocketAddr::from(([127, 0, 0, 1], 0)),
            BacnetDeviceConfig::new(123_315),
            Arc::new(Mutex::new(values)),
        ))
        .expect("device");
    let run = Command::new(env!("CARGO_BIN_EXE_bacnet_poll"))
        .args([
            device.local_addr().to_string().as_str(),
            "000000006afce315",
            "2",
            "10",
        ])
        .output()
        .expect("run");
    let out = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    for line in &lines[1..] {
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(f[0], "000000006afce315");
        assert_eq!(f[1], "123315");
        assert_eq!(&f[3..], ["1001", "2001"]);
    }
}
