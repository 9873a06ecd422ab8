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
//! - The UTC offset comes from the UTC and local strings (`UTCTime`/`LocalTime`, or the
//!   `EventEnd…` pair, else the `EventStart…` pair) via [`UtcOffset::between`]; a payload
//!   with neither pair is an error, not silently UTC.
//! - A UTC string that disagrees with its unix time is an error.
//! - `EventStartTime` may be missing: the start is then the end.
//! - Numbers sent as strings are an error (no silent coercion); `null` is the same as absent.
//! - `DeviceSerial` is accepted for `CameraSerial`; when both come they must agree.
//! - Occupancy `CombineObjectTypeId`, `OccupancyTypeId` and `ObjectCountUnit` are kept as
//!   sent (the sample uses 1; their other codes are not public).
//! - A payload with fields of both kinds, or of neither, is an error.

use alloc::borrow::Cow;
use alloc::string::String;
use core::fmt::{self, Write as _};

use ffc_core::time::{check_unix, naive_to_seconds, seconds_to_naive, Format};
use ffc_core::{
    CameraSerial, CountEvent, Metric, ObjectType, OccupancySample, PeopleId, PeopleType, RoiId,
    Source, UnixSeconds, UtcOffset,
};

pub use crate::fields::FieldProblem;
use crate::fields::{
    date_time, instant, required, serial as one_serial, unsigned, FieldError, Scalar,
};

/// What one payload says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Message {
    /// An occupancy reading of an area.
    Occupancy(OccupancySample),
    /// One counting event, with [`Source::Mqtt`].
    Count(CountEvent),
}

/// How a JSON syntax error broke the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SyntaxKind {
    /// Not JSON at this place.
    Syntax,
    /// The text ends before the JSON does: a truncated message.
    Truncated,
    /// JSON, but a field repeats or the top level is not an object.
    Structure,
}

/// Why a payload did not decode. Every variant names the place; the subscriber keeps the
/// payload as a dead letter (topic and bytes) with this text as the reason and goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DecodeError {
    /// The payload is not UTF-8; the first bad byte is at `offset`.
    Utf8 {
        /// Byte offset of the first invalid byte.
        offset: usize,
    },
    /// The payload does not start with `{` (after white space and comments).
    NotAnObject {
        /// Byte offset of the first other character (in the text without comments), or
        /// its length when there is none.
        offset: usize,
    },
    /// A string that never ends (found while stripping `#` comments).
    UnterminatedString {
        /// Byte offset of its opening quote.
        offset: usize,
    },
    /// JSON that does not parse (after comments are stripped; lines are kept).
    Syntax {
        /// What went wrong.
        kind: SyntaxKind,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// A field's value was refused.
    Field {
        /// The wire name of the field.
        field: &'static str,
        /// Why.
        problem: FieldProblem,
    },
    /// Fields of both kinds (`ObjectCount` and `MetricId`): the payload cannot be told apart.
    Ambiguous,
    /// Fields of neither kind: not an occupancy sample nor a counting event.
    Unrecognized,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Utf8 { offset } => write!(f, "not UTF-8 at byte {offset}"),
            DecodeError::NotAnObject { offset } => {
                write!(f, "expected a JSON object at byte {offset}")
            }
            DecodeError::UnterminatedString { offset } => {
                write!(f, "string opened at byte {offset} never ends")
            }
            DecodeError::Syntax { kind, line, column } => {
                let what = match kind {
                    SyntaxKind::Syntax => "JSON syntax error",
                    SyntaxKind::Truncated => "message ends early (truncated)",
                    SyntaxKind::Structure => "repeated field or not a JSON object",
                };
                write!(f, "{what} at line {line}, column {column}")
            }
            DecodeError::Field { field, problem } => write!(f, "field {field}: {problem}"),
            DecodeError::Ambiguous => f.write_str(
                "fields of both an occupancy sample (ObjectCount) and a counting event (MetricId)",
            ),
            DecodeError::Unrecognized => f.write_str(
                "neither an occupancy sample (ObjectCount, Timestamp) nor a counting event (MetricId, EventEndTime)",
            ),
        }
    }
}

impl core::error::Error for DecodeError {}

/// Why a message could not be encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EncodeError {
    /// An instant plus its offset is outside the years 1970..=9999, so its date-time
    /// strings cannot be written. Fix the value; nothing was written.
    TimeOutOfRange,
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncodeError::TimeOutOfRange => {
                f.write_str("time outside 1970..=9999 cannot be written as a date-time")
            }
        }
    }
}

impl core::error::Error for EncodeError {}

// ---------------------------------------------------------------------------------------
// Decoding.

/// Decodes one MQTT payload.
pub fn decode(bytes: &[u8]) -> Result<Message, DecodeError> {
    let text = core::str::from_utf8(bytes).map_err(|e| DecodeError::Utf8 {
        offset: e.valid_up_to(),
    })?;
    decode_str(text)
}

/// Decodes one payload already known to be UTF-8.
pub fn decode_str(text: &str) -> Result<Message, DecodeError> {
    // Devices send plain JSON; only the published samples carry comments, so the common
    // case parses the payload in place without copying it.
    if text.as_bytes().contains(&b'#') {
        let stripped = strip_comments(text)?;
        interpret(&parse_fields(&stripped)?)
    } else {
        interpret(&parse_fields(text)?)
    }
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

fn parse_fields(text: &str) -> Result<Fields<'_>, DecodeError> {
    // serde's derived structs also accept a JSON array; a payload is an object.
    match text.char_indices().find(|(_, c)| !c.is_whitespace()) {
        Some((_, '{')) => {}
        Some((offset, _)) => return Err(DecodeError::NotAnObject { offset }),
        None => return Err(DecodeError::NotAnObject { offset: text.len() }),
    }
    serde_json::from_str::<Fields<'_>>(text).map_err(|e| {
        let kind = match e.classify() {
            serde_json::error::Category::Eof => SyntaxKind::Truncated,
            serde_json::error::Category::Syntax => SyntaxKind::Syntax,
            _ => SyntaxKind::Structure,
        };
        DecodeError::Syntax {
            kind,
            line: e.line(),
            column: e.column(),
        }
    })
}

fn interpret(f: &Fields<'_>) -> Result<Message, DecodeError> {
    let occupancy = f.object_count.is_some() || f.timestamp.is_some();
    let counting = f.metric.is_some() || f.end.is_some();
    match (occupancy, counting) {
        (true, false) => occupancy_from(f).map(Message::Occupancy),
        (false, true) => event_from(f).map(Message::Count),
        (true, true) => Err(DecodeError::Ambiguous),
        (false, false) => Err(DecodeError::Unrecognized),
    }
}

impl From<FieldError> for DecodeError {
    fn from(e: FieldError) -> DecodeError {
        DecodeError::Field {
            field: e.field,
            problem: e.problem,
        }
    }
}

fn field_err(field: &'static str, problem: FieldProblem) -> DecodeError {
    DecodeError::Field { field, problem }
}

fn small<T: TryFrom<u64>>(
    value: &Option<Scalar<'_>>,
    field: &'static str,
) -> Result<T, DecodeError> {
    let v = unsigned(required(value, field)?, field)?;
    T::try_from(v).map_err(|_| field_err(field, FieldProblem::OutOfRange))
}

fn serial(f: &Fields<'_>) -> Result<CameraSerial, DecodeError> {
    match (&f.device_serial, &f.camera_serial) {
        (Some(d), Some(c)) => {
            let d = one_serial(d, "DeviceSerial")?;
            if one_serial(c, "CameraSerial")? != d {
                return Err(field_err(
                    "CameraSerial",
                    FieldProblem::Conflicts {
                        with: "DeviceSerial",
                    },
                ));
            }
            Ok(d)
        }
        (Some(d), None) => Ok(one_serial(d, "DeviceSerial")?),
        (None, Some(c)) => Ok(one_serial(c, "CameraSerial")?),
        (None, None) => Err(field_err("CameraSerial", FieldProblem::Missing)),
    }
}

/// The names of one UTC/local string pair and the unix time it restates.
struct Pair {
    utc: &'static str,
    local: &'static str,
    unix: &'static str,
}

/// The offset a UTC/local pair implies, after checking the UTC string against `unix`.
fn pair_offset(
    utc: &Option<Scalar<'_>>,
    local: &Option<Scalar<'_>>,
    unix: UnixSeconds,
    names: &Pair,
) -> Result<Option<UtcOffset>, DecodeError> {
    let utc = match utc {
        Some(u) => {
            let parsed = date_time(u, names.utc)?;
            if naive_to_seconds(parsed) != unix {
                return Err(field_err(
                    names.utc,
                    FieldProblem::Conflicts { with: names.unix },
                ));
            }
            parsed
        }
        None => return Ok(None),
    };
    match local {
        Some(l) => UtcOffset::between(utc, date_time(l, names.local)?)
            .map(Some)
            .map_err(|e| field_err(names.local, FieldProblem::Text(e))),
        None => Ok(None),
    }
}

const OCCUPANCY_PAIR: Pair = Pair {
    utc: "UTCTime",
    local: "LocalTime",
    unix: "Timestamp",
};
const END_PAIR: Pair = Pair {
    utc: "EventEndUTCTime",
    local: "EventEndLocalTime",
    unix: "EventEndTime",
};
const START_PAIR: Pair = Pair {
    utc: "EventStartUTCTime",
    local: "EventStartLocalTime",
    unix: "EventStartTime",
};

fn occupancy_from(f: &Fields<'_>) -> Result<OccupancySample, DecodeError> {
    let serial = serial(f)?;
    let roi = RoiId(small(&f.roi, "RoiId")?);
    let object_type = small(&f.object_type, "CombineObjectTypeId")?;
    let object_count = small(&f.object_count, "ObjectCount")?;
    let timestamp = instant(required(&f.timestamp, "Timestamp")?, "Timestamp")?;
    let offset =
        pair_offset(&f.utc_time, &f.local_time, timestamp, &OCCUPANCY_PAIR)?.ok_or(field_err(
            if f.utc_time.is_none() {
                "UTCTime"
            } else {
                "LocalTime"
            },
            FieldProblem::Missing,
        ))?;
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

fn event_from(f: &Fields<'_>) -> Result<CountEvent, DecodeError> {
    let serial = serial(f)?;
    let roi = RoiId(small(&f.roi, "RoiId")?);
    let metric = Metric::from_code(unsigned(required(&f.metric, "MetricId")?, "MetricId")?)
        .map_err(|e| field_err("MetricId", FieldProblem::Code(e)))?;
    let by_people_type = match &f.people_type {
        Some(v) => Some(
            PeopleType::from_code(unsigned(v, "PeopleTypeId")?)
                .map_err(|e| field_err("PeopleTypeId", FieldProblem::Code(e)))?,
        ),
        None => None,
    };
    let by_object_type = match &f.object_type {
        Some(v) => Some(
            ObjectType::from_code(unsigned(v, "CombineObjectTypeId")?)
                .map_err(|e| field_err("CombineObjectTypeId", FieldProblem::Code(e)))?
                .people_type(),
        ),
        None => None,
    };
    let people_type = match (by_people_type, by_object_type) {
        (Some(a), Some(b)) if a != b => {
            return Err(field_err(
                "CombineObjectTypeId",
                FieldProblem::Conflicts {
                    with: "PeopleTypeId",
                },
            ))
        }
        (Some(a), _) | (None, Some(a)) => a,
        (None, None) => return Err(field_err("PeopleTypeId", FieldProblem::Missing)),
    };
    let people_id = PeopleId(unsigned(required(&f.people_id, "PeopleId")?, "PeopleId")?);
    let end = instant(required(&f.end, "EventEndTime")?, "EventEndTime")?;
    let start = match &f.start {
        Some(v) => instant(v, "EventStartTime")?,
        None => end,
    };
    let end_offset = pair_offset(&f.end_utc, &f.end_local, end, &END_PAIR)?;
    let start_offset = pair_offset(&f.start_utc, &f.start_local, start, &START_PAIR)?;
    let offset = end_offset
        .or(start_offset)
        .ok_or(field_err("EventEndLocalTime", FieldProblem::Missing))?;
    Ok(CountEvent {
        serial,
        roi,
        metric,
        people_type,
        people_id,
        start,
        end,
        offset,
        uuid: None,
        source: Source::Mqtt,
    })
}

/// The fields of both payload kinds. Unknown fields are skipped; a repeated field is a
/// [`SyntaxKind::Structure`] error.
#[derive(serde::Deserialize)]
struct Fields<'a> {
    #[serde(rename = "CameraSerial", borrow, default)]
    camera_serial: Option<Scalar<'a>>,
    #[serde(rename = "DeviceSerial", borrow, default)]
    device_serial: Option<Scalar<'a>>,
    #[serde(rename = "RoiId", borrow, default)]
    roi: Option<Scalar<'a>>,
    #[serde(rename = "CombineObjectTypeId", borrow, default)]
    object_type: Option<Scalar<'a>>,
    // Occupancy.
    #[serde(rename = "ObjectCount", borrow, default)]
    object_count: Option<Scalar<'a>>,
    #[serde(rename = "Timestamp", borrow, default)]
    timestamp: Option<Scalar<'a>>,
    #[serde(rename = "LocalTime", borrow, default)]
    local_time: Option<Scalar<'a>>,
    #[serde(rename = "UTCTime", borrow, default)]
    utc_time: Option<Scalar<'a>>,
    #[serde(rename = "OccupancyTypeId", borrow, default)]
    occupancy_type: Option<Scalar<'a>>,
    #[serde(rename = "ObjectCountUnit", borrow, default)]
    unit: Option<Scalar<'a>>,
    // Counting.
    #[serde(rename = "MetricId", borrow, default)]
    metric: Option<Scalar<'a>>,
    #[serde(rename = "PeopleTypeId", borrow, default)]
    people_type: Option<Scalar<'a>>,
    #[serde(rename = "PeopleId", borrow, default)]
    people_id: Option<Scalar<'a>>,
    #[serde(rename = "EventStartTime", borrow, default)]
    start: Option<Scalar<'a>>,
    #[serde(rename = "EventEndTime", borrow, default)]
    end: Option<Scalar<'a>>,
    #[serde(rename = "EventStartUTCTime", borrow, default)]
    start_utc: Option<Scalar<'a>>,
    #[serde(rename = "EventStartLocalTime", borrow, default)]
    start_local: Option<Scalar<'a>>,
    #[serde(rename = "EventEndUTCTime", borrow, default)]
    end_utc: Option<Scalar<'a>>,
    #[serde(rename = "EventEndLocalTime", borrow, default)]
    end_local: Option<Scalar<'a>>,
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

/// A UTC instant and its local wall-clock time, ready to write.
fn wall_clocks(
    unix: UnixSeconds,
    offset: UtcOffset,
) -> Result<(chrono::NaiveDateTime, chrono::NaiveDateTime), EncodeError> {
    let utc = seconds_to_naive(unix).ok_or(EncodeError::TimeOutOfRange)?;
    let local = unix
        .checked_add(i64::from(offset.seconds()))
        .and_then(|s| check_unix(s).ok())
        .and_then(seconds_to_naive)
        .ok_or(EncodeError::TimeOutOfRange)?;
    check_unix(unix).map_err(|_| EncodeError::TimeOutOfRange)?;
    Ok((utc, local))
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
