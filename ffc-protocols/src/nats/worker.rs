//! The worker: a durable pull consumer on the stream, drained into an [`EventSink`].

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::consumer::{pull, AckPolicy, DeliverPolicy, PullConsumer};
use async_nats::jetstream::{AckKind, Context};
use ffc_core::backoff::RetryPolicy;
use ffc_core::CountEvent;
use futures_util::StreamExt as _;

use super::{now, require_stream, NatsError};
use crate::sink::{Accepted, DeadLetter, DeadLetterSink, EventSink, SinkError};

/// Which consumer the worker drains and how.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PullWorkerConfig {
    /// The stream (default `FFC`).
    pub stream: String,
    /// The durable consumer's name (default `ffc-work`); workers with the same name share
    /// its messages.
    pub durable: String,
    /// How long the cluster waits for a delivered message's acknowledgement before it
    /// delivers it again, to this or another worker (default 30 s): how soon a dead
    /// worker's messages move on. Longer than a sink's worst commit.
    pub ack_wait: Duration,
    /// Messages fetched at once (default 256), kept concurrently (the PostgreSQL sink
    /// commits them as one group).
    pub batch: usize,
    /// How long one fetch waits for messages (default 1 s).
    pub fetch_wait: Duration,
    /// Messages delivered and not yet acknowledged, at most, over all workers of the
    /// durable (default 20,000).
    pub max_ack_pending: i64,
    /// Stop after this many events were stored (default: run until shutdown).
    pub max_events: Option<u64>,
}

impl Default for PullWorkerConfig {
    fn default() -> Self {
        PullWorkerConfig {
            stream: "FFC".to_owned(),
            durable: "ffc-work".to_owned(),
            ack_wait: Duration::from_secs(30),
            batch: 256,
            fetch_wait: Duration::from_secs(1),
            max_ack_pending: 20_000,
            max_events: None,
        }
    }
}

impl PullWorkerConfig {
    /// Sets the stream.
    pub fn with_stream(mut self, stream: impl Into<String>) -> Self {
        self.stream = stream.into();
        self
    }
    /// Sets the durable consumer's name.
    pub fn with_durable(mut self, durable: impl Into<String>) -> Self {
        self.durable = durable.into();
        self
    }
    /// Sets the ack wait.
    pub fn with_ack_wait(mut self, ack_wait: Duration) -> Self {
        self.ack_wait = ack_wait;
        self
    }
    /// Sets the batch size (at least 1).
    pub fn with_batch(mut self, batch: usize) -> Self {
        self.batch = batch.max(1);
        self
    }
    /// Sets how long one fetch waits.
    pub fn with_fetch_wait(mut self, wait: Duration) -> Self {
        self.fetch_wait = wait;
        self
    }
    /// Sets the consumer's limit of unacknowledged messages.
    pub fn with_max_ack_pending(mut self, max: i64) -> Self {
        self.max_ack_pending = max;
        self
    }
    /// Sets when to stop.
    pub fn with_max_events(mut self, max: Option<u64>) -> Self {
        self.max_events = max;
        self
    }
}

/// What the worker did (all since it started); `lag` is the consumer's pending count last
/// read from the cluster.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct WorkerStats {
    /// Messages fetched.
    pub fetched: u64,
    /// Events the sink stored.
    pub kept: u64,
    /// Events the sink already held.
    pub duplicates: u64,
    /// Occupancy samples (acknowledged; the event sinks do not keep them).
    pub occupancy: u64,
    /// Messages kept as dead letters, then acknowledged.
    pub dead_lettered: u64,
    /// Messages acknowledged.
    pub acked: u64,
    /// Events the sink failed to keep (not acknowledged: delivered again).
    pub sink_failures: u64,
    /// Messages in the stream not yet delivered to the consumer.
    pub lag: u64,
}

#[derive(Debug, Default)]
struct Counters {
    fetched: AtomicU64,
    kept: AtomicU64,
    duplicates: AtomicU64,
    occupancy: AtomicU64,
    dead_lettered: AtomicU64,
    acked: AtomicU64,
    sink_failures: AtomicU64,
    lag: AtomicU64,
}

impl Counters {
    fn snapshot(&self) -> WorkerStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        WorkerStats {
            fetched: get(&self.fetched),
            kept: get(&self.kept),
            duplicates: get(&self.duplicates),
            occupancy: get(&self.occupancy),
            dead_lettered: get(&self.dead_lettered),
            acked: get(&self.acked),
            sink_failures: get(&self.sink_failures),
            lag: get(&self.lag),
        }
    }
}

fn add(c: &AtomicU64, n: u64) {
    c.fetch_add(n, Ordering::Relaxed);
}

/// Drains a durable pull consumer into a sink; acknowledges a message only after the sink
/// kept it (for [`FileSink`](crate::sink::FileSink) synced, for `PgSink` committed).
pub struct PullWorker {
    js: Context,
    config: PullWorkerConfig,
    sink: Arc<dyn EventSink>,
    dead: Arc<dyn DeadLetterSink>,
    counters: Arc<Counters>,
}

impl std::fmt::Debug for PullWorker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PullWorker")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// What one message turned out to be.
enum Item {
    Event(async_nats::jetstream::Message, CountEvent),
    Done(async_nats::jetstream::Message),
    /// Neither kept nor dead-lettered: left for redelivery.
    Skip,
}

impl PullWorker {
    /// A worker on `js` keeping events in `sink`, undecodable messages in `dead`.
    pub fn new(
        js: Context,
        config: PullWorkerConfig,
        sink: Arc<dyn EventSink>,
        dead: Arc<dyn DeadLetterSink>,
    ) -> PullWorker {
        PullWorker {
            js,
            config,
            sink,
            dead,
            counters: Arc::new(Counters::default()),
        }
    }

    /// A function reading the counters now (for metrics), usable after `run` took the worker.
    pub fn stats_reader(&self) -> impl Fn() -> WorkerStats + Send + Sync + 'static {
        let counters = self.counters.clone();
        move || counters.snapshot()
    }

    /// Creates or updates the durable consumer (explicit acks, every message from the
    /// stream's start, [`PullWorkerConfig::ack_wait`]). Fails with
    /// [`NatsError::StreamMissing`] when the stream does not exist.
    pub async fn consumer(&self) -> Result<PullConsumer, NatsError> {
        require_stream(&self.js, &self.config.stream, Duration::from_secs(30)).await?;
        let config = pull::Config {
            durable_name: Some(self.config.durable.clone()),
            ack_policy: AckPolicy::Explicit,
            deliver_policy: DeliverPolicy::All,
            ack_wait: self.config.ack_wait,
            max_ack_pending: self.config.max_ack_pending,
            ..Default::default()
        };
        let mut backoff =
            RetryPolicy::forever(Duration::from_millis(100), Duration::from_secs(1)).backoff();
        let started = tokio::time::Instant::now();
        loop {
            match self
                .js
                .create_consumer_on_stream(config.clone(), self.config.stream.as_str())
                .await
            {
                Ok(consumer) => return Ok(consumer),
                Err(e) if started.elapsed() > Duration::from_secs(60) => {
                    return Err(NatsError::JetStream {
                        doing: "creating the durable consumer",
                        reason: e.to_string(),
                    })
                }
                Err(e) => {
                    tracing::debug!(error = %e, "creating the consumer; retrying");
                    let delay = backoff.next_delay().unwrap_or(Duration::from_secs(1));
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }

    /// Runs until `shutdown` resolves (it finishes and acknowledges the batch in hand) or
    /// [`PullWorkerConfig::max_events`] events were stored.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<WorkerStats, NatsError> {
        let consumer = self.consumer().await?;
        let mut backoff =
            RetryPolicy::forever(Duration::from_millis(100), Duration::from_secs(2)).backoff();
        tokio::pin!(shutdown);
        loop {
            if let Some(max) = self.config.max_events {
                if self.counters.kept.load(Ordering::Relaxed) >= max {
                    break;
                }
            }
            let fetched = tokio::select! {
                () = &mut shutdown => break,
                fetched = self.fetch(&consumer) => fetched,
            };
            match fetched {
                Ok(messages) if messages.is_empty() => {
                    self.read_lag(&consumer).await;
                }
                Ok(messages) => {
                    let full = messages.len() == self.config.batch;
                    if self.process(messages).await {
                        backoff.reset();
                    } else if let Some(delay) = backoff.next_delay() {
                        tokio::time::sleep(delay).await;
                    }
                    if !full {
                        self.read_lag(&consumer).await;
                    }
                }
                Err(e) => {
                    tracing::debug!(error = %e, "fetch failed; retrying");
                    let delay = backoff.next_delay().unwrap_or(Duration::from_secs(1));
                    tokio::time::sleep(delay).await;
                }
            }
        }
        self.read_lag(&consumer).await;
        Ok(self.counters.snapshot())
    }

    async fn fetch(
        &self,
        consumer: &PullConsumer,
    ) -> Result<Vec<async_nats::jetstream::Message>, String> {
        let mut batch = consumer
            .fetch()
            .max_messages(self.config.batch)
            .expires(self.config.fetch_wait)
            .messages()
            .await
            .map_err(|e| e.to_string())?;
        let mut messages = Vec::with_capacity(self.config.batch);
        while let Some(message) = batch.next().await {
            match message {
                Ok(message) => messages.push(message),
                Err(e) if messages.is_empty() => return Err(e.to_string()),
                Err(_) => break,
            }
        }
        add(&self.counters.fetched, messages.len() as u64);
        Ok(messages)
    }

    async fn read_lag(&self, consumer: &PullConsumer) {
        let mut consumer = consumer.clone();
        if let Ok(Ok(info)) = tokio::time::timeout(Duration::from_secs(2), consumer.info()).await {
            self.counters.lag.store(info.num_pending, Ordering::Relaxed);
        }
    }

    /// Keeps one batch; `false` when the sink failed for some (they are not acknowledged).
    async fn process(&self, messages: Vec<async_nats::jetstream::Message>) -> bool {
        let mut items = Vec::with_capacity(messages.len());
        for message in messages {
            items.push(self.classify(message).await);
        }
        let kept = futures_util::future::join_all(items.iter().map(|item| async move {
            match item {
                Item::Event(_, event) => Some(self.sink.accept(event).await),
                Item::Done(_) | Item::Skip => None,
            }
        }))
        .await;
        let mut all_ok = true;
        for (item, outcome) in items.into_iter().zip(kept) {
            let message = match item {
                Item::Event(message, _) | Item::Done(message) => message,
                Item::Skip => continue,
            };
            let ack = match outcome {
                None => true,
                Some(Ok(Accepted::Stored)) => {
                    add(&self.counters.kept, 1);
                    true
                }
                Some(Ok(Accepted::Duplicate)) => {
                    add(&self.counters.duplicates, 1);
                    true
                }
                Some(Err(SinkError::Unstorable { reason })) => {
                    self.dead_letter(&message, reason).await
                }
                Some(Err(e)) => {
                    tracing::warn!(error = %e, "sink failed; the message will be delivered again");
                    add(&self.counters.sink_failures, 1);
                    all_ok = false;
                    let _ = message
                        .ack_with(AckKind::Nak(Some(Duration::from_secs(1))))
                        .await;
                    false
                }
            };
            if ack && message.ack().await.is_ok() {
                add(&self.counters.acked, 1);
            }
        }
        all_ok
    }

    /// Decodes one message; what is not an event is dealt with here (occupancy counted,
    /// undecodable ones dead-lettered) and only waits for its acknowledgement.
    async fn classify(&self, message: async_nats::jetstream::Message) -> Item {
        if message.subject.split('.').nth(1) == Some("occupancy") {
            add(&self.counters.occupancy, 1);
            return Item::Done(message);
        }
        match serde_json::from_slice::<CountEvent>(&message.payload) {
            Ok(event) => Item::Event(message, event),
            Err(e) => {
                let reason = format!("not an ffc event: {e}");
                if self.dead_letter(&message, reason).await {
                    Item::Done(message)
                } else {
                    // Not kept anywhere: leave it unacknowledged, it comes back.
                    let _ = message
                        .ack_with(AckKind::Nak(Some(Duration::from_secs(1))))
                        .await;
                    Item::Skip
                }
            }
        }
    }

    async fn dead_letter(&self, message: &async_nats::jetstream::Message, reason: String) -> bool {
        let letter = DeadLetter {
            received_at: now(),
            origin: format!("nats {}", message.subject),
            reason,
            raw: message.payload.to_vec(),
        };
        match self.dead.dead_letter(letter).await {
            Ok(()) => {
                add(&self.counters.dead_lettered, 1);
                true
            }
            Err(e) => {
                tracing::error!(error = %e, "dead-letter sink failed; not acknowledged");
                false
            }
        }
    }
}
