//! # ffc-sales
//!
//! The FootfallCam sales file (CSV with `StoreCode`, `DateTime`, `TotalTransactionQty`,
//! `TotalTransactionValue`): a streaming validator that collects every error with its
//! line, column, value and reason; header mapping; hourly aggregation per store in integer
//! cents; V9 import rows grouped by (site, day) for the import API's replace-by-day rule;
//! an import report per file; and sales conversion joined with footfall.
//!
//! ```
//! use ffc_sales::{validate_bytes, ImportMode, Outcome, Reason, ValidationConfig};
//!
//! let file = "\u{feff}StoreCode,DateTime,TotalTransactionQty,TotalTransactionValue\r\n\
//!             S001,01-06-2024 10:05,3,120.50\r\n\
//!             S001,01-06-2024 10:50,1,\"1,234.50\"\r\n\
//!             S002,31-06-2024 11:00,2,$12\r\n\
//!             \r\n";
//! let config = ValidationConfig::default().with_known_stores(["S001", "S002"]);
//! let v = validate_bytes(file.as_bytes(), &config);
//! assert_eq!(v.counts.valid, 1);
//! let reasons: Vec<_> = v.errors.iter().map(|e| (e.line, e.reason)).collect();
//! assert_eq!(reasons[0], (3, Reason::ThousandsSeparator));
//! assert!(matches!(reasons[1], (4, Reason::DateTimeNotReal { .. })));
//! assert_eq!(reasons[2], (4, Reason::CurrencySymbol));
//!
//! let import = v.import("sales.csv", ImportMode::Atomic);
//! assert_eq!(import.report.outcome, Outcome::Rejected);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Money is integer cents throughout (never `f64`); conversion rate and ATV come from
//! [`ffc_core::kpi`] and are `None` when their denominator is 0.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod aggregate;
pub mod conversion;
pub mod error;
pub mod field;
mod hour_index;
pub mod mapping;
pub mod report;
mod store_codes;
pub mod validate;
pub mod value;

pub use aggregate::{DayBatch, HourlySales, SalesHour, SalesRecord, SiteDay};
pub use error::{HeaderProblem, Reason, SalesFileError, SalesRowError};
pub use ffc_core::sales::SalesRow;
pub use mapping::{Columns, HeaderMapping, SalesField};
pub use report::{Import, ImportMode, ImportReport, Outcome};
pub use validate::{
    validate_bytes, validate_reader, RowCounts, Validation, ValidationConfig, Validator,
};

// The README's example runs as a doctest, so the example on crates.io is one that works.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
