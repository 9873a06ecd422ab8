//! # ffc-client
//!
//! Typed clients for FootfallCam Analytic Manager V9: access tokens, `exportData`, the cube
//! `load` API, sales import upload; export and FTP file readers; PostgreSQL and SQL Server
//! views. Work in progress: see the issue tracker.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub use ffc_core as core_model;
