//! A PostgreSQL [`EventSink`] and [`DeadLetterSink`] (feature `postgres`): events exactly once
//! on their [`EventKey`](ffc_core::EventKey), hourly bucket totals maintained in the same transaction, dead
//! letters with their raw bytes; the answer comes only after `COMMIT` returned.
//!
//! # How it writes
//!
//! `accept` puts the event on a bounded queue and waits. `pool_size` writer tasks take what is
//! queued (up to `batch_size` events, lingering at most `batch_wait` for more) and write it as
//! **one transaction** (no SQL is built from data):
//!
//! 1. while batches hold only new keys (the usual case), a binary `COPY` (tokio-postgres'
//!    `BinaryCopyInWriter`) of the batch's distinct keys straight into `ffc_events`, as a
//!    bulk load would, and the batch's hourly totals, summed in the writer, appended to
//!    `ffc_record_deltas` as one row of arrays (one element per hour bucket; see *Hourly
//!    totals* below). A key already stored fails the `COPY` (a unique violation): the
//!    transaction rolls back, nothing of it is kept, and the batch is written at once the
//!    checking way;
//! 2. the checking way (that batch and the next few, since resends come in runs): a binary
//!    `COPY` into the connection's temporary staging table `ffc_events_stage` (created once
//!    per connection, emptied at every commit), then `INSERT INTO ffc_events .. SELECT .. FROM
//!    ffc_events_stage ON CONFLICT DO NOTHING RETURNING ..`: only rows that were not there yet
//!    come back, and the hourly deltas count exactly those rows. Either way a total grows
//!    once per stored event, never for a duplicate, so bucket totals are exactly-once too;
//! 3. `COMMIT`; then each caller gets [`Accepted::Stored`] (its row was added) or
//!    [`Accepted::Duplicate`] (the key was already held, or an earlier caller of the same batch
//!    had it).
//!
//! Many concurrent `accept`s share one transaction (group commit), so a receiver with
//! thousands of counters makes a few large transactions instead of thousands of small ones.
//!
//! # Hourly totals
//!
//! Every batch counts the same counters' current hours, so adding to the totals in place
//! made writers wait on each other's row locks and cost a row update per bucket and batch.
//! Since schema version 4 a batch appends its sums to `ffc_record_deltas` instead, and after
//! a commit, once [`PgSinkConfig::fold_interval`] or [`PgSinkConfig::fold_batches`] batches
//! have passed, one writer runs `SELECT ffc_fold_records()` while the others go on: in one
//! transaction it deletes the deltas and adds their sums to `ffc_record_totals`, under an
//! advisory lock (a fold from another sink meanwhile returns 0 at once). The view
//! `ffc_records` adds totals and deltas, so a reader sees every committed event counted
//! once, before, during and after a fold. A fold that fails is logged and counted
//! ([`PgSinkStats::fold_failures`]); its deltas wait, still counted, for the next.
//! [`PgSink::close`] folds once more; [`PgSink::fold_records`] folds on demand.
//!
//! # Failures
//!
//! A batch that fails on a lost connection, a server shutdown, a serialization failure or
//! deadlock, a statement timeout or too many connections is retried on a fresh connection,
//! waiting as the family's one backoff says ([`PgSinkConfig::retry`], a
//! [`RetryPolicy`](ffc_core::backoff::RetryPolicy): exponential, full jitter, capped) for up to
//! [`PgSinkConfig::retry_for`]; after that, when the policy allows no more attempts, or at once
//! for an error retrying cannot fix, its callers get [`SinkError::Database`]. No caller ever gets `Ok` for a batch whose `COMMIT` did not return.
//! When the connection is lost while `COMMIT` is in flight the outcome is unknown: the retry
//! then finds the rows already there and answers [`Accepted::Duplicate`], which is true (they are
//! stored) and is acknowledged all the same.
//!
//! While the database is down, writers keep retrying instead of taking more work, the bounded
//! queue (`queue_bound`) fills and `accept` waits: the receivers stop acknowledging, and
//! counters keep their events and resend them later.
//!
//! # Where each job lives
//!
//! | module | job |
//! |---|---|
//! | `config` | [`PgSinkConfig`]: URL, password, batching, retry, timeouts, folds |
//! | `schema` | [`migrate`]: versioned migrations under an advisory lock |
//! | `writer` | the writer tasks: gather a batch, one transaction, retry |
//! | `writer_tx` | one try at a batch: `BEGIN` .. `COMMIT` pipelined on one connection |
//! | `writer_stage` | the event columns, the staging table, binary `COPY`, the inserts from the stage |
//! | `totals` | migration 4 (deltas, the view, `ffc_fold_records()`), when and how the writers fold |
//! | `ack` | answering each caller after `COMMIT` (or the failure), [`PgSinkStats`] |
//! | `error` | [`PgSinkError`], reading driver errors, redacting the password |
//!
//! # Schema
//!
//! [`migrate`] (run by [`PgSink::connect`]) creates and upgrades the tables under a
//! transaction-scoped advisory lock, so any number of workers may start at once; applied
//! versions are kept in `ffc_schema_version`. Version 1:
//!
//! | table | holds | key |
//! |---|---|---|
//! | `ffc_events` | one row per event: `serial` (16 hex digits), `roi`, `metric` (1 in, 2 out), `people_type` (1 visitor, 2 staff), `people_id`, `start_unix`, `end_unix`, `utc_offset_seconds`, `uuid`, `source`, `stored_at` | the [`EventKey`](ffc_core::EventKey): `UNIQUE (uuid)`, and `UNIQUE (serial, roi, metric, people_id, start_unix, end_unix) WHERE uuid IS NULL`; an identity `id` as primary key |
//! | `ffc_records` | events per `serial`, `roi`, `metric`, `people_type` and UTC hour (`hour_start`), in `events` | `PRIMARY KEY (serial, roi, metric, people_type, hour_start)` |
//! | `ffc_dead_letters` | `received_at`, `origin`, `reason`, `raw` (bytea), `stored_at` | identity `id` |
//!
//! Version 2 (issue 17) adds `ffc_events.received_utc` (when the sink's transaction took the
//! event, within `batch_wait` of its receipt), `ffc_sessions` (`counter`, `source`, `kind`,
//! `at_utc`: what receivers pass to [`EventSink::session`]), `ffc_counters` (each counter's
//! branch and site group, [`PgSink::put_counters`]), `ffc_merged_records` (reconciled buckets
//! with their provenance and availability minutes, [`PgSink::put_merged`]), and the views
//! `ffc_bucket_provenance`, `ffc_branch_buckets`, `ffc_counter_hours` and the
//! FootfallCam-shaped `sitegroup_footfallcounting_hour` / `_day` (`"Time"`, `"FC01_1_SUM"`
//! in, `"FC02_1_SUM"` out, `"SiteGroupName"`, `"BranchName"`, `"SiteGroupId"`).
//!
//! Version 3 (issue 18) sets `ffc_records`' `fillfactor` to 50: each batch updates the hourly
//! totals it touches, and with room on the page those updates touch no index (HOT updates).
//!
//! Version 4 (issue 18) renames the table `ffc_records` to `ffc_record_totals` (rows, key
//! and fillfactor kept), adds `ffc_record_deltas` (one row a batch: the bucket keys and
//! counts as six aligned arrays, the hour as unix seconds; no key, no index: append only),
//! the view `ffc_record_delta_buckets` (those rows unnested, one per bucket) and the
//! function `ffc_fold_records()`, and makes `ffc_records` a view:
//! totals and deltas added up per bucket, with the old table's columns and types, so
//! readers and the version 2 views (`ffc_counter_hours` is redefined to read it) see exact
//! totals as before:
//!
//! | relation | holds | key |
//! |---|---|---|
//! | `ffc_record_totals` | the folded hourly totals | `PRIMARY KEY (serial, roi, metric, people_type, hour_start)` |
//! | `ffc_record_deltas` | a batch's sums per bucket, as arrays, not folded yet | none |
//! | `ffc_record_delta_buckets` (view) | the same, one row per bucket and batch | |
//! | `ffc_records` (view) | `serial`, `roi`, `metric`, `people_type`, `hour_start`, `events` = totals + deltas | a `WHERE` on these columns reaches the totals' key |
//!
//! Version 5 makes the uuid key the unique index `ffc_events_uuid_key` on `(uuid) WHERE uuid
//! IS NOT NULL`, in place of the constraint `UNIQUE (uuid)`: the same key, but an event keyed
//! by its fields (most counters send no uuid) adds no entry to it. Every such event used to
//! add a NULL entry at the index's right edge, where concurrent writers waited on the same
//! page. It also sets `toast_tuple_target` of `ffc_record_deltas` to
//! 8160, so a delta row up to a page long is stored as it is rather than compressed (and
//! decompressed again by the fold).
//!
//! [`EventKey`](ffc_core::EventKey) is a sum type (the message UUID when there is one, else the crossing's fields),
//! so the table holds its two arms as two unique indexes, which together are exactly its
//! equality: an event with a UUID never collides with one keyed by fields, as in every sink.
//!
//! # Connection
//!
//! tokio-postgres over plain TCP or a unix socket, **without TLS** (`sslmode=require` fails to
//! connect): run the sink beside the database or across a trusted network. The password
//! comes from the URL, [`PgSinkConfig::with_password`] or
//! [`PgSinkConfig::with_password_from_env`]; it never appears in `Debug`, `Display`, errors or
//! logs.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use ffc_protocols::sink::postgres::{PgSink, PgSinkConfig};
//! use ffc_protocols::sink::{Accepted, EventSink};
//! use ffc_protocols::ws::codec::{decode, Message};
//!
//! let config = PgSinkConfig::new("postgresql://ffc@127.0.0.1:5432/footfall")?
//!     .with_password_from_env("FFC_PG_PASSWORD")?
//!     .with_pool_size(4)
//!     .with_batch_size(500)
//!     .with_batch_wait(Duration::from_millis(2));
//! let sink = PgSink::connect(config).await?;
//!
//! let pro2 = br#"{"UUID":"658a2443-72ba-422c-85dc-e4e10baa1288","DeviceSerial":"ecd5cc57d23c5c9f","RoiId":1,"MetricId":1,"PeopleTypeId":1,"CombineObjectTypeId":11,"PeopleId":1,"EventEndLocalTime":"2025-07-23 18:36:31","EventEndTime":1753266991,"EventEndUTCTime":"2025-07-23 10:36:31"}"#;
//! let Message::Event(event) = decode(pro2)? else { unreachable!() };
//! // Acknowledge the counter only after this returned Ok: the row is committed.
//! assert_eq!(sink.accept(&event).await?, Accepted::Stored);
//! assert_eq!(sink.accept(&event).await?, Accepted::Duplicate);
//! println!("{:?}", sink.stats());
//! sink.close().await;
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use deadpool_postgres::{Hook, HookError, Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use ffc_core::{CountEvent, UnixSeconds};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_postgres::NoTls;

use super::{lock, Accepted, DeadLetter, DeadLetterSink, EventSink, SessionRecord, SinkError};

mod ack;
mod config;
mod error;
mod provenance;
mod schema;
mod totals;
mod writer;
mod writer_stage;
mod writer_tx;

pub use ack::PgSinkStats;
pub use config::PgSinkConfig;
pub use error::PgSinkError;
pub use provenance::{AvailabilityMinutes, CounterPlace, MergedRow};
pub use schema::{migrate, migrate_to, SCHEMA_VERSION};

use ack::{Counters, Job};
use error::{pool_error_text, redact};

/// The instants `timestamptz` holds that this sink accepts: years 1 to 9999 (UTC).
const FIRST_STORABLE: UnixSeconds = -62_135_596_800;
const LAST_STORABLE: UnixSeconds = 253_402_300_799;

/// What the sink and its writer tasks share.
struct Shared {
    pool: Pool,
    config: PgSinkConfig,
    secret: Option<Vec<u8>>,
    counters: Counters,
    folds: totals::Folds,
}

impl Shared {
    /// `message` with every occurrence of the password replaced.
    fn redact(&self, message: String) -> String {
        redact(message, self.secret.as_deref())
    }
}

/// The PostgreSQL event sink: group commit by `pool_size` writer tasks over a deadpool
/// connection pool; see the [module docs](self).
pub struct PgSink {
    queue: Mutex<Option<mpsc::Sender<Job>>>,
    writers: Mutex<Vec<JoinHandle<()>>>,
    shared: Arc<Shared>,
    target: String,
}

impl PgSink {
    /// Connects like [`PgSink::connect`], but while the database cannot be reached (down,
    /// starting, refusing) waits and tries again as [`PgSinkConfig::connect_retry`] says (by
    /// default for as long as it takes, the wait doubling from 100 ms up to 5 s, with full
    /// jitter), for a worker that starts before its database or restarts while it restarts.
    /// `on_retry` hears each failure and the wait before the next try; any other error
    /// (configuration, a newer schema), or the last one when the policy gives up, is returned.
    pub async fn connect_waiting(
        config: PgSinkConfig,
        mut on_retry: impl FnMut(&PgSinkError, Duration),
    ) -> Result<PgSink, PgSinkError> {
        let mut backoff = config.connect_retry.backoff();
        loop {
            match PgSink::connect(config.clone()).await {
                Err(e @ PgSinkError::Connect { .. }) => {
                    let Some(wait) = backoff.next_delay() else {
                        tracing::error!(error = %e, attempts = backoff.failures(), "PostgreSQL unreachable; giving up");
                        return Err(e);
                    };
                    tracing::warn!(error = %e, retry_in_ms = wait.as_millis() as u64, "PostgreSQL unreachable; trying again");
                    on_retry(&e, wait);
                    tokio::time::sleep(wait).await;
                }
                done => return done,
            }
        }
    }

    /// Connects, brings the schema up to [`SCHEMA_VERSION`] (see [`migrate`]) and starts the
    /// writer tasks. Needs a tokio runtime with the time driver.
    pub async fn connect(config: PgSinkConfig) -> Result<PgSink, PgSinkError> {
        let target = config.to_string();
        let secret = config.secret();
        let pool = Pool::builder(Manager::from_config(
            config.driver_config(),
            NoTls,
            ManagerConfig {
                // A connection that failed is dropped by the writer, so the pool only has to
                // notice connections the server closed while idle.
                recycling_method: RecyclingMethod::Fast,
            },
        ))
        .max_size(config.pool_size())
        // Each connection gets its own staging table for the batches' binary COPY.
        .post_create(Hook::async_fn(|client, _| {
            Box::pin(async move {
                client
                    .batch_execute(writer_stage::CREATE_STAGE.as_str())
                    .await
                    .map_err(HookError::Backend)
            })
        }))
        .runtime(Runtime::Tokio1)
        .create_timeout(Some(config.connect_timeout))
        .build()
        .map_err(|e| PgSinkError::Config {
            reason: format!("building the connection pool: {e}"),
        })?;
        migrate_on(&pool, &target, secret.as_deref()).await?;
        let (tx, rx) = mpsc::channel(config.queue_bound());
        let rx = Arc::new(writer::Queue::new(rx));
        let shared = Arc::new(Shared {
            pool,
            config,
            secret,
            counters: Counters::default(),
            folds: totals::Folds::new(),
        });
        let writers = (0..shared.config.pool_size())
            .map(|_| tokio::spawn(writer::run(shared.clone(), rx.clone())))
            .collect();
        tracing::info!(%target, pool_size = shared.config.pool_size(), "PostgreSQL sink connected");
        Ok(PgSink {
            queue: Mutex::new(Some(tx)),
            writers: Mutex::new(writers),
            shared,
            target,
        })
    }

    /// What the sink has done so far.
    pub fn stats(&self) -> PgSinkStats {
        self.shared.counters.stats()
    }

    /// Events and letters waiting in the queue for a writer (not those being written).
    pub fn queued(&self) -> usize {
        match &*lock(&self.queue) {
            Some(tx) => tx.max_capacity() - tx.capacity(),
            None => 0,
        }
    }

    /// The configuration it runs with.
    pub fn config(&self) -> &PgSinkConfig {
        &self.shared.config
    }

    /// Stops taking events, writes everything already queued (each caller still gets its
    /// answer), waits for the writers, folds the hourly deltas once (see
    /// [`PgSink::fold_records`]) and closes the connections. Later `accept`s fail with
    /// [`SinkError::Closed`]. Calling it again does nothing.
    pub async fn close(&self) {
        drop(lock(&self.queue).take());
        let writers = std::mem::take(&mut *lock(&self.writers));
        if writers.is_empty() {
            return;
        }
        for writer in writers {
            // A writer that panicked has nothing left to flush.
            let _ = writer.await;
        }
        // A failure is logged and counted there; the deltas stay counted by the view.
        let _ = totals::fold_now(&self.shared).await;
        self.shared.pool.close();
    }

    /// Folds the hourly deltas into their totals now (`SELECT ffc_fold_records()`, one
    /// transaction) and returns how many bucket counts moved: 0 when there were none or another
    /// fold was running. The writers do this on their own every
    /// [`PgSinkConfig::fold_interval`] or [`PgSinkConfig::fold_batches`] batches, and
    /// [`PgSink::close`] once more; the view `ffc_records` counts every committed event
    /// either way. A fold that fails (also logged and counted in
    /// [`PgSinkStats::fold_failures`]; the deltas stay for the next one) is
    /// [`SinkError::Database`] with the server's or driver's reason.
    pub async fn fold_records(&self) -> Result<u64, SinkError> {
        totals::fold_now(&self.shared)
            .await
            .map_err(|message| SinkError::Database {
                message: format!("folding the hourly deltas: {message}"),
            })
    }

    fn sender(&self) -> Result<mpsc::Sender<Job>, SinkError> {
        lock(&self.queue).clone().ok_or(SinkError::Closed)
    }
}

/// Runs [`migrate`] on a connection of `pool`, naming `target` and never the password in
/// what it returns.
async fn migrate_on(pool: &Pool, target: &str, secret: Option<&[u8]>) -> Result<(), PgSinkError> {
    let connect_error = |doing, message: String| PgSinkError::Connect {
        target: target.to_string(),
        doing,
        message: redact(message, secret),
    };
    let mut client = pool
        .get()
        .await
        .map_err(|e| connect_error("connecting", pool_error_text(&e)))?;
    let client: &mut tokio_postgres::Client = &mut client;
    migrate(client).await.map_err(|e| match e {
        PgSinkError::Connect { doing, message, .. } => connect_error(doing, message),
        PgSinkError::Migrate { version, message } => PgSinkError::Migrate {
            version,
            message: redact(message, secret),
        },
        other => other,
    })?;
    Ok(())
}

impl fmt::Debug for PgSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgSink")
            .field("target", &self.target)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl EventSink for PgSink {
    async fn accept(&self, event: &CountEvent) -> Result<Accepted, SinkError> {
        if let Err(e) = storable(event.end, "EventEndTime") {
            tracing::warn!(serial = %event.serial, end = event.end, "event outside what PostgreSQL stores");
            return Err(e);
        }
        let (reply, answer) = oneshot::channel();
        self.sender()?
            .send(Job::Event {
                event: *event,
                reply,
            })
            .await
            .map_err(|_| SinkError::Closed)?;
        let kept = answer.await.map_err(|_| SinkError::Closed)?;
        match &kept {
            Ok(accepted) => tracing::trace!(serial = %event.serial, ?accepted, "event committed"),
            // The writer logged the batch's failure; this names the counter that waits.
            Err(e) => tracing::debug!(serial = %event.serial, error = %e, "event not kept"),
        }
        kept
    }

    async fn session(&self, session: &SessionRecord) -> Result<(), SinkError> {
        self.put_session(session).await
    }
}

#[async_trait]
impl DeadLetterSink for PgSink {
    async fn dead_letter(&self, letter: DeadLetter) -> Result<(), SinkError> {
        storable(letter.received_at, "received_at")?;
        let (reply, answer) = oneshot::channel();
        self.sender()?
            .send(Job::Letter { letter, reply })
            .await
            .map_err(|_| SinkError::Closed)?;
        answer.await.map_err(|_| SinkError::Closed)?
    }
}

/// Refuses an instant a `timestamptz` column cannot hold, naming the `field` it came from.
fn storable(at: UnixSeconds, field: &str) -> Result<(), SinkError> {
    if (FIRST_STORABLE..=LAST_STORABLE).contains(&at) {
        return Ok(());
    }
    Err(SinkError::Unstorable {
        reason: format!("{field} {at} is outside the years 1 to 9999 a timestamptz holds"),
    })
}

#[cfg(test)]
mod tests;
