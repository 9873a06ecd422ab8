//! The WebSocket payload codec: bytes in, [`Message`] out, and back. Sans-IO and `alloc`
//! only, so the receiver, the counter-side sender, the simulators, firmware and the fuzz
//! target all share this one copy.
//!
//! Three forms decode (spec/interfaces.md §4):
//!
//! - the classic envelope `{"Topic": "ffc-eventrawdata", "Data": {..}}` in JSON,
//! - the same envelope in the Python-literal form FootfallCam published (single quotes,
//!   `True`/`False`/`None`), converted to JSON by [`python_literal_to_json`] first,
//! - the 3D Pro2 flat per-event form (`UUID`, `DeviceSerial`, `CombineObjectTypeId`).
//!
//! The test message (`Topic` `generic-test-topic`) decodes to [`Message::Test`]; any other
//! topic to [`Message::UnknownTopic`], so the caller decides (the receiver dead-letters it)
//! rather than the codec dropping it.
//!
//! ```
//! use ffc_protocols::ws::codec::{decode, encode_classic, Message};
//! use ffc_core::{Metric, Source};
//!
//! let sample = br#"{'Topic': 'ffc-eventrawdata', 'Data': {'EventStartUTCTime': '2020-06-17 03:16:41',
//!   'EventEndLocalTime': '2020-06-17 11:16:41', 'EventStartTime': 1592363801, 'MetricId': 1,
//!   'RoiId': 1, 'CameraSerial': '000000006afce315', 'PeopleId': 1,
//!   'EventEndUTCTime': '2020-06-17 03:16:41', 'UploadedLocalDateTime': '2020-06-17 11:16:45',
//!   'EventEndTime': 1592363801, 'EventStartLocalTime': '2020-06-17 11:16:41',
//!   'UploadedUTCDateTime': '2020-06-17 03:16:45', 'PeopleTypeId': 1}}"#;
//! let Message::Event(event) = decode(sample)? else { panic!("not an event") };
//! assert_eq!(event.metric, Metric::In);
//! assert_eq!(event.offset.seconds(), 8 * 3600);
//! assert_eq!(event.source, Source::WebSocket);
//!
//! // The sender's encoding decodes to the same event.
//! let mut text = String::new();
//! encode_classic(&event, &mut text)?;
//! assert_eq!(decode(text.as_bytes())?, Message::Event(event));
//! # Ok::<(), Box<dyn core::error::Error>>(())
//! ```
//!
//! DECISIONS (each kept here, so a real capture can correct it):
//! - `EventStartTime` may be missing (the public 3D Pro2 sample is cut short): the start is
//!   then the end.
//! - The UTC offset comes from `EventEndUTCTime` and `EventEndLocalTime`, else from the
//!   start pair; an event with neither pair is an error, not UTC.
//! - A `*UTCTime` string that disagrees with its unix time is an error.
//! - Numbers sent as strings are an error (no silent coercion); `null` is the same as absent.
//! - A flat message (no `Topic`) with `DeviceSerial` or `UUID` is a 3D Pro2 event; a flat
//!   message with only `CameraSerial` is a classic event sent without its envelope.

use alloc::boxed::Box;
use alloc::string::String;
use core::fmt::{self, Write as _};

use ffc_core::time::{check_unix, naive_to_seconds, parse_datetime, seconds_to_naive, Format};
use ffc_core::{
    CountEvent, MessageId, Metric, ObjectType, PeopleId, PeopleType, RoiId, Source, UnixSeconds,
    UtcOffset,
};
use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

pub use crate::fields::FieldProblem;
use crate::fields::{instant, required, serial, text, unsigned, FieldError, Scalar};

/// The topic of counting events in the classic envelope.
pub const EVENT_TOPIC: &str = "ffc-eventrawdata";
/// The topic of test messages: answered `OK`, never counted.
pub const TEST_TOPIC: &str = "generic-test-topic";
/// The test message the sender sends on "check connection". DECISION: the body of the
/// counter's own test message is not public; only its topic matters to a receiver.
pub const TEST_MESSAGE: &str = r#"{"Topic":"generic-test-topic","Data":{}}"#;

/// What one payload says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// One counting event, with its provenance in [`CountEvent::source`].
    Event(CountEvent),
    /// A `generic-test-topic` message: answer it, do not count it.
    Test,
    /// A well-formed envelope with a topic this codec does not know. The caller keeps it
    /// (the receiver dead-letters it) rather than dropping it.
    UnknownTopic(String),
}

/// How a JSON syntax error broke the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SyntaxKind {
    /// Not JSON at this place.
    Syntax,
    /// The text ends before the JSON does: a truncated message.
    Truncated,
    /// JSON, but a field repeats or the structure cannot hold an event.
    Structure,
}

/// Why a payload did not decode. Every variant names the place; the receiver stores the
/// payload as a dead letter with this text as the reason and acknowledges it, so a
/// counter's queue never stalls on one bad message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DecodeError {
    /// The payload is not UTF-8; the first bad byte is at `offset`.
    Utf8 {
        /// Byte offset of the first invalid byte.
        offset: usize,
    },
    /// The payload does not start with `{` (after white space).
    NotAnObject {
        /// Byte offset of the first other character, or the length when empty.
        offset: usize,
    },
    /// A Python-literal string that never ends.
    UnterminatedString {
        /// Byte offset of its opening quote.
        offset: usize,
    },
    /// JSON that does not parse. For the Python-literal form the place is in its JSON
    /// conversion, which keeps the lines.
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
        /// The wire name of the field (`Data.` in front when inside the envelope).
        field: &'static str,
        /// Why.
        problem: FieldProblem,
    },
    /// The envelope's topic is `ffc-eventrawdata` but `Data` is not an object.
    DataNotAnObject,
    /// No `Topic` and no serial: neither an envelope nor a flat event.
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
                    SyntaxKind::Structure => "repeated field or wrong structure",
                };
                write!(f, "{what} at line {line}, column {column}")
            }
            DecodeError::Field { field, problem } => write!(f, "field {field}: {problem}"),
            DecodeError::DataNotAnObject => {
                write!(f, "field Data: expected an object for topic {EVENT_TOPIC}")
            }
            DecodeError::Unrecognized => {
                f.write_str("neither a Topic envelope nor a flat event with a serial")
            }
        }
    }
}

impl core::error::Error for DecodeError {}

/// Why an event could not be encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EncodeError {
    /// The event's instant plus its offset is outside the years 1970..=9999, so its
    /// date-time strings cannot be written.
    TimeOutOfRange,
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncodeError::TimeOutOfRange => {
                f.write_str("event time outside 1970..=9999 cannot be written as a date-time")
            }
        }
    }
}

impl core::error::Error for EncodeError {}

// ---------------------------------------------------------------------------------------
// Decoding.

/// Decodes one payload (one WebSocket text message).
pub fn decode(bytes: &[u8]) -> Result<Message, DecodeError> {
    let text = core::str::from_utf8(bytes).map_err(|e| DecodeError::Utf8 {
        offset: e.valid_up_to(),
    })?;
    decode_str(text)
}

/// Decodes one payload already known to be UTF-8.
pub fn decode_str(text: &str) -> Result<Message, DecodeError> {
    let mut chars = text.char_indices().filter(|(_, c)| !c.is_whitespace());
    match chars.next() {
        Some((_, '{')) => {}
        Some((offset, _)) => return Err(DecodeError::NotAnObject { offset }),
        None => return Err(DecodeError::NotAnObject { offset: text.len() }),
    }
    if matches!(chars.next(), Some((_, '\''))) {
        let json = python_literal_to_json(text)?;
        let fields = parse_fields(&json)?;
        interpret(&fields)
    } else {
        let fields = parse_fields(text)?;
        interpret(&fields)
    }
}

fn parse_fields(text: &str) -> Result<Fields<'_>, DecodeError> {
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

fn interpret(fields: &Fields<'_>) -> Result<Message, DecodeError> {
    match &fields.topic {
        Some(Scalar::Str(topic)) => match topic.as_ref() {
            TEST_TOPIC => Ok(Message::Test),
            EVENT_TOPIC => match fields.data.as_deref() {
                Some(Data::Object(inner)) => {
                    event_from(inner, &ENVELOPE_NAMES, Source::WebSocket).map(Message::Event)
                }
                Some(Data::Other) => Err(DecodeError::DataNotAnObject),
                None => Err(DecodeError::Field {
                    field: "Data",
                    problem: FieldProblem::Missing,
                }),
            },
            other => Ok(Message::UnknownTopic(String::from(other))),
        },
        Some(_) => Err(DecodeError::Field {
            field: "Topic",
            problem: FieldProblem::WrongType {
                expected: "a string",
            },
        }),
        None => {
            let source = if fields.device_serial.is_some() || fields.uuid.is_some() {
                Source::WebSocketPro2
            } else if fields.camera_serial.is_some() {
                Source::WebSocket
            } else {
                return Err(DecodeError::Unrecognized);
            };
            event_from(fields, &FLAT_NAMES, source).map(Message::Event)
        }
    }
}

/// The wire names used in errors, with the `Data.` prefix inside the envelope.
struct Names {
    uuid: &'static str,
    camera_serial: &'static str,
    device_serial: &'static str,
    roi: &'static str,
    metric: &'static str,
    people_type: &'static str,
    object_type: &'static str,
    people_id: &'static str,
    start: &'static str,
    end: &'static str,
    start_utc: &'static str,
    start_local: &'static str,
    end_utc: &'static str,
    end_local: &'static str,
}

const FLAT_NAMES: Names = Names {
    uuid: "UUID",
    camera_serial: "CameraSerial",
    device_serial: "DeviceSerial",
    roi: "RoiId",
    metric: "MetricId",
    people_type: "PeopleTypeId",
    object_type: "CombineObjectTypeId",
    people_id: "PeopleId",
    start: "EventStartTime",
    end: "EventEndTime",
    start_utc: "EventStartUTCTime",
    start_local: "EventStartLocalTime",
    end_utc: "EventEndUTCTime",
    end_local: "EventEndLocalTime",
};

const ENVELOPE_NAMES: Names = Names {
    uuid: "Data.UUID",
    camera_serial: "Data.CameraSerial",
    device_serial: "Data.DeviceSerial",
    roi: "Data.RoiId",
    metric: "Data.MetricId",
    people_type: "Data.PeopleTypeId",
    object_type: "Data.CombineObjectTypeId",
    people_id: "Data.PeopleId",
    start: "Data.EventStartTime",
    end: "Data.EventEndTime",
    start_utc: "Data.EventStartUTCTime",
    start_local: "Data.EventStartLocalTime",
    end_utc: "Data.EventEndUTCTime",
    end_local: "Data.EventEndLocalTime",
};

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

/// Parses a `YYYY-MM-DD HH:MM:SS` field as wall-clock seconds.
fn wall_clock(value: &Scalar<'_>, field: &'static str) -> Result<i64, DecodeError> {
    parse_datetime(text(value, field)?)
        .map(naive_to_seconds)
        .map_err(|e| field_err(field, FieldProblem::Text(e)))
}

/// The offset a UTC/local pair implies, after checking the UTC string against `unix`.
fn pair_offset(
    utc: &Option<Scalar<'_>>,
    local: &Option<Scalar<'_>>,
    unix: UnixSeconds,
    utc_name: &'static str,
    local_name: &'static str,
    unix_name: &'static str,
) -> Result<Option<UtcOffset>, DecodeError> {
    if let Some(u) = utc {
        if wall_clock(u, utc_name)? != unix {
            return Err(field_err(
                utc_name,
                FieldProblem::Conflicts { with: unix_name },
            ));
        }
    }
    match (utc, local) {
        (Some(_), Some(l)) => {
            let local_seconds = wall_clock(l, local_name)?;
            let diff = local_seconds - unix;
            let diff =
                i32::try_from(diff).map_err(|_| field_err(local_name, FieldProblem::OutOfRange))?;
            UtcOffset::from_seconds(diff)
                .map(Some)
                .map_err(|e| field_err(local_name, FieldProblem::Text(e)))
        }
        _ => Ok(None),
    }
}

fn event_from(f: &Fields<'_>, n: &Names, source: Source) -> Result<CountEvent, DecodeError> {
    let serial = match (&f.device_serial, &f.camera_serial) {
        (Some(d), Some(c)) => {
            let d = serial(d, n.device_serial)?;
            if serial(c, n.camera_serial)? != d {
                return Err(field_err(
                    n.camera_serial,
                    FieldProblem::Conflicts {
                        with: n.device_serial,
                    },
                ));
            }
            d
        }
        (Some(d), None) => serial(d, n.device_serial)?,
        (None, Some(c)) => serial(c, n.camera_serial)?,
        (None, None) => return Err(field_err(n.device_serial, FieldProblem::Missing)),
    };
    let roi = unsigned(required(&f.roi, n.roi)?, n.roi)?;
    let roi = RoiId(u32::try_from(roi).map_err(|_| field_err(n.roi, FieldProblem::OutOfRange))?);
    let metric = Metric::from_code(unsigned(required(&f.metric, n.metric)?, n.metric)?)
        .map_err(|e| field_err(n.metric, FieldProblem::Code(e)))?;
    let by_people_type = match &f.people_type {
        Some(v) => Some(
            PeopleType::from_code(unsigned(v, n.people_type)?)
                .map_err(|e| field_err(n.people_type, FieldProblem::Code(e)))?,
        ),
        None => None,
    };
    let by_object_type = match &f.object_type {
        Some(v) => Some(
            ObjectType::from_code(unsigned(v, n.object_type)?)
                .map_err(|e| field_err(n.object_type, FieldProblem::Code(e)))?
                .people_type(),
        ),
        None => None,
    };
    let people_type = match (by_people_type, by_object_type) {
        (Some(a), Some(b)) if a != b => {
            return Err(field_err(
                n.object_type,
                FieldProblem::Conflicts {
                    with: n.people_type,
                },
            ))
        }
        (Some(a), _) | (None, Some(a)) => a,
        (None, None) => return Err(field_err(n.people_type, FieldProblem::Missing)),
    };
    let people_id = PeopleId(unsigned(required(&f.people_id, n.people_id)?, n.people_id)?);
    let end = instant(required(&f.end, n.end)?, n.end)?;
    let start = match &f.start {
        Some(v) => instant(v, n.start)?,
        None => end,
    };
    let end_offset = pair_offset(&f.end_utc, &f.end_local, end, n.end_utc, n.end_local, n.end)?;
    let start_offset = pair_offset(
        &f.start_utc,
        &f.start_local,
        start,
        n.start_utc,
        n.start_local,
        n.start,
    )?;
    let offset = end_offset
        .or(start_offset)
        .ok_or(field_err(n.end_local, FieldProblem::Missing))?;
    let uuid = match &f.uuid {
        Some(v) => Some(
            MessageId::try_parse(text(v, n.uuid)?)
                .map_err(|_| field_err(n.uuid, FieldProblem::Uuid))?,
        ),
        None => None,
    };
    Ok(CountEvent {
        serial,
        roi,
        metric,
        people_type,
        people_id,
        start,
        end,
        offset,
        uuid,
        source,
    })
}

/// The fields of one JSON object: the envelope's and the event's, so one struct reads both
/// the envelope and the flat form, and `Data` nests the same struct. Unknown fields are
/// skipped; a repeated field is a [`SyntaxKind::Structure`] error.
#[derive(serde::Deserialize)]
struct Fields<'a> {
    #[serde(rename = "Topic", borrow, default)]
    topic: Option<Scalar<'a>>,
    #[serde(rename = "Data", borrow, default)]
    data: Option<Box<Data<'a>>>,
    #[serde(rename = "UUID", borrow, default)]
    uuid: Option<Scalar<'a>>,
    #[serde(rename = "CameraSerial", borrow, default)]
    camera_serial: Option<Scalar<'a>>,
    #[serde(rename = "DeviceSerial", borrow, default)]
    device_serial: Option<Scalar<'a>>,
    #[serde(rename = "RoiId", borrow, default)]
    roi: Option<Scalar<'a>>,
    #[serde(rename = "MetricId", borrow, default)]
    metric: Option<Scalar<'a>>,
    #[serde(rename = "PeopleTypeId", borrow, default)]
    people_type: Option<Scalar<'a>>,
    #[serde(rename = "CombineObjectTypeId", borrow, default)]
    object_type: Option<Scalar<'a>>,
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

/// The envelope's `Data`: an object of event fields, or anything else.
#[allow(clippy::large_enum_variant)] // always behind the Box in `Fields::data`
enum Data<'a> {
    Object(Fields<'a>),
    Other,
}

impl<'de: 'a, 'a> Deserialize<'de> for Data<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DataVisitor;
        impl<'de> Visitor<'de> for DataVisitor {
            type Value = Data<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Data<'de>, A::Error> {
                Fields::deserialize(de::value::MapAccessDeserializer::new(map)).map(Data::Object)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Data<'de>, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Data::Other)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Data<'de>, E> {
                Ok(Data::Other)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Data<'de>, E> {
                Ok(Data::Other)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Data<'de>, E> {
                Ok(Data::Other)
            }
            fn visit_bool<E>(self, _: bool) -> Result<Data<'de>, E> {
                Ok(Data::Other)
            }
            fn visit_str<E>(self, _: &str) -> Result<Data<'de>, E> {
                Ok(Data::Other)
            }
        }
        deserializer.deserialize_any(DataVisitor)
    }
}

// ---------------------------------------------------------------------------------------
// The Python-literal form.

/// Converts the Python-literal form FootfallCam published (`{'Topic': 'x', 'Ok': True}`)
/// to JSON: single-quoted strings become double-quoted (a `"` inside is escaped, a `\'`
/// unescaped), `\xNN` becomes `\u00NN`, `True`/`False`/`None` outside strings become
/// `true`/`false`/`null`, and a trailing comma before `}` or `]` is dropped. Everything
/// else passes through for the JSON parser to judge; line breaks are kept, so a later
/// syntax error's line is the input's line.
pub fn python_literal_to_json(input: &str) -> Result<String, DecodeError> {
    let mut out = String::with_capacity(input.len() + 16);
    let mut chars = input.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        match c {
            '\'' | '"' => {
                out.push('"');
                copy_string(&mut chars, &mut out, c, at)?;
                out.push('"');
            }
            ',' => {
                let mut ahead = chars.clone();
                let next = ahead.find(|(_, c)| !c.is_whitespace());
                if !matches!(next, Some((_, '}' | ']'))) {
                    out.push(',');
                }
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let mut word = String::new();
                word.push(c);
                while let Some(&(_, n)) = chars.peek() {
                    if n.is_ascii_alphanumeric() || n == '_' {
                        word.push(n);
                        chars.next();
                    } else {
                        break;
                    }
                }
                out.push_str(match word.as_str() {
                    "True" => "true",
                    "False" => "false",
                    "None" => "null",
                    other => other,
                });
            }
            other => out.push(other),
        }
    }
    Ok(out)
}

/// Copies a Python string's body (after its opening `quote`) as a JSON string body.
fn copy_string(
    chars: &mut core::iter::Peekable<core::str::CharIndices<'_>>,
    out: &mut String,
    quote: char,
    opened_at: usize,
) -> Result<(), DecodeError> {
    let unterminated = DecodeError::UnterminatedString { offset: opened_at };
    loop {
        let (_, c) = chars.next().ok_or(unterminated)?;
        match c {
            c if c == quote => return Ok(()),
            '"' => out.push_str("\\\""),
            '\\' => {
                let (_, e) = chars.next().ok_or(unterminated)?;
                match e {
                    '\'' => out.push('\''),
                    'x' => {
                        let hi = chars.next().ok_or(unterminated)?.1;
                        let lo = chars.next().ok_or(unterminated)?.1;
                        out.push_str("\\u00");
                        out.push(hi);
                        out.push(lo);
                    }
                    other => {
                        out.push('\\');
                        out.push(other);
                    }
                }
            }
            other => out.push(other),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Encoding.

fn write_datetime(out: &mut String, seconds: i64) -> Result<(), EncodeError> {
    let dt = seconds_to_naive(seconds).ok_or(EncodeError::TimeOutOfRange)?;
    if check_unix(seconds).is_err() {
        return Err(EncodeError::TimeOutOfRange);
    }
    // Writing to a String cannot fail.
    let _ = write!(out, "\"{}\"", Format::DateTime.display(dt));
    Ok(())
}

fn write_times(out: &mut String, event: &CountEvent) -> Result<(), EncodeError> {
    let offset = i64::from(event.offset.seconds());
    out.push_str("\"EventStartUTCTime\":");
    write_datetime(out, event.start)?;
    out.push_str(",\"EventStartLocalTime\":");
    write_datetime(out, event.start + offset)?;
    let _ = write!(out, ",\"EventStartTime\":{}", event.start);
    out.push_str(",\"EventEndUTCTime\":");
    write_datetime(out, event.end)?;
    out.push_str(",\"EventEndLocalTime\":");
    write_datetime(out, event.end + offset)?;
    let _ = write!(out, ",\"EventEndTime\":{}", event.end);
    Ok(())
}

/// Appends the classic envelope `{"Topic":"ffc-eventrawdata","Data":{..}}` for `event` to
/// `out`, in JSON. A `UUID`, when the event has one, goes inside `Data` so the receiver's
/// key is the sender's. On error `out` may hold a partial message; clear it.
pub fn encode_classic(event: &CountEvent, out: &mut String) -> Result<(), EncodeError> {
    out.push_str("{\"Topic\":\"ffc-eventrawdata\",\"Data\":{");
    write_times(out, event)?;
    let _ = write!(
        out,
        ",\"MetricId\":{},\"RoiId\":{},\"CameraSerial\":\"{}\",\"PeopleId\":{},\"PeopleTypeId\":{}",
        event.metric.code(),
        event.roi.0,
        event.serial,
        event.people_id.0,
        event.people_type.code()
    );
    if let Some(id) = event.uuid {
        let _ = write!(out, ",\"UUID\":\"{}\"", id.hyphenated());
    }
    out.push_str("}}");
    Ok(())
}

/// Appends the 3D Pro2 flat form for `event` to `out`. Without a UUID the event cannot be
/// told from a resend by the receiver's key, so one is required: `uuid` is used when the
/// event has none.
pub fn encode_pro2(
    event: &CountEvent,
    uuid: MessageId,
    out: &mut String,
) -> Result<(), EncodeError> {
    let _ = write!(
        out,
        "{{\"UUID\":\"{}\",\"DeviceSerial\":\"{}\",\"RoiId\":{},\"MetricId\":{},\"PeopleTypeId\":{},\"CombineObjectTypeId\":{},\"PeopleId\":{},",
        event.uuid.unwrap_or(uuid).hyphenated(),
        event.serial,
        event.roi.0,
        event.metric.code(),
        event.people_type.code(),
        event.people_type.object_type().code(),
        event.people_id.0,
    );
    write_times(out, event)?;
    out.push('}');
    Ok(())
}

/// The fuzz and proptest entry point: decodes `data` and, when it is an event, checks that
/// the classic and 3D Pro2 encodings decode back to it. Panics only when an invariant is
/// broken (that is the finding); never on bad input.
#[doc(hidden)]
pub fn check_decode(data: &[u8]) {
    if let Ok(text) = core::str::from_utf8(data) {
        let _ = python_literal_to_json(text);
    }
    let Ok(Message::Event(event)) = decode(data) else {
        return;
    };
    let mut out = String::new();
    if encode_classic(&event, &mut out).is_ok() {
        let back = decode(out.as_bytes());
        let expected = CountEvent {
            source: Source::WebSocket,
            ..event
        };
        assert_eq!(
            back,
            Ok(Message::Event(expected)),
            "classic round trip of {out}"
        );
    }
    out.clear();
    if encode_pro2(&event, MessageId::nil(), &mut out).is_ok() {
        let back = decode(out.as_bytes());
        let expected = CountEvent {
            source: Source::WebSocketPro2,
            uuid: Some(event.uuid.unwrap_or(MessageId::nil())),
            ..event
        };
        assert_eq!(
            back,
            Ok(Message::Event(expected)),
            "Pro2 round trip of {out}"
        );
    }
}

#[cfg(all(test, feature = "std"))]
mod properties {
    use super::*;
    use ffc_core::CameraSerial;
    use proptest::prelude::*;

    const MAX_UNIX: i64 = 253_402_300_799;

    prop_compose! {
        fn any_event()(
            serial in any::<u64>(),
            roi in any::<u32>(),
            out in any::<bool>(),
            staff in any::<bool>(),
            people_id in any::<u64>(),
            end in 64_800i64..MAX_UNIX - 64_800,
            back in 0i64..10_000,
            offset in -64_800i32..=64_800,
            uuid in proptest::option::of(any::<u128>()),
        ) -> CountEvent {
            CountEvent {
                serial: CameraSerial::from_u64(serial),
                roi: RoiId(roi),
                metric: if out { Metric::Out } else { Metric::In },
                people_type: if staff { PeopleType::Staff } else { PeopleType::Visitor },
                people_id: PeopleId(people_id),
                start: (end - back).max(64_800),
                end,
                offset: UtcOffset::from_seconds(offset).unwrap(),
                uuid: uuid.map(MessageId::from_u128),
                source: Source::WebSocket,
            }
        }
    }

    proptest! {
        #[test]
        fn classic_encode_decode_round_trips(event in any_event()) {
            let mut text = String::new();
            encode_classic(&event, &mut text).unwrap();
            prop_assert_eq!(decode(text.as_bytes()), Ok(Message::Event(event)));
            // The Python-literal spelling of the same message decodes the same.
            let literal = text.replace('"', "'");
            prop_assert_eq!(decode(literal.as_bytes()), Ok(Message::Event(event)));
        }

        #[test]
        fn pro2_encode_decode_round_trips(event in any_event(), id in any::<u128>()) {
            let mut text = String::new();
            encode_pro2(&event, MessageId::from_u128(id), &mut text).unwrap();
            let expected = CountEvent {
                source: Source::WebSocketPro2,
                uuid: Some(event.uuid.unwrap_or(MessageId::from_u128(id))),
                ..event
            };
            prop_assert_eq!(decode(text.as_bytes()), Ok(Message::Event(expected)));
        }

        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..512)) {
            check_decode(&data);
        }

        #[test]
        fn damaged_events_never_panic(
            event in any_event(),
            cut in any::<prop::sample::Index>(),
            flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
        ) {
            let mut text = String::new();
            encode_classic(&event, &mut text).unwrap();
            let end = cut.index(text.len());
            // A cut message is an error, never an event.
            prop_assert!(!matches!(decode(&text.as_bytes()[..end]), Ok(Message::Event(_))));
            let mut bytes = text.into_bytes();
            for (at, byte) in flips {
                let i = at.index(bytes.len());
                bytes[i] = byte;
            }
            check_decode(&bytes);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ffc_core::CodeError;

    const CLASSIC_PY: &str = "{'Topic': 'ffc-eventrawdata', 'Data': {'EventStartUTCTime': '2020-06-17 03:16:41', 'EventEndLocalTime': '2020-06-17 11:16:41', 'EventStartTime': 1592363801, 'MetricId': 1, 'RoiId': 1, 'CameraSerial': '000000006afce315', 'PeopleId': 1, 'EventEndUTCTime': '2020-06-17 03:16:41', 'UploadedLocalDateTime': '2020-06-17 11:16:45', 'EventEndTime': 1592363801, 'EventStartLocalTime': '2020-06-17 11:16:41', 'UploadedUTCDateTime': '2020-06-17 03:16:45', 'PeopleTypeId': 1}}";
    const PRO2: &str = r#"{"UUID":"658a2443-72ba-422c-85dc-e4e10baa1288","DeviceSerial":"ecd5cc57d23c5c9f","RoiId":1,"MetricId":1,"PeopleTypeId":1,"CombineObjectTypeId":11,"PeopleId":1,"EventEndLocalTime":"2025-07-23 18:36:31","EventEndTime":1753266991,"EventEndUTCTime":"2025-07-23 10:36:31"}"#;

    fn classic_json() -> String {
        CLASSIC_PY.replace('\'', "\"")
    }

    fn event(m: Message) -> CountEvent {
        match m {
            Message::Event(e) => e,
            other => panic!("not an event: {other:?}"),
        }
    }

    #[test]
    fn published_classic_sample_in_both_forms() {
        let from_py = event(decode(CLASSIC_PY.as_bytes()).unwrap());
        let from_json = event(decode(classic_json().as_bytes()).unwrap());
        assert_eq!(from_py, from_json);
        assert_eq!(from_py.serial.to_string(), "000000006afce315");
        assert_eq!(from_py.roi, RoiId(1));
        assert_eq!(from_py.metric, Metric::In);
        assert_eq!(from_py.people_type, PeopleType::Visitor);
        assert_eq!(from_py.people_id, PeopleId(1));
        assert_eq!((from_py.start, from_py.end), (1_592_363_801, 1_592_363_801));
        assert_eq!(from_py.offset.seconds(), 8 * 3600);
        assert_eq!(from_py.uuid, None);
        assert_eq!(from_py.source, Source::WebSocket);
    }

    #[test]
    fn published_pro2_sample() {
        let e = event(decode(PRO2.as_bytes()).unwrap());
        assert_eq!(e.serial.to_string(), "ecd5cc57d23c5c9f");
        assert_eq!(
            e.uuid.unwrap().to_string(),
            "658a2443-72ba-422c-85dc-e4e10baa1288"
        );
        assert_eq!(e.start, 1_753_266_991);
        assert_eq!(e.end, 1_753_266_991);
        assert_eq!(e.offset.seconds(), 8 * 3600);
        assert_eq!(e.source, Source::WebSocketPro2);
        assert_eq!(e.people_type, PeopleType::Visitor);
    }

    #[test]
    fn test_and_unknown_topics() {
        assert_eq!(decode(TEST_MESSAGE.as_bytes()), Ok(Message::Test));
        assert_eq!(
            decode(b"{'Topic': 'generic-test-topic', 'Data': 'hello'}"),
            Ok(Message::Test)
        );
        assert_eq!(
            decode(br#"{"Topic":"ffc-occupancy","Data":{"x":1}}"#),
            Ok(Message::UnknownTopic("ffc-occupancy".into()))
        );
    }

    #[test]
    fn python_literal_conversion_handles_quotes_and_constants() {
        let json = python_literal_to_json(
            r#"{'a': 'it\'s "x"', "b": "don't", 'c': [True, False, None,], }"#,
        )
        .unwrap();
        assert_eq!(
            json,
            r#"{"a": "it's \"x\"", "b": "don't", "c": [true, false, null] }"#
        );
        // Words inside strings stay.
        assert_eq!(
            python_literal_to_json("{'a': 'True None'}").unwrap(),
            r#"{"a": "True None"}"#
        );
        assert_eq!(
            python_literal_to_json(r"{'a': '\x41'}").unwrap(),
            r#"{"a": "\u0041"}"#
        );
        assert_eq!(
            python_literal_to_json("{'a': 'open"),
            Err(DecodeError::UnterminatedString { offset: 6 })
        );
    }

    #[test]
    fn malformed_inputs_name_the_place() {
        assert_eq!(decode(b"\xff{}"), Err(DecodeError::Utf8 { offset: 0 }));
        assert_eq!(
            decode(b"{\"a\":\"\xc3\""),
            Err(DecodeError::Utf8 { offset: 6 })
        );
        assert_eq!(
            decode(b"  [1]"),
            Err(DecodeError::NotAnObject { offset: 2 })
        );
        assert_eq!(decode(b""), Err(DecodeError::NotAnObject { offset: 0 }));
        let truncated = &PRO2.as_bytes()[..PRO2.len() - 10];
        assert!(matches!(
            decode(truncated),
            Err(DecodeError::Syntax {
                kind: SyntaxKind::Truncated,
                line: 1,
                ..
            })
        ));
        assert!(matches!(
            decode(b"{garbage}"),
            Err(DecodeError::Syntax {
                kind: SyntaxKind::Syntax,
                line: 1,
                column: 2
            })
        ));
        assert!(matches!(
            decode(br#"{"RoiId":1,"RoiId":2,"CameraSerial":"0000000000000001"}"#),
            Err(DecodeError::Syntax {
                kind: SyntaxKind::Structure,
                ..
            })
        ));
        assert_eq!(decode(b"{}"), Err(DecodeError::Unrecognized));
        assert_eq!(
            decode(br#"{"Topic":"ffc-eventrawdata","Data":[1]}"#),
            Err(DecodeError::DataNotAnObject)
        );
        assert_eq!(
            decode(br#"{"Topic":"ffc-eventrawdata"}"#),
            Err(DecodeError::Field {
                field: "Data",
                problem: FieldProblem::Missing
            })
        );
        assert_eq!(
            decode(br#"{"Topic":7}"#),
            Err(DecodeError::Field {
                field: "Topic",
                problem: FieldProblem::WrongType {
                    expected: "a string",
                }
            })
        );
    }

    fn with(field: &str, value: &str) -> String {
        let base: serde_json::Map<String, serde_json::Value> = serde_json::from_str(PRO2).unwrap();
        let mut map = base.clone();
        if value.is_empty() {
            map.remove(field);
        } else {
            map.insert(field.into(), serde_json::from_str(value).unwrap());
        }
        serde_json::to_string(&map).unwrap()
    }

    fn field_problem(text: &str) -> (&'static str, FieldProblem) {
        match decode(text.as_bytes()) {
            Err(DecodeError::Field { field, problem }) => (field, problem),
            other => panic!("expected a field error, got {other:?}"),
        }
    }

    #[test]
    fn bad_fields_are_named() {
        assert_eq!(
            field_problem(&with("MetricId", "3")),
            ("MetricId", FieldProblem::Code(CodeError::Metric(3)))
        );
        assert_eq!(
            field_problem(&with("MetricId", "\"1\"")),
            (
                "MetricId",
                FieldProblem::WrongType {
                    expected: "a whole number"
                }
            )
        );
        assert_eq!(
            field_problem(&with("RoiId", "-1")),
            ("RoiId", FieldProblem::OutOfRange)
        );
        assert_eq!(
            field_problem(&with("RoiId", "4294967296")),
            ("RoiId", FieldProblem::OutOfRange)
        );
        assert_eq!(
            field_problem(&with("PeopleId", "")),
            ("PeopleId", FieldProblem::Missing)
        );
        assert_eq!(
            field_problem(&with("CombineObjectTypeId", "21")),
            (
                "CombineObjectTypeId",
                FieldProblem::Conflicts {
                    with: "PeopleTypeId"
                }
            )
        );
        assert_eq!(
            field_problem(&with("UUID", "\"not-a-uuid\"")),
            ("UUID", FieldProblem::Uuid)
        );
        assert_eq!(
            field_problem(&with("EventEndUTCTime", "\"2025-07-23 10:36:32\"")),
            (
                "EventEndUTCTime",
                FieldProblem::Conflicts {
                    with: "EventEndTime"
                }
            )
        );
        assert!(matches!(
            field_problem(&with("EventEndLocalTime", "\"2025-13-23 18:36:31\"")),
            ("EventEndLocalTime", FieldProblem::Text(_))
        ));
        assert_eq!(
            field_problem(&with("EventEndLocalTime", "")),
            ("EventEndLocalTime", FieldProblem::Missing)
        );
        assert!(matches!(
            field_problem(&with("DeviceSerial", "\"xyz\"")),
            ("DeviceSerial", FieldProblem::Text(_))
        ));
        assert_eq!(
            field_problem(&with("EventEndTime", "1e3")),
            (
                "EventEndTime",
                FieldProblem::WrongType {
                    expected: "a whole number"
                }
            )
        );
        let inside = classic_json().replace("\"MetricId\": 1", "\"MetricId\": 9");
        assert_eq!(
            field_problem(&inside),
            ("Data.MetricId", FieldProblem::Code(CodeError::Metric(9)))
        );
    }

    #[test]
    fn staff_by_object_type_alone() {
        let text = with("PeopleTypeId", "");
        let text = text.replace("\"CombineObjectTypeId\":11", "\"CombineObjectTypeId\":21");
        assert_eq!(
            event(decode(text.as_bytes()).unwrap()).people_type,
            PeopleType::Staff
        );
    }

    #[test]
    fn pro2_encoding_round_trips() {
        let e = event(decode(PRO2.as_bytes()).unwrap());
        let mut out = String::new();
        encode_pro2(&e, MessageId::nil(), &mut out).unwrap();
        assert_eq!(event(decode(out.as_bytes()).unwrap()), e);
    }
}
