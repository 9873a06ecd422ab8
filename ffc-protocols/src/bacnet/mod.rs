//! BACnet/IP: how building management systems poll a FootfallCam counter.
//!
//! A counter is a BACnet device named `FFC` whose instance is the last six digits of the
//! company serial. It serves 96 values, `In-C-X` and `Out-C-X` for X = 0..47: the In and
//! Out count of the hour X hours before the current one.
//!
//! - [`wire`]: the sans-IO codec (needs only `alloc`), shared by everything below.
//! - [`client`]: a tokio UDP client that discovers devices with Who-Is, reads the
//!   object-list and reads the 96 values with ReadPropertyMultiple, batched to the peer's
//!   max APDU and reassembling segmented answers.
//! - [`device`]: a simulated FFC device serving the 96 values from an hourly ring.

pub mod client;
pub mod device;
pub mod segmentation;
pub mod wire;
