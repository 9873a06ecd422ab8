//! MQTT push (spec/interfaces.md §5): the counter publishes to a broker, you subscribe.
//!
//! - [`codec`] (feature `alloc`): payloads to [`ffc_core::OccupancySample`] and
//!   [`ffc_core::CountEvent`] and back.
//! - `subscriber` (feature `mqtt`): a rumqttc subscriber that reconnects, re-subscribes
//!   after every ConnAck and delivers to an [`EventSink`](crate::sink::EventSink) or a stream.
//! - `worker` (feature `mqtt`): the ingestion worker, a subscriber into sinks that
//!   restarts after sink failures and stops on a shutdown future.
//! - `publisher` (feature `mqtt`): a counter simulator publishing both kinds.

pub mod codec;
#[cfg(feature = "mqtt")]
pub mod publisher;
#[cfg(feature = "mqtt")]
pub mod subscriber;
#[cfg(feature = "mqtt")]
mod url;
#[cfg(feature = "mqtt")]
pub mod worker;
#[cfg(feature = "mqtt")]
pub use url::{BrokerUrl, Protocol, UrlError};
#[cfg(feature = "mqtt")]
mod conn;
#[cfg(feature = "mqtt")]
pub use conn::{Credentials, Qos, SetupError};
