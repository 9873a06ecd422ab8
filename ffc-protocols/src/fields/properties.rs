//! The scanner against the reader it replaced (`reference`, serde_json deriving the
//! fields): on random payloads, valid and damaged, both give the same fields or the same
//! error, line and column included; and vectors of malformed input, each with its error.

use alloc::string::String;
use alloc::vec::Vec;

use proptest::prelude::*;

use super::payload::{parse_fields, Payload};
use super::reference;
use super::{PayloadError, SyntaxKind};

type Outcome<'a> = Result<Payload<'a>, PayloadError<()>>;

fn scanned(text: &str) -> Outcome<'_> {
    let mut payload = Payload::default();
    parse_fields::<()>(text, &mut payload).map(|()| payload)
}

fn agree(text: &str) -> Result<(), TestCaseError> {
    let (new, old) = (scanned(text), reference::parse::<()>(text));
    prop_assert_eq!(new, old, "{:?}", text);
    Ok(())
}

const KEYS: &[&str] = &[
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
    "ObjectCount",
    "Timestamp",
    "LocalTime",
    "UTCTime",
    "OccupancyTypeId",
    "ObjectCountUnit",
    "Other",
    "",
    "Roi\\u0049d",
    "Dat\\u0061",
    "x\\ud800",
    "\\u00e9t\\u00e9",
    "roiid",
];

const NUMBERS: &[&str] = &[
    "0",
    "7",
    "-0",
    "-1",
    "1.5",
    "1e3",
    "1E+2",
    "-2.5e-3",
    "1e400",
    "-1e400",
    "1e-400",
    "4294967296",
    "18446744073709551615",
    "18446744073709551616",
    "-9223372036854775808",
    "-9223372036854775809",
    "1592363801",
    "123456789012345678901234567890",
];

const STRINGS: &[&str] = &[
    "\"\"",
    "\"000000006afce315\"",
    "\"2020-06-17 11:16:41\"",
    "\"ffc-eventrawdata\"",
    "\"generic-test-topic\"",
    "\"658a2443-72ba-422c-85dc-e4e10baa1288\"",
    "\"a\\\"b\\\\c\\/\"",
    "\"\\b\\f\\n\\r\\t\"",
    "\"\\u0041\\u00e9\"",
    "\"\\ud83d\\ude00\"",
    "\"caf\u{e9} \u{1f600}\"",
    "\"\\ud800\"",
    "\"\\udc00\"",
    "\"\\ud800\\u0041\"",
    "\"\\ud800x\"",
    "\"\\x41\"",
    "\"tab\there\"",
    "\"\\u00zz\"",
    "\"0123456789abcdefghij0123456789\"",
];

const SPACES: &[&str] = &["", "", " ", "\n", "\t", "\r\n  "];

fn space() -> impl Strategy<Value = &'static str> {
    prop::sample::select(SPACES)
}

fn leaf() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(&["null", "true", "false"][..]).prop_map(String::from),
        prop::sample::select(NUMBERS).prop_map(String::from),
        prop::sample::select(STRINGS).prop_map(String::from),
    ]
}

fn member(value: impl Strategy<Value = String>) -> impl Strategy<Value = String> {
    (prop::sample::select(KEYS), space(), space(), value)
        .prop_map(|(k, a, b, v)| format!("\"{k}\"{a}:{b}{v}"))
}

fn join(open: &str, items: Vec<String>, close: &str, sep: &str) -> String {
    format!("{open}{sep}{}{sep}{close}", items.join(&format!(",{sep}")))
}

/// Any JSON value, objects with the payloads' keys (so `Data` nests), up to a few levels.
fn value() -> impl Strategy<Value = String> {
    leaf().prop_recursive(4, 24, 6, |inner| {
        prop_oneof![
            (prop::collection::vec(inner.clone(), 0..4), space())
                .prop_map(|(items, s)| join("[", items, "]", s)),
            (prop::collection::vec(member(inner), 0..6), space())
                .prop_map(|(items, s)| join("{", items, "}", s)),
        ]
    })
}

/// A payload: an object of members with the payloads' keys (repeats included).
fn payload() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(member(value()), 0..10),
        space(),
        space(),
    )
        .prop_map(|(items, s, lead)| format!("{lead}{}", join("{", items, "}", s)))
}

/// Bytes a damaged payload gains: JSON's own, and a few that never belong.
const NOISE: &[char] = &[
    '{', '}', '[', ']', ',', ':', '"', '\\', '-', '.', 'e', '0', '1', 'n', 't', ' ', '\n', '\u{1}',
    'x', '\u{e9}',
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn scanner_agrees_with_serde_on_payloads(text in payload()) {
        agree(&text)?;
    }

    #[test]
    fn scanner_agrees_with_serde_on_damaged_payloads(
        text in payload(),
        edits in prop::collection::vec(
            (any::<prop::sample::Index>(), 0u8..3, prop::sample::select(NOISE)),
            1..4,
        ),
        cut in proptest::option::of(any::<prop::sample::Index>()),
    ) {
        let mut chars: Vec<char> = text.chars().collect();
        for (at, how, c) in edits {
            let i = at.index(chars.len() + 1);
            match how {
                0 => chars.insert(i, c),
                1 if i < chars.len() => { chars.remove(i); }
                _ if i < chars.len() => chars[i] = c,
                _ => chars.push(c),
            }
        }
        if let Some(cut) = cut {
            chars.truncate(cut.index(chars.len() + 1));
        }
        let damaged: String = chars.into_iter().collect();
        agree(&damaged)?;
    }
}

/// Malformed payloads, each refused with serde_json's kind and place.
#[test]
fn malformed_vectors_are_refused_where_serde_json_refused_them() {
    use SyntaxKind::{Structure, Syntax, Truncated};
    let vectors: &[(&str, SyntaxKind, usize, usize)] = &[
        ("{", Truncated, 1, 1),
        ("{\"RoiId\"", Truncated, 1, 8),
        ("{\"RoiId\":", Truncated, 1, 9),
        ("{\"RoiId\":1", Truncated, 1, 10),
        ("{\"RoiId\":1,", Truncated, 1, 11),
        ("{\"RoiId\":1,}", Syntax, 1, 12),
        ("{\"RoiId\" 1}", Syntax, 1, 10),
        ("{\"RoiId\":1 \"x\":2}", Syntax, 1, 12),
        ("{\"RoiId\":01}", Syntax, 1, 11),
        ("{\"RoiId\":-}", Syntax, 1, 11),
        ("{\"RoiId\":1.}", Syntax, 1, 12),
        ("{\"RoiId\":1e}", Syntax, 1, 12),
        ("{\"RoiId\":1e400}", Syntax, 1, 14),
        ("{\"RoiId\":1e99999999999}", Syntax, 1, 21),
        ("{\"RoiId\":0e99999999999,\"RoiId\":1}", Structure, 1, 30),
        ("{\"RoiId\":tru}", Syntax, 1, 13),
        ("{\"RoiId\":nul", Truncated, 1, 12),
        ("{\"Topic\":\"a\u{1}\"}", Syntax, 1, 12),
        ("{\"Topic\":\"\\q\"}", Syntax, 1, 12),
        ("{\"Topic\":\"\\ud800\"}", Syntax, 1, 17),
        ("{\"Topic\":\"\\udc00\"}", Syntax, 1, 16),
        ("{\"Topic\":\"\\u12", Truncated, 1, 14),
        ("{\"Topic\":\"open", Truncated, 1, 14),
        ("{\"RoiId\":1,\"RoiId\":2}", Structure, 1, 18),
        ("{\"Data\":{},\n\"Data\":{}}", Structure, 2, 6),
        ("{\"Data\":{\"RoiId\":1,\"RoiId\":1}}", Structure, 1, 26),
        ("{\"Other\":[1,}", Syntax, 1, 13),
        ("{\"Other\":{\"a\" 1}}", Syntax, 1, 15),
        ("{\"Other\":[}", Syntax, 1, 11),
        ("{} x", Syntax, 1, 4),
        ("\u{b}{}", Syntax, 1, 1),
        ("{\n  \"RoiId\": 1,\n  \"MetricId\": x\n}", Syntax, 3, 15),
    ];
    for (text, kind, line, column) in vectors {
        let want = PayloadError::Syntax {
            kind: *kind,
            line: *line,
            column: *column,
        };
        assert_eq!(scanned(text), Err(want), "{text:?}");
        assert_eq!(
            reference::parse::<()>(text),
            Err(want),
            "{text:?} (serde_json)"
        );
    }
}

/// serde_json's nesting limit holds at the same depth: 127 levels of `Data` read, 128 not.
#[test]
fn nesting_limit_is_serde_json_s() {
    for depth in [126, 127, 128, 200] {
        let text = format!(
            "{}{}",
            "{\"Data\":".repeat(depth),
            "{}".to_string() + &"}".repeat(depth)
        );
        assert_eq!(
            scanned(&text).is_ok(),
            reference::parse::<()>(&text).is_ok(),
            "{depth}"
        );
        assert_eq!(scanned(&text), reference::parse::<()>(&text), "{depth}");
    }
    // Skipped values have no limit in either.
    let deep = format!("{{\"Other\":{}{}}}", "[".repeat(1000), "]".repeat(1000));
    assert!(scanned(&deep).is_ok());
    assert_eq!(scanned(&deep), reference::parse::<()>(&deep));
}

const PAIR: super::event::PairNames = super::event::PairNames {
    utc: "EventEndUTCTime",
    local: "EventEndLocalTime",
    unix: "EventEndTime",
};

/// One text of a pair: absent, a date-time `delta` seconds off `at`, damaged, or not a
/// string.
fn pair_text(at: i64) -> impl Strategy<Value = Option<super::Scalar<'static>>> {
    use super::Scalar;
    use alloc::borrow::Cow;
    let shifted = (-70_000i64..70_000, 0u8..4).prop_map(move |(delta, round)| {
        // Mostly whole quarter hours (offsets in use), sometimes any second.
        let delta = if round > 0 { delta / 900 * 900 } else { delta };
        let text = ffc_core::time::seconds_to_naive(at + delta)
            .map(|t| ffc_core::time::Format::DateTime.display(t).to_string())
            .unwrap_or_default();
        Some(Scalar::Str(Cow::Owned(text)))
    });
    prop_oneof![
        Just(None),
        shifted.clone(),
        shifted,
        prop::sample::select(
            &[
                "2020-02-30 00:00:00",
                "2020-13-01 00:00:00",
                "2020-01-01 24:00:00",
                "2020-01-01T00:00:00",
                "0000-01-01 00:00:00",
                "9999-12-31 23:59:59",
                "1970-01-01 00:00:00",
                "",
            ][..]
        )
        .prop_map(|t| Some(Scalar::Str(Cow::Borrowed(t)))),
        Just(Some(Scalar::Unsigned(1))),
        Just(Some(Scalar::Compound)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    /// The offset rule on seconds (issue 20) gives what it gave through chrono date-times.
    #[test]
    fn pair_offset_agrees_with_the_chrono_rule(
        (unix, utc, local) in (0i64..=253_402_300_799).prop_flat_map(|at| {
            (Just(at), pair_text(at), pair_text(at))
        }),
    ) {
        prop_assert_eq!(
            super::event::pair_offset(&utc, &local, unix, &PAIR),
            reference::pair_offset(&utc, &local, unix, &PAIR),
            "{:?} {:?} {}", utc, local, unix
        );
    }
}
