//! A BACnet/IP client: Who-Is discovery, ReadProperty, ReadPropertyMultiple (batched to the
//! peer's max APDU, segmented answers reassembled with SegmentACKs), invoke ids, retries and
//! timeouts; and [`Client::read_counts`], which reads the 48-hour In/Out series of an FFC
//! device.
//!
//! Two layers, like the device side:
//! - [`ClientCore`] is sans-IO: it turns requests into datagrams and the datagrams that come
//!   back into answers, with time passed in (`now_ms`), never read from a clock. It knows
//!   the wire codec and nothing else.
//! - [`Client`] runs a core on a tokio UDP socket: send what the core returns, feed it what
//!   arrives, wake it at [`ClientCore::next_deadline`].

mod core;
mod counts;
mod error;
#[cfg(test)]
mod tests;
mod udp;

pub use self::core::{ClientCore, ClientEvent, Transmit};
pub use counts::HourlySeries;
pub use error::BacnetClientError;
pub use udp::Client;

pub use super::naming::parse_object_name;
use super::wire::{MaxApdu, MaxSegments, Segmentation};
use std::net::SocketAddr;
use std::time::Duration;

/// BACnet/IP's UDP port (0xBAC0).
pub const DEFAULT_PORT: u16 = 47808;

/// Client settings, with BACnet's usual defaults.
///
/// ```
/// use ffc_protocols::bacnet::client::BacnetClientConfig;
/// use std::time::Duration;
///
/// let config = BacnetClientConfig::default()
///     .with_bind("127.0.0.1:0".parse().unwrap())
///     .with_apdu_timeout(Duration::from_millis(500));
/// assert_eq!(config.apdu_retries, 3);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct BacnetClientConfig {
    /// The local address to bind (default `0.0.0.0:0`).
    pub bind: SocketAddr,
    /// The UDP port of devices, used by [`Client::who_is_broadcast`] (default 47808).
    pub port: u16,
    /// Wait for an answer before resending a request (APDU_Timeout, default 3 s).
    pub apdu_timeout: Duration,
    /// Resends of a request (Number_Of_APDU_Retries, default 3).
    pub apdu_retries: u8,
    /// Wait for the next segment of an answer (APDU_Segment_Timeout, default 2 s).
    pub segment_timeout: Duration,
    /// The largest APDU this client accepts (default 1476).
    pub max_apdu: MaxApdu,
    /// How many segments this client accepts (default 64).
    pub max_segments: MaxSegments,
    /// The window size this client accepts for segmented answers (default 16).
    pub window_size: u8,
    /// Ask for segmented answers when they do not fit one APDU (default true). Without
    /// it the client batches reads so that each answer fits.
    pub segmented_response_accepted: bool,
}

impl Default for BacnetClientConfig {
    fn default() -> Self {
        BacnetClientConfig::new()
    }
}

impl BacnetClientConfig {
    /// BACnet's usual defaults (the same as `Default`).
    pub const fn new() -> Self {
        BacnetClientConfig {
            bind: SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), 0),
            port: DEFAULT_PORT,
            apdu_timeout: Duration::from_secs(3),
            apdu_retries: 3,
            segment_timeout: Duration::from_secs(2),
            max_apdu: MaxApdu::Up1476,
            max_segments: MaxSegments::SixtyFour,
            window_size: 16,
            segmented_response_accepted: true,
        }
    }

    /// Sets the local address to bind.
    pub const fn with_bind(mut self, bind: SocketAddr) -> Self {
        self.bind = bind;
        self
    }

    /// Sets the UDP port of devices (for broadcasts).
    pub const fn with_port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Sets the wait for an answer before resending a request.
    pub const fn with_apdu_timeout(mut self, apdu_timeout: Duration) -> Self {
        self.apdu_timeout = apdu_timeout;
        self
    }

    /// Sets the number of resends of a request.
    pub const fn with_apdu_retries(mut self, apdu_retries: u8) -> Self {
        self.apdu_retries = apdu_retries;
        self
    }

    /// Sets the wait for the next segment of an answer.
    pub const fn with_segment_timeout(mut self, segment_timeout: Duration) -> Self {
        self.segment_timeout = segment_timeout;
        self
    }

    /// Sets the largest APDU this client accepts.
    pub const fn with_max_apdu(mut self, max_apdu: MaxApdu) -> Self {
        self.max_apdu = max_apdu;
        self
    }

    /// Sets how many segments this client accepts.
    pub const fn with_max_segments(mut self, max_segments: MaxSegments) -> Self {
        self.max_segments = max_segments;
        self
    }

    /// Sets the window size this client accepts for segmented answers.
    pub const fn with_window_size(mut self, window_size: u8) -> Self {
        self.window_size = window_size;
        self
    }

    /// Sets whether to ask for segmented answers.
    pub const fn with_segmented_response_accepted(mut self, accepted: bool) -> Self {
        self.segmented_response_accepted = accepted;
        self
    }
}

/// A device found by Who-Is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DeviceInfo {
    /// The device instance.
    pub instance: u32,
    /// Where it answered from.
    pub address: SocketAddr,
    /// The largest APDU it accepts.
    pub max_apdu: u32,
    /// Whether it segments.
    pub segmentation: Segmentation,
    /// Its vendor identifier.
    pub vendor_id: u32,
}

impl DeviceInfo {
    /// A device known without discovery (BACnet/IP's 1476 bytes, segmentation assumed).
    pub const fn known(instance: u32, address: SocketAddr) -> Self {
        DeviceInfo {
            instance,
            address,
            max_apdu: 1476,
            segmentation: Segmentation::Both,
            vendor_id: 0,
        }
    }
}

/// What happened on the wire, for diagnostics and benchmarks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// Confirmed requests sent, retries included.
    pub requests: u64,
    /// Retries among them.
    pub retries: u64,
    /// SegmentACKs sent.
    pub segment_acks: u64,
    /// SegmentACKs after which more segments came (each one a round trip).
    pub segment_round_trips: u64,
    /// Segments of segmented answers received.
    pub segments_received: u64,
    /// Datagrams ignored (undecodable, from elsewhere, or for another transaction).
    pub ignored: u64,
}

impl ClientStats {
    /// Round trips: requests plus the SegmentACKs that had to wait for more segments.
    pub fn round_trips(&self) -> u64 {
        self.requests + self.segment_round_trips
    }
}
