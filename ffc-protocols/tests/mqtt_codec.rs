//! The MQTT payload codec: the published samples, byte vectors, malformed inputs with the
//! place they name, and proptest round trips (the same entry point as the fuzz target).

use ffc_core::{
    CameraSerial, CountEvent, Metric, OccupancySample, PeopleId, PeopleType, RoiId, Source,
    UtcOffset,
};
use ffc_protocols::mqtt::codec::{
    check_decode, decode, encode, strip_comments, DecodeError, FieldProblem, Message, Shape,
    SyntaxKind,
};
use proptest::prelude::*;

/// The occupancy sample exactly as published in the vendor document (with `#` comments).
const OCCUPANCY_SAMPLE: &str = r#"{
    "RoiId": 1,
    "CombineObjectTypeId": 1,
    "ObjectCount": 0, # 1 for Occupied and 0 for None
    "Timestamp": 1672889540, #UTCtime
    "LocalTime": "2023-01-05 11:32:20",
    "UTCTime": "2023-01-05 03:32:20",
    "OccupancyTypeId": 1,
    "ObjectCountUnit": 1,
    "CameraSerial": "100000008c76409d" 
}"#;

/// The counting sample as published.
const COUNTING_SAMPLE: &str = r#"{
    "CombineObjectTypeId": 11,
    "EventEndLocalTime": "2022-11-25 04:47:49",
    "EventEndTime": 1669351669,
    "EventEndUTCTime": "2022-11-25 04:47:49",
    "EventStartLocalTime": "2022-11-25 04:47:49",
    "EventStartTime": 1669351669,
    "EventStartUTCTime": "2022-11-25 04:47:49",
    "MetricId": 2,
    "PeopleId": 1,
    "PeopleTypeId": 1,
    "RoiId": 1,
    "CameraSerial": "000000007b77a260"
}"#;

fn serial(s: &str) -> CameraSerial {
    s.parse().unwrap()
}

#[test]
fn published_occupancy_sample_decodes() {
    let got = decode(OCCUPANCY_SAMPLE.as_bytes()).unwrap();
    assert_eq!(
        got,
        Message::Occupancy(OccupancySample {
            serial: serial("100000008c76409d"),
            roi: RoiId(1),
            object_type: 1,
            object_count: 0,
            timestamp: 1_672_889_540,
            offset: UtcOffset::from_seconds(8 * 3600).unwrap(),
            occupancy_type: 1,
            unit: 1,
        })
    );
}

#[test]
fn published_counting_sample_decodes() {
    let got = decode(COUNTING_SAMPLE.as_bytes()).unwrap();
    assert_eq!(
        got,
        Message::Count(CountEvent {
            serial: serial("000000007b77a260"),
            roi: RoiId(1),
            metric: Metric::Out,
            people_type: PeopleType::Visitor,
            people_id: PeopleId(1),
            start: 1_669_351_669,
            end: 1_669_351_669,
            offset: UtcOffset::UTC,
            uuid: None,
            source: Source::Mqtt,
        })
    );
}

#[test]
fn device_serial_is_accepted_and_must_agree() {
    let with_device = COUNTING_SAMPLE.replace("CameraSerial", "DeviceSerial");
    let Message::Count(e) = decode(with_device.as_bytes()).unwrap() else {
        panic!("not a count")
    };
    assert_eq!(e.serial, serial("000000007b77a260"));

    let both = COUNTING_SAMPLE.replace(
        r#""RoiId": 1,"#,
        r#""RoiId": 1, "DeviceSerial": "000000007b77a261","#,
    );
    assert_eq!(
        decode(both.as_bytes()),
        Err(DecodeError::Field {
            field: "CameraSerial",
            problem: FieldProblem::Conflicts {
                with: "DeviceSerial"
            }
        })
    );
}

#[test]
fn comments_inside_strings_are_kept() {
    let text = "{\"a\": \"x # not a comment\", # comment \"b\"\n \"c\": 1}";
    assert_eq!(
        strip_comments(text).unwrap(),
        "{\"a\": \"x # not a comment\", \n \"c\": 1}"
    );
    assert_eq!(
        strip_comments("{\"a\": \"open # }"),
        Err(DecodeError::UnterminatedString { offset: 6 })
    );
}

#[test]
fn kinds_are_told_apart_or_refused() {
    assert_eq!(
        decode(br#"{"RoiId": 1}"#),
        Err(DecodeError::Shape(Shape::Unrecognized))
    );
    let both = COUNTING_SAMPLE.replace(r#""RoiId": 1,"#, r#""RoiId": 1, "ObjectCount": 1,"#);
    assert_eq!(
        decode(both.as_bytes()),
        Err(DecodeError::Shape(Shape::Ambiguous))
    );
}

#[test]
fn malformed_inputs_name_the_place() {
    assert_eq!(
        decode(b"{\"a\":\xff}"),
        Err(DecodeError::Utf8 { offset: 5 })
    );
    assert_eq!(
        decode(b"{\"MetricId\": 1,\n \"x\" 2}"),
        Err(DecodeError::Syntax {
            kind: SyntaxKind::Syntax,
            line: 2,
            column: 6
        })
    );
    assert!(matches!(
        decode(&COUNTING_SAMPLE.as_bytes()[..60]),
        Err(DecodeError::Syntax {
            kind: SyntaxKind::Truncated,
            ..
        })
    ));
    assert_eq!(
        decode(b" [1, 2]"),
        Err(DecodeError::NotAnObject { offset: 1 })
    );
    assert_eq!(decode(b"  "), Err(DecodeError::NotAnObject { offset: 2 }));
    assert!(matches!(
        decode(br#"{"MetricId": 1, "MetricId": 2}"#),
        Err(DecodeError::Syntax {
            kind: SyntaxKind::Structure,
            ..
        })
    ));
    let cases: &[(&str, &str, &str, FieldProblem)] = &[
        (
            r#""MetricId": 2,"#,
            r#""MetricId": 3,"#,
            "MetricId",
            FieldProblem::Code(ffc_core::CodeError::Metric(3)),
        ),
        (
            r#""MetricId": 2,"#,
            r#""MetricId": "2","#,
            "MetricId",
            FieldProblem::WrongType {
                expected: "a whole number",
            },
        ),
        (
            r#""RoiId": 1,"#,
            r#""RoiId": 4294967296,"#,
            "RoiId",
            FieldProblem::OutOfRange,
        ),
        (
            r#""PeopleId": 1,"#,
            r#""PeopleId": -1,"#,
            "PeopleId",
            FieldProblem::OutOfRange,
        ),
        (
            r#""CombineObjectTypeId": 11,"#,
            r#""CombineObjectTypeId": 21,"#,
            "CombineObjectTypeId",
            FieldProblem::Conflicts {
                with: "PeopleTypeId",
            },
        ),
        (
            r#""EventEndUTCTime": "2022-11-25 04:47:49","#,
            r#""EventEndUTCTime": "2022-11-25 04:47:50","#,
            "EventEndUTCTime",
            FieldProblem::Conflicts {
                with: "EventEndTime",
            },
        ),
        (
            r#""CameraSerial": "000000007b77a260""#,
            r#""CameraSerial": "000000007b77a2""#,
            "CameraSerial",
            FieldProblem::Text(ffc_core::ParseError::Length {
                expected: 16,
                found: 14,
            }),
        ),
    ];
    for (from, to, field, problem) in cases {
        let text = COUNTING_SAMPLE.replace(from, to);
        assert_eq!(
            decode(text.as_bytes()),
            Err(DecodeError::Field {
                field,
                problem: *problem
            }),
            "{to}"
        );
    }
    // An occupancy sample without its local time has no offset: an error, not UTC.
    let no_local = OCCUPANCY_SAMPLE.replace(r#""LocalTime": "2023-01-05 11:32:20","#, "");
    assert_eq!(
        decode(no_local.as_bytes()),
        Err(DecodeError::Field {
            field: "LocalTime",
            problem: FieldProblem::Missing
        })
    );
    let null_serial = OCCUPANCY_SAMPLE.replace(r#""100000008c76409d""#, "null");
    assert_eq!(
        decode(null_serial.as_bytes()),
        Err(DecodeError::Field {
            field: "CameraSerial",
            problem: FieldProblem::Missing
        })
    );
}

#[test]
fn encodes_byte_exact() {
    let Message::Count(e) = decode(COUNTING_SAMPLE.as_bytes()).unwrap() else {
        panic!()
    };
    let mut out = String::new();
    encode(&Message::Count(e), &mut out).unwrap();
    assert_eq!(
        out,
        r#"{"CombineObjectTypeId":11,"EventEndLocalTime":"2022-11-25 04:47:49","EventEndTime":1669351669,"EventEndUTCTime":"2022-11-25 04:47:49","EventStartLocalTime":"2022-11-25 04:47:49","EventStartTime":1669351669,"EventStartUTCTime":"2022-11-25 04:47:49","MetricId":2,"PeopleId":1,"PeopleTypeId":1,"RoiId":1,"CameraSerial":"000000007b77a260"}"#
    );
    let m = decode(OCCUPANCY_SAMPLE.as_bytes()).unwrap();
    let mut out = String::new();
    encode(&m, &mut out).unwrap();
    assert_eq!(
        out,
        r#"{"RoiId":1,"CombineObjectTypeId":1,"ObjectCount":0,"Timestamp":1672889540,"LocalTime":"2023-01-05 11:32:20","UTCTime":"2023-01-05 03:32:20","OccupancyTypeId":1,"ObjectCountUnit":1,"CameraSerial":"100000008c76409d"}"#
    );
}

#[test]
fn encode_refuses_times_it_cannot_write() {
    let Message::Count(mut e) = decode(COUNTING_SAMPLE.as_bytes()).unwrap() else {
        panic!()
    };
    e.end = 253_402_300_799; // 9999-12-31 23:59:59 UTC
    e.offset = UtcOffset::from_seconds(3600).unwrap();
    let mut out = String::new();
    assert!(encode(&Message::Count(e), &mut out).is_err());
    assert!(out.is_empty());
}

// ---------------------------------------------------------------------------------------
// Properties.

fn arb_offset() -> impl Strategy<Value = UtcOffset> {
    (-12 * 4..=14 * 4i32).prop_map(|q| UtcOffset::from_seconds(q * 900).unwrap())
}

fn arb_event() -> impl Strategy<Value = CountEvent> {
    (
        any::<u64>(),
        any::<u32>(),
        prop_oneof![Just(Metric::In), Just(Metric::Out)],
        prop_oneof![Just(PeopleType::Visitor), Just(PeopleType::Staff)],
        any::<u64>(),
        86_400i64..200_000_000_000,
        0i64..100_000,
        arb_offset(),
    )
        .prop_map(
            |(s, roi, metric, people_type, pid, end, dur, offset)| CountEvent {
                serial: CameraSerial::from_u64(s),
                roi: RoiId(roi),
                metric,
                people_type,
                people_id: PeopleId(pid),
                start: end - dur.min(end),
                end,
                offset,
                uuid: None,
                source: Source::Mqtt,
            },
        )
}

fn arb_sample() -> impl Strategy<Value = OccupancySample> {
    (
        any::<u64>(),
        any::<u32>(),
        any::<u8>(),
        any::<u32>(),
        86_400i64..200_000_000_000,
        arb_offset(),
        any::<u8>(),
        any::<u8>(),
    )
        .prop_map(
            |(s, roi, object_type, object_count, timestamp, offset, occupancy_type, unit)| {
                OccupancySample {
                    serial: CameraSerial::from_u64(s),
                    roi: RoiId(roi),
                    object_type,
                    object_count,
                    timestamp,
                    offset,
                    occupancy_type,
                    unit,
                }
            },
        )
}

fn arb_message() -> impl Strategy<Value = Message> {
    prop_oneof![
        arb_event().prop_map(Message::Count),
        arb_sample().prop_map(Message::Occupancy)
    ]
}

proptest! {
    #[test]
    fn encode_then_decode_is_identity(m in arb_message()) {
        let mut text = String::new();
        encode(&m, &mut text).unwrap();
        prop_assert_eq!(decode(text.as_bytes()), Ok(m));
    }

    #[test]
    fn comments_and_spacing_do_not_change_the_result(m in arb_message(), comment in "[ -~&&[^\n]]{0,20}") {
        let mut text = String::new();
        encode(&m, &mut text).unwrap();
        // A comment after every comma, as in the published samples.
        let commented = text.replace(",\"", &format!(", # {comment}\n  \""));
        prop_assert_eq!(decode(commented.as_bytes()), Ok(m));
    }

    /// The fuzz target's entry point: never panics, whatever the bytes.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        check_decode(&bytes);
    }

    /// Printable text with the payload's field names, comments and quotes: reaches the
    /// field checks far more often than random bytes.
    #[test]
    fn field_soup_never_panics(parts in proptest::collection::vec(prop_oneof![
        Just("{".to_string()), Just("}".to_string()), Just(",".to_string()), Just(":".to_string()),
        Just("\"MetricId\"".to_string()), Just("\"ObjectCount\"".to_string()),
        Just("\"CameraSerial\"".to_string()), Just("\"EventEndTime\"".to_string()),
        Just("\"Timestamp\"".to_string()), Just("\"UTCTime\"".to_string()),
        Just("\"LocalTime\"".to_string()), Just("# c\n".to_string()), Just("\"".to_string()),
        Just("\"2023-01-05 03:32:20\"".to_string()), Just("\"100000008c76409d\"".to_string()),
        (0u64..3_000_000_000).prop_map(|n| n.to_string()),
    ], 0..40)) {
        check_decode(parts.concat().as_bytes());
    }

    /// Mutating one byte of a valid payload gives a message or a typed error, never a panic;
    /// and whatever decodes re-encodes to something that decodes the same.
    #[test]
    fn mutated_payloads_decode_or_err(m in arb_message(), at in any::<prop::sample::Index>(), b in any::<u8>()) {
        let mut text = String::new();
        encode(&m, &mut text).unwrap();
        let mut bytes = text.into_bytes();
        let i = at.index(bytes.len());
        bytes[i] = b;
        if let Ok(decoded) = decode(&bytes) {
            let mut again = String::new();
            if encode(&decoded, &mut again).is_ok() {
                prop_assert_eq!(decode(again.as_bytes()), Ok(decoded));
            }
        }
    }
}
