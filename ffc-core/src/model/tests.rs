//! Unit and property tests of the model types.

use super::*;

#[test]
fn serial_parses_and_prints_lowercase() {
    let s = CameraSerial::parse("100000008C76409d").unwrap();
    assert_eq!(s.as_u64(), 0x1000_0000_8c76_409d);
    assert_eq!(format!("{s}"), "100000008c76409d");
}

proptest::proptest! {
    /// The fast digits are the standard formatting's, and parse back to the same serial.
    #[test]
    fn serial_hex_is_the_formatted_digits(value in proptest::num::u64::ANY) {
        let s = CameraSerial::from_u64(value);
        let expected = std::format!("{value:016x}");
        proptest::prop_assert_eq!(&s.hex()[..], expected.as_bytes());
        proptest::prop_assert_eq!(std::format!("{s}"), expected.clone());
        proptest::prop_assert_eq!(CameraSerial::parse(&expected), Ok(s));
    }
}

#[test]
fn serial_rejects_with_position() {
    assert_eq!(
        CameraSerial::parse("00000000xxxxxxxx"),
        Err(ParseError::Character { position: 8 })
    );
    assert_eq!(
        CameraSerial::parse("abc"),
        Err(ParseError::Length {
            expected: 16,
            found: 3
        })
    );
    assert!(CameraSerial::parse("+00000006afce315").is_err());
}

#[test]
fn codes_round_trip_and_reject_unknown() {
    assert_eq!(Metric::from_code(1), Ok(Metric::In));
    assert_eq!(Metric::from_code(2), Ok(Metric::Out));
    assert_eq!(Metric::from_code(3), Err(CodeError::Metric(3)));
    assert_eq!(PeopleType::from_code(2), Ok(PeopleType::Staff));
    assert_eq!(PeopleType::from_code(0), Err(CodeError::PeopleType(0)));
    assert_eq!(
        ObjectType::from_code(21).map(ObjectType::people_type),
        Ok(PeopleType::Staff)
    );
    assert_eq!(ObjectType::from_code(1), Err(CodeError::ObjectType(1)));
    assert_eq!(PeopleType::Visitor.object_type().code(), 11);
}

fn event(uuid: Option<MessageId>) -> CountEvent {
    CountEvent {
        serial: CameraSerial::from_u64(0x6afc_e315),
        roi: RoiId(1),
        metric: Metric::In,
        people_type: PeopleType::Visitor,
        people_id: PeopleId(1),
        start: 1_592_363_801,
        end: 1_592_363_801,
        offset: UtcOffset::from_seconds(8 * 3600).unwrap(),
        uuid,
        source: Source::WebSocket,
    }
}

#[test]
fn key_prefers_uuid_and_ignores_provenance() {
    let a = event(None);
    let mut b = a;
    b.source = Source::Mqtt;
    assert_eq!(a.key(), b.key());
    let mut c = a;
    c.people_id = PeopleId(2);
    assert_ne!(a.key(), c.key());
    let id = uuid::Uuid::from_u128(0x658a2443_72ba_422c_85dc_e4e10baa1288);
    let d = event(Some(id));
    assert_eq!(d.key(), EventKey::Uuid(id));
}

#[cfg(feature = "serde")]
#[test]
fn event_serde_uses_wire_names_and_round_trips() {
    let id = uuid::Uuid::from_u128(0x658a2443_72ba_422c_85dc_e4e10baa1288);
    let e = event(Some(id));
    let json = serde_json::to_string(&e).unwrap();
    assert!(
        json.contains("\"CameraSerial\":\"000000006afce315\""),
        "{json}"
    );
    assert!(json.contains("\"MetricId\":1"), "{json}");
    assert!(json.contains("\"PeopleTypeId\":1"), "{json}");
    assert!(json.contains("\"EventStartTime\":1592363801"), "{json}");
    assert!(
        json.contains("\"UUID\":\"658a2443-72ba-422c-85dc-e4e10baa1288\""),
        "{json}"
    );
    let back: CountEvent = serde_json::from_str(&json).unwrap();
    assert_eq!(back, e);
    let no_id = event(None);
    let json = serde_json::to_string(&no_id).unwrap();
    assert!(!json.contains("UUID"));
    assert_eq!(serde_json::from_str::<CountEvent>(&json).unwrap(), no_id);
    assert!(
        serde_json::from_str::<CountEvent>(&json.replace("\"MetricId\":1", "\"MetricId\":7"))
            .is_err()
    );
}

#[cfg(feature = "serde")]
#[test]
fn record_and_occupancy_round_trip() {
    let r = CountRecord {
        subject: Subject::Site(SiteId(30273)),
        start: 1_700_000_000,
        length: 3600,
        offset: UtcOffset::UTC,
        count_in: 12,
        count_out: 9,
        outside: Some(140),
        source: Source::ServerApi,
    };
    let json = serde_json::to_string(&r).unwrap();
    assert!(json.contains("\"ValueIn\":12") && json.contains("\"OutsideTraffic\":140"));
    assert_eq!(serde_json::from_str::<CountRecord>(&json).unwrap(), r);
    let o = OccupancySample {
        serial: CameraSerial::parse("100000008c76409d").unwrap(),
        roi: RoiId(1),
        object_type: 1,
        object_count: 0,
        timestamp: 1_672_889_540,
        offset: UtcOffset::from_seconds(8 * 3600).unwrap(),
        occupancy_type: 1,
        unit: 1,
    };
    let json = serde_json::to_string(&o).unwrap();
    assert!(json.contains("\"ObjectCount\":0") && json.contains("\"Timestamp\":1672889540"));
    assert_eq!(serde_json::from_str::<OccupancySample>(&json).unwrap(), o);
}
