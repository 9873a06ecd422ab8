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

use alloc::string::String;
use core::fmt::{self, Write as _};

use ffc_core::time::Format;
use ffc_core::{CountEvent, MessageId, Source};

use crate::fields::{
    count_event, expect_object, parse_fields, utf8, wall_clocks, Data, Fields, Scalar,
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
    if chars.next() == Some('\'') {
        let json = python_literal_to_json(text)?;
        interpret(&parse_fields::<Shape>(&json)?)
    } else {
        interpret(&parse_fields::<Shape>(text)?)
    }
}

fn interpret(fields: &Fields<'_>) -> Result<Message, DecodeError> {
    match &fields.topic {
        Some(Scalar::Str(topic)) => match topic.as_ref() {
            TEST_TOPIC => Ok(Message::Test),
            EVENT_TOPIC => match fields.data.as_deref() {
                Some(Data::Object(inner)) => Ok(Message::Event(count_event(
                    inner,
                    &ENVELOPE_NAMES,
                    Source::WebSocket,
                )?)),
                Some(Data::Other) => Err(DecodeError::Shape(Shape::DataNotAnObject)),
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
mod properties {
    use super::*;
    use ffc_core::{CameraSerial, Metric, PeopleId, PeopleType, RoiId, UtcOffset};
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
    use ffc_core::{CodeError, Metric, PeopleId, PeopleType, RoiId};

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
        assert_eq!(decode(b"{}"), Err(DecodeError::Shape(Shape::Unrecognized)));
        assert_eq!(
            decode(br#"{"Topic":"ffc-eventrawdata","Data":[1]}"#),
            Err(DecodeError::Shape(Shape::DataNotAnObject))
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
