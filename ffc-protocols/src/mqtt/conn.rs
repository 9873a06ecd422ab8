//! One face over rumqttc's MQTT 3.1.1 and MQTT 5 clients, so the subscriber and the
//! publisher are written once. Only what they need is here.

use std::borrow::Cow;
use std::time::Duration;

use rumqttc::v5;

use super::url::{BrokerUrl, Protocol};

/// The quality of service of a subscription or a publish.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Qos {
    /// At most once: what counters publish (spec §5); lost while the broker is down.
    #[default]
    AtMostOnce,
    /// At least once: acknowledged; with a persistent session nothing is lost, and a
    /// message may come twice (sinks are idempotent on the event key).
    AtLeastOnce,
}

impl Qos {
    fn v4(self) -> rumqttc::QoS {
        match self {
            Qos::AtMostOnce => rumqttc::QoS::AtMostOnce,
            Qos::AtLeastOnce => rumqttc::QoS::AtLeastOnce,
        }
    }
    fn v5(self) -> v5::mqttbytes::QoS {
        match self {
            Qos::AtMostOnce => v5::mqttbytes::QoS::AtMostOnce,
            Qos::AtLeastOnce => v5::mqttbytes::QoS::AtLeastOnce,
        }
    }
}

/// A username and password for the broker. The password never shows in `Debug`, logs or
/// errors.
pub use ffc_core::secret::Credentials;

/// How to reach and greet the broker.
#[derive(Clone)]
pub(crate) struct ConnOptions<'a> {
    pub url: &'a BrokerUrl,
    pub client_id: &'a str,
    pub credentials: Option<&'a Credentials>,
    pub protocol: Protocol,
    /// `false`: a persistent session (MQTT 5: session expiry `session_expiry`).
    pub clean_session: bool,
    pub session_expiry: Duration,
    pub keep_alive: Duration,
    pub request_capacity: usize,
    pub inflight: u16,
    #[cfg(feature = "tls")]
    pub tls: Option<std::sync::Arc<tokio_rustls::rustls::ClientConfig>>,
}

/// Why a connection could not be opened before any I/O.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SetupError {
    /// `mqtts://` without the `tls` feature. Build ffc-protocols with `--features tls`.
    #[error("mqtts:// needs ffc-protocols built with feature `tls`")]
    TlsUnavailable,
    /// `mqtts://` without a TLS client configuration. Set `tls` in the configuration (a
    /// rustls `ClientConfig` holding the broker's CA).
    #[error("mqtts:// needs a TLS client configuration (the broker's CA)")]
    TlsNotConfigured,
    /// A client id MQTT cannot carry (empty with a persistent session, or over 65535
    /// bytes). Choose another.
    #[error("client id is empty with a persistent session, or too long")]
    ClientId,
}

#[derive(Clone)]
pub(crate) enum Client {
    V4(rumqttc::AsyncClient),
    V5(v5::AsyncClient),
}

pub(crate) enum EventLoop {
    V4(Box<rumqttc::EventLoop>),
    V5(Box<v5::EventLoop>),
}

/// A received PUBLISH, kept whole so it can be acknowledged later.
pub(crate) enum Publish {
    V4(rumqttc::Publish),
    V5(v5::mqttbytes::v5::Publish),
}

impl Publish {
    pub fn topic(&self) -> Cow<'_, str> {
        match self {
            Publish::V4(p) => Cow::Borrowed(p.topic.as_str()),
            Publish::V5(p) => String::from_utf8_lossy(&p.topic),
        }
    }
    pub fn payload(&self) -> &[u8] {
        match self {
            Publish::V4(p) => &p.payload,
            Publish::V5(p) => &p.payload,
        }
    }
}

/// What one poll of the event loop brought, reduced to what we act on.
pub(crate) enum Polled {
    ConnAck {
        session_present: bool,
    },
    Publish(Publish),
    /// The broker acknowledged a QoS 1 publish of ours.
    PubAck,
    /// A QoS 0 publish of ours was written to the socket.
    PublishWritten {
        qos0: bool,
    },
    /// A subscription answer; `refused` is the first filter index the broker refused.
    SubAck {
        refused: Option<usize>,
    },
    Other,
}

/// Why a poll failed: the broker refused us (do not retry blindly), or the connection is
/// gone (retry with backoff).
pub(crate) enum PollError {
    Refused {
        reason: &'static str,
        /// Retrying with the same settings cannot help (credentials, client id, protocol).
        permanent: bool,
    },
    Connection(String),
    /// The TLS handshake failed (untrusted certificate, wrong host name): retrying with
    /// the same configuration cannot help.
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    Tls(String),
}

impl PollError {
    /// What went wrong, for a log line or an error that keeps the last failure.
    pub fn into_message(self) -> String {
        match self {
            PollError::Refused { reason, .. } => reason.to_owned(),
            PollError::Connection(e) | PollError::Tls(e) => e,
        }
    }
}

pub(crate) fn connect(opts: &ConnOptions<'_>) -> Result<(Client, EventLoop), SetupError> {
    if opts.client_id.len() > 65_535 || (opts.client_id.is_empty() && !opts.clean_session) {
        return Err(SetupError::ClientId);
    }
    if opts.url.tls {
        #[cfg(not(feature = "tls"))]
        return Err(SetupError::TlsUnavailable);
        #[cfg(feature = "tls")]
        if opts.tls.is_none() {
            return Err(SetupError::TlsNotConfigured);
        }
    }
    let keep_alive = opts.keep_alive.max(Duration::from_secs(1));
    let capacity = opts.request_capacity.max(1);
    match opts.protocol {
        Protocol::V311 => {
            let mut o =
                rumqttc::MqttOptions::new(opts.client_id, opts.url.host.clone(), opts.url.port);
            o.set_keep_alive(keep_alive)
                .set_clean_session(opts.clean_session)
                .set_manual_acks(true)
                .set_inflight(opts.inflight.max(1))
                .set_max_packet_size(256 * 1024, 256 * 1024)
                .set_request_channel_capacity(capacity);
            if let Some(c) = opts.credentials {
                o.set_credentials(c.username.clone(), c.password.expose());
            }
            #[cfg(feature = "tls")]
            if let (true, Some(cfg)) = (opts.url.tls, &opts.tls) {
                o.set_transport(rumqttc::Transport::tls_with_config(
                    rumqttc::TlsConfiguration::Rustls(cfg.clone()),
                ));
            }
            let (client, eventloop) = rumqttc::AsyncClient::new(o, capacity);
            Ok((Client::V4(client), EventLoop::V4(Box::new(eventloop))))
        }
        Protocol::V5 => {
            let mut o = v5::MqttOptions::new(opts.client_id, opts.url.host.clone(), opts.url.port);
            o.set_keep_alive(keep_alive)
                .set_clean_start(opts.clean_session)
                .set_manual_acks(true)
                .set_max_packet_size(Some(256 * 1024))
                .set_request_channel_capacity(capacity);
            if !opts.clean_session {
                // MQTT 5 ends a session when the connection closes unless an expiry is set.
                let secs = u32::try_from(opts.session_expiry.as_secs()).unwrap_or(u32::MAX);
                o.set_session_expiry_interval(Some(secs));
            }
            if let Some(c) = opts.credentials {
                o.set_credentials(c.username.clone(), c.password.expose());
            }
            #[cfg(feature = "tls")]
            if let (true, Some(cfg)) = (opts.url.tls, &opts.tls) {
                o.set_transport(rumqttc::Transport::tls_with_config(
                    rumqttc::TlsConfiguration::Rustls(cfg.clone()),
                ));
            }
            let (client, eventloop) = v5::AsyncClient::new(o, capacity);
            Ok((Client::V5(client), EventLoop::V5(Box::new(eventloop))))
        }
    }
}

impl Client {
    /// Queues a SUBSCRIBE for every filter, waiting while rumqttc's request channel is
    /// full. Only from a task other than the one polling the event loop.
    pub async fn subscribe(&self, filters: &[String], qos: Qos) -> Result<(), String> {
        match self {
            Client::V4(c) => c
                .subscribe_many(
                    filters
                        .iter()
                        .map(|f| rumqttc::SubscribeFilter::new(f.clone(), qos.v4())),
                )
                .await
                .map_err(|e| e.to_string()),
            Client::V5(c) => c
                .subscribe_many(
                    filters
                        .iter()
                        .map(|f| v5::mqttbytes::v5::Filter::new(f.clone(), qos.v5())),
                )
                .await
                .map_err(|e| e.to_string()),
        }
    }

    /// Acknowledges a received publish (QoS 1) once it is handled, waiting while
    /// rumqttc's request channel is full. Only from a task other than the one polling the
    /// event loop: the event loop reads up to ten packets per request it sends, so a
    /// `try_ack` from the polling task finds the channel full under load and the
    /// acknowledgement would be lost (the broker then redelivers, and stops sending once
    /// its in-flight window is full of unacknowledged messages).
    pub async fn ack(&self, publish: &Publish) -> Result<(), String> {
        match (self, publish) {
            (Client::V4(c), Publish::V4(p)) => c.ack(p).await.map_err(|e| e.to_string()),
            (Client::V5(c), Publish::V5(p)) => c.ack(p).await.map_err(|e| e.to_string()),
            _ => Ok(()),
        }
    }

    /// Queues a DISCONNECT without waiting.
    pub fn try_disconnect(&self) {
        // The event loop may already be gone; there is nothing more to do then.
        let _ = match self {
            Client::V4(c) => c.try_disconnect().map_err(|e| e.to_string()),
            Client::V5(c) => c.try_disconnect().map_err(|e| e.to_string()),
        };
    }

    pub async fn publish(&self, topic: &str, qos: Qos, payload: Vec<u8>) -> Result<(), String> {
        match self {
            Client::V4(c) => c
                .publish(topic, qos.v4(), false, payload)
                .await
                .map_err(|e| e.to_string()),
            Client::V5(c) => c
                .publish(topic.to_owned(), qos.v5(), false, payload)
                .await
                .map_err(|e| e.to_string()),
        }
    }

    pub async fn disconnect(&self) {
        // The event loop may already be gone; there is nothing more to do then.
        let _ = match self {
            Client::V4(c) => c.disconnect().await.map_err(|e| e.to_string()),
            Client::V5(c) => c.disconnect().await.map_err(|e| e.to_string()),
        };
    }
}

impl EventLoop {
    pub async fn poll(&mut self) -> Result<Polled, PollError> {
        match self {
            EventLoop::V4(l) => poll_v4(l).await,
            EventLoop::V5(l) => poll_v5(l).await,
        }
    }
}

/// One poll of an MQTT 3.1.1 event loop, reduced to what the callers act on.
async fn poll_v4(l: &mut rumqttc::EventLoop) -> Result<Polled, PollError> {
    match l.poll().await {
        Ok(rumqttc::Event::Incoming(p)) => Ok(match p {
            rumqttc::Packet::ConnAck(a) => Polled::ConnAck {
                session_present: a.session_present,
            },
            rumqttc::Packet::Publish(p) => Polled::Publish(Publish::V4(p)),
            rumqttc::Packet::PubAck(_) => Polled::PubAck,
            rumqttc::Packet::SubAck(a) => Polled::SubAck {
                refused: a
                    .return_codes
                    .iter()
                    .position(|c| matches!(c, rumqttc::SubscribeReasonCode::Failure)),
            },
            _ => Polled::Other,
        }),
        Ok(rumqttc::Event::Outgoing(rumqttc::Outgoing::Publish(pkid))) => {
            Ok(Polled::PublishWritten { qos0: pkid == 0 })
        }
        Ok(rumqttc::Event::Outgoing(_)) => Ok(Polled::Other),
        Err(rumqttc::ConnectionError::ConnectionRefused(code)) => {
            use rumqttc::ConnectReturnCode as C;
            let (reason, permanent) = match code {
                C::BadUserNamePassword => ("bad username or password", true),
                C::NotAuthorized => ("not authorized (check username and password)", true),
                C::BadClientId => ("client id refused", true),
                C::RefusedProtocolVersion => ("protocol version refused", true),
                C::ServiceUnavailable => ("service unavailable", false),
                C::Success => ("refused", false),
            };
            Err(PollError::Refused { reason, permanent })
        }
        #[cfg(feature = "tls")]
        Err(rumqttc::ConnectionError::Tls(e)) => Err(PollError::Tls(e.to_string())),
        Err(e) => Err(PollError::Connection(e.to_string())),
    }
}

/// One poll of an MQTT 5 event loop, reduced to what the callers act on.
async fn poll_v5(l: &mut v5::EventLoop) -> Result<Polled, PollError> {
    match l.poll().await {
        Ok(v5::Event::Incoming(p)) => {
            use v5::mqttbytes::v5::Packet;
            Ok(match p {
                Packet::ConnAck(a) => Polled::ConnAck {
                    session_present: a.session_present,
                },
                Packet::Publish(p) => Polled::Publish(Publish::V5(p)),
                Packet::PubAck(_) => Polled::PubAck,
                Packet::SubAck(a) => Polled::SubAck {
                    refused: a.return_codes.iter().position(|c| {
                        !matches!(c, v5::mqttbytes::v5::SubscribeReasonCode::Success(_))
                    }),
                },
                _ => Polled::Other,
            })
        }
        Ok(v5::Event::Outgoing(rumqttc::Outgoing::Publish(pkid))) => {
            Ok(Polled::PublishWritten { qos0: pkid == 0 })
        }
        Ok(v5::Event::Outgoing(_)) => Ok(Polled::Other),
        Err(v5::ConnectionError::ConnectionRefused(code)) => {
            use v5::mqttbytes::v5::ConnectReturnCode as C;
            let (reason, permanent) = match code {
                C::BadUserNamePassword => ("bad username or password", true),
                C::NotAuthorized => ("not authorized (check username and password)", true),
                C::BadAuthenticationMethod => ("authentication method refused", true),
                C::ClientIdentifierNotValid | C::BadClientId => ("client id refused", true),
                C::Banned => ("client banned", true),
                C::RefusedProtocolVersion | C::UnsupportedProtocolVersion => {
                    ("protocol version refused", true)
                }
                C::ServerUnavailable | C::ServiceUnavailable => ("server unavailable", false),
                C::ServerBusy => ("server busy", false),
                C::ConnectionRateExceeded => ("connection rate exceeded", false),
                _ => ("refused", false),
            };
            Err(PollError::Refused { reason, permanent })
        }
        #[cfg(feature = "tls")]
        Err(v5::ConnectionError::Tls(e)) => Err(PollError::Tls(e.to_string())),
        Err(e) => Err(PollError::Connection(e.to_string())),
    }
}
