//! The MQTT ingestion worker: a [`Subscriber`] run into sinks for as long as the process
//! lives. It subscribes (shared when the configuration names a group), decodes, keeps
//! each event in the [`EventSink`], acknowledges only after the sink kept it, and when the
//! sink fails (the database is down) disconnects without acknowledging, waits (the
//! configured [`RetryPolicy`]) and starts again under the same client id: with QoS 1 and a
//! persistent session the broker redelivers what was not acknowledged, and the sink's event
//! key makes the redelivery a duplicate, not a second count. It stops when the shutdown
//! future resolves (typically [`crate::shutdown::signal`]), sending what acknowledgements
//! are queued and disconnecting.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use ffc_protocols::mqtt::subscriber::SubscriberConfig;
//! use ffc_protocols::mqtt::worker::{Worker, WorkerConfig};
//! use ffc_protocols::mqtt::Qos;
//! use ffc_protocols::sink::{FileDeadLetters, FileSink};
//!
//! let subscriber = SubscriberConfig::new("mqtt://127.0.0.1:1883", "ingest-1")?
//!     .with_share_group(Some("ingest".into()))
//!     .with_qos(Qos::AtLeastOnce)
//!     .with_clean_session(false);
//! let worker = Worker::new(
//!     WorkerConfig::new(subscriber),
//!     Arc::new(FileSink::open("events.jsonl")?),
//!     Arc::new(FileDeadLetters::open("dead.jsonl")?),
//! );
//! let stats = worker.run(ffc_protocols::shutdown::signal()).await?;
//! println!("{} events kept", stats.totals.events);
//! # Ok(()) }
//! ```

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use ffc_core::backoff::RetryPolicy;
use ffc_core::OccupancySample;
use tokio::sync::{mpsc, watch};
use tracing::Instrument as _;

use super::subscriber::{Stats, Status, SubscribeError, Subscriber, SubscriberConfig};
use crate::sink::{DeadLetterSink, EventSink};

/// How the worker subscribes and how it restarts after a sink failure.
///
/// Built with [`WorkerConfig::new`] and the `with_*` setters.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct WorkerConfig {
    /// The subscription (broker, client id, filters, group, QoS, session).
    pub subscriber: SubscriberConfig,
    /// Waits before starting again after the sink failed: default 100 ms doubling up to
    /// 5 s, jittered, never giving up (reset once subscribed again). With a maximum number
    /// of attempts the worker returns the sink's error when they are used up.
    pub restart: RetryPolicy,
}

impl WorkerConfig {
    /// A worker for `subscriber`, restarting after sink failures for ever.
    pub fn new(subscriber: SubscriberConfig) -> Self {
        WorkerConfig {
            subscriber,
            restart: RetryPolicy::forever(Duration::from_millis(100), Duration::from_secs(5)),
        }
    }

    /// Sets the subscription.
    pub fn with_subscriber(mut self, subscriber: SubscriberConfig) -> Self {
        self.subscriber = subscriber;
        self
    }

    /// Sets the waits before starting again after a sink failure.
    pub fn with_restart(mut self, restart: RetryPolicy) -> Self {
        self.restart = restart;
        self
    }
}

/// How long a run must hold before its sink failure counts as a new outage, whose restart
/// waits start again from the shortest.
const OUTAGE_OVER: Duration = Duration::from_secs(60);

/// What a worker did over its whole life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct WorkerStats {
    /// The subscriber's counters, summed over every run, those that ended with a sink
    /// failure included (the message whose sink failed is counted as received, not kept).
    pub totals: Stats,
    /// Times the worker started again after a sink failure.
    pub sink_restarts: u64,
}

/// An MQTT ingestion worker; [`Worker::run`] runs it until shutdown.
pub struct Worker {
    config: WorkerConfig,
    events: Arc<dyn EventSink>,
    dead_letters: Arc<dyn DeadLetterSink>,
    occupancy: Option<mpsc::Sender<OccupancySample>>,
    status: watch::Sender<Status>,
    #[cfg(feature = "metrics")]
    metrics: Option<crate::metrics::Metrics>,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Worker {
    /// A worker keeping counting events in `events` and undecodable payloads in
    /// `dead_letters`; occupancy samples are counted and dropped unless
    /// [`Worker::with_occupancy`] gives them a channel.
    pub fn new(
        config: WorkerConfig,
        events: Arc<dyn EventSink>,
        dead_letters: Arc<dyn DeadLetterSink>,
    ) -> Self {
        Worker {
            config,
            events,
            dead_letters,
            occupancy: None,
            status: watch::channel(Status::default()).0,
            #[cfg(feature = "metrics")]
            metrics: None,
        }
    }

    /// Counts into `metrics` (feature `metrics`): events received, kept and their
    /// counters' last event, dead letters, sink failures, and messages done with
    /// (acknowledged at QoS 1); `/healthz` reports draining once shutdown began.
    #[cfg(feature = "metrics")]
    pub fn with_metrics(mut self, metrics: crate::metrics::Metrics) -> Self {
        self.events = metrics.observe_events(self.events);
        self.dead_letters = metrics.observe_dead_letters(self.dead_letters);
        self.metrics = Some(metrics);
        self
    }

    /// Sends occupancy samples to `occupancy` (the worker waits while it is full).
    pub fn with_occupancy(mut self, occupancy: mpsc::Sender<OccupancySample>) -> Self {
        self.occupancy = Some(occupancy);
        self
    }

    /// The connection state summed over restarts: `subacks` grows by one each time the
    /// subscriptions are in place (first connect, every reconnect, every restart), so
    /// `wait_for(|s| s.subacks >= 1)` waits until the worker receives.
    pub fn status(&self) -> watch::Receiver<Status> {
        self.status.subscribe()
    }

    /// Runs until `shutdown` resolves (then disconnects cleanly and returns the stats) or
    /// a permanent error (refused credentials or subscription, TLS, a sink that keeps
    /// failing past the restart policy).
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()>,
    ) -> Result<WorkerStats, SubscribeError> {
        let span = tracing::info_span!(
            "mqtt_worker",
            client_id = %self.config.subscriber.client_id,
        );
        self.run_inner(shutdown).instrument(span).await
    }

    async fn run_inner(
        self,
        shutdown: impl Future<Output = ()>,
    ) -> Result<WorkerStats, SubscribeError> {
        tokio::pin!(shutdown);
        let mut stopping = false;
        let mut stats = WorkerStats::default();
        let mut restart = self.config.restart.backoff();
        loop {
            let started = tokio::time::Instant::now();
            let (run, result) = self.run_once(&mut shutdown, &mut stopping).await;
            add(&mut stats.totals, run);
            match result {
                Ok(()) => return Ok(stats),
                Err(SubscribeError::Sink(e)) if !stopping => {
                    // Not acknowledged: the broker keeps (QoS 1, persistent session) or
                    // drops (QoS 0) the message; either way start afresh. A run that held
                    // for a while ended an outage: the next one starts from the shortest
                    // wait. A SubAck alone proves nothing (the broker redelivers the
                    // message that fails right after it), so it does not reset the waits.
                    if started.elapsed() >= OUTAGE_OVER {
                        restart.reset();
                    }
                    let Some(wait) = restart.next_delay() else {
                        return Err(SubscribeError::Sink(e));
                    };
                    stats.sink_restarts += 1;
                    tracing::warn!(error = %e, ?wait, "event sink failed; starting again");
                    tokio::select! {
                        () = tokio::time::sleep(wait) => {}
                        () = &mut shutdown => return Ok(stats),
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// One subscriber run, forwarding its status; stops it when `shutdown` resolves.
    async fn run_once<F: Future<Output = ()>>(
        &self,
        shutdown: &mut std::pin::Pin<&mut F>,
        stopping: &mut bool,
    ) -> (Stats, Result<(), SubscribeError>) {
        let subscriber = match Subscriber::new(self.config.subscriber.clone()) {
            Ok(subscriber) => subscriber,
            Err(e) => return (Stats::default(), Err(e)),
        };
        #[cfg(feature = "metrics")]
        let subscriber = subscriber.with_metrics(self.metrics.clone());
        let stopper = subscriber.stopper();
        let mut status = subscriber.status();
        let before = *self.status.borrow();
        let running =
            subscriber.run_counted(&*self.events, &*self.dead_letters, self.occupancy.as_ref());
        tokio::pin!(running);
        loop {
            tokio::select! {
                result = &mut running => {
                    self.status.send_modify(|s| s.connected = false);
                    return result;
                }
                () = shutdown.as_mut(), if !*stopping => {
                    *stopping = true;
                    #[cfg(feature = "metrics")]
                    if let Some(m) = &self.metrics {
                        m.set_health(crate::metrics::Health::Draining);
                    }
                    stopper.stop();
                }
                changed = status.changed() => {
                    if changed.is_err() {
                        continue;
                    }
                    let now = *status.borrow_and_update();
                    self.status.send_modify(|s| {
                        s.connected = now.connected;
                        s.connacks = before.connacks + now.connacks;
                        s.subacks = before.subacks + now.subacks;
                    });
                }
            }
        }
    }
}

fn add(total: &mut Stats, run: Stats) {
    total.messages += run.messages;
    total.events += run.events;
    total.duplicates += run.duplicates;
    total.occupancy += run.occupancy;
    total.dead_letters += run.dead_letters;
    total.connects += run.connects;
}
