//! The MQTT payload codec: bytes in, [`Message`] out, and back. Sans-IO and `alloc` only,
//! so the subscriber, the publisher simulator, firmware and the fuzz target share this one
//! copy (spec/interfaces.md §5).
//!
//! Both payload kinds arrive on the one configured topic and are told apart by their
//! fields: an occupancy sample has `ObjectCount` / `Timestamp`, a counting event has
//! `MetricId` / `EventEndTime`. The published samples carry `# comments`; they are
//! stripped (outside strings) before the JSON parser sees the text, keeping line breaks so
//! a later error's line is the input's line.
//!
//! ```
//! use ffc_protocols::mqtt::codec::{decode, encode, Message};
//! use ffc_core::{Metric, Source};
//!
//! // The published occupancy sample, comments and all.
//! let sample = br#"{
//!     "RoiId": 1,
//!     "CombineObjectTypeId": 1,
//!     "ObjectCount": 0, # 1 for Occupied and 0 for None
//!     "Timestamp": 1672889540, #UTCtime
//!     "LocalTime": "2023-01-05 11:32:20",
//!     "UTCTime": "2023-01-05 03:32:20",
//!     "OccupancyTypeId": 1,
//!     "ObjectCountUnit": 1,
//!     "CameraSerial": "100000008c76409d"
//! }"#;
//! let Message::Occupancy(sample) = decode(sample)? else { panic!("not occupancy") };
//! assert_eq!(sample.offset.seconds(), 8 * 3600);
//!
//! let counting = br#"{"CombineObjectTypeId": 11, "EventEndLocalTime": "2022-11-25 04:47:49",
//!   "EventEndTime": 1669351669, "EventEndUTCTime": "2022-11-25 04:47:49",
//!   "EventStartLocalTime": "2022-11-25 04:47:49", "EventStartTime": 1669351669,
//!   "EventStartUTCTime": "2022-11-25 04:47:49", "MetricId": 2, "PeopleId": 1,
//!   "PeopleTypeId": 1, "RoiId": 1, "CameraSerial": "000000007b77a260"}"#;
//! let Message::Count(event) = decode(counting)? else { panic!("not a count") };
//! assert_eq!(event.metric, Metric::Out);
//! assert_eq!(event.source, Source::Mqtt);
//!
//! // The publisher's encoding decodes to the same message.
//! let mut text = String::new();
//! encode(&Message::Count(event), &mut text)?;
//! assert_eq!(decode(text.as_bytes())?, Message::Count(event));
//! # Ok::<(), Box<dyn core::error::Error>>(())
//! ```
//!
//! DECISIONS (each kept here, so a real capture can correct it):
//! - The UTC offset comes from the local string against the UTC string (`UTCTime`/
//!   `LocalTime`, or the `EventEnd…` pair and the `EventStart…` pair), or against the unix
//!   time when the UTC string is absent, via
//!   [`UtcOffset::between`](ffc_core::UtcOffset::between); a payload with no local string is
//!   an error, not silently UTC.
//! - Fields that disagree are an error naming them, never coerced: a UTC string against
//!   its unix time, a local string that is not a whole number of quarter hours from its UTC
//!   time, the start's offset against the end's.
//! - `EventStartTime` may be missing: the start is then the end.
//! - Numbers sent as strings are an error (no silent coercion); `null` is the same as absent.
//! - `DeviceSerial` is accepted for `CameraSerial`; when both come they must agree.
//! - Occupancy `CombineObjectTypeId`, `OccupancyTypeId` and `ObjectCountUnit` are kept as
//!   sent (the sample uses 1; their other codes are not public).
//! - A payload with fields of both kinds, or of neither, is an error.
//! - The counting event's fields are the WebSocket ones and are read by the same code, so a
//!   `UUID` sent over MQTT is kept (and must be a UUID).

use alloc::borrow::Cow;
use alloc::string::String;
use core::fmt::{self, Write as _};

use ffc_core::time::Format;
use ffc_core::{CountEvent, OccupancySample, RoiId, Source};

use crate::fields::{
    count_event, counter_serial, instant, pair_offset, parse_fields, required, small, utf8,
    wall_clocks, Fields, PairNames, Payload, FLAT_NAMES,
};
pub use crate::fields::{EncodeError, FieldProblem, PayloadError, SyntaxKind};

mod split;
pub use split::split_payloads;

/// What one payload says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Message {
    /// An occupancy reading of an area.
    Occupancy(OccupancySample),
    /// One counting event, with [`Source::Mqtt`].
    Count(CountEvent),
}

/// Why an MQTT payload did not decode (see [`PayloadError`] for the variants every JSON
/// payload shares). The subscriber keeps the payload as a dead letter (topic and bytes)
/// with this text as the reason and goes on.
pub type DecodeError = PayloadError<Shape>;

/// What a well-formed MQTT payload can still be that is neither kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Shape {
    /// Fields of both kinds (`ObjectCount` and `MetricId`): the payload cannot be told apart.
    Ambiguous,
    /// Fields of neither kind: not an occupancy sample nor a counting event.
    Unrecognized,
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Shape::Ambiguous => {
                "fields of both an occupancy sample (ObjectCount) and a counting event (MetricId)"
            }
            Shape::Unrecognized => {
                "neither an occupancy sample (ObjectCount, Timestamp) nor a counting event (MetricId, EventEndTime)"
            }
        })
    }
}

// ---------------------------------------------------------------------------------------
// Decoding.

/// Decodes one MQTT payload.
pub fn decode(bytes: &[u8]) -> Result<Message, DecodeError> {
    decode_str(utf8::<Shape>(bytes)?)
}

/// Decodes one payload already known to be UTF-8.
pub fn decode_str(text: &str) -> Result<Message, DecodeError> {
    // Devices send plain JSON; only the published samples carry comments, so the common
    // case borrows the payload (`strip_comments` copies only when there is a `#`).
    let text = strip_comments(text)?;
    let mut payload = Payload::default();
    parse_fields::<Shape>(&text, &mut payload)?;
    interpret(&payload.top)
}

/// Removes `#` comments (to the end of the line) outside JSON strings, keeping the line
/// breaks, so the published samples parse as JSON.
pub fn strip_comments(text: &str) -> Result<Cow<'_, str>, DecodeError> {
    if !text.as_bytes().contains(&b'#') {
        return Ok(Cow::Borrowed(text));
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.char_indices();
    while let Some((at, c)) = chars.next() {
        match c {
            '"' => {
                out.push('"');
                let mut closed = false;
                while let Some((_, s)) = chars.next() {
                    out.push(s);
                    match s {
                        '\\' => {
                            if let Some((_, escaped)) = chars.next() {
                                out.push(escaped);
                            }
                        }
                        '"' => {
                            closed = true;
                            break;
                        }
                        _ => {}
                    }
                }
                if !closed {
                    return Err(DecodeError::UnterminatedString { offset: at });
                }
            }
            '#' => {
                for (_, s) in chars.by_ref() {
                    if s == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            other => out.push(other),
        }
    }
    Ok(Cow::Owned(out))
}

fn interpret(f: &Fields<'_>) -> Result<Message, DecodeError> {
    let occupancy = f.object_count.is_some() || f.timestamp.is_some();
    let counting = f.metric.is_some() || f.end.is_some();
    match (occupancy, counting) {
        (true, false) => occupancy_from(f).map(Message::Occupancy),
        (false, true) => Ok(Message::Count(count_event(f, &FLAT_NAMES, Source::Mqtt)?)),
        (true, true) => Err(DecodeError::Shape(Shape::Ambiguous)),
        (false, false) => Err(DecodeError::Shape(Shape::Unrecognized)),
    }
}

const OCCUPANCY_PAIR: PairNames = PairNames {
    utc: "UTCTime",
    local: "LocalTime",
    unix: "Timestamp",
};

fn occupancy_from(f: &Fields<'_>) -> Result<OccupancySample, DecodeError> {
    let serial = counter_serial(f, &FLAT_NAMES)?;
    let roi = RoiId(small(&f.roi, "RoiId")?);
    let object_type = small(&f.object_type, "CombineObjectTypeId")?;
    let object_count = small(&f.object_count, "ObjectCount")?;
    let timestamp = instant(required(&f.timestamp, "Timestamp")?, "Timestamp")?;
    let offset = pair_offset(&f.utc_time, &f.local_time, timestamp, &OCCUPANCY_PAIR)?.ok_or(
        DecodeError::Field {
            field: "LocalTime",
            problem: FieldProblem::Missing,
        },
    )?;
    let occupancy_type = small(&f.occupancy_type, "OccupancyTypeId")?;
    let unit = small(&f.unit, "ObjectCountUnit")?;
    Ok(OccupancySample {
        serial,
        roi,
        object_type,
        object_count,
        timestamp,
        offset,
        occupancy_type,
        unit,
    })
}

// ---------------------------------------------------------------------------------------
// Encoding.

/// Appends the JSON payload of `message` to `out` (what a counter publishes).
pub fn encode(message: &Message, out: &mut String) -> Result<(), EncodeError> {
    match message {
        Message::Occupancy(sample) => encode_occupancy(sample, out),
        Message::Count(event) => encode_count(event, out),
    }
}

/// Appends the occupancy payload of `sample`, in the published sample's field order.
pub fn encode_occupancy(sample: &OccupancySample, out: &mut String) -> Result<(), EncodeError> {
    let (utc, local) = wall_clocks(sample.timestamp, sample.offset)?;
    let dt = Format::DateTime;
    // Writing to a String cannot fail.
    let _ = write!(
        out,
        r#"{{"RoiId":{},"CombineObjectTypeId":{},"ObjectCount":{},"Timestamp":{},"LocalTime":"{}","UTCTime":"{}","OccupancyTypeId":{},"ObjectCountUnit":{},"CameraSerial":"{}"}}"#,
        sample.roi.0,
        sample.object_type,
        sample.object_count,
        sample.timestamp,
        dt.display(local),
        dt.display(utc),
        sample.occupancy_type,
        sample.unit,
        sample.serial,
    );
    Ok(())
}

/// Appends the counting payload of `event`, in the published sample's field order.
/// `uuid` and `source` are not part of the MQTT payload.
pub fn encode_count(event: &CountEvent, out: &mut String) -> Result<(), EncodeError> {
    let (end_utc, end_local) = wall_clocks(event.end, event.offset)?;
    let (start_utc, start_local) = wall_clocks(event.start, event.offset)?;
    let dt = Format::DateTime;
    let _ = write!(
        out,
        r#"{{"CombineObjectTypeId":{},"EventEndLocalTime":"{}","EventEndTime":{},"EventEndUTCTime":"{}","EventStartLocalTime":"{}","EventStartTime":{},"EventStartUTCTime":"{}","MetricId":{},"PeopleId":{},"PeopleTypeId":{},"RoiId":{},"CameraSerial":"{}"}}"#,
        event.people_type.object_type().code(),
        dt.display(end_local),
        event.end,
        dt.display(end_utc),
        dt.display(start_local),
        event.start,
        dt.display(start_utc),
        event.metric.code(),
        event.people_id.0,
        event.people_type.code(),
        event.roi.0,
        event.serial,
    );
    Ok(())
}

/// The fuzz and proptest entry point: decodes `data` (and its comment-stripped text) and,
/// when it decodes, checks that the publisher's encoding decodes back to the same message.
/// Panics only when an invariant is broken (that is the finding); never on bad input.
#[doc(hidden)]
pub fn check_decode(data: &[u8]) {
    if let Ok(text) = core::str::from_utf8(data) {
        if let Ok(stripped) = strip_comments(text) {
            // Stripping keeps every line break, so error lines point into the input.
            let lines = |s: &str| s.bytes().filter(|b| *b == b'\n').count();
            assert_eq!(lines(&stripped), lines(text), "line count of {text:?}");
        }
    }
    let Ok(message) = decode(data) else {
        return;
    };
    let mut out = String::new();
    if encode(&message, &mut out).is_ok() {
        assert_eq!(decode(out.as_bytes()), Ok(message), "round trip of {out}");
    }
}
