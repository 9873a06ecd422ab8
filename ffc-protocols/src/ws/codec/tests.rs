//! Unit tests of the WebSocket payload codec on real payloads.

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
    let json =
        python_literal_to_json(r#"{'a': 'it\'s "x"', "b": "don't", 'c': [True, False, None,], }"#)
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
