//! The NATS paths against the real 3-node cluster of `scripts/services.d/50-nats.sh`
//! (JetStream, MQTT listeners, authentication on), killing real nodes with `kill -9`.
//! Each test has its own stream and subjects; the tests take one lock, since a node killed
//! by one would disturb another's setup. Skipped when FFC_NATS_URLS is not set.
use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ffc_core::{CameraSerial, CountEvent, Metric, PeopleId, PeopleType, RoiId, Source, UtcOffset};
use ffc_protocols::mqtt::codec::{encode, Message};
use ffc_protocols::nats::async_nats::jetstream::Context;
use ffc_protocols::nats::{
    init_stream, require_stream, Bridge, BridgeConfig, JetStreamConfig, JetStreamSink, NatsConfig,
    NatsCredentials, NatsError, PullWorker, PullWorkerConfig,
};
use ffc_protocols::sink::{MemoryDeadLetters, MemorySink};
use ffc_protocols::ws::sender::{Sender, SenderConfig};
use ffc_protocols::ws::{Receiver, ReceiverConfig};

static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

struct Cluster {
    urls: Vec<String>,
    user: String,
    password: String,
    dir: String,
    start: String,
}

fn cluster() -> Option<Cluster> {
    let var = |name: &str| std::env::var(name).ok();
    let Some(urls) = var("FFC_NATS_URLS") else {
        eprintln!("FFC_NATS_URLS not set (source scripts/services.sh): skipped");
        return None;
    };
    Some(Cluster {
        urls: urls.split(',').map(str::to_owned).collect(),
        user: var("FFC_NATS_USER")?,
        password: var("FFC_NATS_PASSWORD")?,
        dir: var("FFC_NATS_DIR")?,
        start: var("FFC_NATS_START")?,
    })
}

impl Cluster {
    fn config(&self, urls: &str) -> NatsConfig {
        NatsConfig::new(urls).with_credentials(NatsCredentials::UserPassword {
            user: self.user.clone(),
            password: self.password.clone().into(),
        })
    }

    async fn js(&self) -> Context {
        self.config(&self.urls.join(",")).jetstream().await.unwrap()
    }

    /// A fresh R3 stream and its prefix.
    async fn stream(&self, js: &Context, tag: &str) -> JetStreamConfig {
        static N: AtomicU64 = AtomicU64::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let id = format!("{tag}{}x{n}", std::process::id());
        let config = JetStreamConfig::default()
            .with_name(id.to_uppercase())
            .with_prefix(id);
        init_stream(js, &config).await.unwrap();
        // A node the previous test killed may still be catching up: start from a whole cluster.
        healed(js, &config.name).await;
        config
    }

    /// The node (1..=3) leading `stream`, waiting while it elects one.
    async fn leader(&self, js: &Context, stream: &str) -> usize {
        for _ in 0..300 {
            if let Ok(info) = js.get_stream(stream).await.map(|s| s.cached_info().clone()) {
                let leader = info.cluster.and_then(|c| c.leader).unwrap_or_default();
                if let Some(n) = leader.strip_prefix('n').and_then(|n| n.parse().ok()) {
                    return n;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("stream {stream} has no leader");
    }

    fn kill(&self, node: usize) -> Restart<'_> {
        let pid = std::fs::read_to_string(format!("{}/n{node}.pid", self.dir)).unwrap();
        let status = std::process::Command::new("kill")
            .args(["-9", pid.trim()])
            .status()
            .unwrap();
        assert!(status.success(), "kill -9 node {node}");
        eprintln!("killed node n{node} (pid {})", pid.trim());
        Restart {
            cluster: self,
            node,
        }
    }
}

/// Starts a killed node again when dropped (also when the test fails).
struct Restart<'a> {
    cluster: &'a Cluster,
    node: usize,
}

impl Drop for Restart<'_> {
    fn drop(&mut self) {
        let out = std::process::Command::new(&self.cluster.start)
            .arg(self.node.to_string())
            .output()
            .unwrap();
        assert!(out.status.success(), "restarting node n{}", self.node);
    }
}

fn event(serial: u64, people_id: u64, source: Source) -> CountEvent {
    CountEvent {
        serial: CameraSerial::from_u64(serial),
        roi: RoiId(1),
        metric: Metric::In,
        people_type: PeopleType::Visitor,
        people_id: PeopleId(people_id),
        start: 1_700_000_000 + people_id as i64,
        end: 1_700_000_001 + people_id as i64,
        offset: UtcOffset::UTC,
        uuid: None,
        source,
    }
}

async fn stream_messages(js: &Context, stream: &str) -> u64 {
    let mut stream = js.get_stream(stream).await.unwrap();
    stream.info().await.unwrap().state.messages
}

/// The stream's message count once it settled on `expect` (up to 20 s): a node just
/// restarted after a kill may answer stream info from its state before it caught up.
async fn settled_messages(js: &Context, stream: &str, expect: u64) -> u64 {
    let mut last = 0;
    for _ in 0..200 {
        last = stream_messages(js, stream).await;
        if last == expect {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    last
}

/// Waits (up to 60 s) until `stream` has a leader and both other replicas are current, with
/// no lag. A node restarted after `kill -9` comes back with the stream as it last wrote it
/// and catches up from the leader; a consumer placed on it before then was seen (NATS 2.9)
/// to deliver nothing for two minutes, and a test started then kills into a cluster of two.
async fn healed(js: &Context, stream: &str) {
    let mut last = None;
    for _ in 0..600 {
        let info = match js.get_stream(stream).await {
            Ok(mut s) => s.info().await.ok().cloned(),
            Err(_) => None,
        };
        if let Some(info) = info {
            let cluster = info.cluster;
            let whole = cluster.as_ref().is_some_and(|c| {
                c.leader.is_some()
                    && c.replicas.len() == 2
                    && c.replicas
                        .iter()
                        .all(|r| r.current && !r.offline && r.lag.unwrap_or(0) == 0)
            });
            if whole {
                return;
            }
            last = cluster;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("stream {stream} not whole again within 60 s: {last:?}");
}

/// Drains the stream with a worker into memory; returns the events kept and the stats.
async fn drain(js: &Context, stream: &str, expect: u64) -> (Vec<CountEvent>, u64, u64) {
    let sink = Arc::new(MemorySink::new());
    let config = PullWorkerConfig::default()
        .with_stream(stream)
        .with_durable("drain")
        .with_max_events(Some(expect));
    let worker = PullWorker::new(
        js.clone(),
        config,
        sink.clone(),
        Arc::new(MemoryDeadLetters::new()),
    );
    let progress = worker.stats_reader();
    let Ok(stats) =
        tokio::time::timeout(Duration::from_secs(120), worker.run(std::future::pending())).await
    else {
        // The stream's count if the cluster answers (a sick one is what this reports).
        let messages = match js.get_stream(stream).await {
            Ok(mut s) => s
                .info()
                .await
                .map_or_else(|e| e.to_string(), |i| i.state.messages.to_string()),
            Err(e) => e.to_string(),
        };
        panic!(
            "worker did not drain {expect} events from {stream} (messages: {messages}) in 120 s: {:?}",
            progress()
        );
    };
    let stats = stats.unwrap();
    (sink.events(), stats.kept, stats.duplicates)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_is_idempotent_missing_stream_is_named_and_a_wrong_password_is_refused() {
    let Some(c) = cluster() else { return };
    let _lock = LOCK.lock().await;
    let js = c.js().await;
    let config = c.stream(&js, "init").await;
    let again = init_stream(&js, &config).await.unwrap();
    assert_eq!(again.subjects, vec![format!("{}.>", config.prefix)]);
    assert_eq!(again.replicas, 3);

    let missing = require_stream(&js, "NO_SUCH_STREAM", Duration::from_secs(5)).await;
    let e = missing.unwrap_err();
    assert!(matches!(e, NatsError::StreamMissing { .. }), "{e:?}");
    assert!(e.to_string().contains("ffc nats init"), "{e}");

    let wrong =
        NatsConfig::new(&c.urls.join(",")).with_credentials(NatsCredentials::UserPassword {
            user: c.user.clone(),
            password: "not-the-password".into(),
        });
    let e = wrong.connect().await.unwrap_err();
    assert!(matches!(e, NatsError::Unauthorized { .. }), "{e:?}");
    assert!(!e.to_string().contains("not-the-password"), "{e}");
    assert!(!format!("{wrong:?}").contains("not-the-password"));
    let none = NatsConfig::new(&c.urls.join(","))
        .connect()
        .await
        .unwrap_err();
    assert!(
        matches!(none, NatsError::Unauthorized { method: "no", .. }),
        "{none:?}"
    );
    js.delete_stream(&config.name).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ws_receiver_through_a_stream_leader_kill_keeps_every_event_exactly_once() {
    let Some(c) = cluster() else { return };
    let _lock = LOCK.lock().await;
    let js = c.js().await;
    let stream = c.stream(&js, "ws").await;
    let sink = Arc::new(JetStreamSink::new(js.clone(), stream.prefix.clone()));
    let receiver = Receiver::bind(
        ReceiverConfig::new("127.0.0.1:0".parse().unwrap()),
        sink,
        Arc::new(MemoryDeadLetters::new()),
    )
    .await
    .unwrap()
    .spawn();
    let url = format!("ws://{}/", receiver.local_addr());
    const COUNTERS: u64 = 3;
    const EACH: u64 = 100;
    let mut senders = Vec::new();
    for counter in 0..COUNTERS {
        let url = url.clone();
        senders.push(tokio::spawn(async move {
            let mut sender: Sender = Sender::new(SenderConfig::new(url));
            for i in 0..EACH {
                sender
                    .push(event(0x1000 + counter, i, Source::WebSocket))
                    .unwrap();
            }
            sender.deliver_all(Duration::from_secs(120)).await
        }));
    }
    while receiver.stats().accepted < 60 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let leader = c.leader(&js, &stream.name).await;
    let restart = c.kill(leader);
    for sender in senders {
        assert_eq!(
            sender.await.unwrap().unwrap(),
            EACH,
            "every event answered OK"
        );
    }
    drop(restart);
    healed(&js, &stream.name).await;
    let stats = receiver.stats();
    receiver.shutdown().await.unwrap();
    eprintln!("receiver: {stats:?}");
    let total = COUNTERS * EACH;
    let (events, kept, duplicates) = drain(&js, &stream.name, total).await;
    assert_eq!(
        settled_messages(&js, &stream.name, total).await,
        total,
        "each event once in the stream"
    );
    let keys: HashSet<_> = events.iter().map(CountEvent::key).collect();
    assert_eq!((keys.len() as u64, kept, duplicates), (total, total, 0));
    js.delete_stream(&stream.name).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bridge_through_a_stream_leader_kill_loses_nothing_that_reached_a_live_node() {
    let Some(c) = cluster() else { return };
    let _lock = LOCK.lock().await;
    let js = c.js().await;
    let stream = c.stream(&js, "br").await;
    let leader = c.leader(&js, &stream.name).await;
    // Publisher and bridge on a node that stays up.
    let live = c.urls[if leader == 1 { 1 } else { 0 }].clone();
    let client = c.config(&live).connect().await.unwrap();
    let subject = format!("{}in", stream.prefix);
    let bridge = Bridge::new(
        client.clone(),
        BridgeConfig::default()
            .with_subject(format!("{subject}.*"))
            .with_queue(format!("{subject}-q"))
            .with_prefix(stream.prefix.clone()),
        Arc::new(MemoryDeadLetters::new()),
    );
    let stats = bridge.stats_reader();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(bridge.run_announced(
        async {
            let _ = stop_rx.await;
        },
        move || {
            let _ = ready_tx.send(());
        },
    ));
    ready_rx.await.unwrap();
    const N: u64 = 300;
    let mut restart = None;
    for i in 0..N {
        let mut text = String::new();
        encode(&Message::Count(event(0x2000, i, Source::Mqtt)), &mut text).unwrap();
        client
            .publish(format!("{subject}.2000"), text.into_bytes().into())
            .await
            .unwrap();
        if i == 60 {
            client.flush().await.unwrap();
            restart = Some(c.kill(leader));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    client.flush().await.unwrap();
    // Every event answered by the stream: as new, or as a duplicate when a publish the dying
    // leader stored lost its acknowledgement and the bridge sent it again (the message id
    // makes that resend no second copy).
    let answered = || {
        let s = stats();
        s.events + s.duplicates
    };
    for _ in 0..1200 {
        if answered() >= N {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(restart);
    healed(&js, &stream.name).await;
    let _ = stop_tx.send(());
    let final_stats = task.await.unwrap().unwrap();
    eprintln!("bridge: {final_stats:?}");
    assert_eq!(
        (
            final_stats.received,
            final_stats.events + final_stats.duplicates,
            final_stats.lost
        ),
        (N, N, 0)
    );
    // Nothing lost and nothing doubled: the stream holds each event once.
    assert_eq!(settled_messages(&js, &stream.name, N).await, N);
    let (events, kept, duplicates) = drain(&js, &stream.name, N).await;
    let keys: HashSet<_> = events.iter().map(CountEvent::key).collect();
    assert_eq!((keys.len() as u64, kept, duplicates), (N, N, 0));
    js.delete_stream(&stream.name).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_messages_go_to_the_dead_letters_with_subject_and_reason_and_the_stream_moves_on() {
    let Some(c) = cluster() else { return };
    let _lock = LOCK.lock().await;
    let js = c.js().await;
    let stream = c.stream(&js, "dl").await;
    let bad_subject = format!("{}.ws.0000000000000bad", stream.prefix);
    js.publish(bad_subject.clone(), "not an event".into())
        .await
        .unwrap()
        .await
        .unwrap();
    let good = event(0x3000, 1, Source::WebSocket);
    let payload = serde_json::to_vec(&good).unwrap();
    js.publish(format!("{}.ws.3000", stream.prefix), payload.into())
        .await
        .unwrap()
        .await
        .unwrap();
    let sink = Arc::new(MemorySink::new());
    let dead = Arc::new(MemoryDeadLetters::new());
    let config = PullWorkerConfig::default()
        .with_stream(stream.name.clone())
        .with_max_events(Some(1));
    let worker = PullWorker::new(js.clone(), config, sink.clone(), dead.clone());
    let stats = worker.run(std::future::pending()).await.unwrap();
    assert_eq!(sink.events(), vec![good]);
    let letters = dead.letters();
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].origin, format!("nats {bad_subject}"));
    assert!(
        letters[0].reason.contains("not an ffc event"),
        "{}",
        letters[0].reason
    );
    assert_eq!(letters[0].raw, b"not an event");
    assert_eq!((stats.dead_lettered, stats.acked, stats.lag), (1, 2, 0));

    // The bridge: a payload that is no MQTT message goes to its dead letters.
    let client = c.config(&c.urls.join(",")).connect().await.unwrap();
    let subject = format!("{}in", stream.prefix);
    let dead = Arc::new(MemoryDeadLetters::new());
    let bridge = Bridge::new(
        client.clone(),
        BridgeConfig::default()
            .with_subject(format!("{subject}.*"))
            .with_prefix(stream.prefix.clone()),
        dead.clone(),
    );
    let stats = bridge.stats_reader();
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(bridge.run_announced(std::future::pending(), move || {
        let _ = ready_tx.send(());
    }));
    ready_rx.await.unwrap();
    client
        .publish(format!("{subject}.42"), "{\"RoiId\": 1}".into())
        .await
        .unwrap();
    client.flush().await.unwrap();
    while stats().dead_lettered < 1 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    task.abort();
    let letters = dead.letters();
    assert_eq!(letters[0].origin, format!("nats {subject}.42"));
    assert!(
        letters[0].reason.contains("neither"),
        "{}",
        letters[0].reason
    );
    js.delete_stream(&stream.name).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mqtt_counters_on_status_topic_reach_the_stream_through_the_mapping_and_bridge() {
    use ffc_protocols::mqtt::publisher::{Publisher, PublisherConfig};
    use ffc_protocols::mqtt::{Credentials, Qos};
    let Some(c) = cluster() else { return };
    let _lock = LOCK.lock().await;
    let ports = std::env::var("FFC_NATS_MQTT_PORTS").unwrap();
    let port = ports.split(',').nth(1).unwrap();
    let js = c.js().await;
    let stream = c.stream(&js, "mq").await;
    // The bridge on the node whose MQTT listener the counter uses: its subscription is in
    // place there once `flush` returned (interest reaches other nodes a moment later).
    let client = c.config(&c.urls[1]).connect().await.unwrap();
    let bridge = Bridge::new(
        client,
        BridgeConfig::default()
            .with_queue(format!("{}-q", stream.prefix))
            .with_prefix(stream.prefix.clone()),
        Arc::new(MemoryDeadLetters::new()),
    );
    let stats = bridge.stats_reader();
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(bridge.run_announced(std::future::pending(), move || {
        let _ = ready_tx.send(());
    }));
    ready_rx.await.unwrap();
    let serial = CameraSerial::from_u64(0x4000_0000 + u64::from(std::process::id()));
    let publisher = Publisher::connect(
        PublisherConfig::new(&format!("mqtt://127.0.0.1:{port}"), serial)
            .unwrap()
            .with_qos(Qos::AtMostOnce)
            .with_credentials(Some(Credentials::new(&c.user, c.password.clone()))),
    )
    .await
    .unwrap();
    const N: u64 = 20;
    for i in 0..N {
        let mut e = event(0, i, Source::Mqtt);
        e.serial = serial;
        publisher.publish(&Message::Count(e)).await.unwrap();
    }
    publisher.flush().await.unwrap();
    for _ in 0..300 {
        if stats().events >= N {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    publisher.close().await;
    task.abort();
    assert_eq!(stats().events, N, "{:?}", stats());
    let (events, kept, _) = drain(&js, &stream.name, N).await;
    assert_eq!(kept, N);
    assert!(events
        .iter()
        .all(|e| e.serial == serial && e.source == Source::Mqtt));
    js.delete_stream(&stream.name).await.unwrap();
}
