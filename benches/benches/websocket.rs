//! WebSocket push (issue 5), each figure against its baseline in the same run:
//!
//! - `ws_decode_typed`: the payload codec against serde_json deriving the same fields into a
//!   borrowing struct (no validation, no date parsing: the floor of a typed decode), and
//!   `ws_decode_value`: against `serde_json::Value`, on the same bytes.
//! - `ws_ingest_1000` (not in the quick set, `FFC_BENCH_QUICK=1` skips it): 1,000 concurrent connections, each sending events one at a time and
//!   waiting for `OK` (as counters do), against the ffc receiver (decode, dedupe into a
//!   `MemorySink`, `OK`) and a bare tokio-tungstenite server that only answers `OK`, from
//!   the same load generator. Prints p50/p99 acknowledgement latency for both.
//! - Resident memory per idle connection of either server, each in its own child process
//!   (this binary re-run with `FFC_WS_MEM_CHILD`), read from the child's /proc/self/status.

use std::hint::black_box;
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ffc_benches::{compare, compare_timed, quick, selected};
use ffc_core::{CameraSerial, CountEvent, Metric, PeopleId, PeopleType, RoiId, Source, UtcOffset};
use ffc_protocols::sink::{MemoryDeadLetters, MemorySink};
use ffc_protocols::ws::codec::{decode, encode_classic, encode_pro2};
use ffc_protocols::ws::server::{Receiver, ReceiverConfig};
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

const CONNECTIONS: usize = 1_000;
/// Messages each connection sends per measured iteration.
const PER_CONNECTION: usize = 5;

static NEXT_ID: AtomicU64 = AtomicU64::new(0);

fn event(serial: u64, n: u64) -> CountEvent {
    CountEvent {
        serial: CameraSerial::from_u64(serial),
        roi: RoiId(1),
        metric: if n.is_multiple_of(2) {
            Metric::In
        } else {
            Metric::Out
        },
        people_type: PeopleType::Visitor,
        people_id: PeopleId(n),
        start: 1_750_000_000 + (n % 100_000) as i64,
        end: 1_750_000_001 + (n % 100_000) as i64,
        offset: UtcOffset::from_seconds(8 * 3600).unwrap(),
        uuid: None,
        source: Source::WebSocket,
    }
}

fn payloads() -> Vec<Vec<u8>> {
    (0..1_000u64)
        .map(|n| {
            let mut text = String::new();
            if n % 2 == 0 {
                encode_classic(&event(0x6afc_e315 + n, n), &mut text).unwrap();
            } else {
                encode_pro2(
                    &event(0x6afc_e315 + n, n),
                    ffc_core::MessageId::from_u64_pair(n, n),
                    &mut text,
                )
                .unwrap();
            }
            text.into_bytes()
        })
        .collect()
}

/// The typed baseline: the same fields, borrowed, in one derived struct per level (the
/// envelope's `Data` holds the same fields as a flat message).
#[derive(Deserialize)]
#[allow(dead_code)]
struct TypedFields<'a> {
    #[serde(rename = "UUID", borrow, default)]
    uuid: Option<&'a str>,
    #[serde(rename = "CameraSerial", borrow, default)]
    camera_serial: Option<&'a str>,
    #[serde(rename = "DeviceSerial", borrow, default)]
    device_serial: Option<&'a str>,
    #[serde(rename = "RoiId", default)]
    roi: Option<u32>,
    #[serde(rename = "MetricId", default)]
    metric: Option<u8>,
    #[serde(rename = "PeopleTypeId", default)]
    people_type: Option<u8>,
    #[serde(rename = "CombineObjectTypeId", default)]
    object_type: Option<u8>,
    #[serde(rename = "PeopleId", default)]
    people_id: Option<u64>,
    #[serde(rename = "EventStartTime", default)]
    start: Option<i64>,
    #[serde(rename = "EventEndTime", default)]
    end: Option<i64>,
    #[serde(rename = "EventStartUTCTime", borrow, default)]
    start_utc: Option<&'a str>,
    #[serde(rename = "EventStartLocalTime", borrow, default)]
    start_local: Option<&'a str>,
    #[serde(rename = "EventEndUTCTime", borrow, default)]
    end_utc: Option<&'a str>,
    #[serde(rename = "EventEndLocalTime", borrow, default)]
    end_local: Option<&'a str>,
}

/// The envelope, or a flat event: `Topic` and `Data` next to the same fields.
#[derive(Deserialize)]
#[allow(dead_code)]
struct TypedMessage<'a> {
    #[serde(rename = "Topic", borrow, default)]
    topic: Option<&'a str>,
    #[serde(rename = "Data", borrow, default)]
    data: Option<TypedFields<'a>>,
    #[serde(rename = "UUID", borrow, default)]
    uuid: Option<&'a str>,
    #[serde(rename = "CameraSerial", borrow, default)]
    camera_serial: Option<&'a str>,
    #[serde(rename = "DeviceSerial", borrow, default)]
    device_serial: Option<&'a str>,
    #[serde(rename = "RoiId", default)]
    roi: Option<u32>,
    #[serde(rename = "MetricId", default)]
    metric: Option<u8>,
    #[serde(rename = "PeopleTypeId", default)]
    people_type: Option<u8>,
    #[serde(rename = "CombineObjectTypeId", default)]
    object_type: Option<u8>,
    #[serde(rename = "PeopleId", default)]
    people_id: Option<u64>,
    #[serde(rename = "EventStartTime", default)]
    start: Option<i64>,
    #[serde(rename = "EventEndTime", default)]
    end: Option<i64>,
    #[serde(rename = "EventStartUTCTime", borrow, default)]
    start_utc: Option<&'a str>,
    #[serde(rename = "EventStartLocalTime", borrow, default)]
    start_local: Option<&'a str>,
    #[serde(rename = "EventEndUTCTime", borrow, default)]
    end_utc: Option<&'a str>,
    #[serde(rename = "EventEndLocalTime", borrow, default)]
    end_local: Option<&'a str>,
}

fn decode_bench() {
    let inputs = payloads();
    let ffc = || {
        let mut events = 0;
        for bytes in &inputs {
            if let Ok(ffc_protocols::ws::codec::Message::Event(e)) = decode(black_box(bytes)) {
                events += e.people_id.0 & 1;
            }
        }
        events
    };
    // Both decode every payload: the baseline must not skip work the codec does.
    let typed = || {
        let mut events = 0;
        for bytes in &inputs {
            if let Ok(m) = serde_json::from_slice::<TypedMessage<'_>>(black_box(bytes)) {
                let id = m.data.and_then(|d| d.people_id).or(m.people_id);
                events += id.unwrap_or(0) & 1;
            }
        }
        events
    };
    assert_eq!(ffc(), typed());
    compare(
        "ws_decode_typed",
        "ffc_codec",
        ffc,
        "serde_typed_borrowed",
        typed,
    );
    compare(
        "ws_decode_value",
        "ffc_codec",
        ffc,
        "serde_json_value",
        || {
            let mut n = 0;
            for bytes in &inputs {
                if let Ok(v) = serde_json::from_slice::<serde_json::Value>(black_box(bytes)) {
                    n += v.as_object().map_or(0, |o| o.len());
                }
            }
            n
        },
    );
}

fn client_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
}

/// The baseline: accepts, upgrades, answers every text message `OK`. Nothing else.
async fn bare_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let config = WebSocketConfig::default()
                    .read_buffer_size(4 * 1024)
                    .write_buffer_size(0)
                    .max_message_size(Some(64 * 1024));
                let Ok(mut ws) =
                    tokio_tungstenite::accept_async_with_config(stream, Some(config)).await
                else {
                    return;
                };
                while let Some(Ok(message)) = ws.next().await {
                    if message.is_text() && ws.send(Message::text("OK")).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

async fn ffc_server() -> SocketAddr {
    let config = ReceiverConfig::new("127.0.0.1:0".parse().unwrap());
    let server = Receiver::bind(
        config,
        Arc::new(MemorySink::with_limit(usize::MAX)),
        Arc::new(MemoryDeadLetters::new()),
    )
    .await
    .unwrap();
    let handle = server.spawn();
    let addr = handle.local_addr();
    std::mem::forget(handle); // serves until the process ends
    addr
}

async fn connect_all(addr: SocketAddr) -> Vec<WebSocketStream<TcpStream>> {
    let mut all = Vec::with_capacity(CONNECTIONS);
    for _ in 0..CONNECTIONS {
        let tcp = TcpStream::connect(addr).await.unwrap();
        tcp.set_nodelay(true).unwrap();
        let (ws, _) = tokio_tungstenite::client_async_with_config(
            format!("ws://{addr}/"),
            tcp,
            Some(client_config()),
        )
        .await
        .unwrap();
        all.push(ws);
    }
    all
}

/// The load generator: every connection sends `PER_CONNECTION` fresh events, one at a
/// time, each after the previous `OK`. Returns the wall time; latencies go to `record`.
async fn round(
    connections: Vec<WebSocketStream<TcpStream>>,
    record: Arc<Mutex<Vec<Duration>>>,
) -> (Duration, Vec<WebSocketStream<TcpStream>>) {
    let started = Instant::now();
    let tasks: Vec<_> = connections
        .into_iter()
        .enumerate()
        .map(|(i, mut ws)| {
            let record = record.clone();
            tokio::spawn(async move {
                let mut text = String::new();
                let mut mine = Vec::with_capacity(PER_CONNECTION);
                for _ in 0..PER_CONNECTION {
                    let n = NEXT_ID.fetch_add(1, Ordering::Relaxed);
                    text.clear();
                    encode_classic(&event(i as u64, n), &mut text).unwrap();
                    let sent = Instant::now();
                    ws.send(Message::text(text.as_str())).await.unwrap();
                    loop {
                        match ws.next().await {
                            Some(Ok(Message::Text(t))) => {
                                assert_eq!(t.as_str(), "OK");
                                break;
                            }
                            Some(Ok(_)) => continue,
                            other => panic!("connection ended: {other:?}"),
                        }
                    }
                    mine.push(sent.elapsed());
                }
                record.lock().unwrap().extend(mine);
                ws
            })
        })
        .collect();
    let mut back = Vec::with_capacity(CONNECTIONS);
    for t in tasks {
        back.push(t.await.unwrap());
    }
    (started.elapsed(), back)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

/// One server's side of the ingest comparison: its connections and their latencies.
type Side = (
    Option<Vec<WebSocketStream<TcpStream>>>,
    Arc<Mutex<Vec<Duration>>>,
);

fn ingest_bench() {
    if !selected("ws_ingest_1000") {
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (ffc_addr, bare_addr) =
        runtime.block_on(async { (ffc_server().await, bare_server().await) });
    let mut sides = [ffc_addr, bare_addr].map(|addr| {
        (
            Some(runtime.block_on(connect_all(addr))),
            Arc::new(Mutex::new(Vec::new())),
        )
    });
    let [ffc_side, bare_side] = &mut sides;
    // One iteration = one round (every connection sends its events); the closure times it.
    let mut run = |side: &mut Side, iters: u64| {
        let mut total = Duration::ZERO;
        for _ in 0..iters {
            let (took, back) = runtime.block_on(round(side.0.take().unwrap(), side.1.clone()));
            side.0 = Some(back);
            total += took;
        }
        total.as_nanos() as f64 / iters as f64
    };
    let run = std::cell::RefCell::new(&mut run);
    compare_timed(
        "ws_ingest_1000",
        "ffc_receiver",
        |iters| (run.borrow_mut())(ffc_side, iters),
        "bare_tungstenite",
        |iters| (run.borrow_mut())(bare_side, iters),
    );
    for (which, side) in [("ffc_receiver", ffc_side), ("bare_tungstenite", bare_side)] {
        let mut all = side.1.lock().unwrap().clone();
        all.sort_unstable();
        eprintln!(
            "ws_ingest_1000/{which}: {} acks, p50 {:?}, p99 {:?}",
            all.len(),
            percentile(&all, 0.50),
            percentile(&all, 0.99)
        );
        drop(side.0.take());
    }
}

fn vm_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// Child mode: serve, print the address, then answer each `rss` line with VmRSS in KiB.
fn memory_child(which: &str) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let addr = runtime.block_on(async {
        if which == "ffc_receiver" {
            ffc_server().await
        } else {
            bare_server().await
        }
    });
    println!("{addr}");
    let stdin = std::io::stdin();
    for line in stdin.lock().lines() {
        if line.unwrap() == "rss" {
            println!("{}", vm_rss_kib());
        }
    }
}

fn memory_per_idle_connection() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    for which in ["ffc_receiver", "bare_tungstenite"] {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .env("FFC_WS_MEM_CHILD", which)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let addr: SocketAddr = lines.next().unwrap().unwrap().parse().unwrap();
        let mut rss = || {
            writeln!(stdin, "rss").unwrap();
            lines.next().unwrap().unwrap().parse::<u64>().unwrap()
        };
        let before = rss();
        let connections = runtime.block_on(async {
            let mut all = connect_all(addr).await;
            // A ping answered on every connection: the server holds each one, idle.
            for ws in &mut all {
                ws.send(Message::Ping(Vec::new().into())).await.unwrap();
                while !matches!(ws.next().await, Some(Ok(Message::Pong(_)))) {}
            }
            all
        });
        let after = rss();
        eprintln!(
            "ws_memory/{which}: {} idle connections, VmRSS {} KiB -> {} KiB, {:.1} KiB per connection",
            connections.len(),
            before,
            after,
            (after.saturating_sub(before)) as f64 / connections.len() as f64
        );
        drop(connections);
        drop(stdin);
        let _ = child.kill();
        let _ = child.wait();
    }
}

fn main() {
    if let Ok(which) = std::env::var("FFC_WS_MEM_CHILD") {
        memory_child(&which);
        return;
    }
    decode_bench();
    if !quick() {
        memory_per_idle_connection();
        ingest_bench();
    }
}
