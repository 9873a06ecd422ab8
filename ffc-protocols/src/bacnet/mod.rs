//! BACnet/IP: how building management systems poll a FootfallCam counter.
//!
//! A counter is a BACnet device named `FFC` whose instance is the last six digits of the
//! company serial. It serves 96 values, `In-C-X` and `Out-C-X` for X = 0..47: the In and
//! Out count of the hour X hours before the current one.
//!
//! - [`wire`]: the sans-IO codec (needs only `alloc`: the one part built without the
//!   `bacnet` feature), shared by everything below.
//! - [`client`]: a tokio UDP client that discovers devices with Who-Is, reads the
//!   object-list and reads the 96 values with ReadPropertyMultiple, batched to the peer's
//!   max APDU and reassembling segmented answers.
//! - [`device`]: a simulated FFC device serving the 96 values from an hourly ring.
//! - [`segmentation`]: reassembly of segmented messages, shared by both.
//! - [`naming`]: the `In-C-X`/`Out-C-X` object names, shared by both.
//!
//! The client and the device each have a sans-IO core ([`client::ClientCore`],
//! [`device::DeviceCore`]: datagrams in, datagrams out, time passed in) and a thin tokio
//! loop ([`client::Client`], [`device::SimulatedDevice`]). The client knows the codec, not
//! the device.
//!
//! ```
//! use ffc_core::{HourlyRing48, Metric, Zone};
//! use ffc_protocols::bacnet::client::{BacnetClientConfig, Client};
//! use ffc_protocols::bacnet::device::{
//!     instance_from_company_serial, BacnetDeviceConfig, SimulatedDevice,
//! };
//! use std::sync::{Arc, Mutex};
//! use std::time::{Duration, SystemTime, UNIX_EPOCH};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // The counter side: an hourly ring the counting code records into, served over BACnet.
//! let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs() as i64;
//! let mut ring = HourlyRing48::new(Zone::UTC);
//! ring.record(Metric::In, now, 12)?;
//! let instance = instance_from_company_serial("FFC000123456")?;
//! let device = SimulatedDevice::spawn(
//!     "127.0.0.1:0".parse()?,
//!     BacnetDeviceConfig::new(instance),
//!     Arc::new(Mutex::new(ring)),
//! )
//! .await?;
//!
//! // The building management side: discover, then read the 48-hour series.
//! let mut client = Client::bind(BacnetClientConfig::default().with_bind("127.0.0.1:0".parse()?))
//!     .await?;
//! let found = client
//!     .who_is(device.local_addr(), Some((instance, instance)), Duration::from_millis(200))
//!     .await?;
//! let series = client.read_counts(&found[0]).await?;
//! assert_eq!(series.device_instance, 123456);
//! assert!(series.inbound.iter().sum::<u64>() == 12);
//! device.shutdown().await;
//! # Ok(())
//! # }
//! ```

#[cfg(feature = "bacnet")]
pub mod client;
#[cfg(feature = "bacnet")]
pub mod device;
#[cfg(feature = "bacnet")]
pub mod naming;
#[cfg(feature = "bacnet")]
pub mod segmentation;
pub mod wire;
