//! Sinks that keep what they get in memory, for tests, demos and short-lived tools.

use std::collections::HashSet;
use std::sync::Mutex;

use async_trait::async_trait;
use ffc_core::{CountEvent, EventKey};

use super::{lock, Accepted, DeadLetter, DeadLetterSink, EventSink, SinkError};

/// Events in memory, for tests, demos and short-lived tools.
#[derive(Debug)]
pub struct MemorySink {
    limit: usize,
    inner: Mutex<(HashSet<EventKey>, Vec<CountEvent>)>,
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
        }
    }

    /// The events kept, in arrival order.
    pub fn events(&self) -> Vec<CountEvent> {
        lock(&self.inner).1.clone()
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
        let mut guard = lock(&self.inner);
        let (keys, events) = &mut *guard;
        if keys.contains(&event.key()) {
            return Ok(Accepted::Duplicate);
        }
        if events.len() >= self.limit {
            return Err(SinkError::Full { limit: self.limit });
        }
        keys.insert(event.key());
        events.push(*event);
        Ok(Accepted::Stored)
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
