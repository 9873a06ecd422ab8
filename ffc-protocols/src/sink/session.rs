//! What receivers keep besides events, so availability can tell "connected and quiet" from
//! "offline": per counter, connection sessions and heartbeat or occupancy messages
//! ([`Session`]), and per kept event the time the receiver kept it (`received_utc`).
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
use serde::{Deserialize, Serialize};

/// The path a session was seen on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SessionSource {
    /// The WebSocket receiver.
    Ws,
    /// The MQTT subscriber.
    Mqtt,
}

/// What happened (see the [module docs](self) for each source).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SessionKind {
    /// A connection began.
    Connect,
    /// A connection ended.
    Disconnect,
    /// A heartbeat or status message (ping, test message).
    Heartbeat,
    /// An occupancy message.
    Occupancy,
}

impl SessionKind {
    /// The name on the wire and in PostgreSQL.
    pub const fn as_str(self) -> &'static str {
        match self {
            SessionKind::Connect => "connect",
            SessionKind::Disconnect => "disconnect",
            SessionKind::Heartbeat => "heartbeat",
            SessionKind::Occupancy => "occupancy",
        }
    }
}

impl SessionSource {
    /// The name on the wire and in PostgreSQL.
    pub const fn as_str(self) -> &'static str {
        match self {
            SessionSource::Ws => "ws",
            SessionSource::Mqtt => "mqtt",
        }
    }
}

/// One session record of one counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Session {
    /// The counter.
    pub counter: CameraSerial,
    /// Where it was seen.
    pub source: SessionSource,
    /// What happened.
    pub kind: SessionKind,
    /// When (UTC), written as RFC 3339.
    #[serde(with = "rfc3339")]
    pub at_utc: UnixSeconds,
}

impl fmt::Display for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} at {}",
            self.counter,
            self.source.as_str(),
            self.kind.as_str(),
            rfc3339::format(self.at_utc)
        )
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
    pub fn admit(&mut self, session: &Session) -> bool {
        if matches!(session.kind, SessionKind::Connect | SessionKind::Disconnect) {
            return true;
        }
        let minute = session.at_utc.div_euclid(60);
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

/// RFC 3339 UTC (`2025-07-23T10:36:31Z`) for the `at_utc` and `received_utc` fields.
pub mod rfc3339 {
    use ffc_core::UnixSeconds;
    use serde::{Deserialize, Deserializer, Serializer};

    /// `at` as `YYYY-MM-DDTHH:MM:SSZ` (an instant chrono cannot hold as `"invalid"`).
    pub fn format(at: UnixSeconds) -> String {
        match chrono::DateTime::from_timestamp(at, 0) {
            Some(t) => t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            None => "invalid".to_owned(),
        }
    }

    /// Parses any RFC 3339 instant (any offset, fractions dropped) to UTC unix seconds.
    pub fn parse(text: &str) -> Result<UnixSeconds, String> {
        chrono::DateTime::parse_from_rfc3339(text)
            .map(|t| t.timestamp())
            .map_err(|e| format!("{text:?} is not an RFC 3339 instant: {e}"))
    }

    /// serde: writes [`format`].
    pub fn serialize<S: Serializer>(at: &UnixSeconds, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(*at))
    }

    /// serde: reads [`parse`].
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<UnixSeconds, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        parse(&text).map_err(serde::de::Error::custom)
    }
}
