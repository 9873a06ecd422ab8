//! The MQTT subscriber and publisher against a real mosquitto on loopback, started by
//! scripts/services.d/10-mosquitto.sh (`source scripts/services.sh` first). Without it
//! these tests print why and return, except under CI, where they fail.
//!
//! Timeouts here only stop a hung test; no assertion depends on how fast anything is.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use ffc_core::backoff::RetryPolicy;
use ffc_core::{
    CameraSerial, CountEvent, Metric, OccupancySample, PeopleId, PeopleType, RoiId, Source,
    UtcOffset,
};
use ffc_protocols::mqtt::codec::Message;
use ffc_protocols::mqtt::publisher::{PublishError, Publisher, PublisherConfig};
use ffc_protocols::mqtt::subscriber::{
    Received, Stats, SubscribeError, Subscriber, SubscriberConfig,
};
use ffc_protocols::mqtt::{Credentials, Protocol, Qos};
use ffc_protocols::sink::{DeadLetter, EventSink, MemoryDeadLetters, MemorySink};
use tokio::sync::mpsc;
use tokio::time::timeout;

const GUARD: Duration = Duration::from_secs(60);

struct Broker {
    port: u16,
    auth_port: u16,
    user: String,
    password: String,
    start: PathBuf,
}

fn broker() -> Option<Broker> {
    let vars = (
        std::env::var("FFC_MOSQUITTO_PORT"),
        std::env::var("FFC_MOSQUITTO_AUTH_PORT"),
        std::env::var("FFC_MOSQUITTO_USER"),
        std::env::var("FFC_MOSQUITTO_PASSWORD"),
        std::env::var("FFC_MOSQUITTO_START"),
    );
    match vars {
        (Ok(p), Ok(a), Ok(u), Ok(pw), Ok(s)) => Some(Broker {
            port: p.parse().unwrap(),
            auth_port: a.parse().unwrap(),
            user: u,
            password: pw,
            start: PathBuf::from(s),
        }),
        _ => {
            if std::env::var_os("CI").is_some() {
                panic!("FFC_MOSQUITTO_* not set under CI: scripts/services.d/10-mosquitto.sh did not run");
            }
            eprintln!("skipped: FFC_MOSQUITTO_* not set (source scripts/services.sh)");
            None
        }
    }
}

fn url(port: u16) -> String {
    format!("mqtt://127.0.0.1:{port}")
}

fn serial(n: u64) -> CameraSerial {
    CameraSerial::from_u64(0x1000_0000_0000_0000 | n)
}

fn event(serial: CameraSerial, people_id: u64) -> CountEvent {
    CountEvent {
        serial,
        roi: RoiId(1),
        metric: if people_id.is_multiple_of(2) {
            Metric::In
        } else {
            Metric::Out
        },
        people_type: PeopleType::Visitor,
        people_id: PeopleId(people_id),
        start: 1_700_000_000 + people_id as i64,
        end: 1_700_000_001 + people_id as i64,
        offset: UtcOffset::from_seconds(3600).unwrap(),
        uuid: None,
        source: Source::Mqtt,
    }
}

fn occupancy(serial: CameraSerial, count: u32) -> OccupancySample {
    OccupancySample {
        serial,
        roi: RoiId(2),
        object_type: 1,
        object_count: count,
        timestamp: 1_700_000_000,
        offset: UtcOffset::from_seconds(8 * 3600).unwrap(),
        occupancy_type: 1,
        unit: 1,
    }
}

/// Starts the subscriber as a stream and waits until its subscription is in place.
async fn subscribed_stream(
    config: SubscriberConfig,
) -> (
    mpsc::Receiver<Received>,
    tokio::task::JoinHandle<Result<Stats, SubscribeError>>,
    tokio::sync::watch::Receiver<ffc_protocols::mqtt::subscriber::Status>,
    ffc_protocols::mqtt::subscriber::Stopper,
) {
    let sub = Subscriber::new(config).unwrap();
    let mut status = sub.status();
    let stopper = sub.stopper();
    let (rx, task) = sub.into_stream();
    timeout(GUARD, status.wait_for(|s| s.subacks >= 1))
        .await
        .expect("subscribed in time")
        .unwrap();
    (rx, task, status, stopper)
}

fn people_id(item: &Received) -> Option<u64> {
    match item {
        Received::Count { event, .. } => Some(event.people_id.0),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------

const OCCUPANCY_SAMPLE: &str = r#"{
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

const COUNTING_SAMPLE: &str = r#"{"CombineObjectTypeId": 11, "EventEndLocalTime": "2022-11-25 04:47:49", "EventEndTime": 1669351669, "EventEndUTCTime": "2022-11-25 04:47:49", "EventStartLocalTime": "2022-11-25 04:47:49", "EventStartTime": 1669351669, "EventStartUTCTime": "2022-11-25 04:47:49", "MetricId": 2, "PeopleId": 1, "PeopleTypeId": 1, "RoiId": 1, "CameraSerial": "000000007b77a260"}"#;

/// mosquitto_pub is an independent client: what it publishes must decode, and what does
/// not decode must reach the dead letters with topic and bytes. Both protocol versions.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mosquitto_pub_payloads_decode() {
    let Some(b) = broker() else { return };
    for (protocol, version) in [(Protocol::V311, "mqttv311"), (Protocol::V5, "mqttv5")] {
        let prefix = format!("/t/mosquitto-pub-{version}");
        let mut config = SubscriberConfig::new(&url(b.port), format!("sub-{version}")).unwrap();
        config.filters = vec![format!("{prefix}/+")];
        config.protocol = protocol;
        config.qos = Qos::AtLeastOnce;
        let (mut rx, task, _, stopper) = subscribed_stream(config).await;

        let garbage: &[u8] = b"{\"MetricId\": 1, \xff}";
        let payloads: [(&str, &[u8]); 3] = [
            ("100000008c76409d", OCCUPANCY_SAMPLE.as_bytes()),
            ("000000007b77a260", COUNTING_SAMPLE.as_bytes()),
            ("0000000000000bad", garbage),
        ];
        for (chip, payload) in payloads {
            let file = tempfile::NamedTempFile::new().unwrap();
            std::fs::write(file.path(), payload).unwrap();
            let status = Command::new("mosquitto_pub")
                .args(["-h", "127.0.0.1", "-p", &b.port.to_string(), "-q", "1"])
                .args(["-V", version, "-t", &format!("{prefix}/{chip}")])
                .arg("-f")
                .arg(file.path())
                .status()
                .expect("mosquitto_pub runs");
            assert!(status.success());
        }
        let mut got = Vec::new();
        for _ in 0..3 {
            got.push(timeout(GUARD, rx.recv()).await.unwrap().unwrap());
        }
        let Received::Occupancy { topic, sample } = &got[0] else {
            panic!("{got:?}")
        };
        assert_eq!(topic, &format!("{prefix}/100000008c76409d"));
        assert_eq!(sample.serial.to_string(), "100000008c76409d");
        assert_eq!(sample.timestamp, 1_672_889_540);
        assert_eq!(sample.offset.seconds(), 8 * 3600);
        assert_eq!(sample.object_count, 0);
        let Received::Count { event, .. } = &got[1] else {
            panic!("{got:?}")
        };
        assert_eq!(event.serial.to_string(), "000000007b77a260");
        assert_eq!(event.metric, Metric::Out);
        assert_eq!(event.end, 1_669_351_669);
        assert_eq!(event.source, Source::Mqtt);
        let Received::DeadLetter(DeadLetter {
            origin,
            reason,
            raw,
            ..
        }) = &got[2]
        else {
            panic!("{got:?}")
        };
        assert_eq!(origin, &format!("mqtt {prefix}/0000000000000bad"));
        assert_eq!(raw.as_slice(), garbage);
        assert!(reason.contains("not UTF-8 at byte 16"), "{reason}");

        stopper.stop();
        let stats = timeout(GUARD, task).await.unwrap().unwrap().unwrap();
        assert_eq!(
            (stats.events, stats.occupancy, stats.dead_letters),
            (1, 1, 1)
        );
    }
}

/// Our publisher with a counter's defaults (serial as client id, `/status/{serial}`,
/// QoS 0) to our subscriber with its default filter `/status/+`, into an EventSink.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publisher_to_subscriber_with_defaults() {
    let Some(b) = broker() else { return };
    let events = MemorySink::new();
    let dead = MemoryDeadLetters::new();
    let (occ_tx, mut occ_rx) = mpsc::channel(16);
    let sub =
        Subscriber::new(SubscriberConfig::new(&url(b.port), "sub-defaults").unwrap()).unwrap();
    let mut status = sub.status();
    let stopper = sub.stopper();
    let run = async { sub.run_into(&events, &dead, Some(&occ_tx)).await };
    let drive = async {
        timeout(GUARD, status.wait_for(|s| s.subacks >= 1))
            .await
            .unwrap()
            .unwrap();
        let counter = serial(0x5eed);
        let config = PublisherConfig::new(&url(b.port), counter).unwrap();
        assert_eq!(config.effective_client_id(), "1000000000005eed");
        let publisher = Publisher::connect(config).await.unwrap();
        assert_eq!(publisher.topic(), "/status/1000000000005eed");
        for i in 0..200 {
            publisher
                .publish(&Message::Count(event(counter, i)))
                .await
                .unwrap();
        }
        publisher
            .publish(&Message::Occupancy(occupancy(counter, 1)))
            .await
            .unwrap();
        publisher.publish_payload(b"[]".to_vec()).await.unwrap();
        publisher.flush().await.unwrap();
        let sample = timeout(GUARD, occ_rx.recv()).await.unwrap().unwrap();
        assert_eq!(sample, occupancy(counter, 1));
        // The occupancy sample was published after every event, and MQTT keeps the order
        // of one publisher's messages: every event is in the sink by now.
        publisher.close().await;
        stopper.stop();
    };
    let (stats, ()) = tokio::join!(run, drive);
    let stats = stats.unwrap();
    let got = events.events();
    let want: Vec<CountEvent> = (0..200).map(|i| event(serial(0x5eed), i)).collect();
    assert_eq!(got, want);
    assert_eq!(stats.events, 200);
    assert_eq!(stats.occupancy, 1);
    let letters = dead.letters();
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].raw, b"[]");
    assert_eq!(letters[0].origin, "mqtt /status/1000000000005eed");
}

/// The same path over MQTT 5, QoS 1 end to end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publisher_to_subscriber_mqtt5_qos1() {
    let Some(b) = broker() else { return };
    let mut config = SubscriberConfig::new(&url(b.port), "sub-v5").unwrap();
    config.protocol = Protocol::V5;
    config.qos = Qos::AtLeastOnce;
    config.filters = vec!["/t/v5/status/+".into()];
    let (mut rx, task, _, stopper) = subscribed_stream(config).await;
    let counter = serial(0x55);
    let mut pc = PublisherConfig::new(&url(b.port), counter).unwrap();
    pc.protocol = Protocol::V5;
    pc.qos = Qos::AtLeastOnce;
    pc.topic = Some(format!("/t/v5/status/{counter}"));
    let publisher = Publisher::connect(pc).await.unwrap();
    for i in 0..100 {
        publisher
            .publish(&Message::Count(event(counter, i)))
            .await
            .unwrap();
    }
    publisher.flush().await.unwrap();
    let mut ids = Vec::new();
    while ids.len() < 100 {
        let item = timeout(GUARD, rx.recv()).await.unwrap().unwrap();
        ids.push(people_id(&item).expect("a count"));
    }
    assert_eq!(ids, (0..100).collect::<Vec<_>>());
    publisher.close().await;
    stopper.stop();
    task.await.unwrap().unwrap();
}

/// A wrong password is a clear, immediate error naming the broker and the cause, never
/// the password; the right one connects.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_is_a_clear_error() {
    let Some(b) = broker() else { return };
    let wrong = "definitely-not-the-password";
    for protocol in [Protocol::V311, Protocol::V5] {
        let mut config = SubscriberConfig::new(&url(b.auth_port), "sub-wrong").unwrap();
        config.credentials = Some(Credentials::new(b.user.clone(), wrong));
        config.protocol = protocol;
        let sub = Subscriber::new(config).unwrap();
        let err = timeout(
            GUARD,
            sub.run_into(&MemorySink::new(), &MemoryDeadLetters::new(), None),
        )
        .await
        .unwrap()
        .unwrap_err();
        assert!(matches!(err, SubscribeError::Refused { .. }), "{err:?}");
        let text = err.to_string();
        assert!(
            text.contains(&format!("127.0.0.1:{}", b.auth_port))
                && (text.contains("username or password") || text.contains("not authorized")),
            "{text}"
        );
        assert!(!text.contains(wrong) && !format!("{err:?}").contains(wrong));

        let mut pc = PublisherConfig::new(&url(b.auth_port), serial(1)).unwrap();
        pc.credentials = Some(Credentials::new(b.user.clone(), wrong));
        pc.protocol = protocol;
        let err = timeout(GUARD, Publisher::connect(pc))
            .await
            .unwrap()
            .err()
            .expect("refused");
        assert!(matches!(err, PublishError::Refused { .. }), "{err:?}");
        assert!(!format!("{err:?}").contains(wrong));
    }
    // No credentials at all on the authenticated listener: refused as well.
    let sub =
        Subscriber::new(SubscriberConfig::new(&url(b.auth_port), "sub-anon").unwrap()).unwrap();
    let err = timeout(
        GUARD,
        sub.run_into(&MemorySink::new(), &MemoryDeadLetters::new(), None),
    )
    .await
    .unwrap()
    .unwrap_err();
    assert!(matches!(err, SubscribeError::Refused { .. }), "{err:?}");

    // The right password: events flow.
    let mut config = SubscriberConfig::new(&url(b.auth_port), "sub-right").unwrap();
    config.credentials = Some(Credentials::new(b.user.clone(), b.password.clone()));
    config.filters = vec!["/t/auth/+".into()];
    config.qos = Qos::AtLeastOnce;
    assert!(!format!("{config:?}").contains(&b.password));
    let (mut rx, task, _, stopper) = subscribed_stream(config).await;
    let mut pc = PublisherConfig::new(&url(b.auth_port), serial(2)).unwrap();
    pc.credentials = Some(Credentials::new(b.user.clone(), b.password.clone()));
    pc.topic = Some("/t/auth/x".into());
    pc.qos = Qos::AtLeastOnce;
    let publisher = Publisher::connect(pc).await.unwrap();
    publisher
        .publish(&Message::Count(event(serial(2), 7)))
        .await
        .unwrap();
    let item = timeout(GUARD, rx.recv()).await.unwrap().unwrap();
    assert_eq!(people_id(&item), Some(7));
    publisher.close().await;
    stopper.stop();
    task.await.unwrap().unwrap();
}

/// Two workers on one shared subscription split the stream: every event reaches exactly
/// one of them, and both get some.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_subscription_splits_the_stream() {
    let Some(b) = broker() else { return };
    for protocol in [Protocol::V311, Protocol::V5] {
        let group = format!("workers-{protocol:?}");
        let filter = format!("/t/shared-{protocol:?}/+");
        let worker = |id: &str| {
            let mut c = SubscriberConfig::new(&url(b.port), format!("{group}-{id}")).unwrap();
            c.filters = vec![filter.clone()];
            c.share_group = Some(group.clone());
            c.qos = Qos::AtLeastOnce;
            c.protocol = protocol;
            c
        };
        assert_eq!(
            worker("a").subscribed_filters(),
            vec![format!("$share/{group}/{filter}")]
        );
        let (mut rx_a, task_a, _, stop_a) = subscribed_stream(worker("a")).await;
        let (mut rx_b, task_b, _, stop_b) = subscribed_stream(worker("b")).await;

        let n = 400u64;
        let mut pc = PublisherConfig::new(&url(b.port), serial(3)).unwrap();
        pc.topic = Some(filter.replace('+', "c"));
        pc.qos = Qos::AtLeastOnce;
        pc.protocol = protocol;
        let publisher = timeout(GUARD, Publisher::connect(pc))
            .await
            .expect("connects")
            .unwrap();
        for i in 0..n {
            publisher
                .publish(&Message::Count(event(serial(3), i)))
                .await
                .unwrap();
        }
        timeout(GUARD, publisher.flush())
            .await
            .expect("flushed")
            .unwrap();

        let mut seen: BTreeMap<u64, Vec<char>> = BTreeMap::new();
        let (mut a, mut bb) = (0, 0);
        while seen.len() < n as usize {
            let (who, item) = timeout(GUARD, async {
                tokio::select! {
                    Some(i) = rx_a.recv() => ('a', i),
                    Some(i) = rx_b.recv() => ('b', i),
                }
            })
            .await
            .expect("all events arrive");
            if who == 'a' {
                a += 1
            } else {
                bb += 1
            }
            seen.entry(people_id(&item).unwrap()).or_default().push(who);
        }
        publisher.close().await;
        stop_a.stop();
        stop_b.stop();
        let sa = timeout(GUARD, task_a)
            .await
            .expect("a stops")
            .unwrap()
            .unwrap();
        let sb = timeout(GUARD, task_b)
            .await
            .expect("b stops")
            .unwrap()
            .unwrap();
        // Anything still queued in the channels would be a second delivery.
        while let Ok(item) = rx_a.try_recv() {
            seen.entry(people_id(&item).unwrap()).or_default().push('a');
        }
        while let Ok(item) = rx_b.try_recv() {
            seen.entry(people_id(&item).unwrap()).or_default().push('b');
        }
        let twice: Vec<_> = seen.iter().filter(|(_, w)| w.len() > 1).collect();
        assert!(twice.is_empty(), "handled twice: {twice:?}");
        assert_eq!(
            seen.keys().copied().collect::<Vec<_>>(),
            (0..n).collect::<Vec<_>>()
        );
        assert!(a > 0 && bb > 0, "split {a}/{bb}");
        assert_eq!(sa.events + sb.events, n);
        eprintln!("{protocol:?}: shared subscription split {a}/{bb}");
    }
}

// ---------------------------------------------------------------------------------------
// Killing and restarting a broker: each test starts its own, so the shared one is never
// disturbed.

struct OwnBroker {
    dir: tempfile::TempDir,
    port: u16,
    pid: u32,
    start: PathBuf,
}

impl OwnBroker {
    fn start(start: &PathBuf) -> OwnBroker {
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let pid = Self::launch(start, &dir, port);
        OwnBroker {
            dir,
            port,
            pid,
            start: start.clone(),
        }
    }

    fn launch(start: &PathBuf, dir: &tempfile::TempDir, port: u16) -> u32 {
        let out = Command::new(start)
            .arg(dir.path())
            .arg(port.to_string())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    }

    /// SIGTERM (mosquitto writes its persistence file on the way out), then waits until
    /// the process is gone.
    async fn stop(&self) {
        let _ = Command::new("kill").arg(self.pid.to_string()).status();
        let proc = PathBuf::from(format!("/proc/{}", self.pid));
        timeout(GUARD, async {
            while proc.exists() {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await
        .expect("broker exits");
    }

    fn restart(&mut self) {
        self.pid = Self::launch(&self.start, &self.dir, self.port);
    }
}

impl Drop for OwnBroker {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg(self.pid.to_string()).status();
    }
}

/// QoS 1 end to end with persistent sessions on both sides: the broker is stopped in the
/// middle of the stream and started again from its persistence file; the subscriber
/// reconnects, re-subscribes and every event arrives (duplicates allowed, none lost).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broker_restart_mid_stream_qos1_loses_nothing() {
    let Some(b) = broker() else { return };
    let mut own = OwnBroker::start(&b.start);
    let mut config = SubscriberConfig::new(&url(own.port), "restart-sub-q1").unwrap();
    config.filters = vec!["/t/restart/+".into()];
    config.qos = Qos::AtLeastOnce;
    config.clean_session = false;
    config.retry = RetryPolicy::forever(Duration::from_millis(50), Duration::from_millis(400));
    let (mut rx, task, mut status, stopper) = subscribed_stream(config).await;

    let n = 600u64;
    let counter = serial(0x11);
    let mut pc = PublisherConfig::new(&url(own.port), counter).unwrap();
    pc.topic = Some("/t/restart/c".into());
    pc.qos = Qos::AtLeastOnce;
    pc.clean_session = false;
    pc.retry = RetryPolicy::forever(Duration::from_millis(50), Duration::from_millis(400));
    let publisher = Publisher::connect(pc).await.unwrap();
    let (stopped_tx, stopped_rx) = tokio::sync::oneshot::channel::<()>();
    // The first half goes out while the broker runs; the second half is published while
    // it is down (queued by the client, sent after its reconnect).
    let publishing = tokio::spawn(async move {
        for i in 0..n / 2 {
            publisher
                .publish(&Message::Count(event(counter, i)))
                .await
                .unwrap();
        }
        stopped_rx.await.unwrap();
        for i in n / 2..n {
            publisher
                .publish(&Message::Count(event(counter, i)))
                .await
                .unwrap();
        }
        publisher.flush().await.unwrap();
        publisher
    });

    let mut ids = BTreeSet::new();
    let mut deliveries = 0u64;
    while ids.len() < 150 {
        let item = timeout(GUARD, rx.recv()).await.unwrap().unwrap();
        ids.insert(people_id(&item).unwrap());
        deliveries += 1;
    }
    own.stop().await;
    let before_restart = ids.len();
    stopped_tx.send(()).unwrap();
    own.restart();
    while ids.len() < n as usize {
        let item = timeout(GUARD, rx.recv())
            .await
            .expect("no event lost")
            .unwrap();
        ids.insert(people_id(&item).unwrap());
        deliveries += 1;
    }
    let publisher = timeout(GUARD, publishing).await.unwrap().unwrap();
    assert_eq!(ids, (0..n).collect::<BTreeSet<_>>());
    let s = *status.borrow_and_update();
    assert!(s.connacks >= 2 && s.subacks >= 2, "{s:?}");
    publisher.close().await;
    stopper.stop();
    task.await.unwrap().unwrap();
    eprintln!(
        "QoS 1 restart: {before_restart} distinct before the stop, all {n} after; {} redelivered twice",
        deliveries - n
    );
}

/// QoS 0 as counters publish, clean sessions: after the broker restarts (with no memory
/// of the subscription) the subscriber re-subscribes and the stream continues. What was
/// published around the outage may be lost, and is only reported.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broker_restart_mid_stream_qos0_continues() {
    let Some(b) = broker() else { return };
    let mut own = OwnBroker::start(&b.start);
    let mut config = SubscriberConfig::new(&url(own.port), "restart-sub-q0").unwrap();
    config.filters = vec!["/t/restart0/+".into()];
    config.retry = RetryPolicy::forever(Duration::from_millis(50), Duration::from_millis(400));
    let (mut rx, task, mut status, stopper) = subscribed_stream(config).await;
    let counter = serial(0x10);
    let mut pc = PublisherConfig::new(&url(own.port), counter).unwrap();
    pc.topic = Some("/t/restart0/c".into());
    pc.retry = RetryPolicy::forever(Duration::from_millis(50), Duration::from_millis(400));
    let publisher = Publisher::connect(pc).await.unwrap();
    let mut progress = publisher.progress();

    // Before: delivered.
    for i in 0..50 {
        publisher
            .publish(&Message::Count(event(counter, i)))
            .await
            .unwrap();
    }
    publisher.flush().await.unwrap();
    let mut ids = BTreeSet::new();
    while ids.len() < 50 {
        let item = timeout(GUARD, rx.recv()).await.unwrap().unwrap();
        ids.insert(people_id(&item).unwrap());
    }

    // During the outage: published into the void, or queued by the client and sent
    // after its reconnect, which may come before or after the subscriber's.
    own.stop().await;
    for i in 50..100 {
        publisher
            .publish(&Message::Count(event(counter, i)))
            .await
            .unwrap();
    }
    own.restart();
    timeout(GUARD, status.wait_for(|s| s.subacks >= 2))
        .await
        .unwrap()
        .unwrap();
    timeout(GUARD, progress.wait_for(|p| p.connacks >= 2))
        .await
        .unwrap()
        .unwrap();
    publisher.flush().await.unwrap();

    // After both reconnected and the subscriber re-subscribed: delivered again. Without
    // the re-subscription the restarted broker would send nothing.
    for i in 100..150 {
        publisher
            .publish(&Message::Count(event(counter, i)))
            .await
            .unwrap();
    }
    publisher.flush().await.unwrap();
    let mut during = 0;
    loop {
        let item = timeout(GUARD, rx.recv())
            .await
            .expect("stream continues")
            .unwrap();
        let id = people_id(&item).unwrap();
        if (50..100).contains(&id) {
            during += 1;
        }
        ids.insert(id);
        if (100..150).all(|i| ids.contains(&i)) {
            break;
        }
    }
    publisher.close().await;
    stopper.stop();
    task.await.unwrap().unwrap();
    eprintln!(
        "QoS 0 restart: {during} of 50 published during the outage arrived, {} lost",
        50 - during
    );
}

/// The sink path applies backpressure: a slow sink stops the subscriber reading, and
/// nothing is dropped on the way (QoS 1).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_sink_gets_everything_in_order() {
    struct Slow(MemorySink);
    #[async_trait::async_trait]
    impl EventSink for Slow {
        async fn accept(
            &self,
            event: &CountEvent,
        ) -> Result<ffc_protocols::sink::Accepted, ffc_protocols::sink::SinkError> {
            tokio::time::sleep(Duration::from_millis(2)).await;
            self.0.accept(event).await
        }
    }
    let Some(b) = broker() else { return };
    let sink = Slow(MemorySink::new());
    let mut config = SubscriberConfig::new(&url(b.port), "sub-slow").unwrap();
    config.filters = vec!["/t/slow/+".into()];
    config.qos = Qos::AtLeastOnce;
    config.channel_capacity = 4;
    config.inflight = 4;
    let sub = Subscriber::new(config).unwrap();
    let mut status = sub.status();
    let stopper = sub.stopper();
    let dead = MemoryDeadLetters::new();
    let run = sub.run_into(&sink, &dead, None);
    let drive = async {
        timeout(GUARD, status.wait_for(|s| s.subacks >= 1))
            .await
            .unwrap()
            .unwrap();
        let mut pc = PublisherConfig::new(&url(b.port), serial(9)).unwrap();
        pc.topic = Some("/t/slow/c".into());
        pc.qos = Qos::AtLeastOnce;
        let publisher = Publisher::connect(pc).await.unwrap();
        for i in 0..300 {
            publisher
                .publish(&Message::Count(event(serial(9), i)))
                .await
                .unwrap();
        }
        publisher.flush().await.unwrap();
        timeout(GUARD, async {
            while sink.0.len() < 300 {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await
        .unwrap();
        publisher.close().await;
        stopper.stop();
    };
    let (stats, ()) = tokio::join!(run, drive);
    assert_eq!(stats.unwrap().events, 300);
    let ids: Vec<u64> = sink.0.events().iter().map(|e| e.people_id.0).collect();
    assert_eq!(ids, (0..300).collect::<Vec<_>>());
}

/// A persistent session collects a QoS 1 backlog while the subscriber is away; the next
/// run with the same client id drains all of it, round after round.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn persistent_session_backlog_is_drained() {
    let Some(b) = broker() else { return };
    let mut sc = SubscriberConfig::new(&url(b.port), "backlog-sub").unwrap();
    sc.filters = vec!["/t/backlog/+".into()];
    sc.qos = Qos::AtLeastOnce;
    sc.clean_session = false;
    let mut pc = PublisherConfig::new(&url(b.port), serial(0xbac)).unwrap();
    pc.topic = Some("/t/backlog/c".into());
    pc.qos = Qos::AtLeastOnce;
    let publisher = Publisher::connect(pc).await.unwrap();
    // Register the session.
    let (_rx, task, _, stopper) = subscribed_stream(sc.clone()).await;
    stopper.stop();
    task.await.unwrap().unwrap();

    let per_round = 3_000u64;
    for round in 0..3u64 {
        for i in 0..per_round {
            publisher
                .publish(&Message::Count(event(serial(0xbac), round * per_round + i)))
                .await
                .unwrap();
        }
        publisher.flush().await.unwrap();
        let sink = MemorySink::new();
        let sub = Subscriber::new(sc.clone()).unwrap();
        let stopper = sub.stopper();
        let dead = MemoryDeadLetters::new();
        let run = sub.run_into(&sink, &dead, None);
        let wait = async {
            timeout(GUARD, async {
                while sink.len() < per_round as usize {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            })
            .await
            .unwrap_or_else(|_| panic!("round {round}: only {} of {per_round}", sink.len()));
            stopper.stop();
        };
        let (stats, ()) = tokio::join!(run, wait);
        let stats = stats.unwrap();
        let ids: BTreeSet<u64> = sink.events().iter().map(|e| e.people_id.0).collect();
        let want: BTreeSet<u64> = (round * per_round..(round + 1) * per_round).collect();
        assert!(want.is_subset(&ids), "round {round}");
        eprintln!("backlog round {round}: {stats:?}");
    }
    publisher.close().await;
}
