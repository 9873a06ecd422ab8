//! `ffc listen ws --metrics ADDR`: a real counter (ffc-protocols' sender) pushes events, a
//! real HTTP client scrapes `/metrics` and `/healthz`, and a real SIGTERM drains the
//! process, which exits 0 with every acknowledged event in its file.
mod common;

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::runtime;
use ffc_core::{CameraSerial, CountEvent, Metric, PeopleId, PeopleType, RoiId, Source, UtcOffset};
use ffc_protocols::ws::sender::{Sender, SenderConfig};

/// A hang guard for reading the child's output, not a timing assertion.
const GUARD: Duration = Duration::from_secs(60);

/// Lines of a child's stream, read on a thread.
fn lines(stream: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// The first line of `rx` starting with `prefix`, without it.
fn wait_for(rx: &mpsc::Receiver<String>, prefix: &str) -> String {
    loop {
        let line = rx.recv_timeout(GUARD).expect("a line");
        if let Some(rest) = line.strip_prefix(prefix) {
            return rest.to_owned();
        }
    }
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn event(n: u64) -> CountEvent {
    CountEvent {
        serial: CameraSerial::from_u64(0xecd5_cc57_d23c_5c9f),
        roi: RoiId(1),
        metric: Metric::In,
        people_type: PeopleType::Visitor,
        people_id: PeopleId(n),
        start: 1_753_266_990 + n as i64,
        end: 1_753_266_991 + n as i64,
        offset: UtcOffset::UTC,
        uuid: None,
        source: Source::WebSocket,
    }
}

/// The value of the sample line starting with `series`.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[test]
fn listen_ws_serves_metrics_and_drains_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let events = dir.path().join("events.jsonl");
    let mut child = Command::new(env!("CARGO_BIN_EXE_ffc"))
        .args([
            "listen",
            "ws",
            "--bind",
            "127.0.0.1:0",
            "--metrics",
            "127.0.0.1:0",
        ])
        .arg("--events")
        .arg(&events)
        .env_remove("FFC_WS_TOKEN")
        .env_remove("FFC_WS_BASIC_USER")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ffc listen ws");
    let out = lines(child.stdout.take().unwrap());
    let err = lines(child.stderr.take().unwrap());
    let child = Killed(child);
    let metrics_url = wait_for(&err, "serving metrics on ");
    let ws_url = wait_for(&out, "listening on ");

    let rt = runtime();
    rt.block_on(async {
        let mut sender: Sender = Sender::new(SenderConfig::new(ws_url));
        for n in [1, 2, 1] {
            sender.push(event(n)).unwrap();
            sender.deliver_all(GUARD).await.unwrap();
        }
    });

    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    let get = |url: String| {
        rt.block_on(async {
            let response = http.get(url).send().await.unwrap();
            (response.status(), response.text().await.unwrap())
        })
    };
    let (status, text) = get(metrics_url.clone());
    assert_eq!(status, 200);
    let c = "component=\"ws\"";
    assert_eq!(
        sample(&text, &format!("ffc_events_received_total{{{c}}}")),
        Some(3.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            &format!("ffc_events_kept_total{{{c},outcome=\"stored\"}}")
        ),
        Some(2.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            &format!("ffc_events_kept_total{{{c},outcome=\"duplicate\"}}")
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, &format!("ffc_messages_acknowledged_total{{{c}}}")),
        Some(3.0)
    );
    assert!(sample(
        &text,
        &format!("ffc_counter_last_seen_timestamp_seconds{{{c},serial=\"ecd5cc57d23c5c9f\"}}")
    )
    .is_some());
    let healthz = metrics_url.replace("/metrics", "/healthz");
    assert_eq!(get(healthz), (reqwest::StatusCode::OK, "ok\n".to_owned()));

    // SIGTERM: drain and exit 0, with both stored events in the file.
    let mut child = child;
    let ok = Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let status = child.0.wait().unwrap();
    assert!(status.success(), "{status:?}");
    let stopped = wait_for(&err, "stopped: ");
    assert!(
        stopped.starts_with("2 events kept, 1 duplicates"),
        "{stopped}"
    );
    let kept = ffc_protocols::sink::read_events(&events).unwrap();
    assert_eq!(kept, vec![event(1), event(2)]);
}

#[test]
fn events_file_that_is_not_a_regular_file_is_refused_at_once() {
    for args in [
        &[
            "listen",
            "mqtt",
            "--url",
            "mqtt://127.0.0.1:1",
            "--events",
            "/dev/full",
        ][..],
        &[
            "listen",
            "ws",
            "--bind",
            "127.0.0.1:0",
            "--events",
            "/dev/full",
        ][..],
    ] {
        let (ok, _, err) = common::ffc(args);
        assert!(!ok, "{args:?}");
        assert!(err.contains("/dev/full"), "{err}");
        assert!(err.contains("not a regular file"), "{err}");
    }
}
