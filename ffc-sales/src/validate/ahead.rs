//! Rows parsed ahead of their summing. A file out of (store, hour) order sends each row to a
//! bucket far from the last one's, most likely not in the CPU's caches; waiting for that
//! memory row after row is most of what such a file costs. So the validator parses a row,
//! asks the CPU to fetch its bucket, and sums it only [`AHEAD`] rows later, by which time the
//! bucket is there. Rows are still summed one at a time and in file order, so every answer
//! (duplicates, overflows, the line an error names) is the one summing at once would give.
//!
//! A waiting row keeps its text for the error that may name it. A plain line is still in
//! the piece of input the driver is reading ([`Piece`]), so it waits with only its place
//! there; the driver has those rows copy their text out ([`Ahead::keep_text`]) before the
//! piece goes (a few rows per 64 KiB read, and none for input held in memory). Any other
//! row copies the start of its bytes in one piece, with where the commas go between its
//! fields: the text is joined only for an error.

use super::record::{copy_prefix, joined_kept, RawRecord};
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

/// The piece of input the driver is reading, and the file offset of its first byte.
#[derive(Debug, Clone, Copy)]
pub(super) struct Piece<'a> {
    pub(super) bytes: &'a [u8],
    pub(super) start: u64,
}

impl<'a> Piece<'a> {
    /// The `len` bytes at file offset `byte`, if they are in the piece.
    fn text(&self, byte: u64, len: usize) -> Option<&'a [u8]> {
        let at = usize::try_from(byte.checked_sub(self.start)?).ok()?;
        self.bytes.get(at..at.checked_add(len)?)
    }
}

/// Where a plain line's row left its text: `len` bytes at the row's own byte offset (a
/// plain line, commas and all, is its fields joined with commas), and its raw amount at
/// `amount` (start, end) within them.
#[derive(Debug, Clone, Copy)]
pub(super) struct InPiece {
    pub(super) len: usize,
    pub(super) amount: (usize, usize),
}

/// One waiting row: its values, and the start of its text for an error that names it (the
/// fields joined with commas, and the raw amount): left in the piece, or copied (the
/// record's bytes, and where commas go between them).
#[derive(Debug)]
struct Slot {
    row: ParsedRow,
    in_piece: Option<InPiece>,
    record: Kept,
    commas: [u8; KEPT_BYTES],
    commas_len: usize,
    amount: Kept,
}

impl Default for Slot {
    fn default() -> Self {
        Slot {
            row: ParsedRow::default(),
            in_piece: None,
            record: Kept::default(),
            commas: [0; KEPT_BYTES],
            commas_len: 0,
            amount: Kept::default(),
        }
    }
}

impl Slot {
    /// The copied text: the fields joined with commas, and the amount.
    fn kept_text(&self) -> (Vec<u8>, &[u8]) {
        let commas = self.commas.get(..self.commas_len).unwrap_or_default();
        (joined_kept(self.record.get(), commas), self.amount.get())
    }
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
        let Some(slot) = self.next_slot() else {
            return false;
        };
        slot.row = row;
        (slot.record.len, slot.commas_len) =
            record.keep_prefix(&mut slot.record.bytes, &mut slot.commas);
        slot.amount.len = copy_prefix(raw_amount, &mut slot.amount.bytes);
        slot.in_piece = None;
        self.len += 1;
        true
    }

    /// Keeps `row`, a plain line of the piece being read, waiting with its text left there
    /// (`place`). Refused (`false`) when [`Ahead::is_full`].
    pub(super) fn push_in_piece(&mut self, row: ParsedRow, place: InPiece) -> bool {
        let Some(slot) = self.next_slot() else {
            return false;
        };
        slot.row = row;
        slot.in_piece = Some(place);
        self.len += 1;
        true
    }

    /// The free slot after the newest waiting row; `None` when [`Ahead::is_full`].
    fn next_slot(&mut self) -> Option<&mut Slot> {
        if self.is_full() {
            return None;
        }
        self.slots.get_mut((self.head + self.len) % AHEAD)
    }

    /// Copies the text every waiting row left in `piece` (the piece is about to go).
    pub(super) fn keep_text(&mut self, piece: Piece<'_>) {
        for i in 0..self.len {
            let Some(slot) = self.slots.get_mut((self.head + i) % AHEAD) else {
                continue;
            };
            if let Some(place) = slot.in_piece {
                // A plain line has its commas: kept as it is.
                let (line, amount) = piece_text(piece, slot.row.byte, place);
                slot.record.len = copy_prefix(line, &mut slot.record.bytes);
                slot.commas_len = 0;
                slot.amount.len = copy_prefix(amount, &mut slot.amount.bytes);
                slot.in_piece = None;
            }
        }
    }

    /// The oldest waiting row; `None` when no row waits.
    pub(super) fn oldest(&self) -> Option<ParsedRow> {
        self.slots
            .get(self.head)
            .filter(|_| self.len > 0)
            .map(|s| s.row)
    }

    /// The oldest waiting row's fields joined with commas and its raw amount (empty when no
    /// row waits), from the slot or from `piece`, where a plain line's row left them. Only
    /// for an error: it allocates.
    pub(super) fn oldest_text(&self, piece: Option<Piece<'_>>) -> (Vec<u8>, Vec<u8>) {
        let Some(slot) = self.slots.get(self.head).filter(|_| self.len > 0) else {
            return (Vec::new(), Vec::new());
        };
        match (slot.in_piece, piece) {
            (Some(place), Some(piece)) => {
                let (line, amount) = piece_text(piece, slot.row.byte, place);
                (line.to_vec(), amount.to_vec())
            }
            // Not reached: the driver passes the piece while rows wait in it.
            (Some(_), None) => (Vec::new(), Vec::new()),
            (None, _) => {
                let (joined, amount) = slot.kept_text();
                (joined, amount.to_vec())
            }
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

/// A plain line's text in `piece`: the line at file offset `byte`, and its amount.
fn piece_text(piece: Piece<'_>, byte: u64, place: InPiece) -> (&[u8], &[u8]) {
    let line = piece.text(byte, place.len).unwrap_or_default();
    let amount = line.get(place.amount.0..place.amount.1).unwrap_or_default();
    (line, amount)
}
