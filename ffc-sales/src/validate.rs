//! The streaming validator: one pass over the file, every error collected (up to a limit),
//! valid rows summed per store and hour as they go.
//!
//! The CSV layer is `csv-core`, the `csv` crate's own parser (quoted fields, CRLF, blank
//! lines, a UTF-8 byte-order mark before the header), driven here directly so every record
//! gets its true line number and byte offset (the `csv` crate's own line count drifts on
//! CRLF files and skipped blank lines). Between records, a plain line (no quote, no lone
//! CR) is split without it, as csv-core would split it, and read in place (see
//! `split_plain_line`); csv-core takes every other line. Rows whose fields are all empty (a spreadsheet's
//! trailing `,,,`) are counted as blank and skipped. No row is kept after it is checked, and
//! a row longer than [`ValidationConfig::max_row_bytes`] is refused without being buffered.
//!
//! Memory: the header, the interned store codes, one bucket per (store, hour), and (while
//! duplicate detection is on, the default) one entry per valid row (about 5 bytes while
//! rows arrive sorted by store and hour; 32 once they arrive out of order) so a repeated row can be named with the line it repeats. Turn
//! [`ValidationConfig::detect_duplicates`] off and memory no longer grows with the rows.

use std::collections::BTreeSet;
use std::io::Read;

use csv_core::ReadRecordResult;

use crate::aggregate::{day_key, hour_start, HourlySales, Placement, StoreIdx};
use crate::error::{HeaderProblem, Reason, RowError, SalesError};
use crate::mapping::{column_number, Columns, HeaderMapping, SalesField};
use crate::value::{parse_amount_cents, parse_quantity, parse_store, DateTimeParser};

/// Default for [`ValidationConfig::max_errors`].
pub const DEFAULT_MAX_ERRORS: usize = 1000;
/// Default for [`ValidationConfig::max_row_bytes`].
pub const DEFAULT_MAX_ROW_BYTES: usize = 64 * 1024;
/// Most fields a row may have (a row with more is refused like an over-long one).
pub const MAX_FIELDS: usize = 4096;
/// Bytes read from the input at a time.
const READ_CHUNK: usize = 64 * 1024;

/// What the validator checks against, and how much it keeps.
#[derive(Debug, Clone)]
pub struct ValidationConfig {
    /// How headers map onto the required fields.
    pub mapping: HeaderMapping,
    /// The site codes a `StoreCode` must be one of; `None` accepts any non-empty code.
    pub known_stores: Option<std::collections::HashSet<String>>,
    /// Errors kept in the report (all are counted). Default [`DEFAULT_MAX_ERRORS`].
    pub max_errors: usize,
    /// Report a row that repeats an earlier row's four values. Default on.
    pub detect_duplicates: bool,
    /// Longest row accepted, in bytes after unquoting. Default [`DEFAULT_MAX_ROW_BYTES`].
    pub max_row_bytes: usize,
}

impl Default for ValidationConfig {
    fn default() -> Self {
        ValidationConfig {
            mapping: HeaderMapping::by_name(),
            known_stores: None,
            max_errors: DEFAULT_MAX_ERRORS,
            detect_duplicates: true,
            max_row_bytes: DEFAULT_MAX_ROW_BYTES,
        }
    }
}

impl ValidationConfig {
    /// Only these site codes are accepted.
    #[must_use]
    pub fn known_stores<I, S>(mut self, codes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.known_stores = Some(codes.into_iter().map(Into::into).collect());
        self
    }

    /// Keep at most `n` errors in the report.
    #[must_use]
    pub fn max_errors(mut self, n: usize) -> Self {
        self.max_errors = n;
        self
    }

    /// Use this header mapping.
    #[must_use]
    pub fn mapping(mut self, mapping: HeaderMapping) -> Self {
        self.mapping = mapping;
        self
    }

    /// Turn duplicate-row detection on or off.
    #[must_use]
    pub fn detect_duplicates(mut self, on: bool) -> Self {
        self.detect_duplicates = on;
        self
    }
}

/// One CSV record as parsed: the unquoted bytes of all fields end to end, and where each
/// field ends.
#[derive(Debug, Clone, Copy)]
pub struct RawRecord<'a> {
    data: &'a [u8],
    ends: &'a [usize],
    /// Whether one delimiter byte separates the fields in `data` (a plain line as it is in
    /// the file, see [`split_plain_line`]) rather than none (csv-core's output).
    delimited: bool,
}

impl<'a> RawRecord<'a> {
    /// A record from `csv-core`'s output: `data` holds the fields end to end, `ends[i]` is
    /// the end of field `i` in `data`.
    pub fn new(data: &'a [u8], ends: &'a [usize]) -> Self {
        RawRecord {
            data,
            ends,
            delimited: false,
        }
    }

    /// A plain line as it is in the file: `ends[i]` is where field `i` ends (the comma
    /// after it, or the end of `line`).
    fn plain(line: &'a [u8], ends: &'a [usize]) -> Self {
        RawRecord {
            data: line,
            ends,
            delimited: true,
        }
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether the record has no fields.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Field `i`, if there is one.
    pub fn get(&self, i: usize) -> Option<&'a [u8]> {
        let end = *self.ends.get(i)?;
        let start = match i.checked_sub(1) {
            Some(p) => *self.ends.get(p)? + usize::from(self.delimited),
            None => 0,
        };
        self.data.get(start..end)
    }

    /// Every field in order.
    pub fn iter(&self) -> impl Iterator<Item = &'a [u8]> + '_ {
        (0..self.len()).filter_map(|i| self.get(i))
    }

    /// Whether every field is empty (a blank row such as `,,,`): the fields are stored end
    /// to end, so that is when there are no bytes at all (or only the delimiters).
    pub fn all_empty(&self) -> bool {
        if self.delimited {
            self.data.len() + 1 == self.ends.len()
        } else {
            self.data.is_empty()
        }
    }

    /// The fields joined with commas (for error excerpts).
    fn joined(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for (i, f) in self.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(f);
            if out.len() > crate::error::VALUE_EXCERPT_BYTES * 4 {
                break;
            }
        }
        out
    }
}

/// Row counts of one file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct RowCounts {
    /// Data rows read (blank rows not included).
    pub rows: u64,
    /// Rows that passed every check and were summed.
    pub valid: u64,
    /// Rows with at least one error (duplicates included).
    pub invalid: u64,
    /// Of the invalid rows, those that repeat an earlier row.
    pub duplicates: u64,
    /// Rows whose fields were all empty, skipped.
    pub blank: u64,
}

/// The result of validating one file: what was wrong, and the valid rows summed.
#[derive(Debug, Clone, Default)]
pub struct Validation {
    /// Problems with the header row; when there are any, no row was read.
    pub header_problems: Vec<HeaderProblem>,
    /// Row counts.
    pub counts: RowCounts,
    /// The first [`ValidationConfig::max_errors`] errors, in file order.
    pub errors: Vec<RowError>,
    /// How many errors there were in all.
    pub error_count: u64,
    /// The valid rows, summed per store and local hour.
    pub sales: HourlySales,
    /// (store, local day) pairs with an invalid row.
    pub(crate) tainted_days: BTreeSet<(StoreIdx, i32)>,
    /// Stores with an invalid row whose day could not be read.
    pub(crate) tainted_stores: BTreeSet<StoreIdx>,
    /// Invalid rows whose store could not be read (or is unknown).
    pub unattributed_invalid_rows: u64,
}

impl Validation {
    /// True when the header resolved and no row had an error.
    pub fn is_valid(&self) -> bool {
        self.header_problems.is_empty() && self.error_count == 0
    }
}

/// A summed row's values within its (store, hour) bucket, packed into two words: the
/// quantity shifted left by 6 bits with the minute of the hour (0..60) below it, and the
/// cents. Exact, not a hash: together with the bucket it is the whole duplicate key (store,
/// minute, quantity, cents), and quantities stay far below 2^56 (see the assertion below).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct RowKey {
    quantity_minute: u64,
    cents: u64,
}

// Quantities have at most 12 digits: shifted by 6 they still fit.
const _: () = assert!(10u64.pow(crate::value::MAX_QUANTITY_DIGITS as u32) < 1 << 56);

impl RowKey {
    fn new(minute_of_hour: u64, quantity: u64, cents: u64) -> Self {
        RowKey {
            quantity_minute: (quantity << 6) | minute_of_hour,
            cents,
        }
    }

    fn minute_of_hour(self) -> u8 {
        (self.quantity_minute & 0x3f) as u8
    }

    fn quantity(self) -> u64 {
        self.quantity_minute >> 6
    }
}

/// A summed row and its line.
#[derive(Debug, Clone, Copy)]
struct Seen {
    key: RowKey,
    line: u64,
}

/// Bytes in a history chunk: growing the history never copies it.
const HISTORY_CHUNK: usize = 256 * 1024;
/// Longest history entry: its head byte, then three LEB128 numbers of at most 10 bytes.
const HISTORY_ENTRY_MAX: usize = 1 + 3 * 10;
/// In an entry's head byte, above the minute of the hour (< 64): the entry is the first row
/// of its bucket.
const ENTRY_FIRST_OF_BUCKET: u8 = 0x40;
/// In an entry's head byte: the row's line is not the previous entry's plus one, so the
/// line follows the amount.
const ENTRY_LINE_JUMP: u8 = 0x80;

/// Appends `v` as LEB128 (7 bits a byte, low first; the high bit says more follow).
fn push_varint(buf: &mut Vec<u8>, mut v: u64) {
    loop {
        let low = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            buf.push(low);
            return;
        }
        buf.push(low | 0x80);
    }
}

/// Reads a LEB128 number at `*pos`, moving past it.
fn read_varint(bytes: &[u8], pos: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    let mut shift = 0u32;
    loop {
        let b = *bytes.get(*pos)?;
        *pos += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(v);
        }
        shift += 7;
        if shift > 63 {
            return None;
        }
    }
}

/// Rows seen so far, to name the first occurrence of a repeated row.
///
/// While the rows arrive in (store, hour) order, as sorted exports do, a repeat can only be
/// in the current bucket's run, so only that run is scanned (no hashing), and finished runs
/// are appended, unsearched, to a history in fixed-size chunks. The buckets of a sorted file
/// are numbered in order, so the history needs no bucket numbers: the first row of each run
/// is flagged. The first row out of order (or a run longer than [`RUN_SCAN_LIMIT`]) moves
/// every row into a hash map keyed by (bucket, [`RowKey`]), pre-sized, which answers from
/// then on. About 5 bytes per summed row in the history (32 in the map), and every answer
/// exact.
#[derive(Debug, Default)]
struct DuplicateIndex {
    /// The rows of the current run (sorted mode).
    run: Vec<Seen>,
    /// The bucket of the current run; `None` before the first row.
    run_bucket: Option<usize>,
    /// The rows of the finished runs, in file order, buckets 0, 1, 2, ... (sorted mode),
    /// packed: a head byte (minute of the hour, first-of-bucket and line-jump flags), the
    /// quantity and the cents as LEB128, and the line only where it does not follow the
    /// previous row's. About 5 bytes a row; it is only read back when the map takes over.
    history: Vec<Vec<u8>>,
    /// Rows in `history`.
    history_rows: usize,
    /// The line of the last row in `history`.
    history_line: u64,
    hashed: Option<foldhash::HashMap<(usize, RowKey), u64>>,
}

/// Longest run scanned linearly before switching to the hash map (bounds the scan cost).
const RUN_SCAN_LIMIT: usize = 64;

impl DuplicateIndex {
    /// The line of an earlier summed row with this key in this bucket; if there is none, the
    /// row is recorded as summed at `line` (take it back with [`DuplicateIndex::forget`]).
    fn check(
        &mut self,
        bucket: usize,
        placement: Placement,
        key: RowKey,
        line: u64,
    ) -> Option<u64> {
        if self.hashed.is_none() {
            match placement {
                Placement::NewInOrder if self.run_follows(bucket) => {
                    self.close_run();
                    self.run_bucket = Some(bucket);
                    self.run.push(Seen { key, line });
                    return None;
                }
                Placement::SameAsLast
                    if self.run_bucket == Some(bucket) && self.run.len() < RUN_SCAN_LIMIT =>
                {
                    if let Some(seen) = self.run.iter().find(|s| s.key == key) {
                        return Some(seen.line);
                    }
                    self.run.push(Seen { key, line });
                    return None;
                }
                _ => self.switch_to_hash(),
            }
        }
        let map = self.hashed.get_or_insert_with(Default::default);
        match map.entry((bucket, key)) {
            std::collections::hash_map::Entry::Occupied(first) => Some(*first.get()),
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(line);
                None
            }
        }
    }

    /// Takes back the row [`DuplicateIndex::check`] just recorded: it was not summed.
    fn forget(&mut self, bucket: usize, key: RowKey) {
        match &mut self.hashed {
            Some(map) => {
                map.remove(&(bucket, key));
            }
            None => {
                self.run.pop();
            }
        }
    }

    /// Whether a new bucket continues the numbering of the history (always, for a sorted
    /// file; anything else switches to the map rather than trusting it).
    fn run_follows(&self, bucket: usize) -> bool {
        match self.run_bucket {
            None => bucket == 0,
            Some(b) => b.checked_add(1) == Some(bucket) && !self.run.is_empty(),
        }
    }

    /// Moves the current run into the history, its first row flagged.
    fn close_run(&mut self) {
        for (i, seen) in self.run.drain(..).enumerate() {
            let full = self
                .history
                .last()
                .is_none_or(|c| c.capacity() - c.len() < HISTORY_ENTRY_MAX);
            if full {
                self.history.push(Vec::with_capacity(HISTORY_CHUNK));
            }
            let Some(chunk) = self.history.last_mut() else {
                return;
            };
            let mut head = seen.key.minute_of_hour();
            if i == 0 {
                head |= ENTRY_FIRST_OF_BUCKET;
            }
            let jump = self.history_line.checked_add(1) != Some(seen.line);
            if jump {
                head |= ENTRY_LINE_JUMP;
            }
            chunk.push(head);
            push_varint(chunk, seen.key.quantity());
            push_varint(chunk, seen.key.cents);
            if jump {
                push_varint(chunk, seen.line);
            }
            self.history_line = seen.line;
            self.history_rows += 1;
        }
    }

    /// Moves every row into the hash map.
    fn switch_to_hash(&mut self) {
        let mut map = foldhash::HashMap::with_capacity_and_hasher(
            self.history_rows + self.run.len(),
            foldhash::fast::RandomState::default(),
        );
        let mut bucket: Option<usize> = None;
        let mut line = 0u64;
        for chunk in &self.history {
            let mut pos = 0usize;
            while let Some(&head) = chunk.get(pos) {
                pos += 1;
                let (Some(quantity), Some(cents)) =
                    (read_varint(chunk, &mut pos), read_varint(chunk, &mut pos))
                else {
                    break;
                };
                line = if head & ENTRY_LINE_JUMP != 0 {
                    let Some(l) = read_varint(chunk, &mut pos) else {
                        break;
                    };
                    l
                } else {
                    line + 1
                };
                if head & ENTRY_FIRST_OF_BUCKET != 0 {
                    bucket = Some(bucket.map_or(0, |b| b + 1));
                }
                let key = RowKey::new(u64::from(head & 0x3f), quantity, cents);
                map.insert((bucket.unwrap_or(0), key), line);
            }
        }
        if let Some(b) = self.run_bucket {
            for seen in &self.run {
                map.insert((b, seen.key), seen.line);
            }
        }
        self.history = Vec::new();
        self.history_rows = 0;
        self.run = Vec::new();
        self.hashed = Some(map);
    }
}

/// The validator as a state machine: feed it the header record, then each row record.
/// [`validate_reader`] and [`validate_bytes`] drive it with the `csv` crate; a caller with
/// its own CSV reader can drive it too.
#[derive(Debug)]
pub struct Validator<'c> {
    config: &'c ValidationConfig,
    columns: Option<Columns>,
    out: Validation,
    duplicates: DuplicateIndex,
    /// The last store code and its index: files are usually sorted by store, so most rows
    /// skip the lookups.
    last_store: Vec<u8>,
    last_store_result: Result<StoreIdx, Reason>,
    /// Remembers the last date and hour: rows of one hour only have their minutes read.
    dates: DateTimeParser,
}

impl<'c> Validator<'c> {
    /// A validator with nothing read yet.
    pub fn new(config: &'c ValidationConfig) -> Self {
        Validator {
            config,
            columns: None,
            out: Validation::default(),
            duplicates: DuplicateIndex::default(),
            last_store: Vec::new(),
            last_store_result: Err(Reason::Empty),
            dates: DateTimeParser::new(),
        }
    }

    /// Reads the header row. `false` when it does not resolve (the problems are in the
    /// result); rows fed after that are ignored.
    pub fn header(&mut self, record: &RawRecord<'_>) -> bool {
        let names: Vec<String> = record
            .iter()
            .map(|f| String::from_utf8_lossy(f).into_owned())
            .collect();
        match self.config.mapping.resolve(names) {
            Ok(c) => {
                self.columns = Some(c);
                true
            }
            Err(problems) => {
                self.out.header_problems = problems;
                false
            }
        }
    }

    fn error(&mut self, line: u64, byte: u64, field: Option<SalesField>, value: &[u8], r: Reason) {
        self.out.error_count += 1;
        if self.out.errors.len() < self.config.max_errors {
            let place = field.and_then(|f| {
                let c = self.columns?;
                Some((f, column_number(c.index(f))))
            });
            self.out
                .errors
                .push(RowError::new(line, byte, place, value, r));
        }
    }

    fn store(&mut self, raw: &[u8]) -> Result<StoreIdx, Reason> {
        if raw == self.last_store.as_slice() {
            return self.last_store_result;
        }
        // Interned codes are valid known ones: one lookup, by the raw bytes, for a store
        // seen before.
        let result = match self.out.sales.index_of(raw) {
            Some(i) => Ok(i),
            None => parse_store(raw).and_then(|code| match &self.config.known_stores {
                Some(known) if !known.contains(code) => Err(Reason::UnknownStore),
                _ => Ok(self.out.sales.intern(code)),
            }),
        };
        self.last_store.clear();
        self.last_store.extend_from_slice(raw);
        self.last_store_result = result;
        result
    }

    /// Checks one data row and, when valid, adds it to the hourly sums.
    /// `line` (1-based) and `byte` say where the record starts, for the error list.
    pub fn row(&mut self, record: &RawRecord<'_>, line: u64, byte: u64) {
        let Some(columns) = self.columns else {
            return;
        };
        if record.all_empty() {
            self.out.counts.blank += 1;
            return;
        }
        self.out.counts.rows += 1;
        if record.len() < columns.needed() {
            self.out.counts.invalid += 1;
            self.out.unattributed_invalid_rows += 1;
            self.error(
                line,
                byte,
                None,
                &record.joined(),
                Reason::MissingFields {
                    found: u32::try_from(record.len()).unwrap_or(u32::MAX),
                    needed: u32::try_from(columns.needed()).unwrap_or(u32::MAX),
                },
            );
            return;
        }
        let get = |f: SalesField| record.get(columns.index(f)).unwrap_or_default();
        let raw_store = get(SalesField::StoreCode);
        let raw_dt = get(SalesField::DateTime);
        let raw_qty = get(SalesField::TotalTransactionQty);
        let raw_amount = get(SalesField::TotalTransactionValue);

        let store = self.store(raw_store);
        let dt = self.dates.parse(raw_dt);
        let qty = parse_quantity(raw_qty);
        let amount = parse_amount_cents(raw_amount);

        let (Ok(s), Ok(d), Ok(q), Ok(c)) = (store, dt, qty, amount) else {
            self.out.counts.invalid += 1;
            for (field, raw, result) in [
                (SalesField::StoreCode, raw_store, store.err()),
                (SalesField::DateTime, raw_dt, dt.err()),
                (SalesField::TotalTransactionQty, raw_qty, qty.err()),
                (SalesField::TotalTransactionValue, raw_amount, amount.err()),
            ] {
                if let Some(reason) = result {
                    self.error(line, byte, Some(field), raw, reason);
                }
            }
            match (store, dt) {
                (Ok(s), Ok(d)) => {
                    self.out.tainted_days.insert((s, day_key(d)));
                }
                (Ok(s), Err(_)) => {
                    self.out.tainted_stores.insert(s);
                }
                (Err(_), _) => self.out.unattributed_invalid_rows += 1,
            }
            return;
        };
        let hour = hour_start(d);
        let (slot, placement, totals) = self.out.sales.locate(s, hour);
        let key = RowKey::new(((d - hour) / 60).unsigned_abs(), q, c);
        let duplicate_of = if self.config.detect_duplicates {
            self.duplicates.check(slot, placement, key, line)
        } else {
            None
        };
        // A duplicate is not summed; `add` refuses (adding nothing) when a total overflows.
        let added = duplicate_of.is_none() && totals.add(q, c);
        if let Some(first_line) = duplicate_of {
            self.out.counts.invalid += 1;
            self.out.counts.duplicates += 1;
            self.out.tainted_days.insert((s, day_key(d)));
            self.error(
                line,
                byte,
                None,
                &record.joined(),
                Reason::DuplicateRow { first_line },
            );
            return;
        }
        if !added {
            if self.config.detect_duplicates {
                self.duplicates.forget(slot, key);
            }
            self.out.counts.invalid += 1;
            self.out.tainted_days.insert((s, day_key(d)));
            self.error(
                line,
                byte,
                Some(SalesField::TotalTransactionValue),
                raw_amount,
                Reason::TotalOverflow,
            );
            return;
        }
        self.out.counts.valid += 1;
    }

    /// Records a row that was too long to buffer.
    pub fn too_long(&mut self, line: u64, byte: u64) {
        if self.columns.is_none() {
            return;
        }
        self.out.counts.rows += 1;
        self.out.counts.invalid += 1;
        self.out.unattributed_invalid_rows += 1;
        let limit = self.config.max_row_bytes as u64;
        self.error(line, byte, None, b"", Reason::RowTooLong { limit });
    }

    /// Records a header row that was too long to buffer.
    pub fn header_too_long(&mut self) {
        self.out.header_problems.push(HeaderProblem::HeaderTooLong);
    }

    /// The result. A validator that never saw a header reports [`HeaderProblem::NoHeader`].
    pub fn finish(mut self) -> Validation {
        if self.columns.is_none() && self.out.header_problems.is_empty() {
            self.out.header_problems.push(HeaderProblem::NoHeader);
        }
        self.out.sales.seal();
        self.out
    }
}

/// Drives `csv-core` over the input, piece by piece, and the validator over its records:
/// the one read loop behind [`validate_reader`] (pieces from a read buffer) and
/// [`validate_bytes`] (the whole slice as one piece, no copy).
struct CsvDriver {
    csv: csv_core::Reader,
    /// The unquoted fields of the record being parsed, end to end.
    out: Vec<u8>,
    out_len: usize,
    /// Where each of its fields ends in `out`.
    ends: Vec<usize>,
    ends_len: usize,
    /// Bytes consumed so far, and the 1-based line there (csv-core's count).
    offset: u64,
    line: u64,
    /// Where the record being parsed starts, once its first byte is seen.
    start: Option<(u64, u64)>,
    /// The record being parsed outgrew the limits; its output is being discarded.
    too_long: bool,
    header_done: bool,
    /// Whether csv-core stands between two records (after a record it returned), where a
    /// plain line may be split without it ([`split_plain_line`]).
    between_records: bool,
    /// Whether plain lines may be split without csv-core (always, except in the test
    /// that compares the two).
    plain_lines: bool,
    /// Line feeds consumed by the plain-line path, which csv-core's count does not see.
    plain_line_feeds: u64,
}

/// Splits the plain line at the start of `input` as csv-core would: fields between commas
/// up to a `\n` or `\r\n`. Returns the line without its terminator, the bytes consumed
/// with it, and the number of fields, whose ends (the comma after each, or the end of the
/// line) are written to `ends`. `None` — and csv-core takes the line — when the line has
/// a quote or a lone `\r` (csv-core's own rules apply there), does not end in `input`, or
/// would not fit csv-core's buffers, `out_room` bytes and `ends` (so their growth and the
/// row limits stay csv-core's).
///
/// Exact because csv-core, between records and with no quote in sight, copies every byte
/// but the delimiter into the field, ends a field at `,` and the record at `\r` or `\n`;
/// after `\r` it discards one `\n`, and that state behaves like the one between records.
#[inline]
fn split_plain_line<'a>(
    input: &'a [u8],
    out_room: usize,
    ends: &mut [usize],
) -> Option<(&'a [u8], usize, usize)> {
    let end = memchr::memchr3(b'\n', b'\r', b'"', input)?;
    let consumed = match input.get(end..)? {
        [b'\n', ..] => end + 1,
        [b'\r', b'\n', ..] => end + 2,
        _ => return None,
    };
    let line = input.get(..end)?;
    // Lines are short: a plain pass finds the commas faster than a vector search per comma.
    // Every position is written to the next free end, which only a comma makes permanent.
    let mut fields = 0usize;
    for (i, &b) in line.iter().enumerate() {
        if let Some(slot) = ends.get_mut(fields) {
            *slot = i;
        }
        fields += usize::from(b == b',');
    }
    *ends.get_mut(fields)? = end;
    fields += 1;
    // Strictly inside both buffers: csv-core would not have asked for more room.
    if fields >= ends.len() || end - (fields - 1) >= out_room {
        return None;
    }
    Some((line, consumed, fields))
}

impl CsvDriver {
    /// A driver at byte `offset` of the file (after a byte-order mark already skipped).
    fn new(offset: u64) -> Self {
        let csv = csv_core::Reader::new();
        let line = csv.line();
        CsvDriver {
            csv,
            out: vec![0u8; 1024],
            out_len: 0,
            ends: vec![0usize; 32],
            ends_len: 0,
            offset,
            line,
            start: None,
            too_long: false,
            header_done: false,
            between_records: false,
            plain_lines: true,
            plain_line_feeds: 0,
        }
    }

    /// Parses `piece` to its end and hands every complete record to the validator. An
    /// empty `piece` is the end of the input. `false` once reading should stop (the end
    /// was reached, or the header did not resolve).
    fn feed(&mut self, mut piece: &[u8], validator: &mut Validator<'_>) -> bool {
        let at_end = piece.is_empty();
        loop {
            if self.between_records && self.plain_lines && !at_end {
                // Blank lines between records: csv-core would skip them too.
                let blank = piece
                    .iter()
                    .take_while(|b| matches!(b, b'\r' | b'\n'))
                    .count();
                let (skipped, rest) = piece.split_at(blank);
                let feeds = count_lines(skipped);
                self.plain_line_feeds += feeds;
                self.line += feeds;
                self.offset += blank as u64;
                piece = rest;
                if piece.is_empty() {
                    return true;
                }
                if let Some((line, nin, nends)) =
                    split_plain_line(piece, self.out.len(), &mut self.ends)
                {
                    let record = RawRecord::plain(line, self.ends.get(..nends).unwrap_or_default());
                    let (rec_line, rec_byte) = (self.line, self.offset);
                    self.plain_line_feeds += 1;
                    self.line += 1;
                    self.offset += nin as u64;
                    piece = piece.get(nin..).unwrap_or_default();
                    if self.header_done {
                        validator.row(&record, rec_line, rec_byte);
                    } else if !record.all_empty() {
                        self.header_done = true;
                        if !validator.header(&record) {
                            return false;
                        }
                    }
                    continue;
                }
            }
            let (result, nin, nout, nends) = self.csv.read_record(
                piece,
                self.out.get_mut(self.out_len..).unwrap_or_default(),
                self.ends.get_mut(self.ends_len..).unwrap_or_default(),
            );
            let (consumed, rest) = piece.split_at(nin.min(piece.len()));
            piece = rest;
            if self.start.is_none() {
                // Blank lines before a record belong to no record.
                let blank = consumed
                    .iter()
                    .take_while(|b| matches!(b, b'\r' | b'\n'))
                    .count();
                if blank < consumed.len() {
                    let skipped = consumed.get(..blank).unwrap_or_default();
                    self.start =
                        Some((self.line + count_lines(skipped), self.offset + blank as u64));
                }
            }
            // csv-core counts every line feed it consumes (quoted ones too), which is our
            // line count: no second pass over the bytes.
            self.line = self.csv.line() + self.plain_line_feeds;
            self.offset += nin as u64;
            self.between_records = result == ReadRecordResult::Record;
            self.out_len += nout;
            self.ends_len += nends;
            let max_row_bytes = validator.config.max_row_bytes;
            match result {
                ReadRecordResult::InputEmpty => {
                    if !at_end {
                        return true;
                    }
                }
                ReadRecordResult::OutputFull => {
                    if self.out.len() >= max_row_bytes {
                        self.too_long = true;
                        self.out_len = 0;
                        self.ends_len = 0;
                    } else {
                        let grown = (self.out.len() * 2).min(max_row_bytes.max(1));
                        self.out.resize(grown, 0);
                    }
                }
                ReadRecordResult::OutputEndsFull => {
                    if self.ends.len() >= MAX_FIELDS {
                        self.too_long = true;
                        self.out_len = 0;
                        self.ends_len = 0;
                    } else {
                        let grown = (self.ends.len() * 2).min(MAX_FIELDS);
                        self.ends.resize(grown, 0);
                    }
                }
                ReadRecordResult::Record => {
                    if !self.record(validator) {
                        return false;
                    }
                }
                ReadRecordResult::End => return false,
            }
        }
    }

    /// One complete record: the header, a row, or one too long to keep. `false` when
    /// reading should stop.
    fn record(&mut self, validator: &mut Validator<'_>) -> bool {
        let (rec_line, rec_byte) = self.start.take().unwrap_or((self.line, self.offset));
        let record = RawRecord::new(
            self.out.get(..self.out_len).unwrap_or_default(),
            self.ends.get(..self.ends_len).unwrap_or_default(),
        );
        let mut go_on = true;
        if self.too_long {
            self.too_long = false;
            if self.header_done {
                validator.too_long(rec_line, rec_byte);
            } else {
                validator.header_too_long();
                go_on = false;
            }
        } else if self.header_done {
            validator.row(&record, rec_line, rec_byte);
        } else if !record.all_empty() {
            self.header_done = true;
            go_on = validator.header(&record);
        }
        self.out_len = 0;
        self.ends_len = 0;
        go_on
    }
}

/// The UTF-8 byte-order mark, skipped before the header.
const BOM: &[u8] = b"\xef\xbb\xbf";

/// Validates a sales file from any reader in one pass. Fails only if reading fails; every
/// problem with the content is in the returned [`Validation`].
pub fn validate_reader<R: Read>(
    mut reader: R,
    config: &ValidationConfig,
) -> Result<Validation, SalesError> {
    let mut validator = Validator::new(config);
    let mut input = vec![0u8; READ_CHUNK];
    let mut hi = 0usize;
    let mut eof = false;
    // Strip a UTF-8 byte-order mark here rather than in csv-core, which takes an input that
    // is nothing but the mark for the end of the file (a 3-byte first read).
    while hi < 3 && !eof {
        let n = read_some(
            &mut reader,
            input.get_mut(hi..).unwrap_or_default(),
            hi as u64,
        )?;
        hi += n;
        eof = n == 0;
    }
    let lo = if input.starts_with(BOM) { 3 } else { 0 };
    let mut driver = CsvDriver::new(lo as u64);
    let mut piece = input.get(lo..hi).unwrap_or_default();
    loop {
        // An empty piece tells csv-core the input has ended: only at the end of the file.
        if (!piece.is_empty() || eof) && !driver.feed(piece, &mut validator) {
            break;
        }
        if eof {
            break;
        }
        let n = read_some(&mut reader, &mut input, driver.offset)?;
        eof = n == 0;
        piece = input.get(..n).unwrap_or_default();
    }
    Ok(validator.finish())
}

/// One read, retried when interrupted.
fn read_some<R: Read>(reader: &mut R, buf: &mut [u8], offset: u64) -> Result<usize, SalesError> {
    loop {
        match reader.read(buf) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(source) => {
                return Err(SalesError::Io {
                    byte: offset,
                    source,
                })
            }
        }
    }
}

/// Line feeds in `bytes` (lines are counted by LF; a CRLF file counts the same).
fn count_lines(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&b| b == b'\n').count() as u64
}

/// Validates a sales file held in memory (which cannot fail to read). The slice goes to
/// the CSV parser as it is, without the read buffer of [`validate_reader`]; the result is
/// the same.
pub fn validate_bytes(bytes: &[u8], config: &ValidationConfig) -> Validation {
    validate_slice(bytes, config, true)
}

/// [`validate_bytes`], with or without the plain-line path (the test compares the two).
fn validate_slice(bytes: &[u8], config: &ValidationConfig, plain_lines: bool) -> Validation {
    let mut validator = Validator::new(config);
    let body = bytes.strip_prefix(BOM).unwrap_or(bytes);
    let mut driver = CsvDriver::new((bytes.len() - body.len()) as u64);
    driver.plain_lines = plain_lines;
    if body.is_empty() || driver.feed(body, &mut validator) {
        driver.feed(&[], &mut validator);
    }
    validator.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Everything a validation says, for comparing two.
    fn summary(v: &Validation) -> String {
        let hours: Vec<_> = v.sales.iter().collect();
        format!(
            "{:?} {:?} {:?} {} {:?} {:?} {} {:?}",
            v.header_problems,
            v.counts,
            v.errors,
            v.error_count,
            v.tainted_days,
            v.tainted_stores,
            v.unattributed_invalid_rows,
            hours
        )
    }

    fn field() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("S001".to_owned()),
            Just("S002".to_owned()),
            Just("01-06-2024 09:00".to_owned()),
            Just("01-06-2024 10:30".to_owned()),
            Just("1".to_owned()),
            Just("2.50".to_owned()),
            Just(String::new()),
            Just("\"".to_owned()),
            Just("\"a,b\"".to_owned()),
            Just("\"a\r\nb\"".to_owned()),
            Just("\r".to_owned()),
            Just("\n".to_owned()),
            Just("\r\n".to_owned()),
            Just("\u{feff}".to_owned()),
            Just("x".repeat(1030)),
            "[0-9.,$ -]{0,6}",
            "[\\PC]{0,4}",
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(150))]

        /// Plain lines split without csv-core give exactly what csv-core gives: records,
        /// lines, byte offsets, blank rows, row limits (long rows, many fields), quoted
        /// and multi-line fields, lone CRs, stray byte-order marks; in default and tight
        /// configurations.
        #[test]
        fn plain_lines_split_as_csv_core_does(
            lines in proptest::collection::vec(
                (proptest::collection::vec(field(), 0..40), 0usize..3, any::<bool>()),
                0..12,
            ),
            bom in any::<bool>(),
            noise in proptest::collection::vec(any::<u8>(), 0..40),
        ) {
            let mut text = String::new();
            if bom {
                text.push('\u{feff}');
            }
            text.push_str("StoreCode,DateTime,TotalTransactionQty,TotalTransactionValue\r\n");
            for (fields, blanks, crlf) in &lines {
                let eol = if *crlf { "\r\n" } else { "\n" };
                for _ in 0..*blanks {
                    text.push_str(eol);
                }
                text.push_str(&fields.join(","));
                text.push_str(eol);
            }
            let tight = ValidationConfig {
                max_row_bytes: 16,
                ..ValidationConfig::default().max_errors(3).known_stores(["S001"])
            };
            let mut with_noise = text.clone().into_bytes();
            with_noise.extend_from_slice(&noise);
            for bytes in [text.as_bytes(), &with_noise, &noise] {
                for config in [&ValidationConfig::default(), &tight] {
                    let plain = validate_slice(bytes, config, true);
                    let core = validate_slice(bytes, config, false);
                    prop_assert_eq!(summary(&plain), summary(&core));
                }
            }
        }
    }

    #[test]
    fn varints_round_trip() {
        let values = [
            0,
            1,
            127,
            128,
            16_383,
            16_384,
            u64::from(u32::MAX),
            u64::MAX,
        ];
        let mut buf = Vec::new();
        for v in values {
            push_varint(&mut buf, v);
        }
        let mut pos = 0;
        for v in values {
            assert_eq!(read_varint(&buf, &mut pos), Some(v));
        }
        assert_eq!(pos, buf.len());
        assert_eq!(read_varint(&buf, &mut pos), None);
        assert_eq!(read_varint(&[0x80; 11], &mut 0), None);
    }
}
