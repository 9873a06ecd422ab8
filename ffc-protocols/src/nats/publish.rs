//! Publishing into the stream until it acknowledges: [`publish_until_acked`] (the one retry
//! loop, shared by the bridge) and [`JetStreamSink`], the [`EventSink`] the WebSocket
//! receiver keeps events in when it runs in front of the cluster (`OK` after the ack).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_nats::jetstream::context::PublishAckFuture;
use async_nats::jetstream::publish::PublishAck;
use async_nats::jetstream::Context;
use async_nats::HeaderMap;
use async_trait::async_trait;
use bytes::Bytes;
use ffc_core::backoff::RetryPolicy;
use ffc_core::CountEvent;

use super::{event_subject, message_id};
use crate::sink::{Accepted, EventSink, SinkError};

/// Publishes `payload` on `subject` with `Nats-Msg-Id: id` and waits for the stream's
/// acknowledgement, retrying (with `retry`'s backoff) every failure — no responders while
/// a stream elects a leader, timeouts, a reconnecting client — until it is acknowledged or
/// `patience` has passed. A resend of an id the stream already holds comes back with
/// `duplicate: true`.
pub async fn publish_until_acked(
    js: &Context,
    subject: &str,
    id: &str,
    payload: Bytes,
    retry: RetryPolicy,
    patience: Duration,
) -> Result<PublishAck, String> {
    let started = tokio::time::Instant::now();
    let mut backoff = retry.backoff();
    loop {
        let mut headers = HeaderMap::new();
        headers.insert("Nats-Msg-Id", id);
        let sent: Result<PublishAckFuture, _> = js
            .publish_with_headers(subject.to_owned(), headers, payload.clone())
            .await;
        let error = match sent {
            Ok(ack) => match ack.await {
                Ok(ack) => return Ok(ack),
                Err(e) => e.to_string(),
            },
            Err(e) => e.to_string(),
        };
        let delay = backoff.next_delay();
        match delay {
            Some(delay) if started.elapsed() + delay < patience => {
                tracing::debug!(%subject, %error, ?delay, "not acknowledged yet; retrying");
                tokio::time::sleep(delay).await;
            }
            _ => {
                return Err(format!(
                    "JetStream did not acknowledge {subject} within {patience:?}: {error}"
                ))
            }
        }
    }
}

/// The retry policy of [`JetStreamSink`] and the bridge: from 50 ms doubling to 1 s, no
/// attempt limit (the patience bounds it).
pub(super) fn publish_retry() -> RetryPolicy {
    RetryPolicy::forever(Duration::from_millis(50), Duration::from_secs(1))
}

/// An [`EventSink`] that keeps each event in the stream: it publishes the event's JSON on
/// `<prefix>.ws.<serial>` (or `.mqtt.` for MQTT events) with the event key as `Nats-Msg-Id`,
/// and returns only once the replicated stream acknowledged it, so a receiver that answers
/// after `accept` answers after JetStream did. It waits out a leader election (retrying for
/// up to [`JetStreamSink::with_patience`], default 60 s); past that `accept` fails, the
/// receiver closes the connection, and the counter resends later (absorbed by the
/// duplicate window and the sinks' key).
pub struct JetStreamSink {
    js: Context,
    prefix: String,
    patience: Duration,
    stored: AtomicU64,
    duplicates: AtomicU64,
}

impl std::fmt::Debug for JetStreamSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JetStreamSink")
            .field("prefix", &self.prefix)
            .field("patience", &self.patience)
            .finish_non_exhaustive()
    }
}

impl JetStreamSink {
    /// Publishes through `js` on subjects under `prefix` (`ffc` for the default stream).
    pub fn new(js: Context, prefix: impl Into<String>) -> JetStreamSink {
        JetStreamSink {
            js,
            prefix: prefix.into(),
            patience: Duration::from_secs(60),
            stored: AtomicU64::new(0),
            duplicates: AtomicU64::new(0),
        }
    }

    /// Sets how long one event may wait for its acknowledgement.
    pub fn with_patience(mut self, patience: Duration) -> Self {
        self.patience = patience;
        self
    }

    /// Events the stream stored, and resends it recognised as duplicates.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.stored.load(Ordering::Relaxed),
            self.duplicates.load(Ordering::Relaxed),
        )
    }
}

#[async_trait]
impl EventSink for JetStreamSink {
    async fn accept(&self, event: &CountEvent) -> Result<Accepted, SinkError> {
        let subject = event_subject(&self.prefix, event);
        let payload = serde_json::to_vec(event).map_err(|e| SinkError::Unstorable {
            reason: e.to_string(),
        })?;
        let id = message_id(event);
        let ack = publish_until_acked(
            &self.js,
            &subject,
            &id,
            payload.into(),
            publish_retry(),
            self.patience,
        )
        .await
        .map_err(|message| SinkError::Database { message })?;
        if ack.duplicate {
            self.duplicates.fetch_add(1, Ordering::Relaxed);
            Ok(Accepted::Duplicate)
        } else {
            self.stored.fetch_add(1, Ordering::Relaxed);
            Ok(Accepted::Stored)
        }
    }
}
