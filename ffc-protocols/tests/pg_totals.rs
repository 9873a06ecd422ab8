//! Schema version 4 of the PostgreSQL sink against a real PostgreSQL (FFC_PG_URL from
//! scripts/services.d/40-postgres.sh; without it a test says so and returns, except under
//! CI): the hourly totals appended as deltas, folded by `ffc_fold_records()`, read through
//! the view `ffc_records` and the views built on it; and the upgrade of a version 3 database.

use std::collections::BTreeMap;
use std::time::Duration;

use ffc_core::{CameraSerial, CountEvent, Metric};
use ffc_protocols::sink::postgres::{
    migrate_to, CounterPlace, PgSink, PgSinkConfig, SCHEMA_VERSION,
};
use ffc_protocols::sink::{Accepted, EventSink, SinkError};
mod pg_support;
use pg_support::{client, drop_db, fresh_db, texts, url_or_skip};

const HOUR_10: i64 = 1_753_264_800; // 2025-07-23 10:00:00 UTC
const C1: CameraSerial = CameraSerial::from_u64(0x70a1_5001);
const C2: CameraSerial = CameraSerial::from_u64(0x70a1_5002);

/// A sink that folds only when told (or when it closes).
async fn unfolding_sink(url: &str, db: &str) -> PgSink {
    let config = PgSinkConfig::new(url)
        .unwrap()
        .with_dbname(db)
        .with_pool_size(2)
        .with_fold_every(Duration::MAX, usize::MAX);
    PgSink::connect(config).await.unwrap()
}

fn event(serial: CameraSerial, n: u64, end: i64, metric: Metric) -> CountEvent {
    pg_support::event(serial, n, end, metric, 0)
}

/// `n` events of `serial` from number `first` on, alternately in and out, over two hours.
fn events(serial: CameraSerial, first: u64, n: u64) -> Vec<CountEvent> {
    (first..first + n)
        .map(|i| {
            let metric = if i % 2 == 0 { Metric::In } else { Metric::Out };
            event(serial, i, HOUR_10 + (i % 7_200) as i64, metric)
        })
        .collect()
}

type Bucket = (String, i16, i64);

/// `(serial, metric, hour)` → events, from `table` (the view `ffc_records` or a table).
async fn buckets(db: &tokio_postgres::Client, table: &str) -> BTreeMap<Bucket, i64> {
    db.query(
        &format!(
            "SELECT serial, metric, extract(epoch FROM hour_start)::bigint, sum(events)::bigint
             FROM {table} GROUP BY 1, 2, 3"
        ),
        &[],
    )
    .await
    .unwrap()
    .iter()
    .map(|r| ((r.get(0), r.get(1), r.get(2)), r.get(3)))
    .collect()
}

fn expected<'a>(events: impl IntoIterator<Item = &'a CountEvent>) -> BTreeMap<Bucket, i64> {
    let mut out = BTreeMap::new();
    for e in events {
        let bucket = (
            e.serial.to_string(),
            i16::from(e.metric.code()),
            e.end.div_euclid(3600) * 3600,
        );
        *out.entry(bucket).or_insert(0) += 1;
    }
    out
}

async fn count(db: &tokio_postgres::Client, sql: &str) -> i64 {
    db.query_one(sql, &[]).await.unwrap().get(0)
}

async fn accept_all(sink: &PgSink, events: &[CountEvent]) -> Vec<Accepted> {
    let mut answers = Vec::with_capacity(events.len());
    for e in events {
        answers.push(sink.accept(e).await.unwrap());
    }
    answers
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn totals_are_exact_through_the_view_before_and_after_a_fold() {
    let Some(url) = url_or_skip() else { return };
    let name = fresh_db(&url, "view").await;
    let sink = unfolding_sink(&url, &name).await;
    let db = client(&url, Some(&name)).await;

    let first = events(C1, 0, 300);
    assert!(accept_all(&sink, &first)
        .await
        .iter()
        .all(|a| *a == Accepted::Stored));
    // Nothing folded yet: the view counts the deltas alone.
    assert_eq!(
        count(&db, "SELECT count(*) FROM ffc_record_totals").await,
        0
    );
    let deltas = count(&db, DELTAS_HELD).await;
    assert!(deltas > 0);
    assert_eq!(buckets(&db, "ffc_records").await, expected(&first));

    assert_eq!(sink.fold_records().await.unwrap(), deltas as u64);
    assert_eq!(count(&db, DELTAS_HELD).await, 0);
    assert_eq!(buckets(&db, "ffc_record_totals").await, expected(&first));
    assert_eq!(buckets(&db, "ffc_records").await, expected(&first));

    // Resends (the checking path) and new events over the folded buckets: the view adds
    // the new deltas to the totals, and duplicates count nowhere.
    let second = events(C1, 200, 300);
    let answers = accept_all(&sink, &second).await;
    assert_eq!(
        answers
            .iter()
            .filter(|a| **a == Accepted::Duplicate)
            .count(),
        100
    );
    let all: Vec<CountEvent> = events(C1, 0, 500);
    assert_eq!(buckets(&db, "ffc_records").await, expected(&all));
    assert_eq!(buckets(&db, "ffc_record_totals").await, expected(&first));
    // A batch of resends alone (the checking path adds no row): no delta row, none counted.
    let held = count(&db, DELTAS_HELD).await;
    let rows = count(&db, "SELECT count(*) FROM ffc_record_deltas").await;
    assert!(accept_all(&sink, &first)
        .await
        .iter()
        .all(|a| *a == Accepted::Duplicate));
    assert_eq!(count(&db, DELTAS_HELD).await, held);
    assert_eq!(
        count(&db, "SELECT count(*) FROM ffc_record_deltas").await,
        rows
    );
    assert_eq!(buckets(&db, "ffc_records").await, expected(&all));
    // Closing folds once more.
    sink.close().await;
    assert_eq!(count(&db, DELTAS_HELD).await, 0);
    assert_eq!(buckets(&db, "ffc_record_totals").await, expected(&all));
    assert_eq!(buckets(&db, "ffc_records").await, expected(&all));
    assert!(sink.stats().folds >= 2, "{:?}", sink.stats());
    // A closed sink has no connection to fold on.
    assert!(matches!(
        sink.fold_records().await,
        Err(SinkError::Database { .. })
    ));
    drop(db);
    drop_db(&url, &name).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sitegroup_views_count_events_still_in_deltas() {
    let Some(url) = url_or_skip() else { return };
    let name = fresh_db(&url, "sitegroup").await;
    let sink = unfolding_sink(&url, &name).await;
    let db = client(&url, Some(&name)).await;
    sink.put_counters(&[
        CounterPlace::new(C1, "1", "North").with_site_group("G1", "Region A"),
        CounterPlace::new(C2, "1", "North").with_site_group("G1", "Region A"),
    ])
    .await
    .unwrap();
    let sent: Vec<CountEvent> = events(C1, 0, 40)
        .into_iter()
        .chain(events(C2, 0, 20))
        .collect();
    accept_all(&sink, &sent).await;
    // All in deltas: 40 + 20 events in hour 10, half in, half out.
    assert_eq!(
        count(&db, "SELECT count(*) FROM ffc_record_totals").await,
        0
    );
    assert_eq!(sitegroup_hours(&db).await, [(HOUR_10, 30, 30)]);
    assert_eq!(sitegroup_days(&db).await, [(30, 30)]);
    sink.fold_records().await.unwrap();
    assert_eq!(count(&db, DELTAS_HELD).await, 0);
    assert_eq!(sitegroup_hours(&db).await, [(HOUR_10, 30, 30)]);
    // Some folded, some not.
    accept_all(&sink, &events(C2, 20, 20)).await;
    assert!(count(&db, DELTAS_HELD).await > 0);
    assert_eq!(sitegroup_hours(&db).await, [(HOUR_10, 40, 40)]);
    assert_eq!(sitegroup_days(&db).await, [(40, 40)]);
    sink.close().await;
    drop(db);
    drop_db(&url, &name).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_fold_keeps_its_deltas_for_the_next() {
    let Some(url) = url_or_skip() else { return };
    let name = fresh_db(&url, "failed").await;
    let sink = unfolding_sink(&url, &name).await;
    let db = client(&url, Some(&name)).await;
    let sent = events(C1, 0, 50);
    accept_all(&sink, &sent).await;
    let deltas = count(&db, DELTAS_HELD).await;
    // The fold fails (its function is gone for a moment): nothing is lost or counted twice.
    db.batch_execute("ALTER FUNCTION ffc_fold_records() RENAME TO ffc_fold_records_away")
        .await
        .unwrap();
    let failed = sink.fold_records().await;
    assert!(
        matches!(&failed, Err(SinkError::Database { message }) if message.contains("ffc_fold_records")),
        "{failed:?}"
    );
    assert_eq!(sink.stats().fold_failures, 1);
    assert_eq!(count(&db, DELTAS_HELD).await, deltas);
    assert_eq!(buckets(&db, "ffc_records").await, expected(&sent));
    // The next fold takes them.
    db.batch_execute("ALTER FUNCTION ffc_fold_records_away() RENAME TO ffc_fold_records")
        .await
        .unwrap();
    assert_eq!(sink.fold_records().await.unwrap(), deltas as u64);
    assert_eq!(buckets(&db, "ffc_record_totals").await, expected(&sent));
    assert_eq!(buckets(&db, "ffc_records").await, expected(&sent));
    sink.close().await;
    drop(db);
    drop_db(&url, &name).await;
}

/// Site group G1's hours: (local hour as Unix seconds, in, out).
async fn sitegroup_hours(db: &tokio_postgres::Client) -> Vec<(i64, i64, i64)> {
    db.query(
        r#"SELECT extract(epoch FROM "Time")::bigint, "FC01_1_SUM", "FC02_1_SUM"
           FROM sitegroup_footfallcounting_hour WHERE "SiteGroupId" = 'G1' ORDER BY 1"#,
        &[],
    )
    .await
    .unwrap()
    .iter()
    .map(|r| (r.get(0), r.get(1), r.get(2)))
    .collect()
}

/// Site group G1's days: (in, out).
async fn sitegroup_days(db: &tokio_postgres::Client) -> Vec<(i64, i64)> {
    db.query(
        r#"SELECT "FC01_1_SUM", "FC02_1_SUM" FROM sitegroup_footfallcounting_day
           WHERE "SiteGroupId" = 'G1' ORDER BY "Time""#,
        &[],
    )
    .await
    .unwrap()
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect()
}

/// Bucket counts held in `ffc_record_deltas`, not folded yet (each row holds a batch's).
const DELTAS_HELD: &str =
    "SELECT coalesce(sum(cardinality(events)), 0)::bigint FROM ffc_record_deltas";

/// Appends `$2` bucket counts of one event each, spread over 24 buckets of serial `$1`, as
/// five delta rows (five batches).
const APPEND_DELTAS: &str = "
    INSERT INTO ffc_record_deltas (serial, roi, metric, people_type, hour_unix, events)
    SELECT array_agg($1::text), array_agg(1::bigint), array_agg((1 + (i % 2))::smallint),
           array_agg(1::smallint), array_agg(1753264800 + 3600 * ((i / 2) % 12)),
           array_agg(1::bigint)
    FROM generate_series(1, $2::bigint) AS i
    GROUP BY i % 5";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_folds_count_each_delta_once() {
    let Some(url) = url_or_skip() else { return };
    let name = fresh_db(&url, "folds").await;
    // Migrated; its writers never fold.
    unfolding_sink(&url, &name).await.close().await;
    let db = client(&url, Some(&name)).await;

    // A fold holding the lock: another returns 0 at once and leaves the deltas to it.
    db.execute(APPEND_DELTAS, &[&"a", &100i64]).await.unwrap();
    let holder = client(&url, Some(&name)).await;
    holder.batch_execute("BEGIN").await.unwrap();
    db.execute(APPEND_DELTAS, &[&"a", &50i64]).await.unwrap();
    assert_eq!(count(&holder, "SELECT ffc_fold_records()").await, 150);
    assert_eq!(count(&db, "SELECT ffc_fold_records()").await, 0);
    // Until it commits, readers see the deltas, not the half-done fold.
    assert_eq!(count(&db, DELTAS_HELD).await, 150);
    assert_eq!(
        count(&db, "SELECT sum(events)::bigint FROM ffc_records").await,
        150
    );
    holder.batch_execute("COMMIT").await.unwrap();
    assert_eq!(count(&db, DELTAS_HELD).await, 0);
    assert_eq!(
        count(&db, "SELECT sum(events)::bigint FROM ffc_record_totals").await,
        150
    );

    // Four appenders and four folders at once: every delta is folded exactly once.
    let mut tasks = Vec::new();
    for t in 0..4 {
        let (at, db_name) = (url.clone(), name.clone());
        tasks.push(tokio::spawn(async move {
            let c = client(&at, Some(&db_name)).await;
            for _ in 0..25 {
                c.execute(APPEND_DELTAS, &[&format!("s{t}"), &40i64])
                    .await
                    .unwrap();
            }
            0i64
        }));
        let (url, name) = (url.clone(), name.clone());
        tasks.push(tokio::spawn(async move {
            let c = client(&url, Some(&name)).await;
            let mut folded = 0;
            for _ in 0..25 {
                folded += count(&c, "SELECT ffc_fold_records()").await;
            }
            folded
        }));
    }
    let mut folded = 0;
    for task in tasks {
        folded += task.await.unwrap();
    }
    // What is left after the race, folded now that no fold holds the lock.
    folded += count(&db, "SELECT ffc_fold_records()").await;
    assert_eq!(folded, 4 * 25 * 40);
    assert_eq!(count(&db, DELTAS_HELD).await, 0);
    let per_serial: Vec<(String, i64)> = db
        .query(
            "SELECT serial, sum(events)::bigint FROM ffc_record_totals GROUP BY 1 ORDER BY 1",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let mut want = vec![("a".to_string(), 150)];
    want.extend((0..4).map(|t| (format!("s{t}"), 25 * 40)));
    assert_eq!(per_serial, want);
    // One row per bucket: 12 hours, 2 metrics.
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM ffc_record_totals WHERE serial = 's0'"
        )
        .await,
        24
    );
    drop((db, holder));
    drop_db(&url, &name).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_3_database_keeps_its_hourly_records() {
    let Some(url) = url_or_skip() else { return };
    let name = fresh_db(&url, "upgrade").await;
    let mut db = client(&url, Some(&name)).await;
    assert_eq!(migrate_to(&mut db, 3).await.unwrap(), 3);
    // What a version 3 sink left: a table ffc_records with its totals.
    db.batch_execute(
        "INSERT INTO ffc_counters (counter, branch_id, branch_name, site_group_id, site_group_name)
         VALUES ('0000000070a15001', '1', 'North', 'G1', 'Region A');
         INSERT INTO ffc_records (serial, roi, metric, people_type, hour_start, events) VALUES
             ('0000000070a15001', 1, 1, 1, to_timestamp(1753264800), 7),
             ('0000000070a15001', 1, 2, 1, to_timestamp(1753264800), 5),
             ('0000000070a15001', 1, 1, 1, to_timestamp(1753268400), 3);",
    )
    .await
    .unwrap();
    assert_eq!(
        sitegroup_hours(&db).await,
        [(HOUR_10, 7, 5), (HOUR_10 + 3600, 3, 0)]
    );

    let sink = unfolding_sink(&url, &name).await;
    let versions = count(&db, "SELECT max(version)::bigint FROM ffc_schema_version").await;
    assert_eq!(versions, i64::from(SCHEMA_VERSION));
    let mut want = BTreeMap::new();
    want.insert(("0000000070a15001".to_string(), 1i16, HOUR_10), 7i64);
    want.insert(("0000000070a15001".to_string(), 2, HOUR_10), 5);
    want.insert(("0000000070a15001".to_string(), 1, HOUR_10 + 3600), 3);
    assert_eq!(buckets(&db, "ffc_record_totals").await, want);
    assert_eq!(buckets(&db, "ffc_records").await, want);
    // The totals keep version 3's room for their updates, now the fold's.
    let options: Vec<String> = db
        .query_one(
            "SELECT coalesce(reloptions, '{}') FROM pg_class WHERE relname = 'ffc_record_totals'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(options, ["fillfactor=50"]);
    // New events add to the old totals, through the view and the sitegroup views.
    accept_all(&sink, &events(C1, 0, 4)).await;
    assert_eq!(
        sitegroup_hours(&db).await,
        [(HOUR_10, 9, 7), (HOUR_10 + 3600, 3, 0)]
    );
    sink.close().await;
    assert_eq!(count(&db, DELTAS_HELD).await, 0);
    assert_eq!(
        sitegroup_hours(&db).await,
        [(HOUR_10, 9, 7), (HOUR_10 + 3600, 3, 0)]
    );
    drop(db);
    drop_db(&url, &name).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_where_on_key_columns_reaches_the_totals_primary_key() {
    let Some(url) = url_or_skip() else { return };
    let name = fresh_db(&url, "plan").await;
    unfolding_sink(&url, &name).await.close().await;
    let db = client(&url, Some(&name)).await;
    // Enough totals that an index scan is worth it: 200 counters, 2 metrics, 100 hours.
    db.batch_execute(
        "INSERT INTO ffc_record_totals (serial, roi, metric, people_type, hour_start, events)
         SELECT lpad(to_hex(c), 16, '0'), 1, m, 1, to_timestamp(1753264800 + 3600 * h), 1
         FROM generate_series(1, 200) c, generate_series(1, 2) m, generate_series(0, 99) h;
         ANALYZE ffc_record_totals;",
    )
    .await
    .unwrap();
    let plan = texts(
        &db,
        "EXPLAIN SELECT * FROM ffc_records
         WHERE serial = '0000000000000007' AND hour_start >= to_timestamp(1753264800)",
    )
    .await;
    let plan = plan.join("\n");
    eprintln!("{plan}");
    assert!(plan.contains("ffc_record_totals_pkey"), "{plan}");
    drop(db);
    drop_db(&url, &name).await;
}
