//! The streaming validator: one pass over the file, every error collected (up to a limit),
//! valid rows summed per store and hour as they go.
//!
//! The CSV layer is `csv-core`, the `csv` crate's own parser (quoted fields, CRLF, blank
//! lines, a UTF-8 byte-order mark before the header), driven here directly so every record
//! gets its true line number and byte offset (the `csv` crate's own line count drifts on
//! CRLF files and skipped blank lines). Rows whose fields are all empty (a spreadsheet's
//! trailing `,,,`) are counted as blank and skipped. No row is kept after it is checked, and
//! a row longer than [`ValidationConfig::max_row_bytes`] is refused without being buffered.
//!
//! Memory: the header, the interned store codes, one bucket per (store, hour), and (while
//! duplicate detection is on, the default) one entry per valid row (24 bytes; 32 once rows
//! arrive out of order) so a repeated row can be named with the line it repeats. Turn
//! [`ValidationConfig::detect_duplicates`] off and memory no longer grows with the rows.

use std::collections::BTreeSet;
use std::io::Read;

use csv_core::ReadRecordResult;

use crate::aggregate::{day_key, hour_start, HourlySales, Placement, StoreIdx};
use crate::error::{HeaderProblem, Reason, RowError, SalesError};
use crate::mapping::{column_number, Columns, HeaderMapping, SalesField};
use crate::value::{parse_amount_cents, parse_datetime_seconds, parse_quantity, parse_store};

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
}

impl<'a> RawRecord<'a> {
    /// A record from `csv-core`'s output: `data` holds the fields end to end, `ends[i]` is
    /// the end of field `i` in `data`.
    pub fn new(data: &'a [u8], ends: &'a [usize]) -> Self {
        RawRecord { data, ends }
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
            Some(p) => *self.ends.get(p)?,
            None => 0,
        };
        self.data.get(start..end)
    }

    /// Every field in order.
    pub fn iter(&self) -> impl Iterator<Item = &'a [u8]> + '_ {
        (0..self.len()).filter_map(|i| self.get(i))
    }

    /// Whether every field is empty (a blank row such as `,,,`): the fields are stored end
    /// to end, so that is when there are no bytes at all.
    pub fn all_empty(&self) -> bool {
        self.data.is_empty()
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

// Quantities have at most 12 digits: shifted by 6 they leave the top bits free, one of
// which marks the first row of each bucket in the sorted-file history.
const _: () = assert!(10u64.pow(crate::value::MAX_QUANTITY_DIGITS as u32) < 1 << 56);

/// Marks, in the sorted-file history, the first row of a bucket (never set in a lookup key).
const FIRST_OF_BUCKET: u64 = 1 << 63;

impl RowKey {
    fn new(minute_of_hour: u64, quantity: u64, cents: u64) -> Self {
        RowKey {
            quantity_minute: (quantity << 6) | minute_of_hour,
            cents,
        }
    }
}

/// A summed row and its line.
#[derive(Debug, Clone, Copy)]
struct Seen {
    key: RowKey,
    line: u64,
}

/// Rows in a history chunk (24 bytes each): growing the history never copies it.
const HISTORY_CHUNK: usize = 4096;

/// Rows seen so far, to name the first occurrence of a repeated row.
///
/// While the rows arrive in (store, hour) order, as sorted exports do, a repeat can only be
/// in the current bucket's run, so only that run is scanned (no hashing), and finished runs
/// are appended, unsearched, to a history in fixed-size chunks. The buckets of a sorted file
/// are numbered in order, so the history needs no bucket numbers: the first row of each run
/// is flagged. The first row out of order (or a run longer than [`RUN_SCAN_LIMIT`]) moves
/// every row into a hash map keyed by (bucket, [`RowKey`]), pre-sized, which answers from
/// then on. Either way one 24-byte entry (32 in the map) per summed row, and every answer
/// exact.
#[derive(Debug, Default)]
struct DuplicateIndex {
    /// The rows of the current run (sorted mode).
    run: Vec<Seen>,
    /// The bucket of the current run; `None` before the first row.
    run_bucket: Option<usize>,
    /// The rows of the finished runs, in file order, buckets 0, 1, 2, ... (sorted mode).
    history: Vec<Vec<Seen>>,
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
            let mut seen = seen;
            if i == 0 {
                seen.key.quantity_minute |= FIRST_OF_BUCKET;
            }
            match self.history.last_mut() {
                Some(chunk) if chunk.len() < HISTORY_CHUNK => chunk.push(seen),
                _ => {
                    let mut chunk = Vec::with_capacity(HISTORY_CHUNK);
                    chunk.push(seen);
                    self.history.push(chunk);
                }
            }
        }
    }

    /// Moves every row into the hash map.
    fn switch_to_hash(&mut self) {
        let rows = self.history.iter().map(Vec::len).sum::<usize>() + self.run.len();
        let mut map = foldhash::HashMap::with_capacity_and_hasher(
            rows,
            foldhash::fast::RandomState::default(),
        );
        let mut bucket: Option<usize> = None;
        for seen in self.history.iter().flatten() {
            let mut key = seen.key;
            if key.quantity_minute & FIRST_OF_BUCKET != 0 {
                key.quantity_minute &= !FIRST_OF_BUCKET;
                bucket = Some(bucket.map_or(0, |b| b + 1));
            }
            map.insert((bucket.unwrap_or(0), key), seen.line);
        }
        if let Some(b) = self.run_bucket {
            for seen in &self.run {
                map.insert((b, seen.key), seen.line);
            }
        }
        self.history = Vec::new();
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
        let result = parse_store(raw).and_then(|code| {
            // Interned codes are known ones: one lookup for a store seen before.
            if let Some(i) = self.out.sales.index_of(code) {
                return Ok(i);
            }
            match &self.config.known_stores {
                Some(known) if !known.contains(code) => Err(Reason::UnknownStore),
                _ => Ok(self.out.sales.intern(code)),
            }
        });
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
        let dt = parse_datetime_seconds(raw_dt);
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
        let (slot, placement) = self.out.sales.locate(s, hour);
        let key = RowKey::new(((d - hour) / 60).unsigned_abs(), q, c);
        let duplicate_of = if self.config.detect_duplicates {
            self.duplicates.check(slot, placement, key, line)
        } else {
            None
        };
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
        let added = self.out.sales.add(slot, q, c);
        if !added && self.config.detect_duplicates {
            self.duplicates.forget(slot, key);
        }
        if !added {
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

/// Validates a sales file from any reader in one pass. Fails only if reading fails; every
/// problem with the content is in the returned [`Validation`].
pub fn validate_reader<R: Read>(
    mut reader: R,
    config: &ValidationConfig,
) -> Result<Validation, SalesError> {
    let mut csv = csv_core::Reader::new();
    let mut validator = Validator::new(config);
    let mut input = vec![0u8; READ_CHUNK];
    let (mut lo, mut hi) = (0usize, 0usize);
    let mut eof = false;
    let mut out = vec![0u8; 1024];
    let mut out_len = 0usize;
    let mut ends = vec![0usize; 32];
    let mut ends_len = 0usize;
    // Bytes consumed before `input[lo]`, and the 1-based line there (csv-core's count).
    let mut offset: u64 = 0;
    let mut line: u64 = csv.line();
    // Where the record being parsed starts, once its first byte is seen.
    let mut start: Option<(u64, u64)> = None;
    // The record being parsed outgrew the limits; its output is being discarded.
    let mut too_long = false;
    let mut header_done = false;
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
    if input.starts_with(b"\xef\xbb\xbf") {
        lo = 3;
        offset = 3;
    }
    loop {
        if lo == hi && !eof {
            lo = 0;
            hi = read_some(&mut reader, &mut input, offset)?;
            eof = hi == 0;
        }
        let window = input.get(lo..hi).unwrap_or_default();
        let (result, nin, nout, nends) = csv.read_record(
            window,
            out.get_mut(out_len..).unwrap_or_default(),
            ends.get_mut(ends_len..).unwrap_or_default(),
        );
        let consumed = window.get(..nin).unwrap_or_default();
        if start.is_none() {
            // Blank lines before a record belong to no record.
            let blank = consumed
                .iter()
                .take_while(|b| matches!(b, b'\r' | b'\n'))
                .count();
            if blank < consumed.len() {
                let skipped = consumed.get(..blank).unwrap_or_default();
                start = Some((line + count_lines(skipped), offset + blank as u64));
            }
        }
        // csv-core counts every line feed it consumes (quoted ones too), which is our line
        // count: no second pass over the bytes.
        line = csv.line();
        offset += nin as u64;
        lo += nin;
        out_len += nout;
        ends_len += nends;
        match result {
            ReadRecordResult::InputEmpty => {}
            ReadRecordResult::OutputFull => {
                if out.len() >= config.max_row_bytes {
                    too_long = true;
                    out_len = 0;
                    ends_len = 0;
                } else {
                    out.resize((out.len() * 2).min(config.max_row_bytes.max(1)), 0);
                }
            }
            ReadRecordResult::OutputEndsFull => {
                if ends.len() >= MAX_FIELDS {
                    too_long = true;
                    out_len = 0;
                    ends_len = 0;
                } else {
                    ends.resize((ends.len() * 2).min(MAX_FIELDS), 0);
                }
            }
            ReadRecordResult::Record => {
                let (rec_line, rec_byte) = start.take().unwrap_or((line, offset));
                let record = RawRecord::new(
                    out.get(..out_len).unwrap_or_default(),
                    ends.get(..ends_len).unwrap_or_default(),
                );
                if too_long {
                    too_long = false;
                    if header_done {
                        validator.too_long(rec_line, rec_byte);
                    } else {
                        validator.header_too_long();
                        break;
                    }
                } else if header_done {
                    validator.row(&record, rec_line, rec_byte);
                } else if !record.all_empty() {
                    header_done = true;
                    if !validator.header(&record) {
                        break;
                    }
                }
                out_len = 0;
                ends_len = 0;
            }
            ReadRecordResult::End => break,
        }
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

/// Validates a sales file held in memory (which cannot fail to read).
pub fn validate_bytes(bytes: &[u8], config: &ValidationConfig) -> Validation {
    match validate_reader(bytes, config) {
        Ok(v) => v,
        // Reading a byte slice never fails; report it as a file without a header if the csv
        // crate ever says otherwise.
        Err(_) => Validator::new(config).finish(),
    }
}
