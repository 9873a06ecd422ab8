use std::borrow::Cow;

use proptest::prelude::*;
use quick_xml::events::{BytesStart, Event};

use super::{attrs, checked, exact, scan};
use crate::body::Problem;

/// A start tag `<t ...>` holding `raw` after its name.
fn tag(raw: &str) -> BytesStart<'_> {
    BytesStart::from_content(format!("t{raw}"), 1)
}

#[test]
fn plain_attributes_are_scanned_and_borrowed() {
    let e = tag(r#" typeid="3"  value = '12' other="x""#);
    let found = scan(e.attributes_raw(), &["typeid", "value", "missing"]);
    assert_eq!(found, Some([Some("3"), Some("12"), None]));
    // No space between attributes is what quick-xml accepts too.
    let e = tag(r#" a="1"b="2""#);
    assert_eq!(
        scan(e.attributes_raw(), &["a", "b"]),
        Some([Some("1"), Some("2")])
    );
    assert_eq!(scan("", &["a"]), Some([None]));
}

#[test]
fn unusual_tags_go_to_the_checked_reader() {
    for raw in [
        r#" a="1" a="2""#,                                           // repeated
        r#" a="&#49;""#,                                             // a reference
        " a=\"1\t2\"",                                               // a tab to normalize
        r#" a=1"#,                                                   // unquoted
        r#" a"#,                                                     // no `=`
        r#" a="1"#,                                                  // no closing quote
        r#" a= "#,                                                   // no value
        r#" k1="" k2="" k3="" k4="" k5="" k6="" k7="" k8="" k9="""#, // many
    ] {
        assert_eq!(scan(raw, &["a"]), None, "{raw}");
    }
    let e = tag(r#" a="1" a="2""#);
    let err = attrs(&e, ["a"], 7).unwrap_err();
    assert!(matches!(err.problem, Problem::Syntax(ref m) if m.contains("given twice")));
    let e = tag(r#" a="&#49;&amp;""#);
    assert_eq!(attrs(&e, ["a"], 0).unwrap(), [Some(Cow::Borrowed("1&"))]);
}

/// Pieces that make plain tags, broken tags and everything between.
fn piece() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        r#" a="1""#,
        r#" b='x y'"#,
        r#" b="2""#,
        r#" c="z""#,
        r#" a = "2""#,
        r#"b="3""#,
        r#" c="&amp;""#,
        r#" c="&#48;""#,
        r#" c="&bad;""#,
        " b=\"\t\"",
        " b=\"\r\n\"",
        r#" k1="" k2="" k3="" k4="""#,
        r#" k5="" k6="" k7="" k8="""#,
        " a",
        "a",
        "=",
        "\"",
        "'",
        " ",
        "\n",
        "x",
        "&",
        "<",
        ">",
        "é",
    ])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    /// Whatever the tag, the fast path answers exactly as quick-xml's checked reading:
    /// the same values, or the same error.
    #[test]
    fn scan_agrees_with_the_checked_reader(pieces in prop::collection::vec(piece(), 0..14)) {
        let raw: String = pieces.concat();
        let e = tag(&raw);
        let want = checked(&e, ["a", "b", "c"], 5);
        prop_assert_eq!(attrs(&e, ["a", "b", "c"], 5), want.clone());
        if let Some(found) = scan(e.attributes_raw(), &["a", "b", "c"]) {
            prop_assert_eq!(Ok(found.map(|v| v.map(Cow::Borrowed))), want);
        }
    }
}

/// The tags the encoder writes (as devices do) take the exact path.
#[test]
fn device_tags_are_read_exactly() {
    use crate::body::encode_xml;
    use ffc_core::{CameraSerial, CountRecord, Resolution, Source, Subject, UtcOffset};
    let serial = CameraSerial::from_u64(0x6afc_e315);
    let record = CountRecord {
        subject: Subject::Counter(serial),
        start: 1_706_688_000,
        length: 900,
        offset: UtcOffset::UTC,
        count_in: 12,
        count_out: 9,
        outside: None,
        source: Source::DevicePull,
    };
    let xml = encode_xml(serial, "ACME - Door 1", Resolution::Minutes(15), &[record]);
    let mut reader = quick_xml::Reader::from_str(&xml);
    let mut seen = Vec::new();
    loop {
        match reader.read_event().unwrap() {
            Event::Start(e) | Event::Empty(e) => {
                let raw = e.attributes_raw();
                let exact_ok = match e.name().as_ref() {
                    "countdata" => exact(raw, &["serial", "data_format", "resolution"]).is_some(),
                    "cntset" => exact(raw, &["name", "starttime", "delta"]).is_some(),
                    "cnt" => exact(raw, &["typeid", "value"]).is_some(),
                    _ => continue,
                };
                seen.push((e.name().as_ref().to_owned(), exact_ok));
            }
            Event::Eof => break,
            _ => {}
        }
    }
    let all = |name: &str| seen.iter().filter(|(n, _)| n == name).all(|(_, ok)| *ok);
    assert_eq!(seen.len(), 4);
    assert!(all("countdata") && all("cntset") && all("cnt"), "{seen:?}");
    assert_eq!(
        exact(r#" typeid="3" value="12""#, &["typeid", "value"]),
        Some(["3", "12"])
    );
    // Another order, a second space, single quotes, an extra attribute: not exact.
    for raw in [
        r#" value="12" typeid="3""#,
        r#"  typeid="3" value="12""#,
        r#" typeid='3' value="12""#,
        r#" typeid="3" value="12" x="1""#,
        r#" typeid="3" value="1&#50;""#,
    ] {
        assert_eq!(exact(raw, &["typeid", "value"]), None, "{raw}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    /// Tags close to the device layout (each value anything, a few bytes around them
    /// changed): the exact path answers as quick-xml's checked reading does.
    #[test]
    fn exact_agrees_with_the_checked_reader(
        values in prop::collection::vec("[a-z0-9 &;#'\t<>\"=-]{0,6}", 3),
        before in "[ a=\"]{0,2}",
        after in "[ a=\"]{0,2}",
    ) {
        let raw = format!(
            "{before} a=\"{}\" b=\"{}\" c=\"{}\"{after}",
            values[0], values[1], values[2]
        );
        let e = tag(&raw);
        let want = checked(&e, ["a", "b", "c"], 5);
        prop_assert_eq!(attrs(&e, ["a", "b", "c"], 5), want.clone());
        if let Some(found) = exact(e.attributes_raw(), &["a", "b", "c"]) {
            prop_assert_eq!(Ok(found.map(|v| Some(Cow::Borrowed(v)))), want);
        }
    }
}
