//! Unit tests of the configuration and the redaction.

use super::*;

#[test]
fn config_hides_the_password_and_parses_settings() {
    let config = PgSinkConfig::new("postgresql://ffc:pw-in-url-9@127.0.0.1:6543/footfall")
        .unwrap()
        .with_pool_size(0)
        .with_batch_size(7)
        .with_queue_bound(3);
    assert_eq!(config.pool_size(), 1);
    assert_eq!(config.batch_size(), 7);
    assert_eq!(config.queue_bound(), 3);
    assert_eq!(config.dbname(), Some("footfall"));
    assert_eq!(
        config.to_string(),
        "postgresql://ffc@127.0.0.1:6543/footfall"
    );
    let debug = format!("{config:?}");
    assert!(!debug.contains("pw-in-url-9"), "{debug}");
    assert!(debug.contains("<redacted>"), "{debug}");
    let config = config.with_password("pw-given-7");
    assert!(!format!("{config:?} {config}").contains("pw-given-7"));
}

#[test]
fn bad_urls_do_not_echo_the_password() {
    for url in [
        "postgresql://ffc:pw-secret-x@127.0.0.1:notaport/db",
        "postgresql://ffc:pw-secret-x@[::1/db",
        "host=127.0.0.1 password='pw-secret-x",
        "host=127.0.0.1 password=pw-secret-x sslmode=nonsense",
    ] {
        match PgSinkConfig::new(url) {
            Err(e) => {
                let text = format!("{e} {e:?}");
                assert!(!text.contains("pw-secret"), "{url}: {text}");
            }
            Ok(c) => panic!("{url} parsed: {c:?}"),
        }
    }
}

#[test]
fn missing_password_variable_names_the_variable() {
    let config = PgSinkConfig::new("postgresql://ffc@127.0.0.1/db").unwrap();
    match config.with_password_from_env("FFC_TEST_SURELY_UNSET_PASSWORD_VAR") {
        Err(PgSinkError::Config { reason }) => {
            assert!(reason.contains("FFC_TEST_SURELY_UNSET_PASSWORD_VAR"))
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn redaction_replaces_every_occurrence() {
    assert_eq!(
        redact("a hunter2 b hunter2".into(), Some(b"hunter2")),
        "a <redacted> b <redacted>"
    );
    assert_eq!(redact("nothing".into(), Some(b"")), "nothing");
    assert_eq!(redact("nothing".into(), None), "nothing");
}

#[test]
fn fast_path_totals_sum_each_hour_bucket_once_in_bucket_order() {
    use ffc_core::{CameraSerial, CountEvent, Metric, PeopleId, PeopleType, RoiId, Source};
    let event = |serial: u64, metric: Metric, people_id: u64, end: i64| CountEvent {
        serial: CameraSerial::from_u64(serial),
        roi: RoiId(1),
        metric,
        people_type: PeopleType::Visitor,
        people_id: PeopleId(people_id),
        start: end - 1,
        end,
        offset: ffc_core::UtcOffset::from_seconds(0).unwrap(),
        uuid: None,
        source: Source::WebSocket,
    };
    let events = [
        event(2, Metric::In, 1, 7_200),
        event(1, Metric::In, 2, 3_599),
        event(1, Metric::In, 3, 3_600),
        event(1, Metric::In, 4, 7_199),
        event(1, Metric::Out, 5, 3_600),
        // Before 1970: the hour still starts at or before the end (-1 is in -3600's hour).
        event(1, Metric::In, 6, -1),
    ];
    let totals = writer_stage::Totals::of(&events);
    let expected = writer_stage::Totals::from_rows(&[
        (1, 1, 1, 1, -3_600, 1),
        (1, 1, 1, 1, 0, 1),
        (1, 1, 1, 1, 3_600, 2),
        (1, 1, 2, 1, 3_600, 1),
        (2, 1, 1, 1, 7_200, 1),
    ]);
    assert_eq!(totals, expected);
    assert_eq!(
        writer_stage::Totals::of(&[]),
        writer_stage::Totals::default()
    );
}

#[test]
fn a_serial_goes_on_the_wire_as_its_sixteen_digits() {
    use ffc_core::CameraSerial;
    use tokio_postgres::types::{ToSql, Type};
    for value in [0, 0x6afc_e315, 0x1000_0000_8c76_409d, u64::MAX] {
        let serial = CameraSerial::from_u64(value);
        let mut out = bytes::BytesMut::new();
        let written = writer_stage::SerialText(serial).to_sql_checked(&Type::TEXT, &mut out);
        assert!(written.is_ok());
        // Against the standard formatting, not `Display` (which writes through `hex` too).
        assert_eq!(&out[..], format!("{value:016x}").as_bytes());
    }
    // Only a text column takes it.
    let mut out = bytes::BytesMut::new();
    let wrong =
        writer_stage::SerialText(CameraSerial::from_u64(1)).to_sql_checked(&Type::INT8, &mut out);
    assert!(wrong.is_err());
}
