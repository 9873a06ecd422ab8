//! MQTT push (issue 6), each figure against its baseline in the same run:
//!
//! - `mqtt_decode/*`: the payload codec against `serde_json::Value` on the same bytes
//!   (counting events and occupancy samples; plain JSON as devices send it, and the
//!   published sample with `#` comments, which only the codec accepts).
//! - `mqtt_drain/*`: draining a backlog of QoS 1 messages that mosquitto queued for a
//!   persistent session: the ffc subscriber (decode, then a counting `EventSink`) against
//!   `mosquitto_sub` writing to /dev/null, on the same broker and the same backlog. The
//!   backlog is published before each timed drain, so the subscriber, not the publisher,
//!   sets the pace. Needs `source scripts/services.sh` (FFC_MOSQUITTO_PORT); skipped
//!   without it.

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ffc_benches::{compare, compare_timed, quick, selected};
use ffc_core::{
    CameraSerial, CountEvent, Metric, OccupancySample, PeopleId, PeopleType, RoiId, Source,
    UtcOffset,
};
use ffc_protocols::mqtt::codec::{decode, encode, Message};
use ffc_protocols::mqtt::publisher::{Publisher, PublisherConfig};
use ffc_protocols::mqtt::subscriber::{Subscriber, SubscriberConfig};
use ffc_protocols::mqtt::Qos;
use ffc_protocols::sink::{Accepted, EventSink, MemoryDeadLetters, SinkError};
use tokio::sync::Notify;

/// Messages in each drained backlog.
const BACKLOG: u64 = 10_000;

fn event(n: u64) -> CountEvent {
    CountEvent {
        serial: CameraSerial::from_u64(0x7b77_a260 + (n % 64)),
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
        source: Source::Mqtt,
    }
}

fn sample(n: u64) -> OccupancySample {
    OccupancySample {
        serial: CameraSerial::from_u64(0x8c76_409d + (n % 64)),
        roi: RoiId(1),
        object_type: 1,
        object_count: (n % 2) as u32,
        timestamp: 1_750_000_000 + n as i64,
        offset: UtcOffset::from_seconds(8 * 3600).unwrap(),
        occupancy_type: 1,
        unit: 1,
    }
}

const COMMENTED_SAMPLE: &str = r#"{
    "RoiId": 1,
    "CombineObjectTypeId": 1,
    "ObjectCount": 0, # 1 for Occupied and 0 for None
    "Timestamp": 1672889540, #UTCtime
    "LocalTime": "2023-01-05 11:32:20",
    "UTCTime": "2023-01-05 03:32:20",
    "OccupancyTypeId": 1,
    "ObjectCountUnit": 1,
    "CameraSerial": "100000008c76409d"
}"#;

fn decode_bench() {
    let counting: Vec<Vec<u8>> = (0..1_000)
        .map(|n| {
            let mut s = String::new();
            encode(&Message::Count(event(n)), &mut s).unwrap();
            s.into_bytes()
        })
        .collect();
    let occupancy: Vec<Vec<u8>> = (0..1_000)
        .map(|n| {
            let mut s = String::new();
            encode(&Message::Occupancy(sample(n)), &mut s).unwrap();
            s.into_bytes()
        })
        .collect();
    for (name, set) in [("counting", &counting), ("occupancy", &occupancy)] {
        compare(
            &format!("mqtt_decode_{name}"),
            "ffc_codec",
            || {
                for p in set.iter() {
                    std::hint::black_box(decode(std::hint::black_box(p)).unwrap());
                }
            },
            "serde_json_value",
            || {
                for p in set.iter() {
                    std::hint::black_box(
                        serde_json::from_slice::<serde_json::Value>(std::hint::black_box(p))
                            .unwrap(),
                    );
                }
            },
        );
    }
    // The commented sample decodes (a check, not a comparison).
    decode(std::hint::black_box(COMMENTED_SAMPLE.as_bytes())).unwrap();
}

/// Counts events and wakes the bench when the backlog is in.
struct CountingSink {
    seen: AtomicU64,
    target: AtomicU64,
    done: Notify,
}

#[async_trait::async_trait]
impl EventSink for CountingSink {
    async fn accept(&self, event: &CountEvent) -> Result<Accepted, SinkError> {
        std::hint::black_box(event);
        let n = self.seen.fetch_add(1, Ordering::Relaxed) + 1;
        if n == self.target.load(Ordering::Relaxed) {
            self.done.notify_one();
        }
        Ok(Accepted::Stored)
    }
}

fn payloads() -> Vec<Vec<u8>> {
    (0..BACKLOG)
        .map(|n| {
            let mut s = String::new();
            encode(&Message::Count(event(n)), &mut s).unwrap();
            s.into_bytes()
        })
        .collect()
}

async fn publish_backlog(publisher: &Publisher, payloads: &[Vec<u8>]) {
    for p in payloads {
        publisher.publish_payload(p.clone()).await.unwrap();
    }
    publisher.flush().await.unwrap();
}

fn mosquitto_sub(port: u16, topic: &str, count: Option<u64>) -> Command {
    let mut cmd = Command::new("mosquitto_sub");
    cmd.args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(["-i", "bench-mosquitto-sub", "-c", "-q", "1", "-t", topic])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    match count {
        Some(n) => cmd.args(["-C", &n.to_string()]),
        // Registers the persistent session and leaves at once.
        None => cmd.args(["-E"]),
    };
    cmd
}

fn drain_bench() {
    if !selected("mqtt_drain") {
        return;
    }
    let Ok(port) = std::env::var("FFC_MOSQUITTO_PORT") else {
        eprintln!("mqtt_drain skipped: FFC_MOSQUITTO_PORT not set (source scripts/services.sh)");
        return;
    };
    let port: u16 = port.parse().unwrap();
    let url = format!("mqtt://127.0.0.1:{port}");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let payloads = payloads();
    // One publisher and topic per contender, so neither persistent session collects the
    // other's backlog.
    let publisher_to = |serial: u64, topic: &str| {
        let mut pc = PublisherConfig::new(&url, CameraSerial::from_u64(serial)).unwrap();
        pc.qos = Qos::AtLeastOnce;
        pc.topic = Some(topic.into());
        pc.inflight = 1000;
        pc.channel_capacity = 4096;
        rt.block_on(Publisher::connect(pc)).unwrap()
    };
    let ffc_publisher = publisher_to(0xbe9c, "/bench/ffc/c");
    let mosq_publisher = publisher_to(0xbe9d, "/bench/mosq/c");

    // The ffc subscriber: connect with the persistent session, time until the last event
    // of the backlog is in the sink.
    let mut sc = SubscriberConfig::new(&url, "bench-ffc-sub").unwrap();
    sc.filters = vec!["/bench/ffc/+".into()];
    sc.qos = Qos::AtLeastOnce;
    sc.clean_session = false;
    sc.inflight = 1000;
    sc.channel_capacity = 4096;
    // Register the session once, then leave it.
    rt.block_on(async {
        let sub = Subscriber::new(sc.clone()).unwrap();
        let mut status = sub.status();
        let stopper = sub.stopper();
        let sink = CountingSink {
            seen: AtomicU64::new(0),
            target: AtomicU64::new(u64::MAX),
            done: Notify::new(),
        };
        let dead = MemoryDeadLetters::new();
        let run = sub.run_into(&sink, &dead, None);
        let wait = async {
            status.wait_for(|s| s.subacks >= 1).await.unwrap();
            stopper.stop();
        };
        let (r, ()) = tokio::join!(run, wait);
        r.unwrap();
    });
    let ffc_side = |iters: u64| {
        rt.block_on(async {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                publish_backlog(&ffc_publisher, &payloads).await;
                let sink = Arc::new(CountingSink {
                    seen: AtomicU64::new(0),
                    target: AtomicU64::new(BACKLOG),
                    done: Notify::new(),
                });
                let start = Instant::now();
                let sub = Subscriber::new(sc.clone()).unwrap();
                let stopper = sub.stopper();
                let run_sink = sink.clone();
                let task = tokio::spawn(async move {
                    let dead = MemoryDeadLetters::new();
                    sub.run_into(&*run_sink, &dead, None).await
                });
                sink.done.notified().await;
                total += start.elapsed();
                stopper.stop();
                task.await.unwrap().unwrap();
                assert_eq!(sink.seen.load(Ordering::Relaxed), BACKLOG);
            }
            total.as_nanos() as f64 / iters as f64
        })
    };

    // mosquitto_sub: the same backlog, the same broker; time from spawn to its exit after
    // the last message (-C), output to /dev/null.
    let topic = "/bench/mosq/+";
    assert!(mosquitto_sub(port, topic, None).status().unwrap().success());
    let mosquitto_side = |iters: u64| {
        let mut total = Duration::ZERO;
        for _ in 0..iters {
            rt.block_on(publish_backlog(&mosq_publisher, &payloads));
            let start = Instant::now();
            let status = mosquitto_sub(port, topic, Some(BACKLOG)).status().unwrap();
            total += start.elapsed();
            assert!(status.success());
        }
        total.as_nanos() as f64 / iters as f64
    };
    compare_timed(
        "mqtt_drain",
        "ffc_subscriber",
        ffc_side,
        "mosquitto_sub",
        mosquitto_side,
    );
    rt.block_on(ffc_publisher.close());
    rt.block_on(mosq_publisher.close());
}

fn main() {
    decode_bench();
    if !quick() {
        drain_bench();
    }
}
