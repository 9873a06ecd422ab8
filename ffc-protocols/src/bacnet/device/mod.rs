//! A simulated FFC device: the BACnet face of a FootfallCam counter.
//!
//! [`DeviceCore`] is the sans-IO device (datagram in, datagrams out, time passed in);
//! [`SimulatedDevice`] runs it on a tokio UDP socket. The device object is named `FFC`,
//! its instance is the last six digits of the company serial, and it serves 96
//! analog-value objects: `In-C-X` (instance X) and `Out-C-X` (instance 48 + X) for
//! X = 0..47, whose present value is the In or Out count of the hour X hours before the
//! current one. Answers longer than the requester's max APDU are segmented; unknown
//! objects and properties get an Error, unknown confirmed services a Reject.

mod core;
mod objects;
mod segments;
mod udp;

pub use self::core::DeviceCore;
pub use super::naming::{object_name, HOURS};
pub use udp::SimulatedDevice;

use super::wire::MaxApdu;
use ffc_core::{HourlyRing48, Metric, UnixSeconds};
use std::time::Duration;

/// Where the device's 96 values come from: the In or Out count of the hour `hours_back`
/// hours before the current one (0..48). [`HourlyRing48`] is the real source; a closure
/// `Fn(Metric, u8) -> u64` serves fixed values.
pub trait HourlyValues {
    /// The count.
    fn count(&self, metric: Metric, hours_back: u8) -> u64;

    /// Moves "the current hour" to the one holding `now` (UTC unix seconds). The device
    /// calls it before answering a read, so `In-C-0` is always the hour of the read.
    fn advance_to(&mut self, now: UnixSeconds) {
        let _ = now;
    }
}

impl<F: Fn(Metric, u8) -> u64> HourlyValues for F {
    fn count(&self, metric: Metric, hours_back: u8) -> u64 {
        self(metric, hours_back)
    }
}

impl HourlyValues for HourlyRing48 {
    fn count(&self, metric: Metric, hours_back: u8) -> u64 {
        u64::from(self.value(metric, usize::from(hours_back)).unwrap_or(0))
    }

    fn advance_to(&mut self, now: UnixSeconds) {
        HourlyRing48::advance_to(self, now);
    }
}

/// Why a device could not be set up. Fix the configuration and try again.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BacnetDeviceError {
    /// The company serial does not end in six decimal digits.
    #[error("company serial must end in six decimal digits (the device instance)")]
    BadCompanySerial,
    /// The UDP socket could not be bound or used.
    #[error("BACnet device socket: {0}")]
    Io(#[from] std::io::Error),
}

/// The device instance for a company serial: its last six characters, which must be
/// decimal digits (so the instance is at most 999999, inside BACnet's 22-bit range).
///
/// ```
/// use ffc_protocols::bacnet::device::instance_from_company_serial;
/// assert_eq!(instance_from_company_serial("FFC-2023-000123456").unwrap(), 123456);
/// assert!(instance_from_company_serial("12345").is_err());
/// ```
pub fn instance_from_company_serial(serial: &str) -> Result<u32, BacnetDeviceError> {
    let bytes = serial.as_bytes();
    let tail = bytes
        .len()
        .checked_sub(6)
        .and_then(|start| bytes.get(start..))
        .ok_or(BacnetDeviceError::BadCompanySerial)?;
    tail.iter().try_fold(0u32, |acc, b| {
        if b.is_ascii_digit() {
            Ok(acc * 10 + u32::from(b - b'0'))
        } else {
            Err(BacnetDeviceError::BadCompanySerial)
        }
    })
}

/// Settings of the simulated device, with BACnet's usual defaults: `new(instance)` and
/// the `with_*` setters.
///
/// ```
/// use ffc_protocols::bacnet::device::BacnetDeviceConfig;
/// use ffc_protocols::bacnet::wire::MaxApdu;
///
/// let config = BacnetDeviceConfig::new(123_456).with_max_apdu(MaxApdu::Up480);
/// assert_eq!(config.proposed_window_size, 4);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct BacnetDeviceConfig {
    /// Device instance (see [`instance_from_company_serial`]).
    pub instance: u32,
    /// Largest APDU the device accepts and sends (default 1476).
    pub max_apdu: MaxApdu,
    /// Window size proposed for segmented answers (default 4).
    pub proposed_window_size: u8,
    /// Wait for a SegmentACK before resending a window (default 2000 ms).
    pub segment_timeout: Duration,
    /// Resends of a window before giving up the transaction (default 3).
    pub segment_retries: u8,
    /// Vendor identifier announced in I-Am (default 0).
    pub vendor_id: u32,
}

impl BacnetDeviceConfig {
    /// The defaults for a device instance.
    pub const fn new(instance: u32) -> Self {
        BacnetDeviceConfig {
            instance,
            max_apdu: MaxApdu::Up1476,
            proposed_window_size: 4,
            segment_timeout: Duration::from_millis(2000),
            segment_retries: 3,
            vendor_id: 0,
        }
    }

    /// Sets the device instance.
    pub const fn with_instance(mut self, instance: u32) -> Self {
        self.instance = instance;
        self
    }

    /// Sets the largest APDU the device accepts and sends.
    pub const fn with_max_apdu(mut self, max_apdu: MaxApdu) -> Self {
        self.max_apdu = max_apdu;
        self
    }

    /// Sets the window size proposed for segmented answers.
    pub const fn with_proposed_window_size(mut self, window_size: u8) -> Self {
        self.proposed_window_size = window_size;
        self
    }

    /// Sets the wait for a SegmentACK before resending a window.
    pub const fn with_segment_timeout(mut self, segment_timeout: Duration) -> Self {
        self.segment_timeout = segment_timeout;
        self
    }

    /// Sets the resends of a window before giving up the transaction.
    pub const fn with_segment_retries(mut self, segment_retries: u8) -> Self {
        self.segment_retries = segment_retries;
        self
    }

    /// Sets the vendor identifier announced in I-Am.
    pub const fn with_vendor_id(mut self, vendor_id: u32) -> Self {
        self.vendor_id = vendor_id;
        self
    }
}

/// What a device has seen, for diagnostics and benchmarks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeviceStats {
    /// Datagrams received.
    pub received: u64,
    /// Datagrams received that were answered: each one a round trip for the requester.
    pub round_trips: u64,
    /// Datagrams sent, retransmissions included.
    pub sent: u64,
    /// Segments of segmented answers sent, retransmissions included.
    pub segments_sent: u64,
}
