//! Duplicate-row detection: every valid row's key within its (store, hour) bucket, kept
//! compact (varint runs while rows arrive sorted, per-bucket chains once they do not), so
//! a repeated row is named with the line it repeats.

use super::chains::Chains;
use crate::aggregate::{HourlySales, Placement, StoreIdx};

/// A summed row's values within its (store, hour) bucket, packed into two words: the
/// quantity shifted left by 6 bits with the minute of the hour (0..60) below it, and the
/// cents. Exact, not a hash: together with the bucket it is the whole duplicate key (store,
/// minute, quantity, cents), and quantities stay far below 2^56 (see the assertion below).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct RowKey {
    quantity_minute: u64,
    cents: u64,
}

// Quantities have at most 12 digits: shifted by 6 they still fit.
const _: () = assert!(10u64.pow(crate::value::MAX_QUANTITY_DIGITS as u32) < 1 << 56);

impl RowKey {
    pub(super) fn new(minute_of_hour: u64, quantity: u64, cents: u64) -> Self {
        RowKey {
            quantity_minute: (quantity << 6) | minute_of_hour,
            cents,
        }
    }

    /// The key of [`RowKey::words`]' two words.
    pub(super) fn from_words(quantity_minute: u64, cents: u64) -> Self {
        RowKey {
            quantity_minute,
            cents,
        }
    }

    /// The two words, for hashing and packing.
    pub(super) fn words(self) -> (u64, u64) {
        (self.quantity_minute, self.cents)
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
pub(super) fn push_varint(buf: &mut Vec<u8>, mut v: u64) {
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
pub(super) fn read_varint(bytes: &[u8], pos: &mut usize) -> Option<u64> {
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
/// every row into per-bucket chains behind a filter ([`Chains`]), which answer from then
/// on. About 5 bytes per summed row in the history (16 in the chains), and every answer
/// exact.
#[derive(Debug, Default)]
pub(super) struct DuplicateIndex {
    /// The rows of the current run (sorted mode).
    run: Vec<Seen>,
    /// The bucket of the current run; `None` before the first row.
    run_bucket: Option<usize>,
    /// The rows of the finished runs, in file order, buckets 0, 1, 2, ... (sorted mode),
    /// packed: a head byte (minute of the hour, first-of-bucket and line-jump flags), the
    /// quantity and the cents as LEB128, and the line only where it does not follow the
    /// previous row's. About 5 bytes a row; it is only read back when the chains take over.
    history: Vec<Vec<u8>>,
    /// Rows in `history`.
    history_rows: usize,
    /// The line of the last row in `history`.
    history_line: u64,
    /// Every row by bucket, once the rows are out of order.
    chains: Option<Chains>,
}

/// Longest run scanned linearly before switching to the chains (bounds the scan cost).
const RUN_SCAN_LIMIT: usize = 64;

impl DuplicateIndex {
    /// The line of an earlier summed row with this key in the current bucket of `sales`
    /// (`bucket` its key; `placement` and `number` as [`HourlySales::locate`] gave them); if
    /// there is none, the row is recorded as summed at `line` (take it back with
    /// [`DuplicateIndex::forget`]).
    pub(super) fn check(
        &mut self,
        sales: &mut HourlySales,
        (placement, number): (Placement, Option<usize>),
        bucket: (StoreIdx, i64),
        key: RowKey,
        line: u64,
    ) -> Option<u64> {
        if self.chains.is_none() {
            match (placement, number) {
                (placement, Some(number)) => {
                    if let Some(answer) = self.check_run(placement, number, key, line) {
                        return answer;
                    }
                    self.switch_to_chains(sales);
                }
                (_, None) => self.switch_to_chains(sales),
            }
        }
        self.chains.get_or_insert_with(Chains::default).check(
            sales.current_rows(),
            bucket,
            key,
            line,
        )
    }

    /// The sorted-mode answer for a row of listed bucket `bucket`, or `None` when the
    /// chains must take over.
    fn check_run(
        &mut self,
        placement: Placement,
        bucket: usize,
        key: RowKey,
        line: u64,
    ) -> Option<Option<u64>> {
        {
            match placement {
                Placement::NewInOrder if self.run_follows(bucket) => {
                    self.close_run();
                    self.run_bucket = Some(bucket);
                    self.run.push(Seen { key, line });
                    Some(None)
                }
                Placement::SameAsLast
                    if self.run_bucket == Some(bucket) && self.run.len() < RUN_SCAN_LIMIT =>
                {
                    if let Some(seen) = self.run.iter().find(|s| s.key == key) {
                        return Some(Some(seen.line));
                    }
                    self.run.push(Seen { key, line });
                    Some(None)
                }
                _ => None,
            }
        }
    }

    /// The bucket chains, once they answer (the rows came out of order).
    #[inline]
    pub(super) fn chains(&mut self) -> Option<&mut Chains> {
        self.chains.as_mut()
    }

    /// Takes back the row [`DuplicateIndex::check`] just recorded in the current bucket of
    /// `sales` (key `bucket`): it was not summed.
    pub(super) fn forget(&mut self, sales: &mut HourlySales, bucket: (StoreIdx, i64), key: RowKey) {
        match &mut self.chains {
            Some(chains) => chains.forget(sales.current_rows().map(|(r, _)| r), bucket, key),
            None => {
                self.run.pop();
            }
        }
    }

    /// Whether a new bucket continues the numbering of the history (always, for a sorted
    /// file; anything else switches to the chains rather than trusting it).
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

    /// Moves every row into the bucket chains.
    fn switch_to_chains(&mut self, sales: &mut HourlySales) {
        let mut chains = Chains::default();
        // The buckets move to the hour index; the history names them by number.
        sales.index_all();
        let keys = sales.take_listed_keys();
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
                if let Some(&k) = keys.get(bucket.unwrap_or(0)) {
                    chains.check(sales.rows_of(k), k, key, line);
                }
            }
        }
        if let Some(&k) = self.run_bucket.and_then(|b| keys.get(b)) {
            for seen in &self.run {
                chains.check(sales.rows_of(k), k, seen.key, seen.line);
            }
        }
        // Reading the history back may have moved cells: find the current one again.
        sales.refresh_current();
        self.history = Vec::new();
        self.history_rows = 0;
        self.run = Vec::new();
        self.chains = Some(chains);
    }
}
