//! The scale-out reference integrations against loopback peers (scripts/services.d):
//! `ws_to_postgres` receiving from the SDK's counter-side sender into PostgreSQL, and
//! `mqtt_workers` with three workers on one shared subscription of mosquitto writing into
//! one PostgreSQL.
mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use common::runtime;
use ffc_core::{CameraSerial, CountEvent, Metric, PeopleId, PeopleType, RoiId, Source, UtcOffset};
use ffc_protocols::mqtt::codec::Message;
use ffc_protocols::mqtt::publisher::{Publisher, PublisherConfig};
use ffc_protocols::mqtt::Qos;
use ffc_protocols::ws::sender::{Sender, SenderConfig};

fn peer(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(v) => Some(v),
        Err(_) if std::env::var_os("CI").is_some() => {
            panic!("{var} not set: run through scripts/test.sh")
        }
        Err(_) => {
            eprintln!("skipped: {var} not set (source scripts/services.sh)");
            None
        }
    }
}

/// A fresh database on the shared test cluster; its URL.
fn fresh_database(rt: &tokio::runtime::Runtime, url: &str, tag: &str) -> String {
    let name = format!("ffc_examples_{tag}_{}", std::process::id());
    rt.block_on(async {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .expect("connect to FFC_PG_URL");
        tokio::spawn(connection);
        client
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
            .await
            .expect("drop");
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create");
    });
    let (base, _) = url.rsplit_once('/').expect("a URL with a database");
    format!("{base}/{name}")
}

/// `(events rows, sum of the hourly totals, dead letters)`.
fn counts(rt: &tokio::runtime::Runtime, url: &str) -> (i64, i64, i64) {
    rt.block_on(async {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .expect("connect");
        tokio::spawn(connection);
        let row = client
            .query_one(
                "SELECT (SELECT count(*) FROM ffc_events), \
                        (SELECT coalesce(sum(events), 0)::bigint FROM ffc_records), \
                        (SELECT count(*) FROM ffc_dead_letters)",
                &[],
            )
            .await
            .expect("query");
        (row.get(0), row.get(1), row.get(2))
    })
}

/// The (serial, people id) of every stored event, sorted, to compare the table with what was sent.
fn stored_ids(rt: &tokio::runtime::Runtime, url: &str) -> Vec<(String, String)> {
    rt.block_on(async {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .expect("connect");
        tokio::spawn(connection);
        let rows = client
            .query("SELECT serial, people_id::text FROM ffc_events", &[])
            .await
            .expect("query");
        let mut ids: Vec<(String, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
        ids.sort();
        ids
    })
}

/// What `stored_ids` must read after `counters` counters from `base` sent ids `0..per_counter`.
fn expected_ids(base: u64, counters: u64, per_counter: u64) -> Vec<(String, String)> {
    let mut ids: Vec<(String, String)> = (0..counters)
        .flat_map(|c| {
            (0..per_counter)
                .map(move |n| (CameraSerial::from_u64(base + c).to_string(), n.to_string()))
        })
        .collect();
    ids.sort();
    ids
}

fn event(serial: CameraSerial, n: u64, source: Source) -> CountEvent {
    let start = 1_764_460_800 + n as i64 * 61;
    CountEvent {
        serial,
        roi: RoiId(1),
        metric: if n.is_multiple_of(2) {
            Metric::In
        } else {
            Metric::Out
        },
        people_type: PeopleType::Visitor,
        people_id: PeopleId(n),
        start,
        end: start + 2,
        offset: UtcOffset::from_seconds(3600).expect("offset"),
        uuid: None,
        source,
    }
}

/// Reads stdout lines until one starts with `prefix`; returns it.
fn line_starting(
    lines: &mut impl Iterator<Item = std::io::Result<String>>,
    prefix: &str,
) -> String {
    for line in lines.by_ref() {
        let line = line.expect("stdout");
        if line.starts_with(prefix) {
            return line;
        }
    }
    panic!("the example ended without printing {prefix:?}");
}

fn spawn(exe: &str, args: &[&str], env: &[(&str, &str)]) -> (Child, BufReader<ChildStdout>) {
    let mut cmd = Command::new(exe);
    cmd.args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("start the example");
    let stdout = BufReader::new(child.stdout.take().expect("stdout"));
    (child, stdout)
}

fn interrupt(child: &Child) {
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
}

#[test]
fn ws_to_postgres_keeps_every_event_once_and_acknowledges_after_commit() {
    let Some(pg) = peer("FFC_PG_URL") else { return };
    let rt = runtime();
    let db = fresh_database(&rt, &pg, "ws");
    let (mut child, stdout) = spawn(
        env!("CARGO_BIN_EXE_ws_to_postgres"),
        &["127.0.0.1:0", &db],
        &[("FFC_WS_TOKEN", "scale-out-token")],
    );
    let mut lines = stdout.lines();
    let listening = line_starting(&mut lines, "listening on ");
    let addr = listening.trim_start_matches("listening on ").to_owned();

    // Three counters, 40 events each; each resends its first event (as after a lost `OK`).
    let delivered: u64 = rt.block_on(async {
        let mut tasks = Vec::new();
        for c in 0..3u64 {
            let config =
                SenderConfig::new(format!("ws://{addr}/counter/{c}")).with_token("scale-out-token");
            tasks.push(tokio::spawn(async move {
                let serial = CameraSerial::from_u64(0x7700 + c);
                let mut sender: Sender<64> = Sender::new(config);
                for n in 0..40 {
                    sender
                        .push(event(serial, n, Source::WebSocket))
                        .expect("room");
                }
                sender
                    .push(event(serial, 0, Source::WebSocket))
                    .expect("room");
                sender
                    .deliver_all(Duration::from_secs(30))
                    .await
                    .expect("delivered")
            }));
        }
        let mut total = 0;
        for t in tasks {
            total += t.await.expect("counter");
        }
        total
    });
    assert_eq!(delivered, 3 * 41, "every send answered OK");
    // Every OK came after COMMIT: the rows are there before the receiver stops.
    assert_eq!(counts(&rt, &db), (120, 120, 0));
    assert_eq!(
        stored_ids(&rt, &db),
        expected_ids(0x7700, 3, 40),
        "each sent event, once"
    );

    interrupt(&child);
    let summary = line_starting(&mut lines, "received ");
    assert!(child.wait().expect("exit").success());
    assert!(
        summary.contains("(3 duplicates)") && summary.contains("stored 120 events"),
        "{summary}"
    );
}

#[test]
fn mqtt_workers_share_one_subscription_into_one_database() {
    let (Some(pg), Some(port)) = (peer("FFC_PG_URL"), peer("FFC_MOSQUITTO_PORT")) else {
        return;
    };
    let rt = runtime();
    let db = fresh_database(&rt, &pg, "mqtt");
    let broker = format!("mqtt://127.0.0.1:{port}");
    // A topic of this run only: the shared broker serves other tests too.
    let root = format!("ffc-scale-out/{}", std::process::id());
    let filter = format!("{root}/+");
    let (mut child, stdout) = spawn(
        env!("CARGO_BIN_EXE_mqtt_workers"),
        &[&broker, "3", &db, &filter],
        &[],
    );
    let mut lines = stdout.lines();
    for _ in 0..3 {
        line_starting(&mut lines, "worker ");
    }

    let (counters, per_counter) = (4u64, 75u64);
    rt.block_on(async {
        let mut tasks = Vec::new();
        for c in 0..counters {
            let serial = CameraSerial::from_u64(0x7800 + c);
            let config = PublisherConfig::new(&broker, serial)
                .expect("url")
                .with_topic(Some(format!("{root}/{serial}")))
                .with_client_id(Some(format!("{root}/{serial}")))
                .with_qos(Qos::AtLeastOnce);
            let publisher = Publisher::connect(config).await.expect("connect");
            tasks.push(tokio::spawn(async move {
                for n in 0..per_counter {
                    publisher
                        .publish(&Message::Count(event(serial, n, Source::Mqtt)))
                        .await
                        .expect("publish");
                }
                publisher.flush().await.expect("acknowledged by the broker");
                publisher.close().await;
            }));
        }
        for t in tasks {
            t.await.expect("publisher");
        }
    });
    let total = (counters * per_counter) as i64;
    let deadline = Instant::now() + Duration::from_secs(60);
    while counts(&rt, &db).0 < total {
        assert!(
            Instant::now() < deadline,
            "{:?} of {total}",
            counts(&rt, &db)
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    interrupt(&child);
    let mut stored_by_worker = Vec::new();
    for line in lines {
        let line = line.expect("stdout");
        // "worker 2: 100 messages, 100 events stored, 0 duplicates, 0 dead letters"
        if let Some((_, rest)) = line.split_once(": ") {
            let stored: u64 = rest
                .split(", ")
                .nth(1)
                .and_then(|f| f.split(' ').next())
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("{line}"));
            stored_by_worker.push(stored);
        }
    }
    assert!(child.wait().expect("exit").success());
    assert_eq!(stored_by_worker.len(), 3, "{stored_by_worker:?}");
    assert_eq!(stored_by_worker.iter().sum::<u64>(), total as u64);
    assert!(
        stored_by_worker.iter().all(|&n| n > 0),
        "the shared subscription gives every worker a share: {stored_by_worker:?}"
    );
    assert_eq!(counts(&rt, &db), (total, total, 0));
    assert_eq!(
        stored_ids(&rt, &db),
        expected_ids(0x7800, counters, per_counter),
        "each published event, once"
    );
}
