//! Why a BACnet read failed.

use crate::bacnet::segmentation::ReassemblyError;
use crate::bacnet::wire::{AbortReason, ErrorClass, ErrorCode, RejectReason, WireError};
use std::net::SocketAddr;

/// Why a BACnet read failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BacnetClientError {
    /// The socket failed: check the bind address and the network.
    #[error("BACnet socket: {0}")]
    Io(#[from] std::io::Error),
    /// No answer after all retries: check the device's address, port and that it runs.
    #[error("no answer from {address} after {attempts} attempts")]
    Timeout {
        /// The device.
        address: SocketAddr,
        /// Requests sent.
        attempts: u32,
    },
    /// A segmented answer stopped arriving: retry later.
    #[error("segmented answer from {address} stopped after {received} segments")]
    SegmentTimeout {
        /// The device.
        address: SocketAddr,
        /// Segments received.
        received: u32,
    },
    /// The device answered with an Error: the object or property does not exist there.
    #[error("device error: class {class:?}, code {code:?}")]
    Service {
        /// Error class.
        class: ErrorClass,
        /// Error code.
        code: ErrorCode,
    },
    /// The device rejected the request: it does not support the service.
    #[error("request rejected: {0:?}")]
    Rejected(RejectReason),
    /// The device aborted the transaction (e.g. the answer needs segmentation it cannot
    /// do): read less at a time.
    #[error("transaction aborted: {0:?}")]
    Aborted(AbortReason),
    /// All 256 invoke ids are waiting for answers: a new request could not be told apart
    /// from one of them. Wait for answers (or timeouts) before sending more.
    #[error("all 256 invoke ids are pending")]
    TooManyPending,
    /// The request does not fit the device's max APDU: read fewer properties at a time.
    #[error("request of {length} bytes exceeds the device's max APDU {max}")]
    RequestTooLarge {
        /// Request APDU length.
        length: usize,
        /// The largest request accepted: the device's max APDU, at most 1476 (BACnet/IP).
        max: u32,
    },
    /// The answer could not be decoded: the device speaks a BACnet dialect this codec does
    /// not read.
    #[error("undecodable answer: {0}")]
    Wire(#[from] WireError),
    /// The answer was well-formed but not what was asked for.
    #[error("unexpected answer: {0}")]
    Unexpected(&'static str),
    /// A segmented answer could not be reassembled: the device broke the segmentation
    /// protocol. Retry; if it persists, read less at a time.
    #[error("segmented answer: {0}")]
    Segmentation(#[from] ReassemblyError),
    /// The device does not serve all 96 `In-C-X`/`Out-C-X` values: it is not an FFC
    /// counter, or its BACnet export is misconfigured.
    #[error("device does not serve {name}")]
    MissingValue {
        /// The first missing object name.
        name: String,
    },
    /// A value is not a count (negative, fractional or not a number).
    #[error("{name} holds {value}, not a count")]
    NotACount {
        /// The object name.
        name: String,
        /// The value read.
        value: f64,
    },
}
