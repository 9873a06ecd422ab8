//! The WebSocket receiver counters push to (tokio-tungstenite): a thin transport over
//! the payload codec (`super::codec`) and an [`EventSink`].
//!
//! - Each text message is decoded; an event is answered `OK` **only after the sink accepted
//!   it** (stored or a duplicate by [`ffc_core::EventKey`]); a test message is answered and
//!   not counted; anything undecodable (and binary frames, unknown topics) goes to the
//!   [`DeadLetterSink`] with its raw bytes and the reason, then is answered `OK`, so a
//!   counter's queue never stalls. When a sink fails, the message is **not** answered and
//!   the connection is closed (1011): the counter resends later.
//! - Optional HTTP Basic and/or token authentication on the upgrade request (token as
//!   `Authorization: Bearer ..` or a `token` query parameter), compared in constant time;
//!   a request that satisfies no configured method gets `401` with `WWW-Authenticate`.
//! - Messages the WebSocket layer cannot hand over close the connection with a reason:
//!   over the size limit (1009), a text frame that is not UTF-8 (1007), a protocol
//!   violation (1002). Other connections are not affected.
//! - TLS (feature `tls`): set [`ServerConfig`]`.tls` to a `tokio_rustls::TlsAcceptor`
//!   (re-exported as `ffc_protocols::ws::server::tokio_rustls`); the TLS handshake counts
//!   against the handshake timeout.
//! - Pings are answered with pongs (the 3D Pro2's "Test Connection").
//! - [`Limits`] bound everything, with documented defaults.
//! - [`ServerHandle::shutdown`] stops accepting, lets each connection finish the message it
//!   is handling (sink and `OK`), closes it with 1001, and waits up to
//!   [`Limits::shutdown_grace`].
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use std::sync::Arc;
//! use ffc_protocols::sink::{MemoryDeadLetters, MemorySink};
//! use ffc_protocols::ws::server::{Auth, Server, ServerConfig};
//!
//! let sink = Arc::new(MemorySink::new());
//! let mut config = ServerConfig::new("127.0.0.1:0".parse()?);
//! config.auth = Auth::new().with_token("s3cret");
//! let server = Server::bind(config, sink.clone(), Arc::new(MemoryDeadLetters::new())).await?;
//! let handle = server.spawn();
//! println!("counters connect to ws://{}/?token=...", handle.local_addr());
//! assert_eq!(handle.stats().accepted, 0);
//! handle.shutdown().await?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```

use std::fmt;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use futures_util::{SinkExt as _, StreamExt as _};
use subtle::ConstantTimeEq as _;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::{header, StatusCode};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message as WsMessage};
use tokio_tungstenite::WebSocketStream;

use super::codec::{self, Message};
use crate::sink::{Accepted, DeadLetter, DeadLetterSink, EventSink};

#[cfg(feature = "tls")]
pub use tokio_rustls;

/// The answer a counter waits for.
pub const ACK: &str = "OK";

/// A password or token: compared in constant time, never printed (ffc-core's one type).
pub use ffc_core::secret::Secret;

/// Who may connect. With nothing configured, anyone may; with Basic and a token both
/// configured, a request passing either is admitted (DECISION: the device is configured
/// with one or the other).
#[derive(Clone, Debug, Default)]
pub struct Auth {
    basic: Option<(String, Secret)>,
    token: Option<Secret>,
}

impl Auth {
    /// No authentication.
    pub fn new() -> Self {
        Auth::default()
    }

    /// Admits HTTP Basic authentication with this user and password.
    pub fn with_basic(mut self, user: impl Into<String>, password: impl Into<String>) -> Self {
        self.basic = Some((user.into(), Secret::new(password)));
        self
    }

    /// Admits `Authorization: Bearer <token>` or the query parameter `token=<token>`. The
    /// query value is compared as sent, without percent-decoding: use URL-safe tokens.
    pub fn with_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(Secret::new(token));
        self
    }

    fn is_open(&self) -> bool {
        self.basic.is_none() && self.token.is_none()
    }

    /// Whether the upgrade request passes a configured method. Every configured check runs,
    /// whatever the earlier ones found.
    fn admits(&self, request: &Request) -> bool {
        if self.is_open() {
            return true;
        }
        let mut ok = false;
        for value in request.headers().get_all(header::AUTHORIZATION) {
            let value = value.as_bytes();
            if let (Some((user, password)), Some(encoded)) =
                (&self.basic, strip_scheme(value, b"basic"))
            {
                if let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded) {
                    let split = decoded.iter().position(|b| *b == b':');
                    if let Some(at) = split {
                        let (u, p) = decoded.split_at(at);
                        let p = p.get(1..).unwrap_or_default();
                        // `&` on bools does not short-circuit: both are always compared.
                        let user_ok = bool::from(user.as_bytes().ct_eq(u));
                        ok |= user_ok & password.ct_eq_bytes(p);
                    }
                }
            }
            if let (Some(token), Some(given)) = (&self.token, strip_scheme(value, b"bearer")) {
                ok |= token.ct_eq_bytes(given);
            }
        }
        if let (Some(token), Some(query)) = (&self.token, request.uri().query()) {
            for pair in query.split('&') {
                if let Some(given) = pair.strip_prefix("token=") {
                    ok |= token.ct_eq_bytes(given.as_bytes());
                }
            }
        }
        ok
    }

    fn challenge(&self) -> ErrorResponse {
        let mut response = ErrorResponse::new(Some("authentication required\n".into()));
        *response.status_mut() = StatusCode::UNAUTHORIZED;
        let headers = response.headers_mut();
        if self.basic.is_some() {
            headers.append(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Basic realm=\"ffc\", charset=\"UTF-8\""),
            );
        }
        if self.token.is_some() {
            headers.append(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer realm=\"ffc\""),
            );
        }
        response
    }
}

/// `value` without its case-insensitive auth `scheme` and one space, trimmed.
fn strip_scheme<'a>(value: &'a [u8], scheme: &[u8]) -> Option<&'a [u8]> {
    let head = value.get(..scheme.len())?;
    if !head.eq_ignore_ascii_case(scheme) || value.get(scheme.len()) != Some(&b' ') {
        return None;
    }
    Some(value.get(scheme.len() + 1..)?.trim_ascii())
}

/// The receiver's limits (invariant 5 of DESIGN.md). The defaults suit thousands of
/// counters each sending small JSON messages one at a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest message (and frame) accepted; larger closes the connection with 1009.
    /// Default 64 KiB (an event is about 400 bytes).
    pub max_message_bytes: usize,
    /// The per-connection read buffer, allocated for every connection. Default 4 KiB.
    pub read_buffer_bytes: usize,
    /// Time for the TCP (and TLS) connection to finish the upgrade. Default 10 s.
    pub handshake_timeout: Duration,
    /// A connection silent this long is closed (1000). Default 10 minutes; counters
    /// reconnect by themselves.
    pub idle_timeout: Duration,
    /// Open connections at most; further ones get `503` and are closed. Default 10,000.
    pub max_connections: usize,
    /// How long [`ServerHandle::shutdown`] waits for connections to finish. Default 10 s.
    pub shutdown_grace: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_bytes: 64 * 1024,
            read_buffer_bytes: 4 * 1024,
            handshake_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(600),
            max_connections: 10_000,
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

impl Limits {
    fn websocket(&self) -> WebSocketConfig {
        WebSocketConfig::default()
            .read_buffer_size(self.read_buffer_bytes)
            // Each answer is written at once: `OK` must not wait in a buffer.
            .write_buffer_size(0)
            .max_write_buffer_size(self.max_message_bytes.saturating_add(1024))
            .max_message_size(Some(self.max_message_bytes))
            .max_frame_size(Some(self.max_message_bytes))
    }
}

/// How the receiver is set up.
#[derive(Clone)]
#[non_exhaustive]
pub struct ServerConfig {
    /// Where to listen.
    pub bind: SocketAddr,
    /// Who may connect.
    pub auth: Auth,
    /// Limits.
    pub limits: Limits,
    /// TLS (feature `tls`): when set, only `wss://` is served.
    #[cfg(feature = "tls")]
    pub tls: Option<tokio_rustls::TlsAcceptor>,
}

impl fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("ServerConfig");
        d.field("bind", &self.bind)
            .field("auth", &self.auth)
            .field("limits", &self.limits);
        #[cfg(feature = "tls")]
        d.field("tls", &self.tls.is_some());
        d.finish()
    }
}

impl ServerConfig {
    /// Listening on `bind`, no authentication, default limits, no TLS.
    pub fn new(bind: SocketAddr) -> Self {
        ServerConfig {
            bind,
            auth: Auth::new(),
            limits: Limits::default(),
            #[cfg(feature = "tls")]
            tls: None,
        }
    }
}

/// The receiver's counters (all since it started).
#[derive(Debug, Default)]
struct Counters {
    accepted: AtomicU64,
    duplicates: AtomicU64,
    tests: AtomicU64,
    dead_lettered: AtomicU64,
    unauthorized: AtomicU64,
    refused_over_limit: AtomicU64,
    handshake_failures: AtomicU64,
    closed_with_reason: AtomicU64,
    sink_failures: AtomicU64,
    open_connections: AtomicU64,
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// A snapshot of the receiver's counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Events the sink stored.
    pub accepted: u64,
    /// Events the sink already held (answered, not stored again).
    pub duplicates: u64,
    /// Test messages answered.
    pub tests: u64,
    /// Messages stored as dead letters (then answered).
    pub dead_lettered: u64,
    /// Upgrade requests refused with 401.
    pub unauthorized: u64,
    /// Connections refused because [`Limits::max_connections`] were open.
    pub refused_over_limit: u64,
    /// Handshakes that failed or timed out (TLS, HTTP, WebSocket), not counting 401s.
    pub handshake_failures: u64,
    /// Connections the receiver closed with a reason: oversized, not UTF-8, protocol
    /// violation, idle.
    pub closed_with_reason: u64,
    /// Messages not answered because a sink failed (the connection was closed).
    pub sink_failures: u64,
    /// Connections open now.
    pub open_connections: u64,
}

impl Counters {
    fn snapshot(&self) -> Stats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Stats {
            accepted: get(&self.accepted),
            duplicates: get(&self.duplicates),
            tests: get(&self.tests),
            dead_lettered: get(&self.dead_lettered),
            unauthorized: get(&self.unauthorized),
            refused_over_limit: get(&self.refused_over_limit),
            handshake_failures: get(&self.handshake_failures),
            closed_with_reason: get(&self.closed_with_reason),
            sink_failures: get(&self.sink_failures),
            open_connections: get(&self.open_connections),
        }
    }
}

struct Shared {
    auth: Auth,
    limits: Limits,
    sink: Arc<dyn EventSink>,
    dead: Arc<dyn DeadLetterSink>,
    counters: Counters,
}

/// A bound receiver, not yet serving.
pub struct Server {
    listener: TcpListener,
    shared: Arc<Shared>,
    #[cfg(feature = "tls")]
    tls: Option<tokio_rustls::TlsAcceptor>,
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("local_addr", &self.listener.local_addr().ok())
            .finish_non_exhaustive()
    }
}

impl Server {
    /// Binds the listening socket.
    pub async fn bind(
        config: ServerConfig,
        sink: Arc<dyn EventSink>,
        dead: Arc<dyn DeadLetterSink>,
    ) -> io::Result<Server> {
        let listener = TcpListener::bind(config.bind).await?;
        Ok(Server {
            listener,
            shared: Arc::new(Shared {
                auth: config.auth,
                limits: config.limits,
                sink,
                dead,
                counters: Counters::default(),
            }),
            #[cfg(feature = "tls")]
            tls: config.tls,
        })
    }

    /// The address it listens on (useful after binding port 0).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes, then shuts down gracefully (see the module docs).
    pub async fn run_until(self, shutdown: impl Future<Output = ()>) -> io::Result<()> {
        let (tx, rx) = watch::channel(false);
        let serving = self.serve(rx);
        tokio::pin!(serving);
        tokio::select! {
            result = &mut serving => result,
            () = shutdown => {
                let _ = tx.send(true);
                serving.await
            }
        }
    }

    /// Serves on a spawned task; the handle reads the counters and shuts it down.
    pub fn spawn(self) -> ServerHandle {
        let (tx, rx) = watch::channel(false);
        let shared = self.shared.clone();
        let local_addr = self
            .listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)));
        let task = tokio::spawn(self.serve(rx));
        ServerHandle {
            local_addr,
            shared,
            shutdown: tx,
            task,
        }
    }

    async fn serve(self, mut shutdown: watch::Receiver<bool>) -> io::Result<()> {
        let limits = self.shared.limits;
        let max = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
        let slots = Arc::new(Semaphore::new(max as usize));
        loop {
            let accepted = tokio::select! {
                accepted = self.listener.accept() => accepted,
                _ = shutdown.changed() => break,
            };
            let (stream, peer) = match accepted {
                Ok(pair) => pair,
                // Out of file descriptors and the like: keep serving the others.
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let Ok(slot) = slots.clone().try_acquire_owned() else {
                bump(&self.shared.counters.refused_over_limit);
                // Best effort, without waiting: the socket buffer takes it.
                let _ = stream.try_write(
                    b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
                );
                continue;
            };
            let _ = stream.set_nodelay(true);
            let shared = self.shared.clone();
            let shutdown = shutdown.clone();
            #[cfg(feature = "tls")]
            let tls = self.tls.clone();
            tokio::spawn(async move {
                let _slot = slot;
                bump(&shared.counters.open_connections);
                #[cfg(feature = "tls")]
                match tls {
                    Some(acceptor) => {
                        let handshake = tokio::time::timeout(
                            shared.limits.handshake_timeout,
                            acceptor.accept(stream),
                        )
                        .await;
                        match handshake {
                            Ok(Ok(tls_stream)) => {
                                connection(tls_stream, peer, &shared, shutdown).await
                            }
                            _ => bump(&shared.counters.handshake_failures),
                        }
                    }
                    None => connection(stream, peer, &shared, shutdown).await,
                }
                #[cfg(not(feature = "tls"))]
                connection(stream, peer, &shared, shutdown).await;
                shared
                    .counters
                    .open_connections
                    .fetch_sub(1, Ordering::Relaxed);
            });
        }
        // Graceful: every connection task holds a slot until it ends.
        let all = tokio::time::timeout(limits.shutdown_grace, slots.acquire_many(max)).await;
        if all.is_err() {
            tracing::warn!("shutdown grace elapsed with connections still open");
        }
        Ok(())
    }
}

/// A running receiver.
#[derive(Debug)]
pub struct ServerHandle {
    local_addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: watch::Sender<bool>,
    task: tokio::task::JoinHandle<io::Result<()>>,
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared")
            .field("auth", &self.auth)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl ServerHandle {
    /// The address the receiver listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The counters now.
    pub fn stats(&self) -> Stats {
        self.shared.counters.snapshot()
    }

    /// Stops accepting, lets connections finish the message in hand, closes them, and
    /// waits for them up to [`Limits::shutdown_grace`].
    pub async fn shutdown(self) -> io::Result<()> {
        let _ = self.shutdown.send(true);
        self.task.await.map_err(io::Error::other)?
    }
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// What to do after a message.
enum Next {
    Continue,
    Close(CloseCode, &'static str),
    Stop,
}

async fn connection<S>(
    stream: S,
    peer: SocketAddr,
    shared: &Shared,
    mut shutdown: watch::Receiver<bool>,
) where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut path = String::new();
    let mut refused = false;
    // The error type is tungstenite's `Callback` contract.
    #[allow(clippy::result_large_err)]
    let callback = |request: &Request, response: Response| {
        // The path only: the query may hold a token.
        path = request.uri().path().to_owned();
        if shared.auth.admits(request) {
            Ok(response)
        } else {
            // Counted before the 401 goes out, so a client that saw it sees the count.
            bump(&shared.counters.unauthorized);
            refused = true;
            Err(shared.auth.challenge())
        }
    };
    let handshake = tokio::time::timeout(
        shared.limits.handshake_timeout,
        tokio_tungstenite::accept_hdr_async_with_config(
            stream,
            callback,
            Some(shared.limits.websocket()),
        ),
    )
    .await;
    let mut ws = match handshake {
        Ok(Ok(ws)) => ws,
        Ok(Err(_)) if refused => return,
        _ => {
            bump(&shared.counters.handshake_failures);
            return;
        }
    };
    let origin = format!("ws {peer} {path}");
    loop {
        let next = tokio::select! {
            biased;
            _ = shutdown.changed() => {
                close(&mut ws, CloseCode::Away, "server shutting down").await;
                return;
            }
            next = tokio::time::timeout(shared.limits.idle_timeout, ws.next()) => next,
        };
        let step = match next {
            Err(_) => Next::Close(CloseCode::Normal, "idle timeout"),
            Ok(None) => Next::Stop,
            Ok(Some(Ok(message))) => handle(&mut ws, message, &origin, shared).await,
            Ok(Some(Err(e))) => match e {
                WsError::Capacity(_) => Next::Close(CloseCode::Size, "message too big"),
                WsError::Utf8(_) => Next::Close(CloseCode::Invalid, "text message is not UTF-8"),
                WsError::Protocol(_) => Next::Close(CloseCode::Protocol, "protocol violation"),
                _ => Next::Stop,
            },
        };
        match step {
            Next::Continue => {}
            Next::Stop => return,
            Next::Close(code, reason) => {
                bump(&shared.counters.closed_with_reason);
                tracing::debug!(%origin, reason, "closing connection");
                close(&mut ws, code, reason).await;
                return;
            }
        }
    }
}

async fn close<S>(ws: &mut WebSocketStream<S>, code: CloseCode, reason: &'static str)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let frame = CloseFrame {
        code,
        reason: reason.into(),
    };
    // Bounded: a peer that does not read must not hold the task.
    let _ = tokio::time::timeout(Duration::from_secs(1), ws.close(Some(frame))).await;
}

async fn handle<S>(
    ws: &mut WebSocketStream<S>,
    message: WsMessage,
    origin: &str,
    shared: &Shared,
) -> Next
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let counters = &shared.counters;
    let dead_letter = |raw: Vec<u8>, reason: String| DeadLetter {
        received_at: now(),
        origin: origin.to_owned(),
        reason,
        raw,
    };
    let letter = match message {
        WsMessage::Text(text) => match codec::decode_str(text.as_str()) {
            Ok(Message::Event(event)) => match shared.sink.accept(&event).await {
                Ok(Accepted::Stored) => {
                    bump(&counters.accepted);
                    None
                }
                Ok(Accepted::Duplicate) => {
                    bump(&counters.duplicates);
                    None
                }
                Err(e) => {
                    bump(&counters.sink_failures);
                    tracing::error!(error = %e, %origin, "event sink failed; not acknowledged");
                    return Next::Close(CloseCode::Error, "event storage failed; resend later");
                }
            },
            Ok(Message::Test) => {
                bump(&counters.tests);
                None
            }
            Ok(Message::UnknownTopic(topic)) => Some(dead_letter(
                text.as_bytes().to_vec(),
                format!("unknown topic {topic:?}"),
            )),
            Err(e) => Some(dead_letter(text.as_bytes().to_vec(), e.to_string())),
        },
        WsMessage::Binary(raw) => Some(dead_letter(
            raw.to_vec(),
            "binary message: counters send text".to_owned(),
        )),
        // Pongs to pings are queued by tungstenite and go out with the next write or read.
        WsMessage::Ping(_) | WsMessage::Pong(_) | WsMessage::Frame(_) => return Next::Continue,
        // tungstenite answers the close; the stream then ends.
        WsMessage::Close(_) => return Next::Continue,
    };
    if let Some(letter) = letter {
        tracing::debug!(%origin, reason = %letter.reason, "dead letter");
        if let Err(e) = shared.dead.dead_letter(letter).await {
            bump(&counters.sink_failures);
            tracing::error!(error = %e, %origin, "dead-letter sink failed; not acknowledged");
            return Next::Close(CloseCode::Error, "dead-letter storage failed; resend later");
        }
        bump(&counters.dead_lettered);
    }
    match ws.send(WsMessage::text(ACK)).await {
        Ok(()) => Next::Continue,
        Err(_) => Next::Stop,
    }
}
