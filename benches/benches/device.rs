//! ffc-device: the count-body decoders against the raw parsers on the same bytes, and a
//! year of 15-minute data pulled from the simulator with and without concurrency.
//!
//! - `device_json`: `body::decode_json` (to `CountRecord`s) vs `serde_json::Value` (a
//!   generic tree, no validation, no records) on a day of 1-minute data.
//! - `device_xml`: `body::decode_xml` vs quick-xml's raw event reader (every event read
//!   and dropped) on the same day.
//! - `device_pull_year_{0,2}ms` (skipped with `FFC_BENCH_QUICK=1`): 366 one-day windows
//!   over loopback HTTP, `concurrency` 8 vs 1, with the simulator answering at once and
//!   with 2 ms of device latency per request.
//!
//! Run: `cargo bench -p ffc-benches --bench device [-- <group filter>]`
#![forbid(unsafe_code)]

use std::hint::black_box;
use std::time::Duration;

use ffc_benches::{compare, quick, selected};
use ffc_core::{CameraSerial, CountRecord, Resolution, Source, Subject, Zone};
use ffc_device::body::{decode_json, decode_xml, encode_json, encode_xml};
use ffc_device::client::{Credentials, DeviceClient, DeviceClientConfig};
use ffc_device::query::DataType;
use ffc_device::sim::{DeviceSimConfig, Simulator};

/// A day of 1-minute records, deterministic.
fn day_of_minutes() -> Vec<CountRecord> {
    let serial = CameraSerial::from_u64(0x6afc_e315);
    let start = 1_719_792_000; // 2024-07-01 00:00 UTC
    (0..1440u64)
        .map(|i| CountRecord {
            subject: Subject::Counter(serial),
            start: start + 60 * i as i64,
            length: 60,
            offset: ffc_core::UtcOffset::UTC,
            count_in: (i * 7919) % 37,
            count_out: (i * 104_729) % 41,
            outside: None,
            source: Source::DevicePull,
        })
        .collect()
}

fn decode() {
    let records = day_of_minutes();
    let serial = CameraSerial::from_u64(0x6afc_e315);
    let json = encode_json(serial, "ACME - Door 1", Resolution::Minutes(1), &records).into_bytes();
    let xml = encode_xml(serial, "ACME - Door 1", Resolution::Minutes(1), &records).into_bytes();
    let zone = Zone::UTC;
    assert_eq!(
        decode_json(&json, &zone).map(|b| b.records.len()).ok(),
        Some(1440)
    );
    assert_eq!(
        decode_xml(&xml, &zone).map(|b| b.records.len()).ok(),
        Some(1440)
    );
    compare(
        "device_json",
        "ffc_decode_json",
        || decode_json(black_box(&json), &zone).map(|b| b.records.len()),
        "serde_json_value",
        || serde_json::from_slice::<serde_json::Value>(black_box(&json)).is_ok(),
    );
    compare(
        "device_xml",
        "ffc_decode_xml",
        || decode_xml(black_box(&xml), &zone).map(|b| b.records.len()),
        "quick_xml_events",
        || {
            // quick-xml's fastest plain pass: borrowed events from a slice, each dropped.
            let mut reader = quick_xml::Reader::from_reader(black_box(&xml[..]));
            let mut events = 0u32;
            loop {
                match reader.read_event() {
                    Ok(quick_xml::events::Event::Eof) | Err(_) => break,
                    Ok(_) => events += 1,
                }
            }
            events
        },
    );
}

/// Pulls a year from `client`; panics when a record is missing.
fn pull(runtime: &tokio::runtime::Runtime, client: &DeviceClient) -> usize {
    let from = 1_704_067_200; // 2024-01-01 00:00 GMT
    let to = 1_735_689_600; // 2025-01-01 00:00 GMT
    let records = runtime
        .block_on(client.pull(from, to, Resolution::Minutes(15), DataType::Json, |_| {}))
        .map(|r| r.len())
        .unwrap_or(0);
    // 2024 is a leap year; DST takes four quarter hours in March and gives them back in October.
    assert_eq!(records, 366 * 96);
    records
}

/// A year of 15-minute data over loopback HTTP: concurrency 8 against 1 (groups
/// `device_pull_year_0ms`, `device_pull_year_2ms`: device latency per request).
fn pull_year() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("runtime: {e}"));
    let zone = Zone::iana("Europe/London").unwrap_or_default();
    for latency_ms in [0u64, 2] {
        let group = format!("device_pull_year_{latency_ms}ms");
        if !selected(&group) {
            continue;
        }
        let sim = runtime
            .block_on(Simulator::start(
                DeviceSimConfig::default()
                    .with_zone(zone)
                    .with_latency(Duration::from_millis(latency_ms)),
            ))
            .unwrap_or_else(|e| panic!("simulator: {e}"));
        let client = |concurrency: usize| {
            let config =
                DeviceClientConfig::new(sim.base_url(), zone).with_concurrency(concurrency);
            DeviceClient::new(config, Credentials::new("admin", "123456"))
                .unwrap_or_else(|e| panic!("client: {e}"))
        };
        let (parallel, serial) = (client(8), client(1));
        compare(
            &group,
            "concurrency_8",
            || pull(&runtime, &parallel),
            "concurrency_1",
            || pull(&runtime, &serial),
        );
    }
}

fn main() {
    decode();
    if !quick() {
        pull_year();
    }
}
