//! The PostgreSQL sink against a real PostgreSQL (scripts/services.d/40-postgres.sh exports
//! FFC_PG_URL; the stopped-database test starts a private cluster with FFC_PG_START). Each
//! test makes its own database, so they run in parallel. Without FFC_PG_URL a test says so
//! and returns, except under CI, where it fails.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ffc_core::backoff::RetryPolicy;
use ffc_core::{
    CameraSerial, CountEvent, EventKey, MessageId, Metric, PeopleId, PeopleType, RoiId, Source,
    UtcOffset,
};
use ffc_protocols::sink::postgres::{migrate, PgSink, PgSinkConfig, PgSinkError, SCHEMA_VERSION};
use ffc_protocols::sink::{Accepted, DeadLetter, DeadLetterSink, EventSink, SinkError};
use proptest::prelude::*;

mod pg_support;
use pg_support::{env_or_skip, fresh_db};

/// A database of its own on the shared server, dropped by [`TestDb::drop_db`].
struct TestDb {
    url: String,
    name: String,
}

impl TestDb {
    async fn new(url: &str) -> TestDb {
        TestDb {
            url: url.to_string(),
            name: fresh_db(url, "test").await,
        }
    }

    fn config(&self) -> PgSinkConfig {
        PgSinkConfig::new(&self.url)
            .unwrap()
            .with_dbname(&self.name)
    }

    async fn client(&self) -> tokio_postgres::Client {
        pg_support::client(&self.url, Some(&self.name)).await
    }

    async fn drop_db(self) {
        pg_support::drop_db(&self.url, &self.name).await;
    }
}

const BASE: i64 = 1_753_266_000; // 2025-07-23 10:20:00 UTC

fn event(n: u64) -> CountEvent {
    CountEvent {
        serial: CameraSerial::from_u64(0xecd5_cc57_d23c_0000 + n % 3),
        roi: RoiId(1 + (n % 2) as u32),
        metric: if n.is_multiple_of(4) {
            Metric::Out
        } else {
            Metric::In
        },
        people_type: if n.is_multiple_of(7) {
            PeopleType::Staff
        } else {
            PeopleType::Visitor
        },
        people_id: PeopleId(n),
        start: BASE + n as i64 - 2,
        end: BASE + n as i64,
        offset: UtcOffset::from_seconds(8 * 3600).unwrap(),
        uuid: None,
        source: Source::Mqtt,
    }
}

/// Every stored event, rebuilt from its columns.
async fn stored_events(client: &tokio_postgres::Client) -> Vec<CountEvent> {
    let rows = client
        .query(
            "SELECT serial, roi, metric, people_type, people_id::text, start_unix, end_unix,
                    utc_offset_seconds, uuid, source FROM ffc_events",
            &[],
        )
        .await
        .unwrap();
    rows.iter()
        .map(|row| CountEvent {
            serial: row.get::<_, &str>(0).parse().unwrap(),
            roi: RoiId(u32::try_from(row.get::<_, i64>(1)).unwrap()),
            metric: Metric::from_code(row.get::<_, i16>(2) as u64).unwrap(),
            people_type: PeopleType::from_code(row.get::<_, i16>(3) as u64).unwrap(),
            people_id: PeopleId(row.get::<_, &str>(4).parse().unwrap()),
            start: row.get(5),
            end: row.get(6),
            offset: UtcOffset::from_seconds(row.get(7)).unwrap(),
            uuid: row.get::<_, Option<MessageId>>(8),
            source: serde_json::from_value(serde_json::Value::String(row.get(9))).unwrap(),
        })
        .collect()
}

type Bucket = (String, i64, i16, i16, i64);

async fn stored_records(client: &tokio_postgres::Client) -> BTreeMap<Bucket, i64> {
    client
        .query(
            "SELECT serial, roi, metric, people_type,
                    extract(epoch FROM hour_start)::bigint, events FROM ffc_records",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| ((r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)), r.get(5)))
        .collect()
}

/// The hourly totals `events` should leave, computed apart from the sink.
fn expected_records<'a>(events: impl IntoIterator<Item = &'a CountEvent>) -> BTreeMap<Bucket, i64> {
    let mut out = BTreeMap::new();
    for e in events {
        let bucket = (
            e.serial.to_string(),
            i64::from(e.roi.0),
            i16::from(e.metric.code()),
            i16::from(e.people_type.code()),
            e.end.div_euclid(3600) * 3600,
        );
        *out.entry(bucket).or_insert(0) += 1;
    }
    out
}

fn sorted(mut events: Vec<CountEvent>) -> Vec<CountEvent> {
    events.sort_by_key(|e| (e.key(), e.people_type, e.offset, e.source));
    events
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_are_idempotent_and_concurrent_connects_migrate_once() {
    let Some(url) = env_or_skip("FFC_PG_URL") else {
        return;
    };
    let db = TestDb::new(&url).await;
    // Eight workers starting at once: the tables are created by one of them (a second
    // CREATE TABLE would fail), the others wait on the advisory lock and find version 1.
    let connects: Vec<_> = (0..8)
        .map(|_| tokio::spawn(PgSink::connect(db.config().with_pool_size(1))))
        .collect();
    let mut sinks = Vec::new();
    for c in connects {
        sinks.push(c.await.unwrap().expect("every concurrent connect succeeds"));
    }
    let mut client = db.client().await;
    let versions: Vec<(i32, i64)> = client
        .query(
            "SELECT version, count(*) FROM ffc_schema_version GROUP BY version ORDER BY version",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    // Every version applied exactly once.
    let once: Vec<(i32, i64)> = (1..=SCHEMA_VERSION as i32).map(|v| (v, 1)).collect();
    assert_eq!(versions, once);
    // Again, by hand: nothing to do.
    assert_eq!(migrate(&mut client).await.unwrap(), SCHEMA_VERSION);
    let count: i64 = client
        .query_one("SELECT count(*) FROM ffc_schema_version", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(count, i64::from(SCHEMA_VERSION));
    // Version 3: the hourly totals leave room on each page for their (HOT) updates, which
    // since version 4 are the folds' (the table is ffc_record_totals now).
    let options: Vec<String> = client
        .query_one(
            "SELECT coalesce(reloptions, '{}') FROM pg_class WHERE relname = 'ffc_record_totals'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(options, ["fillfactor=50"]);
    // Version 5: the uuid key holds only the events that have a uuid (a field-keyed event
    // adds no entry to it), and a delta row stays uncompressed in its page up to a page.
    let (uuid_key, deltas): (String, Vec<String>) = client
        .query_one(
            "SELECT (SELECT indexdef FROM pg_indexes WHERE indexname = 'ffc_events_uuid_key'),
                    (SELECT coalesce(reloptions, '{}') FROM pg_class
                     WHERE relname = 'ffc_record_deltas')",
            &[],
        )
        .await
        .map(|r| (r.get(0), r.get(1)))
        .unwrap();
    assert!(
        uuid_key.starts_with("CREATE UNIQUE INDEX ffc_events_uuid_key ON public.ffc_events")
            && uuid_key.ends_with("(uuid) WHERE (uuid IS NOT NULL)"),
        "{uuid_key}"
    );
    assert_eq!(deltas, ["toast_tuple_target=8160"]);
    // All eight write into the same tables.
    for (n, sink) in sinks.iter().enumerate() {
        assert_eq!(
            sink.accept(&event(n as u64)).await.unwrap(),
            Accepted::Stored
        );
        sink.close().await;
    }
    assert_eq!(stored_events(&client).await.len(), 8);

    // A schema from a newer ffc: refuse rather than write into tables it does not know.
    client
        .execute(
            "INSERT INTO ffc_schema_version (version, description) VALUES (99, 'future')",
            &[],
        )
        .await
        .unwrap();
    match PgSink::connect(db.config()).await {
        Err(PgSinkError::SchemaTooNew {
            found: 99,
            supported,
        }) => {
            assert_eq!(supported, SCHEMA_VERSION)
        }
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
    drop(client);
    db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicates_within_one_batch_get_one_stored() {
    let Some(url) = env_or_skip("FFC_PG_URL") else {
        return;
    };
    let db = TestDb::new(&url).await;
    // One writer, a batch of exactly 20 and a long linger: the 20 calls below form one batch
    // (it is written when full, so the linger is never waited out).
    let sink = Arc::new(
        PgSink::connect(
            db.config()
                .with_pool_size(1)
                .with_batch_size(20)
                .with_batch_wait(Duration::from_secs(30)),
        )
        .await
        .unwrap(),
    );
    let plain = event(1);
    let uuid = MessageId::from_u128(0x658a2443_72ba_422c_85dc_e4e10baa1288);
    let with_uuid = CountEvent {
        uuid: Some(uuid),
        ..event(2)
    };
    // Same UUID, other fields: the same key, so a duplicate.
    let same_uuid = CountEvent {
        uuid: Some(uuid),
        ..event(3)
    };
    let mut calls = Vec::new();
    for i in 0..20 {
        let e = match i % 4 {
            0 | 1 => plain,
            2 => with_uuid,
            _ => same_uuid,
        };
        let sink = sink.clone();
        calls.push(tokio::spawn(
            async move { (e.key(), sink.accept(&e).await) },
        ));
    }
    let mut stored = BTreeMap::<EventKey, usize>::new();
    let mut duplicates = 0;
    for c in calls {
        let (key, answer) = c.await.unwrap();
        match answer.unwrap() {
            Accepted::Stored => *stored.entry(key).or_default() += 1,
            Accepted::Duplicate => duplicates += 1,
        }
    }
    assert_eq!(stored.len(), 2, "{stored:?}");
    assert!(stored.values().all(|&n| n == 1), "{stored:?}");
    assert_eq!(duplicates, 18);
    let stats = sink.stats();
    assert_eq!(
        (stats.batches, stats.events_stored, stats.duplicates),
        (1, 2, 18)
    );

    let client = db.client().await;
    let events = stored_events(&client).await;
    assert_eq!(events.len(), 2);
    assert!(events.contains(&plain));
    assert_eq!(events.iter().filter(|e| e.uuid == Some(uuid)).count(), 1);
    assert_eq!(stored_records(&client).await, expected_records(&events));

    // An event whose end a timestamptz cannot hold: refused before it is queued, for good.
    let far = CountEvent {
        end: i64::MAX,
        ..event(9)
    };
    assert!(matches!(
        sink.accept(&far).await,
        Err(SinkError::Unstorable { .. })
    ));
    sink.close().await;
    assert!(matches!(sink.accept(&plain).await, Err(SinkError::Closed)));
    assert_eq!(stored_events(&client).await.len(), 2);
    drop(client);
    db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicates_across_batches_and_on_other_connections_get_one_row() {
    let Some(url) = env_or_skip("FFC_PG_URL") else {
        return;
    };
    let db = TestDb::new(&url).await;
    // Two writers with batches of 4, no linger: many small transactions on two connections,
    // each with its own staging table.
    let config = db
        .config()
        .with_pool_size(2)
        .with_batch_size(4)
        .with_batch_wait(Duration::ZERO);
    let sink = PgSink::connect(config.clone()).await.unwrap();
    // People ids around the base-10000 digits of `numeric` and at the ends of u64.
    let ids = [
        0,
        1,
        9_999,
        10_000,
        10_001,
        100_000_000,
        1 << 53,
        u64::MAX - 1,
        u64::MAX,
    ];
    let events: Vec<CountEvent> = ids
        .iter()
        .enumerate()
        .map(|(i, &id)| CountEvent {
            people_id: PeopleId(id),
            ..event(i as u64)
        })
        .collect();
    for e in &events {
        assert_eq!(sink.accept(e).await.unwrap(), Accepted::Stored, "{e:?}");
    }
    // The same keys again, one by one (each in a later batch) and all at once.
    for e in &events {
        assert_eq!(sink.accept(e).await.unwrap(), Accepted::Duplicate, "{e:?}");
    }
    let sink = Arc::new(sink);
    let again: Vec<_> = events
        .iter()
        .map(|e| {
            let (sink, e) = (sink.clone(), *e);
            tokio::spawn(async move { sink.accept(&e).await.unwrap() })
        })
        .collect();
    for answer in again {
        assert_eq!(answer.await.unwrap(), Accepted::Duplicate);
    }
    sink.close().await;
    // And from a second sink (new connections, new staging tables).
    let other = PgSink::connect(config).await.unwrap();
    for e in &events {
        assert_eq!(other.accept(e).await.unwrap(), Accepted::Duplicate, "{e:?}");
    }
    other.close().await;

    let client = db.client().await;
    assert_eq!(sorted(stored_events(&client).await), sorted(events.clone()));
    assert_eq!(stored_records(&client).await, expected_records(&events));
    drop(client);
    db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_keep_their_bytes() {
    let Some(url) = env_or_skip("FFC_PG_URL") else {
        return;
    };
    let db = TestDb::new(&url).await;
    let sink = PgSink::connect(db.config()).await.unwrap();
    let letters = vec![
        DeadLetter {
            received_at: BASE,
            origin: "ws 127.0.0.1:50412 /ingest".into(),
            reason: "line 1, byte 7: expected a value".into(),
            raw: vec![0, 159, 146, 150, b'\n', 0xff],
        },
        DeadLetter {
            received_at: BASE + 1,
            origin: "mqtt ffc/ecd5cc57d23c5c9f/event".into(),
            reason: "binary frame".into(),
            raw: b"{\"MetricId\": 9}".to_vec(),
        },
    ];
    for l in &letters {
        sink.dead_letter(l.clone()).await.unwrap();
    }
    // Alongside events in the same batches.
    assert_eq!(sink.accept(&event(5)).await.unwrap(), Accepted::Stored);
    assert_eq!(sink.stats().dead_letters, 2);
    let client = db.client().await;
    let rows: Vec<DeadLetter> = client
        .query(
            "SELECT extract(epoch FROM received_at)::bigint, origin, reason, raw
             FROM ffc_dead_letters ORDER BY id",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| DeadLetter {
            received_at: r.get(0),
            origin: r.get(1),
            reason: r.get(2),
            raw: r.get(3),
        })
        .collect();
    assert_eq!(rows, letters);
    sink.close().await;
    drop(client);
    db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_flushes_what_was_queued_and_refuses_the_rest() {
    let Some(url) = env_or_skip("FFC_PG_URL") else {
        return;
    };
    let db = TestDb::new(&url).await;
    let sink = Arc::new(
        PgSink::connect(db.config().with_pool_size(2).with_batch_size(8))
            .await
            .unwrap(),
    );
    let calls: Vec<_> = (0..200)
        .map(|n| {
            let sink = sink.clone();
            tokio::spawn(async move { (event(n), sink.accept(&event(n)).await) })
        })
        .collect();
    // Closing while the calls come in: each is either written and answered Stored, or
    // refused with Closed and not written; close returns after the last write.
    sink.close().await;
    let client = db.client().await;
    let stored = sorted(stored_events(&client).await);
    let mut acked = Vec::new();
    for c in calls {
        match c.await.unwrap() {
            (e, Ok(Accepted::Stored)) => acked.push(e),
            (e, Err(SinkError::Closed)) => {
                assert!(stored.binary_search_by_key(&e.key(), |s| s.key()).is_err())
            }
            (e, other) => panic!("{e:?}: {other:?}"),
        }
    }
    assert_eq!(stored, sorted(acked));
    drop(client);
    db.drop_db().await;
}

/// Distinct events (by key) from a small domain, so the generated keys collide often.
fn distinct_events() -> impl Strategy<Value = Vec<CountEvent>> {
    let one = (
        0u64..3,
        1u32..3,
        any::<bool>(),
        any::<bool>(),
        0u64..30,
        0i64..(4 * 3600),
        proptest::option::weighted(0.3, 0u128..40),
        -2i32..3,
    )
        .prop_map(|(serial, roi, out, staff, pid, at, uuid, tz)| CountEvent {
            serial: CameraSerial::from_u64(0x0000_0000_6afc_e300 + serial),
            roi: RoiId(roi),
            metric: if out { Metric::Out } else { Metric::In },
            people_type: if staff {
                PeopleType::Staff
            } else {
                PeopleType::Visitor
            },
            people_id: PeopleId(pid),
            start: BASE + at - 3,
            end: BASE + at,
            offset: UtcOffset::from_seconds(tz * 3600).unwrap(),
            uuid: uuid.map(MessageId::from_u128),
            source: if uuid.is_some() {
                Source::WebSocketPro2
            } else {
                Source::WebSocket
            },
        });
    proptest::collection::vec(one, 1..120).prop_map(|events| {
        let mut by_key = BTreeMap::new();
        for e in events {
            by_key.entry(e.key()).or_insert(e);
        }
        by_key.into_values().collect()
    })
}

#[test]
fn exactly_once_when_everything_is_sent_twice_reordered_and_concurrently() {
    let Some(url) = env_or_skip("FFC_PG_URL") else {
        return;
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    // Two sinks, as two worker processes would have, each with several writers.
    let (db, sinks, client) = rt.block_on(async {
        let db = TestDb::new(&url).await;
        let mut sinks = Vec::new();
        for _ in 0..2 {
            let sink = PgSink::connect(
                db.config()
                    .with_pool_size(3)
                    .with_batch_size(16)
                    .with_batch_wait(Duration::from_millis(1)),
            )
            .await
            .unwrap();
            sinks.push(Arc::new(sink));
        }
        let client = db.client().await;
        (db, sinks, client)
    });
    let strategy = distinct_events().prop_flat_map(|events| {
        let shuffled = Just(events.clone()).prop_shuffle();
        (Just(events), shuffled, 2usize..12)
    });
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 12,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    runner
        .run(&strategy, |(events, shuffled, tasks)| {
            rt.block_on(async {
                client
                    .batch_execute("TRUNCATE ffc_events, ffc_record_totals, ffc_record_deltas")
                    .await
                    .unwrap();
                let before: u64 = sinks.iter().map(|s| s.stats().events_stored).sum();
                // Both copies in flight at once, spread over `tasks` concurrent senders on
                // the two sinks.
                let all: Vec<CountEvent> = events.iter().chain(&shuffled).copied().collect();
                let mut senders = Vec::new();
                for t in 0..tasks {
                    let mine: Vec<CountEvent> =
                        all.iter().skip(t).step_by(tasks).copied().collect();
                    let sink = sinks[t % sinks.len()].clone();
                    senders.push(tokio::spawn(async move {
                        let mut answers = Vec::new();
                        for e in mine {
                            answers.push((e.key(), sink.accept(&e).await.unwrap()));
                        }
                        answers
                    }));
                }
                let mut stored = BTreeSet::new();
                let mut duplicates = 0;
                for s in senders {
                    for (key, answer) in s.await.unwrap() {
                        match answer {
                            Accepted::Stored => {
                                prop_assert!(stored.insert(key), "{key:?} stored twice")
                            }
                            Accepted::Duplicate => duplicates += 1,
                        }
                    }
                }
                prop_assert_eq!(stored.len(), events.len());
                prop_assert_eq!(duplicates, events.len());
                prop_assert_eq!(sorted(stored_events(&client).await), sorted(events.clone()));
                prop_assert_eq!(stored_records(&client).await, expected_records(&events));
                let after: u64 = sinks.iter().map(|s| s.stats().events_stored).sum();
                prop_assert_eq!(after - before, events.len() as u64);
                Ok(())
            })
        })
        .unwrap();
    rt.block_on(async {
        for sink in &sinks {
            sink.close().await;
        }
        drop(client);
        db.drop_db().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acks_only_after_commit_while_backends_are_killed() {
    let Some(url) = env_or_skip("FFC_PG_URL") else {
        return;
    };
    let db = TestDb::new(&url).await;
    let sink = Arc::new(
        PgSink::connect(
            db.config()
                .with_pool_size(4)
                .with_batch_size(25)
                .with_retry(RetryPolicy::forever(
                    Duration::from_millis(5),
                    Duration::from_millis(100),
                )),
        )
        .await
        .unwrap(),
    );
    let admin = pg_support::client(&url, None).await;
    let kill = "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))
                FROM pg_stat_activity WHERE datname = $1 AND application_name = 'ffc-pg-sink'";

    // A killer terminating the sink's backends over and over while events stream in.
    let done = Arc::new(AtomicBool::new(false));
    let killer = {
        let done = done.clone();
        let name = db.name.clone();
        let admin = pg_support::client(&url, None).await;
        tokio::spawn(async move {
            let mut killed = 0i64;
            while !done.load(Ordering::Relaxed) {
                killed += admin
                    .query_one(kill, &[&name])
                    .await
                    .unwrap()
                    .get::<_, i64>(0);
                // Often enough to hit transactions in flight, rarely enough to let most
                // batches through.
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            killed
        })
    };

    let rounds = 6u64;
    let per_round = 400u64;
    let mut between_rounds = 0i64;
    let mut acked = Vec::new();
    for round in 0..rounds {
        let mut senders = Vec::new();
        for t in 0..20 {
            let sink = sink.clone();
            senders.push(tokio::spawn(async move {
                let mut answers = Vec::new();
                for i in (t..per_round).step_by(20) {
                    let e = event(round * per_round + i);
                    answers.push((e, sink.accept(&e).await));
                }
                answers
            }));
        }
        for s in senders {
            acked.extend(s.await.unwrap());
        }
        // And the pool's idle connections between rounds, so the next round surely starts
        // on connections the server has closed.
        between_rounds += admin
            .query_one(kill, &[&db.name])
            .await
            .unwrap()
            .get::<_, i64>(0);
    }
    done.store(true, Ordering::Relaxed);
    let killed_midstream = killer.await.unwrap();

    let client = db.client().await;
    let stored = sorted(stored_events(&client).await);
    let total = (rounds * per_round) as usize;
    // Every call returned Ok (the retries brought the batches the kills broke), and every
    // acknowledged event is in the table exactly once.
    let mut answers = std::collections::HashMap::<Accepted, usize>::new();
    for (e, answer) in &acked {
        let answer = answer.as_ref().expect("retried to success");
        *answers.entry(*answer).or_default() += 1;
        assert!(stored.binary_search_by_key(&e.key(), |s| s.key()).is_ok());
    }
    assert_eq!(acked.len(), total);
    assert_eq!(stored.len(), total);
    let sent: Vec<CountEvent> = acked.iter().map(|(e, _)| *e).collect();
    assert_eq!(stored, sorted(sent.clone()));
    assert_eq!(stored_records(&client).await, expected_records(&sent));
    assert!(
        between_rounds > 0,
        "the sink's connections were never killed"
    );
    // A kill during COMMIT leaves its outcome unknown; the retry then finds the rows and
    // answers Duplicate, which is true. Nothing else answers Duplicate here.
    let stats = sink.stats();
    assert_eq!(stats.events_stored + stats.duplicates, total as u64);
    eprintln!(
        "killed {between_rounds} idle and {killed_midstream} busy backends; {stats:?}; answers {answers:?}"
    );
    sink.close().await;
    drop(client);
    drop(admin);
    db.drop_db().await;
}

/// A private cluster from FFC_PG_START: stopped and restarted by the test.
struct Cluster {
    dir: tempfile::TempDir,
    port: u16,
}

impl Cluster {
    fn data(&self) -> std::path::PathBuf {
        self.dir.path().join("data")
    }

    fn start(&self) {
        let start = std::env::var("FFC_PG_START").unwrap();
        let out = std::process::Command::new(start)
            .arg(self.data())
            .arg(self.port.to_string())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "FFC_PG_START failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn stop(&self) {
        let stop = std::env::var("FFC_PG_STOP").unwrap();
        let out = std::process::Command::new(stop)
            .arg(self.data())
            .arg("immediate")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "FFC_PG_STOP failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn url(&self) -> String {
        format!("postgresql://ffc@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if let Ok(stop) = std::env::var("FFC_PG_STOP") {
            let _ = std::process::Command::new(stop)
                .arg(self.data())
                .arg("immediate")
                .output();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_database_gets_no_false_ack_and_the_sink_resumes() {
    if env_or_skip("FFC_PG_START").is_none() || env_or_skip("FFC_PG_STOP").is_none() {
        return;
    }
    let port = free_port();
    let cluster = Cluster {
        dir: tempfile::tempdir().unwrap(),
        port,
    };
    cluster.start();
    let password = "pw-stopped-db-s3cret";
    let base = PgSinkConfig::new(&cluster.url())
        .unwrap()
        .with_password(password)
        .with_retry(RetryPolicy::forever(
            Duration::from_millis(20),
            Duration::from_millis(200),
        ));
    // `patient` retries for longer than the outage; `hasty` gives up after a second.
    let patient = Arc::new(
        PgSink::connect(
            base.clone()
                .with_pool_size(2)
                .with_batch_size(4)
                .with_queue_bound(8)
                .with_retry_for(Duration::from_secs(300)),
        )
        .await
        .unwrap(),
    );
    let hasty = Arc::new(
        PgSink::connect(
            base.with_pool_size(1)
                .with_retry_for(Duration::from_secs(1)),
        )
        .await
        .unwrap(),
    );
    for n in 0..10 {
        assert_eq!(patient.accept(&event(n)).await.unwrap(), Accepted::Stored);
    }
    let committed = patient.stats().batches;

    cluster.stop();
    let waiting: Vec<_> = (100..130)
        .map(|n| {
            let sink = patient.clone();
            tokio::spawn(async move { sink.accept(&event(n)).await })
        })
        .collect();
    let failing: Vec<_> = (200..205)
        .map(|n| {
            let sink = hasty.clone();
            tokio::spawn(async move { sink.accept(&event(n)).await })
        })
        .collect();
    // The hasty sink answers with an error (never Ok), without the password.
    for f in failing {
        match f.await.unwrap() {
            Err(e @ SinkError::Database { .. }) => {
                let text = format!("{e} {e:?}");
                assert!(!text.contains(password), "{text}");
            }
            other => panic!("expected SinkError::Database, got {other:?}"),
        }
    }
    assert_eq!(hasty.stats().failed, 5);
    // Meanwhile the patient sink acknowledged nothing: its callers still wait, its queue is
    // full (at most 2 writers x 4 events in flight, 8 queued, the rest wait to enqueue).
    assert!(waiting.iter().all(|w| !w.is_finished()));
    assert_eq!(patient.queued(), 8);
    assert_eq!(patient.stats().batches, committed);

    cluster.start();
    for w in waiting {
        assert_eq!(w.await.unwrap().unwrap(), Accepted::Stored);
    }
    // What the hasty sink refused, its senders resend: stored now, once.
    for n in 200..205 {
        assert_eq!(hasty.accept(&event(n)).await.unwrap(), Accepted::Stored);
    }
    let client = pg_support::client(&cluster.url(), None).await;
    let expected: Vec<CountEvent> = (0..10).chain(100..130).chain(200..205).map(event).collect();
    assert_eq!(
        sorted(stored_events(&client).await),
        sorted(expected.clone())
    );
    assert_eq!(stored_records(&client).await, expected_records(&expected));
    assert!(patient.stats().retries > 0);
    patient.close().await;
    hasty.close().await;
}

#[tokio::test]
async fn connect_errors_never_show_the_password() {
    // A port nothing listens on (bound, then released).
    let port = free_port();
    let config = PgSinkConfig::new(&format!(
        "postgresql://ffc:pw-url-s3cret@127.0.0.1:{port}/x"
    ))
    .unwrap()
    .with_connect_timeout(Duration::from_secs(2));
    let e = PgSink::connect(config.clone()).await.unwrap_err();
    let text = format!("{e} {e:?} {config} {config:?}");
    assert!(matches!(e, PgSinkError::Connect { .. }), "{text}");
    assert!(!text.contains("pw-url-s3cret"), "{text}");
    assert!(text.contains(&format!("127.0.0.1:{port}")), "{text}");
}

#[tokio::test]
async fn connect_waiting_retries_only_while_the_database_is_unreachable() {
    // Unreachable: a port nothing listens on. It keeps trying (the wait's ceiling doubling up
    // to the cap, each wait drawn below it: full jitter) until the caller gives up; the
    // callback hears each failure, without a password.
    let port = free_port();
    let config = PgSinkConfig::new(&format!("postgresql://ffc:pw-s3cret@127.0.0.1:{port}/x"))
        .unwrap()
        .with_connect_timeout(Duration::from_secs(1))
        .with_connect_retry(RetryPolicy::forever(
            Duration::from_millis(100),
            Duration::from_millis(200),
        ));
    // Stopped from the callback after the third failure, not by a clock: no timing
    // threshold; the 120 s guard only keeps a broken build from hanging.
    let waits = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let third = std::sync::Arc::new(tokio::sync::Notify::new());
    let (seen, notify) = (waits.clone(), third.clone());
    let waiting = PgSink::connect_waiting(config, move |e, wait| {
        assert!(!format!("{e} {e:?}").contains("pw-s3cret"));
        let mut seen = seen.lock().unwrap();
        seen.push(wait);
        if seen.len() == 3 {
            notify.notify_one();
        }
    });
    tokio::select! {
        _ = third.notified() => {}
        done = waiting => panic!("connect_waiting returned while unreachable: {:?}", done.err()),
        _ = tokio::time::sleep(Duration::from_secs(120)) => panic!("no third retry in 120 s"),
    }
    let waits = waits.lock().unwrap().clone();
    assert!(waits.len() >= 3, "{waits:?}");
    // Full jitter: each wait lies at or below its ceiling (100 ms, then 200 ms, then the
    // 200 ms cap); that the ceilings double and cap is ffc-core's backoff test
    // (`ceilings_double_then_cap`), this one checks the sink passes its policy on.
    assert!(waits[0] <= Duration::from_millis(100), "{waits:?}");
    assert!(
        waits[1] <= Duration::from_millis(200),
        "second wait under the 200 ms ceiling: {waits:?}"
    );
    assert!(
        waits.iter().all(|w| *w <= Duration::from_millis(200)),
        "{waits:?}"
    );

    // Reachable: connects at once, no retry.
    let Some(url) = env_or_skip("FFC_PG_URL") else {
        return;
    };
    let db = TestDb::new(&url).await;
    let mut retries = 0;
    let sink = PgSink::connect_waiting(db.config(), |_, _| retries += 1)
        .await
        .unwrap();
    assert_eq!(retries, 0);
    assert_eq!(sink.accept(&event(1)).await.unwrap(), Accepted::Stored);
    sink.close().await;
    db.drop_db().await;
}

#[tokio::test]
async fn connect_waiting_gives_up_when_its_policy_does() {
    // A policy with a count ends the wait: after the last attempt the Connect error comes
    // back, having been heard once per retry before.
    let port = free_port();
    let config = PgSinkConfig::new(&format!("postgresql://ffc:pw-s3cret@127.0.0.1:{port}/x"))
        .unwrap()
        .with_connect_timeout(Duration::from_secs(1))
        .with_connect_retry(
            RetryPolicy::default()
                .with_initial(Duration::from_millis(10))
                .with_cap(Duration::from_millis(20))
                .with_max_attempts(Some(3)),
        );
    let mut heard = Vec::new();
    let e = PgSink::connect_waiting(config, |e, wait| heard.push((e.to_string(), wait)))
        .await
        .unwrap_err();
    assert!(matches!(e, PgSinkError::Connect { .. }), "{e}");
    assert!(!format!("{e} {e:?}").contains("pw-s3cret"));
    assert_eq!(heard.len(), 2, "three attempts, two waits: {heard:?}");
    assert!(heard
        .iter()
        .all(|(_, wait)| *wait <= Duration::from_millis(20)));
}

/// A local port nothing listens on (bound, then released).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
