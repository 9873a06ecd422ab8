//! Interop with bacpypes3, an independent BACnet implementation from PyPI, on 127.0.0.1.
//!
//! scripts/services.d/30-bacpypes3.sh installs bacpypes3 into the shared venv, starts
//! `tests/peers/bacpypes3_ffc_device.py` and exports:
//! - `FFC_BACPYPES3_PYTHON`: the venv's Python with bacpypes3 installed;
//! - `FFC_BACPYPES3_DEVICE`: `host:port` of the bacpypes3 device;
//! - `FFC_BACPYPES3_DEVICE_INSTANCE`: its device instance.
//!
//! Without them the tests say why and return, except under CI, where they fail.
#![cfg(feature = "bacnet")]

use ffc_core::Metric;
use ffc_protocols::bacnet::client::{BacnetClientConfig, Client};
use ffc_protocols::bacnet::device::{BacnetDeviceConfig, SimulatedDevice};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn env_or_skip(name: &str) -> Option<String> {
    match std::env::var(name) {
        Ok(value) => Some(value),
        Err(_) if std::env::var_os("CI").is_some() => {
            panic!("{name} is not set: run through scripts/test.sh (scripts/services.d/30-bacpypes3.sh)")
        }
        Err(_) => {
            eprintln!(
                "skipping: {name} is not set (source scripts/services.sh to start bacpypes3)"
            );
            None
        }
    }
}

/// The values the bacpypes3 peer serves (see tests/peers/bacpypes3_ffc_device.py).
fn peer_count(metric: Metric, x: u8) -> u64 {
    match metric {
        Metric::In => 100 + 3 * u64::from(x),
        Metric::Out => 500 + 7 * u64::from(x),
    }
}

/// The values our simulated device serves here.
fn our_count(metric: Metric, x: u8) -> u64 {
    match metric {
        Metric::In => 10_000 + 13 * u64::from(x),
        Metric::Out => 20_000 + 17 * u64::from(x),
    }
}

#[tokio::test]
async fn our_client_reads_a_bacpypes3_device_with_segmented_rpm() {
    let (Some(address), Some(instance)) = (
        env_or_skip("FFC_BACPYPES3_DEVICE"),
        env_or_skip("FFC_BACPYPES3_DEVICE_INSTANCE"),
    ) else {
        return;
    };
    let address: SocketAddr = address.parse().unwrap();
    let instance: u32 = instance.parse().unwrap();
    let mut client =
        Client::bind(BacnetClientConfig::default().with_bind("127.0.0.1:0".parse().unwrap()))
            .await
            .unwrap();
    let found = client
        .who_is(address, Some((instance, instance)), Duration::from_secs(2))
        .await
        .unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    let info = found[0];
    assert_eq!(info.instance, instance);
    assert!(info.segmentation.transmits());
    client.reset_stats();
    let series = client.read_counts(&info).await.unwrap();
    assert_eq!(series.device_instance, instance);
    for x in 0..48u8 {
        assert_eq!(
            series.inbound[usize::from(x)],
            peer_count(Metric::In, x),
            "In-C-{x}"
        );
        assert_eq!(
            series.outbound[usize::from(x)],
            peer_count(Metric::Out, x),
            "Out-C-{x}"
        );
    }
    let stats = client.stats();
    // bacpypes3 accepts 1024-byte APDUs; its answer for 97 objects is ~2.9 kB, so it
    // comes in segments that we reassembled.
    assert!(stats.segments_received >= 2, "{stats:?}");
    assert_eq!(stats.retries, 0, "{stats:?}");
}

#[tokio::test]
async fn bacpypes3_client_reads_our_simulated_device() {
    let Some(python) = env_or_skip("FFC_BACPYPES3_PYTHON") else {
        return;
    };
    let device = SimulatedDevice::spawn(
        "127.0.0.1:0".parse().unwrap(),
        BacnetDeviceConfig::new(123_456),
        Arc::new(Mutex::new(our_count as fn(Metric, u8) -> u64)),
    )
    .await
    .unwrap();
    let client_port = {
        let probe = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/peers/bacpypes3_read_ffc.py"
    );
    let output = tokio::time::timeout(
        Duration::from_secs(30),
        tokio::process::Command::new(python)
            .arg(script)
            .arg("--address")
            .arg(format!("127.0.0.1/32:{client_port}"))
            .arg("--device")
            .arg(device.local_addr().to_string())
            .arg("--device-instance")
            .arg("123456")
            .output(),
    )
    .await
    .expect("bacpypes3 client timed out")
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "bacpypes3 client failed: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json_line = stdout.lines().rfind(|l| l.starts_with('{')).unwrap();
    let answer = parse_answer(json_line);
    assert_eq!(answer.device_name, "FFC");
    assert_eq!(answer.analog_value_0, our_count(Metric::In, 0) as f64);
    assert_eq!(answer.values.len(), 96);
    for x in 0..48u8 {
        for metric in [Metric::In, Metric::Out] {
            let name = ffc_protocols::bacnet::device::object_name(metric, x);
            let value = answer.values.iter().find(|(n, _)| *n == name).unwrap().1;
            assert_eq!(value, our_count(metric, x) as f64, "{name}");
        }
    }
    device.shutdown().await;
}

struct Answer {
    device_name: String,
    analog_value_0: f64,
    values: Vec<(String, f64)>,
}

/// Reads the script's one-line JSON without a JSON dependency: its shape is fixed.
fn parse_answer(line: &str) -> Answer {
    let field = |key: &str| -> &str {
        let start = line.find(&format!("\"{key}\": ")).unwrap() + key.len() + 4;
        &line[start..]
    };
    let device_name = field("device_name");
    let device_name = device_name[1..device_name[1..].find('"').unwrap() + 1].to_owned();
    let av0 = field("analog_value_0");
    let analog_value_0 = av0[..av0.find(',').unwrap()].parse().unwrap();
    let values_text = field("values");
    let values_text = &values_text[1..values_text.find('}').unwrap()];
    let values = values_text
        .split(", ")
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once(": ").unwrap();
            (name.trim_matches('"').to_owned(), value.parse().unwrap())
        })
        .collect();
    Answer {
        device_name,
        analog_value_0,
        values,
    }
}
