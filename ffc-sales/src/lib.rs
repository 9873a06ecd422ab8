//! # ffc-sales
//!
//! Streaming validator for the FootfallCam sales CSV (`StoreCode`, `DateTime`,
//! `TotalTransactionQty`, `TotalTransactionValue`), header mapping, hourly aggregation and
//! sales conversion joined with footfall. Work in progress: see the issue tracker.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub use ffc_core as core_model;
