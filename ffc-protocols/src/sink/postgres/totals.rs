//! The hourly totals as appended deltas (schema version 4, issue 18): each batch appends its
//! per-bucket sums to `ffc_record_deltas` in its own transaction, as one row of parallel
//! arrays (one element per bucket), and now and then one writer folds the deltas into
//! `ffc_record_totals` (`ffc_fold_records()`, one transaction). The view `ffc_records` adds
//! the two, so a reader sees every committed event counted once, whether its delta has been
//! folded yet or not.
//!
//! Why: adding to the totals in place (`ON CONFLICT DO UPDATE`, versions 1 to 3) made nearly
//! one row update per event, on buckets every writer shares, so writers waited on each
//! other's row locks; an append takes no lock another writer waits for. One row a batch
//! rather than one a bucket: a batch's buckets are about as many as its events when many
//! counters send a little each, and a row per bucket cost the sink a tenth of its rate in
//! the `pg_sink` bench.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use tokio::time::Instant;

use super::ack::Counters;
use super::error::{error_text, pool_error_text};
use super::writer_tx::Checked;
use super::Shared;
use crate::sink::lock;

/// The delta rows of `$rows` (the table, or the rows a fold deleted) one row per bucket:
/// one text for the view `ffc_record_delta_buckets` and the fold.
macro_rules! delta_buckets {
    ($rows:literal) => {
        concat!(
            "SELECT d.serial, d.roi, d.metric, d.people_type, ",
            "to_timestamp(d.hour_unix) AS hour_start, d.events\nFROM ",
            $rows,
            " b,\n     unnest(b.serial, b.roi, b.metric, b.people_type, b.hour_unix, b.events)",
            "\n         AS d(serial, roi, metric, people_type, hour_unix, events)"
        )
    };
}

/// Migration 4's SQL. The view `ffc_records` keeps the old table's name, column names and
/// types, so readers (and the views of version 2) read it as before. A `WHERE` on key
/// columns is pushed below the `GROUP BY` into both arms of the `UNION ALL` (PostgreSQL
/// pushes quals on grouping columns into the subquery; checked with `EXPLAIN`: an index
/// scan of `ffc_record_totals_pkey` and a scan of the deltas), so a report on a few
/// counters or hours reads those rows, not the whole table.
///
/// `ffc_counter_hours` (version 2) referred to the table by its OID and followed it through
/// the rename; it is defined again with its own text, so it reads the view, deltas included.
pub(super) const V4: &str = concat!(
    r#"
ALTER TABLE ffc_records RENAME TO ffc_record_totals;
ALTER TABLE ffc_record_totals RENAME CONSTRAINT ffc_records_pkey TO ffc_record_totals_pkey;
-- One row a batch: element i of each array is bucket i's key and count (the hour as unix
-- seconds). The check keeps the arrays aligned, so a fold never meets a half key.
CREATE TABLE ffc_record_deltas (
    serial text[] NOT NULL,
    roi bigint[] NOT NULL,
    metric smallint[] NOT NULL,
    people_type smallint[] NOT NULL,
    hour_unix bigint[] NOT NULL,
    events bigint[] NOT NULL,
    CHECK (cardinality(roi) = cardinality(serial) AND cardinality(metric) = cardinality(serial)
           AND cardinality(people_type) = cardinality(serial)
           AND cardinality(hour_unix) = cardinality(serial)
           AND cardinality(events) = cardinality(serial))
);
-- The deltas one row per bucket, as the fold and the view read them.
CREATE VIEW ffc_record_delta_buckets AS
"#,
    delta_buckets!("ffc_record_deltas"),
    r#";
CREATE VIEW ffc_records AS
SELECT serial, roi, metric, people_type, hour_start, sum(events)::bigint AS events
FROM (SELECT serial, roi, metric, people_type, hour_start, events FROM ffc_record_totals
      UNION ALL
      SELECT serial, roi, metric, people_type, hour_start, events
      FROM ffc_record_delta_buckets) r
GROUP BY serial, roi, metric, people_type, hour_start;
"#,
    "CREATE OR REPLACE VIEW ffc_counter_hours AS\n",
    super::provenance::counter_hours_view!(),
    r#"-- Moves every committed delta into the totals, in one transaction (readers of ffc_records
-- see the sums before or after, never half), and returns how many bucket counts it moved; 0
-- at once when another fold holds the lock ("ffc fold" in ASCII). The totals are upserted
-- in key order, so a fold never deadlocks with anything else that does the same.
CREATE FUNCTION ffc_fold_records() RETURNS bigint LANGUAGE plpgsql AS $fold$
DECLARE
    folded bigint;
BEGIN
    IF NOT pg_try_advisory_xact_lock(7378694030301817956) THEN
        RETURN 0;
    END IF;
    WITH gone AS (
        DELETE FROM ffc_record_deltas
        RETURNING serial, roi, metric, people_type, hour_unix, events
    ), buckets AS (
"#,
    delta_buckets!("gone"),
    r#"
    ), summed AS (
        SELECT serial, roi, metric, people_type, hour_start,
               sum(events)::bigint AS events, count(*) AS deltas
        FROM buckets
        GROUP BY serial, roi, metric, people_type, hour_start
    ), added AS (
        INSERT INTO ffc_record_totals AS t (serial, roi, metric, people_type, hour_start, events)
        SELECT serial, roi, metric, people_type, hour_start, events
        FROM summed
        ORDER BY serial, roi, metric, people_type, hour_start
        ON CONFLICT (serial, roi, metric, people_type, hour_start)
            DO UPDATE SET events = t.events + EXCLUDED.events
    )
    SELECT coalesce(sum(deltas), 0)::bigint INTO folded FROM summed;
    RETURN folded;
END
$fold$;
"#
);

/// The fold, as the sink runs it.
const FOLD: &str = "SELECT ffc_fold_records()";

/// Run before each fold: every fold leaves its deltas dead, and until a vacuum marks their
/// space free, new deltas extend the table and every fold and reader scans the dead pages
/// too (autovacuum comes by once a minute at best: at 100,000 events a second the table
/// grew to 40 MB within 10 s). Run before the fold, it frees what the previous fold
/// deleted (what this fold deletes is still seen by the writers' open transactions).
/// `SKIP_LOCKED`: another sink's vacuum is doing it; `TRUNCATE false`: no exclusive lock,
/// the freed pages are reused instead.
const VACUUM_DELTAS: &str = "VACUUM (SKIP_LOCKED, TRUNCATE false) ffc_record_deltas";

/// When the writers last folded and whether one is folding now, so that one writer folds
/// at a time and the others go on writing.
pub(super) struct Folds {
    /// Batches committed since the last fold began.
    since: AtomicUsize,
    /// When the last fold began (or the sink started).
    last: Mutex<Instant>,
    /// A writer is folding.
    running: AtomicBool,
}

impl Folds {
    pub(super) fn new() -> Self {
        Folds {
            since: AtomicUsize::new(0),
            last: Mutex::new(Instant::now()),
            running: AtomicBool::new(false),
        }
    }

    /// Counts a committed batch; true when a fold is due (`fold_batches` batches or
    /// `fold_interval` since the last one began) and no other writer is folding, in which
    /// case this caller folds and must call [`Folds::done`] after.
    fn claim(&self, shared: &Shared) -> bool {
        let since = self.since.fetch_add(1, Ordering::Relaxed) + 1;
        let due = since >= shared.config.fold_batches()
            || lock(&self.last).elapsed() >= shared.config.fold_interval;
        if !due
            || self
                .running
                .compare_exchange(false, true, Ordering::AcqRel, Ordering::Relaxed)
                .is_err()
        {
            return false;
        }
        self.since.store(0, Ordering::Relaxed);
        *lock(&self.last) = Instant::now();
        true
    }

    fn done(&self) {
        self.running.store(false, Ordering::Release);
    }
}

/// After a writer's batch committed (and its callers were answered): folds the deltas when
/// one is due and no other writer is folding. The other writers go on meanwhile.
pub(super) async fn after_commit(shared: &Shared) {
    if shared.folds.claim(shared) {
        // A failure is logged and counted there; the next fold retries.
        let _ = fold_now(shared).await;
        shared.folds.done();
    }
}

/// Runs `ffc_fold_records()` once on a connection of the pool and returns the bucket counts
/// it moved. A failure is logged and counted, and returned as its text (without the password):
/// the deltas stay where they are, still counted by the view, and the next fold takes them.
pub(super) async fn fold_now(shared: &Shared) -> Result<u64, String> {
    let config = &shared.config;
    let limit = config
        .connect_timeout
        .saturating_add(config.statement_timeout);
    let result = match tokio::time::timeout(limit, fold_on_pool(shared)).await {
        Ok(Ok(folded)) => u64::try_from(folded)
            .map_err(|_| format!("ffc_fold_records() answered {folded} rows folded")),
        Ok(Err(message)) => Err(message),
        Err(_) => Err(format!(
            "no answer from the database within {} ms",
            limit.as_millis()
        )),
    };
    match result {
        Ok(folded) => {
            Counters::add(&shared.counters.folds, 1);
            shared
                .counters
                .deltas_folded
                .fetch_add(folded, Ordering::Relaxed);
            tracing::debug!(folded, "PostgreSQL sink folded the hourly deltas");
            Ok(folded)
        }
        Err(message) => {
            Counters::add(&shared.counters.fold_failures, 1);
            tracing::warn!(error = %message, "PostgreSQL sink could not fold the hourly deltas; they stay counted and the next fold takes them");
            Err(message)
        }
    }
}

/// One fold on a pooled connection, which goes back to the pool only when the fold
/// answered (see [`Checked`]).
async fn fold_on_pool(shared: &Shared) -> Result<i64, String> {
    let client = shared
        .pool
        .get()
        .await
        .map_err(|e| shared.redact(pool_error_text(&e)))?;
    let checked = Checked::new(client);
    let Some(client) = checked.client() else {
        return Err("no connection in hand".into());
    };
    // A vacuum that fails (say, a role that does not own the table) leaves the fold to do.
    if let Err(e) = client.batch_execute(VACUUM_DELTAS).await {
        tracing::warn!(error = %shared.redact(error_text(&e)), "PostgreSQL sink could not vacuum ffc_record_deltas");
    }
    let folded = async {
        let statement = client.prepare_cached(FOLD).await?;
        client
            .query_one(&statement, &[])
            .await?
            .try_get::<_, i64>(0)
    }
    .await
    .map_err(|e| shared.redact(error_text(&e)))?;
    checked.keep();
    Ok(folded)
}
