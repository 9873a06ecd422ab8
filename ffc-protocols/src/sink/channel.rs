//! A sink that hands events to a bounded tokio channel, for a consumer in the same process.

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;

use async_trait::async_trait;
use ffc_core::{CountEvent, EventKey};
use tokio::sync::mpsc;

use super::{lock, Accepted, EventSink, SinkError};

/// Hands events to a bounded tokio channel; `accept` waits while the channel is full, so a
/// slow consumer slows the acknowledgements instead of growing a queue.
#[derive(Debug)]
pub struct ChannelSink {
    tx: mpsc::Sender<CountEvent>,
    window: usize,
    recent: Mutex<(HashSet<EventKey>, VecDeque<EventKey>)>,
}

impl ChannelSink {
    /// Keys remembered for deduplication by default: 100,000.
    pub const DEFAULT_WINDOW: usize = 100_000;

    /// A sink sending into `tx`, deduplicating over the last [`Self::DEFAULT_WINDOW`] keys.
    /// The consumer must itself be idempotent on [`EventKey`] for resends older than that.
    pub fn new(tx: mpsc::Sender<CountEvent>) -> Self {
        Self::with_window(tx, Self::DEFAULT_WINDOW)
    }

    /// As [`ChannelSink::new`], remembering the last `window` keys.
    pub fn with_window(tx: mpsc::Sender<CountEvent>, window: usize) -> Self {
        ChannelSink {
            tx,
            window,
            recent: Mutex::new((HashSet::new(), VecDeque::new())),
        }
    }
}

#[async_trait]
impl EventSink for ChannelSink {
    async fn accept(&self, event: &CountEvent) -> Result<Accepted, SinkError> {
        let key = event.key();
        if lock(&self.recent).0.contains(&key) {
            return Ok(Accepted::Duplicate);
        }
        self.tx.send(*event).await.map_err(|_| SinkError::Closed)?;
        let mut guard = lock(&self.recent);
        let (set, order) = &mut *guard;
        if set.insert(key) {
            order.push_back(key);
            while order.len() > self.window {
                if let Some(old) = order.pop_front() {
                    set.remove(&old);
                }
            }
        }
        Ok(Accepted::Stored)
    }
}
