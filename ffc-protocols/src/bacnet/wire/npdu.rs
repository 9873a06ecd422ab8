//! The network layer header (clause 6.2): version, control, optional destination and
//! source network addresses, hop count, and either a network-layer message or an APDU.

use super::{Layer, Reader, Sink, WireError, WireErrorKind};
use alloc::vec::Vec;

/// The only NPDU protocol version.
pub const NPDU_VERSION: u8 = 0x01;

const CONTROL_NETWORK_MESSAGE: u8 = 0x80;
const CONTROL_DESTINATION: u8 = 0x20;
const CONTROL_SOURCE: u8 = 0x08;
const CONTROL_EXPECTING_REPLY: u8 = 0x04;

/// A remote network address: network number and MAC address (empty for a broadcast).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NetAddress {
    /// The network number (0xffff: all networks, for a destination).
    pub network: u16,
    /// The MAC address on that network (at most 255 bytes; empty means broadcast).
    pub mac: Vec<u8>,
}

/// A borrowed view over an NPDU.
#[derive(Debug, Clone, Copy)]
pub struct Npdu<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Npdu<T> {
    /// Wraps the bytes without checking; the accessors still never panic.
    pub const fn new_unchecked(buffer: T) -> Self {
        Npdu { buffer }
    }

    /// The version byte, if present.
    pub fn version(&self) -> Option<u8> {
        self.buffer.as_ref().first().copied()
    }

    /// The control byte, if present.
    pub fn control(&self) -> Option<u8> {
        self.buffer.as_ref().get(1).copied()
    }

    /// The bytes of the NPDU.
    pub fn as_bytes(&self) -> &[u8] {
        self.buffer.as_ref()
    }
}

/// The owned NPDU header.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NpduRepr {
    /// The sender expects a reply (set on confirmed requests).
    pub expecting_reply: bool,
    /// Network priority, 0 (normal) to 3 (life safety).
    pub priority: u8,
    /// Destination network, when routed.
    pub destination: Option<NetAddress>,
    /// Source network, when routed.
    pub source: Option<NetAddress>,
    /// Hop count (present with a destination).
    pub hop_count: u8,
    /// A network-layer message type instead of an APDU.
    pub network_message: Option<u8>,
}

impl NpduRepr {
    /// A local (unrouted) NPDU carrying an APDU.
    pub const fn local(expecting_reply: bool) -> Self {
        NpduRepr {
            expecting_reply,
            priority: 0,
            destination: None,
            source: None,
            hop_count: 0,
            network_message: None,
        }
    }

    /// Parses the header at the front of `view`; `base` is its offset in the datagram.
    /// Returns the header and its length.
    pub fn parse<T: AsRef<[u8]>>(view: &Npdu<T>, base: usize) -> Result<(Self, usize), WireError> {
        let mut reader = Reader::new(view.as_bytes(), base, Layer::Npdu);
        let version = reader.u8()?;
        if version != NPDU_VERSION {
            return Err(reader.error_at(0, WireErrorKind::UnsupportedNpduVersion(version)));
        }
        let control = reader.u8()?;
        let read_address = |reader: &mut Reader<'_>| -> Result<NetAddress, WireError> {
            let network = reader.u16()?;
            let len = reader.u8()?;
            let mac = reader.take(usize::from(len))?.to_vec();
            Ok(NetAddress { network, mac })
        };
        let destination = if control & CONTROL_DESTINATION != 0 {
            Some(read_address(&mut reader)?)
        } else {
            None
        };
        let source = if control & CONTROL_SOURCE != 0 {
            let address = read_address(&mut reader)?;
            if address.mac.is_empty() {
                // SLEN = 0 is invalid: a source is never a broadcast.
                return Err(reader.error_at(
                    reader.position().saturating_sub(1),
                    WireErrorKind::OutOfRange,
                ));
            }
            Some(address)
        } else {
            None
        };
        let hop_count = if destination.is_some() {
            reader.u8()?
        } else {
            0
        };
        let network_message = if control & CONTROL_NETWORK_MESSAGE != 0 {
            let kind = reader.u8()?;
            if kind >= 0x80 {
                reader.u16()?; // vendor identifier
            }
            Some(kind)
        } else {
            None
        };
        Ok((
            NpduRepr {
                expecting_reply: control & CONTROL_EXPECTING_REPLY != 0,
                priority: control & 0x03,
                destination,
                source,
                hop_count,
                network_message,
            },
            reader.position(),
        ))
    }

    pub(crate) fn write(&self, out: &mut impl Sink) {
        let mut control = self.priority & 0x03;
        if self.expecting_reply {
            control |= CONTROL_EXPECTING_REPLY;
        }
        if self.destination.is_some() {
            control |= CONTROL_DESTINATION;
        }
        if self.source.is_some() {
            control |= CONTROL_SOURCE;
        }
        if self.network_message.is_some() {
            control |= CONTROL_NETWORK_MESSAGE;
        }
        out.put_u8(NPDU_VERSION);
        out.put_u8(control);
        for address in [&self.destination, &self.source].into_iter().flatten() {
            out.put_u16(address.network);
            let len = address.mac.len().min(255);
            out.put_u8(len as u8);
            out.put(address.mac.get(..len).unwrap_or(&[]));
        }
        if self.destination.is_some() {
            out.put_u8(self.hop_count);
        }
        if let Some(kind) = self.network_message {
            out.put_u8(kind);
            if kind >= 0x80 {
                out.put_u16(0);
            }
        }
    }
}

super::emit_methods!(NpduRepr);
