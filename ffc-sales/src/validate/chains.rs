//! Duplicate detection for rows in any order: each (store, hour) bucket chains its own rows,
//! behind a 32-bit filter of their keys (three bits a key) kept in the bucket itself (on the
//! cache line of its totals), so a row that repeats nothing (nearly every row) is told apart
//! with no hash table, no probe and no memory touched but its bucket's.
//!
//! A bucket with many rows (a busy hour of a busy store) fills its filter; past
//! [`CHAIN_LIMIT`] rows its rows move to a hash map keyed by (bucket, row), which answers
//! for that bucket from then on.

use super::duplicates::RowKey;
use crate::aggregate::{BucketRows, StoreIdx};

/// Rows a bucket chains before they move to the map (bounds the walk of a chain).
const CHAIN_LIMIT: u64 = 16;
/// A bucket's newest entry once its rows are in the map.
const IN_MAP: u32 = u32::MAX;

/// A summed row, chained to the row of its bucket before it: 16 bytes.
#[derive(Debug, Clone, Copy)]
struct Entry {
    /// The row's key, packed ([`pack`]).
    key: u64,
    /// The row's line (rows past line 2^32 - 1 go to the map).
    line: u32,
    /// The previous entry of the bucket plus one (0: none).
    previous: u32,
}

/// Entries per chunk: the entries grow a chunk at a time and are never copied.
const CHUNK: usize = 1 << 15;

// Entries stay 16 bytes: a third fewer fresh pages, and cache lines, than a whole key.
const _: () = assert!(std::mem::size_of::<Entry>() == 16);

/// Bits of a packed key below the cents: the quantity and the minute, as in [`RowKey`].
const PACKED_CENTS_SHIFT: u32 = 24;

/// A key in one word when its quantity is below 2^18 and its cents below 2^40 (nearly every
/// row: 262,143 items, $10,995,116,277.75): the cents above the quantity and minute. Exact
/// within that range, so packed keys compare as the keys do; a key outside it sends its
/// bucket to the map.
#[inline]
fn pack(key: RowKey) -> Option<u64> {
    let (quantity_minute, cents) = key.words();
    let fits = quantity_minute < 1 << PACKED_CENTS_SHIFT && cents < 1 << (64 - PACKED_CENTS_SHIFT);
    fits.then_some((cents << PACKED_CENTS_SHIFT) | quantity_minute)
}

/// The key [`pack`] packed.
fn unpack(packed: u64) -> RowKey {
    RowKey::from_words(
        packed & ((1 << PACKED_CENTS_SHIFT) - 1),
        packed >> PACKED_CENTS_SHIFT,
    )
}

/// Every summed row, chained from its bucket's [`BucketRows`]: exact answers, about 16
/// bytes a row.
#[derive(Debug, Default)]
pub(super) struct Chains {
    chunks: Vec<Vec<Entry>>,
    /// Entries in all chunks.
    len: usize,
    /// The rows of busy buckets (and any beyond 2^32 - 2 entries or past line 2^32 - 1).
    map: foldhash::HashMap<((StoreIdx, i64), RowKey), u64>,
}

/// The filter bits of a key: a multiplicative hash's top three 5-bit fields. Three bits
/// rather than two: a bucket of a few rows then sends one new row in a hundred down its
/// chain (a walk through memory far from the row's), not one in forty.
#[inline]
fn filter_bits(key: RowKey) -> u32 {
    let (a, b) = key.words();
    let h = (a ^ b.rotate_left(29)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    (1u32 << (h >> 59)) | (1u32 << ((h >> 54) & 31)) | (1u32 << ((h >> 49) & 31))
}

impl Chains {
    /// The line of an earlier row with this key in `bucket`, whose state is `rows` and which
    /// holds `held` rows; if there is none, the row is recorded at `line` (take it back with
    /// [`Chains::forget`]).
    #[inline]
    pub(super) fn check(
        &mut self,
        rows: Option<(&mut BucketRows, u64)>,
        bucket: (StoreIdx, i64),
        key: RowKey,
        line: u64,
    ) -> Option<u64> {
        // Not reached without a bucket; the map answers exactly all the same.
        let Some((rows, held)) = rows else {
            return self.check_map(bucket, key, line);
        };
        if rows.newest == IN_MAP {
            return self.check_map(bucket, key, line);
        }
        let bits = filter_bits(key);
        // A key too wide to pack is in no chain.
        let packed = pack(key);
        if let (true, Some(packed)) = (rows.filter & bits == bits, packed) {
            if let Some(first) = self.find(rows.newest, packed) {
                return Some(first);
            }
        }
        let newest = u32::try_from(self.len + 1).ok().filter(|n| *n != IN_MAP);
        let line32 = u32::try_from(line).ok();
        let newest = newest.filter(|_| held < CHAIN_LIMIT);
        let (Some(newest), Some(line32), Some(packed)) = (newest, line32, packed) else {
            self.move_to_map(rows, bucket);
            return self.check_map(bucket, key, line);
        };
        self.push(Entry {
            key: packed,
            line: line32,
            previous: rows.newest,
        });
        rows.filter |= bits;
        rows.newest = newest;
        None
    }

    fn push(&mut self, entry: Entry) {
        match self.chunks.last_mut() {
            Some(chunk) if chunk.len() < CHUNK => chunk.push(entry),
            _ => {
                let mut chunk = Vec::with_capacity(CHUNK);
                chunk.push(entry);
                self.chunks.push(chunk);
            }
        }
        self.len += 1;
    }

    fn entry(&self, newest: u32) -> Option<&Entry> {
        let i = (newest as usize).checked_sub(1)?;
        self.chunks.get(i / CHUNK)?.get(i % CHUNK)
    }

    /// The line of the row with `key` (packed) in the chain that ends at entry `newest`
    /// (plus one).
    fn find(&self, mut newest: u32, key: u64) -> Option<u64> {
        while let Some(entry) = self.entry(newest) {
            if entry.key == key {
                return Some(u64::from(entry.line));
            }
            newest = entry.previous;
        }
        None
    }

    fn check_map(&mut self, bucket: (StoreIdx, i64), key: RowKey, line: u64) -> Option<u64> {
        match self.map.entry((bucket, key)) {
            std::collections::hash_map::Entry::Occupied(first) => Some(*first.get()),
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(line);
                None
            }
        }
    }

    /// A busy bucket's chain moves to the map (its entries stay, unread).
    #[cold]
    fn move_to_map(&mut self, rows: &mut BucketRows, bucket: (StoreIdx, i64)) {
        let mut newest = rows.newest;
        *rows = BucketRows {
            filter: 0,
            newest: IN_MAP,
        };
        while let Some(entry) = self.entry(newest).copied() {
            self.map
                .entry((bucket, unpack(entry.key)))
                .or_insert(u64::from(entry.line));
            newest = entry.previous;
        }
    }

    /// Takes back the row [`Chains::check`] just recorded in `bucket` (state `rows`): it was
    /// not summed.
    pub(super) fn forget(
        &mut self,
        rows: Option<&mut BucketRows>,
        bucket: (StoreIdx, i64),
        key: RowKey,
    ) {
        match rows {
            Some(rows) if rows.newest != IN_MAP => {
                // The row just recorded is the newest entry of all, and of its bucket. Its
                // filter bits stay: a filter may claim more than the bucket holds, never less.
                let popped = self.chunks.last_mut().and_then(Vec::pop);
                if let Some(entry) = popped {
                    self.len -= 1;
                    rows.newest = entry.previous;
                }
                if self.chunks.last().is_some_and(Vec::is_empty) {
                    self.chunks.pop();
                }
            }
            _ => {
                self.map.remove(&(bucket, key));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A key too wide to pack (a huge quantity or amount) moves its bucket to the map,
    /// which still names the rows chained before it; keys at the packing limits round-trip.
    #[test]
    fn wide_keys_move_the_bucket_to_the_map() {
        for key in [
            RowKey::new(59, (1 << 18) - 1, (1 << 40) - 1),
            RowKey::new(0, 0, 0),
        ] {
            assert_eq!(pack(key).map(unpack), Some(key));
        }
        assert_eq!(pack(RowKey::new(1, 1 << 18, 5)), None);
        assert_eq!(pack(RowKey::new(1, 5, 1 << 40)), None);
        let mut chains = Chains::default();
        let mut rows = BucketRows::default();
        let bucket = (0, 0);
        let (a, wide) = (RowKey::new(1, 2, 300), RowKey::new(1, 2, 1 << 41));
        assert_eq!(chains.check(Some((&mut rows, 0)), bucket, a, 7), None);
        assert_eq!(chains.check(Some((&mut rows, 1)), bucket, wide, 8), None);
        assert_eq!(rows.newest, IN_MAP);
        assert_eq!(chains.check(Some((&mut rows, 2)), bucket, a, 9), Some(7));
        assert_eq!(
            chains.check(Some((&mut rows, 2)), bucket, wide, 10),
            Some(8)
        );
    }

    /// Lines past 2^32 - 1 do not fit an entry: the bucket moves to the map, which still
    /// names the rows chained before and after.
    #[test]
    fn lines_past_32_bits_move_the_bucket_to_the_map() {
        let mut chains = Chains::default();
        let mut rows = BucketRows::default();
        let bucket = (0, 0);
        let (a, b) = (RowKey::new(1, 2, 300), RowKey::new(1, 2, 301));
        let far = 1u64 << 33;
        assert_eq!(chains.check(Some((&mut rows, 0)), bucket, a, 7), None);
        assert_eq!(chains.check(Some((&mut rows, 1)), bucket, b, far), None);
        assert_eq!(rows.newest, IN_MAP);
        assert_eq!(
            chains.check(Some((&mut rows, 2)), bucket, a, far + 1),
            Some(7)
        );
        assert_eq!(
            chains.check(Some((&mut rows, 2)), bucket, b, far + 2),
            Some(far)
        );
    }
}
