//! Hourly sales per store, in integer cents, and their two outputs: records on the UTC
//! timeline of ffc-core (for joining with footfall) and FootfallCam V9 import rows grouped
//! by (site, day) for the import API's replace-by-day rule.
//!
//! ```
//! use ffc_sales::{validate_bytes, ValidationConfig};
//! use ffc_core::Zone;
//! let file = b"StoreCode,DateTime,TotalTransactionQty,TotalTransactionValue\n\
//!              S1,01-06-2024 10:05,2,10.50\n\
//!              S1,01-06-2024 10:40,1,4.5\n";
//! let v = validate_bytes(file, &ValidationConfig::default());
//! let hour = v.sales.iter().next().unwrap();
//! assert_eq!((hour.transactions, hour.amount_cents), (3, 1500));
//! let records = v.sales.records(|_store| Zone::UTC);
//! assert_eq!(records[0].start, 1_717_236_000); // 2024-06-01 10:00 UTC
//! let batches = v.sales.day_batches();
//! assert_eq!(batches[0].rows[0].transaction_date.to_string(), "2024-06-01 10:00:00");
//! assert_eq!(batches[0].rows[0].amount_cents, 1500);
//! ```

use std::collections::BTreeSet;

use chrono::{NaiveDate, NaiveDateTime};
use ffc_core::sales::SalesRow;
use ffc_core::time::seconds_to_naive;
use ffc_core::{UnixSeconds, UtcOffset, Zone};
use serde::Serialize;

use crate::hour_index::{Cell, HourIndex, Place};
use crate::store_codes::StoreCodes;

/// Seconds in an hour.
const HOUR: i64 = 3600;

/// An index into the interned store codes.
pub(crate) type StoreIdx = u32;

/// Sums of one (store, local hour).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Totals {
    pub(crate) transactions: u64,
    pub(crate) amount_cents: u64,
    pub(crate) rows: u64,
}

/// Valid rows summed per store and local hour. Memory grows with the number of (store,
/// hour) pairs, not with the file.
#[derive(Debug, Clone, Default)]
pub struct HourlySales {
    stores: Vec<String>,
    /// Interned codes by their bytes, so a row's raw field is looked up as it is.
    index: StoreCodes,
    /// Keyed by store and local hour start (wall-clock seconds as if UTC), in the order they
    /// were created (a bucket's number is its place here), while every key arrives in
    /// increasing order (a file sorted by store and time), so that is key order. After
    /// [`HourlySales::seal`], every bucket in key order.
    buckets: Vec<Bucket>,
    /// From the first key out of order on, every bucket, in a dense run of cells per store
    /// indexed by the hour: no hash per row. Sealed, it stays as it is and gives the buckets
    /// in key order (no copy into `buckets`).
    hours: HourIndex<HourCell>,
    /// Buckets in `hours` with a row, counted when sealed.
    hours_len: usize,
    /// Whether the buckets are in `hours`.
    indexed: bool,
    /// The key of the bucket the last row went to (sorted files hit it without a lookup),
    /// and where that bucket is.
    last: Option<((StoreIdx, i64), Current)>,
    /// The keys of the buckets that were listed when they moved to `hours`, by number (the
    /// duplicate index reads its history back through them).
    listed_keys: Vec<(StoreIdx, i64)>,
}

/// One (store, hour) bucket in the list: its key and sums.
#[derive(Debug, Clone, Copy, Default)]
struct Bucket {
    key: (StoreIdx, i64),
    totals: Totals,
}

/// One (store, hour) bucket in the hour index: its sums and the duplicate filter of its
/// rows, 32 bytes, so a row out of order touches one cache line for both.
#[derive(Debug, Clone, Copy, Default)]
#[repr(align(32))]
struct HourCell {
    totals: Totals,
    rows: BucketRows,
}

impl Cell for HourCell {
    fn occupied(&self) -> bool {
        self.totals.rows > 0 || self.rows != BucketRows::default()
    }
}

/// Where the bucket of the last row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Current {
    Listed(usize),
    Indexed(Place),
}

/// The validator's duplicate-detection state of one bucket, kept in the bucket (see
/// `validate::chains`): a filter of its rows' keys and the newest row's entry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct BucketRows {
    /// Bits of the bucket's row keys.
    pub(crate) filter: u32,
    /// The newest row's entry plus one (0: none), or a mark that the rows are elsewhere.
    pub(crate) newest: u32,
}

impl Totals {
    /// Adds one valid row; `false` (and nothing added) if a total would overflow.
    pub(crate) fn add(&mut self, quantity: u64, cents: u64) -> bool {
        match (
            self.transactions.checked_add(quantity),
            self.amount_cents.checked_add(cents),
        ) {
            (Some(q), Some(c)) => {
                *self = Totals {
                    transactions: q,
                    amount_cents: c,
                    rows: self.rows + 1,
                };
                true
            }
            _ => false,
        }
    }
}

/// One store's sales in one local hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SalesHour<'a> {
    /// The store code as written in the file.
    pub store: &'a str,
    /// The local hour start (site wall clock).
    pub hour: NaiveDateTime,
    /// Transactions.
    pub transactions: u64,
    /// Amount in cents.
    pub amount_cents: u64,
    /// How many rows of the file were summed.
    pub rows: u64,
}

/// One store's hourly sales on ffc-core's timeline: the bucket's UTC start, length and
/// offset, as [`ffc_core::CountRecord`] has them for footfall.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SalesRecord {
    /// The store code.
    #[serde(rename = "StoreCode")]
    pub store: String,
    /// Bucket start (UTC unix seconds).
    #[serde(rename = "ValueDateTime")]
    pub start: UnixSeconds,
    /// Bucket length in seconds (always an hour).
    #[serde(rename = "LengthSeconds")]
    pub length: u32,
    /// The site's UTC offset at the bucket start.
    #[serde(rename = "UtcOffsetSeconds")]
    pub offset: UtcOffset,
    /// Transactions.
    #[serde(rename = "TransactionCount")]
    pub transactions: u64,
    /// Amount in cents.
    #[serde(rename = "SalesAmountCents")]
    pub amount_cents: u64,
}

/// Every import row of one site on one local day. The import API replaces a site's whole
/// day when any row of it arrives, so a batch is sent whole or not at all.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DayBatch {
    /// Site code.
    pub site: String,
    /// Local date.
    pub date: NaiveDate,
    /// The day's hourly rows, in time order.
    pub rows: Vec<SalesRow>,
}

/// A (site, local day) pair, named in reports.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct SiteDay {
    /// Site code.
    pub site: String,
    /// Local date.
    pub date: NaiveDate,
}

/// Where a row's (store, hour) falls relative to the rows before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Placement {
    /// The same bucket as the previous row.
    SameAsLast,
    /// A new bucket after every earlier one: every row so far came in key order.
    NewInOrder,
    /// A new bucket, out of order.
    New,
    /// A bucket seen before, not the previous row's.
    Revisit,
}

/// The hour start of a wall-clock time given as seconds (as if UTC).
pub(crate) fn hour_start(seconds: i64) -> i64 {
    seconds - seconds.rem_euclid(HOUR)
}

/// Days from 0001-01-01 (day 1 of the common era) to 1970-01-01, as chrono counts them.
const CE_DAYS_AT_EPOCH: i64 = 719_163;

/// The local day of a wall-clock time given as seconds (as if UTC), as days since the
/// common era (chrono's `num_days_from_ce`).
pub(crate) fn day_key(seconds: i64) -> i32 {
    i32::try_from(seconds.div_euclid(86_400) + CE_DAYS_AT_EPOCH).unwrap_or(0)
}

impl HourlySales {
    /// The index of a store code, interning it on first sight.
    pub(crate) fn intern(&mut self, store: &str) -> StoreIdx {
        if let Some(i) = self.index.get(store.as_bytes()) {
            return i;
        }
        let i = StoreIdx::try_from(self.stores.len()).unwrap_or(StoreIdx::MAX);
        self.stores.push(store.to_owned());
        self.index.insert(store.as_bytes(), i);
        i
    }

    /// The index of a store code seen before, by its bytes and its key (`short` is
    /// `ShortCode::of(store)`, made once by the caller). Interned codes passed
    /// [`crate::value::parse_store`], so equal bytes need no second check.
    #[inline]
    pub(crate) fn index_of_keyed(
        &self,
        store: &[u8],
        short: Option<crate::store_codes::ShortCode>,
    ) -> Option<StoreIdx> {
        self.index.get_keyed(store, short)
    }

    pub(crate) fn store_name(&self, i: StoreIdx) -> &str {
        self.stores
            .get(usize::try_from(i).unwrap_or(usize::MAX))
            .map_or("", String::as_str)
    }

    /// The bucket of a (store, hour), created (empty) if it is new, as the current bucket:
    /// where it falls relative to the rows before, and its number while the buckets are
    /// listed (add the row with [`HourlySales::add`]). Only before [`HourlySales::seal`].
    ///
    /// A bucket created here always gets its row: a row can only be refused (duplicate or
    /// overflow) in a bucket that already holds one.
    #[inline]
    pub(crate) fn locate(&mut self, store: StoreIdx, hour: i64) -> (Placement, Option<usize>) {
        let key = (store, hour);
        let (current, placement) = match self.last {
            Some((k, current)) if k == key => (current, Placement::SameAsLast),
            // Keys so far arrived in increasing order (a file sorted by store and time),
            // and this one is above them all: it is new, no lookup needed.
            Some((k, _)) if !self.indexed && key > k => self.push_bucket(key),
            None if !self.indexed => self.push_bucket(key),
            _ => self.find_cell(key),
        };
        self.last = Some((key, current));
        let number = match current {
            Current::Listed(n) => Some(n),
            Current::Indexed(_) => None,
        };
        (placement, number)
    }

    /// Whether the buckets are in the hour index: some row came out of (store, hour) order.
    #[inline]
    pub(crate) fn is_indexed(&self) -> bool {
        self.indexed
    }

    /// Asks the CPU to fetch the bucket of (`store`, `hour`) ahead of [`HourlySales::locate`]
    /// (a hint: nothing changes). Only rows out of order, once the buckets are in the hour
    /// index, need it: a sorted file's next bucket is the last one or the next in the list.
    #[inline]
    pub(crate) fn prefetch(&self, store: StoreIdx, hour: i64) {
        if self.indexed {
            self.hours.prefetch(store as usize, hour.div_euclid(HOUR));
        }
    }

    /// Adds one valid row to the current bucket; `false` (and nothing added) if a total
    /// would overflow.
    #[inline]
    pub(crate) fn add(&mut self, quantity: u64, cents: u64) -> bool {
        let totals = match self.last {
            Some((_, Current::Listed(n))) => self.buckets.get_mut(n).map(|b| &mut b.totals),
            Some((_, Current::Indexed(place))) => self.hours.get_mut(place).map(|c| &mut c.totals),
            None => None,
        };
        totals.is_some_and(|t| t.add(quantity, cents))
    }

    /// The duplicate-detection state of the current bucket and how many rows it holds,
    /// once the buckets are indexed.
    #[inline]
    pub(crate) fn current_rows(&mut self) -> Option<(&mut BucketRows, u64)> {
        let Some((_, Current::Indexed(place))) = self.last else {
            return None;
        };
        let cell = self.hours.get_mut(place)?;
        Some((&mut cell.rows, cell.totals.rows))
    }

    /// The duplicate-detection state and the totals of the current bucket, once the buckets
    /// are indexed: one lookup for the check and the sum of a row out of order.
    #[inline]
    pub(crate) fn current_cell(&mut self) -> Option<(&mut BucketRows, &mut Totals)> {
        let Some((_, Current::Indexed(place))) = self.last else {
            return None;
        };
        let cell = self.hours.get_mut(place)?;
        Some((&mut cell.rows, &mut cell.totals))
    }

    /// The duplicate-detection state of bucket `key` and how many rows it holds, once the
    /// buckets are indexed (for reading the duplicate history back).
    pub(crate) fn rows_of(
        &mut self,
        (store, hour): (StoreIdx, i64),
    ) -> Option<(&mut BucketRows, u64)> {
        let (place, _) = self
            .hours
            .find_or_insert(store as usize, hour.div_euclid(HOUR));
        let cell = self.hours.get_mut(place)?;
        Some((&mut cell.rows, cell.totals.rows))
    }

    /// Moves the listed buckets into the hour index (once): from then on every bucket is
    /// found there. Their keys stay, by number, for [`HourlySales::take_listed_keys`].
    pub(crate) fn index_all(&mut self) {
        if self.indexed {
            return;
        }
        self.indexed = true;
        for b in std::mem::take(&mut self.buckets) {
            let (s, h) = b.key;
            let (place, new) = self.hours.find_or_insert(s as usize, h.div_euclid(HOUR));
            if let Some(cell) = self.hours.get_mut(place) {
                cell.totals = b.totals;
            }
            if new {
                self.hours.mark_occupied(place);
            }
            self.listed_keys.push(b.key);
        }
        self.refresh_current();
    }

    /// The keys the listed buckets had, by number (once; empty after).
    pub(crate) fn take_listed_keys(&mut self) -> Vec<(StoreIdx, i64)> {
        std::mem::take(&mut self.listed_keys)
    }

    /// Finds the current bucket again (the index may have moved its cells).
    pub(crate) fn refresh_current(&mut self) {
        if let Some(((s, h), _)) = self.last {
            if self.indexed {
                let (place, _) = self.hours.find_or_insert(s as usize, h.div_euclid(HOUR));
                self.last = Some(((s, h), Current::Indexed(place)));
            }
        }
    }

    /// A new listed bucket, numbered in order of creation.
    fn push_bucket(&mut self, key: (StoreIdx, i64)) -> (Current, Placement) {
        self.buckets.push(Bucket {
            key,
            totals: Totals::default(),
        });
        (
            Current::Listed(self.buckets.len() - 1),
            Placement::NewInOrder,
        )
    }

    /// The cell of a key that is not the last row's, in the hour index (the listed buckets
    /// move there at the first key out of order).
    fn find_cell(&mut self, (store, hour): (StoreIdx, i64)) -> (Current, Placement) {
        // Checked here, not only in the call: nearly every row finds the index built.
        if !self.indexed {
            self.index_all();
        }
        let (place, new) = self
            .hours
            .find_or_insert(store as usize, hour.div_euclid(HOUR));
        if new {
            self.hours.mark_occupied(place);
        }
        let placement = if new {
            Placement::New
        } else {
            Placement::Revisit
        };
        (Current::Indexed(place), placement)
    }

    /// Readies the buckets for output, in (store, hour) order; no row is added after.
    /// Listed buckets are in order already; the index gives its buckets in order as it
    /// holds them, so a file out of order costs no sort and no copy of its buckets.
    pub(crate) fn seal(&mut self) {
        // A bucket is only created for a row that is then added (see `locate`); leaving
        // empty ones out anyway keeps an impossible empty hour out of the import.
        if self.indexed {
            self.hours.seal();
            // Every occupied cell holds a row (see `locate`): counted as they were filled,
            // not by a pass over every cell.
            self.hours_len = self.hours.occupied();
            debug_assert_eq!(self.hours_len, self.each().count());
        } else {
            self.buckets.retain(|b| b.totals.rows > 0);
        }
        self.indexed = false;
        self.last = None;
        self.listed_keys = Vec::new();
        debug_assert!(self.each().zip(self.each().skip(1)).all(|(a, b)| a.0 < b.0));
    }

    /// Every bucket with a row, as (key, totals), in key order once sealed: from the list or
    /// from the index, whichever holds them.
    fn each(&self) -> impl Iterator<Item = ((StoreIdx, i64), Totals)> + '_ {
        let listed = self.buckets.iter().map(|b| (b.key, b.totals));
        let indexed = self.hours.iter_sorted().filter_map(|(s, h, cell)| {
            let key = (StoreIdx::try_from(s).ok()?, h.checked_mul(HOUR)?);
            (cell.totals.rows > 0).then_some((key, cell.totals))
        });
        listed.chain(indexed)
    }

    /// Number of (store, hour) buckets.
    pub fn len(&self) -> usize {
        self.buckets.len() + self.hours_len
    }

    /// Whether no valid row was summed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every (store, hour), ordered by store (in order of first appearance) then hour.
    pub fn iter(&self) -> impl Iterator<Item = SalesHour<'_>> + '_ {
        self.each().filter_map(|((s, h), t)| {
            Some(SalesHour {
                store: self.store_name(s),
                hour: seconds_to_naive(h)?,
                transactions: t.transactions,
                amount_cents: t.amount_cents,
                rows: t.rows,
            })
        })
    }

    /// Sum of transactions and cents over everything.
    pub fn totals(&self) -> (u128, u128) {
        self.each().fold((0, 0), |(q, c), (_, t)| {
            (
                q + u128::from(t.transactions),
                c + u128::from(t.amount_cents),
            )
        })
    }

    /// The hours on ffc-core's UTC timeline, with each store's zone from `zone_of`. Local
    /// hours follow the site's wall clock: in a fall-back hour that occurs twice, the file
    /// cannot say which one is meant and the earlier is taken (as [`Zone::local_to_utc`]).
    pub fn records(&self, zone_of: impl Fn(&str) -> Zone) -> Vec<SalesRecord> {
        self.each()
            .map(|((s, h), t)| {
                let store = self.store_name(s);
                let zone = zone_of(store);
                let start = zone.local_to_utc(h);
                SalesRecord {
                    store: store.to_owned(),
                    start,
                    length: 3600,
                    offset: zone.offset_at(start),
                    transactions: t.transactions,
                    amount_cents: t.amount_cents,
                }
            })
            .collect()
    }

    /// V9 import rows grouped by (site, local day), every day of every store.
    pub fn day_batches(&self) -> Vec<DayBatch> {
        self.day_batches_except(&BTreeSet::new(), &BTreeSet::new())
            .0
    }

    /// V9 import rows grouped by (site, day), leaving out whole stores and whole days. Also
    /// returns how many rows of the file the batches carry.
    pub(crate) fn day_batches_except(
        &self,
        stores: &BTreeSet<StoreIdx>,
        days: &BTreeSet<(StoreIdx, i32)>,
    ) -> (Vec<DayBatch>, u64) {
        let mut out: Vec<DayBatch> = Vec::new();
        let mut last: Option<(StoreIdx, i32)> = None;
        let mut source_rows = 0;
        for ((s, h), t) in self.each() {
            let day = day_key(h);
            if stores.contains(&s) || days.contains(&(s, day)) {
                continue;
            }
            let Some(hour) = seconds_to_naive(h) else {
                continue;
            };
            // Amounts are capped far below i64::MAX by the validator (15 significant
            // digits); saturating keeps an impossible overflow from wrapping.
            let cents = i64::try_from(t.amount_cents).unwrap_or(i64::MAX);
            let row = SalesRow::new(self.store_name(s), hour, t.transactions, cents);
            source_rows += t.rows;
            match out.last_mut() {
                Some(batch) if last == Some((s, day)) => batch.rows.push(row),
                _ => out.push(DayBatch {
                    site: row.site_code.clone(),
                    date: hour.date(),
                    rows: vec![row],
                }),
            }
            last = Some((s, day));
        }
        (out, source_rows)
    }

    /// A store and day as names, for reports.
    pub(crate) fn site_day(&self, store: StoreIdx, day: i32) -> Option<SiteDay> {
        Some(SiteDay {
            site: self.store_name(store).to_owned(),
            date: NaiveDate::from_num_days_from_ce_opt(day)?,
        })
    }

    /// Every (store, local hour key, totals), in order.
    pub(crate) fn store_hours(&self) -> impl Iterator<Item = (StoreIdx, i64, Totals)> + '_ {
        self.each().map(|((s, h), t)| (s, h, t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Datelike;

    /// The arithmetic day key is chrono's day count, across the years a file can name.
    #[test]
    fn day_key_is_chronos_day_count() {
        let first = -62_135_596_800_i64; // 0001-01-01 00:00
        let last = 253_402_300_799_i64; // 9999-12-31 23:59:59
        let step = 86_400 * 37 + 3_601;
        let mut s = first;
        while s <= last {
            for t in [s, s + 86_399, s - s.rem_euclid(86_400)] {
                let want = seconds_to_naive(t).map(|d| d.date().num_days_from_ce());
                assert_eq!(Some(day_key(t)), want, "{t}");
            }
            s += step;
        }
    }
}
