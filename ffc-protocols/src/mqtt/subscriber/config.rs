//! [`SubscriberConfig`]: how the subscriber connects and what it subscribes to.

use std::time::Duration;

use ffc_core::backoff::RetryPolicy;

use super::super::{BrokerUrl, Credentials, Protocol, Qos, UrlError};

/// The default topic filter: every counter's default topic `/status/{ChipSerial}`.
pub const DEFAULT_FILTER: &str = "/status/+";

/// How the subscriber connects and what it subscribes to.
///
/// Built with [`SubscriberConfig::new`] and the `with_*` setters.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct SubscriberConfig {
    /// The broker.
    pub url: BrokerUrl,
    /// The client id; with a persistent session it names the session, so keep it fixed.
    pub client_id: String,
    /// Username and password, when the broker wants them.
    pub credentials: Option<Credentials>,
    /// MQTT 3.1.1 (default) or 5.
    pub protocol: Protocol,
    /// Topic filters (default `[`[`DEFAULT_FILTER`]`]`).
    pub filters: Vec<String>,
    /// Subscribe as `$share/{group}/{filter}`: workers in one group split the stream.
    pub share_group: Option<String>,
    /// Subscription QoS (default 0, as counters publish).
    pub qos: Qos,
    /// `true` (default): a fresh session on every connect. `false`: the broker keeps the
    /// subscriptions and the QoS 1 messages for this client id while it is away.
    pub clean_session: bool,
    /// How long the broker keeps a persistent session (MQTT 5 only; 3.1.1 brokers keep it
    /// by their own settings). Default one hour.
    pub session_expiry: Duration,
    /// Keep-alive interval (default 30 s). The sink must not block longer than about 1.5
    /// times this, or the broker drops the connection (it is then re-established).
    pub keep_alive: Duration,
    /// Waits between reconnect attempts: default 100 ms doubling up to 30 s, jittered,
    /// never giving up (reset after every ConnAck).
    pub retry: RetryPolicy,
    /// Capacity of the stream channel and of rumqttc's request channel (default 1024).
    pub channel_capacity: usize,
    /// QoS 1 messages in flight from the broker at once (MQTT 3.1.1; default 100).
    pub inflight: u16,
    /// TLS client configuration for `mqtts://` (the broker's CA).
    #[cfg(feature = "tls")]
    pub tls: Option<std::sync::Arc<tokio_rustls::rustls::ClientConfig>>,
    /// Where receive times and session times come from (default: the system clock).
    pub clock: crate::sink::Clock,
}

impl SubscriberConfig {
    /// A configuration with the defaults for `url` and `client_id`.
    pub fn new(url: &str, client_id: impl Into<String>) -> Result<Self, UrlError> {
        Ok(SubscriberConfig {
            url: BrokerUrl::parse(url)?,
            client_id: client_id.into(),
            credentials: None,
            protocol: Protocol::V311,
            filters: vec![DEFAULT_FILTER.to_owned()],
            share_group: None,
            qos: Qos::AtMostOnce,
            clean_session: true,
            session_expiry: Duration::from_secs(3600),
            keep_alive: Duration::from_secs(30),
            retry: RetryPolicy::forever(Duration::from_millis(100), Duration::from_secs(30)),
            channel_capacity: 1024,
            inflight: 100,
            #[cfg(feature = "tls")]
            tls: None,
            clock: crate::sink::Clock::system(),
        })
    }

    /// Takes receive and session times from `clock` (simulations, tests).
    pub fn with_clock(mut self, clock: crate::sink::Clock) -> Self {
        self.clock = clock;
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

    /// Sets the topic filters.
    pub fn with_filters(mut self, filters: Vec<String>) -> Self {
        self.filters = filters;
        self
    }

    /// Subscribes as `$share/{group}/{filter}` (`None`: an ordinary subscription).
    pub fn with_share_group(mut self, group: Option<String>) -> Self {
        self.share_group = group;
        self
    }

    /// Sets the subscription QoS.
    pub fn with_qos(mut self, qos: Qos) -> Self {
        self.qos = qos;
        self
    }

    /// Sets whether each connect starts a fresh session (`false`: persistent).
    pub fn with_clean_session(mut self, clean_session: bool) -> Self {
        self.clean_session = clean_session;
        self
    }

    /// Sets how long the broker keeps a persistent session (MQTT 5).
    pub fn with_session_expiry(mut self, session_expiry: Duration) -> Self {
        self.session_expiry = session_expiry;
        self
    }

    /// Sets the keep-alive interval.
    pub fn with_keep_alive(mut self, keep_alive: Duration) -> Self {
        self.keep_alive = keep_alive;
        self
    }

    /// Sets the waits between reconnect attempts (use [`RetryPolicy::forever`]: a policy
    /// with a maximum number of attempts makes the subscriber give up after that many
    /// failed connects in a row).
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Sets the capacity of the stream channel and of rumqttc's request channel.
    pub fn with_channel_capacity(mut self, channel_capacity: usize) -> Self {
        self.channel_capacity = channel_capacity;
        self
    }

    /// Sets how many QoS 1 messages may be in flight from the broker at once.
    pub fn with_inflight(mut self, inflight: u16) -> Self {
        self.inflight = inflight;
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

    /// The filters as sent to the broker (with the `$share/{group}/` prefix when shared).
    pub fn subscribed_filters(&self) -> Vec<String> {
        self.filters
            .iter()
            .map(|f| match &self.share_group {
                Some(g) => format!("$share/{g}/{f}"),
                None => f.clone(),
            })
            .collect()
    }
}
