//! The sans-IO client driven datagram by datagram with explicit time: no socket, no clock.

use super::*;
use crate::bacnet::segmentation::ReassemblyError;
use crate::bacnet::wire::{
    AbortReason, ApduRepr, BvlcFunction, ErrorClass, ErrorCode, Frame, IAm, NpduRepr, ObjectId,
    ObjectType, PropertyId, ReadPropertyAck, ReadPropertyRequest, RejectReason, Segment,
    Segmentation, Value, WhoIs,
};
use std::time::Duration;

fn device() -> DeviceInfo {
    DeviceInfo::known(7, "192.0.2.7:47808".parse().unwrap())
}

fn config() -> BacnetClientConfig {
    BacnetClientConfig::default()
        .with_apdu_timeout(Duration::from_millis(100))
        .with_apdu_retries(2)
        .with_segment_timeout(Duration::from_millis(40))
}

fn from_device(apdu: ApduRepr, payload: &[u8]) -> Vec<u8> {
    Frame::to_vec(
        BvlcFunction::OriginalUnicast,
        &NpduRepr::local(false),
        &apdu,
        payload,
    )
}

fn read_name(core: &mut ClientCore, now_ms: u64) -> (u8, Transmit) {
    let body = ReadPropertyRequest {
        object: ObjectId::new(ObjectType::Device, 7),
        property: PropertyId::ObjectName,
        array_index: None,
    }
    .to_vec();
    core.request(&device(), ReadPropertyRequest::SERVICE, &body, now_ms)
        .unwrap()
}

fn name_ack() -> Vec<u8> {
    ReadPropertyAck {
        object: ObjectId::new(ObjectType::Device, 7),
        property: PropertyId::ObjectName,
        array_index: None,
        values: vec![Value::CharacterString("FFC".into())],
    }
    .to_vec()
}

fn answer(events: Vec<ClientEvent>) -> (u8, Result<Vec<u8>, BacnetClientError>) {
    match events.into_iter().last() {
        Some(ClientEvent::Answer { invoke_id, result }) => (invoke_id, result),
        other => panic!("expected an answer, got {other:?}"),
    }
}

fn segment(invoke_id: u8, sequence_number: u8, more_follows: bool, part: &[u8]) -> Vec<u8> {
    let apdu = ApduRepr::ComplexAck {
        invoke_id,
        segment: Some(Segment {
            sequence_number,
            proposed_window_size: 2,
            more_follows,
        }),
        service: ReadPropertyRequest::SERVICE,
    };
    from_device(apdu, part)
}

fn sent_apdu(event: &ClientEvent) -> ApduRepr {
    match event {
        ClientEvent::Send(transmit) => Frame::parse(&transmit.datagram).unwrap().apdu,
        other => panic!("expected a datagram to send, got {other:?}"),
    }
}

#[test]
fn request_then_unsegmented_answer() {
    let mut core = ClientCore::new(config());
    let (id, transmit) = read_name(&mut core, 0);
    assert_eq!(transmit.to, device().address);
    let frame = Frame::parse(&transmit.datagram).unwrap();
    assert!(matches!(
        frame.apdu,
        ApduRepr::ConfirmedRequest { invoke_id, segment: None, service: 12, .. } if invoke_id == id
    ));
    assert_eq!(core.next_deadline(), Some(100));
    let ack = from_device(
        ApduRepr::ComplexAck {
            invoke_id: id,
            segment: None,
            service: 12,
        },
        &name_ack(),
    );
    let (answered, result) = answer(core.handle(device().address, &ack, 10));
    assert_eq!(answered, id);
    assert_eq!(result.unwrap(), name_ack());
    assert_eq!(core.pending(), 0);
    assert_eq!(core.next_deadline(), None);
    assert_eq!(core.stats().requests, 1);
    assert_eq!(core.stats().round_trips(), 1);
}

#[test]
fn simple_ack_is_an_empty_body() {
    let mut core = ClientCore::new(config());
    let (id, _) = read_name(&mut core, 0);
    let ack = from_device(
        ApduRepr::SimpleAck {
            invoke_id: id,
            service: 12,
        },
        &[],
    );
    assert_eq!(
        answer(core.handle(device().address, &ack, 1)).1.unwrap(),
        Vec::<u8>::new()
    );
}

#[test]
fn wrong_invoke_id_wrong_peer_and_garbage_are_ignored() {
    let mut core = ClientCore::new(config());
    let (id, _) = read_name(&mut core, 0);
    let ack = |invoke_id| {
        from_device(
            ApduRepr::ComplexAck {
                invoke_id,
                segment: None,
                service: 12,
            },
            &name_ack(),
        )
    };
    assert!(core
        .handle(device().address, &ack(id.wrapping_add(1)), 1)
        .is_empty());
    let elsewhere: std::net::SocketAddr = "192.0.2.8:47808".parse().unwrap();
    assert!(core.handle(elsewhere, &ack(id), 2).is_empty());
    assert!(core
        .handle(device().address, &[0x81, 0x0a, 0x00], 3)
        .is_empty());
    // An I-Am with no Who-Is open.
    let i_am = from_device(
        ApduRepr::UnconfirmedRequest {
            service: IAm::SERVICE,
        },
        &IAm {
            device: ObjectId::new(ObjectType::Device, 7),
            max_apdu: 1476,
            segmentation: Segmentation::Both,
            vendor_id: 0,
        }
        .to_vec(),
    );
    assert!(core.handle(device().address, &i_am, 4).is_empty());
    assert_eq!(core.stats().ignored, 4);
    assert_eq!(core.pending(), 1);
    // The right answer still gets through.
    let (answered, result) = answer(core.handle(device().address, &ack(id), 5));
    assert_eq!(answered, id);
    assert!(result.is_ok());
}

#[test]
fn error_reject_and_abort_end_the_request() {
    let mut core = ClientCore::new(config());
    let (id, _) = read_name(&mut core, 0);
    let error = from_device(
        ApduRepr::Error {
            invoke_id: id,
            service: 12,
            class: ErrorClass::Object.code(),
            code: ErrorCode::UnknownObject.code(),
        },
        &[],
    );
    match answer(core.handle(device().address, &error, 1)).1 {
        Err(BacnetClientError::Service { class, code }) => {
            assert_eq!(
                (class, code),
                (ErrorClass::Object, ErrorCode::UnknownObject)
            )
        }
        other => panic!("expected a service error, got {other:?}"),
    }
    let (id, _) = read_name(&mut core, 2);
    let reject = from_device(
        ApduRepr::Reject {
            invoke_id: id,
            reason: RejectReason::UnrecognizedService,
        },
        &[],
    );
    assert!(matches!(
        answer(core.handle(device().address, &reject, 3)).1,
        Err(BacnetClientError::Rejected(
            RejectReason::UnrecognizedService
        ))
    ));
    let (id, _) = read_name(&mut core, 4);
    let abort = from_device(
        ApduRepr::Abort {
            from_server: true,
            invoke_id: id,
            reason: AbortReason::SegmentationNotSupported,
        },
        &[],
    );
    assert!(matches!(
        answer(core.handle(device().address, &abort, 5)).1,
        Err(BacnetClientError::Aborted(
            AbortReason::SegmentationNotSupported
        ))
    ));
    assert_eq!(core.pending(), 0);
}

#[test]
fn resends_after_apdu_timeout_then_times_out() {
    let mut core = ClientCore::new(config());
    let (id, request) = read_name(&mut core, 0);
    // Not yet due.
    assert!(core.on_timer(99).is_empty());
    for (attempt, now) in [(2u64, 100u64), (3, 200)] {
        let events = core.on_timer(now);
        assert_eq!(events.len(), 1);
        match &events[0] {
            ClientEvent::Send(resent) => assert_eq!(resent, &request),
            other => panic!("expected a resend, got {other:?}"),
        }
        assert_eq!(core.stats().requests, attempt);
        assert_eq!(core.next_deadline(), Some(now + 100));
    }
    let (answered, result) = answer(core.on_timer(300));
    assert_eq!(answered, id);
    match result {
        Err(BacnetClientError::Timeout { address, attempts }) => {
            assert_eq!((address, attempts), (device().address, 3))
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert_eq!(core.stats().requests, 3);
    assert_eq!(core.stats().retries, 2);
    assert_eq!(core.pending(), 0);
    // A late answer now is a stray.
    let late = from_device(
        ApduRepr::SimpleAck {
            invoke_id: id,
            service: 12,
        },
        &[],
    );
    assert!(core.handle(device().address, &late, 301).is_empty());
}

#[test]
fn segmented_answer_is_acknowledged_and_reassembled() {
    let mut core = ClientCore::new(config().with_window_size(2));
    let (id, _) = read_name(&mut core, 0);
    let body = name_ack();
    let (a, rest) = body.split_at(4);
    let (b, c) = rest.split_at(3);
    // Segment 0 is acknowledged at once; its window (2) is agreed.
    let events = core.handle(device().address, &segment(id, 0, true, a), 1);
    assert_eq!(events.len(), 1);
    assert_eq!(
        sent_apdu(&events[0]),
        ApduRepr::SegmentAck {
            negative: false,
            from_server: false,
            invoke_id: id,
            sequence_number: 0,
            actual_window_size: 2,
        }
    );
    // Now the segment timeout applies.
    assert_eq!(core.next_deadline(), Some(41));
    // Segment 1 is inside the window: no ack yet.
    assert!(core
        .handle(device().address, &segment(id, 1, true, b), 2)
        .is_empty());
    // The last segment: final ack, then the whole body.
    let events = core.handle(device().address, &segment(id, 2, false, c), 3);
    assert_eq!(events.len(), 2);
    assert!(matches!(
        sent_apdu(&events[0]),
        ApduRepr::SegmentAck {
            negative: false,
            sequence_number: 2,
            ..
        }
    ));
    let (answered, result) = answer(events);
    assert_eq!(answered, id);
    assert_eq!(result.unwrap(), body);
    let stats = core.stats();
    assert_eq!(stats.segments_received, 3);
    assert_eq!(stats.segment_acks, 2);
    assert_eq!(stats.segment_round_trips, 1);
}

#[test]
fn out_of_order_segment_gets_a_negative_ack() {
    let mut core = ClientCore::new(config());
    let (id, _) = read_name(&mut core, 0);
    core.handle(device().address, &segment(id, 0, true, b"ab"), 1);
    let events = core.handle(device().address, &segment(id, 2, true, b"ef"), 2);
    assert!(matches!(
        sent_apdu(&events[0]),
        ApduRepr::SegmentAck {
            negative: true,
            sequence_number: 0,
            ..
        }
    ));
    assert_eq!(core.pending(), 1);
}

#[test]
fn stalled_segmented_answer_is_asked_again_then_fails() {
    let mut core = ClientCore::new(config().with_apdu_retries(1));
    let (id, request) = read_name(&mut core, 0);
    core.handle(device().address, &segment(id, 0, true, b"ab"), 10);
    // The segments stop: after the segment timeout the request goes again, from scratch.
    let events = core.on_timer(50);
    assert!(matches!(&events[..], [ClientEvent::Send(resent)] if *resent == request));
    core.handle(device().address, &segment(id, 0, true, b"ab"), 60);
    match answer(core.on_timer(100)).1 {
        Err(BacnetClientError::SegmentTimeout { address, received }) => {
            assert_eq!((address, received), (device().address, 1))
        }
        other => panic!("expected a segment timeout, got {other:?}"),
    }
}

#[test]
fn segment_without_the_first_fails_the_request() {
    let mut core = ClientCore::new(config());
    let (id, _) = read_name(&mut core, 0);
    assert!(matches!(
        answer(core.handle(device().address, &segment(id, 1, true, b"x"), 1)).1,
        Err(BacnetClientError::Segmentation(
            ReassemblyError::NoFirstSegment
        ))
    ));
    assert_eq!(core.pending(), 0);
}

#[test]
fn request_over_the_device_max_apdu_is_refused() {
    let mut core = ClientCore::new(config());
    let small = DeviceInfo {
        max_apdu: 50,
        ..device()
    };
    match core.request(&small, 14, &[0u8; 60], 0) {
        Err(BacnetClientError::RequestTooLarge { max, .. }) => assert_eq!(max, 50),
        other => panic!("expected too large, got {other:?}"),
    }
    assert_eq!(core.pending(), 0);
    assert_eq!(core.stats().requests, 0);
}

#[test]
fn invoke_ids_skip_pending_ones_and_cancel_forgets() {
    let mut core = ClientCore::new(config());
    let (first, _) = read_name(&mut core, 0);
    let (second, _) = read_name(&mut core, 0);
    assert_ne!(first, second);
    assert_eq!(core.pending(), 2);
    core.cancel(first);
    assert_eq!(core.pending(), 1);
    // 254 more requests: the id still pending is never handed out again.
    for _ in 0..254 {
        let (id, _) = read_name(&mut core, 0);
        assert_ne!(id, second);
    }
    // One more fills all 256 ids; a 257th request is refused, not given an id in use.
    read_name(&mut core, 0);
    assert_eq!(core.pending(), 256);
    match core.request(&device(), 12, &[], 0) {
        Err(BacnetClientError::TooManyPending) => {}
        other => panic!("expected too many pending, got {other:?}"),
    }
    assert_eq!(core.pending(), 256);
}

#[test]
fn request_over_what_bacnet_ip_carries_is_refused_with_that_limit() {
    let mut core = ClientCore::new(config());
    let large = DeviceInfo {
        max_apdu: 50_000,
        ..device()
    };
    match core.request(&large, 14, &[0u8; 1500], 0) {
        Err(BacnetClientError::RequestTooLarge { max, .. }) => assert_eq!(max, 1476),
        other => panic!("expected too large, got {other:?}"),
    }
}

#[test]
fn who_is_finds_devices_in_range_until_discovery_ends() {
    let mut core = ClientCore::new(config());
    let broadcast = core.who_is("192.0.2.255:47808".parse().unwrap(), Some((1, 10)));
    let frame = Frame::parse(&broadcast.datagram).unwrap();
    assert_eq!(frame.bvlc.function, BvlcFunction::OriginalBroadcast);
    let unicast = core.who_is(device().address, Some((1, 10)));
    let frame = Frame::parse(&unicast.datagram).unwrap();
    assert_eq!(frame.bvlc.function, BvlcFunction::OriginalUnicast);
    assert_eq!(
        frame.service().unwrap(),
        crate::bacnet::wire::Service::WhoIs(WhoIs {
            range: Some((1, 10))
        })
    );
    let i_am = |instance| {
        from_device(
            ApduRepr::UnconfirmedRequest {
                service: IAm::SERVICE,
            },
            &IAm {
                device: ObjectId::new(ObjectType::Device, instance),
                max_apdu: 480,
                segmentation: Segmentation::Transmit,
                vendor_id: 9,
            }
            .to_vec(),
        )
    };
    match &core.handle(device().address, &i_am(7), 1)[..] {
        [ClientEvent::Found(info)] => {
            assert_eq!(info.instance, 7);
            assert_eq!(info.address, device().address);
            assert_eq!(info.max_apdu, 480);
            assert_eq!(info.segmentation, Segmentation::Transmit);
            assert_eq!(info.vendor_id, 9);
        }
        other => panic!("expected a device, got {other:?}"),
    }
    // Out of range: not found, and not counted as ignored.
    assert!(core.handle(device().address, &i_am(11), 2).is_empty());
    assert_eq!(core.stats().ignored, 0);
    core.end_discovery();
    assert!(core.handle(device().address, &i_am(7), 3).is_empty());
}
