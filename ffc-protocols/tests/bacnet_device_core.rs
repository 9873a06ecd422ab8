//! The sans-IO device: segmentation windows, retransmission, aborts, rejects and
//! segmented requests, driven datagram by datagram with explicit time.
#![cfg(feature = "bacnet")]

use ffc_core::Metric;
use ffc_protocols::bacnet::device::{instance_from_company_serial, BacnetDeviceConfig, DeviceCore};
use ffc_protocols::bacnet::segmentation::{Reassembly, SegmentStep};
use ffc_protocols::bacnet::wire::*;

fn values(metric: Metric, x: u8) -> u64 {
    match metric {
        Metric::In => u64::from(x),
        Metric::Out => 1000 + u64::from(x),
    }
}

const PEER: u8 = 1;

fn request(max_apdu: MaxApdu, max_segments: MaxSegments, accepted: bool, body: &[u8]) -> Vec<u8> {
    Frame::to_vec(
        BvlcFunction::OriginalUnicast,
        &NpduRepr::local(true),
        &ApduRepr::ConfirmedRequest {
            segmented_response_accepted: accepted,
            max_segments,
            max_apdu,
            invoke_id: 5,
            segment: None,
            service: RpmRequest::SERVICE,
        },
        body,
    )
}

/// ReadPropertyMultiple of object-name and present-value of all 96 values.
fn rpm_all() -> Vec<u8> {
    RpmRequest {
        specs: (0..96)
            .map(|i| ReadAccessSpec {
                object: ObjectId::new(ObjectType::AnalogValue, i),
                properties: vec![
                    PropertyReference::new(PropertyId::ObjectName),
                    PropertyReference::new(PropertyId::PresentValue),
                ],
            })
            .collect(),
    }
    .to_vec()
}

fn segment_ack(sequence_number: u8, window: u8) -> Vec<u8> {
    Frame::to_vec(
        BvlcFunction::OriginalUnicast,
        &NpduRepr::local(false),
        &ApduRepr::SegmentAck {
            negative: false,
            from_server: false,
            invoke_id: 5,
            sequence_number,
            actual_window_size: window,
        },
        &[],
    )
}

fn segment_of(datagram: &[u8]) -> (Segment, Vec<u8>) {
    let frame = Frame::parse(datagram).unwrap();
    match frame.apdu {
        ApduRepr::ComplexAck {
            segment: Some(segment),
            invoke_id: 5,
            service: 14,
        } => (segment, frame.payload.to_vec()),
        other => panic!("expected a segment, got {other:?}"),
    }
}

#[test]
fn segments_by_window_and_reassembles_to_the_full_answer() {
    let mut device = DeviceCore::<u8>::new(BacnetDeviceConfig::new(1));
    let first = device.handle(
        &values,
        PEER,
        &request(MaxApdu::Up480, MaxSegments::Unspecified, true, &rpm_all()),
        0,
    );
    assert_eq!(first.len(), 1, "only segment 0 before the first SegmentACK");
    let (segment, part) = segment_of(&first[0]);
    assert_eq!(segment.sequence_number, 0);
    assert!(segment.more_follows);
    assert!(first[0].len() - 6 <= 480, "APDU within the requester's max");
    let (mut reassembly, step) = Reassembly::start(5, false, segment, &part, 3).unwrap();
    assert!(matches!(step, SegmentStep::Continue(Some(_))));
    let mut window_start = 0u8;
    let body = loop {
        let sent = device.handle(&values, PEER, &segment_ack(window_start, 3), 10);
        assert!(
            !sent.is_empty() && sent.len() <= 3,
            "a window of at most 3: {}",
            sent.len()
        );
        let mut done = None;
        for datagram in &sent {
            let (segment, part) = segment_of(datagram);
            match reassembly.accept(segment, &part).unwrap() {
                SegmentStep::Continue(Some(ApduRepr::SegmentAck {
                    sequence_number, ..
                })) => window_start = sequence_number,
                SegmentStep::Continue(_) => {}
                SegmentStep::Done(_, body) => {
                    window_start = segment.sequence_number;
                    done = Some(body)
                }
            }
        }
        if let Some(body) = done {
            break body;
        }
    };
    // The final SegmentACK ends the transaction.
    assert!(device
        .handle(&values, PEER, &segment_ack(window_start, 3), 20)
        .is_empty());
    assert_eq!(device.pending_transactions(), 0);
    let ack = RpmAck::parse(&body, 0).unwrap();
    assert_eq!(ack.results.len(), 96);
    assert_eq!(
        ack.results[50].results[0].result,
        Ok(vec![Value::CharacterString("Out-C-2".into())])
    );
    assert_eq!(
        ack.results[50].results[1].result,
        Ok(vec![Value::Real(1002.0)])
    );
}

#[test]
fn resends_the_window_when_the_ack_is_late_then_gives_up() {
    let config = BacnetDeviceConfig::new(1);
    let timeout = config.segment_timeout.as_millis() as u64;
    let mut device = DeviceCore::<u8>::new(config);
    let first = device.handle(
        &values,
        PEER,
        &request(MaxApdu::Up480, MaxSegments::Unspecified, true, &rpm_all()),
        0,
    );
    assert_eq!(device.next_deadline(), Some(timeout));
    assert!(device.on_timer(timeout - 1).is_empty());
    let again = device.on_timer(timeout);
    assert_eq!(again, vec![(PEER, first[0].clone())]);
    for round in 2..=config.segment_retries {
        assert_eq!(device.on_timer(timeout * u64::from(round)).len(), 1);
    }
    // Out of retries: dropped.
    assert!(device.on_timer(timeout * 10).is_empty());
    assert_eq!(device.pending_transactions(), 0);
}

#[test]
fn aborts_when_the_answer_needs_segments_the_requester_refuses() {
    let mut device = DeviceCore::<u8>::new(BacnetDeviceConfig::new(1));
    let replies = device.handle(
        &values,
        PEER,
        &request(MaxApdu::Up480, MaxSegments::Unspecified, false, &rpm_all()),
        0,
    );
    let frame = Frame::parse(&replies[0]).unwrap();
    assert_eq!(
        frame.apdu,
        ApduRepr::Abort {
            from_server: true,
            invoke_id: 5,
            reason: AbortReason::SegmentationNotSupported
        }
    );
    // Accepts segments, but only 2 of 480 bytes: too few for ~2.9 kB.
    let replies = device.handle(
        &values,
        PEER,
        &request(MaxApdu::Up480, MaxSegments::Two, true, &rpm_all()),
        0,
    );
    assert!(matches!(
        Frame::parse(&replies[0]).unwrap().apdu,
        ApduRepr::Abort {
            reason: AbortReason::BufferOverflow,
            ..
        }
    ));
    assert_eq!(device.pending_transactions(), 0);
}

#[test]
fn rejects_unknown_services_and_malformed_requests_and_ignores_garbage() {
    let mut device = DeviceCore::<u8>::new(BacnetDeviceConfig::new(1));
    let write_property = Frame::to_vec(
        BvlcFunction::OriginalUnicast,
        &NpduRepr::local(true),
        &ApduRepr::ConfirmedRequest {
            segmented_response_accepted: false,
            max_segments: MaxSegments::Unspecified,
            max_apdu: MaxApdu::Up1476,
            invoke_id: 3,
            segment: None,
            service: 15,
        },
        &[0x0c, 0, 0x80, 0, 0],
    );
    let reply = device.handle(&values, PEER, &write_property, 0);
    assert_eq!(
        Frame::parse(&reply[0]).unwrap().apdu,
        ApduRepr::Reject {
            invoke_id: 3,
            reason: RejectReason::UnrecognizedService
        }
    );
    let reply = device.handle(
        &values,
        PEER,
        &request(
            MaxApdu::Up1476,
            MaxSegments::Unspecified,
            true,
            &[0x0c, 0x00],
        ),
        0,
    );
    assert_eq!(
        Frame::parse(&reply[0]).unwrap().apdu,
        ApduRepr::Reject {
            invoke_id: 5,
            reason: RejectReason::MissingRequiredParameter
        }
    );
    assert!(device
        .handle(&values, PEER, &[0x81, 0x0a, 0x00], 0)
        .is_empty());
    assert!(device
        .handle(&values, PEER, b"not bacnet at all", 0)
        .is_empty());
}

#[test]
fn rpm_reports_unknown_objects_and_properties_inside_the_ack() {
    let device = DeviceCore::<u8>::new(BacnetDeviceConfig::new(77));
    let ack = device.read_property_multiple(
        &values,
        &[
            ReadAccessSpec {
                object: ObjectId::new(ObjectType::AnalogValue, 96),
                properties: vec![PropertyReference::new(PropertyId::PresentValue)],
            },
            ReadAccessSpec {
                object: ObjectId::new(ObjectType::AnalogValue, 0),
                properties: vec![
                    PropertyReference::new(PropertyId::ProtocolRevision),
                    PropertyReference {
                        property: PropertyId::PresentValue,
                        array_index: Some(1),
                    },
                ],
            },
            ReadAccessSpec {
                object: ObjectId::new(ObjectType::Device, 0x3f_ffff),
                properties: vec![
                    PropertyReference {
                        property: PropertyId::ObjectList,
                        array_index: Some(0),
                    },
                    PropertyReference {
                        property: PropertyId::ObjectList,
                        array_index: Some(98),
                    },
                    PropertyReference::new(PropertyId::All),
                ],
            },
        ],
    );
    let error = |class, code| Err(ServiceError { class, code });
    assert_eq!(
        ack.results[0].results[0].result,
        error(ErrorClass::Object, ErrorCode::UnknownObject)
    );
    assert_eq!(
        ack.results[1].results[0].result,
        error(ErrorClass::Property, ErrorCode::UnknownProperty)
    );
    assert_eq!(
        ack.results[1].results[1].result,
        error(ErrorClass::Property, ErrorCode::PropertyIsNotAnArray)
    );
    // The wildcard instance means this device.
    assert_eq!(ack.results[2].object, ObjectId::new(ObjectType::Device, 77));
    assert_eq!(
        ack.results[2].results[0].result,
        Ok(vec![Value::Unsigned(97)])
    );
    assert_eq!(
        ack.results[2].results[1].result,
        error(ErrorClass::Property, ErrorCode::InvalidArrayIndex)
    );
    // `all` expands to every device property, each readable.
    assert!(ack.results[2].results.len() > 15);
    assert!(ack.results[2].results[2..].iter().all(|r| r.result.is_ok()));
}

#[test]
fn reassembles_a_segmented_request() {
    let mut device = DeviceCore::<u8>::new(BacnetDeviceConfig::new(1));
    let body = RpmRequest {
        specs: (0..4)
            .map(|i| ReadAccessSpec {
                object: ObjectId::new(ObjectType::AnalogValue, i),
                properties: vec![PropertyReference::new(PropertyId::PresentValue)],
            })
            .collect(),
    }
    .to_vec();
    let parts: Vec<&[u8]> = body.chunks(10).collect();
    let mut replies = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        let datagram = Frame::to_vec(
            BvlcFunction::OriginalUnicast,
            &NpduRepr::local(true),
            &ApduRepr::ConfirmedRequest {
                segmented_response_accepted: true,
                max_segments: MaxSegments::Unspecified,
                max_apdu: MaxApdu::Up1476,
                invoke_id: 9,
                segment: Some(Segment {
                    sequence_number: i as u8,
                    proposed_window_size: 8,
                    more_follows: i + 1 < parts.len(),
                }),
                service: RpmRequest::SERVICE,
            },
            part,
        );
        replies.extend(device.handle(&values, PEER, &datagram, 0));
    }
    let apdus: Vec<ApduRepr> = replies
        .iter()
        .map(|r| Frame::parse(r).unwrap().apdu)
        .collect();
    // SegmentACK for segment 0, then one for the last segment, then the answer.
    assert!(matches!(
        apdus[0],
        ApduRepr::SegmentAck {
            from_server: true,
            sequence_number: 0,
            ..
        }
    ));
    let last = (parts.len() - 1) as u8;
    assert!(
        matches!(apdus[apdus.len() - 2], ApduRepr::SegmentAck { from_server: true, sequence_number, .. } if sequence_number == last)
    );
    let answer = Frame::parse(replies.last().unwrap()).unwrap();
    match answer.service().unwrap() {
        Service::ReadPropertyMultipleAck(ack) => {
            assert_eq!(ack.results.len(), 4);
            assert_eq!(ack.results[3].results[0].result, Ok(vec![Value::Real(3.0)]));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn who_is_ranges_and_company_serials() {
    let mut device = DeviceCore::<u8>::new(BacnetDeviceConfig::new(
        instance_from_company_serial("FF-0042-123456").unwrap(),
    ));
    let who_is = |range| {
        Frame::to_vec(
            BvlcFunction::OriginalBroadcast,
            &NpduRepr::local(false),
            &ApduRepr::UnconfirmedRequest { service: 8 },
            &WhoIs { range }.to_vec(),
        )
    };
    assert_eq!(device.handle(&values, PEER, &who_is(None), 0).len(), 1);
    assert_eq!(
        device
            .handle(&values, PEER, &who_is(Some((123_456, 123_456))), 0)
            .len(),
        1
    );
    assert!(device
        .handle(&values, PEER, &who_is(Some((0, 123_455))), 0)
        .is_empty());
    let reply = device.handle(&values, PEER, &who_is(None), 0);
    match Frame::parse(&reply[0]).unwrap().service().unwrap() {
        Service::IAm(i_am) => {
            assert_eq!(i_am.device, ObjectId::new(ObjectType::Device, 123_456));
            assert_eq!(i_am.max_apdu, 1476);
        }
        other => panic!("{other:?}"),
    }
    assert!(instance_from_company_serial("abc12345x").is_err());
    assert!(instance_from_company_serial("12345").is_err());
    assert_eq!(instance_from_company_serial("000000").unwrap(), 0);
    assert_eq!(instance_from_company_serial("9999999999").unwrap(), 999_999);
}
