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

use std::collections::BTreeMap;
use std::fmt;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use ffc_core::aggregate::Series;
use ffc_core::rollup::{rollup_branch, BranchSeries, BranchSpec};
use ffc_core::time::naive_to_seconds;
use ffc_core::{CameraSerial, CountRecord, Resolution, SiteId, Source, Subject, UnixSeconds, Zone};

use crate::datefmt::{self, parse_local, Pattern};

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
    /// Site name.
    pub site: Option<String>,
    /// Site id.
    pub site_id: Option<u32>,
    /// Counter name.
    pub counter: Option<String>,
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

/// Column positions found in a header.
#[derive(Debug, Clone)]
struct Mapping {
    at: [Option<usize>; COLUMNS],
}

const ALL: [Column; COLUMNS] = [
    Column::DateTime,
    Column::Date,
    Column::Time,
    Column::In,
    Column::Out,
    Column::Outside,
    Column::Site,
    Column::SiteId,
    Column::Counter,
    Column::Serial,
];

impl Mapping {
    fn new<'a>(
        headers: impl Iterator<Item = &'a str>,
        opts: &ExportFileOptions,
    ) -> Result<Self, Reason> {
        let names: Vec<String> = headers.map(normalize).collect();
        let mut at = [None; COLUMNS];
        for col in ALL {
            let custom = opts
                .custom
                .iter()
                .rev()
                .find(|(c, _)| *c == col)
                .map(|(_, h)| h.as_str());
            let found = match custom {
                Some(h) => names.iter().position(|n| n == h),
                None => col
                    .aliases()
                    .iter()
                    .find_map(|a| names.iter().position(|n| n == a)),
            };
            if let Some(slot) = at.get_mut(col.index()) {
                *slot = found;
            }
        }
        let m = Mapping { at };
        if m.get(Column::DateTime).is_none() && m.get(Column::Date).is_none() {
            return Err(Reason::MissingColumn("DateTime or Date"));
        }
        for c in [Column::In, Column::Out] {
            if m.get(c).is_none() {
                return Err(Reason::MissingColumn(c.name()));
            }
        }
        Ok(m)
    }

    fn get(&self, c: Column) -> Option<usize> {
        self.at.get(c.index()).copied().flatten()
    }

    fn row<'a>(
        &self,
        line: u64,
        field: impl Fn(usize) -> Option<&'a str>,
        opts: &ExportFileOptions,
    ) -> Result<FileRow, Reason> {
        let text = |c: Column| self.get(c).and_then(&field).map(str::trim);
        let date_text = text(Column::DateTime).or(text(Column::Date)).unwrap_or("");
        let time_text = text(Column::Time);
        let local = parse_local(date_text, time_text, &opts.date, &opts.time).ok_or_else(|| {
            Reason::BadDate {
                value: match time_text {
                    Some(t) => format!("{date_text} {t}"),
                    None => date_text.to_owned(),
                },
            }
        })?;
        let count = |c: Column| -> Result<Option<u64>, Reason> {
            match text(c) {
                None | Some("") => Ok(None),
                Some(v) => v.parse::<u64>().map(Some).map_err(|_| Reason::BadNumber {
                    column: c.name(),
                    value: v.to_owned(),
                }),
            }
        };
        let required = |c: Column| -> Result<u64, Reason> {
            count(c)?.ok_or(Reason::BadNumber {
                column: c.name(),
                value: String::new(),
            })
        };
        let serial = match text(Column::Serial) {
            None | Some("") => None,
            Some(s) => Some(CameraSerial::parse(s).map_err(|_| Reason::BadSerial {
                value: s.to_owned(),
            })?),
        };
        let site_id = match count(Column::SiteId)? {
            None => None,
            Some(v) => Some(u32::try_from(v).map_err(|_| Reason::BadNumber {
                column: Column::SiteId.name(),
                value: v.to_string(),
            })?),
        };
        let owned = |c: Column| text(c).filter(|s| !s.is_empty()).map(str::to_owned);
        Ok(FileRow {
            line,
            local,
            count_in: required(Column::In)?,
            count_out: required(Column::Out)?,
            outside: count(Column::Outside)?,
            site: owned(Column::Site),
            site_id,
            counter: owned(Column::Counter),
            serial,
        })
    }
}

fn sniff_delimiter(bytes: &[u8]) -> u8 {
    let first = bytes.split(|b| *b == b'\n').next().unwrap_or_default();
    let count = |d: u8| first.iter().filter(|b| **b == d).count();
    [b'\t', b';', b',']
        .into_iter()
        .max_by_key(|d| (count(*d), *d == b','))
        .unwrap_or(b',')
}

/// Reads a CSV or TXT export file.
pub fn read_export(
    file: &str,
    bytes: &[u8],
    opts: &ExportFileOptions,
) -> Result<ExportFile, FileError> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let fail = |line: u64, byte: u64, reason: Reason| FileError {
        file: file.to_owned(),
        line,
        byte,
        reason,
    };
    let delimiter = opts.delimiter.unwrap_or_else(|| sniff_delimiter(bytes));
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(false)
        .from_reader(bytes);
    let mut record = csv::StringRecord::new();
    let header_ok = reader
        .read_record(&mut record)
        .map_err(|e| fail(1, 0, Reason::Csv(e.to_string())))?;
    if !header_ok {
        return Err(fail(1, 0, Reason::Empty));
    }
    let mapping = Mapping::new(record.iter(), opts).map_err(|r| fail(1, 0, r))?;
    let mut out = ExportFile::default();
    loop {
        let pos = reader.position().clone();
        let (line, byte) = (pos.line(), pos.byte());
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                // Blank lines (only empty fields) are padding, not rows.
                if record.iter().all(|f| f.trim().is_empty()) {
                    continue;
                }
                let line = record.position().map_or(line, csv::Position::line);
                match mapping.row(line, |i| record.get(i), opts) {
                    Ok(r) => out.rows.push(r),
                    Err(reason) => out.errors.push(fail(line, byte, reason)),
                }
            }
            Err(e) => {
                let at = e.position().cloned().unwrap_or(pos);
                out.errors
                    .push(fail(at.line(), at.byte(), Reason::Csv(e.to_string())));
                // A UTF-8 error leaves the reader past the record; an IO error cannot
                // happen on a slice. Either way, go on with the next record.
                if !matches!(e.kind(), csv::ErrorKind::Utf8 { .. }) {
                    break;
                }
            }
        }
    }
    Ok(out)
}

/// Reads the first sheet of an `.xlsx` export. Date cells are read as dates; text cells
/// with the patterns in `opts`.
#[cfg(feature = "xlsx")]
pub fn read_xlsx(
    file: &str,
    bytes: &[u8],
    opts: &ExportFileOptions,
) -> Result<ExportFile, FileError> {
    use calamine::{Data, DataType, Reader, Xlsx};
    let fail = |line: u64, reason: Reason| FileError {
        file: file.to_owned(),
        line,
        byte: 0,
        reason,
    };
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes))
        .map_err(|e: calamine::XlsxError| fail(0, Reason::Workbook(e.to_string())))?;
    let range = book
        .worksheet_range_at(0)
        .ok_or_else(|| fail(0, Reason::Empty))?
        .map_err(|e| fail(0, Reason::Workbook(e.to_string())))?;
    let (d, t) = (&opts.date, &opts.time);
    let text = |cell: &Data| -> String {
        match cell {
            Data::DateTime(_) | Data::DateTimeIso(_) => cell
                .as_datetime()
                .map(|dt| format!("{} {}", d.format_datetime(dt), t.format_datetime(dt)))
                .unwrap_or_default(),
            Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
            other => other.to_string(),
        }
    };
    let first_row = u64::from(range.start().map_or(0, |(r, _)| r)) + 1;
    let mut rows = range.rows();
    let header: Vec<String> = rows
        .next()
        .ok_or_else(|| fail(first_row, Reason::Empty))?
        .iter()
        .map(text)
        .collect();
    let mapping =
        Mapping::new(header.iter().map(String::as_str), opts).map_err(|r| fail(first_row, r))?;
    let mut out = ExportFile::default();
    for (i, row) in rows.enumerate() {
        let line = first_row + 1 + i as u64;
        let cells: Vec<String> = row.iter().map(text).collect();
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        match mapping.row(line, |i| cells.get(i).map(String::as_str), opts) {
            Ok(r) => out.rows.push(r),
            Err(reason) => out.errors.push(fail(line, reason)),
        }
    }
    Ok(out)
}

/// One legacy FTP file: one counter, one local day.
#[derive(Debug, Clone, Copy)]
pub struct CounterDayFile<'a> {
    /// The file's name, for errors.
    pub name: &'a str,
    /// The counter.
    pub serial: CameraSerial,
    /// The local day the file covers.
    pub day: NaiveDate,
    /// The bytes.
    pub bytes: &'a [u8],
}

/// Reads a legacy FTP file name `{CameraSerial}_{YYYYMMDD}.{csv|txt}`.
///
/// DECISION: the public record does not give the name pattern (the user picks "File
/// name" in the FTP settings); this is the SDK's default, and callers with another pattern
/// build [`CounterDayFile`] themselves.
pub fn parse_ftp_name(name: &str) -> Option<(CameraSerial, NaiveDate)> {
    let base = name.rsplit(['/', '\\']).next()?;
    let stem = base.rsplit_once('.').map_or(base, |(s, _)| s);
    let (serial, day) = stem.split_once('_')?;
    Some((
        CameraSerial::parse(serial).ok()?,
        ffc_core::time::parse_compact_date(day).ok()?,
    ))
}

/// A branch's series from per-counter files, and the rows that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BranchFromFiles {
    /// The roll-up; a day without a counter's file is `Partial` naming that counter.
    pub series: BranchSeries,
    /// Rows that could not be read, every file.
    pub errors: Vec<FileError>,
}

fn local_midnight(zone: Zone, day: NaiveDate) -> UnixSeconds {
    zone.local_to_utc(naive_to_seconds(day.and_time(NaiveTime::MIN)))
}

/// Reads one counter's day file into `series` (at the series' resolution). The file's
/// presence marks every bucket of its day as reported (a counter that was up and saw no
/// one writes no rows for those minutes).
///
/// DECISION: a file is taken to cover its whole day; the legacy FTP format does not say
/// otherwise.
pub fn read_counter_day(
    file: &CounterDayFile<'_>,
    opts: &ExportFileOptions,
    series: &mut Series,
    errors: &mut Vec<FileError>,
) -> Result<(), FileError> {
    let zone = series.zone();
    let resolution = series.resolution();
    let parsed = read_export(file.name, file.bytes, opts)?;
    errors.extend(parsed.errors);
    let day_start = local_midnight(zone, file.day);
    let day_end = file
        .day
        .succ_opt()
        .map_or(UnixSeconds::MAX / 2, |d| local_midnight(zone, d));
    let mut buckets: BTreeMap<UnixSeconds, (u64, u64, Option<u64>)> = BTreeMap::new();
    for row in parsed.rows {
        let at = zone.local_to_utc(naive_to_seconds(row.local));
        if at < day_start || at >= day_end {
            errors.push(FileError {
                file: file.name.to_owned(),
                line: row.line,
                byte: 0,
                reason: Reason::OutsideDay { at: row.local },
            });
            continue;
        }
        let b = buckets
            .entry(resolution.bucket_start(at, &zone))
            .or_default();
        b.0 = b.0.saturating_add(row.count_in);
        b.1 = b.1.saturating_add(row.count_out);
        if let Some(o) = row.outside {
            b.2 = Some(b.2.unwrap_or(0).saturating_add(o));
        }
    }
    series.cover(day_start, day_end);
    for (start, (count_in, count_out, outside)) in buckets {
        let length = resolution.next_start(start, &zone) - start;
        let record = CountRecord {
            subject: Subject::Counter(file.serial),
            start,
            length: u32::try_from(length).unwrap_or(u32::MAX),
            offset: zone.offset_at(start),
            count_in,
            count_out,
            outside,
            source: Source::File,
        };
        // Bucket starts come from the series' own alignment, so this cannot mismatch.
        let _ = series.put_record(&record);
    }
    Ok(())
}

/// Combines per-counter day files into the branch's series over the local days
/// `[from, to]`, at `resolution`, through ffc-core's roll-up.
pub fn combine_branch(
    spec: &BranchSpec,
    files: &[CounterDayFile<'_>],
    from: NaiveDate,
    to: NaiveDate,
    resolution: Resolution,
    zone: Zone,
    opts: &ExportFileOptions,
) -> Result<BranchFromFiles, FileError> {
    let mut series: BTreeMap<CameraSerial, Series> = BTreeMap::new();
    let mut errors = Vec::new();
    for f in files {
        let s = series
            .entry(f.serial)
            .or_insert_with(|| Series::new(resolution, zone));
        read_counter_day(f, opts, s, &mut errors)?;
    }
    let start = local_midnight(zone, from);
    let end = to
        .succ_opt()
        .map_or(UnixSeconds::MAX / 2, |d| local_midnight(zone, d));
    let series =
        rollup_branch(spec, &series, start, end, resolution, zone).map_err(|e| FileError {
            file: String::new(),
            line: 0,
            byte: 0,
            reason: Reason::Csv(e.to_string()),
        })?;
    Ok(BranchFromFiles { series, errors })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ffc_core::rollup::Completeness;
    use proptest::prelude::*;

    #[test]
    fn any_column_order_and_tabs() {
        let txt = b"ValueOut\tOutsideTraffic\tDateTime\tValueIn\tCameraSerial\n5\t\t2024-01-31 13:00\t7\t000000006afce315\n";
        let opts = ExportFileOptions::new(
            Pattern::new("yyyy-MM-dd").unwrap(),
            Pattern::new("HH:mm").unwrap(),
        );
        let f = read_export("a.txt", txt, &opts).unwrap();
        assert!(f.errors.is_empty(), "{:?}", f.errors);
        let r = &f.rows[0];
        assert_eq!((r.count_in, r.count_out, r.outside), (7, 5, None));
        assert_eq!(r.local.to_string(), "2024-01-31 13:00:00");
        assert_eq!(r.serial, Some(CameraSerial::from_u64(0x6afc_e315)));
        assert_eq!(r.line, 2);
    }

    #[test]
    fn custom_headers_and_errors_name_file_line_reason() {
        let csv = "\u{feff}Jour;Entrées;Sorties\n01/02/2024;3;4\n30/02/2024;1;1\n02/02/2024;-1;0\n";
        let opts = ExportFileOptions::default()
            .with_header(Column::Date, "Jour")
            .with_header(Column::In, "Entrées")
            .with_header(Column::Out, "Sorties");
        let f = read_export("fr.csv", csv.as_bytes(), &opts).unwrap();
        assert_eq!(f.rows.len(), 1);
        assert_eq!(f.errors.len(), 2);
        assert_eq!(f.errors[0].line, 3);
        assert_eq!(
            f.errors[0].reason,
            Reason::BadDate {
                value: "30/02/2024".into()
            }
        );
        assert_eq!(f.errors[1].line, 4);
        assert!(
            f.errors[1].to_string().starts_with("fr.csv:4 (byte"),
            "{}",
            f.errors[1]
        );
        let missing =
            read_export("x.csv", b"Date,In\n", &ExportFileOptions::default()).unwrap_err();
        assert_eq!(missing.reason, Reason::MissingColumn("ValueOut"));
        assert_eq!(
            read_export("e.csv", b"", &ExportFileOptions::default())
                .unwrap_err()
                .reason,
            Reason::Empty
        );
    }

    #[test]
    fn invalid_utf8_is_a_row_error() {
        let mut bytes = b"Date,In,Out\n01/02/2024,1,2\n".to_vec();
        bytes.extend_from_slice(b"01/02/2024,\xff,2\n02/02/2024,5,6\n");
        let f = read_export("bin.csv", &bytes, &ExportFileOptions::default()).unwrap();
        assert_eq!(f.rows.len(), 2);
        assert_eq!(f.errors.len(), 1);
        assert_eq!(f.errors[0].line, 3);
    }

    #[test]
    fn ftp_names() {
        assert_eq!(
            parse_ftp_name("in/000000006afce315_20240501.csv"),
            Some((
                CameraSerial::from_u64(0x6afc_e315),
                NaiveDate::from_ymd_opt(2024, 5, 1).unwrap()
            ))
        );
        assert_eq!(parse_ftp_name("zz_20240501.csv"), None);
        assert_eq!(parse_ftp_name("000000006afce315_20240231.csv"), None);
    }

    #[test]
    fn missing_counter_file_makes_the_day_partial_naming_it() {
        let (a, b) = (CameraSerial::from_u64(0xa), CameraSerial::from_u64(0xb));
        let spec = BranchSpec {
            site: SiteId(7),
            counters: vec![a, b],
        };
        let d1 = NaiveDate::from_ymd_opt(2024, 5, 1).unwrap();
        let d2 = NaiveDate::from_ymd_opt(2024, 5, 2).unwrap();
        let day1 = b"DateTime,ValueIn,ValueOut\n01/05/2024 10:01:00,3,1\n01/05/2024 10:02:00,2,2\n";
        let day1b = b"DateTime,ValueIn,ValueOut\n01/05/2024 18:00:00,10,9\n";
        let day2 = b"DateTime,ValueIn,ValueOut\n02/05/2024 11:00:00,4,4\n";
        let files = [
            CounterDayFile {
                name: "a1.csv",
                serial: a,
                day: d1,
                bytes: day1,
            },
            CounterDayFile {
                name: "b1.csv",
                serial: b,
                day: d1,
                bytes: day1b,
            },
            // Counter b's file for the 2nd never arrived.
            CounterDayFile {
                name: "a2.csv",
                serial: a,
                day: d2,
                bytes: day2,
            },
        ];
        let zone = Zone::Fixed(ffc_core::UtcOffset::from_seconds(8 * 3600).unwrap());
        let out = combine_branch(
            &spec,
            &files,
            d1,
            d2,
            Resolution::Day,
            zone,
            &ExportFileOptions::default(),
        )
        .unwrap();
        assert!(out.errors.is_empty());
        let days = &out.series.buckets;
        assert_eq!(days.len(), 2);
        assert_eq!(days[0].completeness, Completeness::Complete);
        assert_eq!(days[0].counts.visitors_in, 15);
        assert_eq!(
            days[1].completeness,
            Completeness::Partial { missing: vec![b] }
        );
        assert_eq!(days[1].counts.visitors_in, 4);
        // Hourly: every hour of the 2nd is partial naming b, the 1st is complete.
        let hourly = combine_branch(
            &spec,
            &files,
            d1,
            d2,
            Resolution::Hour,
            zone,
            &ExportFileOptions::default(),
        )
        .unwrap();
        assert_eq!(hourly.series.buckets.len(), 48);
        assert!(hourly.series.buckets[..24]
            .iter()
            .all(|x| x.completeness == Completeness::Complete));
        assert!(hourly.series.buckets[24..]
            .iter()
            .all(|x| x.completeness == Completeness::Partial { missing: vec![b] }));
        // A row outside the file's day is reported, not counted.
        let stray = [CounterDayFile {
            name: "a1.csv",
            serial: a,
            day: d2,
            bytes: day1,
        }];
        let out = combine_branch(
            &spec,
            &stray,
            d1,
            d2,
            Resolution::Day,
            zone,
            &ExportFileOptions::default(),
        )
        .unwrap();
        assert_eq!(out.errors.len(), 2);
        assert!(matches!(out.errors[0].reason, Reason::OutsideDay { .. }));
    }

    proptest! {
        #[test]
        /// The fuzz target's entry points (fuzz/fuzz_targets/file_reader.rs), on stable.
        fn reader_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let opts = ExportFileOptions::default();
            if let Ok(f) = read_export("fuzz.csv", &bytes, &opts) {
                prop_assert!(f.errors.iter().all(|e| e.line >= 1));
            }
            let mut series = Series::new(Resolution::Hour, Zone::UTC);
            let mut errors = Vec::new();
            let file = CounterDayFile {
                name: "f.csv",
                serial: CameraSerial::from_u64(1),
                day: NaiveDate::from_ymd_opt(2024, 5, 1).unwrap(),
                bytes: &bytes,
            };
            let _ = read_counter_day(&file, &opts, &mut series, &mut errors);
        }

        #[test]
        /// Text shaped like an export, with arbitrary cells, never panics.
        fn shaped_files_never_panic(cells in proptest::collection::vec("[0-9a-z/:,;\\t \"-]{0,12}", 0..40)) {
            let mut text = String::from("DateTime,ValueIn,ValueOut,CameraSerial\n");
            for chunk in cells.chunks(4) {
                text += &chunk.join(",");
                text.push('\n');
            }
            let _ = read_export("shaped.csv", text.as_bytes(), &ExportFileOptions::default());
        }

        /// Rows written in any column order read back to the same values.
        #[test]
        fn written_rows_read_back(rows in proptest::collection::vec((0u32..3650, 0u32..24, 0u64..100_000, 0u64..100_000), 1..40), swap in any::<bool>()) {
            let epoch = NaiveDate::from_ymd_opt(2015, 1, 1).unwrap();
            let mut text = if swap { String::from("ValueOut,Time,Date,ValueIn\n") } else { String::from("Date,Time,ValueIn,ValueOut\n") };
            let mut want = Vec::new();
            for (d, h, i, o) in &rows {
                let day = epoch + chrono::Duration::days(i64::from(*d));
                let local = day.and_hms_opt(*h, 0, 0).unwrap();
                let ds = day.format("%d/%m/%Y").to_string();
                let ts = format!("{h:02}:00:00");
                if swap { text += &format!("{o},{ts},{ds},{i}\n"); } else { text += &format!("{ds},{ts},{i},{o}\n"); }
                want.push((local, *i, *o));
            }
            let f = read_export("p.csv", text.as_bytes(), &ExportFileOptions::default()).unwrap();
            prop_assert!(f.errors.is_empty());
            let got: Vec<_> = f.rows.iter().map(|r| (r.local, r.count_in, r.count_out)).collect();
            prop_assert_eq!(got, want);
        }
    }
}
