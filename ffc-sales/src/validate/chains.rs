//! Duplicate detection for rows in any order: each (store, hour) bucket chains its own rows,
//! behind a 64-bit filter of their keys, so a row that repeats nothing (nearly every row)
//! is told apart by one load of its bucket's filter, with no hash table and no probe.
//!
//! A bucket with many rows (a busy hour of a busy store) fills its filter; past
//! [`CHAIN_LIMIT`] rows its rows move to a hash map keyed by (bucket, row), which answers
//! for that bucket from then on.

use super::duplicates::RowKey;
use crate::aggregate::BucketRows;

/// Rows a bucket chains before they move to the map (bounds the walk of a chain).
const CHAIN_LIMIT: u32 = 16;
/// A bucket's row count once its rows are in the map.
const IN_MAP: u32 = u32::MAX;

/// A summed row, chained to the row of its bucket before it.
#[derive(Debug, Clone, Copy)]
struct Entry {
    key: RowKey,
    line: u64,
    /// The previous entry of the bucket plus one (0: none).
    previous: u32,
}

/// Every summed row, chained from its bucket's [`BucketRows`] (kept in the bucket itself, on
/// the cache line of its totals): exact answers, about 32 bytes a row.
#[derive(Debug, Default)]
pub(super) struct Chains {
    entries: Vec<Entry>,
    /// The rows of busy buckets (and any beyond 2^32 - 1 entries).
    map: foldhash::HashMap<(usize, RowKey), u64>,
}

/// The two filter bits of a key: a multiplicative hash's top two 6-bit fields.
#[inline]
fn filter_bits(key: RowKey) -> u64 {
    let (a, b) = key.words();
    let h = (a ^ b.rotate_left(29)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    (1u64 << (h >> 58)) | (1u64 << ((h >> 52) & 63))
}

impl Chains {
    /// Room for `rows` rows.
    pub(super) fn with_capacity(rows: usize) -> Self {
        Chains {
            entries: Vec::with_capacity(rows),
            map: foldhash::HashMap::default(),
        }
    }

    /// The line of an earlier row with this key in bucket number `bucket`, whose state is
    /// `rows`; if there is none, the row is recorded at `line` (take it back with
    /// [`Chains::forget`]).
    #[inline]
    pub(super) fn check(
        &mut self,
        rows: Option<&mut BucketRows>,
        bucket: usize,
        key: RowKey,
        line: u64,
    ) -> Option<u64> {
        // Not reached without a bucket; the map answers exactly all the same.
        let Some(rows) = rows else {
            return self.check_map(bucket, key, line);
        };
        if rows.rows == IN_MAP {
            return self.check_map(bucket, key, line);
        }
        let bits = filter_bits(key);
        if rows.filter & bits == bits {
            if let Some(first) = self.find(rows.newest, key) {
                return Some(first);
            }
        }
        let Ok(newest) = u32::try_from(self.entries.len() + 1) else {
            self.move_to_map(rows, bucket);
            return self.check_map(bucket, key, line);
        };
        self.entries.push(Entry {
            key,
            line,
            previous: rows.newest,
        });
        rows.filter |= bits;
        rows.newest = newest;
        rows.rows += 1;
        if rows.rows > CHAIN_LIMIT {
            self.move_to_map(rows, bucket);
        }
        None
    }

    /// The line of the row with `key` in the chain that ends at entry `newest` (plus one).
    fn find(&self, mut newest: u32, key: RowKey) -> Option<u64> {
        while let Some(entry) = newest
            .checked_sub(1)
            .and_then(|i| self.entries.get(i as usize))
        {
            if entry.key == key {
                return Some(entry.line);
            }
            newest = entry.previous;
        }
        None
    }

    fn check_map(&mut self, bucket: usize, key: RowKey, line: u64) -> Option<u64> {
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
    fn move_to_map(&mut self, rows: &mut BucketRows, bucket: usize) {
        let mut newest = rows.newest;
        *rows = BucketRows {
            filter: 0,
            newest: 0,
            rows: IN_MAP,
        };
        while let Some(entry) = newest
            .checked_sub(1)
            .and_then(|i| self.entries.get(i as usize))
        {
            self.map.entry((bucket, entry.key)).or_insert(entry.line);
            newest = entry.previous;
        }
    }

    /// Takes back the row [`Chains::check`] just recorded in bucket `bucket` (state `rows`):
    /// it was not summed.
    pub(super) fn forget(&mut self, rows: Option<&mut BucketRows>, bucket: usize, key: RowKey) {
        match rows {
            Some(rows) if rows.rows != IN_MAP => {
                // The row just recorded is the newest entry of all, and of its bucket. Its
                // filter bits stay: a filter may claim more than the bucket holds, never less.
                if let Some(entry) = self.entries.pop() {
                    rows.newest = entry.previous;
                    rows.rows = rows.rows.saturating_sub(1);
                }
            }
            _ => {
                self.map.remove(&(bucket, key));
            }
        }
    }
}
