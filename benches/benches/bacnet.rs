//! BACnet/IP: a full read of an FFC device's 96 values (object-list, then object-name and
//! present-value of every object with ReadPropertyMultiple) by our client, and by the
//! bacpypes3 client (the baseline) against the same simulated device in the same run.
//!
//! The bacpypes3 side runs `ffc-protocols/tests/peers/bacpypes3_read_ffc.py --serve`
//! as one long-lived process: criterion asks it for N reads and it reports the seconds
//! they took, measured inside Python, so process start-up is not counted. It needs
//! `FFC_BACPYPES3_PYTHON` (export it by sourcing scripts/services.sh); without it only
//! our client is measured.
//!
//! Round trips per read are counted by the device (datagrams it answered), the same way
//! for both clients, and printed with the ratio of the mean times.

use criterion::{criterion_group, criterion_main, Criterion};
use ffc_core::Metric;
use ffc_protocols::bacnet::client::{BacnetClientConfig, Client, DeviceInfo};
use ffc_protocols::bacnet::device::{BacnetDeviceConfig, SimulatedDevice};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const INSTANCE: u32 = 123_456;

fn counts(metric: Metric, x: u8) -> u64 {
    match metric {
        Metric::In => 100 + u64::from(x),
        Metric::Out => 200 + u64::from(x),
    }
}

struct Python {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Python {
    fn start(python: &str, device: std::net::SocketAddr) -> Python {
        let port = std::net::UdpSocket::bind("127.0.0.1:0")
            .and_then(|s| s.local_addr())
            .map(|a| a.port())
            .expect("a free UDP port");
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../ffc-protocols/tests/peers/bacpypes3_read_ffc.py"
        );
        let mut child = Command::new(python)
            .arg(script)
            .args(["--address", &format!("127.0.0.1/32:{port}")])
            .args(["--device", &device.to_string()])
            .args(["--device-instance", &INSTANCE.to_string()])
            .arg("--discover")
            .arg("--serve")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the bacpypes3 client");
        let stdin = child.stdin.take().expect("stdin");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut first = String::new();
        stdout.read_line(&mut first).expect("first answer");
        assert!(
            first.contains("\"In-C-47\": 147.0"),
            "bacpypes3 read wrong values: {first}"
        );
        Python {
            child,
            stdin,
            stdout,
        }
    }

    /// Runs `n` full reads in Python and returns the time Python measured.
    fn reads(&mut self, n: u64) -> Duration {
        writeln!(self.stdin, "{n}").expect("ask for reads");
        let mut line = String::new();
        self.stdout.read_line(&mut line).expect("elapsed");
        Duration::from_secs_f64(line.trim().parse().expect("seconds"))
    }
}

impl Drop for Python {
    fn drop(&mut self) {
        let _ = writeln!(self.stdin);
        let _ = self.child.wait();
    }
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let device = runtime
        .block_on(SimulatedDevice::spawn(
            "127.0.0.1:0".parse().expect("address"),
            BacnetDeviceConfig::new(INSTANCE),
            Arc::new(Mutex::new(counts as fn(Metric, u8) -> u64)),
        ))
        .expect("simulated device");
    let mut client = runtime
        .block_on(Client::bind(
            BacnetClientConfig::default().with_bind("127.0.0.1:0".parse().expect("address")),
        ))
        .expect("client");
    let info = runtime
        .block_on(client.who_is(device.local_addr(), None, Duration::from_millis(200)))
        .expect("who-is")
        .first()
        .copied()
        .unwrap_or(DeviceInfo::known(INSTANCE, device.local_addr()));

    // Round trips of one read, counted by the device.
    let before = device.stats();
    let series = runtime.block_on(client.read_counts(&info)).expect("read");
    assert_eq!(series.inbound[47], 147);
    let ours_round_trips = device.stats().round_trips - before.round_trips;
    println!(
        "bacnet: our client: {ours_round_trips} round trips per full read ({} segments)",
        client.stats().segments_received
    );

    let mut python = std::env::var("FFC_BACPYPES3_PYTHON")
        .ok()
        .map(|python| Python::start(&python, device.local_addr()));
    if let Some(python) = python.as_mut() {
        let before = device.stats();
        python.reads(1);
        let theirs = device.stats().round_trips - before.round_trips;
        println!("bacnet: bacpypes3 client: {theirs} round trips per full read");
    } else {
        println!("bacnet: FFC_BACPYPES3_PYTHON not set; skipping the bacpypes3 baseline");
    }

    let mut group = c.benchmark_group("bacnet_full_read_96");
    let mut ours = Duration::ZERO;
    let mut ours_n = 0u64;
    group.bench_function("ffc_client", |b| {
        b.iter_custom(|iters| {
            let started = Instant::now();
            for _ in 0..iters {
                runtime.block_on(client.read_counts(&info)).expect("read");
            }
            let elapsed = started.elapsed();
            ours += elapsed;
            ours_n += iters;
            elapsed
        })
    });
    let mut theirs = Duration::ZERO;
    let mut theirs_n = 0u64;
    if let Some(python) = python.as_mut() {
        group.bench_function("bacpypes3_client", |b| {
            b.iter_custom(|iters| {
                let elapsed = python.reads(iters);
                theirs += elapsed;
                theirs_n += iters;
                elapsed
            })
        });
    }
    group.finish();
    if ours_n > 0 && theirs_n > 0 {
        let ours_mean = ours.as_secs_f64() / ours_n as f64;
        let theirs_mean = theirs.as_secs_f64() / theirs_n as f64;
        println!(
            "bacnet: mean full read: ffc {:.1} us, bacpypes3 {:.1} us, ratio {:.1}x",
            ours_mean * 1e6,
            theirs_mean * 1e6,
            theirs_mean / ours_mean
        );
    }
    drop(python);
    runtime.block_on(device.shutdown());
}

criterion_group!(benches, bench);
criterion_main!(benches);
