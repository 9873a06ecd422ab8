//! The writer tasks: gather queued jobs into a batch (group commit), write it as one
//! transaction, retry it with the family's backoff, then hand the outcome to [`super::ack`]
//! and, when one is due, fold the hourly deltas ([`super::totals`]).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ffc_core::{CountEvent, EventKey};
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TryRecvError;
use tokio::time::Instant;

use super::ack::{self, Counters, Job};
use super::error::Failure;
use super::{totals, writer_tx, PgSinkConfig, Shared};
use crate::sink::DeadLetter;

/// One batch of dead letters.
pub(super) const INSERT_DEAD_LETTERS: &str = "
INSERT INTO ffc_dead_letters (received_at, origin, reason, raw)
SELECT to_timestamp(received_unix), origin, reason, raw
FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::bytea[]) AS t(received_unix, origin, reason, raw)";

/// The writers' shared queue: one writer gathers a batch at a time, the others wait their
/// turn; `idle` counts those waiting.
pub(super) struct Queue {
    rx: tokio::sync::Mutex<mpsc::Receiver<Job>>,
    idle: AtomicUsize,
}

impl Queue {
    pub(super) fn new(rx: mpsc::Receiver<Job>) -> Self {
        Self {
            rx: tokio::sync::Mutex::new(rx),
            idle: AtomicUsize::new(0),
        }
    }
}

/// One writer task: takes batches off the shared queue until it is closed and empty.
pub(super) async fn run(shared: Arc<Shared>, queue: Arc<Queue>) {
    let mut jobs = Vec::with_capacity(shared.config.batch_size());
    let mut path = Path::default();
    while collect(&queue, &mut jobs, &shared.config).await {
        write_batch(&shared, &mut jobs, &mut path).await;
    }
}

/// Which way a writer inserts: the fast path (a `COPY` straight into `ffc_events`, for batches of new keys) until
/// a batch meets a stored key; then the conflict-checking path for the next
/// [`Path::SLOW_AFTER_CONFLICT`] batches (resends come in runs, after an outage), then the
/// fast path again.
#[derive(Default)]
struct Path {
    slow_left: u32,
}

impl Path {
    const SLOW_AFTER_CONFLICT: u32 = 32;

    fn fast(&self) -> bool {
        self.slow_left == 0
    }

    fn committed(&mut self) {
        self.slow_left = self.slow_left.saturating_sub(1);
    }

    fn conflicted(&mut self) {
        self.slow_left = Self::SLOW_AFTER_CONFLICT;
    }
}

/// Waits for one job, then gathers more until the batch is full, the linger is over or the
/// queue is empty with no linger. False when the queue is closed and drained.
///
/// Lingering pays only while every other writer is busy: a writer waiting its turn would
/// write what is queued at once, and the linger would only keep it (and the database)
/// waiting. So a writer lingers only while no other one waits, checked before each wait
/// for the next event: a writer that starts waiting mid-linger ends it at the next event,
/// not at once (waking the lingering writer at once made smaller batches and a slower sink
/// in the `pg_sink` bench).
async fn collect(queue: &Queue, jobs: &mut Vec<Job>, config: &PgSinkConfig) -> bool {
    queue.idle.fetch_add(1, Ordering::Relaxed);
    let mut rx = queue.rx.lock().await;
    queue.idle.fetch_sub(1, Ordering::Relaxed);
    let Some(first) = rx.recv().await else {
        return false;
    };
    jobs.push(first);
    // A linger too long to add (say Duration::MAX for "as long as it takes") waits a month.
    let deadline = Instant::now()
        .checked_add(config.batch_wait)
        .unwrap_or_else(|| Instant::now() + Duration::from_secs(30 * 86_400));
    while jobs.len() < config.batch_size() {
        match rx.try_recv() {
            Ok(job) => {
                jobs.push(job);
                continue;
            }
            Err(TryRecvError::Disconnected) => break,
            Err(TryRecvError::Empty) => {}
        }
        if config.batch_wait.is_zero() || queue.idle.load(Ordering::Relaxed) > 0 {
            break;
        }
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(job)) => jobs.push(job),
            Ok(None) | Err(_) => break,
        }
    }
    true
}

/// A batch's rows, built once and reused by every attempt: the events (each distinct key
/// once, in key order; written by binary `COPY`, see `writer_stage`) and the dead letters'
/// parameter arrays.
#[derive(Default)]
pub(super) struct Columns {
    pub(super) events: Vec<CountEvent>,
    pub(super) letter_received: Vec<i64>,
    pub(super) letter_origin: Vec<String>,
    pub(super) letter_reason: Vec<String>,
    pub(super) letter_raw: Vec<Vec<u8>>,
}

impl Columns {
    fn push_letter(&mut self, l: &DeadLetter) {
        self.letter_received.push(l.received_at);
        // A text column cannot hold NUL; the raw bytes keep the message exactly.
        self.letter_origin.push(l.origin.replace('\0', "\u{fffd}"));
        self.letter_reason.push(l.reason.replace('\0', "\u{fffd}"));
        self.letter_raw.push(l.raw.clone());
    }
}

/// Writes `jobs` as one transaction (retrying as configured) and answers every caller.
async fn write_batch(shared: &Shared, jobs: &mut Vec<Job>, path: &mut Path) {
    let (owners, columns) = plan(jobs);
    let started = Instant::now();
    match commit_with_retry(shared, &columns, path).await {
        Ok(added) => {
            tracing::debug!(
                events = owners.len(),
                stored = added.len(),
                dead_letters = columns.letter_raw.len(),
                callers = jobs.len(),
                elapsed_ms = started.elapsed().as_millis() as u64,
                "PostgreSQL sink batch committed"
            );
            ack::committed(&shared.counters, jobs, &owners, &added);
            if !columns.events.is_empty() {
                totals::after_commit(shared).await;
            }
        }
        Err(message) => {
            tracing::error!(
                error = %message,
                events = owners.len(),
                dead_letters = columns.letter_raw.len(),
                callers = jobs.len(),
                "PostgreSQL sink batch failed; not acknowledged"
            );
            ack::failed(&shared.counters, jobs, &message);
        }
    }
}

/// The rows of a batch: each distinct key once, owned by the first caller with it (its index
/// in `jobs`), then the dead letters. Keys are written in sorted order so concurrent writers
/// lock index entries in the same order.
fn plan(jobs: &[Job]) -> (Vec<(EventKey, usize)>, Columns) {
    let mut owners: Vec<(EventKey, usize)> = jobs
        .iter()
        .enumerate()
        .filter_map(|(i, job)| match job {
            Job::Event { event, .. } => Some((event.key(), i)),
            Job::Letter { .. } => None,
        })
        .collect();
    // Sorted by key, then by job: of equal keys the first caller's comes first and stays.
    owners.sort_unstable();
    owners.dedup_by_key(|&mut (key, _)| key);
    let mut columns = Columns::default();
    for &(_, i) in &owners {
        if let Some(Job::Event { event, .. }) = jobs.get(i) {
            columns.events.push(*event);
        }
    }
    for job in jobs {
        if let Job::Letter { letter, .. } = job {
            columns.push_letter(letter);
        }
    }
    (owners, columns)
}

/// Tries the batch until it commits, waiting between tries as the configured
/// [`RetryPolicy`](ffc_core::backoff::RetryPolicy) says, for at most `retry_for`. Returns the
/// 1-based positions of the rows that were added, or the last failure's text.
async fn commit_with_retry(
    shared: &Shared,
    columns: &Columns,
    path: &mut Path,
) -> Result<Vec<i64>, String> {
    let config = &shared.config;
    let started = Instant::now();
    let mut backoff = config.retry.backoff();
    loop {
        let failure = match attempt(shared, columns, path.fast()).await {
            Ok(added) => {
                path.committed();
                return Ok(added);
            }
            // A stored key met on the fast path: at once again, checking each row.
            Err(Tried::Conflict) => {
                path.conflicted();
                continue;
            }
            Err(Tried::Failed(failure)) => failure,
        };
        let wait = match backoff.next_delay() {
            Some(wait) if failure.retryable && within(started, wait, config.retry_for) => wait,
            _ => return Err(failure.message),
        };
        Counters::add(&shared.counters.retries, 1);
        tracing::warn!(
            error = %failure.message,
            attempt = backoff.failures(),
            retry_in_ms = wait.as_millis() as u64,
            "PostgreSQL sink batch failed; retrying"
        );
        tokio::time::sleep(wait).await;
    }
}

/// Whether waiting `wait` more still ends before `limit` has passed since `started`.
fn within(started: Instant, wait: Duration, limit: Duration) -> bool {
    started.elapsed().saturating_add(wait) < limit
}

/// How a try ended when it did not commit.
pub(super) enum Tried {
    /// The fast path met a key already stored; nothing was written.
    Conflict,
    Failed(Failure),
}

/// One try: a connection from the pool, `BEGIN`, the inserts, `COMMIT`. Returns the 1-based
/// positions of the events that were added. The whole try is bounded by a client-side timeout
/// too, for a server that vanished without closing the connection.
async fn attempt(shared: &Shared, columns: &Columns, fast: bool) -> Result<Vec<i64>, Tried> {
    let config = &shared.config;
    let limit = config
        .connect_timeout
        .saturating_add(config.statement_timeout.saturating_mul(2));
    match tokio::time::timeout(limit, writer_tx::attempt_once(shared, columns, fast)).await {
        Ok(result) => result,
        Err(_) => Err(Tried::Failed(Failure {
            message: format!(
                "no answer from the database within {} ms",
                limit.as_millis()
            ),
            retryable: true,
        })),
    }
}

#[cfg(test)]
mod tests {
    //! The linger rule of [`collect`], on tokio's paused clock: the elapsed time is the
    //! time `collect` waited, exactly, with no real waiting.

    use super::*;
    use crate::sink::DeadLetter;

    fn letter(n: u8) -> Job {
        let (reply, _) = tokio::sync::oneshot::channel();
        let letter = DeadLetter {
            received_at: 0,
            origin: format!("test {n}"),
            reason: "test".into(),
            raw: vec![n],
        };
        Job::Letter { letter, reply }
    }

    fn setup(wait: Duration) -> (Arc<Queue>, mpsc::Sender<Job>, PgSinkConfig) {
        let (tx, rx) = mpsc::channel(16);
        let config = PgSinkConfig::new("postgresql://ffc@127.0.0.1/db")
            .unwrap()
            .with_batch_size(10)
            .with_batch_wait(wait);
        (Arc::new(Queue::new(rx)), tx, config)
    }

    /// Runs [`collect`] (which must find a job) and says how many jobs it gathered and how
    /// long it waited.
    async fn gather(queue: &Queue, config: &PgSinkConfig) -> (usize, Duration) {
        let (start, mut jobs) = (Instant::now(), Vec::new());
        assert!(collect(queue, &mut jobs, config).await);
        (jobs.len(), start.elapsed())
    }

    #[tokio::test(start_paused = true)]
    async fn no_linger_while_another_writer_waits_its_turn() {
        let (queue, tx, config) = setup(Duration::from_secs(3600));
        queue.idle.store(1, Ordering::Relaxed);
        tx.send(letter(1)).await.unwrap();
        assert_eq!(gather(&queue, &config).await, (1, Duration::ZERO));
    }

    /// Queues `job` after `delay`, keeping the queue open (a closed queue would end a
    /// linger on its own).
    fn send_after(tx: &mpsc::Sender<Job>, delay: Duration, job: Job) {
        let tx = tx.clone();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            tx.send(job).await.unwrap();
        });
    }

    #[tokio::test(start_paused = true)]
    async fn a_busy_pool_lingers_the_whole_wait_gathering_what_comes() {
        let (queue, tx, config) = setup(Duration::from_millis(5));
        tx.send(letter(1)).await.unwrap();
        send_after(&tx, Duration::from_millis(2), letter(2));
        assert_eq!(gather(&queue, &config).await, (2, Duration::from_millis(5)));
    }

    #[tokio::test(start_paused = true)]
    async fn a_writer_waiting_mid_linger_ends_it_at_the_next_event() {
        let (queue, tx, config) = setup(Duration::from_secs(3600));
        tx.send(letter(1)).await.unwrap();
        let waiting = queue.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(1)).await;
            waiting.idle.fetch_add(1, Ordering::Relaxed);
        });
        send_after(&tx, Duration::from_millis(2), letter(2));
        assert_eq!(gather(&queue, &config).await, (2, Duration::from_millis(2)));
    }

    #[tokio::test(start_paused = true)]
    async fn a_closed_empty_queue_ends_the_writer() {
        let (queue, tx, config) = setup(Duration::from_millis(5));
        drop(tx);
        assert!(!collect(&queue, &mut Vec::new(), &config).await);
    }
}
