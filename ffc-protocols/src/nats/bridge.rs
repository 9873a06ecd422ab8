//! The MQTT bridge: counters' MQTT messages (core NATS, a queue group) into the stream.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::Context;
use async_nats::Client;
use futures_util::StreamExt as _;
use tokio::sync::Semaphore;

use super::publish::{publish_retry, publish_until_acked};
use super::{event_subject, message_id, now, occupancy_message_id, occupancy_subject, NatsError};
use crate::mqtt::codec::{self, Message};
use crate::sink::{DeadLetter, DeadLetterSink};

/// How the bridge reads and publishes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BridgeConfig {
    /// The core NATS subject the counters' messages arrive on (default `counters.mqtt.*`,
    /// where the cluster maps FootfallCam's `/status/<serial>`).
    pub subject: String,
    /// The queue group (default `ffc-mqtt`): bridges of one group share the messages, a
    /// dead one's share goes to the others.
    pub queue: String,
    /// The stream's subject prefix (default `ffc`).
    pub prefix: String,
    /// Messages held at most while waiting for the stream's acknowledgement (default
    /// 1024); when full, the bridge stops reading until one is acknowledged.
    pub buffer: usize,
    /// How long one message is retried before it is given up and counted lost (default
    /// one hour: in practice until the stream has a leader again).
    pub patience: Duration,
    /// How long a shutdown waits for the held messages to be acknowledged (default 30 s).
    pub drain_grace: Duration,
}

impl Default for BridgeConfig {
    fn default() -> Self {
        BridgeConfig {
            subject: "counters.mqtt.*".to_owned(),
            queue: "ffc-mqtt".to_owned(),
            prefix: "ffc".to_owned(),
            buffer: 1024,
            patience: Duration::from_secs(3600),
            drain_grace: Duration::from_secs(30),
        }
    }
}

impl BridgeConfig {
    /// Sets the subject read.
    pub fn with_subject(mut self, subject: impl Into<String>) -> Self {
        self.subject = subject.into();
        self
    }
    /// Sets the queue group.
    pub fn with_queue(mut self, queue: impl Into<String>) -> Self {
        self.queue = queue.into();
        self
    }
    /// Sets the stream's subject prefix.
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }
    /// Sets the buffer's size (at least 1).
    pub fn with_buffer(mut self, buffer: usize) -> Self {
        self.buffer = buffer.max(1);
        self
    }
    /// Sets how long one message is retried.
    pub fn with_patience(mut self, patience: Duration) -> Self {
        self.patience = patience;
        self
    }
    /// Sets how long a shutdown waits for held messages.
    pub fn with_drain_grace(mut self, grace: Duration) -> Self {
        self.drain_grace = grace;
        self
    }
}

/// What the bridge did (all since it started).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BridgeStats {
    /// Messages read from the subject.
    pub received: u64,
    /// Counting events the stream acknowledged as new.
    pub events: u64,
    /// Occupancy samples the stream acknowledged.
    pub occupancy: u64,
    /// Messages the stream acknowledged as duplicates of one it held.
    pub duplicates: u64,
    /// Undecodable messages kept as dead letters.
    pub dead_lettered: u64,
    /// Messages given up (patience or drain grace over): lost.
    pub lost: u64,
}

#[derive(Debug, Default)]
struct Counters {
    received: AtomicU64,
    events: AtomicU64,
    occupancy: AtomicU64,
    duplicates: AtomicU64,
    dead_lettered: AtomicU64,
    lost: AtomicU64,
}

impl Counters {
    fn snapshot(&self) -> BridgeStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        BridgeStats {
            received: get(&self.received),
            events: get(&self.events),
            occupancy: get(&self.occupancy),
            duplicates: get(&self.duplicates),
            dead_lettered: get(&self.dead_lettered),
            lost: get(&self.lost),
        }
    }
}

fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

/// Reads the counters' MQTT messages from core NATS and publishes them into the stream.
pub struct Bridge {
    client: Client,
    js: Context,
    config: BridgeConfig,
    dead: Arc<dyn DeadLetterSink>,
    counters: Arc<Counters>,
}

impl std::fmt::Debug for Bridge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bridge")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// One decoded message on its way into the stream.
struct Outgoing {
    subject: String,
    id: String,
    payload: bytes::Bytes,
    occupancy: bool,
}

impl Bridge {
    /// A bridge on `client` (its JetStream context times requests out after 5 s).
    pub fn new(client: Client, config: BridgeConfig, dead: Arc<dyn DeadLetterSink>) -> Bridge {
        let mut js = async_nats::jetstream::new(client.clone());
        js.set_timeout(Duration::from_secs(5));
        Bridge {
            client,
            js,
            config,
            dead,
            counters: Arc::new(Counters::default()),
        }
    }

    /// A function reading the counters now (for metrics), usable after `run` took the bridge.
    pub fn stats_reader(&self) -> impl Fn() -> BridgeStats + Send + Sync + 'static {
        let counters = self.counters.clone();
        move || counters.snapshot()
    }

    /// Subscribes and runs until `shutdown` resolves or the connection is closed for good;
    /// then stops reading and waits up to [`BridgeConfig::drain_grace`] for the held
    /// messages' acknowledgements.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<BridgeStats, NatsError> {
        self.run_announced(shutdown, || {}).await
    }

    /// [`Bridge::run`], calling `subscribed` once the subscription is in place (the server
    /// has it), before the first message is read.
    pub async fn run_announced(
        self,
        shutdown: impl Future<Output = ()>,
        subscribed: impl FnOnce(),
    ) -> Result<BridgeStats, NatsError> {
        let mut sub = self
            .client
            .queue_subscribe(self.config.subject.clone(), self.config.queue.clone())
            .await
            .map_err(|e| NatsError::JetStream {
                doing: "subscribing to the counters' subject",
                reason: e.to_string(),
            })?;
        let _ = self.client.flush().await;
        subscribed();
        let slots = Arc::new(Semaphore::new(self.config.buffer));
        tokio::pin!(shutdown);
        loop {
            let message = tokio::select! {
                () = &mut shutdown => break,
                message = sub.next() => message,
            };
            let Some(message) = message else { break };
            bump(&self.counters.received);
            let Some(out) = self.decode(&message).await else {
                continue;
            };
            let Ok(slot) = slots.clone().acquire_owned().await else {
                break;
            };
            let (js, counters, patience) =
                (self.js.clone(), self.counters.clone(), self.config.patience);
            tokio::spawn(async move {
                let _slot = slot;
                publish_held(&js, out, patience, &counters).await;
            });
        }
        let _ = sub.unsubscribe().await;
        self.drain(&slots).await;
        Ok(self.counters.snapshot())
    }

    /// Waits for the held messages, up to the drain grace; what is left is lost.
    async fn drain(&self, slots: &Semaphore) {
        let all = u32::try_from(self.config.buffer).unwrap_or(u32::MAX);
        let drained = tokio::time::timeout(self.config.drain_grace, slots.acquire_many(all)).await;
        if drained.is_err() {
            let held = self.config.buffer - slots.available_permits();
            tracing::warn!(
                held,
                "drain grace over with messages not acknowledged: lost"
            );
            self.counters.lost.fetch_add(held as u64, Ordering::Relaxed);
        }
    }

    /// Decodes one message; `None` when it went to the dead letters.
    async fn decode(&self, message: &async_nats::Message) -> Option<Outgoing> {
        let prefix = &self.config.prefix;
        let encoded = match codec::decode(&message.payload) {
            Ok(Message::Count(event)) => serde_json::to_vec(&event)
                .map(|json| Outgoing {
                    subject: event_subject(prefix, &event),
                    id: message_id(&event),
                    payload: json.into(),
                    occupancy: false,
                })
                .map_err(|e| e.to_string()),
            Ok(Message::Occupancy(sample)) => serde_json::to_vec(&sample)
                .map(|json| Outgoing {
                    subject: occupancy_subject(prefix, &sample),
                    id: occupancy_message_id(&sample),
                    payload: json.into(),
                    occupancy: true,
                })
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        match encoded {
            Ok(out) => Some(out),
            Err(reason) => {
                let letter = DeadLetter {
                    received_at: now(),
                    origin: format!("nats {}", message.subject),
                    reason,
                    raw: message.payload.to_vec(),
                };
                match self.dead.dead_letter(letter).await {
                    Ok(()) => bump(&self.counters.dead_lettered),
                    Err(e) => tracing::error!(error = %e, "dead-letter sink failed"),
                }
                None
            }
        }
    }
}

async fn publish_held(js: &Context, out: Outgoing, patience: Duration, counters: &Counters) {
    let acked = publish_until_acked(
        js,
        &out.subject,
        &out.id,
        out.payload,
        publish_retry(),
        patience,
    )
    .await;
    match acked {
        Ok(ack) if ack.duplicate => bump(&counters.duplicates),
        Ok(_) if out.occupancy => bump(&counters.occupancy),
        Ok(_) => bump(&counters.events),
        Err(e) => {
            tracing::error!(error = %e, "bridge gave a message up: lost");
            bump(&counters.lost);
        }
    }
}
