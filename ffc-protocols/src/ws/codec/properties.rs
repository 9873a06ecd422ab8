//! Property tests of the WebSocket payload codec.

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
        // Offsets in use are whole quarter hours (see `OFFSET_GRANULARITY`).
        offset in (-72i32..=72).prop_map(|q| q * 900),
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

/// How one time text of a pair is sent: absent, right, or off by its own delta.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sent {
    Absent,
    Right,
    Off,
}

fn any_sent() -> impl Strategy<Value = Sent> {
    prop_oneof![Just(Sent::Absent), Just(Sent::Right), Just(Sent::Off)]
}

/// One pair as sent: the unix time (maybe off by `d`), the UTC text (off by `2d`) and the
/// local text (off by `3d`). Distinct deltas, so two wrong fields never agree by chance,
/// and |3d| < 900, so no slip is a whole quarter hour.
#[derive(Debug, Clone, Copy)]
struct PairSent {
    unix_off: bool,
    utc: Sent,
    local: Sent,
}

impl PairSent {
    /// Whether a wrong field has a present field to disagree with.
    fn detectable(self) -> bool {
        let present =
            1 + usize::from(self.utc != Sent::Absent) + usize::from(self.local != Sent::Absent);
        let wrong = self.unix_off || self.utc == Sent::Off || self.local == Sent::Off;
        wrong && present >= 2
    }
}

fn any_pair() -> impl Strategy<Value = PairSent> {
    (any::<bool>(), any_sent(), any_sent()).prop_map(|(unix_off, utc, local)| PairSent {
        unix_off,
        utc,
        local,
    })
}

fn text_at(s: i64) -> String {
    ffc_core::time::Format::DateTime
        .display(ffc_core::time::seconds_to_naive(s).unwrap())
        .to_string()
}

fn pair_json(out: &mut String, prefix: &str, at: i64, offset: i32, p: PairSent, d: i64) {
    use core::fmt::Write as _;
    let unix = if p.unix_off { at + d } else { at };
    let _ = write!(out, r#","{prefix}Time":{unix}"#);
    let shifted = |sent: Sent, base: i64, delta: i64| match sent {
        Sent::Absent => None,
        Sent::Right => Some(text_at(base)),
        Sent::Off => Some(text_at(base + delta)),
    };
    if let Some(t) = shifted(p.utc, at, 2 * d) {
        let _ = write!(out, r#","{prefix}UTCTime":"{t}""#);
    }
    if let Some(t) = shifted(p.local, at + i64::from(offset), 3 * d) {
        let _ = write!(out, r#","{prefix}LocalTime":"{t}""#);
    }
}

proptest! {
    /// Issue 19 item 4: over every combination of present, right and wrong end/start time
    /// fields (unix, UTC text, local text), a disagreement that can be seen is an error
    /// naming a field of the pair it is in, and no decoded offset is ever anything but a
    /// whole quarter hour (never 28,799 s from a one-second slip).
    #[test]
    fn disagreeing_time_fields_are_refused_by_name(
        event in any_event(),
        end in any_pair(),
        start in any_pair(),
        d in (1i64..300).prop_flat_map(|d| prop_oneof![Just(d), Just(-d)]),
    ) {
        let event = CountEvent { start: event.end - 5, ..event };
        let mut text = format!(
            r#"{{"Topic":"ffc-eventrawdata","Data":{{"CameraSerial":"{}","RoiId":1,"MetricId":1,"PeopleTypeId":1,"PeopleId":7"#,
            event.serial
        );
        pair_json(&mut text, "EventEnd", event.end, event.offset.seconds(), end, d);
        pair_json(&mut text, "EventStart", event.start, event.offset.seconds(), start, d);
        text.push_str("}}");
        let decoded = decode(text.as_bytes());
        if let Ok(Message::Event(e)) = &decoded {
            prop_assert_eq!(e.offset.seconds() % 900, 0, "{}", text);
        }
        match (end.detectable(), start.detectable()) {
            (false, false) => {
                if end.local == Sent::Absent && start.local == Sent::Absent {
                    let err = decoded.unwrap_err().to_string();
                    prop_assert!(err.contains("Data.EventEndLocalTime"), "{}: {}", text, err);
                } else {
                    let Ok(Message::Event(e)) = decoded else {
                        return Err(TestCaseError::fail(format!("{text}: {decoded:?}")));
                    };
                    prop_assert_eq!(e.offset, event.offset, "{}", text);
                }
            }
            (end_bad, start_bad) => {
                let err = match decoded {
                    Err(e) => e.to_string(),
                    Ok(m) => return Err(TestCaseError::fail(format!("{text}: accepted {m:?}"))),
                };
                let named = (end_bad && err.contains("Data.EventEnd"))
                    || (start_bad && err.contains("Data.EventStart"));
                prop_assert!(named, "{}: {}", text, err);
            }
        }
    }
}

/// The issue's example: the local text one second off its UTC text is refused by name.
#[test]
fn one_second_local_slip_is_refused_by_name() {
    let text = r#"{"Topic":"ffc-eventrawdata","Data":{"CameraSerial":"000000006afce315","RoiId":1,"MetricId":1,"PeopleTypeId":1,"PeopleId":1,"EventEndTime":1592363801,"EventEndUTCTime":"2020-06-17 03:16:41","EventEndLocalTime":"2020-06-17 11:16:40"}}"#;
    let err = decode(text.as_bytes()).unwrap_err();
    assert_eq!(
        err,
        DecodeError::Field {
            field: "Data.EventEndLocalTime",
            problem: FieldProblem::Conflicts {
                with: "Data.EventEndUTCTime"
            }
        }
    );
    assert_eq!(
        err.to_string(),
        "field Data.EventEndLocalTime: disagrees with Data.EventEndUTCTime"
    );
}

/// Values a field of a message is given: right and wrong types, ranges and texts.
const FIELD_VALUES: &[&str] = &[
    "null",
    "true",
    "1",
    "0",
    "-1",
    "1.0",
    "256",
    "4294967296",
    "\"1\"",
    "[]",
    "{}",
    "\"000000006afce315\"",
    "\"xyz\"",
    "\"2020-06-17 11:16:41\"",
    "\"2020-06-17 03:16:41\"",
    "\"2020-02-30 00:00:00\"",
    "1592363801",
    "\"658a2443-72ba-422c-85dc-e4e10baa1288\"",
    "\"ffc-eventrawdata\"",
    "{\"RoiId\":1}",
    "11",
    "21",
    "2",
];

const FIELD_NAMES: &[&str] = &[
    "Topic",
    "Data",
    "UUID",
    "CameraSerial",
    "DeviceSerial",
    "RoiId",
    "MetricId",
    "PeopleTypeId",
    "CombineObjectTypeId",
    "PeopleId",
    "EventStartTime",
    "EventEndTime",
    "EventStartUTCTime",
    "EventStartLocalTime",
    "EventEndUTCTime",
    "EventEndLocalTime",
];

/// The decoder as it was read before issue 20: the serde reader (kept in tests), then the
/// same interpretation.
fn reference_decode(text: &str) -> Result<Message, DecodeError> {
    interpret(&crate::fields::reference::parse::<Shape>(text)?)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    /// On messages of both forms with fields set to right and wrong values, removed or
    /// repeated, the decoder gives what the serde reader gave (value or error).
    #[test]
    fn decoder_agrees_with_the_serde_reader(
        event in any_event(),
        pro2 in any::<bool>(),
        edits in proptest::collection::vec(
            (prop::sample::select(FIELD_NAMES), prop::sample::select(FIELD_VALUES), 0u8..3),
            0..4,
        ),
    ) {
        let mut text = String::new();
        if pro2 {
            encode_pro2(&event, MessageId::nil(), &mut text).unwrap();
        } else {
            encode_classic(&event, &mut text).unwrap();
        }
        for (name, value, how) in edits {
            let key = format!("\"{name}\":");
            match (how, text.find(&key)) {
                // Replace the value (up to the next comma or brace).
                (0, Some(at)) => {
                    let from = at + key.len();
                    let to = from + text[from..].find([',', '}']).unwrap_or(0);
                    text.replace_range(from..to, value);
                }
                // Remove the key (its value becomes an unknown field's).
                (1, Some(at)) => text.replace_range(at..at + key.len(), "\"Gone\":"),
                // Add the field (a repeat when it is there already).
                _ => text.insert_str(1, &format!("{key}{value},")),
            }
        }
        prop_assert_eq!(decode_str(&text), reference_decode(&text), "{}", text);
    }
}
