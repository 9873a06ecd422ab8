//! The PostgreSQL event sink (issue 11), against baselines in the same run, on the same
//! server and the same kind of events (all new keys, so every event is really inserted):
//!
//! - `pg_sink/PgSink batched`: `PgSink::accept` from 256 concurrent tasks (group commit:
//!   one transaction per batch, the event rows and their hourly totals), 4 writers.
//! - `pg_sink/INSERT per event`: the plain way: one autocommit `INSERT .. ON CONFLICT DO
//!   NOTHING` per event through tokio-postgres, on 4 connections at once (the sink's pool
//!   size), without the hourly totals (so the baseline does less work).
//! - `pg_sink/COPY`: the bulk-load ceiling: the same rows through `COPY .. FROM STDIN` (text),
//!   one transaction per iteration, no duplicate check and no totals.
//!
//! Needs FFC_PG_URL (`source scripts/services.sh`); skipped without it. The test cluster runs
//! with `fsync` off, which flatters the per-event baseline (its commits cost no disk flush).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, Criterion, Throughput};
use ffc_core::{CameraSerial, CountEvent, Metric, PeopleId, PeopleType, RoiId, Source, UtcOffset};
use ffc_protocols::sink::postgres::{PgSink, PgSinkConfig};
use ffc_protocols::sink::{Accepted, EventSink};
use futures_util::SinkExt;
use tokio_postgres::NoTls;

/// Events per timed iteration.
const EVENTS: u64 = 4_000;
/// Concurrent callers of the sink.
const CALLERS: u64 = 256;
/// Connections: the sink's pool and the baseline's clients.
const CONNECTIONS: usize = 4;

/// Every event ever made in this run has a new people id, so no key repeats.
static NEXT: AtomicU64 = AtomicU64::new(0);

fn fresh_events(n: u64) -> Vec<CountEvent> {
    let first = NEXT.fetch_add(n, Ordering::Relaxed);
    (first..first + n)
        .map(|i| CountEvent {
            serial: CameraSerial::from_u64(0x7b77_a260 + (i % 64)),
            roi: RoiId(1),
            metric: if i % 2 == 0 { Metric::In } else { Metric::Out },
            people_type: PeopleType::Visitor,
            people_id: PeopleId(i),
            start: 1_750_000_000 + (i % 86_400) as i64,
            end: 1_750_000_001 + (i % 86_400) as i64,
            offset: UtcOffset::from_seconds(8 * 3600).unwrap(),
            uuid: None,
            source: Source::Mqtt,
        })
        .collect()
}

async fn client(config: &tokio_postgres::Config) -> tokio_postgres::Client {
    let (client, connection) = config.connect(NoTls).await.unwrap();
    tokio::spawn(connection);
    client
}

const INSERT_ONE: &str = "INSERT INTO ffc_events (serial, roi, metric, people_type, people_id,
    start_unix, end_unix, utc_offset_seconds, uuid, source)
    VALUES ($1, $2, $3, $4, $5::text::numeric, $6, $7, $8, NULL, $9) ON CONFLICT DO NOTHING";

fn pg_bench(c: &mut Criterion) {
    let Ok(url) = std::env::var("FFC_PG_URL") else {
        eprintln!("pg_sink skipped: FFC_PG_URL not set (source scripts/services.sh)");
        return;
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let name = format!("ffc_bench_{}", std::process::id());
    let mut db: tokio_postgres::Config = url.parse().unwrap();
    let (sink, clients) = rt.block_on(async {
        let admin = client(&url.parse().unwrap()).await;
        // Two statements: a multi-statement string runs as one transaction, which DROP
        // DATABASE refuses.
        for sql in [
            format!("DROP DATABASE IF EXISTS {name}"),
            format!("CREATE DATABASE {name}"),
        ] {
            admin.batch_execute(&sql).await.unwrap();
        }
        db.dbname(&name);
        let sink = PgSink::connect(
            PgSinkConfig::new(&url)
                .unwrap()
                .with_dbname(&name)
                .with_pool_size(CONNECTIONS)
                .with_batch_size(1000)
                .with_batch_wait(Duration::from_millis(1)),
        )
        .await
        .unwrap();
        let mut clients = Vec::new();
        for _ in 0..CONNECTIONS {
            clients.push(Arc::new(client(&db).await));
        }
        (Arc::new(sink), clients)
    });

    let mut group = c.benchmark_group("pg_sink");
    group.throughput(Throughput::Elements(EVENTS));
    group.sample_size(10);

    group.bench_function("PgSink batched", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let events = Arc::new(fresh_events(EVENTS));
                    let started = Instant::now();
                    let tasks: Vec<_> = (0..CALLERS)
                        .map(|t| {
                            let sink = sink.clone();
                            let events = events.clone();
                            tokio::spawn(async move {
                                for e in events.iter().skip(t as usize).step_by(CALLERS as usize) {
                                    assert_eq!(sink.accept(e).await.unwrap(), Accepted::Stored);
                                }
                            })
                        })
                        .collect();
                    for t in tasks {
                        t.await.unwrap();
                    }
                    total += started.elapsed();
                }
                total
            })
        })
    });

    group.bench_function("INSERT per event", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let events = Arc::new(fresh_events(EVENTS));
                    let started = Instant::now();
                    let tasks: Vec<_> = clients
                        .iter()
                        .enumerate()
                        .map(|(k, client)| {
                            let client = client.clone();
                            let events = events.clone();
                            tokio::spawn(async move {
                                let insert = client.prepare(INSERT_ONE).await.unwrap();
                                for e in events.iter().skip(k).step_by(CONNECTIONS) {
                                    let added = client
                                        .execute(
                                            &insert,
                                            &[
                                                &e.serial.to_string(),
                                                &i64::from(e.roi.0),
                                                &i16::from(e.metric.code()),
                                                &i16::from(e.people_type.code()),
                                                &e.people_id.0.to_string(),
                                                &e.start,
                                                &e.end,
                                                &e.offset.seconds(),
                                                &"Mqtt",
                                            ],
                                        )
                                        .await
                                        .unwrap();
                                    assert_eq!(added, 1);
                                }
                            })
                        })
                        .collect();
                    for t in tasks {
                        t.await.unwrap();
                    }
                    total += started.elapsed();
                }
                total
            })
        })
    });

    group.bench_function("COPY", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let client = &clients[0];
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let events = fresh_events(EVENTS);
                    let started = Instant::now();
                    let mut text = String::with_capacity(events.len() * 80);
                    for e in &events {
                        use std::fmt::Write as _;
                        writeln!(
                            text,
                            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t\\N\tMqtt",
                            e.serial,
                            e.roi.0,
                            e.metric.code(),
                            e.people_type.code(),
                            e.people_id.0,
                            e.start,
                            e.end,
                            e.offset.seconds()
                        )
                        .unwrap();
                    }
                    let sink = client
                        .copy_in(
                            "COPY ffc_events (serial, roi, metric, people_type, people_id, \
                             start_unix, end_unix, utc_offset_seconds, uuid, source) FROM STDIN",
                        )
                        .await
                        .unwrap();
                    futures_util::pin_mut!(sink);
                    sink.send(bytes::Bytes::from(text)).await.unwrap();
                    assert_eq!(sink.as_mut().finish().await.unwrap(), EVENTS);
                    total += started.elapsed();
                }
                total
            })
        })
    });
    group.finish();

    rt.block_on(async {
        sink.close().await;
        drop(clients);
        let admin = client(&url.parse().unwrap()).await;
        admin
            .batch_execute(&format!("DROP DATABASE {name} WITH (FORCE)"))
            .await
            .unwrap();
    });
}

criterion_group!(benches, pg_bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
