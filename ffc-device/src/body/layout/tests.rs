use proptest::prelude::*;

use super::device_cntset;
use crate::body::xml::decode_xml_with;
use crate::body::{Location, Problem, MAX_RECORDS};
use ffc_core::Zone;

const HEAD: &str = r#"<countdata serial="000000006afce315">"#;

/// The sets the encoder writes (as devices do) are read whole, with their values.
#[test]
fn device_sets_are_read_whole() {
    let set = r#"<cntset name="ACME - Door 1" starttime="2024-01-31 08:00:00" delta="900"><cnt typeid="3" value="12"/><cnt typeid="4" value="9"/></cntset>"#;
    let rest = format!("\n {set}\n</countdata>");
    let (read, used) = device_cntset(rest.as_bytes()).unwrap();
    assert_eq!(used, set.len() + 2);
    assert_eq!(read.local, 1_706_688_000);
    assert_eq!((read.delta, read.count_in, read.count_out), (900, 12, 9));
    // Whitespace between the tags, another type, a bigger count: still whole.
    let spaced = "<cntset name=\"\" starttime=\"2024-01-31 08:00:00\" delta=\"60\">\r\n\t<cnt typeid=\"4\" value=\"18446744073709551\"/> <cnt typeid=\"7\" value=\"1\"/><cnt typeid=\"3\" value=\"0\"/>\n</cntset>";
    let (read, used) = device_cntset(spaced.as_bytes()).unwrap();
    assert_eq!(used, spaced.len());
    assert_eq!((read.count_in, read.count_out), (0, 18_446_744_073_709_551));
    // Anything else is the event path's.
    for other in [
        set.replace("name=", "id="),
        set.replace('"', "'"),
        set.replace("</cntset>", "</cntset >"),
        set.replace("value=\"9\"", "value=\" 9\""),
        set.replace("typeid=\"4\"", "typeid=\"3\""),
        set.replace("delta=\"900\"", "delta=\"0\""),
        set.replace("08:00:00", "24:00:00"),
        set.replace("Door 1", "Door&amp;1"),
        set.replace("Door 1", "Door>1"),
        set.replace("/><cnt", "/>x<cnt"),
        set.replace("/><cnt", "/><!----><cnt"),
    ] {
        assert!(device_cntset(other.as_bytes()).is_none(), "{other}");
    }
}

/// One set more than a body may hold is refused at that set, read whole or as events.
#[test]
fn a_set_past_the_limit_is_refused_where_it_starts() {
    let set = "\n<cntset name=\"a\" starttime=\"2024-01-31 08:00:00\" delta=\"1\"><cnt typeid=\"3\" value=\"1\"/><cnt typeid=\"4\" value=\"2\"/></cntset>";
    assert!(device_cntset(set.as_bytes()).is_some());
    let body = format!("{HEAD}{}</countdata>", set.repeat(MAX_RECORDS + 1));
    let offset = (HEAD.len() + MAX_RECORDS * set.len()) as u64;
    for whole_sets in [true, false] {
        let err = decode_xml_with(body.as_bytes(), &Zone::UTC, whole_sets).unwrap_err();
        assert_eq!(err.location, Location::Byte { offset });
        assert_eq!(err.problem, Problem::TooManyRecords);
    }
}

/// Text between tags, or before the first: mostly whitespace, else a comment or any short
/// run of bytes.
fn gap() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => Just(String::new()),
        3 => "[ \t\r\n]{1,3}",
        1 => Just("<!-- c -->".to_owned()),
        1 => "[ a<>/&;\"]{0,3}",
    ]
}

/// A `cnt` tag: usually plain digits, sometimes padded or too long.
fn cnt(typeid: impl Strategy<Value = String>) -> impl Strategy<Value = String> {
    let value = prop_oneof![4 => "[0-9]{1,5}", 1 => "[0-9]{0,21}|[0-9 ]{0,3}"];
    (typeid, value, gap())
        .prop_map(|(t, v, gap)| format!("{gap}<cnt typeid=\"{t}\" value=\"{v}\"/>"))
}

/// A `cntset` element close to the device layout: mostly as devices write it, the parts
/// sometimes varied and one byte sometimes replaced.
fn near_device_set() -> impl Strategy<Value = String> {
    let starttime = prop_oneof![
        4 => prop::sample::select(&["2024-01-31 08:00:00", "2024-02-29 23:59:59"][..]),
        1 => prop::sample::select(&[
            "2023-02-29 08:00:00",
            "2024-01-31 24:00:00",
            "2024-01-31T08:00:00",
            "2024-01-31 08:00:0",
            "2024-01-31 08:00:000",
        ][..]),
    ];
    let cnts = prop_oneof![
        3 => (cnt(Just("3".to_owned())), cnt(Just("4".to_owned()))).prop_map(|(a, b)| a + &b),
        1 => prop::collection::vec(cnt("3|4|7|03|[0-9]{0,2}".prop_map(String::from)), 0..4)
            .prop_map(|c| c.concat()),
    ];
    (
        (
            gap(),
            prop_oneof![4 => "[a-zA-Z0-9 -]{0,8}", 1 => "[a-zA-Z0-9 &;<>'\t-]{0,6}"],
            starttime,
            prop_oneof![4 => "[1-9][0-9]{0,3}", 1 => "[0-9]{0,11}|[0-9 a]{0,3}"],
        ),
        cnts,
        gap(),
        prop_oneof![5 => Just("</cntset>"), 1 => Just("</cntset >"), 1 => Just("</cnt>"), 1 => Just("")],
        (any::<prop::sample::Index>(), prop::sample::select(&b"\"'<>/ =a&0-:\n"[..])),
        prop::bool::weighted(0.25),
    )
        .prop_map(|((lead, name, time, delta), cnts, gap, end, (at, byte), glitch)| {
            let mut set = format!(
                "{lead}<cntset name=\"{name}\" starttime=\"{time}\" delta=\"{delta}\">{cnts}{gap}{end}"
            );
            if glitch {
                let i = at.index(set.len());
                if set.is_char_boundary(i) && set.is_char_boundary(i + 1) {
                    set.replace_range(i..i + 1, &char::from(byte).to_string());
                }
            }
            set
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    /// Bodies of sets near the device layout decode the same, records or error, whether
    /// device sets are read whole or every element as quick-xml events.
    #[test]
    fn whole_sets_agree_with_the_event_path(
        sets in prop::collection::vec(near_device_set(), 0..4),
        tail in gap(),
    ) {
        let body = format!("{HEAD}{}{tail}</countdata>", sets.concat());
        let whole = decode_xml_with(body.as_bytes(), &Zone::UTC, true);
        let events = decode_xml_with(body.as_bytes(), &Zone::UTC, false);
        prop_assert_eq!(whole, events, "{}", body);
    }
}
