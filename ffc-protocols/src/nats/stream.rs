//! The stream every path publishes into: [`JetStreamConfig`], [`init_stream`] (create or
//! update, idempotent) and [`require_stream`] (what `listen` and `work` check first).

use std::time::Duration;

use async_nats::jetstream::stream::{Config, DiscardPolicy, RetentionPolicy, StorageType};
use async_nats::jetstream::Context;

use super::NatsError;

/// The stream's name, subjects and replication.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct JetStreamConfig {
    /// The stream's name (default `FFC`).
    pub name: String,
    /// The subjects' first token (default `ffc`): the stream holds `<prefix>.>`, receivers
    /// publish on `<prefix>.ws.<serial>`, bridges on `<prefix>.mqtt.<serial>` and
    /// `<prefix>.occupancy.<serial>`.
    pub prefix: String,
    /// Copies of each message (default 3: one per node of a 3-node cluster).
    pub replicas: usize,
    /// How long a `Nats-Msg-Id` is remembered, so a resend within it is stored once
    /// (default 2 minutes; the sinks' event key catches later resends).
    pub duplicate_window: Duration,
    /// How long messages are kept (default 7 days; `Duration::ZERO`: for ever).
    pub max_age: Duration,
}

impl Default for JetStreamConfig {
    fn default() -> Self {
        JetStreamConfig {
            name: "FFC".to_owned(),
            prefix: "ffc".to_owned(),
            replicas: 3,
            duplicate_window: Duration::from_secs(120),
            max_age: Duration::from_secs(7 * 24 * 3600),
        }
    }
}

impl JetStreamConfig {
    /// Sets the stream's name.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Sets the subjects' first token.
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Sets the number of copies.
    pub fn with_replicas(mut self, replicas: usize) -> Self {
        self.replicas = replicas;
        self
    }

    /// Sets the duplicate window.
    pub fn with_duplicate_window(mut self, window: Duration) -> Self {
        self.duplicate_window = window;
        self
    }

    /// Sets how long messages are kept.
    pub fn with_max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age;
        self
    }

    fn stream_config(&self) -> Config {
        Config {
            name: self.name.clone(),
            subjects: vec![format!("{}.>", self.prefix)],
            num_replicas: self.replicas,
            duplicate_window: self.duplicate_window,
            max_age: self.max_age,
            storage: StorageType::File,
            retention: RetentionPolicy::Limits,
            discard: DiscardPolicy::Old,
            ..Default::default()
        }
    }
}

/// What [`init_stream`] found and left.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StreamState {
    /// The stream's name.
    pub name: String,
    /// Its subjects.
    pub subjects: Vec<String>,
    /// Its replicas.
    pub replicas: usize,
    /// Messages it holds.
    pub messages: u64,
    /// The node leading it now (empty when it has no leader).
    pub leader: String,
}

/// Creates the stream, or updates its settings when it exists: running it twice changes
/// nothing the second time.
pub async fn init_stream(js: &Context, config: &JetStreamConfig) -> Result<StreamState, NatsError> {
    let info = js
        .create_or_update_stream(config.stream_config())
        .await
        .map_err(|e| NatsError::JetStream {
            doing: "creating or updating the stream",
            reason: e.to_string(),
        })?;
    Ok(StreamState {
        name: info.config.name,
        subjects: info.config.subjects,
        replicas: info.config.num_replicas,
        messages: info.state.messages,
        leader: info.cluster.and_then(|c| c.leader).unwrap_or_default(),
    })
}

/// Checks that the stream exists, with a message naming `ffc nats init` when it does not.
/// Retries a cluster that is electing a leader for up to `patience`.
pub async fn require_stream(js: &Context, name: &str, patience: Duration) -> Result<(), NatsError> {
    let started = tokio::time::Instant::now();
    let mut backoff =
        ffc_core::backoff::RetryPolicy::forever(Duration::from_millis(100), Duration::from_secs(1))
            .backoff();
    loop {
        match js.get_stream(name).await {
            Ok(_) => return Ok(()),
            Err(e) => {
                use async_nats::jetstream::context::GetStreamErrorKind;
                let missing = matches!(e.kind(), GetStreamErrorKind::JetStream(ref j)
                    if j.error_code() == async_nats::jetstream::ErrorCode::STREAM_NOT_FOUND);
                if missing {
                    return Err(NatsError::StreamMissing {
                        stream: name.to_owned(),
                    });
                }
                if started.elapsed() >= patience {
                    return Err(NatsError::JetStream {
                        doing: "looking up the stream",
                        reason: e.to_string(),
                    });
                }
                let delay = backoff.next_delay().unwrap_or(Duration::from_secs(1));
                tokio::time::sleep(delay).await;
            }
        }
    }
}
