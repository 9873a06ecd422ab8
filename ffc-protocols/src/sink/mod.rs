//! Where received events go: the [`EventSink`] trait and its sinks, and the
//! [`DeadLetterSink`] for messages that authenticated but did not decode.
//!
//! Protocol-neutral: the WebSocket receiver and the MQTT subscriber both write here.
//! Every sink is idempotent on [`EventKey`](ffc_core::EventKey): [`EventSink::accept`] answers
//! [`Accepted::Duplicate`] for a key it already holds and keeps nothing twice. A transport
//! acknowledges a message only after `accept` returned `Ok` (invariant 1 of DESIGN.md).
//!
//! | sink | keeps | durable when `accept` returns | dedupe window |
//! |---|---|---|---|
//! | [`MemorySink`] | a `Vec` | no | every key held |
//! | [`FileSink`] | JSON lines, append-only | yes (`fdatasync`, group commit) | every key in the file, reloaded on open |
//! | [`ChannelSink`] | a bounded tokio channel | when the receiver has it | the last [`ChannelSink::DEFAULT_WINDOW`] keys |
//! | `postgres::PgSink` (feature `postgres`) | PostgreSQL tables, with hourly totals | yes (after `COMMIT`, group commit) | every key in the table |
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! use ffc_protocols::sink::{Accepted, EventSink, FileSink};
//! use ffc_protocols::ws::codec::{decode, Message};
//!
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("events.jsonl");
//! let pro2 = br#"{"UUID":"658a2443-72ba-422c-85dc-e4e10baa1288","DeviceSerial":"ecd5cc57d23c5c9f","RoiId":1,"MetricId":1,"PeopleTypeId":1,"CombineObjectTypeId":11,"PeopleId":1,"EventEndLocalTime":"2025-07-23 18:36:31","EventEndTime":1753266991,"EventEndUTCTime":"2025-07-23 10:36:31"}"#;
//! let Message::Event(event) = decode(pro2)? else { unreachable!() };
//!
//! let sink = FileSink::open(&path)?;
//! assert_eq!(sink.accept(&event).await?, Accepted::Stored);
//! assert_eq!(sink.accept(&event).await?, Accepted::Duplicate);
//! drop(sink);
//!
//! // Reopened, it still knows the key: a resend after a restart is not stored twice.
//! let sink = FileSink::open(&path)?;
//! assert_eq!(sink.accept(&event).await?, Accepted::Duplicate);
//! assert_eq!(ffc_protocols::sink::read_events(&path)?, vec![event]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```

use std::io;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use ffc_core::{CountEvent, UnixSeconds};

mod append_log;
mod channel;
mod dead_letter;
mod file;
mod memory;
#[cfg(feature = "postgres")]
pub mod postgres;
pub mod session;

pub use channel::ChannelSink;
pub use dead_letter::{DeadLetter, DeadLetterSink};
pub use file::{
    read_dead_letters, read_events, read_received, read_sessions, sessions_path, FileDeadLetters,
    FileSink,
};
pub use memory::{MemoryDeadLetters, MemorySink};
pub use session::{Clock, SessionKind, SessionRecord, SessionSource, SessionThrottle};

/// What a sink did with an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Accepted {
    /// Kept (and, for a durable sink, on disk).
    Stored,
    /// A key the sink already holds: nothing was kept twice. Acknowledge it all the same.
    Duplicate,
}

/// Why a sink did not keep an event. Whatever the variant, the event is **not** kept: do
/// not acknowledge it, so the sender resends it later.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SinkError {
    /// Reading or writing the storage failed (disk full, permissions). Fix the storage;
    /// senders resend what was not acknowledged.
    #[error("event storage failed while {doing}: {source}")]
    Io {
        /// What the sink was doing.
        doing: &'static str,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// A stored line that is not what this sink writes. Move or repair the file; the sink
    /// will not append behind data it cannot read.
    #[error("{path}: line {line} is not a stored record ({reason})")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// Why it did not parse.
        reason: String,
    },
    /// The sink holds its configured maximum; rotate or drain it.
    #[error("the sink holds its maximum of {limit} records")]
    Full {
        /// The limit.
        limit: usize,
    },
    /// The sink's writer or receiver is gone (shut down or crashed); make a new sink.
    #[error("the sink is closed")]
    Closed,
    /// The database did not confirm the write: it stayed unreachable for the sink's retry
    /// time, or refused the statement. The event is not acknowledged; senders resend it, and
    /// a resend of one that did get committed is answered [`Accepted::Duplicate`]. Check the
    /// database. The message never holds the password.
    #[error("the database did not store the event: {message}")]
    Database {
        /// The database's or driver's message.
        message: String,
    },
    /// This sink can never store this event (a value outside what its storage holds), so a
    /// resend will fail the same way: dead-letter it.
    #[error("the sink cannot store this event: {reason}")]
    Unstorable {
        /// Which value and why.
        reason: String,
    },
}

/// Keeps counting events, idempotently on [`CountEvent::key`].
///
/// Receivers call [`EventSink::accept_received`] with the time they got the event and
/// [`EventSink::session`] for connection sessions and heartbeats; a sink that keeps neither
/// (the defaults) only implements [`EventSink::accept`]. [`FileSink`], [`MemorySink`] and
/// `postgres::PgSink` keep both.
#[async_trait]
pub trait EventSink: Send + Sync {
    /// Keeps `event`. Returns once the event is kept as well as this sink keeps anything
    /// (for [`FileSink`], synced to disk), or was already held.
    async fn accept(&self, event: &CountEvent) -> Result<Accepted, SinkError>;

    /// Keeps `event` received at `received_utc` (UTC unix seconds; a duplicate keeps the
    /// first receive time). By default the time is dropped and [`EventSink::accept`] called.
    async fn accept_received(
        &self,
        event: &CountEvent,
        received_utc: UnixSeconds,
    ) -> Result<Accepted, SinkError> {
        let _ = received_utc;
        self.accept(event).await
    }

    /// Keeps a connection session record or heartbeat of a counter. By default nothing is
    /// kept. A failure here is logged by the receivers and does not stop them (events are
    /// what is acknowledged).
    async fn session(&self, session: &SessionRecord) -> Result<(), SinkError> {
        let _ = session;
        Ok(())
    }
}

#[async_trait]
impl<S: EventSink + ?Sized> EventSink for Arc<S> {
    async fn accept(&self, event: &CountEvent) -> Result<Accepted, SinkError> {
        (**self).accept(event).await
    }

    async fn accept_received(
        &self,
        event: &CountEvent,
        received_utc: UnixSeconds,
    ) -> Result<Accepted, SinkError> {
        (**self).accept_received(event, received_utc).await
    }

    async fn session(&self, session: &SessionRecord) -> Result<(), SinkError> {
        (**self).session(session).await
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock cannot leave the Vec/HashSet half-updated in a way
    // that matters here, so a poisoned lock is used as is.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests;
