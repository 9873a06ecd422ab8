//! Rows parsed ahead of their summing. A file out of (store, hour) order sends each row to a
//! bucket far from the last one's, most likely not in the CPU's caches; waiting for that
//! memory row after row is most of what such a file costs. So the validator parses a row,
//! asks the CPU to fetch its bucket, and sums it only [`AHEAD`] rows later, by which time the
//! bucket is there. Rows are still summed one at a time and in file order, so every answer
//! (duplicates, overflows, the line an error names) is the one summing at once would give.

use super::record::{copy_prefix, RawRecord};
use crate::aggregate::StoreIdx;
use crate::error::VALUE_EXCERPT_BYTES;

/// Bytes of a row's text, and of its amount, a waiting row keeps: an error's excerpt is the
/// first [`VALUE_EXCERPT_BYTES`] of the value (as lossy UTF-8) and whether there is more,
/// and every byte of the value gives at least one byte of text, so a few bytes more than
/// that make the same excerpt as the whole value.
const KEPT_BYTES: usize = VALUE_EXCERPT_BYTES + 8;

/// Rows parsed before the oldest of them is summed: enough parsing to cover a fetch from
/// main memory, and few enough that the fetched buckets are still in the caches.
pub(super) const AHEAD: usize = 8;

/// A valid row's place and values, as summing needs them.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct ParsedRow {
    /// Line and byte offset of the row.
    pub(super) line: u64,
    pub(super) byte: u64,
    /// The store and the wall-clock time (seconds as if UTC).
    pub(super) store: StoreIdx,
    pub(super) time: i64,
    pub(super) quantity: u64,
    pub(super) cents: u64,
}

/// The start of a value, kept in place: no allocation, no pointer.
#[derive(Debug)]
struct Kept {
    bytes: [u8; KEPT_BYTES],
    len: usize,
}

impl Default for Kept {
    fn default() -> Self {
        Kept {
            bytes: [0; KEPT_BYTES],
            len: 0,
        }
    }
}

impl Kept {
    /// The bytes kept.
    fn get(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or_default()
    }
}

/// One waiting row: its values, and the start of its text for an error that names it (the
/// fields joined with commas, and the raw amount).
#[derive(Debug, Default)]
struct Slot {
    row: ParsedRow,
    joined: Kept,
    amount: Kept,
}

/// At most [`AHEAD`] rows parsed and not yet summed, oldest first.
#[derive(Debug, Default)]
pub(super) struct Ahead {
    slots: [Slot; AHEAD],
    /// The oldest waiting row's slot.
    head: usize,
    /// Rows waiting.
    len: usize,
}

impl Ahead {
    /// Whether no row is waiting.
    pub(super) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether [`AHEAD`] rows are waiting: the oldest must be summed before another waits.
    pub(super) fn is_full(&self) -> bool {
        self.len == AHEAD
    }

    /// Keeps `row` waiting, with the start of the text of `record` and of `raw_amount`
    /// (copied: the record's bytes are the reader's, and gone by the time the row is
    /// summed). Refused (`false`) when [`Ahead::is_full`].
    pub(super) fn push(
        &mut self,
        row: ParsedRow,
        record: &RawRecord<'_>,
        raw_amount: &[u8],
    ) -> bool {
        if self.is_full() {
            return false;
        }
        let Some(slot) = self.slots.get_mut((self.head + self.len) % AHEAD) else {
            return false;
        };
        slot.row = row;
        slot.joined.len = record.join_prefix(&mut slot.joined.bytes);
        slot.amount.len = copy_prefix(raw_amount, &mut slot.amount.bytes);
        self.len += 1;
        true
    }

    /// The oldest waiting row; `None` when no row waits.
    pub(super) fn oldest(&self) -> Option<ParsedRow> {
        self.slots
            .get(self.head)
            .filter(|_| self.len > 0)
            .map(|s| s.row)
    }

    /// The oldest waiting row's fields joined with commas and its raw amount (empty when no
    /// row waits).
    pub(super) fn oldest_text(&self) -> (&[u8], &[u8]) {
        match self.slots.get(self.head).filter(|_| self.len > 0) {
            Some(slot) => (slot.joined.get(), slot.amount.get()),
            None => (&[], &[]),
        }
    }

    /// Forgets the oldest waiting row (it was summed).
    pub(super) fn pop(&mut self) {
        if self.len > 0 {
            self.head = (self.head + 1) % AHEAD;
            self.len -= 1;
        }
    }
}
