//! # ffc-protocols
//!
//! Sans-IO codecs for the push and poll protocols of FootfallCam counters (WebSocket, MQTT,
//! BACnet/IP) with thin async transports and event sinks. Work in progress: see the issue
//! tracker.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub use ffc_core as core_model;
