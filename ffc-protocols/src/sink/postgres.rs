//! A PostgreSQL [`EventSink`] and [`DeadLetterSink`] (feature `postgres`): events exactly once
//! on their [`EventKey`], hourly bucket totals maintained in the same transaction, dead
//! letters with their raw bytes; the answer comes only after `COMMIT` returned.
//!
//! # How it writes
//!
//! `accept` puts the event on a bounded queue and waits. `pool_size` writer tasks take what is
//! queued (up to `batch_size` events, lingering at most `batch_wait` for more) and write it as
//! **one transaction** with one multi-row statement over `UNNEST`ed array parameters (bound
//! parameters only, no SQL is built from data):
//!
//! 1. `INSERT INTO ffc_events .. ON CONFLICT DO NOTHING RETURNING ..`: only rows that were not
//!    there yet come back;
//! 2. from exactly those rows, `INSERT INTO ffc_records .. ON CONFLICT DO UPDATE SET events =
//!    events + EXCLUDED.events`: an hourly total grows once per stored event, never for a
//!    duplicate, so bucket totals are exactly-once too;
//! 3. `COMMIT`; then each caller gets [`Accepted::Stored`] (its row was added) or
//!    [`Accepted::Duplicate`] (the key was already held, or an earlier caller of the same batch
//!    had it).
//!
//! Many concurrent `accept`s share one transaction (group commit), so a receiver with
//! thousands of counters makes a few large transactions instead of thousands of small ones.
//!
//! # Failures
//!
//! A batch that fails on a lost connection, a server shutdown, a serialization failure or
//! deadlock, a statement timeout or too many connections is retried on a fresh connection with
//! exponential backoff (`retry_backoff`, doubling up to `retry_backoff_max`) for up to
//! `retry_for`; after that, or at once for an error retrying cannot fix, its callers get
//! [`SinkError::Database`]. No caller ever gets `Ok` for a batch whose `COMMIT` did not return.
//! When the connection is lost while `COMMIT` is in flight the outcome is unknown: the retry
//! then finds the rows already there and answers [`Accepted::Duplicate`], which is true (they are
//! stored) and is acknowledged all the same.
//!
//! While the database is down, writers keep retrying instead of taking more work, the bounded
//! queue (`queue_bound`) fills and `accept` waits: the receivers stop acknowledging, and
//! counters keep their events and resend them later.
//!
//! # Schema
//!
//! [`migrate`] (run by [`PgSink::connect`]) creates and upgrades the tables under a
//! transaction-scoped advisory lock, so any number of workers may start at once; applied
//! versions are kept in `ffc_schema_version`. Version 1:
//!
//! | table | holds | key |
//! |---|---|---|
//! | `ffc_events` | one row per event: `serial` (16 hex digits), `roi`, `metric` (1 in, 2 out), `people_type` (1 visitor, 2 staff), `people_id`, `start_unix`, `end_unix`, `utc_offset_seconds`, `uuid`, `source`, `stored_at` | the [`EventKey`]: `UNIQUE (uuid)`, and `UNIQUE (serial, roi, metric, people_id, start_unix, end_unix) WHERE uuid IS NULL`; an identity `id` as primary key |
//! | `ffc_records` | events per `serial`, `roi`, `metric`, `people_type` and UTC hour (`hour_start`), in `events` | `PRIMARY KEY (serial, roi, metric, people_type, hour_start)` |
//! | `ffc_dead_letters` | `received_at`, `origin`, `reason`, `raw` (bytea), `stored_at` | identity `id` |
//!
//! [`EventKey`] is a sum type (the message UUID when there is one, else the crossing's fields),
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

use std::collections::HashSet;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Pool, PoolError, RecyclingMethod, Runtime};
use ffc_core::{CountEvent, EventKey, MessageId, UnixSeconds};
use tokio::sync::mpsc::error::TryRecvError;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_postgres::types::ToSql;
use tokio_postgres::NoTls;

use super::{lock, Accepted, DeadLetter, DeadLetterSink, EventSink, SinkError};

/// The newest schema version this build creates; [`migrate`] brings a database up to it.
pub const SCHEMA_VERSION: u32 = 1;

/// The migrations in order: version, what it does, its SQL. Never edit a released one; add
/// the next version instead.
const MIGRATIONS: &[(u32, &str, &str)] = &[(
    1,
    "events keyed by EventKey, hourly records, dead letters",
    "CREATE TABLE ffc_events (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        serial text NOT NULL CHECK (serial ~ '^[0-9a-f]{16}$'),
        roi bigint NOT NULL,
        metric smallint NOT NULL,
        people_type smallint NOT NULL,
        people_id numeric(20, 0) NOT NULL,
        start_unix bigint NOT NULL,
        end_unix bigint NOT NULL,
        utc_offset_seconds integer NOT NULL,
        uuid uuid UNIQUE,
        source text NOT NULL,
        stored_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX ffc_events_fields_key
        ON ffc_events (serial, roi, metric, people_id, start_unix, end_unix)
        WHERE uuid IS NULL;
    CREATE TABLE ffc_records (
        serial text NOT NULL,
        roi bigint NOT NULL,
        metric smallint NOT NULL,
        people_type smallint NOT NULL,
        hour_start timestamptz NOT NULL,
        events bigint NOT NULL,
        PRIMARY KEY (serial, roi, metric, people_type, hour_start)
    );
    CREATE TABLE ffc_dead_letters (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        received_at timestamptz NOT NULL,
        origin text NOT NULL,
        reason text NOT NULL,
        raw bytea NOT NULL,
        stored_at timestamptz NOT NULL DEFAULT now()
    );",
)];

/// The advisory lock key the migration holds for its transaction ("ffc mig" in ASCII).
const MIGRATION_LOCK: i64 = 0x0066_6663_206d_6967;

/// One batch of events: insert the new ones, count exactly those into their hour buckets, and
/// return the 1-based positions (in the parameter arrays) of the rows that were added.
const INSERT_EVENTS: &str = "
WITH input AS (
    SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::smallint[], $4::smallint[], $5::text[],
                         $6::bigint[], $7::bigint[], $8::integer[], $9::uuid[], $10::text[])
        WITH ORDINALITY AS t(serial, roi, metric, people_type, people_id, start_unix, end_unix,
                             utc_offset_seconds, uuid, source, ord)
), inserted AS (
    INSERT INTO ffc_events (serial, roi, metric, people_type, people_id, start_unix, end_unix,
                            utc_offset_seconds, uuid, source)
    SELECT serial, roi, metric, people_type, people_id::numeric, start_unix, end_unix,
           utc_offset_seconds, uuid, source
    FROM input
    ORDER BY ord
    ON CONFLICT DO NOTHING
    RETURNING serial, roi, metric, people_type, people_id, start_unix, end_unix, uuid
), counted AS (
    INSERT INTO ffc_records AS r (serial, roi, metric, people_type, hour_start, events)
    SELECT serial, roi, metric, people_type,
           to_timestamp(end_unix - ((end_unix % 3600) + 3600) % 3600), count(*)
    FROM inserted
    GROUP BY 1, 2, 3, 4, 5
    ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (serial, roi, metric, people_type, hour_start)
        DO UPDATE SET events = r.events + EXCLUDED.events
)
SELECT input.ord
FROM inserted JOIN input
  ON input.serial = inserted.serial AND input.roi = inserted.roi
 AND input.metric = inserted.metric AND input.people_id::numeric = inserted.people_id
 AND input.start_unix = inserted.start_unix AND input.end_unix = inserted.end_unix
 AND input.uuid IS NOT DISTINCT FROM inserted.uuid";

/// One batch of dead letters.
const INSERT_DEAD_LETTERS: &str = "
INSERT INTO ffc_dead_letters (received_at, origin, reason, raw)
SELECT to_timestamp(received_unix), origin, reason, raw
FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::bytea[]) AS t(received_unix, origin, reason, raw)";

/// The instants `timestamptz` holds that this sink accepts: years 1 to 9999 (UTC).
const FIRST_STORABLE: UnixSeconds = -62_135_596_800;
const LAST_STORABLE: UnixSeconds = 253_402_300_799;

/// Why the PostgreSQL sink could not be set up. Runtime failures of a batch are
/// [`SinkError::Database`] instead. No variant ever holds the password.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PgSinkError {
    /// The connection URL did not parse. Fix the URL
    /// (`postgresql://user@host:port/database`).
    #[error("invalid PostgreSQL URL: {reason}")]
    Url {
        /// What is wrong with it.
        reason: String,
    },
    /// A setting given beside the URL is missing or unusable (an unset password variable, a
    /// pool that cannot be built). Fix the configuration.
    #[error("invalid PostgreSQL sink setting: {reason}")]
    Config {
        /// What is wrong.
        reason: String,
    },
    /// The database could not be reached or refused the session while the sink started.
    /// Check that it runs and the URL, user and password; then connect again.
    #[error("PostgreSQL at {target} failed while {doing}: {message}")]
    Connect {
        /// The server and database, without credentials.
        target: String,
        /// What the sink was doing.
        doing: &'static str,
        /// The driver's or server's message.
        message: String,
    },
    /// A migration failed and was rolled back; the schema is as before. The message says why
    /// (often a table of the same name made by something else).
    #[error("migrating the ffc schema to version {version} failed: {message}")]
    Migrate {
        /// The version that failed.
        version: u32,
        /// The server's message.
        message: String,
    },
    /// The database holds a newer ffc schema than this build knows. Upgrade ffc.
    #[error("the database's ffc schema is version {found}, newer than version {supported} this build knows")]
    SchemaTooNew {
        /// The version in `ffc_schema_version`.
        found: u32,
        /// [`SCHEMA_VERSION`].
        supported: u32,
    },
}

/// How to reach PostgreSQL and how to batch and retry. Built from a URL, then adjusted with
/// the `with_*` methods. Neither `Debug` nor `Display` shows the password.
///
/// ```
/// use std::time::Duration;
/// use ffc_protocols::sink::postgres::PgSinkConfig;
///
/// let config = PgSinkConfig::new("postgresql://ffc:secret@db.local:5433/footfall")?
///     .with_pool_size(8)
///     .with_batch_size(1000)
///     .with_batch_wait(Duration::from_millis(5));
/// assert_eq!(config.to_string(), "postgresql://ffc@db.local:5433/footfall");
/// assert!(!format!("{config:?}").contains("secret"));
/// assert_eq!(config.pool_size(), 8);
/// # Ok::<(), ffc_protocols::sink::postgres::PgSinkError>(())
/// ```
#[derive(Clone)]
pub struct PgSinkConfig {
    pg: tokio_postgres::Config,
    pool_size: usize,
    batch_size: usize,
    batch_wait: Duration,
    queue_bound: usize,
    retry_backoff: Duration,
    retry_backoff_max: Duration,
    retry_for: Duration,
    statement_timeout: Duration,
    connect_timeout: Duration,
}

impl PgSinkConfig {
    /// Writer tasks and connections by default: 4.
    pub const DEFAULT_POOL_SIZE: usize = 4;
    /// Events per transaction at most, by default: 1,000.
    pub const DEFAULT_BATCH_SIZE: usize = 1000;
    /// How long a writer waits for more events before it writes a short batch, by default:
    /// 1 ms.
    pub const DEFAULT_BATCH_WAIT: Duration = Duration::from_millis(1);
    /// Events queued for the writers at most, by default: 10,000; `accept` waits past it.
    pub const DEFAULT_QUEUE_BOUND: usize = 10_000;
    /// The first wait before a retry, by default: 50 ms.
    pub const DEFAULT_RETRY_BACKOFF: Duration = Duration::from_millis(50);
    /// The longest wait between retries, by default: 2 s.
    pub const DEFAULT_RETRY_BACKOFF_MAX: Duration = Duration::from_secs(2);
    /// How long a batch is retried before its callers get an error, by default: 30 s.
    pub const DEFAULT_RETRY_FOR: Duration = Duration::from_secs(30);
    /// The server-side limit on one statement, by default: 30 s.
    pub const DEFAULT_STATEMENT_TIMEOUT: Duration = Duration::from_secs(30);
    /// The limit on opening one connection, by default: 5 s.
    pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

    /// Parses a `postgresql://user[:password]@host[:port]/database[?param=value]` URL (or
    /// libpq's `key=value` form) with the default settings. The error never repeats the URL.
    pub fn new(url: &str) -> Result<Self, PgSinkError> {
        let pg: tokio_postgres::Config = url.parse().map_err(|e: tokio_postgres::Error| {
            // tokio-postgres may quote one character of the input ("but got `x`"), which could
            // be part of the password: keep only the part before it.
            let text = e.to_string();
            let reason = match text.find(" but got") {
                Some(cut) => text.get(..cut).unwrap_or("malformed").to_string(),
                None => text,
            };
            PgSinkError::Url { reason }
        })?;
        if pg.get_hosts().is_empty() {
            return Err(PgSinkError::Url {
                reason: "no host".into(),
            });
        }
        Ok(PgSinkConfig {
            pg,
            pool_size: Self::DEFAULT_POOL_SIZE,
            batch_size: Self::DEFAULT_BATCH_SIZE,
            batch_wait: Self::DEFAULT_BATCH_WAIT,
            queue_bound: Self::DEFAULT_QUEUE_BOUND,
            retry_backoff: Self::DEFAULT_RETRY_BACKOFF,
            retry_backoff_max: Self::DEFAULT_RETRY_BACKOFF_MAX,
            retry_for: Self::DEFAULT_RETRY_FOR,
            statement_timeout: Self::DEFAULT_STATEMENT_TIMEOUT,
            connect_timeout: Self::DEFAULT_CONNECT_TIMEOUT,
        })
    }

    /// Uses `password` (replacing one in the URL). Keep it out of URLs that end up in logs.
    pub fn with_password(mut self, password: &str) -> Self {
        self.pg.password(password);
        self
    }

    /// Reads the password from the environment variable `var`. Fails with
    /// [`PgSinkError::Config`] naming the variable (never a value) when it is unset or not
    /// UTF-8.
    pub fn with_password_from_env(self, var: &str) -> Result<Self, PgSinkError> {
        match std::env::var(var) {
            Ok(password) => Ok(self.with_password(&password)),
            Err(std::env::VarError::NotPresent) => Err(PgSinkError::Config {
                reason: format!("the password variable {var} is not set"),
            }),
            Err(std::env::VarError::NotUnicode(_)) => Err(PgSinkError::Config {
                reason: format!("the password variable {var} is not UTF-8"),
            }),
        }
    }

    /// Connects to database `name` instead of the URL's.
    pub fn with_dbname(mut self, name: &str) -> Self {
        self.pg.dbname(name);
        self
    }

    /// Runs `size` writer tasks, each with at most one connection in use (at least 1).
    pub fn with_pool_size(mut self, size: usize) -> Self {
        self.pool_size = size.max(1);
        self
    }

    /// Writes at most `size` events in one transaction (at least 1).
    pub fn with_batch_size(mut self, size: usize) -> Self {
        self.batch_size = size.max(1);
        self
    }

    /// Lets a writer wait up to `wait` for more events before writing a batch that is not
    /// full. Zero writes whatever is queued at once; batches still form while the writers are
    /// busy.
    pub fn with_batch_wait(mut self, wait: Duration) -> Self {
        self.batch_wait = wait;
        self
    }

    /// Queues at most `bound` events for the writers (at least 1); further `accept`s wait.
    pub fn with_queue_bound(mut self, bound: usize) -> Self {
        self.queue_bound = bound.max(1);
        self
    }

    /// Waits `first` before the first retry of a failed batch, doubling up to `max`.
    pub fn with_retry_backoff(mut self, first: Duration, max: Duration) -> Self {
        self.retry_backoff = first;
        self.retry_backoff_max = max.max(first);
        self
    }

    /// Retries a failed batch for up to `limit` before its callers get
    /// [`SinkError::Database`].
    pub fn with_retry_for(mut self, limit: Duration) -> Self {
        self.retry_for = limit;
        self
    }

    /// Cancels a statement on the server after `timeout` (PostgreSQL's `statement_timeout`);
    /// the batch is then retried.
    pub fn with_statement_timeout(mut self, timeout: Duration) -> Self {
        self.statement_timeout = timeout;
        self
    }

    /// Gives up opening one connection after `timeout`.
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The database name, when set.
    pub fn dbname(&self) -> Option<&str> {
        self.pg.get_dbname()
    }
    /// Writer tasks and connections.
    pub fn pool_size(&self) -> usize {
        self.pool_size
    }
    /// Events per transaction at most.
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }
    /// The linger before a short batch is written.
    pub fn batch_wait(&self) -> Duration {
        self.batch_wait
    }
    /// Events queued at most.
    pub fn queue_bound(&self) -> usize {
        self.queue_bound
    }
    /// The first and the longest wait between retries.
    pub fn retry_backoff(&self) -> (Duration, Duration) {
        (self.retry_backoff, self.retry_backoff_max)
    }
    /// How long a failed batch is retried.
    pub fn retry_for(&self) -> Duration {
        self.retry_for
    }
    /// The server-side statement timeout.
    pub fn statement_timeout(&self) -> Duration {
        self.statement_timeout
    }
    /// The connect timeout.
    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    /// The driver configuration with this sink's timeouts applied.
    fn driver_config(&self) -> tokio_postgres::Config {
        let mut pg = self.pg.clone();
        pg.connect_timeout(self.connect_timeout);
        let timeout = format!(
            "-c statement_timeout={}",
            self.statement_timeout.as_millis().max(1)
        );
        let options = match pg.get_options() {
            Some(existing) if !existing.is_empty() => format!("{existing} {timeout}"),
            _ => timeout,
        };
        pg.options(options);
        if pg.get_application_name().is_none() {
            pg.application_name("ffc-pg-sink");
        }
        pg
    }

    /// The password's bytes, to scrub from driver messages.
    fn secret(&self) -> Option<Vec<u8>> {
        self.pg.get_password().map(<[u8]>::to_vec)
    }
}

/// `postgresql://user@host:port/database`, never with the password.
impl fmt::Display for PgSinkConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("postgresql://")?;
        if let Some(user) = self.pg.get_user() {
            write!(f, "{user}@")?;
        }
        for (i, host) in self.pg.get_hosts().iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            match host {
                tokio_postgres::config::Host::Tcp(name) => f.write_str(name)?,
                #[cfg(unix)]
                tokio_postgres::config::Host::Unix(path) => write!(f, "[{}]", path.display())?,
            }
            let port = self
                .pg
                .get_ports()
                .get(i)
                .or_else(|| self.pg.get_ports().first());
            if let Some(port) = port {
                write!(f, ":{port}")?;
            }
        }
        if let Some(db) = self.pg.get_dbname() {
            write!(f, "/{db}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for PgSinkConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgSinkConfig")
            .field("target", &self.to_string())
            .field("password", &self.pg.get_password().map(|_| "<redacted>"))
            .field("pool_size", &self.pool_size)
            .field("batch_size", &self.batch_size)
            .field("batch_wait", &self.batch_wait)
            .field("queue_bound", &self.queue_bound)
            .field("retry_backoff", &self.retry_backoff)
            .field("retry_backoff_max", &self.retry_backoff_max)
            .field("retry_for", &self.retry_for)
            .field("statement_timeout", &self.statement_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .finish()
    }
}

/// What a [`PgSink`] has done since it connected.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PgSinkStats {
    /// Transactions committed.
    pub batches: u64,
    /// Events added to `ffc_events`.
    pub events_stored: u64,
    /// Events answered [`Accepted::Duplicate`].
    pub duplicates: u64,
    /// Dead letters stored.
    pub dead_letters: u64,
    /// Failed attempts that were tried again.
    pub retries: u64,
    /// Callers answered with [`SinkError::Database`] (their batch failed for good).
    pub failed: u64,
}

#[derive(Default)]
struct Counters {
    batches: AtomicU64,
    events_stored: AtomicU64,
    duplicates: AtomicU64,
    dead_letters: AtomicU64,
    retries: AtomicU64,
    failed: AtomicU64,
}

impl Counters {
    fn add(counter: &AtomicU64, n: usize) {
        counter.fetch_add(n as u64, Ordering::Relaxed);
    }
}

enum Job {
    Event {
        event: CountEvent,
        reply: oneshot::Sender<Result<Accepted, SinkError>>,
    },
    Letter {
        letter: DeadLetter,
        reply: oneshot::Sender<Result<(), SinkError>>,
    },
}

struct Shared {
    pool: Pool,
    config: PgSinkConfig,
    secret: Option<Vec<u8>>,
    counters: Counters,
}

impl Shared {
    /// `message` with every occurrence of the password replaced.
    fn redact(&self, message: String) -> String {
        redact(message, self.secret.as_deref())
    }
}

fn redact(message: String, secret: Option<&[u8]>) -> String {
    match secret.and_then(|s| std::str::from_utf8(s).ok()) {
        Some(secret) if !secret.is_empty() && message.contains(secret) => {
            message.replace(secret, "<redacted>")
        }
        _ => message,
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
    /// starting, refusing) waits and tries again, doubling the wait from 100 ms up to
    /// `max_wait`, for a worker that starts before its database or restarts while it
    /// restarts. `on_retry` hears each failure and the wait before the next try (to log it);
    /// any other error (configuration, a newer schema) is returned at once.
    pub async fn connect_waiting(
        config: PgSinkConfig,
        max_wait: Duration,
        mut on_retry: impl FnMut(&PgSinkError, Duration),
    ) -> Result<PgSink, PgSinkError> {
        let mut wait = Duration::from_millis(100).min(max_wait);
        loop {
            match PgSink::connect(config.clone()).await {
                Err(e @ PgSinkError::Connect { .. }) => {
                    on_retry(&e, wait);
                    tokio::time::sleep(wait).await;
                    wait = wait.saturating_mul(2).min(max_wait);
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
        let manager = Manager::from_config(
            config.driver_config(),
            NoTls,
            ManagerConfig {
                // A connection that failed is dropped by the writer, so the pool only has to
                // notice connections the server closed while idle.
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(config.pool_size)
            .runtime(Runtime::Tokio1)
            .create_timeout(Some(config.connect_timeout))
            .build()
            .map_err(|e| PgSinkError::Config {
                reason: format!("building the connection pool: {e}"),
            })?;
        let connect_error = |doing, message: String| PgSinkError::Connect {
            target: target.clone(),
            doing,
            message: redact(message, secret.as_deref()),
        };
        {
            let mut client = pool
                .get()
                .await
                .map_err(|e| connect_error("connecting", pool_error_text(&e)))?;
            let client: &mut tokio_postgres::Client = &mut client;
            migrate(client).await.map_err(|e| match e {
                PgSinkError::Connect { doing, message, .. } => connect_error(doing, message),
                PgSinkError::Migrate { version, message } => PgSinkError::Migrate {
                    version,
                    message: redact(message, secret.as_deref()),
                },
                other => other,
            })?;
        }
        let (tx, rx) = mpsc::channel(config.queue_bound);
        let rx = Arc::new(tokio::sync::Mutex::new(rx));
        let shared = Arc::new(Shared {
            pool,
            config,
            secret,
            counters: Counters::default(),
        });
        let writers = (0..shared.config.pool_size)
            .map(|_| tokio::spawn(writer(shared.clone(), rx.clone())))
            .collect();
        Ok(PgSink {
            queue: Mutex::new(Some(tx)),
            writers: Mutex::new(writers),
            shared,
            target,
        })
    }

    /// What the sink has done so far.
    pub fn stats(&self) -> PgSinkStats {
        let c = &self.shared.counters;
        PgSinkStats {
            batches: c.batches.load(Ordering::Relaxed),
            events_stored: c.events_stored.load(Ordering::Relaxed),
            duplicates: c.duplicates.load(Ordering::Relaxed),
            dead_letters: c.dead_letters.load(Ordering::Relaxed),
            retries: c.retries.load(Ordering::Relaxed),
            failed: c.failed.load(Ordering::Relaxed),
        }
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
    /// answer), waits for the writers and closes the connections. Later `accept`s fail with
    /// [`SinkError::Closed`]. Calling it again does nothing.
    pub async fn close(&self) {
        drop(lock(&self.queue).take());
        let writers = std::mem::take(&mut *lock(&self.writers));
        for writer in writers {
            // A writer that panicked has nothing left to flush.
            let _ = writer.await;
        }
        self.shared.pool.close();
    }

    fn sender(&self) -> Result<mpsc::Sender<Job>, SinkError> {
        lock(&self.queue).clone().ok_or(SinkError::Closed)
    }
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
        if !(FIRST_STORABLE..=LAST_STORABLE).contains(&event.end) {
            return Err(SinkError::Unstorable {
                reason: format!(
                    "EventEndTime {} is outside the years 1 to 9999 a timestamptz holds",
                    event.end
                ),
            });
        }
        let (reply, answer) = oneshot::channel();
        self.sender()?
            .send(Job::Event {
                event: *event,
                reply,
            })
            .await
            .map_err(|_| SinkError::Closed)?;
        answer.await.map_err(|_| SinkError::Closed)?
    }
}

#[async_trait]
impl DeadLetterSink for PgSink {
    async fn dead_letter(&self, letter: DeadLetter) -> Result<(), SinkError> {
        if !(FIRST_STORABLE..=LAST_STORABLE).contains(&letter.received_at) {
            return Err(SinkError::Unstorable {
                reason: format!(
                    "received_at {} is outside the years 1 to 9999 a timestamptz holds",
                    letter.received_at
                ),
            });
        }
        let (reply, answer) = oneshot::channel();
        self.sender()?
            .send(Job::Letter { letter, reply })
            .await
            .map_err(|_| SinkError::Closed)?;
        answer.await.map_err(|_| SinkError::Closed)?
    }
}

/// Creates or upgrades the ffc tables on `client`'s database to [`SCHEMA_VERSION`] and
/// returns the version it holds then. Idempotent, and safe to run from many processes at
/// once: the whole migration is one transaction under `pg_advisory_xact_lock`, so a second
/// caller waits for the first and then finds nothing to do. Each applied version is a row of
/// `ffc_schema_version`. Fails with [`PgSinkError::SchemaTooNew`] on a newer schema.
pub async fn migrate(client: &mut tokio_postgres::Client) -> Result<u32, PgSinkError> {
    let failed = |doing: &'static str| {
        move |e: tokio_postgres::Error| PgSinkError::Connect {
            target: "the migration's connection".into(),
            doing,
            message: error_text(&e),
        }
    };
    let tx = client
        .transaction()
        .await
        .map_err(failed("starting the migration"))?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(failed("taking the migration lock"))?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS ffc_schema_version (
            version integer PRIMARY KEY,
            description text NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now()
        )",
    )
    .await
    .map_err(failed("creating ffc_schema_version"))?;
    let current: Option<i32> = tx
        .query_one("SELECT max(version) FROM ffc_schema_version", &[])
        .await
        .map_err(failed("reading the schema version"))?
        // A table of that name from elsewhere may hold another type: an error, not a panic.
        .try_get(0)
        .map_err(failed("reading the schema version"))?;
    let current = u32::try_from(current.unwrap_or(0)).unwrap_or(0);
    if current > SCHEMA_VERSION {
        return Err(PgSinkError::SchemaTooNew {
            found: current,
            supported: SCHEMA_VERSION,
        });
    }
    for &(version, description, sql) in MIGRATIONS.iter().filter(|m| m.0 > current) {
        let migrate_error = |e: tokio_postgres::Error| PgSinkError::Migrate {
            version,
            message: error_text(&e),
        };
        tx.batch_execute(sql).await.map_err(migrate_error)?;
        tx.execute(
            "INSERT INTO ffc_schema_version (version, description) VALUES ($1, $2)",
            &[&i32::try_from(version).unwrap_or(i32::MAX), &description],
        )
        .await
        .map_err(migrate_error)?;
        tracing::info!(version, description, "ffc schema migrated");
    }
    tx.commit()
        .await
        .map_err(failed("committing the migration"))?;
    Ok(current.max(SCHEMA_VERSION))
}

// ---------------------------------------------------------------------------------------
// Writers.

/// Takes batches off the shared queue until it is closed and empty.
async fn writer(shared: Arc<Shared>, rx: Arc<tokio::sync::Mutex<mpsc::Receiver<Job>>>) {
    let mut jobs = Vec::with_capacity(shared.config.batch_size);
    while collect(&rx, &mut jobs, &shared.config).await {
        write_batch(&shared, &mut jobs).await;
    }
}

/// Waits for one job, then gathers more until the batch is full, the linger is over or the
/// queue is empty with no linger. False when the queue is closed and drained.
async fn collect(
    rx: &tokio::sync::Mutex<mpsc::Receiver<Job>>,
    jobs: &mut Vec<Job>,
    config: &PgSinkConfig,
) -> bool {
    // One writer gathers at a time; the others write their batches meanwhile.
    let mut rx = rx.lock().await;
    let Some(first) = rx.recv().await else {
        return false;
    };
    jobs.push(first);
    // A linger too long to add (say Duration::MAX for "as long as it takes") waits a month.
    let deadline = Instant::now()
        .checked_add(config.batch_wait)
        .unwrap_or_else(|| Instant::now() + Duration::from_secs(30 * 86_400));
    while jobs.len() < config.batch_size {
        match rx.try_recv() {
            Ok(job) => {
                jobs.push(job);
                continue;
            }
            Err(TryRecvError::Disconnected) => break,
            Err(TryRecvError::Empty) => {}
        }
        if config.batch_wait.is_zero() {
            break;
        }
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(job)) => jobs.push(job),
            Ok(None) | Err(_) => break,
        }
    }
    true
}

/// A batch's parameter arrays, built once and reused by every attempt.
#[derive(Default)]
struct Columns {
    serial: Vec<String>,
    roi: Vec<i64>,
    metric: Vec<i16>,
    people_type: Vec<i16>,
    people_id: Vec<String>,
    start: Vec<i64>,
    end: Vec<i64>,
    offset: Vec<i32>,
    uuid: Vec<Option<MessageId>>,
    source: Vec<String>,
    letter_received: Vec<i64>,
    letter_origin: Vec<String>,
    letter_reason: Vec<String>,
    letter_raw: Vec<Vec<u8>>,
}

impl Columns {
    fn push_event(&mut self, e: &CountEvent) {
        self.serial.push(e.serial.to_string());
        self.roi.push(i64::from(e.roi.0));
        self.metric.push(i16::from(e.metric.code()));
        self.people_type.push(i16::from(e.people_type.code()));
        self.people_id.push(e.people_id.0.to_string());
        self.start.push(e.start);
        self.end.push(e.end);
        self.offset.push(e.offset.seconds());
        self.uuid.push(e.uuid);
        self.source.push(source_name(e));
    }

    fn push_letter(&mut self, l: &DeadLetter) {
        self.letter_received.push(l.received_at);
        // A text column cannot hold NUL; the raw bytes keep the message exactly.
        self.letter_origin.push(l.origin.replace('\0', "\u{fffd}"));
        self.letter_reason.push(l.reason.replace('\0', "\u{fffd}"));
        self.letter_raw.push(l.raw.clone());
    }
}

/// The event's [`ffc_core::Source`] by its serde name (`WebSocket`, `Mqtt`, ..).
fn source_name(e: &CountEvent) -> String {
    match serde_json::to_value(e.source) {
        Ok(serde_json::Value::String(name)) => name,
        _ => format!("{:?}", e.source),
    }
}

/// A failed attempt: the text for the callers and whether trying again can help.
struct Failure {
    message: String,
    retryable: bool,
}

/// Writes `jobs` as one transaction (retrying as configured) and answers every caller.
async fn write_batch(shared: &Shared, jobs: &mut Vec<Job>) {
    // Each distinct key is written once; the first caller with it is its owner. Keys are
    // written in sorted order so concurrent writers lock index entries in the same order.
    let mut unique: Vec<(EventKey, usize)> = Vec::new();
    let mut seen: HashSet<EventKey> = HashSet::new();
    for (i, job) in jobs.iter().enumerate() {
        if let Job::Event { event, .. } = job {
            let key = event.key();
            if seen.insert(key) {
                unique.push((key, i));
            }
        }
    }
    unique.sort_unstable_by_key(|&(key, _)| key);
    let mut columns = Columns::default();
    for &(_, i) in &unique {
        if let Some(Job::Event { event, .. }) = jobs.get(i) {
            columns.push_event(event);
        }
    }
    for job in jobs.iter() {
        if let Job::Letter { letter, .. } = job {
            columns.push_letter(letter);
        }
    }

    let config = &shared.config;
    let started = Instant::now();
    let mut backoff = config.retry_backoff;
    let outcome = loop {
        match attempt(shared, &columns).await {
            Ok(added) => break Ok(added),
            Err(failure)
                if failure.retryable
                    && started.elapsed().saturating_add(backoff) < config.retry_for =>
            {
                Counters::add(&shared.counters.retries, 1);
                tracing::warn!(
                    error = %failure.message,
                    retry_in_ms = backoff.as_millis() as u64,
                    "PostgreSQL sink batch failed; retrying"
                );
                tokio::time::sleep(backoff).await;
                backoff = backoff.saturating_mul(2).min(config.retry_backoff_max);
            }
            Err(failure) => break Err(failure.message),
        }
    };

    match outcome {
        Ok(added) => {
            // Positions in `columns` (1-based) of the rows that were added, mapped to the job
            // that owns each.
            let mut stored_jobs = vec![false; jobs.len()];
            for ord in added {
                let owner = usize::try_from(ord - 1)
                    .ok()
                    .and_then(|u| unique.get(u))
                    .map(|&(_, i)| i);
                if let Some(slot) = owner.and_then(|i| stored_jobs.get_mut(i)) {
                    *slot = true;
                }
            }
            let counters = &shared.counters;
            Counters::add(&counters.batches, 1);
            for (job, stored) in jobs.drain(..).zip(stored_jobs) {
                match job {
                    Job::Event { reply, .. } => {
                        let answer = if stored {
                            Counters::add(&counters.events_stored, 1);
                            Accepted::Stored
                        } else {
                            Counters::add(&counters.duplicates, 1);
                            Accepted::Duplicate
                        };
                        // A caller that went away simply misses its answer.
                        let _ = reply.send(Ok(answer));
                    }
                    Job::Letter { reply, .. } => {
                        Counters::add(&counters.dead_letters, 1);
                        let _ = reply.send(Ok(()));
                    }
                }
            }
        }
        Err(message) => {
            tracing::error!(error = %message, events = unique.len(), "PostgreSQL sink batch failed; not acknowledged");
            Counters::add(&shared.counters.failed, jobs.len());
            for job in jobs.drain(..) {
                let error = SinkError::Database {
                    message: message.clone(),
                };
                match job {
                    Job::Event { reply, .. } => {
                        let _ = reply.send(Err(error));
                    }
                    Job::Letter { reply, .. } => {
                        let _ = reply.send(Err(error));
                    }
                }
            }
        }
    }
}

/// One try: a connection from the pool, `BEGIN`, the inserts, `COMMIT`. Returns the 1-based
/// positions of the events that were added. The whole try is bounded by a client-side timeout
/// too, for a server that vanished without closing the connection.
async fn attempt(shared: &Shared, columns: &Columns) -> Result<Vec<i64>, Failure> {
    let config = &shared.config;
    let limit = config
        .connect_timeout
        .saturating_add(config.statement_timeout.saturating_mul(2));
    match tokio::time::timeout(limit, attempt_once(shared, columns)).await {
        Ok(result) => result,
        Err(_) => Err(Failure {
            message: format!(
                "no answer from the database within {} ms",
                limit.as_millis()
            ),
            retryable: true,
        }),
    }
}

async fn attempt_once(shared: &Shared, columns: &Columns) -> Result<Vec<i64>, Failure> {
    let mut client = shared.pool.get().await.map_err(|e| Failure {
        message: shared.redact(pool_error_text(&e)),
        retryable: pool_error_retryable(&e),
    })?;
    let result = async {
        let tx = client.transaction().await?;
        let mut added = Vec::new();
        if !columns.serial.is_empty() {
            let statement = tx.prepare_cached(INSERT_EVENTS).await?;
            let params: [&(dyn ToSql + Sync); 10] = [
                &columns.serial,
                &columns.roi,
                &columns.metric,
                &columns.people_type,
                &columns.people_id,
                &columns.start,
                &columns.end,
                &columns.offset,
                &columns.uuid,
                &columns.source,
            ];
            for row in tx.query(&statement, &params).await? {
                added.push(row.try_get::<_, i64>(0)?);
            }
        }
        if !columns.letter_raw.is_empty() {
            let statement = tx.prepare_cached(INSERT_DEAD_LETTERS).await?;
            tx.execute(
                &statement,
                &[
                    &columns.letter_received,
                    &columns.letter_origin,
                    &columns.letter_reason,
                    &columns.letter_raw,
                ],
            )
            .await?;
        }
        tx.commit().await?;
        Ok::<_, tokio_postgres::Error>(added)
    }
    .await;
    result.map_err(|e| {
        // Whatever went wrong, do not hand this connection to the next batch: it may be
        // half-closed or inside an aborted transaction. The pool opens a fresh one.
        drop(deadpool_postgres::Object::take(client));
        Failure {
            message: shared.redact(error_text(&e)),
            retryable: retryable(&e),
        }
    })
}

/// Whether trying again on a fresh connection can succeed: the connection was lost or the
/// server is restarting, or a conflict with another transaction. Not for a statement the
/// server refuses as such.
fn retryable(e: &tokio_postgres::Error) -> bool {
    if e.is_closed() {
        return true;
    }
    match e.code() {
        Some(code) => {
            let code = code.code();
            code.starts_with("08") // connection exception
                || matches!(
                    code,
                    "40001" // serialization_failure
                        | "40P01" // deadlock_detected
                        | "57P01" // admin_shutdown (pg_terminate_backend, fast stop)
                        | "57P02" // crash_shutdown
                        | "57P03" // cannot_connect_now (starting up, shutting down)
                        | "53300" // too_many_connections
                        | "53000" // insufficient_resources
                        | "57014" // query_canceled (statement_timeout)
                        | "55P03" // lock_not_available
                )
        }
        // No SQLSTATE: the driver's own failure. I/O on the socket is worth another try;
        // a value that cannot be encoded is not.
        None => {
            let mut source = std::error::Error::source(e);
            while let Some(inner) = source {
                if inner.is::<std::io::Error>() {
                    return true;
                }
                source = inner.source();
            }
            false
        }
    }
}

fn pool_error_retryable(e: &PoolError) -> bool {
    match e {
        PoolError::Backend(e) => retryable(e),
        PoolError::Timeout(_) => true,
        _ => false,
    }
}

fn pool_error_text(e: &PoolError) -> String {
    match e {
        PoolError::Backend(e) => error_text(e),
        other => other.to_string(),
    }
}

/// The driver's message, with the server's SQLSTATE and detail when there is one.
fn error_text(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => {
            let mut text = format!("{} {}: {}", db.severity(), db.code().code(), db.message());
            if let Some(detail) = db.detail() {
                text.push_str(" (");
                text.push_str(detail);
                text.push(')');
            }
            text
        }
        None => {
            let mut text = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(inner) = source {
                let more = inner.to_string();
                if !text.contains(&more) {
                    text.push_str(": ");
                    text.push_str(&more);
                }
                source = inner.source();
            }
            text
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_hides_the_password_and_parses_settings() {
        let config = PgSinkConfig::new("postgresql://ffc:pw-in-url-9@127.0.0.1:6543/footfall")
            .unwrap()
            .with_pool_size(0)
            .with_batch_size(7)
            .with_queue_bound(3);
        assert_eq!(config.pool_size(), 1);
        assert_eq!(config.batch_size(), 7);
        assert_eq!(config.queue_bound(), 3);
        assert_eq!(config.dbname(), Some("footfall"));
        assert_eq!(
            config.to_string(),
            "postgresql://ffc@127.0.0.1:6543/footfall"
        );
        let debug = format!("{config:?}");
        assert!(!debug.contains("pw-in-url-9"), "{debug}");
        assert!(debug.contains("<redacted>"), "{debug}");
        let config = config.with_password("pw-given-7");
        assert!(!format!("{config:?} {config}").contains("pw-given-7"));
    }

    #[test]
    fn bad_urls_do_not_echo_the_password() {
        for url in [
            "postgresql://ffc:pw-secret-x@127.0.0.1:notaport/db",
            "postgresql://ffc:pw-secret-x@[::1/db",
            "host=127.0.0.1 password='pw-secret-x",
            "host=127.0.0.1 password=pw-secret-x sslmode=nonsense",
        ] {
            match PgSinkConfig::new(url) {
                Err(e) => {
                    let text = format!("{e} {e:?}");
                    assert!(!text.contains("pw-secret"), "{url}: {text}");
                }
                Ok(c) => panic!("{url} parsed: {c:?}"),
            }
        }
    }

    #[test]
    fn missing_password_variable_names_the_variable() {
        let config = PgSinkConfig::new("postgresql://ffc@127.0.0.1/db").unwrap();
        match config.with_password_from_env("FFC_TEST_SURELY_UNSET_PASSWORD_VAR") {
            Err(PgSinkError::Config { reason }) => {
                assert!(reason.contains("FFC_TEST_SURELY_UNSET_PASSWORD_VAR"))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn redaction_replaces_every_occurrence() {
        assert_eq!(
            redact("a hunter2 b hunter2".into(), Some(b"hunter2")),
            "a <redacted> b <redacted>"
        );
        assert_eq!(redact("nothing".into(), Some(b"")), "nothing");
        assert_eq!(redact("nothing".into(), None), "nothing");
    }
}
