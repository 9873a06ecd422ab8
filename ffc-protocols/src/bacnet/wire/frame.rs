//! A whole BACnet/IP datagram: BVLC, NPDU, APDU header and the service body.

use super::{
    Apdu, ApduRepr, Bvlc, BvlcFunction, BvlcRepr, IAm, Layer, Npdu, NpduRepr, ReadPropertyAck,
    ReadPropertyRequest, RpmAck, RpmRequest, WhoIs, WireError, WireErrorKind,
};
use alloc::vec::Vec;

/// The largest datagram accepted: a 1476-byte APDU plus the longest BVLC (10) and a routed
/// NPDU header with six-byte addresses (21), rounded up. The limit is on the datagram, not
/// the APDU, because real stacks overshoot the APDU limit by a header: bacpypes3 0.0.110
/// fills segments with max-APDU bytes of service data plus a 5-byte header (1481 bytes).
pub const MAX_DATAGRAM: usize = 1536;

/// A decoded datagram, borrowing its service body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame<'a> {
    /// The BVLC header.
    pub bvlc: BvlcRepr,
    /// The NPDU header.
    pub npdu: NpduRepr,
    /// The APDU header.
    pub apdu: ApduRepr,
    /// The service body (or, for a segment, this segment's part of it).
    pub payload: &'a [u8],
    /// The offset of `payload` in the datagram.
    pub payload_offset: usize,
}

/// A decoded service body.
#[derive(Debug, Clone, PartialEq)]
pub enum Service {
    /// Who-Is.
    WhoIs(WhoIs),
    /// I-Am.
    IAm(IAm),
    /// ReadProperty request.
    ReadProperty(ReadPropertyRequest),
    /// ReadPropertyMultiple request.
    ReadPropertyMultiple(RpmRequest),
    /// ReadProperty-ACK.
    ReadPropertyAck(ReadPropertyAck),
    /// ReadPropertyMultiple-ACK.
    ReadPropertyMultipleAck(RpmAck),
    /// A PDU whose header says it all (SimpleACK, SegmentACK, Error, Reject, Abort).
    HeaderOnly,
    /// One segment of a segmented message: reassemble before decoding.
    Segment,
    /// A service this codec does not decode.
    Unsupported {
        /// The service choice.
        service: u8,
    },
}

impl Service {
    /// Encodes the service body again (`None` for header-only PDUs and segments).
    pub fn to_vec(&self) -> Option<Vec<u8>> {
        Some(match self {
            Service::WhoIs(body) => body.to_vec(),
            Service::IAm(body) => body.to_vec(),
            Service::ReadProperty(body) => body.to_vec(),
            Service::ReadPropertyMultiple(body) => body.to_vec(),
            Service::ReadPropertyAck(body) => body.to_vec(),
            Service::ReadPropertyMultipleAck(body) => body.to_vec(),
            Service::HeaderOnly | Service::Segment | Service::Unsupported { .. } => return None,
        })
    }
}

/// The decoder's whole entry point, as the fuzz target and the property tests run it:
/// decodes a datagram and its service body; when that succeeds, encodes it again and
/// checks that decoding and encoding are stable (encode(decode(x)) decodes to the same
/// bytes). Returns the canonical encoding, or the error.
///
/// # Panics
/// When the codec is inconsistent, which is the bug a fuzzer looks for.
pub fn decode_and_reencode(datagram: &[u8]) -> Result<Vec<u8>, WireError> {
    let frame = Frame::parse(datagram)?;
    let service = frame.service()?;
    let body = service.to_vec().unwrap_or_else(|| frame.payload.to_vec());
    let first = Frame::to_vec(frame.bvlc.function, &frame.npdu, &frame.apdu, &body);
    let again = Frame::parse(&first).and_then(|f| {
        let service = f.service()?;
        let body = service.to_vec().unwrap_or_else(|| f.payload.to_vec());
        Ok(Frame::to_vec(f.bvlc.function, &f.npdu, &f.apdu, &body))
    });
    assert_eq!(again.as_ref(), Ok(&first), "re-encoding is not stable");
    Ok(first)
}

impl<'a> Frame<'a> {
    /// Decodes the headers of a datagram.
    pub fn parse(datagram: &'a [u8]) -> Result<Self, WireError> {
        let bvlc_view = Bvlc::new_checked(datagram)?;
        let bvlc = BvlcRepr::parse(&bvlc_view)?;
        let npdu_offset = bvlc.header_len();
        let npdu_bytes = datagram.get(npdu_offset..).unwrap_or(&[]);
        let (npdu, npdu_len) = NpduRepr::parse(&Npdu::new_unchecked(npdu_bytes), npdu_offset)?;
        if let Some(kind) = npdu.network_message {
            return Err(WireError {
                layer: Layer::Npdu,
                offset: npdu_offset + 1,
                kind: WireErrorKind::NetworkLayerMessage(kind),
            });
        }
        let apdu_offset = npdu_offset + npdu_len;
        let apdu_bytes = datagram.get(apdu_offset..).unwrap_or(&[]);
        let (apdu, apdu_len) = ApduRepr::parse(&Apdu::new_unchecked(apdu_bytes), apdu_offset)?;
        let payload_offset = apdu_offset + apdu_len;
        Ok(Frame {
            bvlc,
            npdu,
            apdu,
            payload: datagram.get(payload_offset..).unwrap_or(&[]),
            payload_offset,
        })
    }

    /// Decodes the service body this frame carries.
    pub fn service(&self) -> Result<Service, WireError> {
        decode_service(&self.apdu, self.payload, self.payload_offset)
    }

    /// Encodes a datagram from its parts.
    pub fn to_vec(
        function: BvlcFunction,
        npdu: &NpduRepr,
        apdu: &ApduRepr,
        payload: &[u8],
    ) -> Vec<u8> {
        let inner = npdu.buffer_len() + apdu.buffer_len() + payload.len();
        let bvlc = BvlcRepr {
            function,
            payload_len: inner,
        };
        let mut out = Vec::with_capacity(bvlc.header_len() + inner);
        bvlc.write(&mut out);
        npdu.write(&mut out);
        apdu.write(&mut out);
        out.extend_from_slice(payload);
        out
    }
}

/// Decodes a (reassembled) service body for the given APDU header.
pub(crate) fn decode_service(
    apdu: &ApduRepr,
    payload: &[u8],
    base: usize,
) -> Result<Service, WireError> {
    Ok(match *apdu {
        ApduRepr::UnconfirmedRequest { service } => match service {
            WhoIs::SERVICE => Service::WhoIs(WhoIs::parse(payload, base)?),
            IAm::SERVICE => Service::IAm(IAm::parse(payload, base)?),
            other => Service::Unsupported { service: other },
        },
        ApduRepr::ConfirmedRequest {
            segment: Some(_), ..
        }
        | ApduRepr::ComplexAck {
            segment: Some(_), ..
        } => Service::Segment,
        ApduRepr::ConfirmedRequest { service, .. } => match service {
            ReadPropertyRequest::SERVICE => {
                Service::ReadProperty(ReadPropertyRequest::parse(payload, base)?)
            }
            RpmRequest::SERVICE => Service::ReadPropertyMultiple(RpmRequest::parse(payload, base)?),
            other => Service::Unsupported { service: other },
        },
        ApduRepr::ComplexAck { service, .. } => match service {
            ReadPropertyRequest::SERVICE => {
                Service::ReadPropertyAck(ReadPropertyAck::parse(payload, base)?)
            }
            RpmRequest::SERVICE => Service::ReadPropertyMultipleAck(RpmAck::parse(payload, base)?),
            other => Service::Unsupported { service: other },
        },
        _ => Service::HeaderOnly,
    })
}
