//! The hourly In/Out history a counter serves over BACnet: `In-C-X` and `Out-C-X`, the
//! counts of the hour X hours before the current hour, for X = 0..47.
//!
//! [`HourlyRing48`] keeps exactly those 96 numbers in a fixed array (no allocator). Time
//! only comes in as arguments: [`HourlyRing::advance_to`] moves the current hour forward,
//! zeroing every hour it skips (a counter that was off for three hours serves zeros for
//! them, and one off for two days serves all zeros), and [`HourlyRing::record`] adds counts
//! to the hour an event ended in.
//!
//! Hours align in the local time of the [`Zone`] given at construction, like every other
//! bucket in ffc (`Zone::UTC` for UTC hours). For whole-hour offsets that is the same as
//! UTC alignment; for offsets such as +05:30 the hours start at hh:30 UTC, as the site's
//! clock shows them. A DST change moves the offset by a whole hour, so consecutive local
//! hours stay 3,600 s apart and X keeps counting real elapsed hours.
//!
//! ```
//! use ffc_core::ring::HourlyRing48;
//! use ffc_core::{Metric, Zone};
//!
//! let mut ring = HourlyRing48::new(Zone::UTC);
//! let t = 1_700_000_000; // 2023-11-14 22:13:20 UTC
//! ring.record(Metric::In, t, 3)?;
//! ring.record(Metric::Out, t + 60, 1)?;
//! assert_eq!(ring.value(Metric::In, 0), Some(3));
//!
//! ring.advance_to(t + 2 * 3600); // two hours later
//! assert_eq!(ring.value(Metric::In, 0), Some(0)); // the current hour is new
//! assert_eq!(ring.value(Metric::In, 2), Some(3)); // In-C-2
//! assert_eq!(ring.value(Metric::Out, 2), Some(1)); // Out-C-2
//! assert_eq!(ring.value(Metric::In, 48), None); // only 0..48
//!
//! ring.advance_to(t + 100 * 3600); // off for days: everything is zero
//! assert!((0..48).all(|x| ring.value(Metric::In, x) == Some(0)));
//! # Ok::<(), ffc_core::ring::OutOfWindow>(())
//! ```

use core::fmt;

use crate::model::{CountEvent, Metric};
use crate::time::{Resolution, UnixSeconds, Zone};

const HOUR: i64 = 3_600;

/// An event too old for the ring: its hour is `hours_back` hours before the current hour,
/// at least the ring's length, so no `In-C-X` shows it any more. Nothing was recorded;
/// the caller can ignore it (BACnet never serves it) or count it elsewhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct OutOfWindow {
    /// How many hours before the current hour the event's hour lies.
    pub hours_back: i64,
}

impl fmt::Display for OutOfWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "event {} hours before the current hour is outside the hourly ring; not recorded",
            self.hours_back
        )
    }
}

impl core::error::Error for OutOfWindow {}

/// The last `H` hours of In and Out counts; see the [module docs](self).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HourlyRing<const H: usize> {
    /// `counts[m][slot]`, m = 0 for In and 1 for Out; `slot == head` is the current hour,
    /// `head - x` (mod H) the hour x hours before it.
    counts: [[u32; H]; 2],
    head: usize,
    /// UTC start of the current hour; `None` before the first time is seen.
    current: Option<UnixSeconds>,
    zone: Zone,
}

/// The 48-hour ring behind BACnet's `In-C-X` / `Out-C-X` (X = 0..47).
pub type HourlyRing48 = HourlyRing<48>;

const fn metric_row(metric: Metric) -> usize {
    match metric {
        Metric::In => 0,
        Metric::Out => 1,
    }
}

impl<const H: usize> HourlyRing<H> {
    /// All zeros, hours aligned in `zone`; the current hour is set by the first
    /// [`advance_to`](Self::advance_to) or [`record`](Self::record).
    pub const fn new(zone: Zone) -> Self {
        const { assert!(H > 0, "an hourly ring needs at least one hour") };
        HourlyRing {
            counts: [[0; H]; 2],
            head: 0,
            current: None,
            zone,
        }
    }

    /// The zone hours align in.
    pub const fn zone(&self) -> Zone {
        self.zone
    }

    /// UTC start of the current hour (X = 0), once a time has been seen.
    pub const fn current_hour(&self) -> Option<UnixSeconds> {
        self.current
    }

    fn hour_of(&self, utc: UnixSeconds) -> UnixSeconds {
        Resolution::Hour.bucket_start(utc, &self.zone)
    }

    /// Makes the hour holding `now` the current one. Every hour between the old current
    /// hour and the new one starts at zero; advancing by `H` hours or more zeroes all.
    /// A `now` in or before the current hour changes nothing (clocks can step back; the
    /// history does not).
    pub fn advance_to(&mut self, now: UnixSeconds) {
        let hour = self.hour_of(now);
        let Some(current) = self.current else {
            self.current = Some(hour);
            return;
        };
        if hour <= current {
            return;
        }
        let steps = (hour - current).div_euclid(HOUR);
        if steps >= H as i64 {
            self.counts = [[0; H]; 2];
        } else {
            for _ in 0..steps {
                self.head = (self.head + 1) % H;
                for row in &mut self.counts {
                    if let Some(slot) = row.get_mut(self.head) {
                        *slot = 0;
                    }
                }
            }
        }
        self.current = Some(hour);
    }

    /// Adds `count` to `metric` in the hour holding `at`, first advancing to that hour if it
    /// is later than the current one. Saturates at `u32::MAX`. An `at` `H` or more hours
    /// before the current hour is refused ([`OutOfWindow`]).
    pub fn record(
        &mut self,
        metric: Metric,
        at: UnixSeconds,
        count: u32,
    ) -> Result<(), OutOfWindow> {
        self.advance_to(at);
        let hour = self.hour_of(at);
        let current = self.current.unwrap_or(hour);
        let hours_back = (current - hour).div_euclid(HOUR);
        if hours_back >= H as i64 {
            return Err(OutOfWindow { hours_back });
        }
        // 0 <= hours_back < H here.
        let slot = (self.head + H - hours_back as usize) % H;
        if let Some(value) = self
            .counts
            .get_mut(metric_row(metric))
            .and_then(|row| row.get_mut(slot))
        {
            *value = value.saturating_add(count);
        }
        Ok(())
    }

    /// Records one event in the hour it ended in (its `end`, the instant that bins).
    /// Visitors and staff alike: filter before calling if staff should not show.
    pub fn record_event(&mut self, event: &CountEvent) -> Result<(), OutOfWindow> {
        self.record(event.metric, event.end, 1)
    }

    /// The count of `metric` in the hour `hours_back` hours before the current hour
    /// (`In-C-X` / `Out-C-X` with X = `hours_back`); `None` when `hours_back >= H`.
    pub fn value(&self, metric: Metric, hours_back: usize) -> Option<u32> {
        if hours_back >= H {
            return None;
        }
        let slot = (self.head + H - hours_back) % H;
        self.counts
            .get(metric_row(metric))
            .and_then(|row| row.get(slot))
            .copied()
    }

    /// `(X, In-C-X, Out-C-X)` for X = 0..H, the current hour first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (usize, u32, u32)> + '_ {
        (0..H).map(move |x| {
            (
                x,
                self.value(Metric::In, x).unwrap_or(0),
                self.value(Metric::Out, x).unwrap_or(0),
            )
        })
    }
}

impl<const H: usize> Default for HourlyRing<H> {
    /// UTC hours.
    fn default() -> Self {
        Self::new(Zone::UTC)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::UtcOffset;
    use proptest::prelude::*;
    use std::vec::Vec;

    const T0: i64 = 1_700_000_000; // 22:13:20 UTC

    #[test]
    fn skipped_hours_are_zero_and_values_shift() {
        let mut r = HourlyRing48::new(Zone::UTC);
        assert_eq!(r.current_hour(), None);
        assert_eq!(r.value(Metric::In, 0), Some(0));
        for h in 0..5 {
            r.record(Metric::In, T0 + h * HOUR, (h + 1) as u32).unwrap();
        }
        assert_eq!(r.current_hour(), Some(T0 - T0.rem_euclid(HOUR) + 4 * HOUR));
        assert_eq!(
            (0..5)
                .map(|x| r.value(Metric::In, x).unwrap())
                .collect::<Vec<_>>(),
            [5, 4, 3, 2, 1]
        );
        r.advance_to(T0 + 7 * HOUR);
        assert_eq!(r.value(Metric::In, 0), Some(0));
        assert_eq!(r.value(Metric::In, 1), Some(0));
        assert_eq!(r.value(Metric::In, 3), Some(5));
        assert_eq!(r.value(Metric::In, 7), Some(1));
        assert_eq!(r.value(Metric::Out, 7), Some(0));
        assert_eq!(r.value(Metric::In, 48), None);
        // Time stepping back changes nothing.
        r.advance_to(T0);
        assert_eq!(r.value(Metric::In, 3), Some(5));
    }

    #[test]
    fn late_events_inside_the_window_land_in_their_hour_and_older_are_refused() {
        let mut r = HourlyRing48::new(Zone::UTC);
        r.advance_to(T0 + 10 * HOUR);
        r.record(Metric::Out, T0 + HOUR, 2).unwrap();
        assert_eq!(r.value(Metric::Out, 9), Some(2));
        r.record(Metric::Out, T0 - 37 * HOUR, 1).unwrap();
        assert_eq!(r.value(Metric::Out, 47), Some(1));
        assert_eq!(
            r.record(Metric::Out, T0 - 38 * HOUR, 1),
            Err(OutOfWindow { hours_back: 48 })
        );
        assert!(OutOfWindow { hours_back: 48 }
            .to_string()
            .contains("48 hours"));
    }

    #[test]
    fn advancing_exactly_the_ring_length_zeroes_everything() {
        let mut r = HourlyRing48::new(Zone::UTC);
        for h in 0..48 {
            r.record(Metric::In, T0 + h * HOUR, 1).unwrap();
        }
        assert!(r.iter().all(|(_, i, _)| i == 1));
        r.advance_to(T0 + 47 * HOUR + 48 * HOUR);
        assert!(r.iter().all(|(_, i, o)| i == 0 && o == 0));
        let mut r2 = HourlyRing48::new(Zone::UTC);
        for h in 0..48 {
            r2.record(Metric::In, T0 + h * HOUR, 1).unwrap();
        }
        r2.advance_to(T0 + 47 * HOUR + 47 * HOUR);
        assert_eq!(
            r2.value(Metric::In, 47),
            Some(1),
            "47 hours on, the newest remains"
        );
        assert_eq!(r2.iter().filter(|&(_, i, _)| i == 1).count(), 1);
    }

    #[test]
    fn hours_align_in_the_zone() {
        let india = Zone::Fixed(UtcOffset::from_seconds(5 * 3600 + 1800).unwrap());
        let mut r = HourlyRing48::new(india);
        r.record(Metric::In, T0, 1).unwrap(); // 22:13:20 UTC = 03:43:20 local
        assert_eq!(r.current_hour(), Some(T0 - 43 * 60 - 20));
        r.record(Metric::In, T0 + 17 * 60, 1).unwrap(); // 04:00:20 local: next hour
        assert_eq!(r.value(Metric::In, 0), Some(1));
        assert_eq!(r.value(Metric::In, 1), Some(1));
        r.record(Metric::In, T0 + 17 * 60, u32::MAX).unwrap();
        assert_eq!(r.value(Metric::In, 0), Some(u32::MAX), "saturates");
    }

    #[cfg(feature = "std")]
    #[test]
    fn dst_change_keeps_hours_counting_elapsed_time() {
        // Europe/London fell back at 2023-10-29 01:00 UTC: local 01:00 occurs twice.
        let Some(london) = Zone::iana("Europe/London") else {
            panic!("chrono-tz has Europe/London");
        };
        let mut r = HourlyRing48::new(london);
        let before = 1_698_537_600; // 2023-10-29 00:00 UTC = 01:00 BST
        r.record(Metric::In, before + 10, 1).unwrap();
        r.record(Metric::In, before + HOUR + 10, 2).unwrap(); // 01:00 GMT, the repeat hour
        assert_eq!(r.value(Metric::In, 0), Some(2));
        assert_eq!(r.value(Metric::In, 1), Some(1));
        assert_eq!(r.current_hour(), Some(before + HOUR));
    }

    #[derive(Debug, Clone)]
    enum Step {
        Record(bool, i64, u32),
        Advance(i64),
    }

    fn step() -> impl Strategy<Value = Step> {
        // Times within ~5 days either side of T0, so windows overlap and also jump past.
        let t = -60 * HOUR..60 * HOUR;
        prop_oneof![
            4 => (any::<bool>(), t.clone(), 0u32..5).prop_map(|(m, dt, c)| Step::Record(m, dt, c)),
            1 => t.prop_map(Step::Advance),
        ]
    }

    fn naive(
        records: &[(Metric, i64, u32)],
        current: i64,
        zone: &Zone,
        metric: Metric,
        x: usize,
    ) -> u32 {
        let target = current - x as i64 * HOUR;
        records
            .iter()
            .filter(|(m, at, _)| *m == metric && Resolution::Hour.bucket_start(*at, zone) == target)
            .map(|(_, _, c)| *c)
            .sum()
    }

    fn ring_equals_naive(zone: Zone, steps: &[Step]) -> Result<(), TestCaseError> {
        let mut ring = HourlyRing48::new(zone);
        let mut accepted: Vec<(Metric, i64, u32)> = Vec::new();
        let mut latest: Option<i64> = None;
        for s in steps {
            match *s {
                Step::Record(is_in, dt, c) => {
                    let metric = if is_in { Metric::In } else { Metric::Out };
                    let at = T0 + dt;
                    let hour = Resolution::Hour.bucket_start(at, &zone);
                    let now = latest.map_or(hour, |l| l.max(hour));
                    latest = Some(now);
                    let fits = now - hour < 48 * HOUR;
                    prop_assert_eq!(ring.record(metric, at, c).is_ok(), fits);
                    if fits {
                        accepted.push((metric, at, c));
                    }
                }
                Step::Advance(dt) => {
                    let hour = Resolution::Hour.bucket_start(T0 + dt, &zone);
                    latest = Some(latest.map_or(hour, |l| l.max(hour)));
                    ring.advance_to(T0 + dt);
                }
            }
            prop_assert_eq!(ring.current_hour(), latest);
            if let Some(current) = latest {
                for x in 0..48 {
                    for metric in [Metric::In, Metric::Out] {
                        prop_assert_eq!(
                            ring.value(metric, x),
                            Some(naive(&accepted, current, &zone, metric, x)),
                            "x = {}",
                            x
                        );
                    }
                }
            }
        }
        Ok(())
    }

    proptest! {
        #[test]
        fn ring_equals_a_naive_recomputation_utc(steps in proptest::collection::vec(step(), 0..80)) {
            ring_equals_naive(Zone::UTC, &steps)?;
        }

        #[test]
        fn ring_equals_a_naive_recomputation_half_hour_zone(steps in proptest::collection::vec(step(), 0..80)) {
            let zone = Zone::Fixed(UtcOffset::from_seconds(-(3 * 3600 + 1800)).unwrap());
            ring_equals_naive(zone, &steps)?;
        }
    }
}
