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
        offset in -64_800i32..=64_800,
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
