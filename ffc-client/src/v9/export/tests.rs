//! The export codec's tests: published shapes decode and round-trip, bad rows name the
//! row and field.

use super::*;
use crate::datefmt;
use ffc_core::{CameraSerial, SiteId, Subject, Zone};

/// spec §2, the published `infoJson`.
const SAMPLE_INFO: &str = r#"{"cat":"1","id":["26509"],"data":[],"fromdate":"dd/MM/yyyy","todate":"dd/MM/yyyy","period":"0","dateformat":"dd/MM/yyyy","timeformat":"HH:mm:ss"}"#;

#[test]
fn published_info_json_decodes_and_round_trips() {
    let info = InfoJson::from_json(SAMPLE_INFO).unwrap();
    assert_eq!(info.level, Level::Site);
    assert_eq!(info.ids, ["26509"]);
    assert_eq!(info.period, Period::Hourly);
    assert_eq!(info.date_format, "dd/MM/yyyy");
    // The published dates are placeholders: range() says so instead of guessing.
    assert!(matches!(info.range(), Err(DecodeError::Invalid(_))));
    let back: Value = serde_json::from_str(&info.to_json()).unwrap();
    let orig: Value = serde_json::from_str(SAMPLE_INFO).unwrap();
    assert_eq!(back, orig);
    assert!(InfoJson::from_json(&SAMPLE_INFO.replace(r#""cat":"1""#, r#""cat":"7""#)).is_err());
}

#[test]
fn info_json_dates_and_chunks() {
    let (d, t) = (datefmt::default_date(), datefmt::default_time());
    let from = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    let to = NaiveDate::from_ymd_opt(2024, 3, 15).unwrap();
    let info = InfoJson::new(Level::Counter, ["1", "2"], Period::Daily, from, to, &d, &t);
    assert_eq!(info.from_date, "01/01/2024");
    assert_eq!(info.range().unwrap(), (from, to));
    let chunks = info.chunks(30).unwrap();
    assert_eq!(chunks.len(), 3);
    assert_eq!(chunks[0].to_date, "30/01/2024");
    assert_eq!(chunks[1].from_date, "31/01/2024");
    assert_eq!(chunks[2].to_date, "15/03/2024");
}

/// Every key of the published row list, with strings where numbers could be.
#[test]
fn every_published_row_key_decodes_and_unknown_keys_stay() {
    let body = br#"{"Data":[{"AvgVisitDuration":"12.5","NewCustomer":3,"ReturningCustomer":"4","LessThanFifteen":1,
    "LessThanThirty":2,"OverThirty":0,"ReturnInWeek":1,"AggregationStatus":1,"ZoneID":null,"Week":"2","WeekString":"W2",
    "Month":"Jan","SiteTags":"mall","SiteTagsCount":1,"Day":"Mon","TransactionCount":"7","SalesAmount":"123.40",
    "AvgTransactionValue":17.63,"Company":"ACME","Site":"Main St","Counter":"Door","DateTime":"08/01/2024 10:00:00",
    "ValueDateTime":"2024-01-08T10:00:00","DateTimeFormat":"dd/MM/yyyy HH:mm:ss","ValueIn":"42","ValueOut":40,
    "OutsideTraffic":300,"TurnInRate":"14%","SalesConversion":0.16,"VerificationStatus":"Verified","BranchId":30273,
    "branchCode":"S01","Longitude":"101.7","Latitude":3.1,"CameraSerial":"000000006afce315","CameraId":77,
    "CoverageDays":"","StartOfDate":"2024-01-08","ReturningRate":0.5,"Brand":"new"}]}"#;
    let rows = decode_export(body).unwrap();
    let r = &rows[0];
    assert_eq!(r.value_in, Some(42));
    assert_eq!(r.value_out, Some(40));
    assert_eq!(r.turn_in_rate, Some(14.0));
    assert_eq!(r.sales_amount, Some(123.4));
    assert_eq!(r.coverage_days, None);
    assert_eq!(r.zone_id, None);
    assert_eq!(r.camera_id.as_deref(), Some("77"));
    assert_eq!(r.extra.get("Brand"), Some(&Value::from("new")));
    let (d, t) = (datefmt::default_date(), datefmt::default_time());
    let rec = r
        .to_record(Level::Site, Period::Hourly, Zone::UTC, &d, &t)
        .unwrap();
    assert_eq!(rec.subject, Subject::Site(SiteId(30273)));
    assert_eq!(rec.start, 1_704_708_000);
    assert_eq!(
        (rec.count_in, rec.count_out, rec.outside),
        (42, 40, Some(300))
    );
    let rec = r
        .to_record(Level::Counter, Period::Hourly, Zone::UTC, &d, &t)
        .unwrap();
    assert_eq!(
        rec.subject,
        Subject::Counter(CameraSerial::from_u64(0x6afc_e315))
    );
    // Round trip through the simulator's encoder keeps everything, unknown keys too.
    let again = decode_export(&encode_export(&rows)).unwrap();
    assert_eq!(again, rows);
}

#[test]
fn bad_rows_name_the_row_and_field() {
    let err = decode_export(br#"{"Data":[{"ValueIn":1},{"ValueIn":"many"}]}"#).unwrap_err();
    match err {
        DecodeError::Row { row, reason } => {
            assert_eq!(row, 1);
            assert!(reason.contains("many"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        decode_export(br#"{"Data":[1]}"#),
        Err(DecodeError::Row { row: 0, .. })
    ));
    assert!(matches!(
        decode_export(br#"{"ValueIn":-1}"#),
        Err(DecodeError::Missing("Data"))
    ));
    assert!(matches!(
        decode_export(br#"{"Data":[{"ValueOut":-3}]}"#),
        Err(DecodeError::Row { .. })
    ));
    assert_eq!(
        decode_export(br#"{"message":"token expired"}"#),
        Err(DecodeError::Server("token expired".into()))
    );
    let r =
        decode_row(br#"{"DateTime":"31/02/2024 10:00:00","ValueIn":1,"ValueOut":1,"BranchId":1}"#)
            .unwrap();
    let (d, t) = (datefmt::default_date(), datefmt::default_time());
    assert!(matches!(
        r.to_record(Level::Site, Period::Hourly, Zone::UTC, &d, &t),
        Err(ExportRowError::Bad {
            field: "DateTime",
            ..
        })
    ));
}

proptest::proptest! {
    #[test]
    /// The fuzz target's entry points (fuzz/fuzz_targets/export_row.rs), on stable.
    fn decode_never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
        let (d, t) = (datefmt::default_date(), datefmt::default_time());
        if let Ok(row) = decode_row(&bytes) {
            let _ = row.to_record(Level::Site, Period::Daily, Zone::UTC, &d, &t);
            let _ = row.to_record(Level::Counter, Period::Hourly, Zone::UTC, &d, &t);
        }
        let _ = decode_export(&bytes);
        let _ = crate::v9::cube::decode_load(crate::v9::cube::Cube::SiteSummary, &bytes);
        let _ = crate::v9::cube::CubeQuery::from_body(&bytes);
        let _ = crate::v9::token::decode_token(&bytes);
        let _ = crate::v9::sales::decode_import(&bytes);
        let _ = crate::v9::sales::decode_rows(&bytes);
    }

    #[test]
    /// Rows that look like the server's, with any values, never panic either.
    fn json_rows_never_panic(
        value_in in "[0-9a-z\\-\\. ]{0,6}",
        when in "[0-9/: T-]{0,22}",
        serial in "[0-9a-fA-Fx]{0,17}",
    ) {
        let body = serde_json::json!({"Data": [{"ValueIn": value_in, "ValueOut": 1, "DateTime": when,
            "ValueDateTime": when, "CameraSerial": serial, "BranchId": 3}]});
        let bytes = serde_json::to_vec(&body).unwrap();
        let (d, t) = (datefmt::default_date(), datefmt::default_time());
        if let Ok(rows) = decode_export(&bytes) {
            for r in rows {
                let _ = r.to_record(Level::Counter, Period::Hourly, Zone::UTC, &d, &t);
            }
        }
    }
}
