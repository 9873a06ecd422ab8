//! The WebSocket receiver over real loopback TCP: acknowledgements, dedupe, auth, dead
//! letters, limits, pings, graceful shutdown, and the Python `websockets` client.
#![cfg(feature = "ws")]

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use ffc_core::{CameraSerial, CountEvent, Metric, PeopleId, PeopleType, RoiId, Source, UtcOffset};
use ffc_protocols::sink::{Accepted, EventSink, MemoryDeadLetters, MemorySink, SinkError};
use ffc_protocols::ws::codec::{encode_classic, TEST_MESSAGE};
use ffc_protocols::ws::sender::{SendError, Sender, SenderConfig};
use ffc_protocols::ws::server::{Auth, Limits, Receiver, ReceiverConfig, ReceiverHandle};
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{CloseCode, Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::WebSocketStream;

const CLASSIC_PY: &str = "{'Topic': 'ffc-eventrawdata', 'Data': {'EventStartUTCTime': '2020-06-17 03:16:41', 'EventEndLocalTime': '2020-06-17 11:16:41', 'EventStartTime': 1592363801, 'MetricId': 1, 'RoiId': 1, 'CameraSerial': '000000006afce315', 'PeopleId': 1, 'EventEndUTCTime': '2020-06-17 03:16:41', 'UploadedLocalDateTime': '2020-06-17 11:16:45', 'EventEndTime': 1592363801, 'EventStartLocalTime': '2020-06-17 11:16:41', 'UploadedUTCDateTime': '2020-06-17 03:16:45', 'PeopleTypeId': 1}}";
const PRO2: &str = r#"{"UUID":"658a2443-72ba-422c-85dc-e4e10baa1288","DeviceSerial":"ecd5cc57d23c5c9f","RoiId":1,"MetricId":1,"PeopleTypeId":1,"CombineObjectTypeId":11,"PeopleId":1,"EventEndLocalTime":"2025-07-23 18:36:31","EventEndTime":1753266991,"EventEndUTCTime":"2025-07-23 10:36:31"}"#;

fn event(n: u64) -> CountEvent {
    CountEvent {
        serial: CameraSerial::from_u64(0x1234),
        roi: RoiId(1),
        metric: Metric::In,
        people_type: PeopleType::Visitor,
        people_id: PeopleId(n),
        start: 1_700_000_000 + n as i64,
        end: 1_700_000_001 + n as i64,
        offset: UtcOffset::from_seconds(3600).unwrap(),
        uuid: None,
        source: Source::WebSocket,
    }
}

fn classic(n: u64) -> String {
    let mut text = String::new();
    encode_classic(&event(n), &mut text).unwrap();
    text
}

struct Rig {
    handle: ReceiverHandle,
    sink: Arc<MemorySink>,
    dead: Arc<MemoryDeadLetters>,
}

async fn start(auth: Auth, limits: Limits) -> Rig {
    let sink = Arc::new(MemorySink::new());
    let dead = Arc::new(MemoryDeadLetters::new());
    let config = ReceiverConfig::new("127.0.0.1:0".parse().unwrap())
        .with_auth(auth)
        .with_limits(limits);
    let server = Receiver::bind(config, sink.clone(), dead.clone())
        .await
        .unwrap();
    Rig {
        handle: server.spawn(),
        sink,
        dead,
    }
}

type Ws = WebSocketStream<TcpStream>;

async fn connect_with(rig: &Rig, path: &str, authorization: Option<&str>) -> Result<Ws, WsError> {
    let url = format!("ws://{}{}", rig.handle.local_addr(), path);
    let mut request = url.into_client_request().unwrap();
    if let Some(value) = authorization {
        request
            .headers_mut()
            .insert("Authorization", value.parse().unwrap());
    }
    let tcp = TcpStream::connect(rig.handle.local_addr()).await.unwrap();
    tokio_tungstenite::client_async(request, tcp)
        .await
        .map(|(ws, _)| ws)
}

async fn connect(rig: &Rig) -> Ws {
    connect_with(rig, "/", None).await.unwrap()
}

/// Sends `text` and returns the next text answer.
async fn say(ws: &mut Ws, message: Message) -> String {
    ws.send(message).await.unwrap();
    next_text(ws).await
}

async fn next_text(ws: &mut Ws) -> String {
    loop {
        match tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => return t.as_str().to_owned(),
            Ok(Some(Ok(Message::Pong(_) | Message::Ping(_)))) => continue,
            other => panic!("expected a text answer, got {other:?}"),
        }
    }
}

/// Reads until the server closes; returns the close code.
async fn close_code(ws: &mut Ws) -> Option<CloseCode> {
    loop {
        match tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
            Ok(Some(Ok(Message::Close(frame)))) => return frame.map(|f| f.code),
            Ok(Some(Ok(_))) => continue,
            Ok(Some(Err(_)) | None) => return None,
            Err(_) => panic!("server did not close"),
        }
    }
}

#[tokio::test]
async fn events_are_acknowledged_once_stored_and_deduplicated() {
    let rig = start(Auth::new(), Limits::default()).await;
    let mut ws = connect(&rig).await;
    assert_eq!(say(&mut ws, Message::text(classic(1))).await, "OK");
    assert_eq!(rig.sink.events(), vec![event(1)]);
    // The resend after a lost OK: answered, not stored twice.
    assert_eq!(say(&mut ws, Message::text(classic(1))).await, "OK");
    assert_eq!(say(&mut ws, Message::text(TEST_MESSAGE)).await, "OK");
    assert_eq!(say(&mut ws, Message::text(PRO2)).await, "OK");
    assert_eq!(rig.sink.len(), 2);
    let stats = rig.handle.stats();
    assert_eq!(
        (
            stats.accepted,
            stats.duplicates,
            stats.tests,
            stats.dead_lettered
        ),
        (2, 1, 1, 0)
    );
    assert_eq!(rig.sink.events()[1].source, Source::WebSocketPro2);
    rig.handle.shutdown().await.unwrap();
}

#[tokio::test]
async fn pings_get_pongs() {
    let rig = start(Auth::new(), Limits::default()).await;
    let mut ws = connect(&rig).await;
    ws.send(Message::Ping(b"check".to_vec().into()))
        .await
        .unwrap();
    let answer = tokio::time::timeout(Duration::from_secs(10), ws.next()).await;
    match answer {
        Ok(Some(Ok(Message::Pong(payload)))) => assert_eq!(&payload[..], b"check"),
        other => panic!("expected a pong, got {other:?}"),
    }
}

#[tokio::test]
async fn credentials_are_checked_and_failures_get_401() {
    let auth = Auth::new()
        .with_basic("counter", "pa:ss")
        .with_token("tok-123");
    let rig = start(auth, Limits::default()).await;
    let refused = [
        (None, "/"),
        (Some("Basic Y291bnRlcjp3cm9uZw=="), "/"), // counter:wrong
        (Some("Bearer tok-124"), "/"),
        (Some("Bearer tok-12"), "/"),
        (None, "/?token=tok-1234"),
        (Some("Basic !!!"), "/"),
    ];
    for (authorization, path) in refused {
        match connect_with(&rig, path, authorization).await {
            Err(WsError::Http(response)) => {
                assert_eq!(response.status(), 401, "{authorization:?} {path}");
                let challenges: Vec<_> = response
                    .headers()
                    .get_all("www-authenticate")
                    .iter()
                    .map(|v| v.to_str().unwrap().to_owned())
                    .collect();
                assert_eq!(
                    challenges,
                    [
                        "Basic realm=\"ffc\", charset=\"UTF-8\"",
                        "Bearer realm=\"ffc\""
                    ]
                );
            }
            other => panic!(
                "{authorization:?} {path} was not refused: {:?}",
                other.map(|_| ())
            ),
        }
    }
    assert_eq!(rig.handle.stats().unauthorized, refused.len() as u64);
    assert!(rig.sink.is_empty());

    // base64("counter:pa:ss"): a colon in the password is part of it.
    let admitted = [
        (Some("Basic Y291bnRlcjpwYTpzcw=="), "/"),
        (Some("bearer tok-123"), "/"),
        (None, "/ingest?site=1&token=tok-123"),
    ];
    for (n, (authorization, path)) in admitted.into_iter().enumerate() {
        let mut ws = connect_with(&rig, path, authorization).await.unwrap();
        assert_eq!(say(&mut ws, Message::text(classic(n as u64))).await, "OK");
    }
    assert_eq!(rig.sink.len(), 3);
}

#[tokio::test]
async fn the_sender_authenticates_too() {
    let rig = start(Auth::new().with_token("tok"), Limits::default()).await;
    let url = format!("ws://{}/", rig.handle.local_addr());
    let mut wrong = SenderConfig::new(url.clone());
    wrong.token = Some("nope".into());
    wrong.connect_timeout = Duration::from_secs(5);
    let mut sender: Sender<4> = Sender::new(wrong);
    assert!(matches!(
        sender.check_connection().await,
        Err(SendError::Connect(_))
    ));
    let mut right = SenderConfig::new(url);
    right.token = Some("tok".into());
    // Debug never shows it.
    let shown = format!("{right:?}");
    assert!(
        shown.contains("Secret(***)") && !shown.contains("tok\""),
        "{shown}"
    );
    let mut sender: Sender<4> = Sender::new(right);
    sender.check_connection().await.unwrap();
    sender.push(event(7)).unwrap();
    assert_eq!(
        sender.deliver_all(Duration::from_secs(10)).await.unwrap(),
        1
    );
    assert_eq!(rig.sink.events(), vec![event(7)]);
    assert_eq!(rig.handle.stats().tests, 1);
}

#[tokio::test]
async fn bad_messages_are_dead_lettered_or_closed_while_others_are_served() {
    let limits = Limits::default().with_max_message_bytes(1024);
    let rig = start(Auth::new(), limits).await;
    let mut good = connect(&rig).await;
    let mut bad = connect(&rig).await;

    let truncated = &PRO2[..PRO2.len() - 20];
    let dead_lettered: [(Message, &str); 5] = [
        (Message::text(truncated), "truncated"),
        (
            Message::text("hello, server"),
            "expected a JSON object at byte 0",
        ),
        (
            Message::text("{\"Topic\": 'x'"),
            "JSON syntax error at line 1, column 11",
        ),
        (
            Message::Binary(vec![0xff, 0x00, 0x10].into()),
            "binary message",
        ),
        (
            Message::text(r#"{"Topic":"ffc-weather","Data":{}}"#),
            "unknown topic \"ffc-weather\"",
        ),
    ];
    for (n, (message, _)) in dead_lettered.iter().enumerate() {
        assert_eq!(say(&mut bad, message.clone()).await, "OK");
        // Interleaved: the other counter is served throughout.
        assert_eq!(say(&mut good, Message::text(classic(n as u64))).await, "OK");
    }
    let letters = rig.dead.letters();
    assert_eq!(letters.len(), dead_lettered.len());
    for (letter, (message, reason)) in letters.iter().zip(&dead_lettered) {
        assert!(
            letter.reason.contains(reason),
            "{} lacks {reason}",
            letter.reason
        );
        assert_eq!(letter.raw, message.clone().into_data().to_vec());
        assert!(
            letter.origin.starts_with("ws 127.0.0.1:"),
            "{}",
            letter.origin
        );
    }

    // Over the size limit: closed with 1009.
    bad.send(Message::text("x".repeat(2000))).await.unwrap();
    assert_eq!(close_code(&mut bad).await, Some(CloseCode::Size));

    // A text frame that is not UTF-8: closed with 1007.
    let mut bad = connect(&rig).await;
    let frame = Frame::message(vec![b'{', 0xc3, 0x28, b'}'], OpCode::Data(Data::Text), true);
    bad.send(Message::Frame(frame)).await.unwrap();
    assert_eq!(close_code(&mut bad).await, Some(CloseCode::Invalid));

    assert_eq!(say(&mut good, Message::text(classic(99))).await, "OK");
    let stats = rig.handle.stats();
    assert_eq!(stats.closed_with_reason, 2);
    assert_eq!(stats.dead_lettered, 5);
    assert_eq!(rig.sink.len(), 6);
}

#[tokio::test]
async fn a_handshake_that_never_finishes_is_cut() {
    let limits = Limits::default().with_handshake_timeout(Duration::from_millis(300));
    let rig = start(Auth::new(), limits).await;
    let mut tcp = TcpStream::connect(rig.handle.local_addr()).await.unwrap();
    tcp.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n")
        .await
        .unwrap();
    // The server hangs up: read sees the end (or a reset), well before this guard.
    let mut buf = [0u8; 64];
    let read = tokio::time::timeout(Duration::from_secs(20), tcp.read(&mut buf))
        .await
        .expect("the server kept a half-done handshake open");
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    // The socket closes as the handshake is dropped, just before the count: wait for it
    // (bounded, so a missing count fails rather than hangs).
    for _ in 0..1000 {
        if rig.handle.stats().handshake_failures == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(rig.handle.stats().handshake_failures, 1);
    // And it still serves.
    let mut ws = connect(&rig).await;
    assert_eq!(say(&mut ws, Message::text(classic(1))).await, "OK");
}

#[tokio::test]
async fn connections_over_the_limit_get_503() {
    let limits = Limits::default().with_max_connections(2);
    let rig = start(Auth::new(), limits).await;
    let _a = connect(&rig).await;
    let _b = connect(&rig).await;
    match connect_with(&rig, "/", None).await {
        Err(WsError::Http(response)) => assert_eq!(response.status(), 503),
        other => panic!("third connection not refused: {:?}", other.map(|_| ())),
    }
    assert_eq!(rig.handle.stats().refused_over_limit, 1);
}

/// A sink that fails, as a full disk does (a mock: a real full disk cannot be made here
/// without root-only loop devices).
struct BrokenSink;

#[async_trait]
impl EventSink for BrokenSink {
    async fn accept(&self, _: &CountEvent) -> Result<Accepted, SinkError> {
        Err(SinkError::Io {
            doing: "appending and syncing",
            source: std::io::Error::other("no space left on device"),
        })
    }
}

#[tokio::test]
async fn a_failing_sink_means_no_ok() {
    let config = ReceiverConfig::new("127.0.0.1:0".parse().unwrap());
    let dead = Arc::new(MemoryDeadLetters::new());
    let handle = Receiver::bind(config, Arc::new(BrokenSink), dead.clone())
        .await
        .unwrap()
        .spawn();
    let tcp = TcpStream::connect(handle.local_addr()).await.unwrap();
    let (mut ws, _) =
        tokio_tungstenite::client_async(format!("ws://{}/", handle.local_addr()), tcp)
            .await
            .unwrap();
    ws.send(Message::text(classic(1))).await.unwrap();
    // No OK: the connection closes with 1011 and the counter keeps the event.
    assert_eq!(close_code(&mut ws).await, Some(CloseCode::Error));
    assert_eq!(handle.stats().sink_failures, 1);
    assert!(dead.letters().is_empty());
}

/// A sink that holds each event until released, to catch the server mid-acknowledgement.
struct GatedSink {
    gate: tokio::sync::Semaphore,
    entered: tokio::sync::Notify,
    inner: MemorySink,
}

#[async_trait]
impl EventSink for GatedSink {
    async fn accept(&self, event: &CountEvent) -> Result<Accepted, SinkError> {
        self.entered.notify_one();
        let _permit = self.gate.acquire().await.map_err(|_| SinkError::Closed)?;
        self.inner.accept(event).await
    }
}

#[tokio::test]
async fn shutdown_finishes_the_acknowledgement_in_flight() {
    let sink = Arc::new(GatedSink {
        gate: tokio::sync::Semaphore::new(0),
        entered: tokio::sync::Notify::new(),
        inner: MemorySink::new(),
    });
    let config = ReceiverConfig::new("127.0.0.1:0".parse().unwrap());
    let handle = Receiver::bind(config, sink.clone(), Arc::new(MemoryDeadLetters::new()))
        .await
        .unwrap()
        .spawn();
    let addr = handle.local_addr();
    let tcp = TcpStream::connect(addr).await.unwrap();
    let (mut ws, _) = tokio_tungstenite::client_async(format!("ws://{addr}/"), tcp)
        .await
        .unwrap();
    ws.send(Message::text(classic(1))).await.unwrap();
    sink.entered.notified().await;
    // The event is inside the sink: shut down now, then let the sink finish.
    let shutdown = tokio::spawn(handle.shutdown());
    tokio::task::yield_now().await;
    sink.gate.add_permits(1);
    assert_eq!(next_text(&mut ws).await, "OK");
    assert_eq!(close_code(&mut ws).await, Some(CloseCode::Away));
    shutdown.await.unwrap().unwrap();
    assert_eq!(sink.inner.events(), vec![event(1)]);
    // No longer listening.
    assert!(TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn connections_still_busy_after_the_grace_are_aborted() {
    let sink = Arc::new(GatedSink {
        gate: tokio::sync::Semaphore::new(0),
        entered: tokio::sync::Notify::new(),
        inner: MemorySink::new(),
    });
    let config = ReceiverConfig::new("127.0.0.1:0".parse().unwrap())
        .with_limits(Limits::default().with_shutdown_grace(Duration::from_millis(100)));
    let handle = Receiver::bind(config, sink.clone(), Arc::new(MemoryDeadLetters::new()))
        .await
        .unwrap()
        .spawn();
    let addr = handle.local_addr();
    let tcp = TcpStream::connect(addr).await.unwrap();
    let (mut ws, _) = tokio_tungstenite::client_async(format!("ws://{addr}/"), tcp)
        .await
        .unwrap();
    ws.send(Message::text(classic(1))).await.unwrap();
    sink.entered.notified().await;
    // The sink never finishes: after the grace the connection task is aborted, so nothing
    // of the receiver (which holds the sink) outlives `shutdown`.
    handle.shutdown().await.unwrap();
    assert_eq!(
        Arc::strong_count(&sink),
        1,
        "a connection task still holds the sink"
    );
    // The counter got no OK: its connection just ended, and it resends later.
    assert!(!matches!(ws.next().await, Some(Ok(Message::Text(_)))));
    assert!(sink.inner.events().is_empty());
}

#[tokio::test]
async fn the_sender_honours_the_cap_and_the_disabled_state() {
    let rig = start(Auth::new(), Limits::default()).await;
    let mut sender: Sender<3> = Sender::new(SenderConfig::new(format!(
        "ws://{}/",
        rig.handle.local_addr()
    )));
    for n in 0..3 {
        sender.push(event(n)).unwrap();
    }
    let rejected = sender.push(event(3)).unwrap_err();
    assert_eq!(rejected.item, event(3));
    // Turned off: nothing goes out, nothing more is taken.
    assert_eq!(sender.deliver_all(Duration::from_secs(5)).await.unwrap(), 0);
    assert!(sender.push(event(4)).is_err());
    assert!(rig.sink.is_empty());
    sender.enable();
    assert_eq!(
        sender.deliver_all(Duration::from_secs(10)).await.unwrap(),
        3
    );
    assert_eq!(rig.sink.events(), (0..3).map(event).collect::<Vec<_>>());
    assert!(sender.outbox().is_empty());
}

#[tokio::test]
async fn python_websockets_client_sends_the_published_samples() {
    let (Ok(python), Ok(_)) = (
        std::env::var("FFC_PYTHON"),
        std::env::var("FFC_PY_WEBSOCKETS"),
    ) else {
        if std::env::var_os("CI").is_some() {
            panic!("FFC_PYTHON / FFC_PY_WEBSOCKETS missing: run through scripts/test.sh");
        }
        eprintln!("skipped: FFC_PYTHON and FFC_PY_WEBSOCKETS not set (source scripts/services.sh)");
        return;
    };
    let rig = start(Auth::new().with_basic("admin", "123456"), Limits::default()).await;
    let classic_json = CLASSIC_PY.replace('\'', "\"");
    let script = r#"
import json, sys
from websockets.sync.client import connect
url, samples = sys.argv[1], json.loads(sys.argv[2])
with connect(url, additional_headers={"Authorization": "Basic YWRtaW46MTIzNDU2"}) as ws:
    pong = ws.ping(b"test connection")
    print("pong" if pong.wait(10) else "no pong")
    for sample in samples:
        ws.send(sample)
        print(ws.recv(timeout=10))
"#;
    let samples = serde_json::to_string(&[classic_json.as_str(), CLASSIC_PY, PRO2]).unwrap();
    let url = format!("ws://{}/ffc", rig.handle.local_addr());
    let output = tokio::process::Command::new(python)
        .args(["-c", script, &url, &samples])
        .output()
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "pong\nOK\nOK\nOK\n"
    );
    let events = rig.sink.events();
    assert_eq!(
        events.len(),
        2,
        "the literal form is the same event: one duplicate"
    );
    assert_eq!(rig.handle.stats().duplicates, 1);
    assert_eq!(events[0].serial.to_string(), "000000006afce315");
    assert_eq!(events[0].end, 1_592_363_801);
    assert_eq!(events[0].offset.seconds(), 8 * 3600);
    assert_eq!(events[0].source, Source::WebSocket);
    assert_eq!(events[1].serial.to_string(), "ecd5cc57d23c5c9f");
    assert_eq!(
        events[1].uuid.map(|u| u.to_string()).as_deref(),
        Some("658a2443-72ba-422c-85dc-e4e10baa1288")
    );
    assert_eq!(events[1].source, Source::WebSocketPro2);
}

#[tokio::test]
async fn run_serves_until_its_shutdown_future_and_returns_the_counters() {
    let sink = Arc::new(MemorySink::new());
    let config = ReceiverConfig::new("127.0.0.1:0".parse().unwrap());
    let receiver = Receiver::bind(config, sink.clone(), Arc::new(MemoryDeadLetters::new()))
        .await
        .unwrap();
    let addr = receiver.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(receiver.run(async {
        let _ = stopped.await;
    }));
    let tcp = TcpStream::connect(addr).await.unwrap();
    let (mut ws, _) = tokio_tungstenite::client_async(format!("ws://{addr}/"), tcp)
        .await
        .unwrap();
    for n in [1, 2, 1] {
        ws.send(Message::text(classic(n))).await.unwrap();
        assert_eq!(next_text(&mut ws).await, "OK");
    }
    stop.send(()).unwrap();
    // Drained: the connection is closed as the receiver goes away.
    assert_eq!(close_code(&mut ws).await, Some(CloseCode::Away));
    let stats = running.await.unwrap().unwrap();
    assert_eq!((stats.accepted, stats.duplicates), (2, 1));
    assert_eq!(sink.len(), 2);
    assert!(TcpStream::connect(addr).await.is_err());
}
