//! The receiver's limits.

use std::time::Duration;

use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// The receiver's limits (invariant 5 of DESIGN.md). The defaults suit thousands of
/// counters each sending small JSON messages one at a time.
///
/// Built with `Default` and the `with_*` setters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
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
    /// How long [`ReceiverHandle::shutdown`](super::ReceiverHandle::shutdown) waits for connections to finish. Default 10 s.
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
    /// Sets the largest message (and frame) accepted.
    pub fn with_max_message_bytes(mut self, max_message_bytes: usize) -> Self {
        self.max_message_bytes = max_message_bytes;
        self
    }

    /// Sets the per-connection read buffer.
    pub fn with_read_buffer_bytes(mut self, read_buffer_bytes: usize) -> Self {
        self.read_buffer_bytes = read_buffer_bytes;
        self
    }

    /// Sets the time a connection has to finish the upgrade.
    pub fn with_handshake_timeout(mut self, handshake_timeout: Duration) -> Self {
        self.handshake_timeout = handshake_timeout;
        self
    }

    /// Sets how long a silent connection stays open.
    pub fn with_idle_timeout(mut self, idle_timeout: Duration) -> Self {
        self.idle_timeout = idle_timeout;
        self
    }

    /// Sets how many connections may be open at once.
    pub fn with_max_connections(mut self, max_connections: usize) -> Self {
        self.max_connections = max_connections;
        self
    }

    /// Sets how long a shutdown waits for connections to finish.
    pub fn with_shutdown_grace(mut self, shutdown_grace: Duration) -> Self {
        self.shutdown_grace = shutdown_grace;
        self
    }

    pub(super) fn websocket(&self) -> WebSocketConfig {
        WebSocketConfig::default()
            .read_buffer_size(self.read_buffer_bytes)
            // Each answer is written at once: `OK` must not wait in a buffer.
            .write_buffer_size(0)
            .max_write_buffer_size(self.max_message_bytes.saturating_add(1024))
            .max_message_size(Some(self.max_message_bytes))
            .max_frame_size(Some(self.max_message_bytes))
    }
}
