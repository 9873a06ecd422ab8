//! The MQTT subscriber (rumqttc): what runs on your side of the broker.
//!
//! - Broker URL `mqtt://` or `mqtts://` (feature `tls`), client id, username/password,
//!   topic filters (default [`DEFAULT_FILTER`] `/status/+`), MQTT 3.1.1 or 5.
//! - Shared subscriptions: with [`SubscriberConfig::share_group`] every filter becomes
//!   `$share/{group}/{filter}`, so several workers split one stream (each message goes to
//!   one of them).
//! - Reconnects with exponential backoff and **re-subscribes after every ConnAck**:
//!   rumqttc reconnects by itself but does not restore subscriptions, and a broker that
//!   lost its state (restart without persistence, clean session) would otherwise send
//!   nothing.
//! - Decoded events go to an [`EventSink`] (or, with [`Subscriber::into_stream`], to a
//!   bounded channel); undecodable payloads go to a [`DeadLetterSink`] with topic and
//!   bytes. A QoS 1 message is acknowledged only after the sink kept it, and nothing more
//!   is read from the broker while the sink or channel is busy (backpressure reaches the
//!   broker through TCP rather than growing a queue here).
//!
//! What is lost where: counters publish at QoS 0 (spec §5), so whatever is published while
//! the broker is down or the subscriber is disconnected is gone. With QoS 1 end to end and
//! a persistent session (`clean_session = false`, a fixed client id), the broker keeps the
//! messages for the subscriber and redelivers unacknowledged ones after a reconnect:
//! nothing is lost, and a message may come twice (the sinks are idempotent on the event
//! key).
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use ffc_protocols::mqtt::subscriber::{Subscriber, SubscriberConfig};
//! use ffc_protocols::mqtt::Credentials;
//! use ffc_protocols::sink::{MemoryDeadLetters, MemorySink};
//!
//! let mut config = SubscriberConfig::new("mqtt://127.0.0.1:1883", "ingest-1")?;
//! config.credentials = Some(Credentials::new("ffc", "secret"));
//! config.share_group = Some("ingest".into());
//! let subscriber = Subscriber::new(config)?;
//! let (events, dead) = (MemorySink::new(), MemoryDeadLetters::new());
//! let stats = subscriber.run_into(&events, &dead, None).await?;
//! println!("{stats:?}");
//! # Ok(()) }
//! ```

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ffc_core::{CountEvent, OccupancySample};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tracing::Instrument as _;

use ffc_core::backoff::Backoff;

use super::codec::{self, Message};
use super::conn::{self, Client, ConnOptions, EventLoop, PollError, Polled, Publish};
use super::SetupError;
use crate::sink::{Accepted, DeadLetter, DeadLetterSink, EventSink, SinkError};

mod config;
mod sessions;
pub use config::{SubscriberConfig, DEFAULT_FILTER};
use sessions::Heard;

/// One item of [`Subscriber::into_stream`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// A counting event and the topic it came on.
    Count {
        /// The MQTT topic.
        topic: String,
        /// The event ([`ffc_core::Source::Mqtt`]).
        event: CountEvent,
    },
    /// An occupancy sample and the topic it came on.
    Occupancy {
        /// The MQTT topic.
        topic: String,
        /// The sample.
        sample: OccupancySample,
    },
    /// A payload that did not decode (origin `mqtt {topic}`).
    DeadLetter(DeadLetter),
}

/// The connection state, for callers who wait until the subscription is in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Status {
    /// Connected now.
    pub connected: bool,
    /// ConnAcks so far (1 + reconnects).
    pub connacks: u64,
    /// SubAcks so far: one per ConnAck once the subscriptions are in place.
    pub subacks: u64,
}

/// What a run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// Payloads received.
    pub messages: u64,
    /// Counting events the sink stored (or the stream took).
    pub events: u64,
    /// Counting events the sink already held.
    pub duplicates: u64,
    /// Occupancy samples delivered.
    pub occupancy: u64,
    /// Payloads kept as dead letters.
    pub dead_letters: u64,
    /// Connections made (ConnAcks).
    pub connects: u64,
}

/// Why the subscriber stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SubscribeError {
    /// The configuration cannot be used; see the inner error.
    #[error(transparent)]
    Setup(#[from] SetupError),
    /// The broker refused the connection for a reason retrying cannot fix (bad username
    /// or password, not authorized, client id). Fix the configuration.
    #[error("broker {url} refused the connection: {reason}")]
    Refused {
        /// The broker (no credentials).
        url: String,
        /// What the broker said.
        reason: &'static str,
    },
    /// The TLS handshake with the broker failed (its certificate is not trusted by the
    /// configured CA, or names another host). Fix the TLS configuration or the URL's host.
    #[error("TLS handshake with broker {url} failed: {error}")]
    Tls {
        /// The broker (no credentials).
        url: String,
        /// What rustls said.
        error: String,
    },
    /// The broker refused a subscription (ACL, or shared subscriptions unsupported).
    /// Check the filter and the broker's ACL.
    #[error("broker refused the subscription to {filter}")]
    SubscriptionRefused {
        /// The filter as sent.
        filter: String,
    },
    /// The broker could not be reached within the configured
    /// [`retry`](SubscriberConfig::retry) policy's attempts (only with a policy that has a
    /// maximum). Check the URL and the broker, or retry forever.
    #[error("gave up connecting to broker {url}: {error}")]
    GaveUp {
        /// The broker (no credentials).
        url: String,
        /// The last failure.
        error: String,
    },
    /// The sink failed; the message was not acknowledged. Fix the sink and run again with
    /// the same client id: with QoS 1 and a persistent session the broker redelivers it.
    #[error("event sink failed: {0}")]
    Sink(#[from] SinkError),
}

/// Stops a running subscriber from another task.
#[derive(Clone, Debug)]
pub struct Stopper(Arc<watch::Sender<bool>>);

impl Stopper {
    /// Asks the subscriber to disconnect and return its stats.
    pub fn stop(&self) {
        self.0.send_replace(true);
    }
}

/// A subscriber; [`Subscriber::run_into`] or [`Subscriber::into_stream`] runs it.
pub struct Subscriber {
    config: SubscriberConfig,
    client: Client,
    eventloop: EventLoop,
    status: watch::Sender<Status>,
    stop_tx: Arc<watch::Sender<bool>>,
    stop_rx: watch::Receiver<bool>,
    heard: Heard,
    #[cfg(feature = "metrics")]
    metrics: Option<crate::metrics::Metrics>,
}

enum Output<'a> {
    Sink {
        events: &'a dyn EventSink,
        dead_letters: &'a dyn DeadLetterSink,
        occupancy: Option<&'a mpsc::Sender<OccupancySample>>,
    },
    Stream(mpsc::Sender<Received>),
}

impl<'a> Output<'a> {
    /// The event sink, when the output is one (sessions are kept there).
    fn sink(&self) -> Option<&'a dyn EventSink> {
        match self {
            Output::Sink { events, .. } => Some(*events),
            Output::Stream(_) => None,
        }
    }
}

/// What the requester task sends for the polling loop.
enum Request {
    Subscribe,
    Ack(Box<Publish>),
}

/// What a handled message means for the loop.
enum Handled {
    Continue,
    /// The stream's receiver is gone: stop.
    Closed,
}

impl Subscriber {
    /// Prepares the client; nothing connects until it runs.
    pub fn new(config: SubscriberConfig) -> Result<Self, SubscribeError> {
        let opts = ConnOptions {
            url: &config.url,
            client_id: &config.client_id,
            credentials: config.credentials.as_ref(),
            protocol: config.protocol,
            clean_session: config.clean_session,
            session_expiry: config.session_expiry,
            keep_alive: config.keep_alive,
            request_capacity: config
                .channel_capacity
                .max(usize::from(config.inflight) + 16),
            inflight: config.inflight,
            #[cfg(feature = "tls")]
            tls: config.tls.clone(),
        };
        let (client, eventloop) = conn::connect(&opts)?;
        let (stop_tx, stop_rx) = watch::channel(false);
        Ok(Subscriber {
            heard: Heard::new(config.clock.clone()),
            config,
            client,
            eventloop,
            status: watch::channel(Status::default()).0,
            stop_tx: Arc::new(stop_tx),
            stop_rx,
            #[cfg(feature = "metrics")]
            metrics: None,
        })
    }

    /// Counts each message it is done with (kept, then acknowledged at QoS 1) into
    /// `metrics` (feature `metrics`). Events and dead letters are counted by the sinks:
    /// wrap them with [`Metrics::observe_events`](crate::metrics::Metrics::observe_events).
    #[cfg(feature = "metrics")]
    pub fn with_metrics(mut self, metrics: Option<crate::metrics::Metrics>) -> Self {
        self.metrics = metrics;
        self
    }

    /// The connection state; `wait_for(|s| s.subacks >= 1)` waits until subscribed.
    pub fn status(&self) -> watch::Receiver<Status> {
        self.status.subscribe()
    }

    /// A handle that stops the run.
    pub fn stopper(&self) -> Stopper {
        Stopper(self.stop_tx.clone())
    }

    /// Runs until stopped or a permanent error: counting events to `events`, occupancy
    /// samples to `occupancy` (counted and dropped when `None`), undecodable payloads to
    /// `dead_letters`.
    pub async fn run_into(
        self,
        events: &dyn EventSink,
        dead_letters: &dyn DeadLetterSink,
        occupancy: Option<&mpsc::Sender<OccupancySample>>,
    ) -> Result<Stats, SubscribeError> {
        let (stats, result) = self.run_counted(events, dead_letters, occupancy).await;
        result.map(|()| stats)
    }

    /// Like [`Subscriber::run_into`], but returns what the run did even when it ended with
    /// an error (the worker sums every run, failed ones too).
    pub(crate) async fn run_counted(
        self,
        events: &dyn EventSink,
        dead_letters: &dyn DeadLetterSink,
        occupancy: Option<&mpsc::Sender<OccupancySample>>,
    ) -> (Stats, Result<(), SubscribeError>) {
        self.run(Output::Sink {
            events,
            dead_letters,
            occupancy,
        })
        .await
    }

    /// Runs on a spawned task, handing every message to a bounded channel of
    /// `channel_capacity`; the task stops when the receiver is dropped or on
    /// [`Stopper::stop`].
    pub fn into_stream(
        self,
    ) -> (
        mpsc::Receiver<Received>,
        JoinHandle<Result<Stats, SubscribeError>>,
    ) {
        let (tx, rx) = mpsc::channel(self.config.channel_capacity.max(1));
        let task = tokio::spawn(async move {
            let (stats, result) = self.run(Output::Stream(tx)).await;
            result.map(|()| stats)
        });
        (rx, task)
    }

    async fn run(mut self, out: Output<'_>) -> (Stats, Result<(), SubscribeError>) {
        let filters = self.config.subscribed_filters();
        let mut backoff = self.config.retry.backoff();
        let mut stats = Stats::default();
        let mut stop = self.stop_rx.clone();
        let url = self.config.url.to_string();
        // Subscribes and acknowledgements go through their own task, in order: it may wait
        // for room in rumqttc's request channel while this task keeps polling the event
        // loop that makes the room. The queue holds at most what the broker sent without
        // an acknowledgement (its in-flight window).
        let (requests, mut queued) = mpsc::unbounded_channel::<Request>();
        let requester = {
            let client = self.client.clone();
            let filters = filters.clone();
            let qos = self.config.qos;
            tokio::spawn(async move {
                while let Some(request) = queued.recv().await {
                    let sent = match &request {
                        Request::Subscribe => client.subscribe(&filters, qos).await,
                        Request::Ack(p) => client.ack(p).await,
                    };
                    sent?;
                }
                Ok::<(), String>(())
            })
        };
        let result = self
            .poll_loop(
                &out,
                &filters,
                &url,
                &requests,
                &mut backoff,
                &mut stats,
                &mut stop,
            )
            .await;
        self.heard.ended(out.sink()).await;
        // Send what is queued (the last acknowledgements), then DISCONNECT, polling the
        // event loop meanwhile; bounded, since the broker may be gone.
        drop(requests);
        let mut requester = requester;
        let _ = tokio::time::timeout(Duration::from_secs(2), async {
            loop {
                tokio::select! {
                    done = &mut requester => {
                        if let Ok(Err(e)) = done {
                            tracing::warn!(%url, error = %e, "could not queue the last acknowledgements");
                        }
                        break;
                    }
                    p = self.eventloop.poll() => if p.is_err() { break },
                }
            }
        })
        .await;
        self.client.try_disconnect();
        let _ = tokio::time::timeout(Duration::from_millis(200), async {
            while self.eventloop.poll().await.is_ok() {}
        })
        .await;
        (stats, result)
    }

    /// Queues the acknowledgement of a message that was kept (nothing goes out at QoS 0).
    fn acknowledge(&self, requests: &mpsc::UnboundedSender<Request>, p: Publish) {
        // The receiver lives until the polling loop returns.
        let _ = requests.send(Request::Ack(Box::new(p)));
        #[cfg(feature = "metrics")]
        if let Some(m) = &self.metrics {
            m.acknowledged(1);
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn poll_loop(
        &mut self,
        out: &Output<'_>,
        filters: &[String],
        url: &str,
        requests: &mpsc::UnboundedSender<Request>,
        backoff: &mut Backoff,
        stats: &mut Stats,
        stop: &mut watch::Receiver<bool>,
    ) -> Result<(), SubscribeError> {
        loop {
            let polled = tokio::select! {
                biased;
                _ = stop.wait_for(|s| *s) => return Ok(()),
                p = self.eventloop.poll() => p,
            };
            match polled {
                Ok(Polled::ConnAck { session_present }) => {
                    backoff.reset();
                    stats.connects += 1;
                    self.status.send_modify(|s| {
                        s.connected = true;
                        s.connacks += 1;
                    });
                    tracing::info!(%url, session_present, "MQTT connected; subscribing");
                    // The receiver lives until this loop returns.
                    let _ = requests.send(Request::Subscribe);
                }
                Ok(Polled::SubAck { refused: Some(i) }) => {
                    return Err(SubscribeError::SubscriptionRefused {
                        filter: filters.get(i).cloned().unwrap_or_default(),
                    })
                }
                Ok(Polled::SubAck { refused: None }) => {
                    self.status.send_modify(|s| s.subacks += 1);
                }
                Ok(Polled::Publish(p)) => {
                    stats.messages += 1;
                    if let Handled::Closed = receive(&p, out, stats, &mut self.heard).await? {
                        return Ok(());
                    }
                    self.acknowledge(requests, p);
                }
                Ok(_) => {}
                Err(PollError::Refused {
                    reason,
                    permanent: true,
                }) => {
                    return Err(SubscribeError::Refused {
                        url: url.to_owned(),
                        reason,
                    })
                }
                Err(PollError::Tls(error)) => {
                    return Err(SubscribeError::Tls {
                        url: url.to_owned(),
                        error,
                    })
                }
                Err(e) => {
                    self.status.send_modify(|s| s.connected = false);
                    self.heard.ended(out.sink()).await;
                    let error = e.into_message();
                    let Some(wait) = backoff.next_delay() else {
                        return Err(SubscribeError::GaveUp {
                            url: url.to_owned(),
                            error,
                        });
                    };
                    tracing::warn!(%url, %error, ?wait, "MQTT connection lost or refused; reconnecting");
                    tokio::select! {
                        biased;
                        _ = stop.wait_for(|s| *s) => return Ok(()),
                        _ = tokio::time::sleep(wait) => {}
                    }
                }
            }
        }
    }
}

/// receive → decode → keep, under one span per message (`serial` is filled in once the
/// payload decoded); the caller then acknowledges.
async fn receive(
    p: &Publish,
    out: &Output<'_>,
    stats: &mut Stats,
    heard: &mut Heard,
) -> Result<Handled, SubscribeError> {
    let span = tracing::debug_span!(
        "receive",
        transport = "mqtt",
        topic = %p.topic(),
        serial = tracing::field::Empty,
    );
    let handled = handle(p, out, stats, heard)
        .instrument(span.clone())
        .await?;
    if let Handled::Continue = handled {
        span.in_scope(|| tracing::debug!("acknowledge"));
    }
    Ok(handled)
}

async fn handle(
    p: &Publish,
    out: &Output<'_>,
    stats: &mut Stats,
    heard: &mut Heard,
) -> Result<Handled, SubscribeError> {
    let decoded = tracing::debug_span!("decode").in_scope(|| codec::decode(p.payload()));
    if let (Some(sink), Ok(message)) = (out.sink(), &decoded) {
        let (serial, occupancy) = match message {
            Message::Count(event) => (event.serial, false),
            Message::Occupancy(sample) => (sample.serial, true),
        };
        heard.message(sink, serial, occupancy).await;
    }
    match &decoded {
        Ok(Message::Count(event)) => {
            tracing::Span::current().record("serial", tracing::field::display(event.serial));
        }
        Ok(Message::Occupancy(sample)) => {
            tracing::Span::current().record("serial", tracing::field::display(sample.serial));
        }
        Err(e) => tracing::debug!(error = %e, "not decodable: dead letter"),
    }
    match (decoded, out) {
        (Ok(Message::Count(event)), Output::Sink { events, .. }) => {
            let keep = tracing::debug_span!("keep", serial = %event.serial);
            let received = heard.now();
            match events
                .accept_received(&event, received)
                .instrument(keep)
                .await?
            {
                Accepted::Stored => stats.events += 1,
                Accepted::Duplicate => stats.duplicates += 1,
            }
        }
        (Ok(Message::Occupancy(sample)), Output::Sink { occupancy, .. }) => {
            stats.occupancy += 1;
            if let Some(tx) = occupancy {
                if tx.send(sample).await.is_err() {
                    return Ok(Handled::Closed);
                }
            }
        }
        (Err(e), Output::Sink { dead_letters, .. }) => {
            stats.dead_letters += 1;
            dead_letters.dead_letter(dead_letter(p, &e)).await?;
        }
        (decoded, Output::Stream(tx)) => {
            let item = match decoded {
                Ok(Message::Count(event)) => {
                    stats.events += 1;
                    Received::Count {
                        topic: p.topic().into_owned(),
                        event,
                    }
                }
                Ok(Message::Occupancy(sample)) => {
                    stats.occupancy += 1;
                    Received::Occupancy {
                        topic: p.topic().into_owned(),
                        sample,
                    }
                }
                Err(e) => {
                    stats.dead_letters += 1;
                    Received::DeadLetter(dead_letter(p, &e))
                }
            };
            if tx.send(item).await.is_err() {
                return Ok(Handled::Closed);
            }
        }
    }
    Ok(Handled::Continue)
}

fn dead_letter(p: &Publish, e: &codec::DecodeError) -> DeadLetter {
    DeadLetter {
        received_at: now(),
        origin: format!("mqtt {}", p.topic()),
        reason: e.to_string(),
        raw: p.payload().to_vec(),
    }
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
