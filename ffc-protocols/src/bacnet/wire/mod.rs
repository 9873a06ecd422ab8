//! The BACnet/IP codec: bytes in, typed values out, and back. Sans-IO and `alloc`-only.
//!
//! The layout follows smoltcp's `wire` module: each layer has a borrowed view over the
//! bytes (`Bvlc`, `Npdu`, `Apdu`) with checked field accessors, and an owned `*Repr` with
//! `parse`, `emit` and `buffer_len`. The service bodies (Who-Is, I-Am, ReadProperty,
//! ReadPropertyMultiple, Error) are owned representations over the APDU payload.
//!
//! Parsing never panics: every read is bounds-checked and a bad input gives a
//! [`WireError`] that names the layer, the byte offset in the datagram and the reason.
//! Emitting panics only when the caller hands a buffer shorter than `buffer_len()`, as in
//! smoltcp; [`Frame::to_vec`] and the `to_vec` methods size the buffer themselves.
//!
//! ```
//! use ffc_protocols::bacnet::wire::{ApduRepr, BvlcFunction, Frame, NpduRepr, Service, WhoIs};
//!
//! // A global Who-Is for instances 1..=999999, as a BACnet/IP broadcast.
//! let who_is = WhoIs { range: Some((1, 999_999)) };
//! let bytes = Frame::to_vec(
//!     BvlcFunction::OriginalBroadcast,
//!     &NpduRepr::local(false),
//!     &ApduRepr::UnconfirmedRequest { service: WhoIs::SERVICE },
//!     &who_is.to_vec(),
//! );
//! let frame = Frame::parse(&bytes)?;
//! assert_eq!(frame.service()?, Service::WhoIs(who_is));
//! # Ok::<(), ffc_protocols::bacnet::wire::WireError>(())
//! ```

mod apdu;
mod bvlc;
mod error;
mod frame;
mod npdu;
mod services;
mod tag;
mod value;

pub use apdu::{AbortReason, Apdu, ApduRepr, MaxApdu, MaxSegments, PduType, RejectReason, Segment};
pub use bvlc::{Bvlc, BvlcFunction, BvlcRepr, BVLC_TYPE_BACNET_IP};
pub use error::{Layer, WireError, WireErrorKind};
#[cfg(feature = "bacnet")]
pub(crate) use frame::decode_service;
pub use frame::{decode_and_reencode, Frame, Service, MAX_DATAGRAM};
pub use npdu::{NetAddress, Npdu, NpduRepr, NPDU_VERSION};
pub use services::{
    ErrorClass, ErrorCode, IAm, PropertyReference, PropertyResult, ReadAccessResult,
    ReadAccessSpec, ReadPropertyAck, ReadPropertyRequest, RpmAck, RpmRequest, Segmentation,
    ServiceError, WhoIs, CONFIRMED_READ_PROPERTY, CONFIRMED_READ_PROPERTY_MULTIPLE,
    UNCONFIRMED_I_AM, UNCONFIRMED_WHO_IS,
};
pub use tag::{TagClass, TagHeader, TagKind};
pub use value::{ObjectId, ObjectType, PropertyId, Value};

pub(crate) use cursor::{Reader, Sink};

mod cursor {
    use super::{Layer, WireError, WireErrorKind};
    use alloc::vec::Vec;

    /// A bounds-checked reader over one layer's bytes. `base` is the offset of `buf` in the
    /// datagram, so errors name the byte of the datagram, not of the slice.
    #[derive(Debug, Clone)]
    pub(crate) struct Reader<'a> {
        buf: &'a [u8],
        pos: usize,
        base: usize,
        layer: Layer,
    }

    impl<'a> Reader<'a> {
        pub(crate) fn new(buf: &'a [u8], base: usize, layer: Layer) -> Self {
            Reader {
                buf,
                pos: 0,
                base,
                layer,
            }
        }
        /// The offset of the next byte in the datagram.
        pub(crate) fn offset(&self) -> usize {
            self.base + self.pos
        }
        pub(crate) fn position(&self) -> usize {
            self.pos
        }
        pub(crate) fn remaining(&self) -> usize {
            self.buf.len().saturating_sub(self.pos)
        }
        pub(crate) fn is_empty(&self) -> bool {
            self.remaining() == 0
        }
        pub(crate) fn error(&self, kind: WireErrorKind) -> WireError {
            WireError {
                layer: self.layer,
                offset: self.offset(),
                kind,
            }
        }
        pub(crate) fn error_at(&self, position: usize, kind: WireErrorKind) -> WireError {
            WireError {
                layer: self.layer,
                offset: self.base + position,
                kind,
            }
        }
        pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
            let end = self.pos.checked_add(n);
            match end.and_then(|end| self.buf.get(self.pos..end)) {
                Some(bytes) => {
                    self.pos += n;
                    Ok(bytes)
                }
                None => Err(self.error(WireErrorKind::Truncated {
                    needed: n,
                    available: self.remaining(),
                })),
            }
        }
        pub(crate) fn u8(&mut self) -> Result<u8, WireError> {
            let bytes = self.take(1)?;
            Ok(bytes.first().copied().unwrap_or_default())
        }
        pub(crate) fn u16(&mut self) -> Result<u16, WireError> {
            let bytes = self.take(2)?;
            let mut out = [0u8; 2];
            out.copy_from_slice(bytes);
            Ok(u16::from_be_bytes(out))
        }
        pub(crate) fn u32(&mut self) -> Result<u32, WireError> {
            let bytes = self.take(4)?;
            let mut out = [0u8; 4];
            out.copy_from_slice(bytes);
            Ok(u32::from_be_bytes(out))
        }
        pub(crate) fn finish(&self) -> Result<(), WireError> {
            if self.is_empty() {
                Ok(())
            } else {
                Err(self.error(WireErrorKind::TrailingBytes {
                    count: self.remaining(),
                }))
            }
        }
    }

    /// Where emitted bytes go: a `Vec`, a caller's slice, or a counter for `buffer_len`.
    pub(crate) trait Sink {
        fn put(&mut self, bytes: &[u8]);
        fn put_u8(&mut self, byte: u8) {
            self.put(&[byte]);
        }
        fn put_u16(&mut self, value: u16) {
            self.put(&value.to_be_bytes());
        }
    }

    impl Sink for Vec<u8> {
        fn put(&mut self, bytes: &[u8]) {
            self.extend_from_slice(bytes);
        }
    }

    /// Counts bytes without writing them.
    #[derive(Default)]
    pub(crate) struct Counter(pub(crate) usize);

    impl Sink for Counter {
        fn put(&mut self, bytes: &[u8]) {
            self.0 += bytes.len();
        }
    }

    /// Writes into a caller's slice.
    ///
    /// # Panics
    /// When the slice is shorter than what is written: the emit contract says the caller
    /// sizes it with `buffer_len()`.
    pub(crate) struct SliceSink<'a> {
        pub(crate) buf: &'a mut [u8],
        pub(crate) pos: usize,
    }

    impl Sink for SliceSink<'_> {
        #[allow(clippy::indexing_slicing)]
        fn put(&mut self, bytes: &[u8]) {
            let end = self.pos + bytes.len();
            self.buf[self.pos..end].copy_from_slice(bytes);
            self.pos = end;
        }
    }
}

pub(crate) use cursor::{Counter, SliceSink};

/// Implements `buffer_len`, `emit` and `to_vec` for a type with `fn write(&self, &mut impl Sink)`.
macro_rules! emit_methods {
    ($ty:ty) => {
        impl $ty {
            /// The number of bytes [`emit`](Self::emit) writes.
            pub fn buffer_len(&self) -> usize {
                let mut counter = $crate::bacnet::wire::Counter::default();
                self.write(&mut counter);
                counter.0
            }

            /// Writes the bytes into the front of `buf`.
            ///
            /// # Panics
            /// When `buf` is shorter than [`buffer_len`](Self::buffer_len).
            pub fn emit(&self, buf: &mut [u8]) {
                let mut sink = $crate::bacnet::wire::SliceSink { buf, pos: 0 };
                self.write(&mut sink);
            }

            /// The bytes in a new `Vec`.
            pub fn to_vec(&self) -> alloc::vec::Vec<u8> {
                let mut out = alloc::vec::Vec::with_capacity(self.buffer_len());
                self.write(&mut out);
                out
            }
        }
    };
}
pub(crate) use emit_methods;
