//! Answering the callers of a batch once its fate is known: [`Accepted`] per event after
//! `COMMIT` returned, [`SinkError::Database`] for all when it failed for good; and the
//! counters behind [`PgSinkStats`].

use std::sync::atomic::{AtomicU64, Ordering};

use ffc_core::{CountEvent, EventKey};
use tokio::sync::oneshot;

use crate::sink::{Accepted, DeadLetter, SinkError};

/// What a [`PgSink`](super::PgSink) has done since it connected.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
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
    /// Folds of the hourly deltas into their totals that committed (including those that
    /// found another fold running and left the deltas to it).
    pub folds: u64,
    /// Bucket counts those folds moved into `ffc_record_totals` (a delta row holds one per
    /// bucket of its batch).
    pub deltas_folded: u64,
    /// Folds that failed (logged; their deltas wait for the next fold, still counted).
    pub fold_failures: u64,
}

/// What the writers have done, counted as they answer.
#[derive(Default)]
pub(super) struct Counters {
    pub(super) batches: AtomicU64,
    pub(super) events_stored: AtomicU64,
    pub(super) duplicates: AtomicU64,
    pub(super) dead_letters: AtomicU64,
    pub(super) retries: AtomicU64,
    pub(super) failed: AtomicU64,
    pub(super) folds: AtomicU64,
    pub(super) deltas_folded: AtomicU64,
    pub(super) fold_failures: AtomicU64,
}

impl Counters {
    pub(super) fn add(counter: &AtomicU64, n: usize) {
        counter.fetch_add(n as u64, Ordering::Relaxed);
    }
}

/// One caller waiting in the queue: its event or dead letter and where its answer goes.
pub(super) enum Job {
    Event {
        event: CountEvent,
        reply: oneshot::Sender<Result<Accepted, SinkError>>,
    },
    Letter {
        letter: DeadLetter,
        reply: oneshot::Sender<Result<(), SinkError>>,
    },
}

impl Counters {
    /// The counts so far.
    pub(super) fn stats(&self) -> PgSinkStats {
        PgSinkStats {
            batches: self.batches.load(Ordering::Relaxed),
            events_stored: self.events_stored.load(Ordering::Relaxed),
            duplicates: self.duplicates.load(Ordering::Relaxed),
            dead_letters: self.dead_letters.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            folds: self.folds.load(Ordering::Relaxed),
            deltas_folded: self.deltas_folded.load(Ordering::Relaxed),
            fold_failures: self.fold_failures.load(Ordering::Relaxed),
        }
    }
}

/// After `COMMIT` returned: answers every caller of `jobs`. `owners` holds, for each event
/// row written (in the order of the statement's parameter arrays), the index in `jobs` of the
/// caller that owns its key; `added` the 1-based positions of the rows that were new. An
/// owner of a new row hears [`Accepted::Stored`]; every other event caller (the key was held
/// already, or an earlier caller of the batch had it) hears [`Accepted::Duplicate`].
pub(super) fn committed(
    counters: &Counters,
    jobs: &mut Vec<Job>,
    owners: &[(EventKey, usize)],
    added: &[i64],
) {
    let mut stored_jobs = vec![false; jobs.len()];
    for &ord in added {
        let owner = ord
            .checked_sub(1)
            .and_then(|o| usize::try_from(o).ok())
            .and_then(|u| owners.get(u))
            .map(|&(_, i)| i);
        if let Some(slot) = owner.and_then(|i| stored_jobs.get_mut(i)) {
            *slot = true;
        }
    }
    // Counted first and added once (every writer shares the counters), before any caller
    // hears its answer: a caller that reads the stats after its answer finds it counted.
    let (mut events_stored, mut duplicates, mut dead_letters) = (0, 0, 0);
    for (job, stored) in jobs.iter().zip(&stored_jobs) {
        match (job, stored) {
            (Job::Event { .. }, true) => events_stored += 1,
            (Job::Event { .. }, false) => duplicates += 1,
            (Job::Letter { .. }, _) => dead_letters += 1,
        }
    }
    Counters::add(&counters.batches, 1);
    Counters::add(&counters.events_stored, events_stored);
    Counters::add(&counters.duplicates, duplicates);
    Counters::add(&counters.dead_letters, dead_letters);
    for (job, stored) in jobs.drain(..).zip(stored_jobs) {
        // A caller that went away simply misses its answer.
        match job {
            Job::Event { reply, .. } => {
                let answer = match stored {
                    true => Accepted::Stored,
                    false => Accepted::Duplicate,
                };
                let _ = reply.send(Ok(answer));
            }
            Job::Letter { reply, .. } => {
                let _ = reply.send(Ok(()));
            }
        }
    }
}

/// The batch failed for good: every caller of `jobs` hears [`SinkError::Database`] with
/// `message` (already without the password), and none is acknowledged.
pub(super) fn failed(counters: &Counters, jobs: &mut Vec<Job>, message: &str) {
    Counters::add(&counters.failed, jobs.len());
    for job in jobs.drain(..) {
        let error = SinkError::Database {
            message: message.to_string(),
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
