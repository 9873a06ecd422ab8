//! The import report of one file (FootfallCam's automated import keeps one per file:
//! success, or failure with the reasons) and the day batches to send.
//!
//! Atomic by default: a file with any error imports nothing. With
//! [`ImportMode::ValidRowsOnly`] the valid rows are imported, except that the import API
//! replaces a site's whole day, so a (site, day) with any invalid row is withheld whole (a
//! day sent without its bad rows would silently erase them from the server); a store with
//! an invalid row whose date cannot be read has every day withheld.
//!
//! ```
//! use ffc_sales::{validate_bytes, ImportMode, Outcome, ValidationConfig};
//! let file = b"StoreCode,DateTime,TotalTransactionQty,TotalTransactionValue\r\n\
//!              S1,01-06-2024 10:05,2,10.50\r\n\
//!              S1,02-06-2024 11:00,1,$4\r\n\
//!              S1,03-06-2024 12:00,1,4\r\n";
//! let v = validate_bytes(file, &ValidationConfig::default());
//! let atomic = v.import("sales.csv", ImportMode::Atomic);
//! assert_eq!(atomic.report.outcome, Outcome::Rejected);
//! assert!(atomic.batches.is_empty());
//! let partial = v.import("sales.csv", ImportMode::ValidRowsOnly);
//! assert_eq!(partial.report.outcome, Outcome::PartiallyImported);
//! assert_eq!(partial.batches.len(), 2); // 1 and 3 June; 2 June is withheld whole
//! assert_eq!(partial.report.withheld_days[0].date.to_string(), "2024-06-02");
//! ```

use serde::Serialize;

use crate::aggregate::{DayBatch, SiteDay};
use crate::error::{HeaderProblem, SalesRowError};
use crate::validate::{RowCounts, Validation};

/// Whether a file with errors imports anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportMode {
    /// Any error rejects the whole file (the default).
    #[default]
    Atomic,
    /// Import the (site, day) batches that have no invalid row.
    ValidRowsOnly,
}

/// What happened to a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Every row is valid; every day is imported.
    Imported,
    /// Some days imported, others withheld for errors (only with
    /// [`ImportMode::ValidRowsOnly`]).
    PartiallyImported,
    /// Nothing imported: the header did not resolve, or (atomic) there was an error, or no
    /// day was free of errors.
    Rejected,
    /// The file is valid but has no data rows.
    Empty,
}

/// The import log entry of one file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportReport {
    /// The file's name as the caller gave it.
    pub file: String,
    /// The mode the import ran in.
    pub mode: ImportMode,
    /// What happened.
    pub outcome: Outcome,
    /// Row counts.
    pub counts: RowCounts,
    /// Rows of the file carried by the imported batches.
    pub imported_rows: u64,
    /// (site, day) batches imported.
    pub imported_days: u64,
    /// Hourly import rows sent.
    pub imported_hours: u64,
    /// (site, day) pairs withheld because an invalid row belongs to them.
    pub withheld_days: Vec<SiteDay>,
    /// Stores withheld whole because an invalid row of theirs has no readable date.
    pub withheld_stores: Vec<String>,
    /// Invalid rows whose store is unreadable or unknown, so which day they belong to is
    /// unknown.
    pub unattributed_invalid_rows: u64,
    /// Header problems (the file was not read past the header).
    pub header_problems: Vec<HeaderProblem>,
    /// How many errors there were in all.
    pub error_count: u64,
    /// Whether `errors` was cut at the configured limit.
    pub errors_truncated: bool,
    /// The errors, in file order, up to the configured limit.
    pub errors: Vec<SalesRowError>,
}

/// A report and the batches to send with it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Import {
    /// The report.
    pub report: ImportReport,
    /// Import rows grouped by (site, day), to send whole.
    pub batches: Vec<DayBatch>,
}

impl Validation {
    /// Decides what to import from this file and writes its report.
    pub fn import(&self, file: &str, mode: ImportMode) -> Import {
        let valid_file = self.is_valid();
        let header_ok = self.header_problems.is_empty();
        let ((batches, imported_rows), withheld_days, withheld_stores) =
            if !header_ok || (mode == ImportMode::Atomic && !valid_file) {
                ((Vec::new(), 0), Vec::new(), Vec::new())
            } else {
                let days = self
                    .tainted_days
                    .iter()
                    .filter(|(s, _)| !self.tainted_stores.contains(s))
                    .filter_map(|&(s, d)| self.sales.site_day(s, d))
                    .collect();
                let stores = self
                    .tainted_stores
                    .iter()
                    .map(|&s| self.sales.store_name(s).to_owned())
                    .collect();
                (
                    self.sales
                        .day_batches_except(&self.tainted_stores, &self.tainted_days),
                    days,
                    stores,
                )
            };
        let outcome = if !header_ok {
            Outcome::Rejected
        } else if valid_file && self.counts.rows == 0 {
            Outcome::Empty
        } else if valid_file {
            Outcome::Imported
        } else if batches.is_empty() {
            Outcome::Rejected
        } else {
            Outcome::PartiallyImported
        };
        let report = ImportReport {
            file: file.to_owned(),
            mode,
            outcome,
            counts: self.counts,
            imported_rows,
            imported_days: batches.len() as u64,
            imported_hours: batches.iter().map(|b| b.rows.len() as u64).sum(),
            withheld_days,
            withheld_stores,
            unattributed_invalid_rows: self.unattributed_invalid_rows,
            header_problems: self.header_problems.clone(),
            error_count: self.error_count,
            errors_truncated: self.error_count > self.errors.len() as u64,
            errors: self.errors.clone(),
        };
        Import { report, batches }
    }
}
