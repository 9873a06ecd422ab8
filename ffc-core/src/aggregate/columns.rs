//! [`EventColumns`]: a large set of events in the compact form binning reads.
//!
//! A [`CountEvent`] is 64 bytes (serial, roi, people id, start, end, offset, a 17-byte
//! optional UUID, source), but binning reads only its end instant, metric and people type.
//! Binning a million events from the struct streams 64 MB from memory for 9 MB of use; the
//! columns hold exactly those 9 bytes per event (the end, and one packed cell byte), so the
//! binner streams 9 MB. Identity (the [`EventKey`](crate::EventKey)), provenance and the
//! offset are not kept: deduplicate before building the columns.

use alloc::vec::Vec;

use super::{cell_of, Binner, CountCells, Counts, Series};
use crate::error::SeriesError;
use crate::model::{CountEvent, Metric, PeopleType};
use crate::time::{UnixSeconds, Zone};

/// Events as two parallel columns: end instants, and the [`cell_of`] index (metric and
/// people type) of each, one byte.
///
/// Built from [`CountEvent`]s ([`from_events`](Self::from_events), `collect`, `extend`) or
/// filled field by field by a reader ([`push`](Self::push)); binned by
/// [`Binner::bin_columns`] and [`Series::add_columns`] exactly as the events themselves
/// would be by [`Binner::bin_event`] and [`Series::add_event`].
///
/// ```
/// use ffc_core::aggregate::{Binner, EventColumns};
/// use ffc_core::{Metric, PeopleType, Resolution, Zone};
/// let mut columns = EventColumns::new();
/// columns.push(30, Metric::In, PeopleType::Visitor);
/// columns.push(7_300, Metric::Out, PeopleType::Staff);
/// let mut cells = [[0u64; 4]; 2];
/// let mut binner = Binner::new(Resolution::Hour, Zone::UTC, 0).unwrap();
/// let mut refused = Vec::new();
/// let binned = binner.bin_columns(&mut cells, &columns, |i, _| refused.push(i));
/// assert_eq!((binned, refused), (1, vec![1])); // 7 300 s is in the third hour: not held
/// assert_eq!(cells[0], [1, 0, 0, 0]);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventColumns {
    ends: Vec<UnixSeconds>,
    // Each below 4: only `cell_of` writes them.
    cells: Vec<u8>,
}

impl EventColumns {
    /// No events.
    pub const fn new() -> Self {
        EventColumns {
            ends: Vec::new(),
            cells: Vec::new(),
        }
    }

    /// No events, with room for `n`.
    pub fn with_capacity(n: usize) -> Self {
        EventColumns {
            ends: Vec::with_capacity(n),
            cells: Vec::with_capacity(n),
        }
    }

    /// The binning columns of `events`, in order.
    pub fn from_events(events: &[CountEvent]) -> Self {
        let mut columns = Self::with_capacity(events.len());
        columns.extend(events);
        columns
    }

    /// Appends one crossing ending at `end`.
    #[inline]
    pub fn push(&mut self, end: UnixSeconds, metric: Metric, people: PeopleType) {
        self.ends.push(end);
        // `cell_of` is below 4, so the cast keeps it whole.
        self.cells.push(cell_of(metric, people) as u8);
    }

    /// Appends one event's end, metric and people type.
    #[inline]
    pub fn push_event(&mut self, event: &CountEvent) {
        self.push(event.end, event.metric, event.people_type);
    }

    /// Number of events.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The end instants, in order.
    pub fn ends(&self) -> &[UnixSeconds] {
        &self.ends
    }

    /// The [`CountCells`] index of each event (visitors in, visitors out, staff in, staff
    /// out: 0 to 3), in order.
    pub fn cells(&self) -> &[u8] {
        &self.cells
    }

    /// Each event as `(end, metric, people type)`, in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (UnixSeconds, Metric, PeopleType)> + '_ {
        self.ends.iter().zip(&self.cells).map(|(end, cell)| {
            let (metric, people) = crossing_of(*cell);
            (*end, metric, people)
        })
    }
}

/// The metric and people type of a cell index (the inverse of [`cell_of`]).
fn crossing_of(cell: u8) -> (Metric, PeopleType) {
    let metric = if cell & 1 == 0 {
        Metric::In
    } else {
        Metric::Out
    };
    let people = if cell & 2 == 0 {
        PeopleType::Visitor
    } else {
        PeopleType::Staff
    };
    (metric, people)
}

impl<'a> Extend<&'a CountEvent> for EventColumns {
    fn extend<I: IntoIterator<Item = &'a CountEvent>>(&mut self, events: I) {
        let events = events.into_iter();
        let (lower, _) = events.size_hint();
        self.ends.reserve(lower);
        self.cells.reserve(lower);
        for e in events {
            self.push_event(e);
        }
    }
}

impl<'a> FromIterator<&'a CountEvent> for EventColumns {
    fn from_iter<I: IntoIterator<Item = &'a CountEvent>>(events: I) -> Self {
        let mut columns = Self::new();
        columns.extend(events);
        columns
    }
}

impl Binner {
    /// Counts every event of `columns`, as [`bin_event`](Self::bin_event) on each would:
    /// an event outside the slice is refused with [`SeriesError::OutOfRange`], reported to
    /// `refused` with its index in the columns, and binning goes on. Returns how many were
    /// counted.
    ///
    /// Time-ordered columns are binned a run at a time: the events of one bucket are
    /// counted in registers and added to the slice once.
    pub fn bin_columns(
        &mut self,
        counts: &mut [CountCells],
        columns: &EventColumns,
        mut refused: impl FnMut(usize, SeriesError),
    ) -> usize {
        let (ends, cells) = (columns.ends(), columns.cells());
        let mut binned = 0;
        let mut i = 0;
        while let (Some(end), Some(cell)) = (ends.get(i), cells.get(i)) {
            let entering = !self.holds(*end);
            let index = if entering {
                self.index_of(*end)
            } else {
                Some(self.cached_index)
            };
            let slot = index.and_then(|index| counts.get_mut(index));
            let Some(slot) = slot else {
                refused(i, SeriesError::OutOfRange);
                i += 1;
                continue;
            };
            // A run pays off when long (a dense day), guessed on entering a bucket from the
            // event eight on; sparse events, a few a bucket, go one by one, which spares
            // them a run's mispredicted exits.
            if entering && ends.get(i + 8).is_some_and(|at| self.holds(*at)) {
                let run = self.run_length(ends.get(i..).unwrap_or_default());
                binned += add_run(slot, cells.get(i..i + run).unwrap_or_default());
                i += run;
                continue;
            }
            match slot.get_mut(usize::from(*cell)) {
                Some(count) => {
                    // A u64 counting crossings cannot wrap in any real lifetime.
                    *count = count.wrapping_add(1);
                    binned += 1;
                }
                None => refused(i, SeriesError::OutOfRange),
            }
            i += 1;
        }
        binned
    }

    /// Whether `at` is in the cached bucket.
    #[inline]
    fn holds(&self, at: UnixSeconds) -> bool {
        (at.wrapping_sub(self.cached_start) as u64) < self.length as u64
    }

    /// How many instants from the first of `ends` fall in the cached bucket, at least one
    /// (the first is `index_of`'s last argument: in the bucket, or refused alone).
    #[inline]
    fn run_length(&self, ends: &[UnixSeconds]) -> usize {
        let outside = |at: &UnixSeconds| !self.holds(*at);
        let mut n = 0;
        // Eight at a time, one branch per eight: a sorted run is hundreds long.
        for chunk in ends.chunks_exact(8) {
            if chunk.iter().fold(false, |out, at| out | outside(at)) {
                break;
            }
            n += 8;
        }
        let rest = ends.get(n..).unwrap_or_default();
        (n + rest.iter().position(outside).unwrap_or(rest.len())).max(1)
    }
}

/// Adds a run of cell indexes to one bucket's cells; returns how many it added.
#[inline]
fn add_run(slot: &mut CountCells, cells: &[u8]) -> usize {
    // Bit 0 of a cell is Out, bit 1 staff (`cell_of`); counting the set bits of eight
    // cells at once, as bytes of one word, gives the four counts with three multiplies.
    const LOW: u64 = 0x0101_0101_0101_0101;
    let (mut out, mut staff, mut staff_out) = (0u64, 0u64, 0u64);
    let mut chunks = cells.chunks_exact(8);
    for chunk in &mut chunks {
        let Ok(bytes) = <[u8; 8]>::try_from(chunk) else {
            continue;
        };
        let word = u64::from_le_bytes(bytes);
        let (bit0, bit1) = (word & LOW, (word >> 1) & LOW);
        // The byte-wise sum (at most 8) lands in the top byte.
        out += bit0.wrapping_mul(LOW) >> 56;
        staff += bit1.wrapping_mul(LOW) >> 56;
        staff_out += (bit0 & bit1).wrapping_mul(LOW) >> 56;
    }
    for cell in chunks.remainder() {
        out += u64::from(cell & 1);
        staff += u64::from((cell >> 1) & 1);
        staff_out += u64::from(cell & (cell >> 1) & 1);
    }
    // Only `cell_of` writes cells, so each is below 4 and the rest are visitors in.
    let n = [
        cells.len() as u64 - (out + staff - staff_out),
        out - staff_out,
        staff - staff_out,
        staff_out,
    ];
    for (slot, n) in slot.iter_mut().zip(n) {
        // A u64 counting crossings cannot wrap in any real lifetime.
        *slot = slot.wrapping_add(n);
    }
    cells.len()
}

/// The most buckets [`Series::add_columns`] bins densely beyond the number of events: a
/// day of minutes, so that a small batch still takes the dense path.
const DENSE_SLACK: usize = 1_440;

impl Series {
    /// Counts every event of `columns` in the bucket of its end instant, as
    /// [`add_event`](Self::add_event) on each would (same buckets, same counts, same
    /// revised flags).
    ///
    /// With a fixed-length resolution the events are binned by a [`Binner`] into a dense
    /// slice first, and each bucket is looked up once instead of once an event. That holds
    /// the buckets to be `first + i × length` apart: always so in a fixed-offset zone; in an
    /// IANA zone each bucket that received events is checked to start where the series
    /// starts it at both its ends (an offset change that is no multiple of the length, as
    /// Lord Howe's 30 minutes against an hour, fails it). When the check fails, the
    /// resolution is a day or a month, or the events span more buckets than there are events
    /// plus a day of minutes, the events are counted one by one.
    pub fn add_columns(&mut self, columns: &EventColumns) {
        if let Some(dense) = self.bin_dense(columns) {
            for (start, cells) in dense.buckets {
                self.slot(start).counts.merge(&Counts::from(cells));
            }
            self.add_one_by_one(&dense.stray);
        } else {
            self.add_one_by_one(columns);
        }
    }

    fn add_one_by_one(&mut self, columns: &EventColumns) {
        for (end, metric, people) in columns.iter() {
            let start = self.bucket_start(end);
            self.slot(start).counts.add(metric, people, 1);
        }
    }

    /// The dense binning of [`add_columns`](Self::add_columns), or `None` where it does not
    /// hold; changes nothing.
    fn bin_dense(&self, columns: &EventColumns) -> Option<Dense> {
        let length = self.resolution().fixed_seconds()?;
        let first = columns.ends.iter().min().copied()?;
        let last = columns.ends.iter().max().copied()?;
        // Bucket 0 holds `first`; the last index is at most (last - first) / length + 1.
        let buckets = usize::try_from(last.checked_sub(first)? / i64::from(length))
            .ok()?
            .checked_add(2)
            .filter(|n| *n <= columns.len().saturating_add(DENSE_SLACK))?;
        let mut binner = Binner::new(self.resolution(), self.zone(), first).ok()?;
        let mut cells: Vec<CountCells> = alloc::vec![[0; 4]; buckets];
        // None in practice (the slice was sized to hold every event); kept all the same.
        let mut stray = EventColumns::new();
        binner.bin_columns(&mut cells, columns, |i, _| {
            if let (Some(end), Some(cell)) = (columns.ends.get(i), columns.cells.get(i)) {
                stray.ends.push(*end);
                stray.cells.push(*cell);
            }
        });
        let length = i64::from(length);
        let fixed = matches!(self.zone(), Zone::Fixed(_));
        let mut out = Vec::new();
        let mut start = binner.origin();
        for cells in cells {
            if cells != [0; 4] {
                let aligned = fixed
                    || (self.bucket_start(start) == start
                        && self.bucket_start(start.checked_add(length - 1)?) == start);
                if !aligned {
                    return None;
                }
                out.push((start, cells));
            }
            start = start.checked_add(length)?;
        }
        Some(Dense {
            buckets: out,
            stray,
        })
    }
}

/// What [`Series::bin_dense`] hands back: the non-empty buckets by start, and the events the
/// slice did not hold.
struct Dense {
    buckets: Vec<(UnixSeconds, CountCells)>,
    stray: EventColumns,
}

#[cfg(test)]
mod tests;
