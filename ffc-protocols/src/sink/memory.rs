//! Sinks that keep what they get in memory, for tests, demos and short-lived tools.

use std::collections::HashSet;
use std::sync::Mutex;

use async_trait::async_trait;
use ffc_core::{CountEvent, EventKey, UnixSeconds};

use super::session::{Clock, SessionRecord};
use super::{lock, Accepted, DeadLetter, DeadLetterSink, EventSink, SinkError};

/// The keys held, and the events with their receive times in arrival order.
type Held = (HashSet<EventKey>, Vec<(CountEvent, UnixSeconds)>);

/// Events in memory with their receive times, and sessions, for tests, demos and
/// short-lived tools.
pub struct MemorySink {
    limit: usize,
    inner: Mutex<Held>,
    sessions: Mutex<Vec<SessionRecord>>,
    clock: Clock,
}

impl std::fmt::Debug for MemorySink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemorySink")
            .field("limit", &self.limit)
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

impl MemorySink {
    /// The default maximum number of events held: 1,000,000.
    pub const DEFAULT_LIMIT: usize = 1_000_000;

    /// An empty sink holding at most [`MemorySink::DEFAULT_LIMIT`] events.
    pub fn new() -> Self {
        Self::with_limit(Self::DEFAULT_LIMIT)
    }

    /// An empty sink holding at most `limit` events; past it `accept` fails with
    /// [`SinkError::Full`].
    pub fn with_limit(limit: usize) -> Self {
        MemorySink {
            limit,
            inner: Mutex::new((HashSet::new(), Vec::new())),
            sessions: Mutex::new(Vec::new()),
            clock: Clock::system(),
        }
    }

    /// Takes the receive time of [`EventSink::accept`] (without one) from `clock`.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The events kept, in arrival order.
    pub fn events(&self) -> Vec<CountEvent> {
        lock(&self.inner).1.iter().map(|(e, _)| *e).collect()
    }

    /// The events kept with their receive times (UTC unix seconds), in arrival order.
    pub fn received(&self) -> Vec<(CountEvent, UnixSeconds)> {
        lock(&self.inner).1.clone()
    }

    /// The sessions kept, in arrival order.
    pub fn sessions(&self) -> Vec<SessionRecord> {
        lock(&self.sessions).clone()
    }

    /// Writes what it holds in [`FileSink`](super::FileSink)'s formats: the events with
    /// `received_utc` to `events`, the sessions to its [`sessions_path`](super::sessions_path).
    /// Replaces both files. For demos and tests that receive in memory and keep the result.
    pub fn write_files(&self, events: &std::path::Path) -> std::io::Result<()> {
        let mut text = Vec::new();
        for (event, at) in self.received() {
            text.extend_from_slice(&super::file::event_line(&event, at)?);
        }
        std::fs::write(events, text)?;
        let mut text = Vec::new();
        for session in self.sessions() {
            serde_json::to_writer(&mut text, &session).map_err(std::io::Error::other)?;
            text.push(b'\n');
        }
        std::fs::write(super::sessions_path(events), text)
    }

    /// How many events are kept.
    pub fn len(&self) -> usize {
        lock(&self.inner).1.len()
    }

    /// Whether no event is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Default for MemorySink {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl EventSink for MemorySink {
    async fn accept(&self, event: &CountEvent) -> Result<Accepted, SinkError> {
        self.accept_received(event, self.clock.now()).await
    }

    async fn accept_received(
        &self,
        event: &CountEvent,
        received_utc: UnixSeconds,
    ) -> Result<Accepted, SinkError> {
        let mut guard = lock(&self.inner);
        let (keys, events) = &mut *guard;
        if keys.contains(&event.key()) {
            return Ok(Accepted::Duplicate);
        }
        if events.len() >= self.limit {
            return Err(SinkError::Full { limit: self.limit });
        }
        keys.insert(event.key());
        events.push((*event, received_utc));
        Ok(Accepted::Stored)
    }

    async fn session(&self, session: &SessionRecord) -> Result<(), SinkError> {
        let mut sessions = lock(&self.sessions);
        if sessions.len() >= self.limit {
            return Err(SinkError::Full { limit: self.limit });
        }
        sessions.push(*session);
        Ok(())
    }
}

/// Dead letters in memory.
#[derive(Debug)]
pub struct MemoryDeadLetters {
    limit: usize,
    letters: Mutex<Vec<DeadLetter>>,
}

impl MemoryDeadLetters {
    /// The default maximum number of letters held: 10,000.
    pub const DEFAULT_LIMIT: usize = 10_000;

    /// An empty store holding at most [`MemoryDeadLetters::DEFAULT_LIMIT`] letters.
    pub fn new() -> Self {
        MemoryDeadLetters {
            limit: Self::DEFAULT_LIMIT,
            letters: Mutex::new(Vec::new()),
        }
    }

    /// The letters kept, in arrival order.
    pub fn letters(&self) -> Vec<DeadLetter> {
        lock(&self.letters).clone()
    }
}

impl Default for MemoryDeadLetters {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl DeadLetterSink for MemoryDeadLetters {
    async fn dead_letter(&self, letter: DeadLetter) -> Result<(), SinkError> {
        let mut letters = lock(&self.letters);
        if letters.len() >= self.limit {
            return Err(SinkError::Full { limit: self.limit });
        }
        letters.push(letter);
        Ok(())
    }
}
