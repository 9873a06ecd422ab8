//! `ffc decode` on every payload kind it reads: the body shapes of spec §1 (device JSON and
//! XML, with the published `cntset`/`typeid` structure), BACnet datagrams as hex, bodies the
//! simulator's encoder produces, and malformed inputs (one JSON error line, exit 1).
mod common;

use common::{ffc, ffc_with};
use ffc_core::{CameraSerial, CountRecord, Resolution, Source, Subject, UtcOffset};

const DEVICE_JSON: &str = r#"{"serial":"000000006afce315","data_format":"minute","resolution":15,
 "typedesc":[{"typeid":3,"desc":"Pedestrian coming in"},{"typeid":4,"desc":"Pedestrian going out"}],
 "cntset":[
  {"name":"ACME - Door 1","starttime":"2020-06-17 11:00:00","delta":900,"counts":[{"typeid":3,"value":12},{"typeid":4,"value":"9"}]},
  {"name":"ACME - Door 1","starttime":"2020-06-17 11:15:00","delta":900,"counts":[{"typeid":3,"value":4},{"typeid":4,"value":7}],"extra":true}
 ]}"#;

const DEVICE_XML: &str = r#"<?xml version="1.0"?>
<countdata serial="000000006afce315" data_format="minute" resolution="15">
  <typedesc><type typeid="3" desc="Pedestrian coming in"/><type typeid="4" desc="Pedestrian going out"/></typedesc>
  <cntset name="ACME - Door 1" starttime="2020-06-17 11:00:00" delta="900"><cnt typeid="3" value="12"/><cnt typeid="4" value="9"/></cntset>
  <cntset name="ACME - Door 1" starttime="2020-06-17 11:15:00" delta="900"><cnt typeid="3" value="4"/><cnt typeid="4" value="7"/></cntset>
</countdata>"#;

fn json_lines(out: &str) -> Vec<serde_json::Value> {
    out.lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect()
}

fn decode_file(kind: &str, text: &str, zone: &str) -> (bool, Vec<serde_json::Value>, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("payload");
    std::fs::write(&path, text).expect("write");
    let (ok, out, err) = ffc(&["decode", kind, &path.display().to_string(), "--zone", zone]);
    (ok, json_lines(&out), err)
}

#[test]
fn device_json_and_xml_of_the_same_data_decode_equal() {
    // 11:00 local at +08:00 is 03:00 UTC.
    let (ok, json, err) = decode_file("device-json", DEVICE_JSON, "+08:00");
    assert!(ok, "{err}");
    let (ok, xml, err) = decode_file("device-xml", DEVICE_XML, "+08:00");
    assert!(ok, "{err}");
    assert_eq!(json.len(), 2);
    assert_eq!(json[0]["ValueDateTime"], 1_592_362_800);
    assert_eq!(json[0]["ValueIn"], 12);
    assert_eq!(json[0]["ValueOut"], 9);
    assert_eq!(json[1]["ValueDateTime"], 1_592_362_800 + 900);
    assert_eq!(json[0]["kind"], "device-json");
    for (j, x) in json.iter().zip(&xml) {
        let strip = |v: &serde_json::Value| {
            let mut v = v.clone();
            v["kind"] = serde_json::Value::Null;
            v
        };
        assert_eq!(strip(j), strip(x));
    }
}

#[test]
fn device_bodies_from_the_encoder_round_trip_through_stdin() {
    let serial = CameraSerial::from_u64(0x6afc_e315);
    let records: Vec<CountRecord> = (0..24)
        .map(|h| CountRecord {
            subject: Subject::Counter(serial),
            start: 1_700_000_000 - 1_700_000_000 % 3600 + h * 3600,
            length: 3600,
            offset: UtcOffset::UTC,
            count_in: (h as u64) * 3,
            count_out: (h as u64) * 2 + 1,
            outside: None,
            source: Source::DevicePull,
        })
        .collect();
    for (kind, data_type) in [
        ("device-json", ffc_device::query::DataType::Json),
        ("device-xml", ffc_device::query::DataType::Xml),
    ] {
        let body = ffc_device::body::encode(
            data_type,
            serial,
            "ACME - Door 1",
            Resolution::Hour,
            &records,
        );
        let (ok, out, err) = ffc_with(&["decode", kind, "-"], &[], Some(body.as_bytes()));
        assert!(ok, "{kind}: {err}");
        let lines = json_lines(&out);
        assert_eq!(lines.len(), 24);
        for (line, r) in lines.iter().zip(&records) {
            assert_eq!(line["ValueDateTime"], r.start);
            assert_eq!(line["ValueIn"], r.count_in);
            assert_eq!(line["ValueOut"], r.count_out);
        }
    }
}

#[test]
fn malformed_device_bodies_give_one_error_line_and_exit_1() {
    for (kind, text, want) in [
        ("device-json", "{\"serial\":\"000000006afce315\",\"cntset\":[", "line"),
        ("device-json", "", "line"),
        ("device-xml", "<countdata serial=\"zz\"></countdata>", "serial"),
        (
            "device-xml",
            "<countdata serial=\"000000006afce315\"><cntset name=\"a\" starttime=\"2020-06-17 11:00:00\" delta=\"900\"><cnt typeid=\"3\" value=\"1\"/></cntset></countdata>",
            "4",
        ),
        ("device-json", "[1,2,3]", ""),
    ] {
        let (ok, lines, _) = decode_file(kind, text, "UTC");
        assert!(!ok, "{kind} {text:?} must fail");
        assert_eq!(lines.len(), 1, "{kind} {text:?}");
        assert_eq!(lines[0]["kind"], kind);
        let reason = lines[0]["error"].as_str().expect("reason");
        assert!(reason.contains(want), "{kind} {text:?}: {reason}");
    }
}

/// Who-Is (original unicast) and I-Am of device 123317, max APDU 1476, segmented both,
/// vendor 0, annotated byte by byte.
const WHO_IS: &str = "81 0a 00 08  01 00  10 08";
const I_AM: &str = "81:0a:00:14 01:00 10:00 c4:02:01:e1:b5 22:05:c4 91:00 21:00";

#[test]
fn bacnet_hex_datagrams_decode_one_line_each() {
    let text = format!("# who-is then i-am\n{WHO_IS}\n\n{I_AM}\n");
    let (ok, lines, err) = decode_file("bacnet", &text, "UTC");
    assert!(ok, "{err}");
    assert_eq!(lines.len(), 2);
    assert!(
        lines[0]["service"]
            .as_str()
            .expect("service")
            .starts_with("WhoIs"),
        "{}",
        lines[0]
    );
    let iam = lines[1]["service"].as_str().expect("service");
    assert!(
        iam.starts_with("IAm") && iam.contains("123317") && iam.contains("1476"),
        "{iam}"
    );
    assert_eq!(lines[1]["length"], 20);
}

#[test]
fn bad_bacnet_datagrams_name_the_line_and_byte() {
    // Truncated: the BVLC says 20 bytes, 9 are there.
    let (ok, lines, _) = decode_file(
        "bacnet",
        &format!("{WHO_IS}\n81 0a 00 14 01 00 10 00 c4\n"),
        "UTC",
    );
    assert!(!ok);
    assert_eq!(lines.len(), 2, "the good datagram, then one error line");
    assert_eq!(lines[1]["line"], 2);
    assert!(lines[1]["byte_offset"].is_u64(), "{}", lines[1]);
    // Not hex.
    let (ok, lines, _) = decode_file("bacnet", "81 0a 00 zz\n", "UTC");
    assert!(!ok);
    assert_eq!(lines.len(), 1);
    assert!(lines[0]["error"].as_str().expect("reason").contains("hex"));
    // Odd digit count.
    let (ok, lines, _) = decode_file("bacnet", "810a0", "UTC");
    assert!(!ok);
    assert!(lines[0]["error"].as_str().expect("reason").contains("odd"));
}

/// Spec §4's published samples, verbatim: the classic message in Python-literal form and
/// the 3D Pro2 flat message; then the test topic and an unknown topic.
const WS_CLASSIC: &str = r#"{'Topic': 'ffc-eventrawdata', 'Data': {'EventStartUTCTime': '2020-06-17 03:16:41', 'EventEndLocalTime': '2020-06-17 11:16:41', 'EventStartTime': 1592363801, 'MetricId': 1, 'RoiId': 1, 'CameraSerial': '000000006afce315', 'PeopleId': 1, 'EventEndUTCTime': '2020-06-17 03:16:41', 'UploadedLocalDateTime': '2020-06-17 11:16:45', 'EventEndTime': 1592363801, 'EventStartLocalTime': '2020-06-17 11:16:41', 'UploadedUTCDateTime': '2020-06-17 03:16:45', 'PeopleTypeId': 1}}"#;
const WS_PRO2: &str = r#"{"UUID":"658a2443-72ba-422c-85dc-e4e10baa1288","DeviceSerial":"ecd5cc57d23c5c9f","RoiId":1,"MetricId":1,"PeopleTypeId":1,"CombineObjectTypeId":11,"PeopleId":1,"EventEndLocalTime":"2025-07-23 18:36:31","EventEndTime":1753266991,"EventEndUTCTime":"2025-07-23 10:36:31"}"#;

#[test]
fn published_websocket_samples_decode_to_events() {
    let text = format!(
        "{WS_CLASSIC}\n{WS_PRO2}\n{{\"Topic\":\"generic-test-topic\",\"Data\":{{}}}}\n{{\"Topic\":\"ffc-other\",\"Data\":{{}}}}\n"
    );
    let (ok, lines, err) = decode_file("ws", &text, "UTC");
    assert!(ok, "{err}");
    assert_eq!(lines.len(), 4);
    let classic = serde_json::to_string(&lines[0]).expect("json");
    assert!(
        classic.contains("000000006afce315") && classic.contains("1592363801"),
        "{classic}"
    );
    let pro2 = serde_json::to_string(&lines[1]).expect("json");
    assert!(
        pro2.contains("ecd5cc57d23c5c9f") && pro2.contains("1753266991"),
        "{pro2}"
    );
    assert_eq!(lines[2]["test"], true);
    assert_eq!(lines[3]["unknown_topic"], "ffc-other");

    // A classic message whose UTC string disagrees with its unix time fails on its line.
    let bad = WS_CLASSIC.replace("'EventEndTime': 1592363801", "'EventEndTime': 1592363802");
    let (ok, lines, _) = decode_file("ws", &format!("{WS_PRO2}\n{bad}\n"), "UTC");
    assert!(!ok);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1]["line"], 2);
    assert!(lines[1]["error"].is_string());
    let (ok, lines, _) = decode_file("ws", "{\"Topic\": \"ffc-eventrawdata\", \"Data\": {", "UTC");
    assert!(!ok);
    assert_eq!(lines.len(), 1);
}

/// `ffc decode ws` reads a stream of messages: pretty JSON and a pretty Python-literal dict
/// (as people paste them) decode like one-line messages; each bad message gives its error
/// line (on the line it starts or fails on) and the messages after it are still read.
#[test]
fn websocket_messages_spanning_lines_decode_and_a_bad_one_does_not_stop_the_rest() {
    let pro2: serde_json::Value = serde_json::from_str(WS_PRO2).expect("sample");
    let pretty = serde_json::to_string_pretty(&pro2).expect("pretty");
    // The classic sample laid out one field per line, as Python's pprint does.
    let classic = WS_CLASSIC
        .replace("{'Topic'", "{\n 'Topic'")
        .replace("'Data': {", "'Data': {\n  ")
        .replace(", '", ",\n  '");
    assert!(pretty.lines().count() > 5 && classic.lines().count() > 5);
    let text =
        format!("# pasted from the receiver's log\n{pretty}\n\n{classic}\n{WS_PRO2} {pretty}\n");
    let (ok, lines, err) = decode_file("ws", &text, "UTC");
    assert!(ok, "{err}");
    assert_eq!(lines.len(), 4, "{lines:?}");
    let pretty_lines = 1 + pretty.lines().count() + 1;
    assert_eq!(lines[0]["line"], 2);
    assert_eq!(lines[1]["line"], pretty_lines + 1);
    for (i, line) in lines.iter().enumerate() {
        assert_eq!(line["kind"], "ws");
        let want = if i == 1 { 1_592_363_801 } else { 1_753_266_991 };
        assert_eq!(line["EventEndTime"], want, "{line}");
    }

    // A message with a string number, a line of garbage and an object whose `}` is missing
    // each give their error line; the good messages around them still decode.
    let string_number = pretty.replace("\"RoiId\": 1", "\"RoiId\": \"1\"");
    assert_ne!(string_number, pretty);
    let unclosed = pretty.trim_end().trim_end_matches('}');
    let text = format!("{string_number}\n{WS_PRO2}\nnot json at all\n{unclosed}\n{pretty}\n");
    let (ok, lines, _) = decode_file("ws", &text, "UTC");
    assert!(!ok);
    let (events, errors): (Vec<_>, Vec<_>) = lines.iter().partition(|l| l["error"].is_null());
    assert_eq!(events.len(), 2, "{lines:?}");
    assert_eq!(errors.len(), 3, "{lines:?}");
    let n = pretty.lines().count();
    assert_eq!(events[0]["line"], n + 1);
    assert_eq!(events[1]["line"], 2 * n + 3);
    assert!(
        errors[0]["error"]
            .as_str()
            .expect("reason")
            .contains("RoiId"),
        "{}",
        errors[0]
    );
    assert_eq!(errors[1]["line"], n + 2);
    let unclosed_at = errors[2]["line"].as_u64().expect("line") as usize;
    assert!((n + 3..=2 * n + 2).contains(&unclosed_at), "{}", errors[2]);
}

#[test]
fn published_sales_layout_decodes_and_bad_rows_are_named() {
    // Spec §8: StoreCode, DateTime (DD-MM-YYYY hh:mm), TotalTransactionQty, TotalTransactionValue.
    let csv_text = "StoreCode,DateTime,TotalTransactionQty,TotalTransactionValue\n\
                    S001,17-06-2020 11:05,3,45.50\n\
                    S001,17-06-2020 11:40,2,10\n\
                    S002,17-06-2020 12:00,1,9.99\n";
    let (ok, lines, err) = decode_file("sales-csv", csv_text, "UTC");
    assert!(ok, "{err}");
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["StoreCode"], "S001");
    assert_eq!(lines[0]["LocalHour"], "2020-06-17 11:00:00");
    assert_eq!(lines[0]["TransactionCount"], 5);
    assert_eq!(lines[0]["SalesAmountCents"], 5550);
    assert_eq!(lines[1]["SalesAmountCents"], 999);

    let bad = "StoreCode,DateTime,TotalTransactionQty,TotalTransactionValue\n\
               S001,17-06-2020 11:05,3,$45.50\n\
               S001,2020-06-17 11:40,2,10\n";
    let (ok, lines, _) = decode_file("sales-csv", bad, "UTC");
    assert!(!ok);
    assert_eq!(lines.len(), 1, "no valid row, one error line");
    assert_eq!(lines[0]["line"], 2);
    assert_eq!(lines[0]["error_count"], 2);
    assert!(
        lines[0]["error"]
            .as_str()
            .expect("reason")
            .contains("currency"),
        "{}",
        lines[0]
    );

    let (ok, lines, _) = decode_file("sales-csv", "Store,When\nS001,x\n", "UTC");
    assert!(!ok);
    assert!(
        lines[0]["error"]
            .as_str()
            .expect("reason")
            .starts_with("header"),
        "{}",
        lines[0]
    );
}

#[test]
fn export_files_decode_in_any_column_order_and_bad_rows_are_named() {
    // The ffc-client module's published-style export (header-driven), and a TXT export
    // with other columns in another order.
    let csv_text = "Site,Date,Time,ValueIn,ValueOut\nMain St,31/01/2024,13:00:00,42,40\nMain St,31/01/2024,14:00:00,7,9\n";
    let (ok, lines, err) = decode_file("export-csv", csv_text, "+08:00");
    assert!(ok, "{err}");
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["Site"], "Main St");
    assert_eq!(lines[0]["LocalTime"], "2024-01-31 13:00:00");
    // 13:00 at +08:00 is 05:00 UTC.
    assert_eq!(lines[0]["ValueDateTime"], 1_706_659_200 + 5 * 3600);
    assert_eq!(lines[0]["ValueIn"], 42);
    assert_eq!(lines[1]["ValueOut"], 9);
    let txt = "ValueOut\tOutsideTraffic\tDateTime\tValueIn\tCameraSerial\n5\t\t31/01/2024 13:00:00\t7\t000000006afce315\n";
    let (ok, lines, err) = decode_file("export-csv", txt, "UTC");
    assert!(ok, "{err}");
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["CameraSerial"], "000000006afce315");
    assert_eq!(lines[0]["ValueIn"], 7);

    let bad = "Site,Date,Time,ValueIn,ValueOut\nMain St,31/01/2024,13:00:00,42,40\nMain St,31/01/2024,14:00:00,x,1\n";
    let (ok, lines, _) = decode_file("export-csv", bad, "UTC");
    assert!(!ok);
    assert_eq!(lines.len(), 2, "the good row, then the error line");
    assert_eq!(lines[1]["line"], 3);
    assert_eq!(lines[1]["error_count"], 1);
    let (ok, lines, _) = decode_file("export-csv", "Site,ValueIn\nx,1\n", "UTC");
    assert!(!ok);
    assert_eq!(lines.len(), 1);
    assert!(
        lines[0]["error"].as_str().expect("reason").contains("Date"),
        "{}",
        lines[0]
    );
}

/// spec §5, the occupancy sample as published, `#` comments and all, then the counting
/// sample: one file, two payloads.
const MQTT_PUBLISHED: &str = r#"{
    "RoiId": 1,
    "CombineObjectTypeId": 1,
    "ObjectCount": 0, # 1 for Occupied and 0 for None
    "Timestamp": 1672889540, #UTCtime
    "LocalTime": "2023-01-05 11:32:20",
    "UTCTime": "2023-01-05 03:32:20",
    "OccupancyTypeId": 1,
    "ObjectCountUnit": 1,
    "CameraSerial": "100000008c76409d"
}

{"CombineObjectTypeId": 11, "EventEndLocalTime": "2022-11-25 04:47:49", "EventEndTime": 1669351669, "EventEndUTCTime": "2022-11-25 04:47:49", "EventStartLocalTime": "2022-11-25 04:47:49", "EventStartTime": 1669351669, "EventStartUTCTime": "2022-11-25 04:47:49", "MetricId": 2, "PeopleId": 1, "PeopleTypeId": 1, "RoiId": 1, "CameraSerial": "000000007b77a260"}
"#;

#[test]
fn published_mqtt_samples_decode() {
    let (ok, lines, err) = decode_file("mqtt", MQTT_PUBLISHED, "UTC");
    assert!(ok, "{err}");
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["payload"], "occupancy");
    assert_eq!(lines[0]["CameraSerial"], "100000008c76409d");
    assert_eq!(lines[0]["ObjectCount"], 0);
    assert_eq!(lines[0]["Timestamp"], 1_672_889_540);
    // 11:32:20 local against 03:32:20 UTC: +08:00.
    assert_eq!(lines[0]["UtcOffsetSeconds"], 8 * 3600);
    assert_eq!(lines[1]["payload"], "count");
    assert_eq!(lines[1]["CameraSerial"], "000000007b77a260");
    assert_eq!(lines[1]["MetricId"], 2);
    assert_eq!(lines[1]["EventEndTime"], 1_669_351_669);
    assert_eq!(lines[1]["Source"], "Mqtt");
    for line in &lines {
        assert_eq!(line["kind"], "mqtt");
    }
}

#[test]
fn mqtt_encoder_output_round_trips_one_payload_per_line() {
    use ffc_protocols::mqtt::codec::{encode, Message};
    let serial = CameraSerial::from_u64(0x6afc_e315);
    let mut input = String::new();
    let mut sent = Vec::new();
    for n in 0..3u64 {
        let event = ffc_core::CountEvent {
            serial,
            roi: ffc_core::RoiId(2),
            metric: if n == 1 {
                ffc_core::Metric::Out
            } else {
                ffc_core::Metric::In
            },
            people_type: ffc_core::PeopleType::Staff,
            people_id: ffc_core::PeopleId(n + 40),
            start: 1_700_000_000 + n as i64 * 60,
            end: 1_700_000_002 + n as i64 * 60,
            offset: UtcOffset::from_seconds(-5 * 3600).expect("offset"),
            uuid: None,
            source: Source::Mqtt,
        };
        let mut text = String::new();
        encode(&Message::Count(event), &mut text).expect("encode");
        assert!(!text.contains('\n'));
        input.push_str(&text);
        input.push('\n');
        sent.push(event);
    }
    let (ok, out, err) = ffc_with(&["decode", "mqtt", "-"], &[], Some(input.as_bytes()));
    assert!(ok, "{err}");
    let got: Vec<ffc_core::CountEvent> = json_lines(&out)
        .into_iter()
        .map(|mut v| {
            let o = v.as_object_mut().expect("object");
            o.remove("kind");
            o.remove("payload");
            serde_json::from_value(v).expect("event")
        })
        .collect();
    assert_eq!(got, sent);
}

#[test]
fn malformed_mqtt_payloads_give_one_error_line_and_exit_1() {
    // (input, line the error names, a word of the reason)
    let cases: [(&str, usize, &str); 6] = [
        // Truncated on its third line, after a good payload on line 1.
        (
            "{\"CombineObjectTypeId\": 11, \"EventEndLocalTime\": \"2022-11-25 04:47:49\", \"EventEndTime\": 1669351669, \"EventEndUTCTime\": \"2022-11-25 04:47:49\", \"MetricId\": 2, \"PeopleId\": 1, \"PeopleTypeId\": 1, \"RoiId\": 1, \"CameraSerial\": \"000000007b77a260\"}\n{\"RoiId\": 1,\n \"ObjectCount\": ",
            3,
            "truncated",
        ),
        // A string that never ends, found while stripping a `#` comment.
        ("{\"RoiId\": \"1} # note\n", 1, "never ends"),
        ("[1, 2]\n", 1, "JSON object"),
        (
            "{\"ObjectCount\": 1, \"MetricId\": 1, \"RoiId\": 1}\n",
            1,
            "both",
        ),
        ("{\"RoiId\": 1}\n", 1, "neither"),
        // The UTC string disagrees with the unix time.
        (
            "{\"RoiId\": 1, \"CombineObjectTypeId\": 1, \"ObjectCount\": 0, \"Timestamp\": 1672889540, \"LocalTime\": \"2023-01-05 11:32:20\", \"UTCTime\": \"2023-01-05 04:32:20\", \"OccupancyTypeId\": 1, \"ObjectCountUnit\": 1, \"CameraSerial\": \"100000008c76409d\"}",
            1,
            "UTCTime",
        ),
    ];
    for (input, line, word) in cases {
        let (ok, out, _) = ffc_with(&["decode", "mqtt", "-"], &[], Some(input.as_bytes()));
        assert!(!ok, "{input}");
        let lines = json_lines(&out);
        let error = lines.last().expect("an error line");
        assert_eq!(error["kind"], "mqtt");
        assert_eq!(error["line"], line, "{input}: {error}");
        let reason = error["error"].as_str().expect("reason");
        assert!(reason.contains(word), "{input}: {reason}");
        assert_eq!(
            lines.iter().filter(|l| l.get("error").is_some()).count(),
            1,
            "one error line"
        );
    }
    let (ok, out, _) = ffc_with(&["decode", "mqtt", "-"], &[], Some(b"\xff{}"));
    assert!(!ok);
    assert_eq!(json_lines(&out)[0]["byte_offset"], 0);
    let (ok, out, _) = ffc_with(&["decode", "mqtt", "-"], &[], Some(b"  # only a comment\n"));
    assert!(!ok);
    assert!(out.contains("no payload"), "{out}");
}

#[test]
fn export_files_in_other_date_and_time_formats() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("export.csv");
    let path = path.display().to_string();
    // .NET patterns, as the export dialog offers them.
    std::fs::write(
        &path,
        "Site,Date,Time,ValueIn,ValueOut\nMain St,2024-01-31,1:00 PM,42,40\n",
    )
    .expect("write");
    let (ok, out, err) = ffc(&[
        "decode",
        "export-csv",
        &path,
        "--date-format",
        "yyyy-MM-dd",
        "--time-format",
        "h:mm tt",
    ]);
    assert!(ok, "{err}");
    let lines = json_lines(&out);
    assert_eq!(lines[0]["LocalTime"], "2024-01-31 13:00:00");
    assert_eq!(lines[0]["ValueDateTime"], 1_706_659_200 + 13 * 3600);
    // chrono patterns.
    std::fs::write(
        &path,
        "Site;Date;Time;ValueIn;ValueOut\nMain St;31.01.2024;13.30;42;40\n",
    )
    .expect("write");
    let (ok, out, err) = ffc(&[
        "decode",
        "export-csv",
        &path,
        "--date-format",
        "%d.%m.%Y",
        "--time-format",
        "%H.%M",
    ]);
    assert!(ok, "{err}");
    assert_eq!(json_lines(&out)[0]["LocalTime"], "2024-01-31 13:30:00");
    // The default formats do not read it: the row is named.
    let (ok, out, _) = ffc(&["decode", "export-csv", &path]);
    assert!(!ok);
    assert_eq!(json_lines(&out).last().expect("error")["line"], 2);
    // A pattern the reader cannot use is refused before reading.
    let (ok, out, err) = ffc(&["decode", "export-csv", &path, "--date-format", "%Q"]);
    assert!(!ok);
    assert!(out.is_empty());
    assert!(err.contains("--date-format"), "{err}");
}

/// spec §2: the exportData response, the cube `load` response in both shapes, and the
/// sales import body.
#[test]
fn v9_bodies_decode_and_bad_ones_name_the_row() {
    let export = r#"{"Data":[{"Company":"ACME","Site":"Main St","DateTime":"31/01/2024 13:00:00","ValueIn":42,"ValueOut":"40","AggregationStatus":"complete","BranchId":7,"SomethingNew":1},
      {"Site":"Main St","DateTime":"31/01/2024 14:00:00","ValueIn":7,"ValueOut":9}]}"#;
    let (ok, lines, err) = decode_file("v9-export", export, "UTC");
    assert!(ok, "{err}");
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["ValueIn"], 42);
    assert_eq!(lines[0]["ValueOut"], 40);
    assert_eq!(lines[0]["AggregationStatus"], "complete");
    assert_eq!(lines[1]["row"], 1);
    let (ok, lines, _) = decode_file(
        "v9-export",
        r#"{"Data":[{"ValueIn":1},{"ValueIn":"many"}]}"#,
        "UTC",
    );
    assert!(!ok);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["row"], 1);
    let (ok, lines, _) = decode_file("v9-export", r#"{"error":"token expired"}"#, "UTC");
    assert!(!ok);
    assert!(lines[0]["error"]
        .as_str()
        .expect("e")
        .contains("token expired"));

    let cube = r#"{"data":[{"ffc_site_summary.A01":"120","ffc_site_summary.A02":118,"ffc_site_summary.SiteId":"30273","ffc_site_summary.Time.day":"2024-01-01T00:00:00.000"}]}"#;
    let (ok, lines, err) = decode_file("v9-cube", cube, "UTC");
    assert!(ok, "{err}");
    assert_eq!(lines[0]["cube"], "ffc_site_summary");
    assert_eq!(lines[0]["time"], "2024-01-01 00:00:00");
    assert_eq!(lines[0]["measures"]["A01"], 120.0);
    assert_eq!(lines[0]["measures"]["A02"], 118.0);
    assert_eq!(lines[0]["members"]["SiteId"], "30273");
    let multi = r#"{"queryType":"multi","results":[{"data":[{"ffc_area_summary.A01":3,"ffc_area_summary.Time.hour":"2024-01-01T10:00:00.000"}]},{"data":[{"ffc_area_summary.A01":null,"ffc_area_summary.Time.hour":"2024-01-01T11:00:00.000"}]}]}"#;
    let (ok, lines, err) = decode_file("v9-cube", multi, "UTC");
    assert!(ok, "{err}");
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["cube"], "ffc_area_summary");
    assert_eq!(lines[1]["measures"], serde_json::json!({}));
    let (ok, lines, _) = decode_file(
        "v9-cube",
        r#"{"data":[{"ffc_site_summary.A01":1},{"ffc_site_summary.Time.day":"yesterday"}]}"#,
        "UTC",
    );
    assert!(!ok);
    assert_eq!(lines[0]["row"], 1);

    let sales = r#"[{"SiteCode":"S01","TransactionDate":"2024-05-01 10:00:00","TotalTransactionQuantity":3,"TotalTransactionAmount":45.5,"UnitPerTransaction":1.5}]"#;
    let (ok, lines, err) = decode_file("v9-sales", sales, "UTC");
    assert!(ok, "{err}");
    assert_eq!(lines[0]["SiteCode"], "S01");
    assert_eq!(lines[0]["TotalTransactionAmount"], 45.5);
    let (ok, lines, _) = decode_file(
        "v9-sales",
        r#"[{"SiteCode":"S","TransactionDate":"2024-05-01 10:00:00","TotalTransactionQuantity":1,"TotalTransactionAmount":1.005}]"#,
        "UTC",
    );
    assert!(!ok);
    assert_eq!(lines[0]["row"], 0);
    assert!(lines[0]["error"]
        .as_str()
        .expect("e")
        .contains("2 decimals"));
}

/// Every payload kind `ffc decode` knows has a published (or spec-shaped) sample here that
/// decodes; the match is exhaustive, so a new kind cannot be added without one.
#[test]
fn every_kind_decodes_a_sample() {
    use clap::ValueEnum as _;
    use ffc_cli::decode::Kind;
    for kind in Kind::value_variants() {
        let sample: &str = match kind {
            Kind::DeviceJson => DEVICE_JSON,
            Kind::DeviceXml => DEVICE_XML,
            Kind::Bacnet => WHO_IS,
            Kind::Ws => "{'Topic': 'ffc-eventrawdata', 'Data': {'EventStartUTCTime': '2020-06-17 03:16:41', 'EventEndLocalTime': '2020-06-17 11:16:41', 'EventStartTime': 1592363801, 'MetricId': 1, 'RoiId': 1, 'CameraSerial': '000000006afce315', 'PeopleId': 1, 'EventEndUTCTime': '2020-06-17 03:16:41', 'UploadedLocalDateTime': '2020-06-17 11:16:45', 'EventEndTime': 1592363801, 'EventStartLocalTime': '2020-06-17 11:16:41', 'UploadedUTCDateTime': '2020-06-17 03:16:45', 'PeopleTypeId': 1}}\n",
            Kind::SalesCsv => "StoreCode,DateTime,TotalTransactionQty,TotalTransactionValue\nS001,17-06-2020 11:05,3,45.50\n",
            Kind::ExportCsv => "Site,Date,Time,ValueIn,ValueOut\nMain St,31/01/2024,13:00:00,42,40\n",
            Kind::Mqtt => MQTT_PUBLISHED,
            Kind::V9Export => r#"{"Data":[{"Site":"Main St","DateTime":"31/01/2024 13:00:00","ValueIn":42}]}"#,
            Kind::V9Cube => r#"{"data":[{"ffc_site_summary.A01":"120","ffc_site_summary.Time.day":"2024-01-01T00:00:00.000"}]}"#,
            Kind::V9Sales => r#"[{"SiteCode":"S01","TransactionDate":"2024-05-01 10:00:00","TotalTransactionQuantity":3,"TotalTransactionAmount":45.5}]"#,
        };
        let (ok, lines, err) = decode_file(kind.name(), sample, "UTC");
        assert!(ok, "{}: {err}", kind.name());
        assert!(!lines.is_empty(), "{}", kind.name());
        assert!(lines.iter().all(|l| l["kind"] == kind.name()));
    }
}
