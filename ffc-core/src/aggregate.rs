//! Aggregation: events and already-aggregated records into per-counter series.
//!
//! * [`Counts`] holds visitors and staff apart, In and Out apart.
//! * [`Series`] (feature `alloc`) maps bucket starts to [`Bucket`]s at one [`Resolution`] in
//!   one [`Zone`]. A bucket that exists was reported (even with zero counts); this is what
//!   roll-up's completeness reads. Late data merges and marks its bucket revised.
//! * [`Binner`] bins events into a caller-owned dense slice of [`Counts`] with no allocator:
//!   the firmware path and the fast path.
//! * [`EventColumns`] (feature `alloc`) holds a large set of events in the 9 bytes per
//!   event binning reads (end instant, packed cell), which [`Binner::bin_columns`] and
//!   [`Series::add_columns`] bin.
//!
//! Re-bucketing a finer series into a coarser one equals aggregating the events directly at
//! the coarser resolution, because buckets of every resolution align in local time and the
//! finer ones nest inside the coarser ones.

use crate::error::SeriesError;
use crate::model::{CountEvent, Metric, PeopleType};
use crate::time::{Resolution, UnixSeconds, Zone};

/// Counts of one bucket: visitors and staff, In and Out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Counts {
    /// Visitors in (A01 before operating hours are applied).
    pub visitors_in: u64,
    /// Visitors out (A02 before operating hours are applied).
    pub visitors_out: u64,
    /// Staff in; never part of footfall.
    pub staff_in: u64,
    /// Staff out.
    pub staff_out: u64,
}

impl Counts {
    /// One crossing.
    #[inline]
    pub fn add(&mut self, metric: Metric, people: PeopleType, n: u64) {
        let slot = match (people, metric) {
            (PeopleType::Visitor, Metric::In) => &mut self.visitors_in,
            (PeopleType::Visitor, Metric::Out) => &mut self.visitors_out,
            (PeopleType::Staff, Metric::In) => &mut self.staff_in,
            (PeopleType::Staff, Metric::Out) => &mut self.staff_out,
        };
        *slot = slot.saturating_add(n);
    }

    /// Field-wise sum (saturating).
    pub fn merge(&mut self, other: &Counts) {
        self.visitors_in = self.visitors_in.saturating_add(other.visitors_in);
        self.visitors_out = self.visitors_out.saturating_add(other.visitors_out);
        self.staff_in = self.staff_in.saturating_add(other.staff_in);
        self.staff_out = self.staff_out.saturating_add(other.staff_out);
    }

    /// Every crossing counted, visitors and staff.
    pub fn total(&self) -> u64 {
        self.visitors_in
            .saturating_add(self.visitors_out)
            .saturating_add(self.staff_in)
            .saturating_add(self.staff_out)
    }
}

/// One bucket of a series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Bucket {
    /// The counts.
    pub counts: Counts,
    /// Outside traffic, where the source knows it.
    pub outside: Option<u64>,
    /// Data arrived after the bucket was closed (see [`Series::close_through`]).
    pub revised: bool,
}

/// The four counters of one bucket as an array, indexed by [`cell_of`]: the dense layout
/// [`Binner`] increments with one add. `Counts::from` turns it into named fields.
pub type CountCells = [u64; 4];

/// The [`CountCells`] index of a crossing: visitors in, visitors out, staff in, staff out.
#[inline]
pub const fn cell_of(metric: Metric, people: PeopleType) -> usize {
    // The discriminants are 0 and 1 (visitor/staff, In/Out).
    people as usize * 2 + metric as usize
}

impl From<CountCells> for Counts {
    fn from(c: CountCells) -> Counts {
        Counts {
            visitors_in: c[0],
            visitors_out: c[1],
            staff_in: c[2],
            staff_out: c[3],
        }
    }
}

/// Bins events into a dense, caller-owned slice of [`CountCells`] without an allocator.
///
/// Index `i` of the slice is the bucket starting at `origin + i × length`. Only fixed-length
/// resolutions qualify (a local day varies with DST). Events outside the slice are refused
/// with [`SeriesError::OutOfRange`] and the caller keeps them.
///
/// ```
/// use ffc_core::aggregate::{Binner, Counts};
/// use ffc_core::{Resolution, Zone};
/// let mut cells = [[0u64; 4]; 24];
/// let mut binner = Binner::new(Resolution::Hour, Zone::UTC, 0).unwrap();
/// binner.bin(&mut cells, ffc_core::Metric::In, ffc_core::PeopleType::Visitor, 7_300).unwrap();
/// assert_eq!(Counts::from(cells[2]).visitors_in, 1);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Binner {
    origin: UnixSeconds,
    length: i64,
    // The bucket of the last event: time-ordered streams mostly hit it, which skips the
    // division.
    cached_start: UnixSeconds,
    cached_index: usize,
}

impl Binner {
    /// A binner whose index 0 is the bucket holding `from`.
    pub fn new(resolution: Resolution, zone: Zone, from: UnixSeconds) -> Result<Self, SeriesError> {
        let length = i64::from(resolution.fixed_seconds().ok_or(SeriesError::NotCoarser)?);
        let origin = resolution.bucket_start(from, &zone);
        Ok(Binner {
            origin,
            length,
            cached_start: origin,
            cached_index: 0,
        })
    }

    /// Start of the bucket at index 0.
    pub fn origin(&self) -> UnixSeconds {
        self.origin
    }

    /// The slice index of the bucket holding `at`, if any.
    #[inline]
    pub fn index_of(&mut self, at: UnixSeconds) -> Option<usize> {
        // One unsigned compare covers both "before" and "after" the cached bucket.
        if (at.wrapping_sub(self.cached_start) as u64) < self.length as u64 {
            return Some(self.cached_index);
        }
        // A time-ordered stream moves on to the next bucket: no division either.
        if let Some(next) = self.cached_start.checked_add(self.length) {
            if (at.wrapping_sub(next) as u64) < self.length as u64 {
                self.cached_start = next;
                self.cached_index = self.cached_index.checked_add(1)?;
                return Some(self.cached_index);
            }
        }
        // Checked: an instant near the ends of i64 is refused, not wrapped into range.
        let delta = at.checked_sub(self.origin)?;
        if delta < 0 {
            return None;
        }
        let index = usize::try_from(delta / self.length).ok()?;
        self.cached_index = index;
        self.cached_start = self.origin + delta - delta % self.length;
        Some(index)
    }

    /// Counts one crossing at instant `at`.
    #[inline]
    pub fn bin(
        &mut self,
        counts: &mut [CountCells],
        metric: Metric,
        people: PeopleType,
        at: UnixSeconds,
    ) -> Result<(), SeriesError> {
        let index = self.index_of(at).ok_or(SeriesError::OutOfRange)?;
        let cells = counts.get_mut(index).ok_or(SeriesError::OutOfRange)?;
        if let Some(cell) = cells.get_mut(cell_of(metric, people)) {
            // A u64 incremented once per crossing cannot wrap in any real lifetime.
            *cell = cell.wrapping_add(1);
        }
        Ok(())
    }

    /// Counts one event at its end instant (when the person left the band).
    #[inline]
    pub fn bin_event(
        &mut self,
        counts: &mut [CountCells],
        event: &CountEvent,
    ) -> Result<(), SeriesError> {
        self.bin(counts, event.metric, event.people_type, event.end)
    }
}

#[cfg(feature = "alloc")]
pub use series::Series;

#[cfg(feature = "alloc")]
mod columns;
#[cfg(feature = "alloc")]
pub use columns::EventColumns;

#[cfg(feature = "alloc")]
mod series {
    use alloc::collections::BTreeMap;

    use super::{Bucket, Counts};
    use crate::error::SeriesError;
    use crate::model::{CountEvent, CountRecord};
    use crate::time::{Resolution, UnixSeconds, Zone};

    /// One counter's (or site's) buckets at one resolution in one zone.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Series {
        resolution: Resolution,
        zone: Zone,
        buckets: BTreeMap<UnixSeconds, Bucket>,
        // Buckets starting before this instant are closed: data for them is late.
        closed_before: UnixSeconds,
    }

    impl Series {
        /// An empty series.
        pub fn new(resolution: Resolution, zone: Zone) -> Self {
            Series {
                resolution,
                zone,
                buckets: BTreeMap::new(),
                closed_before: UnixSeconds::MIN,
            }
        }

        /// The resolution.
        pub fn resolution(&self) -> Resolution {
            self.resolution
        }

        /// The zone buckets align in.
        pub fn zone(&self) -> Zone {
            self.zone
        }

        /// Number of buckets reported.
        pub fn len(&self) -> usize {
            self.buckets.len()
        }

        /// Whether no bucket was reported.
        pub fn is_empty(&self) -> bool {
            self.buckets.is_empty()
        }

        /// Buckets in time order, by start.
        pub fn iter(&self) -> impl DoubleEndedIterator<Item = (UnixSeconds, &Bucket)> + '_ {
            self.buckets.iter().map(|(k, v)| (*k, v))
        }

        /// The bucket starting at `start`, if reported.
        pub fn get(&self, start: UnixSeconds) -> Option<&Bucket> {
            self.buckets.get(&start)
        }

        /// The start of the bucket holding `at`.
        pub fn bucket_start(&self, at: UnixSeconds) -> UnixSeconds {
            self.resolution.bucket_start(at, &self.zone)
        }

        /// Sum of every bucket.
        pub fn total(&self) -> Counts {
            let mut sum = Counts::default();
            for b in self.buckets.values() {
                sum.merge(&b.counts);
            }
            sum
        }

        pub(super) fn slot(&mut self, start: UnixSeconds) -> &mut Bucket {
            let late = start < self.closed_before;
            let bucket = self.buckets.entry(start).or_default();
            if late {
                bucket.revised = true;
            }
            bucket
        }

        /// Counts one event in the bucket of its end instant. Deduplication is the caller's
        /// (see [`crate::dedupe`]); [`crate::aggregate::Aggregator`] does both.
        pub fn add_event(&mut self, event: &CountEvent) {
            let start = self.bucket_start(event.end);
            self.slot(start)
                .counts
                .add(event.metric, event.people_type, 1);
        }

        /// Adds `counts` to the bucket holding `at`.
        pub fn add_counts(&mut self, at: UnixSeconds, counts: &Counts) {
            let start = self.bucket_start(at);
            self.slot(start).counts.merge(counts);
        }

        /// Puts an aggregated record (visitor counts) into its bucket, replacing what that
        /// bucket held: pulling the same hour twice must not count it twice. The record's
        /// length must equal the series' resolution; re-bucket finer records first.
        pub fn put_record(&mut self, record: &CountRecord) -> Result<(), SeriesError> {
            let start = self.bucket_start(record.start);
            let expected = self.resolution.next_start(start, &self.zone) - start;
            if start != record.start || i64::from(record.length) != expected {
                return Err(SeriesError::ResolutionMismatch);
            }
            let late = start < self.closed_before;
            let bucket = self.buckets.entry(start).or_default();
            let new_counts = Counts {
                visitors_in: record.count_in,
                visitors_out: record.count_out,
                ..Counts::default()
            };
            let changed = bucket.counts != new_counts || bucket.outside != record.outside;
            if late && changed {
                bucket.revised = true;
            }
            bucket.counts = new_counts;
            bucket.outside = record.outside;
            Ok(())
        }

        /// Puts every record into its bucket ([`put_record`](Self::put_record) each): what a
        /// device pull or an export hands back goes into the aggregation path in one call.
        /// Stops at the first record that does not fit the series' resolution and zone
        /// (the ones before it are in); returns how many were put.
        pub fn put_records<'a>(
            &mut self,
            records: impl IntoIterator<Item = &'a CountRecord>,
        ) -> Result<usize, SeriesError> {
            let mut n = 0;
            for record in records {
                self.put_record(record)?;
                n += 1;
            }
            Ok(n)
        }

        /// Marks every bucket in `[from, to)` as reported, with zero counts where nothing
        /// arrived: for a source that says "I was up and saw nobody" (a device pull, a live
        /// connection).
        pub fn cover(&mut self, from: UnixSeconds, to: UnixSeconds) {
            for start in self.resolution.buckets(from, to, self.zone) {
                self.buckets.entry(start).or_default();
            }
        }

        /// Closes every bucket that starts before `at`: data for them from now on is late and
        /// marks them revised.
        pub fn close_through(&mut self, at: UnixSeconds) {
            let start = self.bucket_start(at);
            self.closed_before = self.closed_before.max(start);
        }

        /// The same counts at a coarser resolution (same zone). Revised flags and outside
        /// traffic carry over: a coarse bucket is revised when any of its parts is.
        pub fn rebucket(&self, coarser: Resolution) -> Result<Series, SeriesError> {
            if !self.resolution.divides(coarser) {
                return Err(SeriesError::NotCoarser);
            }
            let mut out = Series::new(coarser, self.zone);
            out.closed_before = if self.closed_before == UnixSeconds::MIN {
                UnixSeconds::MIN
            } else {
                coarser.bucket_start(self.closed_before, &self.zone)
            };
            for (start, bucket) in &self.buckets {
                let coarse = coarser.bucket_start(*start, &self.zone);
                let slot = out.buckets.entry(coarse).or_default();
                slot.counts.merge(&bucket.counts);
                slot.revised |= bucket.revised;
                slot.outside = match (slot.outside, bucket.outside) {
                    (Some(a), Some(b)) => Some(a.saturating_add(b)),
                    (a, b) => a.or(b),
                };
            }
            Ok(out)
        }
    }
}

#[cfg(feature = "alloc")]
pub use aggregator::Aggregator;

#[cfg(feature = "alloc")]
mod aggregator {
    use alloc::collections::BTreeMap;

    use super::Series;
    use crate::dedupe::KeySet;
    use crate::model::{CameraSerial, CountEvent, CountRecord};
    use crate::time::{Resolution, UnixSeconds, Zone};

    /// What became of an ingested event.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Ingested {
        /// Counted.
        New,
        /// Seen before (same [`crate::EventKey`]); not counted again.
        Duplicate,
    }

    /// Events from any source → deduplicated per-counter series.
    #[derive(Debug, Clone)]
    pub struct Aggregator {
        resolution: Resolution,
        zone: Zone,
        seen: KeySet,
        counters: BTreeMap<CameraSerial, Series>,
    }

    impl Aggregator {
        /// An empty aggregator binning at `resolution` in `zone`.
        pub fn new(resolution: Resolution, zone: Zone) -> Self {
            Aggregator {
                resolution,
                zone,
                seen: KeySet::new(),
                counters: BTreeMap::new(),
            }
        }

        /// Counts the event unless its key was seen.
        pub fn ingest(&mut self, event: &CountEvent) -> Ingested {
            if !self.seen.insert(event.key(), event.end) {
                return Ingested::Duplicate;
            }
            self.series_mut(event.serial).add_event(event);
            Ingested::New
        }

        /// Counts every event whose key was not seen, as [`ingest`](Self::ingest) on each
        /// would, and returns how many were new. The new events of each counter are
        /// gathered into [`EventColumns`](super::EventColumns) and binned together
        /// ([`Series::add_columns`]): for a day's events file, not one bucket lookup an
        /// event.
        pub fn ingest_all<'a>(
            &mut self,
            events: impl IntoIterator<Item = &'a CountEvent>,
        ) -> usize {
            let mut fresh: BTreeMap<CameraSerial, super::EventColumns> = BTreeMap::new();
            let mut n = 0;
            for e in events {
                if self.seen.insert(e.key(), e.end) {
                    fresh.entry(e.serial).or_default().push_event(e);
                    n += 1;
                }
            }
            for (serial, columns) in &fresh {
                self.series_mut(*serial).add_columns(columns);
            }
            n
        }

        /// The series of one counter, created empty when absent.
        pub fn series_mut(&mut self, serial: CameraSerial) -> &mut Series {
            let (resolution, zone) = (self.resolution, self.zone);
            self.counters
                .entry(serial)
                .or_insert_with(|| Series::new(resolution, zone))
        }

        /// The series of one counter.
        pub fn series(&self, serial: CameraSerial) -> Option<&Series> {
            self.counters.get(&serial)
        }

        /// Every counter's series.
        pub fn counters(&self) -> &BTreeMap<CameraSerial, Series> {
            &self.counters
        }

        /// Puts a counter's aggregated records (a device pull, an export) into its series,
        /// replacing those buckets; see [`Series::put_records`].
        pub fn put_records<'a>(
            &mut self,
            serial: CameraSerial,
            records: impl IntoIterator<Item = &'a CountRecord>,
        ) -> Result<usize, crate::error::SeriesError> {
            self.series_mut(serial).put_records(records)
        }

        /// The resolution every series bins at.
        pub fn resolution(&self) -> Resolution {
            self.resolution
        }

        /// The zone every series aligns in.
        pub fn zone(&self) -> Zone {
            self.zone
        }

        /// Marks `[from, to)` reported for a counter (it was online and sent what it saw).
        pub fn cover(&mut self, serial: CameraSerial, from: UnixSeconds, to: UnixSeconds) {
            self.series_mut(serial).cover(from, to);
        }

        /// Closes every counter's buckets before `at`; later data marks buckets revised.
        pub fn close_through(&mut self, at: UnixSeconds) {
            for s in self.counters.values_mut() {
                s.close_through(at);
            }
        }

        /// Forgets event keys whose events ended before `before`, bounding memory; an event
        /// that old arriving again would count twice, so choose a horizon beyond any resend.
        pub fn forget_keys_before(&mut self, before: UnixSeconds) {
            self.seen.prune_before(before);
        }
    }
}

#[cfg(feature = "alloc")]
pub use aggregator::Ingested;

#[cfg(all(test, feature = "alloc"))]
mod tests;
