//! # ffc-device
//!
//! Typed client for the CGI API of one FootfallCam counter (`access_token.cgi`,
//! `apiCount.cgi`): query builder, JSON and XML count parsers, long-range pulls, and a
//! counter simulator (feature `sim`). Work in progress: see the issue tracker.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub use ffc_core as core_model;
