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
//!
//! ## From a counter to sales conversion
//!
//! The whole path of a BI app: pull a local day from a counter straight into a series,
//! roll the branch up (resolution and zone come from the series), compute A01, and join
//! the sales. The simulator stands in for the counter: one line starts it and hands back a
//! client set up with its URL, zone and login (`admin` / `123456` unless configured).
//!
//! ```
//! # #[cfg(all(feature = "client", feature = "sim"))]
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::collections::HashMap;
//! use ffc_core::{kpi, Aggregator, BranchSpec, NaiveDate, OperatingHours, Resolution, SiteId, Zone};
//! use ffc_device::query::DataType;
//! use ffc_device::sim::{DeviceSimConfig, Simulator};
//! use ffc_sales::conversion::{convert, StoreFootfall};
//! use ffc_sales::{validate_bytes, ValidationConfig};
//!
//! let zone = Zone::iana("Asia/Singapore").ok_or("zone")?;
//! let (sim, client) = Simulator::start_with_client(DeviceSimConfig::default().with_zone(zone)).await?;
//! let serial = sim.config().serial;
//!
//! // 1. Pull 1 June 2024, Singapore time, into the counter's hourly series.
//! let (from, to) = zone.day_span(NaiveDate::from_ymd_opt(2024, 6, 1).ok_or("date")?);
//! let mut agg = Aggregator::new(Resolution::Hour, zone);
//! client.pull_into(agg.series_mut(serial), from, to, DataType::Json, |_| {}).await?;
//!
//! // 2. Roll the branch up.
//! let branch = BranchSpec { site: SiteId(1), counters: vec![serial] }.rollup(agg.counters(), from, to)?;
//! assert_eq!(branch.buckets.len(), 24);
//! assert_eq!(branch.buckets[12].local_start.to_string(), "2024-06-01 12:00:00");
//!
//! // 3. KPIs: A01 (visitors in within opening hours).
//! let open = OperatingHours { open: 9 * 3600, close: 21 * 3600 };
//! let a01 = kpi::footfall_in(branch.counts(), &open, &branch.zone);
//! assert!(a01 > 0);
//!
//! // 4. Sales conversion: the sales file joined with the branch's footfall.
//! let file = b"StoreCode,DateTime,TotalTransactionQty,TotalTransactionValue\n\
//!              SG1,01-06-2024 12:10,5,250.00\n";
//! let sales = validate_bytes(file, &ValidationConfig::default()).sales;
//! let footfall = HashMap::from([("SG1".to_owned(), StoreFootfall::branch(&branch))]);
//! let conversion = convert(&sales, &footfall, &open)?;
//! let noon = conversion.hours.iter().find(|h| h.transactions > 0).ok_or("noon")?;
//! assert_eq!(noon.local.to_string(), "2024-06-01 12:00:00");
//! assert!(noon.conversion_rate.is_some());
//! # Ok(()) }
//! # #[cfg(not(all(feature = "client", feature = "sim")))]
//! # fn main() {}
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub use ffc_core as core_model;

#[cfg(feature = "client")]
pub mod backfill;
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
