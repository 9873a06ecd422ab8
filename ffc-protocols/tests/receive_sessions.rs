//! Receive times and connection sessions (issue 17) through the real receivers into the
//! JSON-lines file sink: a python `websockets` client against `ws::Receiver`, and mosquitto
//! between ffc's publisher and `mqtt::worker::Worker` (`source scripts/services.sh` first;
//! without the peer a test says so and returns, except under CI, where it fails). A manual
//! clock makes every time exact.
#![cfg(all(feature = "ws", feature = "mqtt"))]

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ffc_core::{
    CameraSerial, CountEvent, Metric, OccupancySample, PeopleId, PeopleType, RoiId, Source,
    UtcOffset,
};
use ffc_protocols::mqtt::codec::Message;
use ffc_protocols::mqtt::publisher::{Publisher, PublisherConfig};
use ffc_protocols::mqtt::subscriber::SubscriberConfig;
use ffc_protocols::mqtt::worker::{Worker, WorkerConfig};
use ffc_protocols::mqtt::Qos;
use ffc_protocols::sink::{
    read_events, read_received, read_sessions, sessions_path, Clock, FileSink, MemoryDeadLetters,
    SessionKind, SessionRecord, SessionSource,
};
use ffc_protocols::ws::{Receiver, ReceiverConfig};
use tokio::time::timeout;

const GUARD: Duration = Duration::from_secs(60);
const T0: i64 = 1_753_266_000; // 2025-07-23 10:20:00 UTC

fn peer(vars: &[&str]) -> Option<Vec<String>> {
    let values: Option<Vec<String>> = vars.iter().map(|v| std::env::var(v).ok()).collect();
    if values.is_none() {
        if std::env::var_os("CI").is_some() {
            panic!("{vars:?} not set under CI: run through scripts/test.sh");
        }
        eprintln!("skipped: {vars:?} not set (source scripts/services.sh)");
    }
    values
}

/// A clock the test sets.
fn manual_clock(at: i64) -> (Arc<AtomicI64>, Clock) {
    let now = Arc::new(AtomicI64::new(at));
    let read = now.clone();
    (now, Clock::new(move || read.load(Ordering::SeqCst)))
}

fn session(
    counter: CameraSerial,
    source: SessionSource,
    kind: SessionKind,
    at: i64,
) -> SessionRecord {
    SessionRecord {
        counter,
        source,
        kind,
        at,
    }
}

const PRO2: &str = r#"{"UUID":"658a2443-72ba-422c-85dc-e4e10baa128%N%","DeviceSerial":"ecd5cc57d23c5c9f","RoiId":1,"MetricId":1,"PeopleTypeId":1,"CombineObjectTypeId":11,"PeopleId":%N%,"EventEndLocalTime":"2025-07-23 18:36:31","EventEndTime":1753266991,"EventEndUTCTime":"2025-07-23 10:36:31"}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ws_receiver_keeps_receive_times_and_the_connection_session() {
    let Some(env) = peer(&["FFC_PYTHON", "FFC_PY_WEBSOCKETS"]) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.jsonl");
    let (now, clock) = manual_clock(T0);
    let sink = Arc::new(FileSink::open(&path).unwrap());
    let config = ReceiverConfig::new("127.0.0.1:0".parse().unwrap()).with_clock(clock);
    let receiver = Receiver::bind(config, sink.clone(), Arc::new(MemoryDeadLetters::new()))
        .await
        .unwrap()
        .spawn();
    // The client pings before anything names the counter (no heartbeat can be kept yet),
    // sends one event, reads a line from stdin (the test moves the clock meanwhile), pings,
    // sends a second event and its resend, and closes.
    let script = r#"
import sys
from websockets.sync.client import connect
url, a, b = sys.argv[1], sys.argv[2], sys.argv[3]
with connect(url) as ws:
    ws.ping(b"check").wait(10)
    ws.send(a); print(ws.recv(timeout=10), flush=True)
    sys.stdin.readline()
    ws.ping(b"check").wait(10)
    ws.send(b); print(ws.recv(timeout=10), flush=True)
    ws.send(b); print(ws.recv(timeout=10), flush=True)
"#;
    let url = format!("ws://{}/ffc", receiver.local_addr());
    let mut child = tokio::process::Command::new(&env[0])
        .args([
            "-c",
            script,
            &url,
            &PRO2.replace("%N%", "1"),
            &PRO2.replace("%N%", "2"),
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    timeout(GUARD, async {
        while read_events(&path).unwrap().is_empty() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("first event kept");
    now.store(T0 + 95, Ordering::SeqCst);
    tokio::io::AsyncWriteExt::write_all(&mut stdin, b"go\n")
        .await
        .unwrap();
    let output = timeout(GUARD, child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert!(output.status.success());
    assert_eq!(String::from_utf8_lossy(&output.stdout), "OK\nOK\nOK\n");
    // The client closed: the disconnect is kept by the time shutdown returns.
    receiver.shutdown().await.unwrap();
    drop(sink);

    let received = read_received(&path).unwrap();
    let times: Vec<Option<i64>> = received.iter().map(|(_, at)| *at).collect();
    assert_eq!(
        times,
        [Some(T0), Some(T0 + 95)],
        "the resend is a duplicate"
    );
    let serial: CameraSerial = "ecd5cc57d23c5c9f".parse().unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.contains(r#""received_utc":"2025-07-23T10:20:00Z""#),
        "{text}"
    );
    let ws = SessionSource::Ws;
    assert_eq!(
        read_sessions(sessions_path(&path)).unwrap(),
        [
            session(serial, ws, SessionKind::Connect, T0),
            session(serial, ws, SessionKind::Heartbeat, T0 + 95),
            session(serial, ws, SessionKind::Disconnect, T0 + 95),
        ]
    );
    let line = std::fs::read_to_string(sessions_path(&path)).unwrap();
    assert_eq!(
        line.lines().next().unwrap(),
        r#"{"counter":"ecd5cc57d23c5c9f","source":"ws","kind":"connect","at_utc":"2025-07-23T10:20:00Z"}"#
    );
}

fn occupancy(serial: CameraSerial, at: i64) -> Message {
    Message::Occupancy(OccupancySample {
        serial,
        roi: RoiId(1),
        object_type: 1,
        object_count: 1,
        timestamp: at,
        offset: UtcOffset::UTC,
        occupancy_type: 1,
        unit: 1,
    })
}

fn count(serial: CameraSerial, n: u64) -> Message {
    Message::Count(CountEvent {
        serial,
        roi: RoiId(1),
        metric: Metric::In,
        people_type: PeopleType::Visitor,
        people_id: PeopleId(n),
        start: T0 + n as i64,
        end: T0 + n as i64,
        offset: UtcOffset::UTC,
        uuid: None,
        source: Source::Mqtt,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mqtt_worker_keeps_receive_times_occupancy_and_sessions() {
    let Some(env) = peer(&["FFC_MOSQUITTO_PORT"]) else {
        return;
    };
    let url = format!("mqtt://127.0.0.1:{}", env[0]);
    let run = std::process::id();
    let root = format!("ffc-sessions-test/{run}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.jsonl");
    let (now, clock) = manual_clock(T0);
    let subscriber = SubscriberConfig::new(&url, format!("ffc-sessions-{run}"))
        .unwrap()
        .with_filters(vec![format!("{root}/+")])
        .with_qos(Qos::AtLeastOnce)
        .with_clock(clock);
    let sink = Arc::new(FileSink::open(&path).unwrap());
    let worker = Worker::new(
        WorkerConfig::new(subscriber),
        sink.clone(),
        Arc::new(MemoryDeadLetters::new()),
    );
    let mut status = worker.status();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(worker.run(async {
        let _ = stopped.await;
    }));
    timeout(GUARD, status.wait_for(|s| s.subacks >= 1))
        .await
        .unwrap()
        .unwrap();
    let serial = CameraSerial::from_u64(0x3000_0000_0000_0000 | u64::from(run));
    let publisher = Publisher::connect(
        PublisherConfig::new(&url, serial)
            .unwrap()
            .with_topic(Some(format!("{root}/{serial}")))
            .with_qos(Qos::AtLeastOnce),
    )
    .await
    .unwrap();
    // Occupancy twice in one minute (one kept), an event, then a minute later both again.
    for (at, messages) in [
        (
            T0,
            vec![
                occupancy(serial, T0),
                occupancy(serial, T0 + 1),
                count(serial, 1),
            ],
        ),
        (T0 + 60, vec![occupancy(serial, T0 + 60), count(serial, 2)]),
    ] {
        now.store(at, Ordering::SeqCst);
        let kept = read_events(&path).unwrap().len();
        for m in &messages {
            publisher.publish(m).await.unwrap();
        }
        publisher.flush().await.unwrap();
        timeout(GUARD, async {
            while read_events(&path).unwrap().len() == kept {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await
        .unwrap();
    }
    publisher.close().await;
    now.store(T0 + 70, Ordering::SeqCst);
    stop.send(()).unwrap();
    timeout(GUARD, running).await.unwrap().unwrap().unwrap();
    drop(sink);

    let times: Vec<Option<i64>> = read_received(&path).unwrap().iter().map(|r| r.1).collect();
    assert_eq!(times, [Some(T0), Some(T0 + 60)]);
    let mqtt = SessionSource::Mqtt;
    assert_eq!(
        read_sessions(sessions_path(&path)).unwrap(),
        [
            session(serial, mqtt, SessionKind::Connect, T0),
            session(serial, mqtt, SessionKind::Occupancy, T0),
            session(serial, mqtt, SessionKind::Occupancy, T0 + 60),
            session(serial, mqtt, SessionKind::Disconnect, T0 + 70),
        ]
    );
}

#[test]
fn files_without_receive_times_still_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.jsonl");
    let Message::Count(event) = count(CameraSerial::from_u64(7), 1) else {
        unreachable!()
    };
    std::fs::write(
        &path,
        format!("{}\n", serde_json::to_string(&event).unwrap()),
    )
    .unwrap();
    assert_eq!(read_received(&path).unwrap(), [(event, None)]);
    assert_eq!(read_events(&path).unwrap(), [event]);
    // A bad receive time names the line.
    let text = serde_json::to_string(&event)
        .unwrap()
        .replace('}', r#","received_utc":"yesterday"}"#);
    std::fs::write(&path, format!("{text}\n")).unwrap();
    let e = read_received(&path).unwrap_err().to_string();
    assert!(e.contains("line 1") && e.contains("yesterday"), "{e}");
}
