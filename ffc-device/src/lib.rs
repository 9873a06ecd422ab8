//! # ffc-device
//!
//! Typed client for the CGI API of one FootfallCam counter (`access_token.cgi`,
//! `apiCount.cgi`) and a counter simulator.
//!
//! | module | what | feature |
//! |---|---|---|
//! | [`query`] | query builder and validation, window splitting | always |
//! | [`body`] | sans-IO JSON and XML count decoders and encoders, token body | always |
//! | [`secret`] | redacting secret and URL types | always |
//! | `client` | reqwest (rustls) client: token cache and refresh, retries, long pulls | `client` (default) |
//! | `sim` | loopback HTTP counter: tokens, counts, injected faults | `sim` |
//!
//! The codecs are shared: the client decodes with [`body`], the simulator encodes with it,
//! and the fuzz targets and benchmarks call the same entry points.
//!
//! ```
//! use ffc_device::query::{split_range, DataType};
//! use ffc_core::{Resolution, Zone};
//! // A week of 15-minute data in London is seven one-day requests.
//! let london = Zone::iana("Europe/London").unwrap();
//! let from = 1_704_067_200; // 2024-01-01 00:00 GMT
//! let windows = split_range(from, from + 7 * 86_400, Resolution::Minutes(15), DataType::Json, &london)?;
//! assert_eq!(windows.len(), 7);
//! # Ok::<(), ffc_device::query::QueryError>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub use ffc_core as core_model;

pub mod body;
#[cfg(feature = "client")]
pub mod client;
pub mod query;
pub mod secret;
#[cfg(feature = "sim")]
pub mod sim;

// The README's example runs as a doctest, so the example on crates.io is one that works.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
