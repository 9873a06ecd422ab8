//! The BACnet/IP codec: annotated byte vectors for every PDU kind, malformed input, and
//! properties (encode → decode, and the fuzz entry point on arbitrary bytes).
#![cfg(feature = "bacnet")]

use ffc_protocols::bacnet::wire::*;
use proptest::prelude::*;

/// Hex with spaces and `|` separators (for annotation) to bytes.
fn hex(text: &str) -> Vec<u8> {
    let digits: String = text.chars().filter(|c| c.is_ascii_hexdigit()).collect();
    (0..digits.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&digits[i..i + 2], 16).unwrap())
        .collect()
}

const DEVICE_123456: ObjectId = ObjectId::new(ObjectType::Device, 123_456);
const AV0: ObjectId = ObjectId::new(ObjectType::AnalogValue, 0);

/// Checks both directions: the bytes decode to `apdu` + `service`, and encoding those
/// gives the bytes back.
fn vector(bytes: &[u8], function: BvlcFunction, npdu: NpduRepr, apdu: ApduRepr, service: Service) {
    let frame = Frame::parse(bytes).unwrap();
    assert_eq!(frame.bvlc.function, function);
    assert_eq!(frame.npdu, npdu);
    assert_eq!(frame.apdu, apdu);
    assert_eq!(frame.service().unwrap(), service);
    let body = service.to_vec().unwrap_or_else(|| frame.payload.to_vec());
    assert_eq!(Frame::to_vec(function, &npdu, &apdu, &body), bytes);
    assert_eq!(decode_and_reencode(bytes).unwrap(), bytes);
}

#[test]
fn who_is_global() {
    let bytes = hex("81 0b 0008 | 01 00 | 10 08");
    //               BVLC: BACnet/IP, Original-Broadcast-NPDU, length 8
    //                            NPDU: version 1, control 0 (no reply expected)
    //                                    APDU: unconfirmed request, service 8 (Who-Is)
    vector(
        &bytes,
        BvlcFunction::OriginalBroadcast,
        NpduRepr::local(false),
        ApduRepr::UnconfirmedRequest { service: 8 },
        Service::WhoIs(WhoIs { range: None }),
    );
}

#[test]
fn who_is_with_range() {
    let bytes = hex("81 0b 000e | 01 00 | 10 08 | 09 64 | 1b 01 86 a0");
    //               [0] low limit: context 0, length 1, 100
    //                                                   [1] high limit: context 1, length 3, 100000
    vector(
        &bytes,
        BvlcFunction::OriginalBroadcast,
        NpduRepr::local(false),
        ApduRepr::UnconfirmedRequest { service: 8 },
        Service::WhoIs(WhoIs {
            range: Some((100, 100_000)),
        }),
    );
}

#[test]
fn i_am() {
    let bytes = hex("81 0a 0014 | 01 00 | 10 00 | c4 02 01 e2 40 | 22 05 c4 | 91 01 | 21 00");
    // Original-Unicast; unconfirmed service 0 (I-Am);
    // c4: application tag 12 (object id), 4 bytes: device (8) << 22 | 123456;
    // 22: unsigned, 2 bytes: max APDU 1476; 91: enumerated 1 (segmented-transmit);
    // 21: unsigned 0 (vendor).
    vector(
        &bytes,
        BvlcFunction::OriginalUnicast,
        NpduRepr::local(false),
        ApduRepr::UnconfirmedRequest { service: 0 },
        Service::IAm(IAm {
            device: DEVICE_123456,
            max_apdu: 1476,
            segmentation: Segmentation::Transmit,
            vendor_id: 0,
        }),
    );
}

#[test]
fn read_property_request() {
    let bytes = hex("81 0a 0011 | 01 04 | 02 65 01 0c | 0c 02 01 e2 40 | 19 4c");
    // NPDU control 04: expecting reply.
    // 02: confirmed request, SA (segmented response accepted); 65: max segments 64 (6),
    // max APDU 1476 (5); invoke id 1; service 12 (ReadProperty).
    // 0c: [0] object id; 19 4c: [1] property 76 (object-list).
    vector(
        &bytes,
        BvlcFunction::OriginalUnicast,
        NpduRepr::local(true),
        ApduRepr::ConfirmedRequest {
            segmented_response_accepted: true,
            max_segments: MaxSegments::SixtyFour,
            max_apdu: MaxApdu::Up1476,
            invoke_id: 1,
            segment: None,
            service: 12,
        },
        Service::ReadProperty(ReadPropertyRequest {
            object: DEVICE_123456,
            property: PropertyId::ObjectList,
            array_index: None,
        }),
    );
}

#[test]
fn read_property_request_with_array_index() {
    let bytes = hex("81 0a 0013 | 01 04 | 00 05 09 0c | 0c 02 01 e2 40 | 19 4c | 29 00");
    // 00: no SA; 05: max segments unspecified, 1476; invoke 9; [2] array index 0.
    vector(
        &bytes,
        BvlcFunction::OriginalUnicast,
        NpduRepr::local(true),
        ApduRepr::ConfirmedRequest {
            segmented_response_accepted: false,
            max_segments: MaxSegments::Unspecified,
            max_apdu: MaxApdu::Up1476,
            invoke_id: 9,
            segment: None,
            service: 12,
        },
        Service::ReadProperty(ReadPropertyRequest {
            object: DEVICE_123456,
            property: PropertyId::ObjectList,
            array_index: Some(0),
        }),
    );
}

#[test]
fn read_property_ack() {
    let bytes =
        hex("81 0a 0017 | 01 00 | 30 01 0c | 0c 02 01 e2 40 | 19 4d | 3e | 74 00 46 46 43 | 3f");
    // 30: Complex-ACK, invoke 1, service 12; [1] property 77 (object-name);
    // 3e: opening [3]; 74: character string, 4 bytes: charset 0 (UTF-8), "FFC"; 3f: closing [3].
    vector(
        &bytes,
        BvlcFunction::OriginalUnicast,
        NpduRepr::local(false),
        ApduRepr::ComplexAck {
            invoke_id: 1,
            segment: None,
            service: 12,
        },
        Service::ReadPropertyAck(ReadPropertyAck {
            object: DEVICE_123456,
            property: PropertyId::ObjectName,
            array_index: None,
            values: vec![Value::CharacterString("FFC".into())],
        }),
    );
}

#[test]
fn read_property_multiple_request() {
    let bytes = hex("81 0a 0015 | 01 04 | 02 05 02 0e | 0c 00 80 00 00 | 1e | 09 4d | 09 55 | 1f");
    // service 14 (ReadPropertyMultiple); [0] analog-value 0 (2 << 22);
    // 1e: opening [1]; [0] property 77 (object-name); [0] property 85 (present-value); 1f.
    vector(
        &bytes,
        BvlcFunction::OriginalUnicast,
        NpduRepr::local(true),
        ApduRepr::ConfirmedRequest {
            segmented_response_accepted: true,
            max_segments: MaxSegments::Unspecified,
            max_apdu: MaxApdu::Up1476,
            invoke_id: 2,
            segment: None,
            service: 14,
        },
        Service::ReadPropertyMultiple(RpmRequest {
            specs: vec![ReadAccessSpec {
                object: AV0,
                properties: vec![
                    PropertyReference::new(PropertyId::ObjectName),
                    PropertyReference::new(PropertyId::PresentValue),
                ],
            }],
        }),
    );
}

#[test]
fn read_property_multiple_ack_with_value_and_error() {
    let bytes = hex("81 0a 002e | 01 00 | 30 02 0e | 0c 00 80 00 00 | 1e \
         | 29 4d | 4e 75 07 00 49 6e 2d 43 2d 30 4f \
         | 29 55 | 4e 44 42 c8 00 00 4f \
         | 29 75 | 5e 91 02 91 20 5f \
         | 1f");
    // [2] property 77, 4e..4f: [4] value "In-C-0" (75 07: string, 7 bytes);
    // [2] property 85, [4] value 44: REAL 100.0;
    // [2] property 117 (units), 5e..5f: [5] error class 2 (property), code 32 (unknown-property).
    vector(
        &bytes,
        BvlcFunction::OriginalUnicast,
        NpduRepr::local(false),
        ApduRepr::ComplexAck {
            invoke_id: 2,
            segment: None,
            service: 14,
        },
        Service::ReadPropertyMultipleAck(RpmAck {
            results: vec![ReadAccessResult {
                object: AV0,
                results: vec![
                    PropertyResult {
                        property: PropertyId::ObjectName,
                        array_index: None,
                        result: Ok(vec![Value::CharacterString("In-C-0".into())]),
                    },
                    PropertyResult {
                        property: PropertyId::PresentValue,
                        array_index: None,
                        result: Ok(vec![Value::Real(100.0)]),
                    },
                    PropertyResult {
                        property: PropertyId::Units,
                        array_index: None,
                        result: Err(ServiceError {
                            class: ErrorClass::Property,
                            code: ErrorCode::UnknownProperty,
                        }),
                    },
                ],
            }],
        }),
    );
}

#[test]
fn simple_ack() {
    // 20: SimpleACK, invoke 7, service 15 (WriteProperty).
    let bytes = hex("81 0a 0009 | 01 00 | 20 07 0f");
    vector(
        &bytes,
        BvlcFunction::OriginalUnicast,
        NpduRepr::local(false),
        ApduRepr::SimpleAck {
            invoke_id: 7,
            service: 15,
        },
        Service::HeaderOnly,
    );
}

#[test]
fn error_pdu() {
    // 50: Error, invoke 1, service 12; 91 01: class object; 91 1f: code 31 (unknown-object).
    let bytes = hex("81 0a 000d | 01 00 | 50 01 0c | 91 01 | 91 1f");
    vector(
        &bytes,
        BvlcFunction::OriginalUnicast,
        NpduRepr::local(false),
        ApduRepr::Error {
            invoke_id: 1,
            service: 12,
            class: 1,
            code: 31,
        },
        Service::HeaderOnly,
    );
}

#[test]
fn reject_pdu() {
    // 60: Reject, invoke 1, reason 9 (unrecognized-service).
    let bytes = hex("81 0a 0009 | 01 00 | 60 01 09");
    vector(
        &bytes,
        BvlcFunction::OriginalUnicast,
        NpduRepr::local(false),
        ApduRepr::Reject {
            invoke_id: 1,
            reason: RejectReason::UnrecognizedService,
        },
        Service::HeaderOnly,
    );
}

#[test]
fn abort_pdu() {
    // 71: Abort sent by the server, invoke 1, reason 4 (segmentation-not-supported).
    let bytes = hex("81 0a 0009 | 01 00 | 71 01 04");
    vector(
        &bytes,
        BvlcFunction::OriginalUnicast,
        NpduRepr::local(false),
        ApduRepr::Abort {
            from_server: true,
            invoke_id: 1,
            reason: AbortReason::SegmentationNotSupported,
        },
        Service::HeaderOnly,
    );
}

#[test]
fn segment_acks() {
    // 40: SegmentACK from the client, invoke 2, sequence 0, window 16.
    let bytes = hex("81 0a 000a | 01 00 | 40 02 00 10");
    vector(
        &bytes,
        BvlcFunction::OriginalUnicast,
        NpduRepr::local(false),
        ApduRepr::SegmentAck {
            negative: false,
            from_server: false,
            invoke_id: 2,
            sequence_number: 0,
            actual_window_size: 16,
        },
        Service::HeaderOnly,
    );
    // 43: negative, from the server.
    let bytes = hex("81 0a 000a | 01 00 | 43 02 05 04");
    vector(
        &bytes,
        BvlcFunction::OriginalUnicast,
        NpduRepr::local(false),
        ApduRepr::SegmentAck {
            negative: true,
            from_server: true,
            invoke_id: 2,
            sequence_number: 5,
            actual_window_size: 4,
        },
        Service::HeaderOnly,
    );
}

#[test]
fn segmented_complex_ack() {
    // 3c: Complex-ACK, segmented, more follows; invoke 2, sequence 0, window 2, service 14;
    // then the first bytes of the ReadPropertyMultiple-ACK.
    let first = hex("81 0a 0010 | 01 00 | 3c 02 00 02 0e | 0c 00 80 00 00");
    vector(
        &first,
        BvlcFunction::OriginalUnicast,
        NpduRepr::local(false),
        ApduRepr::ComplexAck {
            invoke_id: 2,
            segment: Some(Segment {
                sequence_number: 0,
                proposed_window_size: 2,
                more_follows: true,
            }),
            service: 14,
        },
        Service::Segment,
    );
    // 38: segmented, last segment (sequence 1).
    let last = hex("81 0a 000c | 01 00 | 38 02 01 02 0e | 1e");
    let frame = Frame::parse(&last).unwrap();
    assert_eq!(
        frame.apdu,
        ApduRepr::ComplexAck {
            invoke_id: 2,
            segment: Some(Segment {
                sequence_number: 1,
                proposed_window_size: 2,
                more_follows: false,
            }),
            service: 14,
        }
    );
    assert_eq!(frame.payload, [0x1e]);
    assert_eq!(frame.payload_offset, 11);
}

#[test]
fn routed_npdu_and_forwarded_bvlc() {
    // Forwarded-NPDU from 192.0.2.1:47808; NPDU control 0x28: destination and source
    // present; DNET 0xffff broadcast (DLEN 0), SNET 5 with a 1-byte MAC 0x07, hop count 255.
    let bytes = hex("81 04 0016 c0 00 02 01 ba c0 | 01 28 ff ff 00 00 05 01 07 ff | 10 08");
    let frame = Frame::parse(&bytes).unwrap();
    assert_eq!(
        frame.bvlc.function,
        BvlcFunction::Forwarded {
            address: [192, 0, 2, 1],
            port: 47808
        }
    );
    assert_eq!(
        frame.npdu.destination,
        Some(NetAddress {
            network: 0xffff,
            mac: vec![]
        })
    );
    assert_eq!(frame.npdu.source.as_ref().unwrap().mac, [7]);
    assert_eq!(frame.npdu.hop_count, 255);
    assert_eq!(
        frame.service().unwrap(),
        Service::WhoIs(WhoIs { range: None })
    );
    assert_eq!(decode_and_reencode(&bytes).unwrap(), bytes);
}

#[test]
fn every_application_tag() {
    let cases: Vec<(&str, Value)> = vec![
        ("00", Value::Null),
        ("10", Value::Boolean(false)),
        ("11", Value::Boolean(true)),
        ("21 00", Value::Unsigned(0)),
        ("22 01 00", Value::Unsigned(256)),
        ("25 05 01 02 03 04 05", Value::Unsigned(0x01_0203_0405)),
        ("31 ff", Value::Signed(-1)),
        ("31 7f", Value::Signed(127)),
        ("32 00 80", Value::Signed(128)),
        ("32 ff 7f", Value::Signed(-129)),
        ("44 3f 80 00 00", Value::Real(1.0)),
        ("55 08 40 00 00 00 00 00 00 00", Value::Double(2.0)),
        ("62 ab cd", Value::OctetString(vec![0xab, 0xcd])),
        ("71 00", Value::CharacterString(String::new())),
        ("74 00 c3 a9 74", Value::CharacterString("\u{e9}t".into())),
        ("82 04 f0", Value::BitString(vec![true, true, true, true])),
        ("91 5f", Value::Enumerated(95)),
        ("a4 7e 0b 1d 03", Value::Date([126, 11, 29, 3])),
        ("b4 17 3b 00 00", Value::Time([23, 59, 0, 0])),
        (
            "c4 00 80 00 2f",
            Value::ObjectId(ObjectId::new(ObjectType::AnalogValue, 47)),
        ),
    ];
    for (text, value) in cases {
        let bytes = hex(text);
        assert_eq!(
            Value::parse(&bytes).unwrap(),
            (value.clone(), bytes.len()),
            "{text}"
        );
        assert_eq!(value.to_vec(), bytes, "{text}");
    }
}

#[test]
fn extended_lengths_and_tag_numbers() {
    // A 300-byte string: length in 254 + 2 bytes.
    let text = "x".repeat(299);
    let encoded = Value::CharacterString(text.clone()).to_vec();
    assert_eq!(&encoded[..4], &[0x75, 0xfe, 0x01, 0x2c]);
    assert_eq!(
        Value::parse(&encoded).unwrap().0,
        Value::CharacterString(text)
    );
    // A 10-byte octet string: length in one extra byte.
    let encoded = Value::OctetString(vec![1; 10]).to_vec();
    assert_eq!(&encoded[..2], &[0x65, 0x0a]);
}

fn error_of(bytes: &[u8]) -> WireError {
    match Frame::parse(bytes).and_then(|f| f.service()) {
        Err(error) => error,
        Ok(service) => panic!("expected an error, decoded {service:?}"),
    }
}

#[test]
fn truncated_datagrams() {
    let empty = error_of(&[]);
    assert_eq!(empty.layer, Layer::Bvlc);
    assert_eq!(
        empty.kind,
        WireErrorKind::Truncated {
            needed: 1,
            available: 0
        }
    );
    // BVLC header cut short.
    assert_eq!(error_of(&hex("81 0a 00")).offset, 2);
    // Length says 8, datagram has 7.
    let cut = error_of(&hex("81 0b 0008 01 00 10"));
    assert_eq!(
        cut.kind,
        WireErrorKind::LengthMismatch {
            declared: 8,
            actual: 7
        }
    );
    // NPDU missing.
    let npdu = error_of(&hex("81 0a 0004"));
    assert_eq!((npdu.layer, npdu.offset), (Layer::Npdu, 4));
    // APDU missing.
    let apdu = error_of(&hex("81 0a 0006 01 00"));
    assert_eq!((apdu.layer, apdu.offset), (Layer::Apdu, 6));
    // ReadProperty whose object identifier stops after 2 of 4 bytes.
    let body = error_of(&hex("81 0a 000c 01 04 00 05 01 0c 0c 02"));
    assert_eq!(body.layer, Layer::Tag);
    assert_eq!(body.offset, 11);
    assert!(matches!(
        body.kind,
        WireErrorKind::Truncated {
            needed: 4,
            available: 1
        }
    ));
    // A ReadPropertyMultiple-ACK without its closing tags.
    let open = error_of(&hex("81 0a 0012 01 00 30 02 0e 0c 00 80 00 00 1e 29 55 4e"));
    assert_eq!(open.kind, WireErrorKind::UnbalancedTag);
    // A segment without its window byte.
    let seg = error_of(&hex("81 0a 0009 01 00 3c 02 00"));
    assert_eq!(seg.offset, 9);
}

#[test]
fn oversized_datagrams() {
    let mut big = vec![0u8; MAX_DATAGRAM + 1];
    big[..4].copy_from_slice(&[0x81, 0x0a, 0x06, 0x01]);
    let error = error_of(&big);
    assert_eq!(
        error.kind,
        WireErrorKind::Oversized {
            length: MAX_DATAGRAM + 1,
            limit: MAX_DATAGRAM
        }
    );
    // A bit string claiming 2000 bits.
    let mut value = vec![0x85, 0xfe, 0x00, 0xfb, 0x00];
    value.extend(std::iter::repeat_n(0xff, 250));
    assert!(matches!(
        Value::parse(&value).unwrap_err().kind,
        WireErrorKind::Oversized {
            length: 2000,
            limit: 1024
        }
    ));
    // A tag declaring 4 GB of content.
    let huge = hex("65 ff ff ff ff ff 00");
    assert!(matches!(
        Value::parse(&huge).unwrap_err().kind,
        WireErrorKind::Truncated { .. }
    ));
}

#[test]
fn malformed_datagrams() {
    let cases: Vec<(&str, Layer, usize, WireErrorKind)> = vec![
        (
            "82 0a 0008 01 00 10 08",
            Layer::Bvlc,
            0,
            WireErrorKind::NotBacnetIp(0x82),
        ),
        (
            "81 05 0008 01 00 10 08",
            Layer::Bvlc,
            1,
            WireErrorKind::UnsupportedBvlcFunction(5),
        ),
        (
            "81 0a 0008 02 00 10 08",
            Layer::Npdu,
            4,
            WireErrorKind::UnsupportedNpduVersion(2),
        ),
        (
            "81 0a 0007 01 80 01",
            Layer::Npdu,
            5,
            WireErrorKind::NetworkLayerMessage(1),
        ),
        (
            "81 0a 0008 01 00 80 08",
            Layer::Apdu,
            6,
            WireErrorKind::UnknownPduType(8),
        ),
        (
            "81 0a 000a 01 00 40 02 00 00",
            Layer::Apdu,
            9,
            WireErrorKind::OutOfRange,
        ),
        (
            "81 0a 000a 01 00 40 02 00 80",
            Layer::Apdu,
            9,
            WireErrorKind::OutOfRange,
        ),
        // Confirmed request with max-APDU code 6 (reserved).
        (
            "81 0a 000a 01 04 00 06 01 0c",
            Layer::Apdu,
            7,
            WireErrorKind::OutOfRange,
        ),
        // Who-Is whose high limit is an application tag.
        (
            "81 0a 000c 01 00 10 08 09 01 21 05",
            Layer::Tag,
            10,
            WireErrorKind::UnexpectedTag {
                expected: 1,
                found: 2,
            },
        ),
        // Who-Is limit over 22 bits.
        (
            "81 0a 000e 01 00 10 08 09 01 1b 40 00 00",
            Layer::Service,
            10,
            WireErrorKind::OutOfRange,
        ),
        // I-Am with a 3-byte REAL instead of the max-APDU unsigned.
        (
            "81 0a 0011 01 00 10 00 c4 02 01 e2 40 43 00 00 00",
            Layer::Tag,
            13,
            WireErrorKind::BadLength { tag: 4, length: 3 },
        ),
        // ReadProperty with trailing bytes.
        (
            "81 0a 0012 01 04 00 05 01 0c 0c 02 01 e2 40 19 4c 00",
            Layer::Service,
            17,
            WireErrorKind::TrailingBytes { count: 1 },
        ),
        // ReadProperty property identifier over 22 bits.
        (
            "81 0a 0013 01 04 00 05 01 0c 0c 02 01 e2 40 1b 40 00 00",
            Layer::Service,
            15,
            WireErrorKind::OutOfRange,
        ),
        // ReadProperty-ACK with a character string in charset 1.
        (
            "81 0a 0015 01 00 30 01 0c 0c 02 01 e2 40 19 4d 3e 72 01 41 3f",
            Layer::Tag,
            18,
            WireErrorKind::UnsupportedCharset(1),
        ),
        // ... with invalid UTF-8.
        (
            "81 0a 0015 01 00 30 01 0c 0c 02 01 e2 40 19 4d 3e 72 00 ff 3f",
            Layer::Tag,
            17,
            WireErrorKind::InvalidUtf8,
        ),
        // ... with a bit string of 8 unused bits.
        (
            "81 0a 0015 01 00 30 01 0c 0c 02 01 e2 40 19 6f 3e 82 08 00 3f",
            Layer::Tag,
            17,
            WireErrorKind::BadBitString,
        ),
        // ... with an application opening tag (lvt 6).
        (
            "81 0a 0013 01 00 30 01 0c 0c 02 01 e2 40 19 4d 3e 06 3f",
            Layer::Tag,
            17,
            WireErrorKind::WrongTagClass,
        ),
        // A boolean with value 2.
        (
            "81 0a 0013 01 00 30 01 0c 0c 02 01 e2 40 19 51 3e 12 3f",
            Layer::Tag,
            17,
            WireErrorKind::BadLength { tag: 1, length: 2 },
        ),
        // Extended tag number 255 (reserved).
        (
            "81 0a 0014 01 00 30 01 0c 0c 02 01 e2 40 19 51 3e f1 ff 3f",
            Layer::Tag,
            18,
            WireErrorKind::OutOfRange,
        ),
        // Error PDU whose class is an unsigned.
        (
            "81 0a 000d 01 00 50 01 0c 21 01 91 1f",
            Layer::Apdu,
            9,
            WireErrorKind::UnexpectedTag {
                expected: 9,
                found: 2,
            },
        ),
    ];
    for (text, layer, offset, kind) in cases {
        let error = error_of(&hex(text));
        assert_eq!(
            (error.layer, error.offset, error.kind),
            (layer, offset, kind),
            "{text}"
        );
        // Every error says where and why.
        let shown = error.to_string();
        assert!(shown.contains(&format!("byte {offset}")), "{shown}");
    }
}

fn arb_object_id() -> impl Strategy<Value = ObjectId> {
    (0u16..1024, 0u32..=0x3f_ffff).prop_map(|(t, i)| ObjectId::new(ObjectType::from_code(t), i))
}

fn arb_property() -> impl Strategy<Value = PropertyId> {
    (0u32..=0x3f_ffff).prop_map(PropertyId::from_code)
}

fn arb_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Boolean),
        any::<u64>().prop_map(Value::Unsigned),
        any::<i64>().prop_map(Value::Signed),
        any::<f32>()
            .prop_filter("NaN", |x| !x.is_nan())
            .prop_map(Value::Real),
        any::<f64>()
            .prop_filter("NaN", |x| !x.is_nan())
            .prop_map(Value::Double),
        proptest::collection::vec(any::<u8>(), 0..300).prop_map(Value::OctetString),
        ".{0,40}".prop_map(Value::CharacterString),
        proptest::collection::vec(any::<bool>(), 0..70).prop_map(Value::BitString),
        any::<u32>().prop_map(Value::Enumerated),
        any::<[u8; 4]>().prop_map(Value::Date),
        any::<[u8; 4]>().prop_map(Value::Time),
        arb_object_id().prop_map(Value::ObjectId),
    ]
}

fn arb_result() -> impl Strategy<Value = PropertyResult> {
    (
        arb_property(),
        proptest::option::of(any::<u32>()),
        prop_oneof![
            proptest::collection::vec(arb_value(), 0..3).prop_map(Ok),
            (any::<u32>(), any::<u32>()).prop_map(|(c, e)| Err(ServiceError {
                class: ErrorClass::from_code(c),
                code: ErrorCode::from_code(e),
            })),
        ],
    )
        .prop_map(|(property, array_index, result)| PropertyResult {
            property,
            array_index,
            result,
        })
}

fn arb_service() -> impl Strategy<Value = (u8, bool, Service)> {
    prop_oneof![
        proptest::option::of((0u32..=0x3f_ffff, 0u32..=0x3f_ffff)).prop_map(|range| (
            8,
            false,
            Service::WhoIs(WhoIs { range })
        )),
        (arb_object_id(), any::<u32>(), 0u32..4, any::<u32>()).prop_map(|(d, m, s, v)| (
            0,
            false,
            Service::IAm(IAm {
                device: d,
                max_apdu: m,
                segmentation: Segmentation::from_code(s),
                vendor_id: v
            })
        )),
        (
            arb_object_id(),
            arb_property(),
            proptest::option::of(any::<u32>())
        )
            .prop_map(|(object, property, array_index)| (
                12,
                true,
                Service::ReadProperty(ReadPropertyRequest {
                    object,
                    property,
                    array_index
                })
            )),
        proptest::collection::vec(
            (
                arb_object_id(),
                proptest::collection::vec(
                    (arb_property(), proptest::option::of(any::<u32>())).prop_map(
                        |(property, array_index)| PropertyReference {
                            property,
                            array_index
                        }
                    ),
                    1..4
                )
            )
                .prop_map(|(object, properties)| ReadAccessSpec { object, properties }),
            1..4
        )
        .prop_map(|specs| (
            14,
            true,
            Service::ReadPropertyMultiple(RpmRequest { specs })
        )),
        (
            arb_object_id(),
            arb_property(),
            proptest::option::of(any::<u32>()),
            proptest::collection::vec(arb_value(), 0..4)
        )
            .prop_map(|(object, property, array_index, values)| (
                12,
                false,
                Service::ReadPropertyAck(ReadPropertyAck {
                    object,
                    property,
                    array_index,
                    values
                })
            )),
        proptest::collection::vec(
            (
                arb_object_id(),
                proptest::collection::vec(arb_result(), 0..3)
            )
                .prop_map(|(object, results)| ReadAccessResult { object, results }),
            0..3
        )
        .prop_map(|results| (
            14,
            false,
            Service::ReadPropertyMultipleAck(RpmAck { results })
        )),
    ]
}

proptest! {
    #[test]
    fn values_round_trip(value in arb_value()) {
        let bytes = value.to_vec();
        prop_assert_eq!(value.buffer_len(), bytes.len());
        prop_assert_eq!(Value::parse(&bytes).unwrap(), (value, bytes.len()));
    }

    #[test]
    fn services_round_trip((service_choice, request, service) in arb_service(), invoke_id in any::<u8>()) {
        let apdu = match (service_choice, request) {
            (0 | 8, _) => ApduRepr::UnconfirmedRequest { service: service_choice },
            (_, true) => ApduRepr::ConfirmedRequest {
                segmented_response_accepted: true,
                max_segments: MaxSegments::SixtyFour,
                max_apdu: MaxApdu::Up1476,
                invoke_id,
                segment: None,
                service: service_choice,
            },
            (_, false) => ApduRepr::ComplexAck { invoke_id, segment: None, service: service_choice },
        };
        let body = service.to_vec().unwrap();
        let bytes = Frame::to_vec(BvlcFunction::OriginalUnicast, &NpduRepr::local(request), &apdu, &body);
        prop_assume!(bytes.len() <= MAX_DATAGRAM);
        let frame = Frame::parse(&bytes).unwrap();
        prop_assert_eq!(frame.apdu, apdu);
        prop_assert_eq!(frame.service().unwrap(), service);
        prop_assert_eq!(decode_and_reencode(&bytes).unwrap(), bytes);
    }

    #[test]
    fn headers_round_trip(
        invoke_id in any::<u8>(),
        sequence_number in any::<u8>(),
        window in 1u8..=127,
        flags in any::<(bool, bool)>(),
        reason in any::<u8>(),
    ) {
        let segment = Segment { sequence_number, proposed_window_size: window, more_follows: flags.0 };
        for apdu in [
            ApduRepr::ComplexAck { invoke_id, segment: Some(segment), service: 14 },
            ApduRepr::SegmentAck { negative: flags.0, from_server: flags.1, invoke_id, sequence_number, actual_window_size: window },
            ApduRepr::Abort { from_server: flags.1, invoke_id, reason: AbortReason::from_code(reason) },
            ApduRepr::Reject { invoke_id, reason: RejectReason::from_code(reason) },
            ApduRepr::SimpleAck { invoke_id, service: reason },
            ApduRepr::Error { invoke_id, service: 12, class: u32::from(reason), code: u32::from(invoke_id) },
        ] {
            let bytes = Frame::to_vec(BvlcFunction::OriginalUnicast, &NpduRepr::local(false), &apdu, &[]);
            prop_assert_eq!(Frame::parse(&bytes).unwrap().apdu, apdu);
        }
    }

    /// The fuzz target's client path: a client waiting for an answer (invoke id 0) and for
    /// I-Ams never panics on arbitrary datagrams, and what it sends back decodes.
    #[test]
    fn client_core_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        use ffc_protocols::bacnet::client::{BacnetClientConfig, ClientCore, ClientEvent, DeviceInfo};
        let peer: std::net::SocketAddr = "192.0.2.1:47808".parse().unwrap();
        let mut client = ClientCore::new(BacnetClientConfig::default());
        let _ = client.who_is(peer, None);
        let _ = client.request(&DeviceInfo::known(1, peer), 12, &[], 0);
        for event in client.handle(peer, &bytes, 1) {
            if let ClientEvent::Send(transmit) = event {
                prop_assert!(Frame::parse(&transmit.datagram).is_ok());
            }
        }
    }

    /// The fuzz target's entry point, on arbitrary bytes and on mutated valid datagrams:
    /// never panics, and whatever decodes re-encodes stably.
    #[test]
    fn decoder_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = decode_and_reencode(&bytes);
    }

    #[test]
    fn mutated_datagrams_never_panic(
        (service_choice, request, service) in arb_service(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        cut in any::<prop::sample::Index>(),
    ) {
        let apdu = if request {
            ApduRepr::ConfirmedRequest {
                segmented_response_accepted: true, max_segments: MaxSegments::Unspecified,
                max_apdu: MaxApdu::Up1476, invoke_id: 1, segment: None, service: service_choice,
            }
        } else if service_choice == 0 || service_choice == 8 {
            ApduRepr::UnconfirmedRequest { service: service_choice }
        } else {
            ApduRepr::ComplexAck { invoke_id: 1, segment: None, service: service_choice }
        };
        let mut bytes = Frame::to_vec(BvlcFunction::OriginalUnicast, &NpduRepr::local(request), &apdu, &service.to_vec().unwrap());
        for (index, byte) in flips {
            let i = index.index(bytes.len());
            bytes[i] ^= byte;
        }
        let _ = decode_and_reencode(&bytes);
        // Truncation with the length field fixed, so the body parsers see the cut.
        let keep = cut.index(bytes.len()).max(4);
        let mut cut_bytes = bytes[..keep].to_vec();
        let len = cut_bytes.len() as u16;
        cut_bytes[2..4].copy_from_slice(&len.to_be_bytes());
        let _ = decode_and_reencode(&cut_bytes);
    }
}
