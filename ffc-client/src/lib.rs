//! # ffc-client
//!
//! Typed clients for FootfallCam Analytic Manager V9 and the files and databases it
//! exports to:
//!
//! | module | what | feature |
//! |---|---|---|
//! | [`v9`] | sans-IO codec of the V9 APIs: token, `exportData`, cube `load`, sales import | always |
//! | [`http`] | the V9 client over reqwest: token cache, 30-day chunks, retries | `http` (default) |
//! | [`backfill`] | backfill execution: one export per planned `ffc_core::reconcile::ServerRequest` | `http` (default) |
//! | [`files`] | manual/automated export files (CSV, TXT, `.xlsx` with feature `xlsx`, off) and per-counter FTP files | `files` (default) |
//! | `pg` | PostgreSQL views `sitegroup_footfallcounting_day` / `_hour` | `postgres` (off) |
//! | `mssql` | SQL Server functions `GetBranchHourly` and friends (no SQL Server runs in ffc's CI: its test needs `FFC_MSSQL_URL`) | `mssql` (off) |
//! | `sim` | a loopback simulator of the V9 endpoints, fed by ffc-core roll-ups | `sim` (off) |
//! | — | `sales`: `SalesBatch::from_day_batches` for ffc-sales' batches | `sales` (off) |
//!
//! Secrets (passwords, tokens) are [`Secret`]s: redacted in `Debug`, `Display` and errors.
//!
//! ```
//! use ffc_client::v9::cube::{decode_load, Cube, Measure};
//! let body = br#"{"data":[{"ffc_site_summary.A01":"120","ffc_site_summary.Time.day":"2024-01-01T00:00:00.000"}]}"#;
//! let rows = decode_load(Cube::SiteSummary, body)?;
//! assert_eq!(rows[0].get(Measure::A01), Some(120.0));
//! # Ok::<(), ffc_client::v9::DecodeError>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub use ffc_core as core_model;

#[cfg(feature = "http")]
pub mod backfill;
pub mod datefmt;
mod secret;
pub mod v9;

#[cfg(feature = "files")]
pub mod files;
#[cfg(feature = "http")]
pub mod http;
#[cfg(feature = "mssql")]
pub mod mssql;
#[cfg(feature = "postgres")]
pub mod pg;
#[cfg(feature = "sim")]
pub mod sim;

pub use secret::Secret;

// The README's example runs as a doctest, so the example on crates.io is one that works.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
