//! The codec's error: small and `Copy`, naming the layer, the byte offset and the reason.

use core::fmt;

/// The protocol layer a [`WireError`] was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Layer {
    /// The BACnet/IP virtual link control header (4 bytes).
    Bvlc,
    /// The network layer header.
    Npdu,
    /// The application layer header.
    Apdu,
    /// A tag inside a service body.
    Tag,
    /// The structure of a service body.
    Service,
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Layer::Bvlc => "BVLC",
            Layer::Npdu => "NPDU",
            Layer::Apdu => "APDU",
            Layer::Tag => "tag",
            Layer::Service => "service body",
        })
    }
}

/// Why a datagram could not be decoded. The caller should drop the datagram (a device
/// answers a confirmed request it cannot decode with a Reject).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WireErrorKind {
    /// The bytes end before the field: `needed` more bytes, `available` left.
    Truncated {
        /// Bytes the field needs.
        needed: usize,
        /// Bytes left in the layer.
        available: usize,
    },
    /// A length (declared or actual) is over the protocol's limit.
    Oversized {
        /// The length found.
        length: usize,
        /// The largest accepted.
        limit: usize,
    },
    /// The BVLC length field disagrees with the datagram's size.
    LengthMismatch {
        /// The length the header declares.
        declared: usize,
        /// The datagram's size.
        actual: usize,
    },
    /// The first BVLC byte is not 0x81 (BACnet/IP).
    NotBacnetIp(u8),
    /// A BVLC function this codec does not carry (BBMD management, forwarded NPDUs are
    /// handled; others are not).
    UnsupportedBvlcFunction(u8),
    /// The NPDU version is not 1.
    UnsupportedNpduVersion(u8),
    /// A network-layer message where an APDU was expected.
    NetworkLayerMessage(u8),
    /// The APDU type nibble is not one of the eight PDU types.
    UnknownPduType(u8),
    /// A tag other than the one the grammar requires here.
    UnexpectedTag {
        /// The tag number expected.
        expected: u8,
        /// The tag number found (`0xff` for end of data).
        found: u8,
    },
    /// An application tag where a context tag was required, or the reverse.
    WrongTagClass,
    /// An opening tag without its closing tag, or a closing tag without an opening one.
    UnbalancedTag,
    /// A primitive whose length does not fit its type (e.g. a 3-byte REAL).
    BadLength {
        /// The application tag number.
        tag: u8,
        /// The length found.
        length: usize,
    },
    /// A character set other than UTF-8 (0).
    UnsupportedCharset(u8),
    /// A character string that is not valid UTF-8.
    InvalidUtf8,
    /// A bit string whose unused-bits count is over 7 or set on an empty string.
    BadBitString,
    /// A value outside its field's range (e.g. a property identifier over 22 bits).
    OutOfRange,
    /// Bytes after the end of a complete structure.
    TrailingBytes {
        /// How many.
        count: usize,
    },
}

impl fmt::Display for WireErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            WireErrorKind::Truncated { needed, available } => {
                write!(f, "truncated: needs {needed} bytes, {available} left")
            }
            WireErrorKind::Oversized { length, limit } => {
                write!(f, "oversized: {length} bytes, limit {limit}")
            }
            WireErrorKind::LengthMismatch { declared, actual } => {
                write!(f, "length field says {declared}, datagram has {actual}")
            }
            WireErrorKind::NotBacnetIp(b) => write!(f, "type {b:#04x} is not BACnet/IP (0x81)"),
            WireErrorKind::UnsupportedBvlcFunction(b) => {
                write!(f, "unsupported BVLC function {b:#04x}")
            }
            WireErrorKind::UnsupportedNpduVersion(b) => write!(f, "NPDU version {b}, not 1"),
            WireErrorKind::NetworkLayerMessage(b) => {
                write!(f, "network-layer message {b:#04x}, not an APDU")
            }
            WireErrorKind::UnknownPduType(b) => write!(f, "unknown PDU type {b}"),
            WireErrorKind::UnexpectedTag { expected, found } => {
                if found == 0xff {
                    write!(f, "expected tag {expected}, found end of data")
                } else {
                    write!(f, "expected tag {expected}, found tag {found}")
                }
            }
            WireErrorKind::WrongTagClass => f.write_str("wrong tag class"),
            WireErrorKind::UnbalancedTag => f.write_str("unbalanced opening/closing tag"),
            WireErrorKind::BadLength { tag, length } => {
                write!(f, "application tag {tag} with length {length}")
            }
            WireErrorKind::UnsupportedCharset(c) => write!(f, "character set {c}, not UTF-8"),
            WireErrorKind::InvalidUtf8 => f.write_str("character string is not UTF-8"),
            WireErrorKind::BadBitString => f.write_str("bad bit string"),
            WireErrorKind::OutOfRange => f.write_str("value out of range"),
            WireErrorKind::TrailingBytes { count } => write!(f, "{count} trailing bytes"),
        }
    }
}

/// A datagram that could not be decoded: where (layer, byte offset in the datagram) and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WireError {
    /// The layer being decoded.
    pub layer: Layer,
    /// The offset of the offending byte from the start of the datagram.
    pub offset: usize,
    /// The reason.
    pub kind: WireErrorKind,
}

impl WireError {
    /// The same error with its offset moved by `by` bytes (for a layer parsed on its own).
    pub fn shifted(self, by: usize) -> Self {
        WireError {
            offset: self.offset.saturating_add(by),
            ..self
        }
    }
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "BACnet {} at byte {}: {}",
            self.layer, self.offset, self.kind
        )
    }
}

impl core::error::Error for WireError {}
