//! The application layer header (clause 20.1): the eight PDU types, their flags, invoke
//! ids, segmentation fields and service choices. The service body follows as the payload.

use super::tag::code_enum;
use super::value::{read_enumerated, Value};
use super::{Layer, Reader, Sink, WireError, WireErrorKind};

/// The PDU type, the high nibble of the first APDU byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PduType {
    /// BACnet-Confirmed-Request-PDU (0).
    ConfirmedRequest = 0,
    /// BACnet-Unconfirmed-Request-PDU (1).
    UnconfirmedRequest = 1,
    /// BACnet-SimpleACK-PDU (2).
    SimpleAck = 2,
    /// BACnet-ComplexACK-PDU (3).
    ComplexAck = 3,
    /// BACnet-SegmentACK-PDU (4).
    SegmentAck = 4,
    /// BACnet-Error-PDU (5).
    Error = 5,
    /// BACnet-Reject-PDU (6).
    Reject = 6,
    /// BACnet-Abort-PDU (7).
    Abort = 7,
}

impl PduType {
    /// From the high nibble of the first byte.
    pub const fn from_nibble(nibble: u8) -> Option<Self> {
        Some(match nibble {
            0 => PduType::ConfirmedRequest,
            1 => PduType::UnconfirmedRequest,
            2 => PduType::SimpleAck,
            3 => PduType::ComplexAck,
            4 => PduType::SegmentAck,
            5 => PduType::Error,
            6 => PduType::Reject,
            7 => PduType::Abort,
            _ => return None,
        })
    }
}

/// The largest APDU a device accepts (clause 20.1.2.5), in the six encodable sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MaxApdu {
    /// 50 octets (MS/TP minimum).
    Up50 = 0,
    /// 128 octets.
    Up128 = 1,
    /// 206 octets.
    Up206 = 2,
    /// 480 octets (ARCNET, MS/TP).
    Up480 = 3,
    /// 1024 octets.
    Up1024 = 4,
    /// 1476 octets (BACnet/IP, Ethernet).
    Up1476 = 5,
}

impl MaxApdu {
    /// The size in octets.
    pub const fn octets(self) -> u16 {
        match self {
            MaxApdu::Up50 => 50,
            MaxApdu::Up128 => 128,
            MaxApdu::Up206 => 206,
            MaxApdu::Up480 => 480,
            MaxApdu::Up1024 => 1024,
            MaxApdu::Up1476 => 1476,
        }
    }

    /// The largest encodable size not above `octets` (50 at least).
    pub const fn at_most(octets: u32) -> Self {
        if octets >= 1476 {
            MaxApdu::Up1476
        } else if octets >= 1024 {
            MaxApdu::Up1024
        } else if octets >= 480 {
            MaxApdu::Up480
        } else if octets >= 206 {
            MaxApdu::Up206
        } else if octets >= 128 {
            MaxApdu::Up128
        } else {
            MaxApdu::Up50
        }
    }

    const fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            0 => MaxApdu::Up50,
            1 => MaxApdu::Up128,
            2 => MaxApdu::Up206,
            3 => MaxApdu::Up480,
            4 => MaxApdu::Up1024,
            5 => MaxApdu::Up1476,
            _ => return None,
        })
    }
}

/// How many segments of a response a requester accepts (clause 20.1.2.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MaxSegments {
    /// Not said.
    Unspecified = 0,
    /// 2.
    Two = 1,
    /// 4.
    Four = 2,
    /// 8.
    Eight = 3,
    /// 16.
    Sixteen = 4,
    /// 32.
    ThirtyTwo = 5,
    /// 64.
    SixtyFour = 6,
    /// More than 64.
    MoreThan64 = 7,
}

impl MaxSegments {
    /// The limit, `None` when unspecified or over 64.
    pub const fn count(self) -> Option<u32> {
        match self {
            MaxSegments::Unspecified | MaxSegments::MoreThan64 => None,
            MaxSegments::Two => Some(2),
            MaxSegments::Four => Some(4),
            MaxSegments::Eight => Some(8),
            MaxSegments::Sixteen => Some(16),
            MaxSegments::ThirtyTwo => Some(32),
            MaxSegments::SixtyFour => Some(64),
        }
    }

    const fn from_code(code: u8) -> Self {
        match code & 0x07 {
            1 => MaxSegments::Two,
            2 => MaxSegments::Four,
            3 => MaxSegments::Eight,
            4 => MaxSegments::Sixteen,
            5 => MaxSegments::ThirtyTwo,
            6 => MaxSegments::SixtyFour,
            7 => MaxSegments::MoreThan64,
            _ => MaxSegments::Unspecified,
        }
    }
}

code_enum! {
    /// Why a request was rejected (clause 18.8).
    RejectReason: u8 {
        /// other.
        Unspecified = 0,
        /// buffer-overflow.
        BufferOverflow = 1,
        /// inconsistent-parameters.
        InconsistentParameters = 2,
        /// invalid-parameter-data-type.
        InvalidParameterDataType = 3,
        /// invalid-tag.
        InvalidTag = 4,
        /// missing-required-parameter.
        MissingRequiredParameter = 5,
        /// parameter-out-of-range.
        ParameterOutOfRange = 6,
        /// too-many-arguments.
        TooManyArguments = 7,
        /// undefined-enumeration.
        UndefinedEnumeration = 8,
        /// unrecognized-service.
        UnrecognizedService = 9,
    }
}

code_enum! {
    /// Why a transaction was aborted (clause 18.9).
    AbortReason: u8 {
        /// other.
        Unspecified = 0,
        /// buffer-overflow.
        BufferOverflow = 1,
        /// invalid-apdu-in-this-state.
        InvalidApduInThisState = 2,
        /// preempted-by-higher-priority-task.
        PreemptedByHigherPriorityTask = 3,
        /// segmentation-not-supported.
        SegmentationNotSupported = 4,
        /// security-error.
        SecurityError = 5,
        /// insufficient-security.
        InsufficientSecurity = 6,
        /// window-size-out-of-range.
        WindowSizeOutOfRange = 7,
        /// application-exceeded-reply-time.
        ApplicationExceededReplyTime = 8,
        /// out-of-resources.
        OutOfResources = 9,
        /// tsm-timeout.
        TsmTimeout = 10,
        /// apdu-too-long.
        ApduTooLong = 11,
    }
}

/// The segmentation fields of a segmented confirmed request or Complex-ACK.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Segment {
    /// The segment's sequence number (wraps at 256).
    pub sequence_number: u8,
    /// The sender's proposed window size (1..=127).
    pub proposed_window_size: u8,
    /// More segments follow.
    pub more_follows: bool,
}

/// A borrowed view over an APDU.
#[derive(Debug, Clone, Copy)]
pub struct Apdu<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Apdu<T> {
    /// Wraps the bytes; the accessors never panic.
    pub const fn new_unchecked(buffer: T) -> Self {
        Apdu { buffer }
    }

    /// The PDU type, if the first byte is present and names one.
    pub fn pdu_type(&self) -> Option<PduType> {
        PduType::from_nibble(self.buffer.as_ref().first()? >> 4)
    }

    /// The invoke id, for the PDU types that carry one.
    pub fn invoke_id(&self) -> Option<u8> {
        let bytes = self.buffer.as_ref();
        match self.pdu_type()? {
            PduType::ConfirmedRequest => bytes.get(2).copied(),
            PduType::UnconfirmedRequest => None,
            _ => bytes.get(1).copied(),
        }
    }

    /// The bytes of the APDU.
    pub fn as_bytes(&self) -> &[u8] {
        self.buffer.as_ref()
    }
}

/// The owned APDU header (everything before the service body).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApduRepr {
    /// A confirmed service request.
    ConfirmedRequest {
        /// The requester accepts a segmented answer.
        segmented_response_accepted: bool,
        /// How many segments the requester accepts.
        max_segments: MaxSegments,
        /// The largest APDU the requester accepts.
        max_apdu: MaxApdu,
        /// Matches the answer to the request.
        invoke_id: u8,
        /// Present when the request itself is segmented.
        segment: Option<Segment>,
        /// The confirmed service choice.
        service: u8,
    },
    /// An unconfirmed service request.
    UnconfirmedRequest {
        /// The unconfirmed service choice.
        service: u8,
    },
    /// A successful answer without data.
    SimpleAck {
        /// The request's invoke id.
        invoke_id: u8,
        /// The request's service choice.
        service: u8,
    },
    /// A successful answer with data, possibly one segment of it.
    ComplexAck {
        /// The request's invoke id.
        invoke_id: u8,
        /// Present when the answer is segmented.
        segment: Option<Segment>,
        /// The request's service choice.
        service: u8,
    },
    /// Acknowledges segments up to `sequence_number`.
    SegmentAck {
        /// A negative acknowledgement: segments were lost after `sequence_number`.
        negative: bool,
        /// Sent by the server (acknowledging a segmented request).
        from_server: bool,
        /// The transaction's invoke id.
        invoke_id: u8,
        /// The last segment received in order.
        sequence_number: u8,
        /// The receiver's window size.
        actual_window_size: u8,
    },
    /// The service failed.
    Error {
        /// The request's invoke id.
        invoke_id: u8,
        /// The request's service choice.
        service: u8,
        /// The error class (device, object, property, ...).
        class: u32,
        /// The error code.
        code: u32,
    },
    /// The request was malformed or asked for an unknown service.
    Reject {
        /// The request's invoke id.
        invoke_id: u8,
        /// Why.
        reason: RejectReason,
    },
    /// The transaction was ended.
    Abort {
        /// Sent by the server.
        from_server: bool,
        /// The transaction's invoke id.
        invoke_id: u8,
        /// Why.
        reason: AbortReason,
    },
}

impl ApduRepr {
    /// Parses the header at the front of `view`; `base` is its offset in the datagram.
    /// Returns the header and its length; the service body is the rest.
    pub fn parse<T: AsRef<[u8]>>(view: &Apdu<T>, base: usize) -> Result<(Self, usize), WireError> {
        let mut reader = Reader::new(view.as_bytes(), base, Layer::Apdu);
        let first = reader.u8()?;
        let pdu_type = PduType::from_nibble(first >> 4)
            .ok_or_else(|| reader.error_at(0, WireErrorKind::UnknownPduType(first >> 4)))?;
        let segmented = first & 0x08 != 0;
        let more_follows = first & 0x04 != 0;
        let repr = match pdu_type {
            PduType::ConfirmedRequest => read_confirmed_request(&mut reader, first)?,
            PduType::UnconfirmedRequest => ApduRepr::UnconfirmedRequest {
                service: reader.u8()?,
            },
            PduType::SimpleAck => ApduRepr::SimpleAck {
                invoke_id: reader.u8()?,
                service: reader.u8()?,
            },
            PduType::ComplexAck => {
                let invoke_id = reader.u8()?;
                let segment = if segmented {
                    Some(read_segment(&mut reader, more_follows)?)
                } else {
                    None
                };
                ApduRepr::ComplexAck {
                    invoke_id,
                    segment,
                    service: reader.u8()?,
                }
            }
            PduType::SegmentAck => ApduRepr::SegmentAck {
                negative: first & 0x02 != 0,
                from_server: first & 0x01 != 0,
                invoke_id: reader.u8()?,
                sequence_number: reader.u8()?,
                actual_window_size: read_window(&mut reader)?,
            },
            PduType::Error => {
                let invoke_id = reader.u8()?;
                let service = reader.u8()?;
                let class = read_enumerated(&mut reader)?;
                let code = read_enumerated(&mut reader)?;
                ApduRepr::Error {
                    invoke_id,
                    service,
                    class,
                    code,
                }
            }
            PduType::Reject => ApduRepr::Reject {
                invoke_id: reader.u8()?,
                reason: RejectReason::from_code(reader.u8()?),
            },
            PduType::Abort => ApduRepr::Abort {
                from_server: first & 0x01 != 0,
                invoke_id: reader.u8()?,
                reason: AbortReason::from_code(reader.u8()?),
            },
        };
        Ok((repr, reader.position()))
    }

    /// The invoke id, for the PDU types that carry one.
    pub const fn invoke_id(&self) -> Option<u8> {
        match *self {
            ApduRepr::UnconfirmedRequest { .. } => None,
            ApduRepr::ConfirmedRequest { invoke_id, .. }
            | ApduRepr::SimpleAck { invoke_id, .. }
            | ApduRepr::ComplexAck { invoke_id, .. }
            | ApduRepr::SegmentAck { invoke_id, .. }
            | ApduRepr::Error { invoke_id, .. }
            | ApduRepr::Reject { invoke_id, .. }
            | ApduRepr::Abort { invoke_id, .. } => Some(invoke_id),
        }
    }

    pub(crate) fn write(&self, out: &mut impl Sink) {
        match *self {
            ApduRepr::ConfirmedRequest {
                segmented_response_accepted,
                max_segments,
                max_apdu,
                invoke_id,
                segment,
                service,
            } => {
                // PDU type 0 in the high nibble.
                let mut first = segment_flags(segment);
                if segmented_response_accepted {
                    first |= 0x02;
                }
                out.put_u8(first);
                out.put_u8(((max_segments as u8) << 4) | max_apdu as u8);
                out.put_u8(invoke_id);
                write_segment(out, segment);
                out.put_u8(service);
            }
            ApduRepr::UnconfirmedRequest { service } => {
                out.put_u8(0x10);
                out.put_u8(service);
            }
            ApduRepr::SimpleAck { invoke_id, service } => {
                out.put(&[0x20, invoke_id, service]);
            }
            ApduRepr::ComplexAck {
                invoke_id,
                segment,
                service,
            } => {
                out.put_u8(0x30 | segment_flags(segment));
                out.put_u8(invoke_id);
                write_segment(out, segment);
                out.put_u8(service);
            }
            ApduRepr::SegmentAck {
                negative,
                from_server,
                invoke_id,
                sequence_number,
                actual_window_size,
            } => {
                let first = 0x40 | if negative { 0x02 } else { 0 } | u8::from(from_server);
                out.put(&[first, invoke_id, sequence_number, actual_window_size]);
            }
            ApduRepr::Error {
                invoke_id,
                service,
                class,
                code,
            } => {
                out.put(&[0x50, invoke_id, service]);
                Value::Enumerated(class).write(out);
                Value::Enumerated(code).write(out);
            }
            ApduRepr::Reject { invoke_id, reason } => out.put(&[0x60, invoke_id, reason.code()]),
            ApduRepr::Abort {
                from_server,
                invoke_id,
                reason,
            } => out.put(&[0x70 | u8::from(from_server), invoke_id, reason.code()]),
        }
    }
}

super::emit_methods!(ApduRepr);

/// The rest of a Confirmed-Request header after its first byte `first`.
fn read_confirmed_request(reader: &mut Reader<'_>, first: u8) -> Result<ApduRepr, WireError> {
    let segmented = first & 0x08 != 0;
    let more_follows = first & 0x04 != 0;
    let sizes = reader.u8()?;
    let max_apdu = MaxApdu::from_code(sizes & 0x0f)
        .ok_or_else(|| reader.error_at(1, WireErrorKind::OutOfRange))?;
    let invoke_id = reader.u8()?;
    let segment = if segmented {
        Some(read_segment(reader, more_follows)?)
    } else {
        None
    };
    Ok(ApduRepr::ConfirmedRequest {
        segmented_response_accepted: first & 0x02 != 0,
        max_segments: MaxSegments::from_code(sizes >> 4),
        max_apdu,
        invoke_id,
        segment,
        service: reader.u8()?,
    })
}

fn segment_flags(segment: Option<Segment>) -> u8 {
    match segment {
        Some(Segment {
            more_follows: true, ..
        }) => 0x0c,
        Some(_) => 0x08,
        None => 0x00,
    }
}

fn write_segment(out: &mut impl Sink, segment: Option<Segment>) {
    if let Some(segment) = segment {
        out.put_u8(segment.sequence_number);
        out.put_u8(segment.proposed_window_size);
    }
}

fn read_window(reader: &mut Reader<'_>) -> Result<u8, WireError> {
    let start = reader.position();
    let window = reader.u8()?;
    if !(1..=127).contains(&window) {
        return Err(reader.error_at(start, WireErrorKind::OutOfRange));
    }
    Ok(window)
}

fn read_segment(reader: &mut Reader<'_>, more_follows: bool) -> Result<Segment, WireError> {
    Ok(Segment {
        sequence_number: reader.u8()?,
        proposed_window_size: read_window(reader)?,
        more_follows,
    })
}
