//! # ffc-protocols
//!
//! Sans-IO codecs for the push and poll protocols of FootfallCam counters (WebSocket, MQTT,
//! BACnet/IP) with thin async transports and event sinks. Work in progress: see the issue
//! tracker.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

extern crate alloc;

pub use ffc_core as core_model;

#[cfg(feature = "bacnet")]
pub mod bacnet;
