//! Where each (store, hour) bucket of [`crate::aggregate::HourlySales`] is, once rows arrive
//! out of order: for each store, a dense run of hour slots indexed by the hour itself, so a
//! row finds its bucket with one subtraction and one load, no hash and no probe.
//!
//! A month of one store is 744 slots of 4 bytes (3 KiB), so the slots of a few hundred
//! stores stay in the CPU cache while the buckets they point to do not have to. A store
//! whose hours are spread too thin for a dense run (a few rows years apart) keeps its
//! buckets in a small map instead, so memory stays proportional to the buckets.
//!
//! The index also gives the buckets back in (store, hour) order without a sort
//! ([`HourIndex::in_order`]): walking a dense run is walking the hours in order.

/// Hour slots a store may always have, whatever its bucket count: two months.
const MIN_DENSE_SPAN: usize = 62 * 24;
/// Beyond [`MIN_DENSE_SPAN`], slots allowed per bucket of the store (4 bytes each, against
/// the bucket's own 40): a store that needs more moves to a map.
const SLOTS_PER_BUCKET: usize = 16;

/// The buckets of one store, by hour number (hours since 1970-01-01 00:00, wall clock).
#[derive(Debug, Clone)]
enum StoreHours {
    /// `slots[h - first]` is the bucket number of hour `h` plus one (0: no bucket yet).
    Dense {
        first: i64,
        slots: Vec<u32>,
        buckets: usize,
    },
    /// Hours too far apart for a dense run.
    Sparse(foldhash::HashMap<i64, usize>),
}

impl Default for StoreHours {
    fn default() -> Self {
        StoreHours::Dense {
            first: 0,
            slots: Vec::new(),
            buckets: 0,
        }
    }
}

/// Bucket numbers by store index and hour number.
#[derive(Debug, Clone, Default)]
pub(crate) struct HourIndex {
    stores: Vec<StoreHours>,
}

impl HourIndex {
    /// The number of the bucket of (`store`, `hour`); if there is none, `next` is recorded as
    /// its number. The flag says whether it was new.
    #[inline]
    pub(crate) fn find_or_insert(&mut self, store: usize, hour: i64, next: usize) -> (usize, bool) {
        if store >= self.stores.len() {
            self.stores.resize_with(store + 1, StoreHours::default);
        }
        let Some(hours) = self.stores.get_mut(store) else {
            return (next, true);
        };
        if let StoreHours::Dense {
            first,
            slots,
            buckets,
        } = hours
        {
            let at = hour
                .checked_sub(*first)
                .and_then(|d| usize::try_from(d).ok());
            if let Some(slot) = at.and_then(|i| slots.get_mut(i)) {
                if *slot != 0 {
                    return (*slot as usize - 1, false);
                }
                if let Ok(value) = u32::try_from(next + 1) {
                    *slot = value;
                    *buckets += 1;
                    return (next, true);
                }
            }
        }
        hours.insert_slow(hour, next)
    }

    /// Every bucket number, by store index and then hour.
    pub(crate) fn in_order(&self) -> impl Iterator<Item = usize> + '_ {
        self.stores.iter().flat_map(|hours| {
            let numbers: Vec<usize> = match hours {
                StoreHours::Dense { slots, .. } => slots
                    .iter()
                    .filter(|&&s| s != 0)
                    .map(|&s| s as usize - 1)
                    .collect(),
                StoreHours::Sparse(map) => {
                    let mut by_hour: Vec<(i64, usize)> = map.iter().map(|(&h, &n)| (h, n)).collect();
                    by_hour.sort_unstable();
                    by_hour.into_iter().map(|(_, n)| n).collect()
                }
            };
            numbers
        })
    }
}

impl StoreHours {
    /// A new hour outside the dense run (grown to cover it when that stays within bounds,
    /// else the store moves to a map), or any hour of a sparse store.
    #[cold]
    fn insert_slow(&mut self, hour: i64, next: usize) -> (usize, bool) {
        if let StoreHours::Dense {
            first,
            slots,
            buckets,
        } = self
        {
            if let Some((new_first, new_len)) = grown_span(*first, slots.len(), *buckets, hour) {
                regrow(slots, *first, new_first, new_len);
                *first = new_first;
            }
            let at = hour
                .checked_sub(*first)
                .and_then(|d| usize::try_from(d).ok());
            let value = u32::try_from(next + 1).ok();
            if let (Some(slot), Some(value)) = (at.and_then(|i| slots.get_mut(i)), value) {
                if *slot != 0 {
                    return (*slot as usize - 1, false);
                }
                *slot = value;
                *buckets += 1;
                return (next, true);
            }
            *self = StoreHours::Sparse(self.to_map());
        }
        match self {
            StoreHours::Sparse(map) => match map.entry(hour) {
                std::collections::hash_map::Entry::Occupied(e) => (*e.get(), false),
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(next);
                    (next, true)
                }
            },
            // Not reached: a dense store either answered or became sparse above.
            StoreHours::Dense { .. } => (next, true),
        }
    }

    /// The buckets of a dense store as a map.
    fn to_map(&self) -> foldhash::HashMap<i64, usize> {
        match self {
            StoreHours::Dense { first, slots, .. } => (0i64..)
                .zip(slots)
                .filter(|(_, &s)| s != 0)
                .map(|(i, &s)| (first + i, s as usize - 1))
                .collect(),
            StoreHours::Sparse(map) => map.clone(),
        }
    }
}

/// The dense run that covers `hour` as well as the current one (`first`, `len`), with room
/// to grow on the side it grew (so a store's hours arriving in any order regrow the run
/// only a few times); `None` when that would be more slots than the store may have.
fn grown_span(first: i64, len: usize, buckets: usize, hour: i64) -> Option<(i64, usize)> {
    let limit = MIN_DENSE_SPAN.max(buckets.saturating_add(1).saturating_mul(SLOTS_PER_BUCKET));
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
    // Slack: a day at least, or half the span, on the side that grew; never past the limit.
    let slack = (needed / 2).max(24).min(limit_i - needed);
    let (lo, hi) = if len == 0 {
        // A first hour: room for the rest of its month either way.
        let before = slack / 2;
        (lo.checked_sub(before)?, hi.checked_add(slack - before)?)
    } else if hour < first {
        (lo.checked_sub(slack)?, hi)
    } else {
        (lo, hi.checked_add(slack)?)
    };
    Some((lo, usize::try_from(hi.checked_sub(lo)?).ok()?))
}

/// Moves the slots of a run that started at `old_first` into one that starts at
/// `new_first` and is `new_len` long (covering the old one).
fn regrow(slots: &mut Vec<u32>, old_first: i64, new_first: i64, new_len: usize) {
    let shift = old_first
        .checked_sub(new_first)
        .and_then(|d| usize::try_from(d).ok())
        .unwrap_or(0);
    let mut grown = vec![0u32; new_len];
    if let Some(dest) = grown.get_mut(shift..shift + slots.len()) {
        dest.copy_from_slice(slots);
    }
    *slots = grown;
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The index answers as a map from (store, hour) to the first number given would:
        /// dense and sparse stores, hours near and decades apart, in any order; and gives
        /// every bucket back in (store, hour) order.
        #[test]
        fn behaves_as_a_map(
            keys in proptest::collection::vec(
                (0usize..5, prop_oneof![0i64..2000, -1_000_000i64..1_000_000, Just(i64::MIN), Just(i64::MAX)]),
                0..400,
            ),
        ) {
            let mut index = HourIndex::default();
            let mut model = std::collections::BTreeMap::new();
            for (store, hour) in keys {
                let next = model.len();
                let want = match model.get(&(store, hour)) {
                    Some(&n) => (n, false),
                    None => {
                        model.insert((store, hour), next);
                        (next, true)
                    }
                };
                prop_assert_eq!(index.find_or_insert(store, hour, next), want);
            }
            let order: Vec<usize> = index.in_order().collect();
            let want: Vec<usize> = model.values().copied().collect();
            prop_assert_eq!(order, want);
        }
    }
}
