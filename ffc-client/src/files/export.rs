//! Export files (CSV, TXT, `.xlsx`): the header mapped onto the columns, then every row
//! read, or kept as an error naming its line.

use std::sync::Arc;

use chrono::NaiveDateTime;
use ffc_core::CameraSerial;

use super::{
    normalize, Column, ExportFile, ExportFileOptions, FileError, FileRow, Reason, COLUMNS,
};
use crate::datefmt::parse_local;

/// `s` without surrounding whitespace, exactly as [`str::trim`], which it calls only
/// when `s` starts or ends with something else than a printable ASCII byte (spaces and
/// control bytes included): most fields need no trimming.
#[inline]
fn trim(s: &str) -> &str {
    let printable = |b: Option<&u8>| b.is_some_and(|b| (0x21..0x7f).contains(b));
    if printable(s.as_bytes().first()) && printable(s.as_bytes().last()) {
        s
    } else {
        s.trim()
    }
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

    /// Reads one row; `field(i)` is the text of column `i`. Checks run in a fixed order
    /// (date, serial, site id, in, out, outside), so a row with several faults always
    /// names the same one.
    fn row<'a>(
        &self,
        line: u64,
        field: impl Fn(usize) -> Option<&'a str>,
        opts: &ExportFileOptions,
        shared: &mut Shared,
    ) -> Result<FileRow, Reason> {
        // Each mapped column read and trimmed once.
        let mut texts: [Option<&'a str>; COLUMNS] = [None; COLUMNS];
        for (slot, at) in texts.iter_mut().zip(&self.at) {
            if let Some(i) = at {
                *slot = field(*i).map(trim);
            }
        }
        let text = |c: Column| texts.get(c.index()).copied().flatten();
        let date_text = text(Column::DateTime).or(text(Column::Date)).unwrap_or("");
        let time_text = text(Column::Time);
        let local = shared
            .local(date_text, time_text, opts)
            .ok_or_else(|| Reason::BadDate {
                value: match time_text {
                    Some(t) => format!("{date_text} {t}"),
                    None => date_text.to_owned(),
                },
            })?;
        let count = |c: Column| -> Result<Option<u64>, Reason> {
            match text(c) {
                None | Some("") => Ok(None),
                Some(v) => match parse_count(v) {
                    Some(n) => Ok(Some(n)),
                    None => Err(bad_number(c, v)),
                },
            }
        };
        let required = |c: Column| -> Result<u64, Reason> {
            count(c)?.ok_or_else(|| Reason::BadNumber {
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
        let count_in = required(Column::In)?;
        let count_out = required(Column::Out)?;
        let outside = count(Column::Outside)?;
        let mut name = |c: Column| text(c).filter(|s| !s.is_empty()).map(|s| shared.name(s));
        Ok(FileRow {
            line,
            local,
            count_in,
            count_out,
            outside,
            site: name(Column::Site),
            site_id,
            counter: name(Column::Counter),
            serial,
        })
    }
}

/// The error for a count that is not one; apart, so that the counts' reading (every row)
/// stays small enough to inline.
#[cold]
#[inline(never)]
fn bad_number(column: Column, value: &str) -> Reason {
    Reason::BadNumber {
        column: column.name(),
        value: value.to_owned(),
    }
}

/// A count as [`str::parse`] reads it; up to 19 digits (which cannot overflow) are read in
/// one pass, the common case.
#[inline]
fn parse_count(v: &str) -> Option<u64> {
    let b = v.as_bytes();
    if (1..=19).contains(&b.len()) {
        let (n, digits) = b.iter().fold((0u64, true), |(n, digits), d| {
            let digit = d.wrapping_sub(b'0');
            (
                n.wrapping_mul(10).wrapping_add(u64::from(digit)),
                digits & (digit < 10),
            )
        });
        if digits {
            return Some(n);
        }
    }
    v.parse().ok()
}

/// What the rows of one file share: the date and time last read (the rows of one hour or
/// day follow each other), and one copy of each site and counter name.
#[derive(Default)]
struct Shared {
    last: Option<LastDate>,
    names: foldhash::HashSet<Arc<str>>,
}

/// The texts of the date last read and what they meant.
struct LastDate {
    date: String,
    time: Option<String>,
    local: NaiveDateTime,
}

impl Shared {
    /// [`parse_local`] of the texts, remembering the last answer.
    fn local(
        &mut self,
        date: &str,
        time: Option<&str>,
        opts: &ExportFileOptions,
    ) -> Option<NaiveDateTime> {
        if let Some(last) = &self.last {
            let same_time = match (last.time.as_deref(), time) {
                (Some(a), Some(b)) => same(a, b),
                (a, b) => a.is_none() && b.is_none(),
            };
            if same_time && same(&last.date, date) {
                return Some(last.local);
            }
        }
        let local = parse_local(date, time, &opts.date, &opts.time)?;
        match &mut self.last {
            // The texts' buffers are kept: no allocation when the hour changes.
            Some(last) => {
                last.date.clear();
                last.date.push_str(date);
                match (&mut last.time, time) {
                    (Some(buffer), Some(t)) => {
                        buffer.clear();
                        buffer.push_str(t);
                    }
                    (slot, t) => *slot = t.map(str::to_owned),
                }
                last.local = local;
            }
            None => {
                self.last = Some(LastDate {
                    date: date.to_owned(),
                    time: time.map(str::to_owned),
                    local,
                });
            }
        }
        Some(local)
    }

    /// The file's one copy of `name`.
    fn name(&mut self, name: &str) -> Arc<str> {
        if let Some(shared) = self.names.get(name) {
            return Arc::clone(shared);
        }
        let shared: Arc<str> = Arc::from(name);
        self.names.insert(Arc::clone(&shared));
        shared
    }
}

/// `a == b`, for short texts (dates and times: up to 16 bytes) as two eight-byte compares
/// instead of a call to `memcmp`.
#[inline]
fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    match (a.first_chunk::<8>(), a.last_chunk::<8>()) {
        (Some(a0), Some(a1)) if a.len() <= 16 => {
            b.first_chunk::<8>() == Some(a0) && b.last_chunk::<8>() == Some(a1)
        }
        _ => a == b,
    }
}

/// The number of line feeds in `bytes`, summed 64 bytes at a time in one byte (which
/// the compiler turns into vector compares; a count per byte is several times slower).
fn count_lines(bytes: &[u8]) -> usize {
    let mut chunks = bytes.chunks_exact(64);
    let mut lines = 0usize;
    for chunk in &mut chunks {
        let in_chunk: u8 = chunk.iter().map(|b| u8::from(*b == b'\n')).sum();
        lines += usize::from(in_chunk);
    }
    lines + chunks.remainder().iter().filter(|b| **b == b'\n').count()
}

/// Whether `bytes` has no quote and no carriage return, 64 bytes at a time (as
/// [`count_lines`]). In such a file (valid UTF-8, an ASCII delimiter other than a quote
/// or a line end) every record is a line split at the delimiter, so [`read_plain`] reads
/// it without the csv state machine.
fn quote_free(bytes: &[u8]) -> bool {
    let special = |b: &u8| u8::from(*b == b'"' || *b == b'\r');
    let mut chunks = bytes.chunks_exact(64);
    for chunk in &mut chunks {
        if chunk.iter().fold(0u8, |seen, b| seen | special(b)) != 0 {
            return false;
        }
    }
    !chunks.remainder().iter().any(|b| special(b) != 0)
}

/// `bytes` as text when it is plain (see [`quote_free`]): valid UTF-8, no quote, no
/// carriage return, and an ASCII delimiter that is not one of those or a line feed.
fn plain_text(bytes: &[u8], delimiter: u8) -> Option<&str> {
    let special = matches!(delimiter, b'"' | b'\r' | b'\n') || !delimiter.is_ascii();
    if special || !quote_free(bytes) {
        return None;
    }
    std::str::from_utf8(bytes).ok()
}

/// What the rows of one file are read with.
struct RowReader<'o> {
    mapping: Mapping,
    opts: &'o ExportFileOptions,
    shared: Shared,
}

impl RowReader<'_> {
    /// Reads one record (its fields in `fields`) into `out`, a row or an error; a blank
    /// record (only empty fields) is padding, not a row.
    fn record<'a>(
        &mut self,
        line: u64,
        fields: impl Fn(usize) -> Option<&'a str>,
        blank: bool,
        out: &mut ExportFile,
        fail: impl FnOnce(Reason) -> FileError,
    ) {
        if blank {
            return;
        }
        match self.mapping.row(line, fields, self.opts, &mut self.shared) {
            Ok(r) => out.rows.push(r),
            Err(reason) => out.errors.push(fail(reason)),
        }
    }
}

/// Reads the records of a plain `text` (see [`plain_text`]) after the header, which
/// ends at byte `start` on line `line`: the records, lines and bytes the csv reader
/// gives for such text, without its state machine. Blank lines are skipped; a record's
/// line and byte are where the previous record ended, as the csv reader reports them.
fn read_plain(
    text: &str,
    (start, line): (u64, u64),
    delimiter: u8,
    rows: &mut RowReader<'_>,
    out: &mut ExportFile,
    fail: impl Fn(u64, u64, Reason) -> FileError,
) {
    let rest = usize::try_from(start)
        .ok()
        .and_then(|s| text.get(s..))
        .unwrap_or_default();
    let (mut ended, mut lines, mut at) = ((start, line), line, 0usize);
    let mut fields: Vec<&str> = Vec::new();
    while at < rest.len() {
        let end = split_line(rest, at, delimiter, &mut fields);
        let feed = end < rest.len();
        let next = end + usize::from(feed);
        lines += u64::from(feed);
        if end > at {
            let blank = fields.iter().all(|f| trim(f).is_empty());
            let (byte, line) = ended;
            rows.record(
                line,
                |i| fields.get(i).copied(),
                blank,
                out,
                |r| fail(line, byte, r),
            );
            ended = (start + next as u64, lines);
        }
        at = next;
    }
}

/// The fields of the line of `text` that starts at byte `from`, split at `delimiter` (an
/// ASCII byte) into `fields`; returns where the line ends (its line feed, or the end of
/// `text`). Eight bytes at a time: each delimiter and line feed found by a word compare
/// (`str::split` and `lines` search afresh for each field and line, several times slower
/// on short fields).
fn split_line<'a>(text: &'a str, from: usize, delimiter: u8, fields: &mut Vec<&'a str>) -> usize {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    /// The high bit of each byte of `x` that is zero, and no other bit.
    fn zero_bytes(x: u64) -> u64 {
        !(((x & LOW7) + LOW7) | x | LOW7)
    }
    fields.clear();
    let bytes = text.as_bytes();
    let (delimiters, feeds) = (
        u64::from_ne_bytes([delimiter; 8]),
        u64::from_ne_bytes([b'\n'; 8]),
    );
    let (mut field, mut at) = (from, from);
    // A special byte at `i`: the line ends there, or a field does.
    let mut special = |i: usize, fields: &mut Vec<&'a str>| -> bool {
        fields.push(text.get(field..i).unwrap_or_default());
        field = i + 1;
        bytes.get(i) == Some(&b'\n')
    };
    while let Some(word) = bytes
        .get(at..at + 8)
        .and_then(|w| <[u8; 8]>::try_from(w).ok())
    {
        let word = u64::from_le_bytes(word);
        let mut found = zero_bytes(word ^ delimiters) | zero_bytes(word ^ feeds);
        while found != 0 {
            let i = at + (found.trailing_zeros() / 8) as usize;
            if special(i, fields) {
                return i;
            }
            found &= found - 1;
        }
        at += 8;
    }
    for (i, b) in (at..).zip(bytes.get(at..).unwrap_or_default()) {
        if (*b == b'\n' || *b == delimiter) && special(i, fields) {
            return i;
        }
    }
    fields.push(text.get(field..).unwrap_or_default());
    text.len()
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
    // A row per line at most; a row is longer than 32 bytes but for tiny files of counts,
    // so the guess stays near the file's size.
    out.rows.reserve(count_lines(bytes).min(bytes.len() / 32));
    let mut rows = RowReader {
        mapping,
        opts,
        shared: Shared::default(),
    };
    if let Some(text) = plain_text(bytes, delimiter) {
        let after_header = (reader.position().byte(), reader.position().line());
        read_plain(text, after_header, delimiter, &mut rows, &mut out, fail);
        return Ok(out);
    }
    loop {
        let pos = reader.position().clone();
        let (line, byte) = (pos.line(), pos.byte());
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let blank = record.iter().all(|f| trim(f).is_empty());
                let line = record.position().map_or(line, csv::Position::line);
                rows.record(
                    line,
                    |i| record.get(i),
                    blank,
                    &mut out,
                    |r| fail(line, byte, r),
                );
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
    let mut shared = Shared::default();
    for (i, row) in rows.enumerate() {
        let line = first_row + 1 + i as u64;
        let cells: Vec<String> = row.iter().map(text).collect();
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        match mapping.row(
            line,
            |i| cells.get(i).map(String::as_str),
            opts,
            &mut shared,
        ) {
            Ok(r) => out.rows.push(r),
            Err(reason) => out.errors.push(fail(line, reason)),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
