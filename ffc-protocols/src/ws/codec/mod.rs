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
//! - The UTC offset comes from `EventEndLocalTime` against `EventEndUTCTime` (or, without
//!   it, against `EventEndTime`), and likewise from the start's fields; an event with no
//!   local text is an error, not UTC.
//! - Fields that disagree are an error naming them, never coerced: a `*UTCTime` string
//!   against its unix time; a `*LocalTime` that is not a whole number of quarter hours
//!   from its UTC time (a one-second slip would otherwise read as a +07:59:59 offset); a
//!   start offset different from the end offset.
//! - Numbers sent as strings are an error (no silent coercion); `null` is the same as absent.
//! - A flat message (no `Topic`) with `DeviceSerial` or `UUID` is a 3D Pro2 event; a flat
//!   message with only `CameraSerial` is a classic event sent without its envelope.

use alloc::string::String;
use core::fmt::{self, Write as _};

use ffc_core::time::Format;
use ffc_core::{CountEvent, MessageId, Source};

use crate::fields::{
    count_event, expect_object, parse_fields, utf8, wall_clocks, DataKind, Payload, Scalar,
    ENVELOPE_NAMES, FLAT_NAMES,
};
pub use crate::fields::{EncodeError, FieldProblem, PayloadError, SyntaxKind};

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

/// Why a WebSocket payload did not decode (see [`PayloadError`] for the variants every JSON
/// payload shares). The receiver stores the payload as a dead letter with this text as the
/// reason and acknowledges it, so a counter's queue never stalls on one bad message.
pub type DecodeError = PayloadError<Shape>;

/// What a well-formed WebSocket payload can still be that is not an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Shape {
    /// The envelope's topic is `ffc-eventrawdata` but `Data` is not an object.
    DataNotAnObject,
    /// No `Topic` and no serial: neither an envelope nor a flat event.
    Unrecognized,
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Shape::DataNotAnObject => {
                write!(f, "field Data: expected an object for topic {EVENT_TOPIC}")
            }
            Shape::Unrecognized => {
                f.write_str("neither a Topic envelope nor a flat event with a serial")
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Decoding.

/// Decodes one payload (one WebSocket text message).
pub fn decode(bytes: &[u8]) -> Result<Message, DecodeError> {
    decode_str(utf8::<Shape>(bytes)?)
}

/// Decodes one payload already known to be UTF-8.
pub fn decode_str(text: &str) -> Result<Message, DecodeError> {
    expect_object::<Shape>(text)?;
    // The Python-literal form opens its first key with a single quote.
    let mut chars = text.chars().filter(|c| !c.is_whitespace()).skip(1);
    let mut payload = Payload::default();
    if chars.next() == Some('\'') {
        let json = python_literal_to_json(text)?;
        parse_fields::<Shape>(&json, &mut payload)?;
        interpret(&payload)
    } else {
        parse_fields::<Shape>(text, &mut payload)?;
        interpret(&payload)
    }
}

fn interpret(payload: &Payload<'_>) -> Result<Message, DecodeError> {
    let fields = &payload.top;
    match &fields.topic {
        Some(Scalar::Str(topic)) => match topic.as_ref() {
            TEST_TOPIC => Ok(Message::Test),
            EVENT_TOPIC => match payload.data_kind {
                DataKind::Object => Ok(Message::Event(count_event(
                    &payload.data,
                    &ENVELOPE_NAMES,
                    Source::WebSocket,
                )?)),
                DataKind::Other => Err(DecodeError::Shape(Shape::DataNotAnObject)),
                DataKind::Absent => Err(DecodeError::Field {
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
                return Err(DecodeError::Shape(Shape::Unrecognized));
            };
            Ok(Message::Event(count_event(fields, &FLAT_NAMES, source)?))
        }
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

/// Writes the start and end pairs of `event` (UTC and local date-times, unix seconds).
fn write_times(out: &mut String, event: &CountEvent) -> Result<(), EncodeError> {
    let (start_utc, start_local) = wall_clocks(event.start, event.offset)?;
    let (end_utc, end_local) = wall_clocks(event.end, event.offset)?;
    let dt = Format::DateTime;
    // Writing to a String cannot fail.
    let _ = write!(
        out,
        r#""EventStartUTCTime":"{}","EventStartLocalTime":"{}","EventStartTime":{},"EventEndUTCTime":"{}","EventEndLocalTime":"{}","EventEndTime":{}"#,
        dt.display(start_utc),
        dt.display(start_local),
        event.start,
        dt.display(end_utc),
        dt.display(end_local),
        event.end,
    );
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
mod properties;
#[cfg(test)]
mod tests;
