//! The WebSocket receiver counters push to (tokio-tungstenite): a thin transport over
//! the payload codec (`super::codec`) and an [`EventSink`].
//!
//! - Each text message is decoded; an event is answered `OK` **only after the sink accepted
//!   it** (stored or a duplicate by [`ffc_core::EventKey`]); a test message is answered and
//!   not counted; anything undecodable (and binary frames, unknown topics) goes to the
//!   [`DeadLetterSink`] with its raw bytes and the reason, then is answered `OK`, so a
//!   counter's queue never stalls. When a sink fails, the message is **not** answered and
//!   the connection is closed (1011): the counter resends later.
//! - Each event is kept with its receive time ([`EventSink::accept_received`], from
//!   [`ReceiverConfig::clock`]), and each connection's sessions go to [`EventSink::session`]:
//!   `connect` once its first event names the counter, `heartbeat` for pings and test
//!   messages (at most one a minute), `disconnect` when it ends (see [`crate::sink::session`]).
//! - Optional HTTP Basic and/or token authentication on the upgrade request (token as
//!   `Authorization: Bearer ..` or a `token` query parameter), compared in constant time;
//!   a request that satisfies no configured method gets `401` with `WWW-Authenticate`.
//! - Messages the WebSocket layer cannot hand over close the connection with a reason:
//!   over the size limit (1009), a text frame that is not UTF-8 (1007), a protocol
//!   violation (1002). Other connections are not affected.
//! - TLS (feature `tls`): set [`ReceiverConfig`]`.tls` to a `tokio_rustls::TlsAcceptor`
//!   (re-exported as `ffc_protocols::ws::server::tokio_rustls`); the TLS handshake counts
//!   against the handshake timeout.
//! - Pings are answered with pongs (the 3D Pro2's "Test Connection").
//! - [`Limits`] bound everything, with documented defaults.
//! - [`Receiver::run`] serves until its shutdown future resolves (for example
//!   [`crate::shutdown::signal`]); it and [`ReceiverHandle::shutdown`] stop accepting, lets each connection finish the message it
//!   is handling (sink and `OK`), closes it with 1001, and waits up to
//!   [`Limits::shutdown_grace`].
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use std::sync::Arc;
//! use ffc_protocols::sink::{MemoryDeadLetters, MemorySink};
//! use ffc_protocols::ws::server::{Auth, Receiver, ReceiverConfig};
//!
//! let sink = Arc::new(MemorySink::new());
//! let config = ReceiverConfig::new("127.0.0.1:0".parse()?)
//!     .with_auth(Auth::new().with_token("s3cret"));
//! let receiver = Receiver::bind(config, sink.clone(), Arc::new(MemoryDeadLetters::new())).await?;
//! // In a program: `receiver.run(ffc_protocols::shutdown::signal()).await?` serves until
//! // Ctrl-C or SIGTERM. Here: on a task, stopped through its handle.
//! let handle = receiver.spawn();
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
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;

use crate::sink::{Clock, DeadLetterSink, EventSink};

mod auth;
mod connection;
mod limits;
pub use auth::Auth;
use connection::connection;
pub use limits::Limits;

#[cfg(feature = "tls")]
pub use tokio_rustls;

/// The answer a counter waits for.
pub const ACK: &str = "OK";

/// A password or token: compared in constant time, never printed (ffc-core's one type).
pub use ffc_core::secret::Secret;

/// How the receiver is set up.
#[derive(Clone)]
#[non_exhaustive]
pub struct ReceiverConfig {
    /// Where to listen.
    pub bind: SocketAddr,
    /// Who may connect.
    pub auth: Auth,
    /// Limits.
    pub limits: Limits,
    /// TLS (feature `tls`): when set, only `wss://` is served.
    #[cfg(feature = "tls")]
    pub tls: Option<tokio_rustls::TlsAcceptor>,
    /// Where receive times and session times come from (default: the system clock).
    pub clock: Clock,
    /// Operating metrics (feature `metrics`): when set, the receiver counts events
    /// received, kept, acknowledged, dead-lettered, open connections and each counter's
    /// last event into them, and reports [`Health::Draining`](crate::metrics::Health) once
    /// it shuts down.
    #[cfg(feature = "metrics")]
    pub metrics: Option<crate::metrics::Metrics>,
}

impl fmt::Debug for ReceiverConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("ReceiverConfig");
        d.field("bind", &self.bind)
            .field("auth", &self.auth)
            .field("limits", &self.limits);
        #[cfg(feature = "tls")]
        d.field("tls", &self.tls.is_some());
        #[cfg(feature = "metrics")]
        d.field("metrics", &self.metrics.is_some());
        d.finish()
    }
}

impl ReceiverConfig {
    /// Listening on `bind`, no authentication, default limits, no TLS.
    pub fn new(bind: SocketAddr) -> Self {
        ReceiverConfig {
            bind,
            auth: Auth::new(),
            limits: Limits::default(),
            #[cfg(feature = "tls")]
            tls: None,
            clock: Clock::system(),
            #[cfg(feature = "metrics")]
            metrics: None,
        }
    }

    /// Takes receive and session times from `clock` (simulations, tests).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Counts into these metrics (`None`: none).
    #[cfg(feature = "metrics")]
    pub fn with_metrics(mut self, metrics: Option<crate::metrics::Metrics>) -> Self {
        self.metrics = metrics;
        self
    }

    /// Sets where to listen.
    pub fn with_bind(mut self, bind: SocketAddr) -> Self {
        self.bind = bind;
        self
    }

    /// Sets who may connect.
    pub fn with_auth(mut self, auth: Auth) -> Self {
        self.auth = auth;
        self
    }

    /// Sets the limits.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Serves only `wss://` through this acceptor (`None`: plain `ws://`).
    #[cfg(feature = "tls")]
    pub fn with_tls(mut self, tls: Option<tokio_rustls::TlsAcceptor>) -> Self {
        self.tls = tls;
        self
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

pub(super) fn bump(counter: &AtomicU64) {
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

pub(super) struct Shared {
    auth: Auth,
    limits: Limits,
    sink: Arc<dyn EventSink>,
    dead: Arc<dyn DeadLetterSink>,
    counters: Counters,
    clock: Clock,
    #[cfg(feature = "metrics")]
    metrics: Option<crate::metrics::Metrics>,
}

impl Shared {
    /// `n` messages answered `OK`.
    fn acknowledged(&self) {
        #[cfg(feature = "metrics")]
        if let Some(m) = &self.metrics {
            m.acknowledged(1);
        }
    }
}

/// Counts a connection open for as long as it lives, even when its task is aborted.
struct OpenConnection(Arc<Shared>);

impl OpenConnection {
    fn new(shared: Arc<Shared>) -> Self {
        bump(&shared.counters.open_connections);
        #[cfg(feature = "metrics")]
        if let Some(m) = &shared.metrics {
            m.connection_opened();
        }
        OpenConnection(shared)
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0
            .counters
            .open_connections
            .fetch_sub(1, Ordering::Relaxed);
        #[cfg(feature = "metrics")]
        if let Some(m) = &self.0.metrics {
            m.connection_closed();
        }
    }
}

/// A bound receiver, not yet serving.
pub struct Receiver {
    listener: TcpListener,
    shared: Arc<Shared>,
    #[cfg(feature = "tls")]
    tls: Option<tokio_rustls::TlsAcceptor>,
}

impl fmt::Debug for Receiver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("local_addr", &self.listener.local_addr().ok())
            .finish_non_exhaustive()
    }
}

impl Receiver {
    /// Binds the listening socket.
    pub async fn bind(
        config: ReceiverConfig,
        sink: Arc<dyn EventSink>,
        dead: Arc<dyn DeadLetterSink>,
    ) -> io::Result<Receiver> {
        let listener = TcpListener::bind(config.bind).await?;
        #[cfg(feature = "metrics")]
        let (sink, dead) = match &config.metrics {
            Some(m) => (m.observe_events(sink), m.observe_dead_letters(dead)),
            None => (sink, dead),
        };
        Ok(Receiver {
            listener,
            shared: Arc::new(Shared {
                auth: config.auth,
                limits: config.limits,
                sink,
                dead,
                counters: Counters::default(),
                clock: config.clock,
                #[cfg(feature = "metrics")]
                metrics: config.metrics,
            }),
            #[cfg(feature = "tls")]
            tls: config.tls,
        })
    }

    /// The address it listens on (useful after binding port 0).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` resolves (typically [`crate::shutdown::signal`]), then
    /// drains gracefully (see the module docs) and returns the final counters.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> io::Result<Stats> {
        let shared = self.shared.clone();
        let (tx, rx) = watch::channel(false);
        let serving = self.serve(rx);
        tokio::pin!(serving);
        tokio::select! {
            result = &mut serving => result?,
            () = shutdown => {
                tracing::info!("receiver shutting down: draining connections");
                let _ = tx.send(true);
                serving.await?;
            }
        }
        Ok(shared.counters.snapshot())
    }

    /// Serves on a spawned task; the handle reads the counters and shuts it down.
    pub fn spawn(self) -> ReceiverHandle {
        let (tx, rx) = watch::channel(false);
        let shared = self.shared.clone();
        let local_addr = self
            .listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)));
        let task = tokio::spawn(self.serve(rx));
        ReceiverHandle {
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
        let mut tasks = JoinSet::new();
        loop {
            let accepted = tokio::select! {
                accepted = self.listener.accept() => accepted,
                // Reap finished connection tasks as they end.
                Some(_) = tasks.join_next(), if !tasks.is_empty() => continue,
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
            tasks.spawn(async move {
                let _slot = slot;
                let _open = OpenConnection::new(shared.clone());
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
            });
        }
        self.drain(tasks).await;
        Ok(())
    }

    /// Graceful: waits up to [`Limits::shutdown_grace`] for the connections (each finishes
    /// the message in hand, then closes), then aborts those still running, so nothing
    /// outlives the receiver.
    async fn drain(&self, mut tasks: JoinSet<()>) {
        #[cfg(feature = "metrics")]
        if let Some(m) = &self.shared.metrics {
            m.set_health(crate::metrics::Health::Draining);
        }
        let grace = self.shared.limits.shutdown_grace;
        let all =
            tokio::time::timeout(grace, async { while tasks.join_next().await.is_some() {} }).await;
        if all.is_err() {
            tracing::warn!(
                still_open = tasks.len(),
                "shutdown grace elapsed with connections still open; closing them"
            );
            tasks.abort_all();
            while tasks.join_next().await.is_some() {}
        }
    }
}

/// A running receiver.
#[derive(Debug)]
pub struct ReceiverHandle {
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

impl ReceiverHandle {
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
