//! BACnet/IP virtual link control (Annex J): `0x81`, function, 16-bit total length.

use super::{Layer, Reader, Sink, WireError, WireErrorKind};
use crate::bacnet::wire::frame::MAX_DATAGRAM;

/// The BVLC type byte of BACnet/IP.
pub const BVLC_TYPE_BACNET_IP: u8 = 0x81;

/// The BVLC functions this codec carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BvlcFunction {
    /// Original-Unicast-NPDU (0x0a).
    OriginalUnicast,
    /// Original-Broadcast-NPDU (0x0b).
    OriginalBroadcast,
    /// Forwarded-NPDU (0x04) from a BBMD, with the original source's IPv4 address and port.
    Forwarded {
        /// IPv4 address of the original sender.
        address: [u8; 4],
        /// UDP port of the original sender.
        port: u16,
    },
}

impl BvlcFunction {
    /// The function code.
    pub const fn code(self) -> u8 {
        match self {
            BvlcFunction::OriginalUnicast => 0x0a,
            BvlcFunction::OriginalBroadcast => 0x0b,
            BvlcFunction::Forwarded { .. } => 0x04,
        }
    }
}

/// A borrowed view over a BVLC header and what follows it.
#[derive(Debug, Clone, Copy)]
pub struct Bvlc<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Bvlc<T> {
    /// Wraps the bytes without checking; the accessors still never panic.
    pub const fn new_unchecked(buffer: T) -> Self {
        Bvlc { buffer }
    }

    /// Wraps the bytes after checking the type byte, the length field against the size of
    /// the datagram, and the datagram limit.
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        let view = Bvlc { buffer };
        let bytes = view.buffer.as_ref();
        if bytes.len() > MAX_DATAGRAM {
            return Err(WireError {
                layer: Layer::Bvlc,
                offset: MAX_DATAGRAM,
                kind: WireErrorKind::Oversized {
                    length: bytes.len(),
                    limit: MAX_DATAGRAM,
                },
            });
        }
        let mut reader = Reader::new(bytes, 0, Layer::Bvlc);
        let kind = reader.u8()?;
        if kind != BVLC_TYPE_BACNET_IP {
            return Err(reader.error_at(0, WireErrorKind::NotBacnetIp(kind)));
        }
        let _function = reader.u8()?;
        let declared = usize::from(reader.u16()?);
        if declared != bytes.len() {
            return Err(reader.error_at(
                2,
                WireErrorKind::LengthMismatch {
                    declared,
                    actual: bytes.len(),
                },
            ));
        }
        view.header_len()?;
        Ok(view)
    }

    /// The function byte, if present.
    pub fn function_code(&self) -> Option<u8> {
        self.buffer.as_ref().get(1).copied()
    }

    /// The declared total length, if present.
    pub fn length(&self) -> Option<u16> {
        let bytes = self.buffer.as_ref();
        Some(u16::from_be_bytes([*bytes.get(2)?, *bytes.get(3)?]))
    }

    /// The header length for this function (4, or 10 for Forwarded-NPDU).
    pub fn header_len(&self) -> Result<usize, WireError> {
        let reader = Reader::new(self.buffer.as_ref(), 0, Layer::Bvlc);
        match self.function_code() {
            Some(0x0a | 0x0b) => Ok(4),
            Some(0x04) => {
                if self.buffer.as_ref().len() < 10 {
                    Err(reader.error_at(
                        4,
                        WireErrorKind::Truncated {
                            needed: 6,
                            available: self.buffer.as_ref().len().saturating_sub(4),
                        },
                    ))
                } else {
                    Ok(10)
                }
            }
            Some(other) => Err(reader.error_at(1, WireErrorKind::UnsupportedBvlcFunction(other))),
            None => Err(reader.error_at(
                1,
                WireErrorKind::Truncated {
                    needed: 1,
                    available: 0,
                },
            )),
        }
    }

    /// The NPDU after the header (empty when the header is incomplete).
    pub fn payload(&self) -> &[u8] {
        let len = self.header_len().unwrap_or(usize::MAX);
        self.buffer.as_ref().get(len..).unwrap_or(&[])
    }
}

/// The owned BVLC header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BvlcRepr {
    /// The function.
    pub function: BvlcFunction,
    /// The length of the NPDU that follows.
    pub payload_len: usize,
}

impl BvlcRepr {
    /// Reads the header from a checked view.
    pub fn parse<T: AsRef<[u8]>>(view: &Bvlc<T>) -> Result<Self, WireError> {
        let header_len = view.header_len()?;
        let bytes = view.buffer.as_ref();
        let mut reader = Reader::new(bytes, 0, Layer::Bvlc);
        reader.take(4)?;
        let function = match view.function_code() {
            Some(0x0a) => BvlcFunction::OriginalUnicast,
            Some(0x0b) => BvlcFunction::OriginalBroadcast,
            _ => {
                let ip = reader.take(4)?;
                let mut address = [0u8; 4];
                address.copy_from_slice(ip);
                BvlcFunction::Forwarded {
                    address,
                    port: reader.u16()?,
                }
            }
        };
        Ok(BvlcRepr {
            function,
            payload_len: bytes.len().saturating_sub(header_len),
        })
    }

    /// The header's own length.
    pub const fn header_len(&self) -> usize {
        match self.function {
            BvlcFunction::Forwarded { .. } => 10,
            _ => 4,
        }
    }

    pub(crate) fn write(&self, out: &mut impl Sink) {
        out.put_u8(BVLC_TYPE_BACNET_IP);
        out.put_u8(self.function.code());
        let total = self.header_len().saturating_add(self.payload_len);
        out.put_u16(u16::try_from(total).unwrap_or(u16::MAX));
        if let BvlcFunction::Forwarded { address, port } = self.function {
            out.put(&address);
            out.put_u16(port);
        }
    }
}

super::emit_methods!(BvlcRepr);
