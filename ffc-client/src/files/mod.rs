//! Readers for export files (manual and automated exports: CSV, TXT, and `.xlsx` with
//! feature `xlsx`) and for the legacy per-counter daily FTP files.
//!
//! * Header-driven: columns are found by name in any order ([`ExportFileOptions`] knows
//!   FootfallCam's names and takes your own with [`ExportFileOptions::with_header`]).
//! * Date and time formats are parameters (.NET or chrono patterns, see
//!   [`crate::datefmt`]).
//! * A file that cannot be read at all is an `Err`; a row that cannot be read is kept in
//!   [`ExportFile::errors`] with file, line, byte offset and reason, and the other rows
//!   are still read.
//! * Per-counter FTP files combine into a branch series through
//!   [`ffc_core::rollup::rollup_branch`]: a counter whose file for a day is missing makes
//!   that day [`Completeness::Partial`](ffc_core::rollup::Completeness::Partial), naming it.
//!
//! ```
//! use ffc_client::files::{read_export, ExportFileOptions};
//! let csv = b"Site,Date,Time,ValueIn,ValueOut\nMain St,31/01/2024,13:00:00,42,40\nMain St,31/01/2024,14:00:00,x,1\n";
//! let file = read_export("export.csv", csv, &ExportFileOptions::default())?;
//! assert_eq!(file.rows[0].count_in, 42);
//! assert_eq!(file.errors[0].line, 3);
//! assert!(file.errors[0].to_string().contains("ValueIn"));
//! # Ok::<(), ffc_client::files::FileError>(())
//! ```

mod export;
mod ftp;
#[cfg(test)]
mod tests;

use std::fmt;
use std::sync::Arc;

use chrono::NaiveDateTime;
use ffc_core::time::naive_to_seconds;
use ffc_core::{CameraSerial, CountRecord, Resolution, SiteId, Source, Subject, Zone};

use crate::datefmt::{self, Pattern};

pub use export::read_export;
#[cfg(feature = "xlsx")]
pub use export::read_xlsx;
pub use ftp::{combine_branch, parse_ftp_name, read_counter_day, BranchFromFiles, CounterDayFile};

/// A column the readers know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Column {
    /// Date and time in one column (`DateTime`, `ValueDateTime`).
    DateTime,
    /// The date alone (`Date`).
    Date,
    /// The time alone (`Time`).
    Time,
    /// Footfall in (`ValueIn`, `In`).
    In,
    /// Footfall out (`ValueOut`, `Out`).
    Out,
    /// Outside traffic (`OutsideTraffic`).
    Outside,
    /// Site name (`Site`, `BranchName`).
    Site,
    /// Site id (`BranchId`, `SiteId`).
    SiteId,
    /// Counter name (`Counter`).
    Counter,
    /// Counter serial (`CameraSerial`).
    Serial,
}

const COLUMNS: usize = 10;

impl Column {
    fn index(self) -> usize {
        self as usize
    }

    /// The name used in errors.
    pub fn name(self) -> &'static str {
        match self {
            Column::DateTime => "DateTime",
            Column::Date => "Date",
            Column::Time => "Time",
            Column::In => "ValueIn",
            Column::Out => "ValueOut",
            Column::Outside => "OutsideTraffic",
            Column::Site => "Site",
            Column::SiteId => "BranchId",
            Column::Counter => "Counter",
            Column::Serial => "CameraSerial",
        }
    }

    /// FootfallCam's header names for the column, normalized (lowercase, no spaces,
    /// underscores or dashes).
    fn aliases(self) -> &'static [&'static str] {
        match self {
            Column::DateTime => &["datetime", "valuedatetime", "timestamp", "startofhour"],
            Column::Date => &["date", "startofdate"],
            Column::Time => &["time", "hour"],
            Column::In => &[
                "valuein",
                "in",
                "footfallin",
                "visitorsin",
                "fc011sum",
                "a01",
            ],
            Column::Out => &[
                "valueout",
                "out",
                "footfallout",
                "visitorsout",
                "fc021sum",
                "a02",
            ],
            Column::Outside => &["outsidetraffic", "outside", "a05"],
            Column::Site => &["site", "sitename", "branchname", "branch"],
            Column::SiteId => &["branchid", "siteid"],
            Column::Counter => &["counter", "countername", "cameraname"],
            Column::Serial => &["cameraserial", "serial", "chipserial", "deviceserial"],
        }
    }
}

fn normalize(header: &str) -> String {
    header
        .trim()
        .trim_start_matches('\u{feff}')
        .chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-' | '.'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// How to read an export file.
///
/// Built with `Default` (or [`ExportFileOptions::new`]) and the `with_*` setters, like
/// every configuration in ffc.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ExportFileOptions {
    /// The date pattern the export was made with.
    pub date: Pattern,
    /// The time pattern the export was made with.
    pub time: Pattern,
    /// The field delimiter; `None` picks the most frequent of tab, `;` and `,` in the
    /// header line (TXT exports are tab-separated).
    pub delimiter: Option<u8>,
    custom: Vec<(Column, String)>,
}

impl Default for ExportFileOptions {
    fn default() -> Self {
        ExportFileOptions {
            date: datefmt::default_date(),
            time: datefmt::default_time(),
            delimiter: None,
            custom: Vec::new(),
        }
    }
}

impl ExportFileOptions {
    /// Options with these date and time patterns.
    pub fn new(date: Pattern, time: Pattern) -> Self {
        ExportFileOptions {
            date,
            time,
            ..ExportFileOptions::default()
        }
    }

    /// Sets the date pattern the export was made with.
    #[must_use]
    pub fn with_date(mut self, date: Pattern) -> Self {
        self.date = date;
        self
    }

    /// Sets the time pattern the export was made with.
    #[must_use]
    pub fn with_time(mut self, time: Pattern) -> Self {
        self.time = time;
        self
    }

    /// Sets the field delimiter (`None`: detect it from the header line).
    #[must_use]
    pub fn with_delimiter(mut self, delimiter: Option<u8>) -> Self {
        self.delimiter = delimiter;
        self
    }

    /// Reads `column` from the header named `header` (taking precedence over the known
    /// names).
    #[must_use]
    pub fn with_header(mut self, column: Column, header: &str) -> Self {
        self.custom.push((column, normalize(header)));
        self
    }
}

/// Why a file or a row could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reason {
    /// The file has no header line.
    Empty,
    /// A column the rows need is not in the header; map it with
    /// [`ExportFileOptions::with_header`].
    MissingColumn(&'static str),
    /// A date or time that does not match the patterns given.
    BadDate {
        /// The text found.
        value: String,
    },
    /// A count that is not a whole number.
    BadNumber {
        /// The column.
        column: &'static str,
        /// The text found.
        value: String,
    },
    /// A serial that is not 16 hex digits.
    BadSerial {
        /// The text found.
        value: String,
    },
    /// A row of a per-counter file outside that file's day.
    OutsideDay {
        /// The row's local time.
        at: NaiveDateTime,
    },
    /// The bytes are not CSV/UTF-8 as expected.
    Csv(String),
    /// The workbook could not be read.
    Workbook(String),
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Empty => f.write_str("no header line"),
            Reason::MissingColumn(c) => write!(f, "no column for {c} in the header"),
            Reason::BadDate { value } => {
                write!(f, "{value:?} does not match the date and time formats")
            }
            Reason::BadNumber { column, value } => {
                write!(f, "{column} = {value:?} is not a whole number")
            }
            Reason::BadSerial { value } => write!(f, "CameraSerial {value:?} is not 16 hex digits"),
            Reason::OutsideDay { at } => write!(f, "row at {at} lies outside the file's day"),
            Reason::Csv(e) => write!(f, "unreadable: {e}"),
            Reason::Workbook(e) => write!(f, "workbook: {e}"),
        }
    }
}

/// A file or row error: which file, which line (1-based, the header is line 1), which byte
/// offset, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line} (byte {byte}): {reason}")]
#[non_exhaustive]
pub struct FileError {
    /// The file's name as given.
    pub file: String,
    /// Line (or spreadsheet row), 1-based.
    pub line: u64,
    /// Byte offset of the line's start (0 for workbooks).
    pub byte: u64,
    /// Why.
    pub reason: Reason,
}

/// One row of an export file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRow {
    /// Line in the file (1-based).
    pub line: u64,
    /// Bucket start, site-local wall clock.
    pub local: NaiveDateTime,
    /// Footfall in.
    pub count_in: u64,
    /// Footfall out.
    pub count_out: u64,
    /// Outside traffic, where the file has it.
    pub outside: Option<u64>,
    /// Site name; the rows of one file share one copy of each name.
    pub site: Option<Arc<str>>,
    /// Site id.
    pub site_id: Option<u32>,
    /// Counter name; the rows of one file share one copy of each name.
    pub counter: Option<Arc<str>>,
    /// Counter serial.
    pub serial: Option<CameraSerial>,
}

impl FileRow {
    /// The row as a record about `subject` at `resolution` in `zone`.
    pub fn to_record(&self, subject: Subject, resolution: Resolution, zone: Zone) -> CountRecord {
        let start = zone.local_to_utc(naive_to_seconds(self.local));
        let end = resolution.next_start(resolution.bucket_start(start, &zone), &zone);
        CountRecord {
            subject,
            start,
            length: u32::try_from(end - start).unwrap_or(u32::MAX),
            offset: zone.offset_at(start),
            count_in: self.count_in,
            count_out: self.count_out,
            outside: self.outside,
            source: Source::File,
        }
    }

    /// The row's subject: its serial, else its site id.
    pub fn subject(&self) -> Option<Subject> {
        self.serial
            .map(Subject::Counter)
            .or(self.site_id.map(|id| Subject::Site(SiteId(id))))
    }
}

/// The rows read and the rows that could not be.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportFile {
    /// Rows read, in file order.
    pub rows: Vec<FileRow>,
    /// Rows that could not be read, in file order.
    pub errors: Vec<FileError>,
}
