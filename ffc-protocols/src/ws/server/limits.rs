//! The receiver's limits.

use std::time::Duration;

use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

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
