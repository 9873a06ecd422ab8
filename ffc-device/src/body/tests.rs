use ffc_core::{CountRecord, ParseError, Resolution, Source, Subject, UtcOffset, Zone};

use super::*;

const SERIAL: &str = "000000006afce315";

fn rec(start: i64, length: u32, count_in: u64, count_out: u64, zone: &Zone) -> CountRecord {
    CountRecord {
        subject: Subject::Counter(SERIAL.parse().unwrap()),
        start,
        length,
        offset: zone.offset_at(start),
        count_in,
        count_out,
        outside: None,
        source: Source::DevicePull,
    }
}

const XML: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<countdata serial="000000006AFCE315" data_format="minute" resolution="15" firmware="3.2.1">
  <!-- a comment -->
  <typedesc><type typeid="3" desc="Pedestrian coming in"/><type typeid="4" desc="Pedestrian going out"/></typedesc>
  <cntset name="ACME &amp; Co - Door 1" starttime="2024-01-31 08:00:00" delta="900">
    <cnt typeid="3" value="12"/><cnt typeid="4" value="9"/><cnt typeid="7" value="1"/>
  </cntset>
  <extra><nested/></extra>
  <cntset name="ACME &amp; Co - Door 1" starttime="2024-01-31 08:15:00" delta="900" unknown="x">
    <cnt typeid="4" value="0"></cnt><cnt typeid="3" value=" 5 "/>
  </cntset>
</countdata>
"#;

const JSON: &str = r#"{"serial":"000000006AFCE315","data_format":"minute","resolution":"15",
 "typedesc":[{"typeid":3,"desc":"Pedestrian coming in"},{"typeid":4,"desc":"Pedestrian going out"}],
 "firmware":"3.2.1",
 "cntset":[
  {"name":"ACME & Co - Door 1","starttime":"2024-01-31 08:00:00","delta":900,
   "counts":[{"typeid":3,"value":12},{"typeid":4,"value":9},{"typeid":7,"value":1}]},
  {"name":"ACME & Co - Door 1","starttime":"2024-01-31 08:15:00","delta":"900","extra":[1,2],
   "counts":[{"typeid":4,"value":"0"},{"typeid":3,"value":5}]}]}"#;

#[test]
fn decodes_the_documented_shapes_equal() {
    let zone = Zone::Fixed(UtcOffset::from_seconds(8 * 3600).unwrap());
    let x = decode_xml(XML.as_bytes(), &zone).unwrap();
    let j = decode_json(JSON.as_bytes(), &zone).unwrap();
    assert_eq!(x, j);
    assert_eq!(x.serial.to_string(), SERIAL);
    assert_eq!(x.resolution, Some(Resolution::Minutes(15)));
    // 08:00 at +08:00 is 00:00 UTC.
    let t0 = 1_706_659_200;
    assert_eq!(
        x.records,
        vec![rec(t0, 900, 12, 9, &zone), rec(t0 + 900, 900, 5, 0, &zone)]
    );
}

#[test]
fn round_trips_through_both_encoders() {
    let zone = Zone::iana("Europe/London").unwrap();
    // Hours across the fall-back: local 01:00 occurs twice.
    let start = 1_729_983_600; // 2024-10-26 23:00 UTC = 27 Oct 00:00 BST
    let records: Vec<_> = (0..5)
        .map(|i| rec(start + i * 3600, 3600, i as u64, 2, &zone))
        .collect();
    let serial = SERIAL.parse().unwrap();
    let j = encode_json(serial, "A \"quoted\" <name>", Resolution::Hour, &records);
    let x = encode_xml(serial, "A \"quoted\" <name>", Resolution::Hour, &records);
    assert_eq!(j.matches("2024-10-27 01:00:00").count(), 2);
    let dj = decode_json(j.as_bytes(), &zone).unwrap();
    let dx = decode_xml(x.as_bytes(), &zone).unwrap();
    assert_eq!(dj.records, records);
    assert_eq!(dx.records, records);
    assert_eq!(dj.resolution, Some(Resolution::Hour));
    let empty = encode_xml(serial, "n", Resolution::Seconds(1), &[]);
    assert_eq!(decode_xml(empty.as_bytes(), &zone).unwrap().records, vec![]);
    let empty = encode_json(serial, "n", Resolution::Seconds(1), &[]);
    assert_eq!(
        decode_json(empty.as_bytes(), &zone).unwrap().resolution,
        Some(Resolution::Seconds(1))
    );
}

fn xml_problem(body: &str) -> (u64, Problem) {
    match decode_xml(body.as_bytes(), &Zone::UTC) {
        Err(BodyError {
            location: Location::Byte { offset },
            problem,
            ..
        }) => (offset, problem),
        other => panic!("expected an XML error, got {other:?}"),
    }
}

#[test]
fn xml_errors_in_a_cntset_name_the_byte_and_reason() {
    let head = r#"<countdata serial="000000006afce315">"#;
    let set =
        |attrs: &str, inner: &str| format!("{head}<cntset {attrs}>{inner}</cntset></countdata>");
    let good_cnts = r#"<cnt typeid="3" value="1"/><cnt typeid="4" value="2"/>"#;
    let at = head.len() as u64;
    assert_eq!(
        xml_problem(&set(
            r#"starttime="2024-01-31 25:00:00" delta="60""#,
            good_cnts
        )),
        (
            at,
            Problem::Time(ParseError::OutOfRange {
                field: ffc_core::Field::Hour
            })
        )
    );
    assert_eq!(
        xml_problem(&set(r#"starttime="2024-01-31 08:00:00""#, good_cnts)),
        (at, Problem::Missing("delta"))
    );
    assert_eq!(
        xml_problem(&set(
            r#"starttime="2024-01-31 08:00:00" delta="-5""#,
            good_cnts
        )),
        (at, Problem::Number("delta"))
    );
    assert_eq!(
        xml_problem(&set(
            r#"starttime="2024-01-31 08:00:00" delta="0""#,
            good_cnts
        )),
        (at, Problem::ZeroDelta)
    );
    let cnt_at = at + r#"<cntset starttime="2024-01-31 08:00:00" delta="60">"#.len() as u64;
    assert_eq!(
        xml_problem(&set(
            r#"starttime="2024-01-31 08:00:00" delta="60""#,
            r#"<cnt typeid="3" value="x1"/>"#
        )),
        (cnt_at, Problem::Number("value"))
    );
    assert_eq!(
        xml_problem(&set(
            r#"starttime="2024-01-31 08:00:00" delta="60""#,
            r#"<cnt typeid="3" value="1"/><cnt typeid="3" value="1"/>"#
        ))
        .1,
        Problem::DuplicateType(3)
    );
    assert_eq!(
        xml_problem(&set(
            r#"starttime="2024-01-31 08:00:00" delta="60""#,
            r#"<cnt typeid="3" value="1"/>"#
        )),
        (at, Problem::MissingType(4))
    );
}

#[test]
fn xml_errors_at_the_root_name_the_byte_and_reason() {
    let head = r#"<countdata serial="000000006afce315">"#;
    assert_eq!(
        xml_problem("<other/>").1,
        Problem::Root("root element is <other>, not <countdata>".into())
    );
    assert_eq!(xml_problem("<countdata/>").1, Problem::Missing("serial"));
    assert!(matches!(
        xml_problem(r#"<countdata serial="xyz"/>"#).1,
        Problem::Serial(_)
    ));
    assert!(matches!(
        xml_problem(&format!("{head}<cntset")).1,
        Problem::Syntax(_)
    ));
    assert!(matches!(
        xml_problem(&format!("{head}</wrong>")).1,
        Problem::Syntax(_)
    ));
    assert!(matches!(xml_problem(head).1, Problem::Syntax(_)));
    assert!(matches!(
        xml_problem(&format!("{head}</countdata><x/>")).1,
        Problem::Syntax(_)
    ));
    assert_eq!(
        decode_xml(b"<countdata>\xff", &Zone::UTC)
            .unwrap_err()
            .location,
        Location::Byte { offset: 11 }
    );
    assert_eq!(
        xml_problem(
            r#"<countdata serial="000000006afce315" data_format="minute" resolution="7"/>"#
        )
        .1,
        Problem::Resolution
    );
}

#[test]
fn json_errors_name_the_line_or_set() {
    let err = decode_json(
        b"{\"serial\":\"000000006afce315\",\n\"cntset\":[{\"starttime\":\"2024-01-31 8:00:00\"",
        &Zone::UTC,
    )
    .unwrap_err();
    assert!(
        matches!(err.location, Location::Line { line: 2, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("starttime"), "{err}");
    let err = decode_json(br#"{"serial":"000000006afce315"}"#, &Zone::UTC).unwrap_err();
    assert!(err.to_string().contains("cntset"), "{err}");
    let err = decode_json(br#"{"serial":"00000000","cntset":[]}"#, &Zone::UTC).unwrap_err();
    assert!(err.to_string().contains("serial"), "{err}");
    let body = br#"{"serial":"000000006afce315","cntset":[
            {"starttime":"2024-01-31 08:00:00","delta":60,"counts":[{"typeid":3,"value":1},{"typeid":4,"value":1}]},
            {"starttime":"2024-01-31 08:01:00","delta":60,"counts":[{"typeid":3,"value":1}]}]}"#;
    let err = decode_json(body, &Zone::UTC).unwrap_err();
    assert_eq!(
        (err.location, err.problem),
        (Location::Cntset { index: 1 }, Problem::MissingType(4))
    );
    let neg = br#"{"serial":"000000006afce315","cntset":[{"starttime":"2024-01-31 08:00:00","delta":60,"counts":[{"typeid":3,"value":-1}]}]}"#;
    assert!(matches!(
        decode_json(neg, &Zone::UTC).unwrap_err().location,
        Location::Line { line: 1, .. }
    ));
    let float = br#"{"serial":"000000006afce315","cntset":[{"starttime":"2024-01-31 08:00:00","delta":60.5,"counts":[]}]}"#;
    assert!(decode_json(float, &Zone::UTC).is_err());
    let big = br#"{"serial":"000000006afce315","cntset":[{"starttime":"2024-01-31 08:00:00","delta":5000000000,"counts":[]}]}"#;
    assert_eq!(
        decode_json(big, &Zone::UTC).unwrap_err().problem,
        Problem::Number("delta")
    );
    assert!(decode_json(b"", &Zone::UTC).is_err());
    assert!(decode_json(b"[1,2]", &Zone::UTC).is_err());
}

#[test]
fn token_bodies() {
    assert_eq!(
        decode_token(br#" {"access_token":"eyJ.abc"} "#).as_deref(),
        Ok("eyJ.abc")
    );
    assert_eq!(decode_token(br#"{"token":"t1"}"#).as_deref(), Ok("t1"));
    assert_eq!(
        decode_token(br#"{"AccessToken":"t2","x":1}"#).as_deref(),
        Ok("t2")
    );
    assert_eq!(
        decode_token(b"eyJhbGci.x.y\n").as_deref(),
        Ok("eyJhbGci.x.y")
    );
    assert_eq!(decode_token(b"  \n"), Err(TokenBodyError::Empty));
    assert_eq!(
        decode_token(br#"{"error":"denied"}"#),
        Err(TokenBodyError::NoTokenField)
    );
    assert_eq!(
        decode_token(b"two words"),
        Err(TokenBodyError::BadCharacter { offset: 3 })
    );
    assert_eq!(
        decode_token(b" a\xffb"),
        Err(TokenBodyError::BadCharacter { offset: 2 })
    );
}

/// A repeated attribute is ill-formed, whether the decoder reads it or not; a value with a
/// reference or a line break is still normalized.
#[test]
fn xml_attributes_repeated_or_escaped() {
    let head = r#"<countdata serial="000000006afce315">"#;
    let at = head.len() as u64;
    for attrs in [
        r#"starttime="2024-01-31 08:00:00" delta="60" delta="60""#,
        r#"starttime="2024-01-31 08:00:00" delta="60" x="1" x="2""#,
    ] {
        let body =
            format!(r#"{head}<cntset {attrs}><cnt typeid="3" value="1"/></cntset></countdata>"#);
        let (offset, problem) = xml_problem(&body);
        assert_eq!(offset, at);
        assert!(
            matches!(problem, Problem::Syntax(ref m) if m.contains("given twice")),
            "{problem:?}"
        );
    }
    let body = format!(
        "{head}<cntset starttime=\"2024-01-31&#32;08:00:00\" delta=\"6&#48;\"><cnt typeid=\"3\" value=\"1\"/><cnt typeid=\"4\" value=\"2\"/></cntset></countdata>"
    );
    let decoded = decode_xml(body.as_bytes(), &Zone::UTC).unwrap();
    assert_eq!(decoded.records.len(), 1);
    assert_eq!(decoded.records[0].length, 60);
}

/// The one-pass reading of short counts agrees with the general one on every length.
#[test]
fn numbers_read_in_one_pass_or_trimmed() {
    let general = |t: &str| -> Option<u64> {
        let t = t.trim();
        if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        t.parse().ok()
    };
    for text in [
        "0",
        "7",
        "0012",
        "1844674407370955161",
        "9999999999999999999",
        "18446744073709551615",
        "18446744073709551616",
        " 5 ",
        "\u{a0}5",
        "",
        " ",
        "x1",
        "1x",
        "1/",
        "1:",
        "-1",
        "+1",
        "\u{663}",
    ] {
        assert_eq!(parse_number(text), general(text), "{text:?}");
    }
}
