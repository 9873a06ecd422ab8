//! Sink wrappers that count into [`Metrics`] as events and letters go through.

use std::sync::Arc;

use async_trait::async_trait;
use ffc_core::{CountEvent, UnixSeconds};

use super::Metrics;
use crate::sink::{Accepted, DeadLetter, DeadLetterSink, EventSink, SessionRecord, SinkError};

/// An [`EventSink`] counting received, kept, sink failures and last-seen.
struct ObservedEvents {
    inner: Arc<dyn EventSink>,
    metrics: Metrics,
}

impl ObservedEvents {
    fn count(&self, event: &CountEvent, kept: &Result<Accepted, SinkError>) {
        self.metrics.received();
        self.metrics.seen(event.serial);
        match kept {
            Ok(accepted) => self.metrics.kept(*accepted),
            Err(_) => self.metrics.sink_failed(),
        }
    }
}

// Every method is forwarded, not only `accept`: the defaults would drop receive times and
// connection sessions on their way to the sink.
#[async_trait]
impl EventSink for ObservedEvents {
    async fn accept(&self, event: &CountEvent) -> Result<Accepted, SinkError> {
        let kept = self.inner.accept(event).await;
        self.count(event, &kept);
        kept
    }

    async fn accept_received(
        &self,
        event: &CountEvent,
        received_utc: UnixSeconds,
    ) -> Result<Accepted, SinkError> {
        let kept = self.inner.accept_received(event, received_utc).await;
        self.count(event, &kept);
        kept
    }

    async fn session(&self, session: &SessionRecord) -> Result<(), SinkError> {
        self.inner.session(session).await
    }
}

/// A [`DeadLetterSink`] counting dead letters and sink failures.
struct ObservedLetters {
    inner: Arc<dyn DeadLetterSink>,
    metrics: Metrics,
}

#[async_trait]
impl DeadLetterSink for ObservedLetters {
    async fn dead_letter(&self, letter: DeadLetter) -> Result<(), SinkError> {
        let kept = self.inner.dead_letter(letter).await;
        match &kept {
            Ok(()) => self.metrics.dead_lettered(),
            Err(_) => self.metrics.sink_failed(),
        }
        kept
    }
}

impl Metrics {
    /// `inner`, counting into these metrics: each `accept` counts one event received and
    /// the counter seen, then kept (by outcome) or a sink failure. Acknowledgements are
    /// not counted here: the transport counts them once it answered.
    pub fn observe_events(&self, inner: Arc<dyn EventSink>) -> Arc<dyn EventSink> {
        Arc::new(ObservedEvents {
            inner,
            metrics: self.clone(),
        })
    }

    /// `inner`, counting each dead letter kept (or a sink failure) into these metrics.
    pub fn observe_dead_letters(&self, inner: Arc<dyn DeadLetterSink>) -> Arc<dyn DeadLetterSink> {
        Arc::new(ObservedLetters {
            inner,
            metrics: self.clone(),
        })
    }
}
