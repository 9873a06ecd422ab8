//! Operating metrics (feature `metrics`): a small [`Metrics`] type that receivers, bridges
//! and workers count into, and a [`MetricsServer`] that serves them over HTTP:
//!
//! - `GET /metrics`: the Prometheus text format (0.0.4), encoded by `prometheus-client`;
//! - `GET /healthz`: `200 ok` while serving, `503 draining` once a shutdown began, `503
//!   <reason>` when the component said it is unhealthy ([`Metrics::set_health`]).
//!
//! | metric | type | what |
//! |---|---|---|
//! | `ffc_events_received_total` | counter | decoded events handed to the sink |
//! | `ffc_events_kept_total{outcome}` | counter | events the sink kept: `stored` or `duplicate` |
//! | `ffc_messages_acknowledged_total` | counter | messages answered to their sender after they were kept (WebSocket `OK`, MQTT done/PUBACK, JetStream ack) |
//! | `ffc_dead_letters_total` | counter | undecodable messages kept as dead letters |
//! | `ffc_sink_failures_total` | counter | events or letters a sink failed to keep (not acknowledged) |
//! | `ffc_consumer_lag_messages` | gauge | messages waiting for this consumer (set by a stream worker) |
//! | `ffc_open_connections` | gauge | counters connected now (WebSocket receiver) |
//! | `ffc_counter_last_seen_timestamp_seconds{serial}` | gauge | when each counter's last event arrived (Unix seconds) |
//!
//! Every metric carries the constant label `component` given to [`Metrics::new`], so one
//! Prometheus job can scrape receivers, bridges and workers side by side.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use ffc_protocols::metrics::{Metrics, MetricsServer};
//! use ffc_protocols::sink::Accepted;
//!
//! let metrics = Metrics::new("ws");
//! metrics.received();
//! metrics.kept(Accepted::Stored);
//! metrics.acknowledged(1);
//! assert!(metrics.encode().contains("ffc_events_kept_total{component=\"ws\",outcome=\"stored\"} 1"));
//!
//! // Served on loopback; scrape http://{addr}/metrics and http://{addr}/healthz.
//! let server = MetricsServer::bind("127.0.0.1:0".parse()?, metrics.clone()).await?;
//! println!("metrics on http://{}/metrics", server.local_addr());
//! server.shutdown().await;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```

use std::borrow::Cow;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use ffc_core::CameraSerial;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::sink::{lock, Accepted};

mod observe;
mod server;

pub use server::MetricsServer;

/// What `/healthz` answers.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Health {
    /// Serving: `200 ok`.
    #[default]
    Serving,
    /// Shutting down, finishing what is in flight: `503 draining`.
    Draining,
    /// Not able to do its job (the reason is answered with `503`; never put a secret in it).
    Unhealthy(String),
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabel {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SerialLabel {
    serial: String,
}

struct Inner {
    registry: Registry,
    received: Counter,
    kept: Family<OutcomeLabel, Counter>,
    acknowledged: Counter,
    dead_letters: Counter,
    sink_failures: Counter,
    consumer_lag: Gauge,
    open_connections: Gauge,
    last_seen: Family<SerialLabel, Gauge>,
    health: Mutex<Health>,
}

/// The counters of one component (a receiver, a bridge, a worker); cheap to clone, every
/// clone counts into the same metrics. See the [module docs](self) for the names.
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

impl fmt::Debug for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Metrics")
            .field("received", &self.inner.received.get())
            .field("acknowledged", &self.inner.acknowledged.get())
            .field("health", &*lock(&self.inner.health))
            .finish_non_exhaustive()
    }
}

impl Metrics {
    /// Metrics labelled `component="<component>"` (for example `ws`, `mqtt`, `worker`).
    pub fn new(component: &str) -> Metrics {
        let label = (Cow::Borrowed("component"), Cow::Owned(component.to_owned()));
        let mut registry = Registry::with_prefix_and_labels("ffc", std::iter::once(label));
        let received = Counter::default();
        let kept = Family::<OutcomeLabel, Counter>::default();
        let acknowledged = Counter::default();
        let dead_letters = Counter::default();
        let sink_failures = Counter::default();
        let consumer_lag = Gauge::default();
        let open_connections = Gauge::default();
        let last_seen = Family::<SerialLabel, Gauge>::default();
        registry.register(
            "events_received",
            "Decoded events handed to the sink",
            received.clone(),
        );
        registry.register(
            "events_kept",
            "Events the sink kept, by outcome (stored or duplicate)",
            kept.clone(),
        );
        registry.register(
            "messages_acknowledged",
            "Messages answered to their sender after they were kept",
            acknowledged.clone(),
        );
        registry.register(
            "dead_letters",
            "Undecodable messages kept as dead letters",
            dead_letters.clone(),
        );
        registry.register(
            "sink_failures",
            "Events or dead letters a sink failed to keep (not acknowledged)",
            sink_failures.clone(),
        );
        registry.register(
            "consumer_lag_messages",
            "Messages waiting for this consumer in the stream",
            consumer_lag.clone(),
        );
        registry.register(
            "open_connections",
            "Counters connected now",
            open_connections.clone(),
        );
        registry.register(
            "counter_last_seen_timestamp_seconds",
            "When each counter's last event arrived, in Unix seconds",
            last_seen.clone(),
        );
        Metrics {
            inner: Arc::new(Inner {
                registry,
                received,
                kept,
                acknowledged,
                dead_letters,
                sink_failures,
                consumer_lag,
                open_connections,
                last_seen,
                health: Mutex::new(Health::Serving),
            }),
        }
    }

    /// One decoded event handed to the sink.
    pub fn received(&self) {
        self.inner.received.inc();
    }

    /// One event the sink kept, stored or a duplicate.
    pub fn kept(&self, accepted: Accepted) {
        let outcome = match accepted {
            Accepted::Stored => "stored",
            Accepted::Duplicate => "duplicate",
        };
        self.inner
            .kept
            .get_or_create(&OutcomeLabel { outcome })
            .inc();
    }

    /// `n` messages answered to their sender after they were kept.
    pub fn acknowledged(&self, n: u64) {
        self.inner.acknowledged.inc_by(n);
    }

    /// One undecodable message kept as a dead letter.
    pub fn dead_lettered(&self) {
        self.inner.dead_letters.inc();
    }

    /// One event or dead letter a sink failed to keep.
    pub fn sink_failed(&self) {
        self.inner.sink_failures.inc();
    }

    /// `serial` sent an event now.
    pub fn seen(&self, serial: CameraSerial) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        self.inner
            .last_seen
            .get_or_create(&SerialLabel {
                serial: serial.to_string(),
            })
            .set(now);
    }

    /// Messages waiting for this consumer (a stream worker sets it from its consumer's
    /// pending count).
    pub fn set_consumer_lag(&self, pending: u64) {
        self.inner
            .consumer_lag
            .set(i64::try_from(pending).unwrap_or(i64::MAX));
    }

    /// A counter connected.
    pub fn connection_opened(&self) {
        self.inner.open_connections.inc();
    }

    /// A counter's connection ended.
    pub fn connection_closed(&self) {
        self.inner.open_connections.dec();
    }

    /// Sets what `/healthz` answers.
    pub fn set_health(&self, health: Health) {
        *lock(&self.inner.health) = health;
    }

    /// What `/healthz` answers now.
    pub fn health(&self) -> Health {
        lock(&self.inner.health).clone()
    }

    /// The metrics in the Prometheus text format (0.0.4).
    pub fn encode(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail; an encoder error would leave a partial text.
        if let Err(e) =
            prometheus_client::encoding::prometheus_text::encode(&mut text, &self.inner.registry)
        {
            tracing::warn!(error = %e, "encoding the metrics failed");
        }
        text
    }
}

#[cfg(test)]
mod tests;
