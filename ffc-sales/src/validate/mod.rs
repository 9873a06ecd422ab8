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
//! Memory: the header, the interned store codes, one bucket per (store, hour) (once rows
//! arrive out of order, in a dense run of 32-byte cells per store, at most a few cells per
//! bucket), and (while duplicate detection is on, the default) one entry per valid row
//! (about 5 bytes while rows arrive sorted by store and hour; 24 once they arrive out of
//! order) so a repeated row can be named with the line it repeats. Turn
//! [`ValidationConfig::detect_duplicates`] off and memory no longer grows with the rows.

mod ahead;
mod chains;
mod config;
mod driver;
mod duplicates;
mod record;
#[cfg(test)]
mod tests;

use std::collections::BTreeSet;

/// Most fields a row may have; kept here too, where it always was.
pub use crate::error::MAX_FIELDS;
pub use config::{ValidationConfig, DEFAULT_MAX_ERRORS, DEFAULT_MAX_ROW_BYTES};
pub use driver::{validate_bytes, validate_reader};
pub use record::RawRecord;

use crate::aggregate::{day_key, hour_start, HourlySales, Placement, StoreIdx};
use crate::error::{HeaderProblem, Reason, SalesRowError};
use crate::mapping::{column_number, Columns, SalesField};
use crate::store_codes::ShortCode;
use crate::value::{parse_amount_cents, parse_quantity, parse_store, DateTimeParser};
use ahead::{Ahead, InPiece, ParsedRow, Piece};
use duplicates::{DuplicateIndex, RowKey};

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
    pub errors: Vec<SalesRowError>,
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
    /// The code as its exact key when it is at most 16 bytes (compared in three words, no
    /// call), else as its bytes.
    last_store: (Option<ShortCode>, Vec<u8>),
    last_store_result: Result<StoreIdx, Reason>,
    /// Remembers the last date and hour: rows of one hour only have their minutes read.
    dates: DateTimeParser,
    /// Valid rows parsed and not yet summed (see `ahead`).
    ahead: Ahead,
}

impl<'c> Validator<'c> {
    /// A validator with nothing read yet.
    pub fn new(config: &'c ValidationConfig) -> Self {
        Validator {
            config,
            columns: None,
            out: Validation::default(),
            duplicates: DuplicateIndex::default(),
            // The empty code, whose result is `Empty`.
            last_store: (ShortCode::of(b""), Vec::new()),
            last_store_result: Err(Reason::Empty),
            dates: DateTimeParser::new(),
            ahead: Ahead::default(),
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
                .push(SalesRowError::new(line, byte, place, value, r));
        }
    }

    fn store(&mut self, raw: &[u8]) -> Result<StoreIdx, Reason> {
        let short = ShortCode::of(raw);
        let same = match short {
            Some(_) => short == self.last_store.0,
            None => self.last_store.0.is_none() && raw == self.last_store.1.as_slice(),
        };
        if same {
            return self.last_store_result;
        }
        // Interned codes are valid known ones: one lookup, by the raw bytes, for a store
        // seen before.
        let result = match self.out.sales.index_of_keyed(raw, short) {
            Some(i) => Ok(i),
            None => parse_store(raw).and_then(|code| match &self.config.known_stores {
                Some(known) if !known.contains(code) => Err(Reason::UnknownStore),
                _ => Ok(self.out.sales.intern(code)),
            }),
        };
        self.last_store.0 = short;
        self.last_store.1.clear();
        if short.is_none() {
            self.last_store.1.extend_from_slice(raw);
        }
        self.last_store_result = result;
        result
    }

    /// Checks one data row and, when valid, adds it to the hourly sums.
    /// `line` (1-based) and `byte` say where the record starts, for the error list.
    pub fn row(&mut self, record: &RawRecord<'_>, line: u64, byte: u64) {
        self.row_in(record, line, byte, None);
    }

    /// [`Validator::row`] as the driver calls it: `piece` is the input being read, where a
    /// plain line's row may leave its text while it waits (see `ahead`). The driver calls
    /// [`Validator::keep_text`] before the piece goes.
    fn row_in(&mut self, record: &RawRecord<'_>, line: u64, byte: u64, piece: Option<Piece<'_>>) {
        let Some(columns) = self.columns else {
            return;
        };
        if record.all_empty() {
            self.out.counts.blank += 1;
            return;
        }
        self.out.counts.rows += 1;
        if record.len() < columns.needed() {
            self.sum_waiting(piece);
            self.out.counts.invalid += 1;
            self.out.unattributed_invalid_rows += 1;
            let reason = Reason::MissingFields {
                found: u32::try_from(record.len()).unwrap_or(u32::MAX),
                needed: u32::try_from(columns.needed()).unwrap_or(u32::MAX),
            };
            self.error(line, byte, None, &record.joined(), reason);
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
            let fields = [
                (SalesField::StoreCode, raw_store, store.err()),
                (SalesField::DateTime, raw_dt, dt.err()),
                (SalesField::TotalTransactionQty, raw_qty, qty.err()),
                (SalesField::TotalTransactionValue, raw_amount, amount.err()),
            ];
            self.sum_waiting(piece);
            self.refuse_fields(line, byte, fields, store.ok(), dt.ok());
            return;
        };
        let row = ParsedRow {
            line,
            byte,
            store: s,
            time: d,
            quantity: q,
            cents: c,
        };
        // Rows in (store, hour) order find their bucket at hand: summed at once. Out of
        // order, a row waits while its bucket is fetched (see `ahead`); rows are summed in
        // file order all the same, the waiting ones first.
        if !self.out.sales.is_indexed() && self.ahead.is_empty() {
            self.sum_now(row, record, raw_amount);
            return;
        }
        if self.ahead.is_full() {
            self.sum_oldest(piece);
        }
        self.out.sales.prefetch(s, hour_start(d));
        let amount_field = columns.index(SalesField::TotalTransactionValue);
        let waits = match (piece, record.plain_place(amount_field)) {
            (Some(_), Some((len, amount))) => {
                self.ahead.push_in_piece(row, InPiece { len, amount })
            }
            _ => self.ahead.push(row, record, raw_amount),
        };
        if !waits {
            // Not reached (a slot was freed above); summed now rather than lost.
            self.sum_now(row, record, raw_amount);
        }
    }

    /// Copies out the text that waiting rows left in `piece`, which is about to go.
    fn keep_text(&mut self, piece: Piece<'_>) {
        self.ahead.keep_text(piece);
    }

    /// A row with at least one unreadable field: one error per field, and the row's day
    /// (or, without a readable time, its whole store) withheld from the import.
    fn refuse_fields(
        &mut self,
        line: u64,
        byte: u64,
        fields: [(SalesField, &[u8], Option<Reason>); 4],
        store: Option<StoreIdx>,
        time: Option<i64>,
    ) {
        self.out.counts.invalid += 1;
        for (field, raw, result) in fields {
            if let Some(reason) = result {
                self.error(line, byte, Some(field), raw, reason);
            }
        }
        match (store, time) {
            (Some(s), Some(d)) => {
                self.out.tainted_days.insert((s, day_key(d)));
            }
            (Some(s), None) => {
                self.out.tainted_stores.insert(s);
            }
            (None, _) => self.out.unattributed_invalid_rows += 1,
        }
    }

    /// Sums every waiting row, so that what comes next (an error, the result) follows them.
    /// `piece` holds the text rows left there.
    fn sum_waiting(&mut self, piece: Option<Piece<'_>>) {
        while !self.ahead.is_empty() {
            self.sum_oldest(piece);
        }
    }

    /// Sums the oldest waiting row into its (store, hour) bucket, unless it repeats an
    /// earlier row (a duplicate) or a total would overflow; either is an error naming it.
    fn sum_oldest(&mut self, piece: Option<Piece<'_>>) {
        let Some(row) = self.ahead.oldest() else {
            return;
        };
        if let Some(reason) = self.sum_waited(row) {
            let (joined, raw_amount) = self.ahead.oldest_text(piece);
            self.refused(row, reason, refused_value(reason, &joined, &raw_amount));
        }
        self.ahead.pop();
    }

    /// Sums `row`, parsed from `record`, at once (an error names it with the record's text).
    fn sum_now(&mut self, row: ParsedRow, record: &RawRecord<'_>, raw_amount: &[u8]) {
        if let Some(reason) = self.sum(row) {
            let joined = record.joined();
            self.refused(row, reason, refused_value(reason, &joined, raw_amount));
        }
    }

    /// The error of a row [`Validator::sum`] refused, naming `value` (see [`refused_value`]).
    fn refused(&mut self, row: ParsedRow, reason: Reason, value: &[u8]) {
        let field = match reason {
            Reason::TotalOverflow => Some(SalesField::TotalTransactionValue),
            _ => None,
        };
        self.error(row.line, row.byte, field, value, reason);
    }

    /// Sums `row` into its bucket and counts it; the reason it was refused, if it was.
    // Inlined into both callers: the sorted path's per-row cost is mostly this.
    #[inline(always)]
    fn sum(&mut self, row: ParsedRow) -> Option<Reason> {
        let hour = hour_start(row.time);
        let located = self.out.sales.locate(row.store, hour);
        let key = RowKey::new(
            ((row.time - hour) / 60).unsigned_abs(),
            row.quantity,
            row.cents,
        );
        let outcome = self.check_and_add(located, (row.store, hour), key, row);
        self.tally(row, (row.store, hour), key, outcome)
    }

    /// [`Validator::sum`] for a row that waited (it came out of order): once the buckets
    /// are indexed and the chains answer, as they do for nearly every such row, its bucket's
    /// cell is found once for the check and the sum.
    #[inline(always)]
    fn sum_waited(&mut self, row: ParsedRow) -> Option<Reason> {
        let chained = self.config.detect_duplicates
            && self.out.sales.is_indexed()
            && self.duplicates.chains().is_some();
        if !chained {
            return self.sum(row);
        }
        let hour = hour_start(row.time);
        let bucket = (row.store, hour);
        let located = self.out.sales.locate(row.store, hour);
        let key = RowKey::new(
            ((row.time - hour) / 60).unsigned_abs(),
            row.quantity,
            row.cents,
        );
        let in_cell = match (self.duplicates.chains(), self.out.sales.current_cell()) {
            (Some(chains), Some((rows, totals))) => {
                let duplicate_of =
                    chains.check(Some((&mut *rows, totals.rows)), bucket, key, row.line);
                let added = duplicate_of.is_none() && totals.add(row.quantity, row.cents);
                Some((duplicate_of, added))
            }
            // Not reached (an indexed bucket has a cell); the general path answers.
            _ => None,
        };
        let outcome = match in_cell {
            Some(outcome) => outcome,
            None => self.check_and_add(located, bucket, key, row),
        };
        self.tally(row, bucket, key, outcome)
    }

    /// Checks `row` (key `key`) against the rows of its bucket, just located, and adds it
    /// unless it repeats one: the line it repeats, and whether it was added.
    #[inline(always)]
    fn check_and_add(
        &mut self,
        located: (Placement, Option<usize>),
        bucket: (StoreIdx, i64),
        key: RowKey,
        row: ParsedRow,
    ) -> (Option<u64>, bool) {
        let duplicate_of = if self.config.detect_duplicates {
            self.duplicates
                .check(&mut self.out.sales, located, bucket, key, row.line)
        } else {
            None
        };
        // A duplicate is not summed; `add` refuses (adding nothing) when a total overflows.
        let added = duplicate_of.is_none() && self.out.sales.add(row.quantity, row.cents);
        (duplicate_of, added)
    }

    /// Counts a checked row by its outcome (the line it repeats, whether it was added); the
    /// reason it was refused, if it was. A row refused for an overflowing total is taken
    /// back from the duplicate index.
    #[inline(always)]
    fn tally(
        &mut self,
        row: ParsedRow,
        bucket: (StoreIdx, i64),
        key: RowKey,
        (duplicate_of, added): (Option<u64>, bool),
    ) -> Option<Reason> {
        if let Some(first_line) = duplicate_of {
            self.out.counts.invalid += 1;
            self.out.counts.duplicates += 1;
            self.out.tainted_days.insert((row.store, day_key(row.time)));
            return Some(Reason::DuplicateRow { first_line });
        }
        if !added {
            if self.config.detect_duplicates {
                self.duplicates.forget(&mut self.out.sales, bucket, key);
            }
            self.out.counts.invalid += 1;
            self.out.tainted_days.insert((row.store, day_key(row.time)));
            return Some(Reason::TotalOverflow);
        }
        self.out.counts.valid += 1;
        None
    }

    /// Records a row that was too long to buffer.
    pub fn too_long(&mut self, line: u64, byte: u64) {
        self.too_long_in(line, byte, None);
    }

    /// [`Validator::too_long`] as the driver calls it (`piece` as for
    /// [`Validator::row_in`]).
    fn too_long_in(&mut self, line: u64, byte: u64, piece: Option<Piece<'_>>) {
        if self.columns.is_none() {
            return;
        }
        self.sum_waiting(piece);
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
        self.sum_waiting(None);
        // The duplicate index is freed before the sorted buckets are made: a lower peak.
        self.duplicates = DuplicateIndex::default();
        self.out.sales.seal();
        self.out
    }
}

/// What an error for a refused row shows: the raw amount for an overflowing total (the
/// field at fault), else the whole row (`joined`, its fields joined with commas).
fn refused_value<'a>(reason: Reason, joined: &'a [u8], raw_amount: &'a [u8]) -> &'a [u8] {
    match reason {
        Reason::TotalOverflow => raw_amount,
        _ => joined,
    }
}
