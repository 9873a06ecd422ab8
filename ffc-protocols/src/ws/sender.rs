//! The counter side of WebSocket push, for simulators and firmware tests: events wait in
//! ffc-core's [`Outbox`] (10,000 by default, turned off on overflow, nothing dropped) and
//! go out one at a time; each is removed only when the receiver answered `OK`.
//!
//! DECISION: when no `OK` arrives within [`SenderConfig::ack_timeout`] the sender drops the
//! connection and resends on a new one, rather than resending on the same connection: a
//! late `OK` for the first send could otherwise be taken for the answer to the next event.
//! The receiver deduplicates the resend by its key.
//!
//! ```no_run
//! # async fn demo(event: ffc_core::CountEvent) -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use ffc_protocols::ws::sender::{Sender, SenderConfig};
//!
//! let config = SenderConfig::new("ws://127.0.0.1:8080/ingest").with_token("s3cret");
//! let mut sender: Sender = Sender::new(config);
//! sender.check_connection().await?; // the test message, answered OK
//! sender.push(event)?;
//! sender.deliver_all(Duration::from_secs(60)).await?;
//! # Ok(()) }
//! ```

use std::fmt;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use ffc_core::backoff::RetryPolicy;
use ffc_core::outbox::{Outbox, Rejected, DEFAULT_CAPACITY};
use ffc_core::{CountEvent, MessageId};
use futures_util::{SinkExt as _, StreamExt as _};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::http::{header, HeaderValue, Uri};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::WebSocketStream;

use super::codec::{self, EncodeError};
use super::server::Secret;

/// Which payload form the sender writes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PayloadForm {
    /// The classic `{"Topic":"ffc-eventrawdata","Data":{..}}` envelope.
    #[default]
    Classic,
    /// The 3D Pro2 flat form. An event without a UUID gets one derived from its key, so
    /// every resend carries the same UUID.
    Pro2,
}

/// Where and how the sender connects.
#[derive(Clone)]
#[non_exhaustive]
pub struct SenderConfig {
    /// `ws://host:port/path` (or `wss://` with feature `tls` and `SenderConfig::tls`).
    /// Keep secrets out of it: use [`SenderConfig::token`] or [`SenderConfig::basic`].
    pub url: String,
    /// Sent as `Authorization: Bearer <token>`.
    pub token: Option<Secret>,
    /// Sent as HTTP Basic authentication.
    pub basic: Option<(String, Secret)>,
    /// Payload form.
    pub form: PayloadForm,
    /// How long to wait for `OK` before resending on a new connection. Default 30 s
    /// (ffc-core's `DEFAULT_RESEND_TIMEOUT`).
    pub ack_timeout: Duration,
    /// Time for TCP connect plus the upgrade. Default 10 s.
    pub connect_timeout: Duration,
    /// Pauses between attempts in [`Sender::deliver_all`]: default 100 ms doubling up to
    /// 10 s, jittered; reset after every delivered event. A maximum number of attempts
    /// makes `deliver_all` give up after that many failures in a row.
    pub retry: RetryPolicy,
    /// TLS connector and server name for `wss://` (feature `tls`).
    #[cfg(feature = "tls")]
    pub tls: Option<(
        tokio_rustls::TlsConnector,
        tokio_rustls::rustls::pki_types::ServerName<'static>,
    )>,
}

impl SenderConfig {
    /// Sending to `url` without authentication, with the default timeouts.
    pub fn new(url: impl Into<String>) -> Self {
        SenderConfig {
            url: url.into(),
            token: None,
            basic: None,
            form: PayloadForm::Classic,
            ack_timeout: Duration::from_secs(u64::from(ffc_core::outbox::DEFAULT_RESEND_TIMEOUT)),
            connect_timeout: Duration::from_secs(10),
            retry: RetryPolicy::forever(Duration::from_millis(100), Duration::from_secs(10)),
            #[cfg(feature = "tls")]
            tls: None,
        }
    }
}

impl SenderConfig {
    /// Sends `Authorization: Bearer <token>`.
    pub fn with_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(Secret::new(token));
        self
    }

    /// Sends HTTP Basic authentication.
    pub fn with_basic(mut self, user: impl Into<String>, password: impl Into<String>) -> Self {
        self.basic = Some((user.into(), Secret::new(password)));
        self
    }

    /// Sets the payload form.
    pub fn with_form(mut self, form: PayloadForm) -> Self {
        self.form = form;
        self
    }

    /// Sets how long to wait for `OK` before resending on a new connection.
    pub fn with_ack_timeout(mut self, ack_timeout: Duration) -> Self {
        self.ack_timeout = ack_timeout;
        self
    }

    /// Sets the time for TCP connect plus the upgrade.
    pub fn with_connect_timeout(mut self, connect_timeout: Duration) -> Self {
        self.connect_timeout = connect_timeout;
        self
    }

    /// Sets the pauses between attempts.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Sets the TLS connector and server name for `wss://`.
    #[cfg(feature = "tls")]
    pub fn with_tls(
        mut self,
        connector: tokio_rustls::TlsConnector,
        server_name: tokio_rustls::rustls::pki_types::ServerName<'static>,
    ) -> Self {
        self.tls = Some((connector, server_name));
        self
    }
}

impl fmt::Debug for SenderConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SenderConfig")
            .field("url", &self.url)
            .field("token", &self.token)
            .field("basic", &self.basic)
            .field("form", &self.form)
            .field("ack_timeout", &self.ack_timeout)
            .finish_non_exhaustive()
    }
}

/// Why a send did not complete. The event stays in the outbox in every case.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// The URL does not parse or has no host; fix the configuration.
    #[error("bad receiver URL: {0}")]
    Url(String),
    /// TCP, TLS or the upgrade failed (the receiver is down, refused, or answered 401);
    /// retry later, or check the credentials on a 401.
    #[error("could not connect: {0}")]
    Connect(String),
    /// Connecting took longer than the connect timeout; retry later.
    #[error("connecting timed out")]
    ConnectTimeout,
    /// The connection broke or closed before `OK`; the event is resent on reconnect.
    #[error("connection lost before the answer")]
    ConnectionLost,
    /// No `OK` within the ack timeout; the event is resent on a new connection.
    #[error("no answer within the ack timeout")]
    AckTimeout,
    /// The receiver answered something else than `OK`; the event is resent.
    #[error("unexpected answer from the receiver")]
    UnexpectedAnswer,
    /// The event cannot be written (a time outside 1970..=9999); drop it from the outbox.
    #[error("event cannot be encoded: {0}")]
    Encode(#[from] EncodeError),
    /// [`Sender::deliver_all`] ran out of time with events still waiting.
    #[error("gave up with {remaining} events undelivered")]
    GaveUp {
        /// Events still in the outbox.
        remaining: usize,
    },
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send + Sync {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + Sync> Io for T {}

/// Counters of one sender.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SenderStats {
    /// Messages written (first sends and resends).
    pub sent: u64,
    /// Events answered `OK` and removed from the outbox.
    pub acknowledged: u64,
    /// Connections made.
    pub connections: u64,
    /// Failed attempts (connect, lost connection, timeout).
    pub failures: u64,
}

/// A counter's WebSocket push module: an [`Outbox`] of `N` events and one connection.
pub struct Sender<const N: usize = DEFAULT_CAPACITY> {
    config: SenderConfig,
    outbox: Box<Outbox<CountEvent, N>>,
    ws: Option<WebSocketStream<Box<dyn Io>>>,
    stats: SenderStats,
    text: String,
}

impl<const N: usize> fmt::Debug for Sender<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("config", &self.config)
            .field("queued", &self.outbox.len())
            .field("connected", &self.ws.is_some())
            .field("stats", &self.stats)
            .finish()
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// A UUID for an event that has none, the same for every resend: its key's fields.
fn derived_uuid(event: &CountEvent) -> MessageId {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in [
        u64::from(event.roi.0),
        u64::from(event.metric.code()),
        event.people_id.0,
        event.start as u64,
        event.end as u64,
    ] {
        for byte in part.to_le_bytes() {
            h ^= u64::from(byte);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    MessageId::from_u64_pair(event.serial.as_u64(), h)
}

impl<const N: usize> Sender<N> {
    /// A sender with an empty, enabled outbox, not yet connected.
    pub fn new(config: SenderConfig) -> Self {
        Sender {
            config,
            outbox: Box::new(Outbox::with_resend_timeout(0)),
            ws: None,
            stats: SenderStats::default(),
            text: String::new(),
        }
    }

    /// Queues an event. Refused (the event handed back) when the outbox is full — which
    /// turns it off, as the counter does — or already off.
    pub fn push(&mut self, event: CountEvent) -> Result<(), Rejected<CountEvent>> {
        self.outbox.push(event)
    }

    /// The outbox (length, state, overflows).
    pub fn outbox(&self) -> &Outbox<CountEvent, N> {
        &self.outbox
    }

    /// Turns the push module back on after an overflow.
    pub fn enable(&mut self) {
        self.outbox.enable();
    }

    /// The counters.
    pub fn stats(&self) -> SenderStats {
        self.stats
    }

    /// Drops the connection (the next send reconnects).
    pub fn disconnect(&mut self) {
        self.ws = None;
        self.outbox.on_reconnect();
    }

    async fn connect(&mut self) -> Result<(), SendError> {
        let timeout = self.config.connect_timeout;
        let ws = tokio::time::timeout(timeout, self.open())
            .await
            .map_err(|_| SendError::ConnectTimeout)??;
        self.ws = Some(ws);
        self.stats.connections += 1;
        self.outbox.on_reconnect();
        Ok(())
    }

    async fn open(&self) -> Result<WebSocketStream<Box<dyn Io>>, SendError> {
        let uri: Uri = self.config.url.parse().map_err(
            |e: tokio_tungstenite::tungstenite::http::uri::InvalidUri| {
                SendError::Url(e.to_string())
            },
        )?;
        let host = uri
            .host()
            .ok_or_else(|| SendError::Url("no host".into()))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let secure = uri.scheme_str() == Some("wss");
        let port = uri.port_u16().unwrap_or(if secure { 443 } else { 80 });
        let mut request = self
            .config
            .url
            .as_str()
            .into_client_request()
            .map_err(|e| SendError::Url(e.to_string()))?;
        let headers = request.headers_mut();
        if let Some(token) = &self.config.token {
            let mut value = b"Bearer ".to_vec();
            value.extend_from_slice(token.expose().as_bytes());
            let mut value = HeaderValue::from_bytes(&value)
                .map_err(|_| SendError::Url("token is not a valid header value".into()))?;
            value.set_sensitive(true);
            headers.append(header::AUTHORIZATION, value);
        }
        if let Some((user, password)) = &self.config.basic {
            let mut plain = user.as_bytes().to_vec();
            plain.push(b':');
            plain.extend_from_slice(password.expose().as_bytes());
            let encoded = base64::engine::general_purpose::STANDARD.encode(plain);
            let mut value = HeaderValue::from_str(&format!("Basic {encoded}"))
                .map_err(|_| SendError::Url("credentials are not a valid header value".into()))?;
            value.set_sensitive(true);
            headers.append(header::AUTHORIZATION, value);
        }
        let tcp = TcpStream::connect((host.as_str(), port))
            .await
            .map_err(|e| SendError::Connect(e.to_string()))?;
        let _ = tcp.set_nodelay(true);
        let stream: Box<dyn Io> = if secure {
            #[cfg(feature = "tls")]
            {
                let (connector, name) = self
                    .config
                    .tls
                    .clone()
                    .ok_or_else(|| SendError::Url("wss:// needs SenderConfig::tls".into()))?;
                Box::new(
                    connector
                        .connect(name, tcp)
                        .await
                        .map_err(|e| SendError::Connect(e.to_string()))?,
                )
            }
            #[cfg(not(feature = "tls"))]
            {
                return Err(SendError::Url("wss:// needs the `tls` feature".into()));
            }
        } else {
            Box::new(tcp)
        };
        let config = WebSocketConfig::default()
            .read_buffer_size(4 * 1024)
            .write_buffer_size(0)
            .max_message_size(Some(64 * 1024));
        let (ws, _) = tokio_tungstenite::client_async_with_config(request, stream, Some(config))
            .await
            .map_err(|e| SendError::Connect(e.to_string()))?;
        Ok(ws)
    }

    /// Sends `text` on the open connection and waits for `OK`.
    async fn exchange(&mut self) -> Result<(), SendError> {
        let timeout = self.config.ack_timeout;
        let Some(ws) = self.ws.as_mut() else {
            return Err(SendError::ConnectionLost);
        };
        if ws.send(WsMessage::text(self.text.as_str())).await.is_err() {
            return Err(SendError::ConnectionLost);
        }
        self.stats.sent += 1;
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match tokio::time::timeout_at(deadline, ws.next()).await {
                Err(_) => return Err(SendError::AckTimeout),
                Ok(Some(Ok(WsMessage::Text(answer)))) => {
                    return if answer.as_str() == codec_ack() {
                        Ok(())
                    } else {
                        Err(SendError::UnexpectedAnswer)
                    };
                }
                Ok(Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_)))) => continue,
                Ok(Some(Ok(WsMessage::Close(_)))) => return Err(SendError::ConnectionLost),
                Ok(Some(Ok(_))) => return Err(SendError::UnexpectedAnswer),
                Ok(Some(Err(_)) | None) => return Err(SendError::ConnectionLost),
            }
        }
    }

    /// Connects when needed, then sends `self.text`; on failure drops the connection.
    async fn send_text(&mut self) -> Result<(), SendError> {
        if self.ws.is_none() {
            self.connect().await?;
        }
        let result = self.exchange().await;
        if result.is_err() {
            self.disconnect();
        }
        result
    }

    /// "Check connection": sends the `generic-test-topic` message and waits for `OK`.
    pub async fn check_connection(&mut self) -> Result<(), SendError> {
        self.text.clear();
        self.text.push_str(codec::TEST_MESSAGE);
        let result = self.send_text().await;
        if result.is_err() {
            self.stats.failures += 1;
        }
        result
    }

    /// Sends the oldest queued event and waits for `OK`, which removes it. `Ok(false)` when
    /// nothing is due (empty or turned off). On error the event stays queued.
    pub async fn send_next(&mut self) -> Result<bool, SendError> {
        let now = unix_now();
        let Some(event) = self.outbox.next_to_send(now).copied() else {
            return Ok(false);
        };
        self.text.clear();
        match self.config.form {
            PayloadForm::Classic => codec::encode_classic(&event, &mut self.text)?,
            PayloadForm::Pro2 => codec::encode_pro2(&event, derived_uuid(&event), &mut self.text)?,
        }
        if self.ws.is_none() {
            if let Err(e) = self.connect().await {
                self.stats.failures += 1;
                return Err(e);
            }
        }
        self.outbox.mark_sent(now);
        match self.send_text().await {
            Ok(()) => {
                self.outbox.ack();
                self.stats.acknowledged += 1;
                Ok(true)
            }
            Err(e) => {
                self.stats.failures += 1;
                Err(e)
            }
        }
    }

    /// Delivers until the outbox is empty (or turned off), reconnecting with backoff after
    /// every failure, for at most `give_up_after`. Returns how many events were delivered.
    pub async fn deliver_all(&mut self, give_up_after: Duration) -> Result<u64, SendError> {
        let started = Instant::now();
        let before = self.stats.acknowledged;
        let mut backoff = self.config.retry.backoff();
        loop {
            match self.send_next().await {
                Ok(true) => backoff.reset(),
                Ok(false) => return Ok(self.stats.acknowledged - before),
                Err(SendError::Encode(e)) => return Err(SendError::Encode(e)),
                Err(e) => {
                    let wait = backoff.next_delay();
                    let Some(wait) = wait.filter(|_| started.elapsed() < give_up_after) else {
                        return Err(SendError::GaveUp {
                            remaining: self.outbox.len(),
                        });
                    };
                    tracing::debug!(error = %e, ?wait, "send failed; trying again");
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }
}

fn codec_ack() -> &'static str {
    super::server::ACK
}
