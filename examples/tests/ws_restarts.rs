//! 100 simulated counters × 1,000 events each through the `ws_to_postgres` process (the reference integration) into
//! its JSON-lines file sink, while the receiver is killed with SIGKILL and restarted at
//! random points: the file ends with every event exactly once.

use std::collections::HashSet;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ffc_core::backoff::RetryPolicy;
use ffc_core::{CameraSerial, CountEvent, Metric, PeopleId, PeopleType, RoiId, Source, UtcOffset};
use ffc_protocols::sink::read_events;
use ffc_protocols::ws::sender::{PayloadForm, Sender, SenderConfig};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const COUNTERS: u64 = 100;
const EVENTS: u64 = 1_000;
const KILLS: usize = 5;

fn event(counter: u64, n: u64) -> CountEvent {
    CountEvent {
        serial: CameraSerial::from_u64(0x5000_0000 + counter),
        roi: RoiId(1 + (n % 2) as u32),
        metric: if n.is_multiple_of(3) {
            Metric::Out
        } else {
            Metric::In
        },
        people_type: if n.is_multiple_of(10) {
            PeopleType::Staff
        } else {
            PeopleType::Visitor
        },
        people_id: PeopleId(n),
        start: 1_750_000_000 + n as i64,
        end: 1_750_000_002 + n as i64,
        offset: UtcOffset::from_seconds(8 * 3600).unwrap(),
        uuid: None,
        source: Source::WebSocket,
    }
}

async fn start_receiver(port: u16, dir: &Path) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ws_to_postgres"))
        .args(["--bind", &format!("127.0.0.1:{port}")])
        .arg("--events")
        .arg(dir.join("events.jsonl"))
        .arg("--dead-letters")
        .arg(dir.join("dead.jsonl"))
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let first = lines.next_line().await.unwrap().unwrap_or_default();
    assert!(first.starts_with("listening on"), "receiver said {first:?}");
    // Keep draining its stdout so it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    child
}

/// A small xorshift generator; the seed is printed so a failing run can be repeated.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_exactly_once_across_kill_9_restarts() {
    let seed = std::env::var("FFC_RESTART_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .subsec_nanos() as u64
                | 1
        });
    eprintln!("FFC_RESTART_SEED={seed}");
    let mut rng = Rng(seed);
    let dir = tempfile::tempdir().unwrap();
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let mut receiver = start_receiver(port, dir.path()).await;

    let mut senders = Vec::new();
    for counter in 0..COUNTERS {
        let mut config = SenderConfig::new(format!("ws://127.0.0.1:{port}/counter/{counter}"));
        config.retry = RetryPolicy::forever(Duration::from_millis(10), Duration::from_millis(200));
        config.ack_timeout = Duration::from_secs(5);
        config.connect_timeout = Duration::from_secs(2);
        // Half the counters speak the 3D Pro2 form (UUID keys), half the classic one.
        if counter % 2 == 1 {
            config.form = PayloadForm::Pro2;
        }
        senders.push(tokio::spawn(async move {
            let mut sender: Sender<{ EVENTS as usize }> = Sender::new(config);
            for n in 0..EVENTS {
                sender.push(event(counter, n)).unwrap();
            }
            let delivered = sender.deliver_all(Duration::from_secs(120)).await.unwrap();
            (delivered, sender.stats())
        }));
    }

    // Kill points: random fractions of the expected file, in order.
    let line_len = serde_json::to_vec(&event(0, 500)).unwrap().len() as u64 + 1;
    let total_bytes = COUNTERS * EVENTS * line_len;
    let mut points: Vec<u64> = (0..KILLS)
        .map(|_| total_bytes / 20 + rng.next() % (total_bytes * 8 / 10))
        .collect();
    points.sort_unstable();
    let events_path = dir.path().join("events.jsonl");
    let mut kills = 0;
    for point in points {
        loop {
            let size = std::fs::metadata(&events_path)
                .map(|m| m.len())
                .unwrap_or(0);
            if size >= point {
                break;
            }
            assert!(
                !senders.iter().all(|s| s.is_finished()),
                "all counters finished before the kill at byte {point}"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        receiver.start_kill().unwrap(); // SIGKILL
        receiver.wait().await.unwrap();
        kills += 1;
        // Down for a random moment; the counters keep their events meanwhile.
        tokio::time::sleep(Duration::from_millis(rng.next() % 300)).await;
        receiver = start_receiver(port, dir.path()).await;
    }

    let mut resent = 0;
    for sender in senders {
        let (delivered, stats) = sender.await.unwrap();
        assert_eq!(delivered, EVENTS);
        resent += stats.sent - stats.acknowledged;
    }
    receiver.start_kill().unwrap();
    receiver.wait().await.unwrap();
    eprintln!("{kills} kills, {resent} messages sent more than once");
    assert_eq!(kills, KILLS);

    let stored = read_events(&events_path).unwrap();
    assert_eq!(
        stored.len() as u64,
        COUNTERS * EVENTS,
        "each event exactly once"
    );
    let keys: HashSet<_> = stored.iter().map(|e| (e.serial, e.people_id)).collect();
    assert_eq!(keys.len() as u64, COUNTERS * EVENTS, "no event twice");
    for e in &stored {
        let counter = e.serial.as_u64() - 0x5000_0000;
        let mut expected = event(counter, e.people_id.0);
        if counter % 2 == 1 {
            // Pro2 senders add a UUID derived from the key, and the receiver marks them.
            assert!(e.uuid.is_some());
            expected.uuid = e.uuid;
            expected.source = Source::WebSocketPro2;
        }
        assert_eq!(*e, expected);
    }
}
