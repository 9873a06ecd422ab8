//! The counter side of MQTT push: a simulator that publishes occupancy samples and
//! counting events as a counter does (spec §5): its serial as client id, topic
//! `/status/{serial}`, QoS 0. QoS 1 and a persistent session are available for tests that
//! must not lose anything.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use ffc_core::{CameraSerial, CountEvent, Metric, PeopleId, PeopleType, RoiId, Source, UtcOffset};
//! use ffc_protocols::mqtt::codec::Message;
//! use ffc_protocols::mqtt::publisher::{Publisher, PublisherConfig};
//!
//! let serial: CameraSerial = "000000007b77a260".parse()?;
//! let publisher = Publisher::connect(PublisherConfig::new("mqtt://127.0.0.1:1883", serial)?).await?;
//! let event = CountEvent {
//!     serial, roi: RoiId(1), metric: Metric::In, people_type: PeopleType::Visitor,
//!     people_id: PeopleId(1), start: 1669351669, end: 1669351669,
//!     offset: UtcOffset::UTC, uuid: None, source: Source::Mqtt,
//! };
//! publisher.publish(&Message::Count(event)).await?;
//! publisher.flush().await?;
//! publisher.close().await;
//! # Ok(()) }
//! ```

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ffc_core::CameraSerial;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::codec::{self, EncodeError, Message};
use super::conn::{self, Client, ConnOptions, EventLoop, PollError, Polled};
use super::{BrokerUrl, Credentials, Protocol, Qos, SetupError, UrlError};
use ffc_core::backoff::{Backoff, RetryPolicy};

/// How the simulated counter connects and publishes.
///
/// Built with [`PublisherConfig::new`] and the `with_*` setters.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct PublisherConfig {
    /// The broker.
    pub url: BrokerUrl,
    /// The counter's serial (ChipSerial).
    pub serial: CameraSerial,
    /// The client id; `None`: the serial, as counters default to.
    pub client_id: Option<String>,
    /// The topic; `None`: `/status/{serial}`, as counters default to.
    pub topic: Option<String>,
    /// QoS 0 (default, what counters support) or 1.
    pub qos: Qos,
    /// Username and password, when the broker wants them.
    pub credentials: Option<Credentials>,
    /// MQTT 3.1.1 (default) or 5.
    pub protocol: Protocol,
    /// `true` (default). `false` keeps unacknowledged QoS 1 publishes across a reconnect.
    pub clean_session: bool,
    /// Session expiry for MQTT 5 persistent sessions (default one hour).
    pub session_expiry: Duration,
    /// Keep-alive interval (default 30 s).
    pub keep_alive: Duration,
    /// Waits between reconnect attempts: default 100 ms doubling up to 5 s, jittered,
    /// never giving up (reset after every ConnAck).
    pub retry: RetryPolicy,
    /// QoS 1 publishes in flight at once (default 100).
    pub inflight: u16,
    /// rumqttc's request channel: `publish` waits while it is full (default 1024).
    pub channel_capacity: usize,
    /// TLS client configuration for `mqtts://`.
    #[cfg(feature = "tls")]
    pub tls: Option<std::sync::Arc<tokio_rustls::rustls::ClientConfig>>,
}

impl PublisherConfig {
    /// The defaults of a counter with `serial` publishing to `url`.
    pub fn new(url: &str, serial: CameraSerial) -> Result<Self, UrlError> {
        Ok(PublisherConfig {
            url: BrokerUrl::parse(url)?,
            serial,
            client_id: None,
            topic: None,
            qos: Qos::AtMostOnce,
            credentials: None,
            protocol: Protocol::V311,
            clean_session: true,
            session_expiry: Duration::from_secs(3600),
            keep_alive: Duration::from_secs(30),
            retry: RetryPolicy::forever(Duration::from_millis(100), Duration::from_secs(5)),
            inflight: 100,
            channel_capacity: 1024,
            #[cfg(feature = "tls")]
            tls: None,
        })
    }

    /// Sets the client id (`None`: the serial).
    pub fn with_client_id(mut self, client_id: Option<String>) -> Self {
        self.client_id = client_id;
        self
    }

    /// Sets the topic (`None`: `/status/{serial}`).
    pub fn with_topic(mut self, topic: Option<String>) -> Self {
        self.topic = topic;
        self
    }

    /// Sets the QoS of every publish.
    pub fn with_qos(mut self, qos: Qos) -> Self {
        self.qos = qos;
        self
    }

    /// Sets the username and password (`None`: anonymous).
    pub fn with_credentials(mut self, credentials: Option<Credentials>) -> Self {
        self.credentials = credentials;
        self
    }

    /// Sets the protocol version.
    pub fn with_protocol(mut self, protocol: Protocol) -> Self {
        self.protocol = protocol;
        self
    }

    /// Sets whether each connect starts a fresh session (`false`: persistent).
    pub fn with_clean_session(mut self, clean_session: bool) -> Self {
        self.clean_session = clean_session;
        self
    }

    /// Sets the MQTT 5 session expiry.
    pub fn with_session_expiry(mut self, session_expiry: Duration) -> Self {
        self.session_expiry = session_expiry;
        self
    }

    /// Sets the keep-alive interval.
    pub fn with_keep_alive(mut self, keep_alive: Duration) -> Self {
        self.keep_alive = keep_alive;
        self
    }

    /// Sets the waits between reconnect attempts.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Sets how many QoS 1 publishes may be in flight at once.
    pub fn with_inflight(mut self, inflight: u16) -> Self {
        self.inflight = inflight;
        self
    }

    /// Sets the capacity of rumqttc's request channel.
    pub fn with_channel_capacity(mut self, channel_capacity: usize) -> Self {
        self.channel_capacity = channel_capacity;
        self
    }

    /// Sets the TLS client configuration for `mqtts://`.
    #[cfg(feature = "tls")]
    pub fn with_tls(
        mut self,
        tls: Option<std::sync::Arc<tokio_rustls::rustls::ClientConfig>>,
    ) -> Self {
        self.tls = tls;
        self
    }

    /// The client id used: the configured one, else the serial.
    pub fn effective_client_id(&self) -> String {
        self.client_id
            .clone()
            .unwrap_or_else(|| self.serial.to_string())
    }

    /// The topic used: the configured one, else `/status/{serial}`.
    pub fn effective_topic(&self) -> String {
        self.topic
            .clone()
            .unwrap_or_else(|| format!("/status/{}", self.serial))
    }
}

/// Why publishing failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PublishError {
    /// The configuration cannot be used; see the inner error.
    #[error(transparent)]
    Setup(#[from] SetupError),
    /// The message cannot be written; see the inner error. Nothing was published.
    #[error(transparent)]
    Encode(#[from] EncodeError),
    /// The broker refused the connection for a reason retrying cannot fix. Fix the
    /// credentials or client id.
    #[error("broker {url} refused the connection: {reason}")]
    Refused {
        /// The broker (no credentials).
        url: String,
        /// What the broker said.
        reason: &'static str,
    },
    /// The connection task ended (closed, or refused after connecting). Connect again.
    #[error("the MQTT connection is closed")]
    Closed,
}

/// Progress of the connection task, for `flush` and for tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Progress {
    /// ConnAcks so far.
    pub connacks: u64,
    /// QoS 0 publishes written to the connection.
    pub written: u64,
    /// QoS 1 publishes the broker acknowledged.
    pub acked: u64,
    /// Set when the broker refused the connection for good.
    pub refused: Option<&'static str>,
    /// The connection task has ended.
    pub ended: bool,
}

/// A connected counter simulator.
pub struct Publisher {
    client: Client,
    url: String,
    topic: String,
    qos: Qos,
    published: AtomicU64,
    progress: watch::Receiver<Progress>,
    closing: Arc<AtomicBool>,
    task: JoinHandle<()>,
}

impl Publisher {
    /// Connects and waits for the first ConnAck. While the broker cannot be reached it
    /// keeps trying with backoff (wrap it in a timeout to bound that); a refusal retrying
    /// cannot fix (bad password) is an error at once.
    pub async fn connect(config: PublisherConfig) -> Result<Self, PublishError> {
        let client_id = config.effective_client_id();
        let opts = ConnOptions {
            url: &config.url,
            client_id: &client_id,
            credentials: config.credentials.as_ref(),
            protocol: config.protocol,
            clean_session: config.clean_session,
            session_expiry: config.session_expiry,
            keep_alive: config.keep_alive,
            request_capacity: config.channel_capacity,
            inflight: config.inflight,
            #[cfg(feature = "tls")]
            tls: config.tls.clone(),
        };
        let (client, eventloop) = conn::connect(&opts)?;
        let url = config.url.to_string();
        let (progress_tx, mut progress) = watch::channel(Progress::default());
        let backoff = config.retry.backoff();
        let closing = Arc::new(AtomicBool::new(false));
        let task = tokio::spawn(connection(
            eventloop,
            progress_tx,
            backoff,
            url.clone(),
            closing.clone(),
        ));
        let first = progress
            .wait_for(|p| p.connacks > 0 || p.ended)
            .await
            .map(|p| *p)
            .unwrap_or(Progress {
                ended: true,
                ..Progress::default()
            });
        if first.connacks == 0 {
            return Err(match first.refused {
                Some(reason) => PublishError::Refused { url, reason },
                None => PublishError::Closed,
            });
        }
        Ok(Publisher {
            client,
            url,
            topic: config.effective_topic(),
            qos: config.qos,
            published: AtomicU64::new(0),
            progress,
            closing,
            task,
        })
    }

    /// The topic this counter publishes on.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// Encodes and publishes one message. Returns once rumqttc has queued it; see
    /// [`Publisher::flush`].
    pub async fn publish(&self, message: &Message) -> Result<(), PublishError> {
        let mut text = String::with_capacity(400);
        codec::encode(message, &mut text)?;
        self.publish_payload(text.into_bytes()).await
    }

    /// Publishes raw bytes on the counter's topic (for malformed-payload tests).
    pub async fn publish_payload(&self, payload: Vec<u8>) -> Result<(), PublishError> {
        if let Some(reason) = self.progress.borrow().refused {
            return Err(PublishError::Refused {
                url: self.url.clone(),
                reason,
            });
        }
        self.client
            .publish(&self.topic, self.qos, payload)
            .await
            .map_err(|_| PublishError::Closed)?;
        self.published.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Waits until every publish so far is written (QoS 0) or acknowledged by the broker
    /// (QoS 1). Across a broker restart this waits for the reconnect.
    pub async fn flush(&self) -> Result<(), PublishError> {
        let target = self.published.load(Ordering::Relaxed);
        let qos = self.qos;
        let mut progress = self.progress.clone();
        let done = progress
            .wait_for(|p| {
                p.ended
                    || match qos {
                        Qos::AtMostOnce => p.written >= target,
                        Qos::AtLeastOnce => p.acked >= target,
                    }
            })
            .await
            .map(|p| *p)
            .map_err(|_| PublishError::Closed)?;
        if done.ended {
            return Err(match done.refused {
                Some(reason) => PublishError::Refused {
                    url: self.url.clone(),
                    reason,
                },
                None => PublishError::Closed,
            });
        }
        Ok(())
    }

    /// The connection task's progress.
    pub fn progress(&self) -> watch::Receiver<Progress> {
        self.progress.clone()
    }

    /// Sends DISCONNECT and ends the connection task.
    pub async fn close(self) {
        self.closing.store(true, Ordering::Relaxed);
        self.client.disconnect().await;
        drop(self.client);
        // The task ends once DISCONNECT is written; bounded in case the broker is gone.
        let mut task = self.task;
        if tokio::time::timeout(Duration::from_secs(2), &mut task)
            .await
            .is_err()
        {
            task.abort();
        }
    }
}

/// The connection task: polls the event loop, reconnecting with backoff, and reports what
/// it saw through `progress_tx` until the broker refuses for good or the publisher closes.
async fn connection(
    mut eventloop: EventLoop,
    progress_tx: watch::Sender<Progress>,
    mut backoff: Backoff,
    url: String,
    closing: Arc<AtomicBool>,
) {
    loop {
        match eventloop.poll().await {
            Ok(Polled::ConnAck { .. }) => {
                backoff.reset();
                progress_tx.send_modify(|p| p.connacks += 1);
            }
            Ok(Polled::PublishWritten { qos0: true }) => {
                progress_tx.send_modify(|p| p.written += 1);
            }
            Ok(Polled::PubAck) => progress_tx.send_modify(|p| p.acked += 1),
            Ok(_) => {}
            Err(PollError::Refused {
                reason,
                permanent: true,
            }) => {
                progress_tx.send_modify(|p| p.refused = Some(reason));
                break;
            }
            Err(PollError::Tls(e)) => {
                tracing::warn!(url = %url, error = %e, "TLS handshake failed");
                progress_tx.send_modify(|p| {
                    p.refused = Some("TLS handshake failed (check the broker's CA and host name)")
                });
                break;
            }
            // After `close` the connection ends on purpose: reconnecting would start
            // a session under the same client id and take over from whoever uses
            // it next.
            Err(_) if closing.load(Ordering::Relaxed) => break,
            Err(PollError::Connection(e)) if e.contains("Requests done") => break,
            Err(e) => {
                let Some(wait) = backoff.next_delay() else {
                    tracing::warn!(url = %url, "publisher gave up reconnecting");
                    break;
                };
                if let PollError::Connection(e) = e {
                    tracing::warn!(url = %url, error = %e, ?wait, "publisher reconnecting");
                }
                tokio::time::sleep(wait).await;
            }
        }
    }
    progress_tx.send_modify(|p| p.ended = true);
}
