//! The (store, hour) buckets of the hourly sales (`HourlySales`) once rows arrive out of
//! order: for each store a dense run of cells indexed by the hour itself, so a row finds
//! its bucket with one subtraction and one load — no hash, no probe, and no second load
//! through a table of bucket numbers.
//!
//! A store whose hours are spread too thin for a dense run (a few rows years apart, or the
//! first rows of a store in a shuffled file) keeps its cells in a small map until they are
//! dense enough, so memory stays within a few cells per bucket. Walking a dense run is
//! walking the hours in order, so the buckets come back in (store, hour) order without a
//! sort ([`HourIndex::iter_sorted`]).
//!
//! The stores of one file share one stretch of time, so a store's dense run is made to cover
//! the hours every store has reached so far whenever the index's budget allows: a shuffled
//! file then gives each store one run from its first rows, rather than a map that fills
//! slowly and runs that grow a few hours at a time. The budget is a fixed allowance plus a
//! few cells per bucket of the whole index, so memory stays bounded by the buckets all the
//! same.

/// Cells a store's dense run may hold whatever its bucket count (two days).
const MIN_DENSE_SPAN: usize = 48;
/// A dense run may hold up to this many cells per bucket before it becomes a map...
const MAX_CELLS_PER_BUCKET: usize = 8;
/// ...and a map becomes a dense run once it needs at most this many (hysteresis, so a store
/// never goes back and forth at every row).
const DENSIFY_CELLS_PER_BUCKET: usize = 4;

/// Cells every dense run together may hold beyond [`MAX_CELLS_PER_BUCKET`] per bucket of the
/// whole index (2 MiB of 32-byte cells): room for the runs of a file's first rows.
const FREE_CELLS: usize = 1 << 16;

/// A cell: empty until a bucket is there.
pub(crate) trait Cell: Copy + Default {
    /// Whether a bucket is in the cell.
    fn occupied(&self) -> bool;
}

/// Where a cell is, as [`HourIndex::find_or_insert`] found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    /// Store index, position in its dense run.
    Dense(usize, usize),
    /// Store index, hour number.
    Sparse(usize, i64),
}

/// The cells of one store, by hour number (hours since 1970-01-01 00:00, wall clock).
#[derive(Debug, Clone)]
enum StoreHours<C> {
    /// `cells[h - first]` is the cell of hour `h`; `buckets` of them are occupied.
    Dense {
        first: i64,
        cells: Vec<C>,
        buckets: usize,
    },
    /// Hours too far apart for a dense run; `lo..=hi` spans them.
    Sparse {
        map: foldhash::HashMap<i64, C>,
        lo: i64,
        hi: i64,
    },
    /// A sparse store's occupied cells in hour order, once sealed ([`HourIndex::seal`]).
    Sorted(Vec<(i64, C)>),
}

impl<C> Default for StoreHours<C> {
    fn default() -> Self {
        StoreHours::Dense {
            first: 0,
            cells: Vec::new(),
            buckets: 0,
        }
    }
}

/// Cells by store index and hour number.
#[derive(Debug, Clone, Default)]
pub(crate) struct HourIndex<C> {
    stores: Vec<StoreHours<C>>,
    budget: Budget,
}

/// What the dense runs hold in all, the buckets of the whole index, and the hours the
/// index has reached (the stretch a new run is made to cover).
#[derive(Debug, Clone, Copy, Default)]
struct Budget {
    /// Cells in all dense runs.
    cells: usize,
    /// Buckets in the whole index.
    buckets: usize,
    /// The lowest and highest hour seen outside a dense run; `None` before the first.
    hours: Option<(i64, i64)>,
}

impl Budget {
    /// Cells the dense runs may still take on top of what they hold.
    fn spare(&self) -> usize {
        self.buckets
            .saturating_mul(MAX_CELLS_PER_BUCKET)
            .saturating_add(FREE_CELLS)
            .saturating_sub(self.cells)
    }

    /// Widens the stretch of hours reached to take in `hour`.
    fn reach(&mut self, hour: i64) {
        self.hours = Some(match self.hours {
            Some((lo, hi)) => (lo.min(hour), hi.max(hour)),
            None => (hour, hour),
        });
    }

    /// A run covering `lo..hi` and the stretch of hours reached, if the budget has room
    /// for it on top of a run of `len` cells that it replaces: its first hour and length.
    fn shared_span(&self, lo: i64, hi: i64, len: usize) -> Option<(i64, usize)> {
        let (reached_lo, reached_hi) = self.hours?;
        let lo = lo.min(reached_lo);
        let hi = hi.max(reached_hi.checked_add(1)?);
        let span = usize::try_from(hi.checked_sub(lo)?).ok()?;
        (span <= len.saturating_add(self.spare())).then_some((lo, span))
    }
}

impl<C: Cell> HourIndex<C> {
    /// The place of the cell of (`store`, `hour`), created empty if there was none; the flag
    /// says whether the cell was unoccupied.
    #[inline]
    pub(crate) fn find_or_insert(&mut self, store: usize, hour: i64) -> (Place, bool) {
        if store >= self.stores.len() {
            self.stores.resize_with(store + 1, StoreHours::default);
        }
        if let Some(StoreHours::Dense { first, cells, .. }) = self.stores.get(store) {
            let at = hour
                .checked_sub(*first)
                .and_then(|d| usize::try_from(d).ok());
            if let Some((i, cell)) = at.and_then(|i| Some((i, cells.get(i)?))) {
                return (Place::Dense(store, i), !cell.occupied());
            }
        }
        let Some(hours) = self.stores.get_mut(store) else {
            return (Place::Sparse(store, hour), true);
        };
        hours.insert_slow(store, hour, &mut self.budget)
    }

    /// The cell at `place`.
    #[inline]
    pub(crate) fn get_mut(&mut self, place: Place) -> Option<&mut C> {
        match place {
            Place::Dense(store, i) => match self.stores.get_mut(store)? {
                StoreHours::Dense { cells, .. } => cells.get_mut(i),
                StoreHours::Sparse { .. } | StoreHours::Sorted(_) => None,
            },
            Place::Sparse(store, hour) => match self.stores.get_mut(store)? {
                StoreHours::Sparse { map, .. } => map.get_mut(&hour),
                StoreHours::Dense { .. } | StoreHours::Sorted(_) => None,
            },
        }
    }

    /// Counts a cell at `place` as occupied from now on (the caller just filled it). Keeps
    /// the bucket count of a dense run, which bounds its growth.
    #[inline]
    pub(crate) fn mark_occupied(&mut self, place: Place) {
        self.budget.buckets += 1;
        if let Place::Dense(store, _) = place {
            if let Some(StoreHours::Dense { buckets, .. }) = self.stores.get_mut(store) {
                *buckets += 1;
            }
        }
    }

    /// How many cells are occupied (marked with [`HourIndex::mark_occupied`]).
    pub(crate) fn occupied(&self) -> usize {
        self.budget.buckets
    }

    /// Asks the CPU to fetch the cell of (`store`, `hour`) into its caches, if the cell is
    /// in a dense run (a hint only: nothing is read or created).
    #[inline]
    pub(crate) fn prefetch(&self, store: usize, hour: i64) {
        if let Some(StoreHours::Dense { first, cells, .. }) = self.stores.get(store) {
            let at = hour
                .checked_sub(*first)
                .and_then(|d| usize::try_from(d).ok());
            if let Some(cell) = at.and_then(|i| cells.get(i)) {
                prefetch(cell);
            }
        }
    }

    /// Puts every sparse store's occupied cells in hour order, for
    /// [`HourIndex::iter_sorted`]. Nothing else moves: the dense runs are in order already.
    pub(crate) fn seal(&mut self) {
        for hours in &mut self.stores {
            if let StoreHours::Sparse { map, .. } = hours {
                let mut by_hour: Vec<(i64, C)> =
                    map.drain().filter(|(_, c)| c.occupied()).collect();
                by_hour.sort_unstable_by_key(|(h, _)| *h);
                *hours = StoreHours::Sorted(by_hour);
            }
        }
    }

    /// Every occupied cell as (store, hour number, cell), by store and then hour, once
    /// [`HourIndex::seal`] has ordered the sparse stores (a store still sparse gives none).
    pub(crate) fn iter_sorted(&self) -> impl Iterator<Item = (usize, i64, &C)> + '_ {
        self.stores.iter().enumerate().flat_map(|(store, hours)| {
            let (first, dense, sorted): (i64, &[C], &[(i64, C)]) = match hours {
                StoreHours::Dense { first, cells, .. } => (*first, cells, &[]),
                StoreHours::Sorted(cells) => (0, &[], cells),
                StoreHours::Sparse { .. } => (0, &[], &[]),
            };
            // Up to i64::MAX inclusive: a run may end at that hour, and an open range from
            // `first` would step past it (a debug build's overflow panic) to yield it.
            (first..=i64::MAX)
                .zip(dense)
                .chain(sorted.iter().map(|(h, c)| (*h, c)))
                .filter(|(_, c)| c.occupied())
                .map(move |(h, c)| (store, h, c))
        })
    }
}

impl<C: Cell> StoreHours<C> {
    /// A new hour outside the dense run (grown to cover it when that stays within bounds,
    /// else the store moves to a map), or any hour of a sparse store (which becomes a dense
    /// run once its hours are close enough, or the budget has room for one).
    #[cold]
    fn insert_slow(&mut self, store: usize, hour: i64, budget: &mut Budget) -> (Place, bool) {
        budget.reach(hour);
        if let StoreHours::Sorted(cells) = self {
            // Sealed, then added to after all: a map again.
            let lo = cells.first().map_or(hour, |c| c.0);
            let hi = cells.last().map_or(hour, |c| c.0);
            let map = std::mem::take(cells).into_iter().collect();
            *self = StoreHours::Sparse { map, lo, hi };
        }
        if let StoreHours::Dense {
            first,
            cells,
            buckets,
        } = self
        {
            let old_len = cells.len();
            let grown = shared_growth(*first, old_len, hour, budget)
                .or_else(|| grown_span(*first, old_len, *buckets, hour));
            if let Some((new_first, new_len)) = grown {
                regrow(cells, *first, new_first, new_len);
                budget.cells = budget.cells.saturating_sub(old_len).saturating_add(new_len);
                *first = new_first;
                if let Some(i) = hour
                    .checked_sub(*first)
                    .and_then(|d| usize::try_from(d).ok())
                    .filter(|i| *i < cells.len())
                {
                    return (Place::Dense(store, i), true);
                }
            }
            budget.cells = budget.cells.saturating_sub(cells.len());
            *self = self.to_sparse();
        }
        let StoreHours::Sparse { map, lo, hi } = self else {
            // Not reached: a dense store either answered or became sparse above.
            return (Place::Sparse(store, hour), true);
        };
        let new = !map.get(&hour).is_some_and(Cell::occupied);
        map.entry(hour).or_default();
        *lo = (*lo).min(hour);
        *hi = (*hi).max(hour);
        let (lo, hi, len) = (*lo, *hi, map.len());
        let run = dense_span(lo, hi, len)
            .map(|span| (lo, span))
            .or_else(|| budget.shared_span(lo, hi.checked_add(1)?, 0));
        if let Some((first, span)) = run {
            self.densify(first, span);
            budget.cells = budget.cells.saturating_add(span);
            if let Some(i) = hour
                .checked_sub(first)
                .and_then(|d| usize::try_from(d).ok())
            {
                return (Place::Dense(store, i), new);
            }
        }
        (Place::Sparse(store, hour), new)
    }

    /// The cells of a dense store as a map.
    fn to_sparse(&self) -> Self {
        match self {
            StoreHours::Dense { first, cells, .. } => {
                let map: foldhash::HashMap<i64, C> = (0i64..)
                    .zip(cells)
                    .filter(|(_, c)| c.occupied())
                    .map(|(i, c)| (first + i, *c))
                    .collect();
                let lo = map.keys().copied().min().unwrap_or(0);
                let hi = map.keys().copied().max().unwrap_or(0);
                StoreHours::Sparse { map, lo, hi }
            }
            StoreHours::Sparse { .. } | StoreHours::Sorted(_) => self.clone(),
        }
    }

    /// A sparse store's cells as a dense run from `lo`, `span` long.
    fn densify(&mut self, lo: i64, span: usize) {
        let StoreHours::Sparse { map, .. } = self else {
            return;
        };
        let mut cells = vec![C::default(); span];
        let mut buckets = 0usize;
        for (&h, &c) in map.iter() {
            let slot = h
                .checked_sub(lo)
                .and_then(|d| usize::try_from(d).ok())
                .and_then(|i| cells.get_mut(i));
            if let Some(slot) = slot {
                *slot = c;
                buckets += usize::from(c.occupied());
            }
        }
        *self = StoreHours::Dense {
            first: lo,
            cells,
            buckets,
        };
    }
}

/// Fetches the cache line of `value` (x86's `prefetcht0`, through safe_arch's safe wrapper).
#[cfg(all(
    any(target_arch = "x86", target_arch = "x86_64"),
    target_feature = "sse"
))]
#[inline(always)]
fn prefetch<T>(value: &T) {
    safe_arch::prefetch_t0(value);
}

/// No prefetch instruction on this target: the hint is dropped.
#[cfg(not(all(
    any(target_arch = "x86", target_arch = "x86_64"),
    target_feature = "sse"
)))]
#[inline(always)]
fn prefetch<T>(_value: &T) {}

/// The length of a dense run over hours `lo..=hi` for a store with `len` cells, when that
/// is few enough cells per bucket to leave the map.
fn dense_span(lo: i64, hi: i64, len: usize) -> Option<usize> {
    let span = usize::try_from(hi.checked_sub(lo)?.checked_add(1)?).ok()?;
    let limit = MIN_DENSE_SPAN.max(len.saturating_mul(DENSIFY_CELLS_PER_BUCKET));
    (span <= limit).then_some(span)
}

/// A run of a dense store (`first`, `len` cells) grown to take in `hour` and the stretch of
/// hours the whole index has reached, with room to grow on the side `hour` is (a day, or a
/// quarter of the span), if the budget has room for it; else as much without the room.
fn shared_growth(first: i64, len: usize, hour: i64, budget: &Budget) -> Option<(i64, usize)> {
    let (lo, hi) = if len == 0 {
        (hour, hour.checked_add(1)?)
    } else {
        let end = first.checked_add(i64::try_from(len).ok()?)?;
        (first.min(hour), end.max(hour.checked_add(1)?))
    };
    let (lo, span) = budget.shared_span(lo, hi, len)?;
    let slack = i64::try_from((span / 4).max(24)).ok()?;
    let roomy = if hour < first {
        budget.shared_span(
            lo.checked_sub(slack)?,
            lo.checked_add(i64::try_from(span).ok()?)?,
            len,
        )
    } else {
        budget.shared_span(
            lo,
            lo.checked_add(i64::try_from(span).ok()?)?
                .checked_add(slack)?,
            len,
        )
    };
    Some(roomy.unwrap_or((lo, span)))
}

/// The dense run that covers `hour` as well as the current one (`first`, `len`), with room
/// to grow on the side it grew (so hours arriving in any order regrow the run only a few
/// times); `None` when that would be more cells than the store may have.
fn grown_span(first: i64, len: usize, buckets: usize, hour: i64) -> Option<(i64, usize)> {
    let limit = MIN_DENSE_SPAN.max(
        buckets
            .saturating_add(1)
            .saturating_mul(MAX_CELLS_PER_BUCKET),
    );
    let limit_i = i64::try_from(limit).ok()?;
    let (lo, hi) = if len == 0 {
        (hour, hour.checked_add(1)?)
    } else {
        let end = first.checked_add(i64::try_from(len).ok()?)?;
        (first.min(hour), end.max(hour.checked_add(1)?))
    };
    let needed = hi.checked_sub(lo)?;
    if needed > limit_i {
        return None;
    }
    // Slack: a day at least, or a quarter of the span, on the side that grew (around a
    // first hour, both sides); never past the limit.
    let slack = (needed / 4).max(24).min(limit_i - needed);
    let (lo, hi) = if len == 0 {
        let before = slack / 2;
        (lo.checked_sub(before)?, hi.checked_add(slack - before)?)
    } else if hour < first {
        (lo.checked_sub(slack)?, hi)
    } else {
        (lo, hi.checked_add(slack)?)
    };
    Some((lo, usize::try_from(hi.checked_sub(lo)?).ok()?))
}

/// Moves the cells of a run that started at `old_first` into one that starts at
/// `new_first` and is `new_len` long (covering the old one).
fn regrow<C: Cell>(cells: &mut Vec<C>, old_first: i64, new_first: i64, new_len: usize) {
    let shift = old_first
        .checked_sub(new_first)
        .and_then(|d| usize::try_from(d).ok())
        .unwrap_or(0);
    // Each cell written once: the empty ones before, the old run, the empty ones after.
    let mut grown = Vec::with_capacity(new_len);
    grown.resize(shift.min(new_len), C::default());
    if shift + cells.len() <= new_len {
        grown.extend_from_slice(cells);
    }
    grown.resize(new_len, C::default());
    *cells = grown;
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A cell holding a number (0: empty).
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
    struct Number(usize);

    impl Cell for Number {
        fn occupied(&self) -> bool {
            self.0 != 0
        }
    }

    /// A dense run that ends at the last hour there is still gives its cells back (the
    /// shrunk case `behaves_as_a_map` found: an iterator stepping past i64::MAX).
    #[test]
    fn a_run_ending_at_the_last_hour_iterates() {
        let mut index: HourIndex<Number> = HourIndex::default();
        let mut next = 0;
        for (i, key) in [(0, i64::MAX), (1, 0), (1, 0), (0, i64::MAX)]
            .into_iter()
            .enumerate()
        {
            if i == 3 {
                index.seal();
            }
            let (place, new) = index.find_or_insert(key.0, key.1);
            if new {
                next += 1;
                if let Some(cell) = index.get_mut(place) {
                    *cell = Number(next);
                }
                index.mark_occupied(place);
            }
        }
        index.seal();
        let cells: Vec<(usize, i64, usize)> =
            index.iter_sorted().map(|(s, h, c)| (s, h, c.0)).collect();
        assert_eq!(cells, [(0, i64::MAX, 1), (1, 0, 2)]);
    }

    proptest! {
        /// The index answers as a map from (store, hour) would: dense and sparse stores,
        /// hours near and decades apart, in any order; and gives every cell back in
        /// (store, hour) order.
        #[test]
        fn behaves_as_a_map(
            seal_at in 0usize..600,
            keys in proptest::collection::vec(
                (0usize..5, prop_oneof![
                    4 => 0i64..2000,
                    1 => -1_000_000i64..1_000_000,
                    1 => Just(i64::MIN),
                    1 => Just(i64::MAX),
                ]),
                0..600,
            ),
        ) {
            let mut index: HourIndex<Number> = HourIndex::default();
            let mut model = std::collections::BTreeMap::new();
            for (i, (store, hour)) in keys.into_iter().enumerate() {
                // Sealing halfway (as a reader may before more rows) changes no answer.
                if i == seal_at {
                    index.seal();
                }
                let next = model.len() + 1;
                let (place, new) = index.find_or_insert(store, hour);
                let want = *model.entry((store, hour)).or_insert(next);
                prop_assert_eq!(new, want == next);
                let cell = index.get_mut(place);
                prop_assert!(cell.is_some());
                if let Some(cell) = cell {
                    if new {
                        *cell = Number(next);
                    }
                    prop_assert_eq!(cell.0, want);
                }
                if new {
                    index.mark_occupied(place);
                }
            }
            index.seal();
            let order: Vec<(usize, i64, usize)> =
                index.iter_sorted().map(|(s, h, c)| (s, h, c.0)).collect();
            let want: Vec<(usize, i64, usize)> =
                model.into_iter().map(|((s, h), n)| (s, h, n)).collect();
            prop_assert_eq!(order, want);
        }
    }
}
