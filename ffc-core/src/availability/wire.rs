//! The receivers' files as they are read back: each kept event with its receive time
//! (`received_utc`), and the connection sessions (`FILE.sessions`), plus RFC 3339 UTC
//! instants.

use core::fmt;

use crate::error::{Field, ParseError};
use crate::model::{CameraSerial, CountEvent};
use crate::time::{naive_to_seconds, parse_datetime, seconds_to_naive, UnixSeconds};

/// Which receiver saw a session record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum SessionSource {
    /// The WebSocket receiver (`ws`).
    Ws,
    /// The MQTT worker (`mqtt`).
    Mqtt,
}

/// What happened on a counter's connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum SessionKind {
    /// The counter connected (WebSocket handshake, or its first MQTT message).
    Connect,
    /// The connection closed.
    Disconnect,
    /// A heartbeat or status message.
    Heartbeat,
    /// An occupancy message.
    Occupancy,
}

/// One line of the sessions file `FILE.sessions`:
/// `{"counter":"<serial>","source":"ws|mqtt","kind":"connect|disconnect|heartbeat|occupancy","at_utc":"<RFC 3339>"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SessionRecord {
    /// The counter.
    pub counter: CameraSerial,
    /// Which receiver.
    pub source: SessionSource,
    /// What happened.
    pub kind: SessionKind,
    /// When (UTC unix seconds; RFC 3339 on the wire).
    #[cfg_attr(feature = "serde", serde(rename = "at_utc", with = "rfc3339"))]
    pub at: UnixSeconds,
}

/// One line of the events file: the event (FootfallCam's field names) and, when the
/// receiver recorded it, `received_utc` (RFC 3339), the instant it was kept. Files
/// written before receive times existed read with `received: None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ReceivedEvent {
    /// The event.
    #[cfg_attr(feature = "serde", serde(flatten))]
    pub event: CountEvent,
    /// When the receiver kept it (UTC unix seconds).
    #[cfg_attr(
        feature = "serde",
        serde(
            rename = "received_utc",
            default,
            with = "rfc3339_option",
            skip_serializing_if = "Option::is_none"
        )
    )]
    pub received: Option<UnixSeconds>,
}

/// Parses an RFC 3339 instant: `YYYY-MM-DDTHH:MM:SS`, optional fraction (dropped), then
/// `Z` or `±HH:MM`. A space is accepted for the `T`.
pub fn parse_rfc3339(text: &str) -> Result<UnixSeconds, ParseError> {
    let b = text.as_bytes();
    if b.len() < 20 {
        return Err(ParseError::Length {
            expected: 20,
            found: b.len(),
        });
    }
    let mut head = [0u8; 19];
    head.copy_from_slice(&b[..19]);
    if head[10] != b'T' && head[10] != b't' && head[10] != b' ' {
        return Err(ParseError::Character { position: 10 });
    }
    head[10] = b' ';
    let naive = core::str::from_utf8(&head)
        .map_err(|_| ParseError::Character { position: 0 })
        .and_then(parse_datetime)?;
    let mut rest = &b[19..];
    let mut at = 19usize;
    if rest.first() == Some(&b'.') {
        let digits = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 {
            return Err(ParseError::Character { position: 20 });
        }
        rest = &rest[1 + digits..];
        at += 1 + digits;
    }
    let offset = match rest {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let num = |x: &u8, y: &u8, p: usize| -> Result<i64, ParseError> {
                if x.is_ascii_digit() && y.is_ascii_digit() {
                    Ok(i64::from((x - b'0') * 10 + (y - b'0')))
                } else {
                    Err(ParseError::Character {
                        position: p.min(255) as u8,
                    })
                }
            };
            let (h, m) = (num(h1, h2, at + 1)?, num(m1, m2, at + 4)?);
            if h > 23 || m > 59 {
                return Err(ParseError::OutOfRange {
                    field: Field::Offset,
                });
            }
            (h * 3600 + m * 60) * if *sign == b'-' { -1 } else { 1 }
        }
        _ => {
            return Err(ParseError::Character {
                position: at.min(255) as u8,
            })
        }
    };
    Ok(naive_to_seconds(naive) - offset)
}

/// Writes `at` as RFC 3339 UTC, `YYYY-MM-DDTHH:MM:SSZ`.
pub fn format_rfc3339(at: UnixSeconds) -> impl fmt::Display {
    Rfc3339(at)
}

struct Rfc3339(UnixSeconds);

impl fmt::Display for Rfc3339 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use chrono::{Datelike, Timelike};
        match seconds_to_naive(self.0) {
            Some(d) => write!(
                f,
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
                d.year(),
                d.month(),
                d.day(),
                d.hour(),
                d.minute(),
                d.second()
            ),
            None => write!(f, "{}", self.0),
        }
    }
}

#[cfg(feature = "serde")]
mod rfc3339 {
    use super::{format_rfc3339, parse_rfc3339, UnixSeconds};

    pub fn serialize<S: serde::Serializer>(at: &UnixSeconds, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_rfc3339(*at))
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<UnixSeconds, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = UnixSeconds;
            fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str("an RFC 3339 instant")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<UnixSeconds, E> {
                parse_rfc3339(v).map_err(|e| E::custom(format_args!("{v:?}: {e}")))
            }
        }
        d.deserialize_str(Visitor)
    }
}

#[cfg(feature = "serde")]
mod rfc3339_option {
    use super::UnixSeconds;

    pub fn serialize<S: serde::Serializer>(
        at: &Option<UnixSeconds>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match at {
            Some(at) => super::rfc3339::serialize(at, s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(
        d: D,
    ) -> Result<Option<UnixSeconds>, D::Error> {
        #[derive(serde::Deserialize)]
        struct Wrap(#[serde(with = "super::rfc3339")] UnixSeconds);
        let v: Option<Wrap> = serde::Deserialize::deserialize(d)?;
        Ok(v.map(|w| w.0))
    }
}
