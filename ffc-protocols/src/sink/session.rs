//! What receivers keep besides events, so availability can tell "connected and quiet" from
//! "offline": per counter, connection sessions and heartbeat or occupancy messages
//! ([`SessionRecord`]), and per kept event the time the receiver kept it (`received_utc`).
//!
//! The line format (the contract with `ffc_core`'s availability readers and `ffc health`):
//! one JSON object per line,
//! `{"counter":"<serial>","source":"ws|mqtt","kind":"connect|disconnect|heartbeat|occupancy","at_utc":"<RFC 3339>"}`.
//!
//! | kind | WebSocket ([`SessionSource::Ws`]) | MQTT ([`SessionSource::Mqtt`]) |
//! |---|---|---|
//! | `connect` | the counter's connection was upgraded (written with the upgrade time once its first message named the counter) | the first message of the counter on a subscriber connection (the counter's own broker connection is not visible to a subscriber) |
//! | `disconnect` | the counter's connection ended (closed, idle, failed, receiver shut down) | the subscriber's broker connection ended, for every counter heard on it |
//! | `heartbeat` | a ping or test message on the counter's connection | — |
//! | `occupancy` | — | an occupancy message |
//!
//! Heartbeats and occupancy messages are kept at most once per counter per minute
//! ([`SessionThrottle`]): availability is per minute, so more would add nothing.

use std::collections::HashMap;
use std::fmt;

use ffc_core::{CameraSerial, UnixSeconds};

/// The record types, shared with the readers in [`ffc_core::availability`].
pub use ffc_core::availability::{SessionKind, SessionRecord, SessionSource};

/// The name of `source` on the wire and in PostgreSQL (`ws`, `mqtt`).
pub const fn source_name(source: SessionSource) -> &'static str {
    match source {
        SessionSource::Ws => "ws",
        SessionSource::Mqtt => "mqtt",
    }
}

/// The name of `kind` on the wire and in PostgreSQL (`connect`, `disconnect`, `heartbeat`,
/// `occupancy`).
pub const fn kind_name(kind: SessionKind) -> &'static str {
    match kind {
        SessionKind::Connect => "connect",
        SessionKind::Disconnect => "disconnect",
        SessionKind::Heartbeat => "heartbeat",
        SessionKind::Occupancy => "occupancy",
    }
}

/// Where receivers take the time from: UTC unix seconds. [`Clock::system`] by default;
/// tests and simulations pass their own with [`Clock::new`].
#[derive(Clone)]
pub struct Clock(std::sync::Arc<dyn Fn() -> UnixSeconds + Send + Sync>);

impl Clock {
    /// The system's clock.
    pub fn system() -> Self {
        Clock::new(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
                .unwrap_or(0)
        })
    }

    /// A clock reading `now`.
    pub fn new(now: impl Fn() -> UnixSeconds + Send + Sync + 'static) -> Self {
        Clock(std::sync::Arc::new(now))
    }

    /// The time now (UTC unix seconds).
    pub fn now(&self) -> UnixSeconds {
        (self.0)()
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::system()
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Clock")
    }
}

/// Keeps heartbeats and occupancy messages to at most one per counter, source and kind per
/// UTC minute; connects and disconnects always pass.
#[derive(Debug, Default)]
pub struct SessionThrottle {
    last: HashMap<(CameraSerial, SessionSource, SessionKind), UnixSeconds>,
}

impl SessionThrottle {
    /// Counters remembered at most; past it the memory is cleared (a few extra records).
    const LIMIT: usize = 100_000;

    /// Whether `session` should be kept.
    pub fn admit(&mut self, session: &SessionRecord) -> bool {
        if matches!(session.kind, SessionKind::Connect | SessionKind::Disconnect) {
            return true;
        }
        let minute = session.at.div_euclid(60);
        let key = (session.counter, session.source, session.kind);
        if self.last.get(&key) == Some(&minute) {
            return false;
        }
        if self.last.len() >= Self::LIMIT {
            self.last.clear();
        }
        self.last.insert(key, minute);
        true
    }
}

/// RFC 3339 UTC (`2025-07-23T10:36:31Z`) for the `received_utc` field, as
/// [`ffc_core::availability`] reads and writes it.
pub(crate) mod rfc3339 {
    use ffc_core::UnixSeconds;

    /// `at` as `YYYY-MM-DDTHH:MM:SSZ`.
    pub(crate) fn format(at: UnixSeconds) -> String {
        ffc_core::availability::format_rfc3339(at).to_string()
    }

    /// Parses an RFC 3339 instant to UTC unix seconds.
    pub(crate) fn parse(text: &str) -> Result<UnixSeconds, String> {
        ffc_core::availability::parse_rfc3339(text)
            .map_err(|e| format!("received_utc {text:?}: {e}"))
    }
}
