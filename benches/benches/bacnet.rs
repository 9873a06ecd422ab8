//! BACnet/IP: a full read of an FFC device's 96 values (object-list, then object-name and
//! present-value of every object with ReadPropertyMultiple) by our client, and by the
//! bacpypes3 client (the baseline) against the same simulated device in the same run.
//! Group `bacnet_full_read_96`: `ffc_client/bacpypes3_client`, one ratio line.
//!
//! The bacpypes3 side runs `ffc-protocols/tests/peers/bacpypes3_read_ffc.py --serve`
//! as one long-lived process: each measurement asks it for N reads and it reports the
//! seconds they took, measured inside Python, so process start-up is not counted. It needs
//! `FFC_BACPYPES3_PYTHON` (export it by sourcing scripts/services.sh); without it there is
//! no baseline, and the bench says so on stderr and prints no ratio.
//!
//! Round trips per read are counted by the device (datagrams it answered), the same way
//! for both clients, and written to stderr: the ratio line stays the only output.

use ffc_benches::compare_timed;
use ffc_core::Metric;
use ffc_protocols::bacnet::client::{BacnetClientConfig, Client, DeviceInfo};
use ffc_protocols::bacnet::device::{BacnetDeviceConfig, SimulatedDevice};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The comparison's group name.
const GROUP: &str = "bacnet_full_read_96";

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

fn main() {
    if !ffc_benches::selected(GROUP) {
        return;
    }
    let Ok(python) = std::env::var("FFC_BACPYPES3_PYTHON") else {
        eprintln!("{GROUP} skipped: FFC_BACPYPES3_PYTHON not set (source scripts/services.sh)");
        return;
    };
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

    // Round trips of one read, counted by the device, for each client.
    let before = device.stats();
    let series = runtime.block_on(client.read_counts(&info)).expect("read");
    assert_eq!(series.inbound[47], 147);
    let ours = device.stats().round_trips - before.round_trips;
    let mut python = Python::start(&python, device.local_addr());
    let before = device.stats();
    python.reads(1);
    let theirs = device.stats().round_trips - before.round_trips;
    eprintln!(
        "{GROUP}: round trips per full read: ffc {ours} ({} segments), bacpypes3 {theirs}",
        client.stats().segments_received
    );

    compare_timed(
        GROUP,
        "ffc_client",
        |iters| {
            let started = Instant::now();
            for _ in 0..iters {
                runtime.block_on(client.read_counts(&info)).expect("read");
            }
            started.elapsed().as_nanos() as f64 / iters as f64
        },
        "bacpypes3_client",
        |iters| python.reads(iters).as_nanos() as f64 / iters as f64,
    );
    drop(python);
    runtime.block_on(device.shutdown());
}
