//! [`PgSinkConfig`]: where the database is, and how to batch, retry and time out.

use std::fmt;
use std::time::Duration;

use ffc_core::backoff::RetryPolicy;

use super::PgSinkError;
#[cfg(doc)]
use crate::sink::SinkError;

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
#[non_exhaustive]
pub struct PgSinkConfig {
    /// The driver's settings from the URL; private because it holds the password.
    pg: tokio_postgres::Config,
    /// Writer tasks, each with at most one connection in use (at least 1 is used).
    pub pool_size: usize,
    /// Events written in one transaction at most (at least 1 is used).
    pub batch_size: usize,
    /// How long a writer waits for more events before it writes a batch that is not full.
    pub batch_wait: Duration,
    /// Events queued for the writers at most (at least 1 is used); further `accept`s wait.
    pub queue_bound: usize,
    /// The waits between tries of a failed batch (the family's backoff: exponential, full
    /// jitter, capped). A batch gives up when this policy allows no more attempts or after
    /// [`PgSinkConfig::retry_for`], whichever comes first.
    pub retry: RetryPolicy,
    /// How long a failed batch is retried at most before its callers get
    /// [`SinkError::Database`].
    pub retry_for: Duration,
    /// The waits of [`PgSink::connect_waiting`](super::PgSink::connect_waiting) while the
    /// database cannot be reached.
    pub connect_retry: RetryPolicy,
    /// The server-side limit on one statement (PostgreSQL's `statement_timeout`).
    pub statement_timeout: Duration,
    /// The limit on opening one connection.
    pub connect_timeout: Duration,
    /// How long at most between folds of the hourly deltas into their totals (schema
    /// version 4): after a commit, a writer folds when this much time or
    /// [`PgSinkConfig::fold_batches`] batches passed since the last fold began. Either way
    /// the view `ffc_records` counts every committed event; folding keeps the deltas few.
    pub fold_interval: Duration,
    /// Batches committed at most between folds of the hourly deltas (at least 1 is used).
    pub fold_batches: usize,
}

impl PgSinkConfig {
    /// Writer tasks and connections by default: 4.
    pub const DEFAULT_POOL_SIZE: usize = 4;
    /// Events per transaction at most, by default: 1,000.
    pub const DEFAULT_BATCH_SIZE: usize = 1000;
    /// How long a writer waits for more events before it writes a short batch, by default:
    /// 5 ms. A writer lingers only while no other writer waits its turn (checked as each
    /// event comes), so with the default 4 writers a lone caller pays nothing, and under
    /// load the linger makes fewer, fuller transactions. A sink of one or two writers whose
    /// caller waits for each event in turn can pay the linger on a batch (the one writer, or
    /// the other while the first is still answering): give it
    /// [`PgSinkConfig::with_batch_wait`] zero.
    pub const DEFAULT_BATCH_WAIT: Duration = Duration::from_millis(5);
    /// Events queued for the writers at most, by default: 10,000; `accept` waits past it.
    pub const DEFAULT_QUEUE_BOUND: usize = 10_000;
    /// The waits between tries of a failed batch, by default: from 50 ms doubling up to 2 s,
    /// with full jitter, bounded by [`PgSinkConfig::DEFAULT_RETRY_FOR`] rather than a count.
    pub const DEFAULT_RETRY: RetryPolicy =
        RetryPolicy::forever(Duration::from_millis(50), Duration::from_secs(2));
    /// The waits while the database cannot be reached at start, by default: from 100 ms
    /// doubling up to 5 s, with full jitter, for as long as it takes.
    pub const DEFAULT_CONNECT_RETRY: RetryPolicy =
        RetryPolicy::forever(Duration::from_millis(100), Duration::from_secs(5));
    /// How long a batch is retried before its callers get an error, by default: 30 s.
    pub const DEFAULT_RETRY_FOR: Duration = Duration::from_secs(30);
    /// The server-side limit on one statement, by default: 30 s.
    pub const DEFAULT_STATEMENT_TIMEOUT: Duration = Duration::from_secs(30);
    /// The limit on opening one connection, by default: 5 s.
    pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
    /// The longest time between folds of the hourly deltas, by default: 1 s.
    pub const DEFAULT_FOLD_INTERVAL: Duration = Duration::from_secs(1);
    /// The most batches between folds of the hourly deltas, by default: 512 (a busy sink
    /// then folds a few times a second, hundreds of delta rows each time).
    pub const DEFAULT_FOLD_BATCHES: usize = 512;

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
            retry: Self::DEFAULT_RETRY,
            retry_for: Self::DEFAULT_RETRY_FOR,
            connect_retry: Self::DEFAULT_CONNECT_RETRY,
            statement_timeout: Self::DEFAULT_STATEMENT_TIMEOUT,
            connect_timeout: Self::DEFAULT_CONNECT_TIMEOUT,
            fold_interval: Self::DEFAULT_FOLD_INTERVAL,
            fold_batches: Self::DEFAULT_FOLD_BATCHES,
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

    /// Waits between tries of a failed batch as `policy` says (see [`RetryPolicy`]).
    pub fn with_retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
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

    /// Folds the hourly deltas into their totals at least every `interval` (after the next
    /// commit) and at least every `batches` batches (at least 1). `Duration::MAX` and
    /// `usize::MAX` fold only when the sink closes.
    pub fn with_fold_every(mut self, interval: Duration, batches: usize) -> Self {
        self.fold_interval = interval;
        self.fold_batches = batches.max(1);
        self
    }

    /// Waits between tries of [`PgSink::connect_waiting`](super::PgSink::connect_waiting) as
    /// `policy` says; with `max_attempts` set it gives up after that many.
    pub fn with_connect_retry(mut self, policy: RetryPolicy) -> Self {
        self.connect_retry = policy;
        self
    }

    /// The database name, when set.
    pub fn dbname(&self) -> Option<&str> {
        self.pg.get_dbname()
    }
    /// Writer tasks and connections (at least 1).
    pub fn pool_size(&self) -> usize {
        self.pool_size.max(1)
    }
    /// Events per transaction at most (at least 1).
    pub fn batch_size(&self) -> usize {
        self.batch_size.max(1)
    }
    /// The linger before a short batch is written.
    pub fn batch_wait(&self) -> Duration {
        self.batch_wait
    }
    /// Events queued at most (at least 1).
    pub fn queue_bound(&self) -> usize {
        self.queue_bound.max(1)
    }
    /// The waits between tries of a failed batch.
    pub fn retry(&self) -> RetryPolicy {
        self.retry
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
    /// The waits of [`PgSink::connect_waiting`](super::PgSink::connect_waiting).
    pub fn connect_retry(&self) -> RetryPolicy {
        self.connect_retry
    }
    /// The longest time between folds of the hourly deltas.
    pub fn fold_interval(&self) -> Duration {
        self.fold_interval
    }
    /// The most batches between folds of the hourly deltas (at least 1).
    pub fn fold_batches(&self) -> usize {
        self.fold_batches.max(1)
    }

    /// The driver configuration with this sink's timeouts applied.
    pub(super) fn driver_config(&self) -> tokio_postgres::Config {
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
    pub(super) fn secret(&self) -> Option<Vec<u8>> {
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
            .field("retry", &self.retry)
            .field("retry_for", &self.retry_for)
            .field("connect_retry", &self.connect_retry)
            .field("statement_timeout", &self.statement_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("fold_interval", &self.fold_interval)
            .field("fold_batches", &self.fold_batches)
            .finish()
    }
}
