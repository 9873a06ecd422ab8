//! Events per second into one PostgreSQL with 1, 2 and 4 worker processes, measured in one
//! run (DESIGN.md "Scale"). Ignored in the test suite (it measures, it does not check a
//! behaviour); `benches/scale_out.sh` runs it in release mode and prints the table.
//!
//! - MQTT: a backlog of `FFC_SCALE_EVENTS` QoS 1 events waits in the persistent sessions
//!   of N `mqtt_workers`s on one shared subscription (published while they were
//!   stopped); the clock runs from their start until PostgreSQL holds every event.
//! - WebSocket: `FFC_SCALE_COUNTERS` simulated counters send the same number of events as
//!   fast as the receivers answer `OK`, through the TCP load balancer to N
//!   `ws_to_postgres`s.
//!
//! Each figure is compared with the 1-worker figure of the same run (the baseline).

mod soak_support;

use std::time::{Duration, Instant};

use ffc_protocols::mqtt::codec::Message;
use ffc_protocols::mqtt::publisher::{Publisher, PublisherConfig};
use ffc_protocols::mqtt::Qos;
use ffc_protocols::ws::sender::{Sender, SenderConfig};
use soak_support::*;

const WORKER_COUNTS: [usize; 3] = [1, 2, 4];

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement: run benches/scale_out.sh"]
async fn events_per_second_with_1_2_4_workers() {
    let Some(peers) = Peers::from_env() else {
        return;
    };
    let events = env_usize("FFC_SCALE_EVENTS", 20_000) as u64;
    let counters = env_usize("FFC_SCALE_COUNTERS", 100) as u64;
    let store = Store::start(&peers).await;
    assert!(
        store.is_shared(),
        "the scale-out run needs PostgreSQL ($FFC_PG_START)"
    );
    eprintln!(
        "scale-out: {events} events per run, {counters} WebSocket counters, {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let mut rows = Vec::new();
    for n in WORKER_COUNTS {
        let rate = mqtt_backlog(&peers, &store, n, events, counters).await;
        rows.push(("MQTT shared subscription, QoS 1", n, rate));
    }
    for n in WORKER_COUNTS {
        let rate = ws_push(&store, n, events, counters).await;
        rows.push(("WebSocket behind a load balancer", n, rate));
    }
    println!("| path | workers | events/s | vs 1 worker |");
    println!("|---|---|---|---|");
    for (path, n, rate) in &rows {
        let base = rows
            .iter()
            .find(|(p, w, _)| p == path && *w == 1)
            .map_or(1.0, |r| r.2);
        println!("| {path} | {n} | {rate:.0} | {:.2}x |", rate / base);
    }
}

async fn wait_for_rows(store: &Store, path: Run, expected: usize) {
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let held = store.count(path).await;
        if held >= expected {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{held} of {expected} rows after 10 minutes"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn mqtt_backlog(peers: &Peers, store: &Store, n: usize, events: u64, counters: u64) -> f64 {
    store.truncate().await;
    let path = Run::MqttQos1;
    let mut broker = Broker::start_with(&peers.mosquitto_bin, false).await;
    let mut workers: Vec<Worker> = (0..n)
        .map(|i| {
            let name = format!("scale-{n}-worker-{i}");
            let mut args = vec![
                "--broker".to_string(),
                broker.url(),
                "--client-id".into(),
                name.clone(),
                "--group".into(),
                "scale".into(),
                "--filter".into(),
                "/status/+".into(),
                "--qos".into(),
                "1".into(),
                "--persistent".into(),
            ];
            args.extend(store.worker_args(&name));
            Worker::new(name, env!("CARGO_BIN_EXE_mqtt_workers"), args)
        })
        .collect();
    // Make the persistent sessions, then stop the workers: the backlog queues for them.
    start_all(&mut workers, "worker 0 subscribed").await;
    for w in &mut workers {
        w.stop().await;
    }
    let per_counter = events / counters;
    let mut publishing = Vec::new();
    for c in 0..counters {
        let mut config = PublisherConfig::new(&broker.url(), serial(path, c)).unwrap();
        config.qos = Qos::AtLeastOnce;
        let publisher = Publisher::connect(config).await.unwrap();
        publishing.push(tokio::spawn(async move {
            for i in 0..per_counter {
                publisher
                    .publish(&Message::Count(event(path, c, i)))
                    .await
                    .unwrap();
            }
            publisher.flush().await.unwrap();
            publisher.close().await;
        }));
    }
    for p in publishing {
        p.await.unwrap();
    }
    let started = Instant::now();
    for w in &mut workers {
        w.spawn();
    }
    wait_for_rows(store, path, (per_counter * counters) as usize).await;
    let rate = (per_counter * counters) as f64 / started.elapsed().as_secs_f64();
    for w in &mut workers {
        eprintln!("  {}", w.stop().await);
    }
    broker.stop().await;
    eprintln!("MQTT, {n} workers: {rate:.0} events/s");
    rate
}

async fn ws_push(store: &Store, n: usize, events: u64, counters: u64) -> f64 {
    store.truncate().await;
    let path = Run::Ws;
    let (mut workers, balancer) =
        start_ws_receivers(store, n, &format!("scale-{n}-receiver")).await;
    let per_counter = events / counters;
    let started = Instant::now();
    let mut sending = Vec::new();
    for c in 0..counters {
        let url = format!("ws://{}/counter/{c}", balancer.addr);
        sending.push(tokio::spawn(async move {
            let mut sender: Sender<4096> = Sender::new(SenderConfig::new(url));
            for i in 0..per_counter {
                sender.push(event(path, c, i)).unwrap();
            }
            sender.deliver_all(Duration::from_secs(600)).await.unwrap()
        }));
    }
    for s in sending {
        s.await.unwrap();
    }
    let rate = (per_counter * counters) as f64 / started.elapsed().as_secs_f64();
    wait_for_rows(store, path, (per_counter * counters) as usize).await;
    for w in &mut workers {
        eprintln!("  {}", w.stop().await);
    }
    eprintln!("WebSocket, {n} receivers: {rate:.0} events/s");
    rate
}
