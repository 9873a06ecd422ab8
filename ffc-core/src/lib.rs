//! # ffc-core
//!
//! The pure core of ffc, the Rust SDK for FootfallCam people counters: the data model,
//! time buckets, aggregation, branch roll-up with completeness, KPIs, and (for firmware)
//! the counting algorithm and fixed-capacity buffers.
//!
//! No IO, no clock, no threads: time comes in as arguments (UTC unix seconds plus the
//! site's [`Zone`]). Builds for `thumbv7em-none-eabihf` with `--no-default-features`.
//!
//! | feature | gives |
//! |---|---|
//! | `alloc` | heap-backed [`aggregate::Series`], [`aggregate::EventColumns`], [`dedupe::KeySet`], roll-ups, reconciliation and availability |
//! | `std` (default) | `alloc` plus IANA zones (`Zone::Iana`) |
//! | `serde` | Serialize/Deserialize with FootfallCam's wire field names |
//!
//! ```
//! # #[cfg(feature = "alloc")] {
//! use ffc_core::{CameraSerial, CountEvent, Metric, PeopleType, PeopleId, RoiId, Source};
//! use ffc_core::{Resolution, UtcOffset, Zone};
//! use ffc_core::aggregate::Series;
//!
//! let zone = Zone::Fixed(UtcOffset::from_seconds(8 * 3600)?);
//! let serial: CameraSerial = "000000006afce315".parse()?;
//! let event = CountEvent {
//!     serial, roi: RoiId(1), metric: Metric::In, people_type: PeopleType::Visitor,
//!     people_id: PeopleId(1), start: 1_592_363_801, end: 1_592_363_801,
//!     offset: zone.offset_at(1_592_363_801), uuid: None, source: Source::WebSocket,
//! };
//! let mut hourly = Series::new(Resolution::Hour, zone);
//! hourly.add_event(&event);
//! let (start, bucket) = hourly.iter().next().unwrap();
//! assert_eq!(bucket.counts.visitors_in, 1);
//! assert_eq!(start, 1_592_362_800); // 11:00 local = 03:00 UTC
//! # }
//! # Ok::<(), Box<dyn core::error::Error>>(())
//! ```
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(all(feature = "std", not(test)))]
extern crate std;

pub mod aggregate;
#[cfg(feature = "alloc")]
pub mod availability;
pub mod backoff;
pub mod counting;
pub mod dedupe;
pub mod error;
pub mod kpi;
pub mod model;
pub mod outbox;
#[cfg(feature = "alloc")]
pub mod reconcile;
pub mod ring;
pub mod rng;
#[cfg(feature = "alloc")]
pub mod rollup;
#[cfg(feature = "alloc")]
pub mod sales;
#[cfg(feature = "alloc")]
pub mod secret;
pub mod time;

// Every type a firmware or an application names is here at the root, so `use ffc_core::X`
// works without knowing the module layout.
#[cfg(feature = "alloc")]
pub use aggregate::{Aggregator, EventColumns, Ingested, Series};
pub use aggregate::{Binner, Bucket, CountCells, Counts};
pub use backoff::{Backoff, RetryPolicy};
/// The calendar types of the public API (dates of a local day, naive local times).
pub use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
/// IANA time zones, for [`Zone::Iana`].
#[cfg(feature = "std")]
pub use chrono_tz::Tz;
pub use counting::{
    AreaCounter, CountingArea, CountingLine, FrameReport, GeometryError, LineCounter, LineTotals,
    OccupancyUnit, Place, Point, Polygon, Side, TrackedObject,
};
pub use dedupe::DedupeWindow;
#[cfg(feature = "alloc")]
pub use dedupe::KeySet;
pub use error::{CodeError, Field, ParseError, SeriesError};
pub use kpi::{Occupancy, OccupancyTracker, OperatingHours};
pub use model::{
    CameraSerial, CountEvent, CountRecord, EventKey, MessageId, Metric, ObjectType,
    OccupancySample, PeopleId, PeopleType, RoiId, SiteId, Source, Subject,
};
pub use outbox::{
    Blank, Outbox, OutboxState, RejectReason, Rejected, DEFAULT_CAPACITY, DEFAULT_RESEND_TIMEOUT,
};
pub use ring::{HourlyRing, HourlyRing48, OutOfWindow};
pub use rng::SplitMix64;
#[cfg(feature = "alloc")]
pub use rollup::{
    rollup_branch, rollup_group, BranchSeries, BranchSpec, Completeness, RolledBucket, RollupError,
};
#[cfg(feature = "alloc")]
pub use sales::SalesRow;
pub use time::{Resolution, UnixSeconds, UtcOffset, Zone};

// The README's example runs as a doctest, so the example on crates.io is one that works.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
