//! KPIs by FootfallCam's metric definitions (spec §3).
//!
//! * A01 footfall in / A02 footfall out: visitors (staff excluded) within operating hours.
//! * A03 occupancy: ΣA01 − ΣA02 from the start of the day, never below zero; when the
//!   running value would go negative it is clamped and the clamp is recorded.
//! * Turn-in rate = A01 / outside traffic; sales conversion = transactions / A01;
//!   ATV = sales amount / transactions. Each is `None` ("undefined") when its denominator
//!   is 0: neither 0 nor NaN.
//!
//! ```
//! use ffc_core::kpi::{conversion_rate, atv, turn_in_rate};
//! assert_eq!(conversion_rate(30, 120), Some(0.25));
//! assert_eq!(conversion_rate(3, 0), None);
//! assert_eq!(atv(12_345, 3), Some(41.15)); // cents → currency units
//! assert_eq!(turn_in_rate(0, 0), None);
//! ```

use crate::aggregate::Counts;
use crate::time::{UnixSeconds, Zone, SECONDS_PER_DAY};

/// Opening hours in local wall-clock time: `[open, close)` as seconds of the day. A close
/// at or before the open wraps past midnight (a night shop open 22:00–06:00).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct OperatingHours {
    /// Opening, seconds after local midnight.
    pub open: u32,
    /// Closing, seconds after local midnight (exclusive).
    pub close: u32,
}

impl OperatingHours {
    /// Open all day.
    pub const ALWAYS: OperatingHours = OperatingHours {
        open: 0,
        close: 86_400,
    };

    /// Whether the site is open at the UTC instant `at`.
    pub fn is_open(&self, at: UnixSeconds, zone: &Zone) -> bool {
        let local = zone.local_seconds(at).rem_euclid(SECONDS_PER_DAY) as u32;
        if self.open < self.close {
            (self.open..self.close).contains(&local)
        } else {
            local >= self.open || local < self.close
        }
    }
}

/// A01: visitors in over buckets (start, counts) whose start is within operating hours.
pub fn footfall_in<'a>(
    buckets: impl IntoIterator<Item = (UnixSeconds, &'a Counts)>,
    hours: &OperatingHours,
    zone: &Zone,
) -> u64 {
    buckets
        .into_iter()
        .filter(|(start, _)| hours.is_open(*start, zone))
        .fold(0u64, |a, (_, c)| a.saturating_add(c.visitors_in))
}

/// A02: visitors out over buckets within operating hours.
pub fn footfall_out<'a>(
    buckets: impl IntoIterator<Item = (UnixSeconds, &'a Counts)>,
    hours: &OperatingHours,
    zone: &Zone,
) -> u64 {
    buckets
        .into_iter()
        .filter(|(start, _)| hours.is_open(*start, zone))
        .fold(0u64, |a, (_, c)| a.saturating_add(c.visitors_out))
}

/// One A03 reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Occupancy {
    /// People inside at the end of the bucket, never below zero.
    pub value: u64,
    /// The raw running value went below zero in this bucket and was clamped to 0: more
    /// people left than were seen entering (a missed In, staff mis-typed, a counter gap).
    pub clamped: bool,
}

/// A03 running occupancy: for each bucket in order, ΣIn − ΣOut so far, clamped at zero,
/// with the clamp recorded. The running value restarts at each local midnight.
///
/// ```
/// use ffc_core::aggregate::Counts;
/// use ffc_core::kpi::{OccupancyTracker, Occupancy};
/// use ffc_core::Zone;
/// let mut occ = OccupancyTracker::new(Zone::UTC);
/// let c = |i, o| Counts { visitors_in: i, visitors_out: o, ..Counts::default() };
/// assert_eq!(occ.push(0, &c(3, 1)), Occupancy { value: 2, clamped: false });
/// assert_eq!(occ.push(3600, &c(0, 5)), Occupancy { value: 0, clamped: true });
/// assert_eq!(occ.push(7200, &c(1, 0)), Occupancy { value: 1, clamped: false });
/// ```
#[derive(Debug, Clone, Copy)]
pub struct OccupancyTracker {
    zone: Zone,
    day: Option<i64>,
    value: u64,
}

impl OccupancyTracker {
    /// Starts at zero.
    pub fn new(zone: Zone) -> Self {
        OccupancyTracker {
            zone,
            day: None,
            value: 0,
        }
    }

    /// The occupancy after the bucket starting at `start` with `counts`.
    pub fn push(&mut self, start: UnixSeconds, counts: &Counts) -> Occupancy {
        let day = self.zone.local_seconds(start).div_euclid(SECONDS_PER_DAY);
        if self.day != Some(day) {
            self.day = Some(day);
            self.value = 0;
        }
        let up = self.value.saturating_add(counts.visitors_in);
        let clamped = counts.visitors_out > up;
        self.value = up.saturating_sub(counts.visitors_out);
        Occupancy {
            value: self.value,
            clamped,
        }
    }
}

fn ratio(numerator: f64, denominator: f64) -> Option<f64> {
    if denominator == 0.0 {
        None
    } else {
        Some(numerator / denominator)
    }
}

/// Turn-in rate = A01 / outside traffic; `None` when there was no outside traffic.
pub fn turn_in_rate(footfall_in: u64, outside_traffic: u64) -> Option<f64> {
    ratio(footfall_in as f64, outside_traffic as f64)
}

/// Sales conversion = transactions / A01; `None` when nobody came in.
pub fn conversion_rate(transactions: u64, footfall_in: u64) -> Option<f64> {
    ratio(transactions as f64, footfall_in as f64)
}

/// Average transaction value = sales amount / transactions, in currency units from an
/// amount in cents; `None` when there were no transactions.
pub fn atv(amount_cents: i64, transactions: u64) -> Option<f64> {
    ratio(amount_cents as f64 / 100.0, transactions as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::UtcOffset;
    use proptest::prelude::*;

    #[test]
    fn operating_hours_filter_a01_a02() {
        let zone = Zone::Fixed(UtcOffset::from_seconds(3600).unwrap());
        let hours = OperatingHours {
            open: 9 * 3600,
            close: 17 * 3600,
        };
        let c = Counts {
            visitors_in: 2,
            visitors_out: 1,
            staff_in: 9,
            staff_out: 9,
        };
        // UTC 07:00 = local 08:00 (closed); UTC 08:00 = local 09:00 (open); UTC 16:00 = 17:00 (closed).
        let buckets = [
            (7 * 3600, &c),
            (8 * 3600, &c),
            (15 * 3600, &c),
            (16 * 3600, &c),
        ];
        assert_eq!(footfall_in(buckets, &hours, &zone), 4);
        assert_eq!(footfall_out(buckets, &hours, &zone), 2);
        assert_eq!(footfall_in(buckets, &OperatingHours::ALWAYS, &zone), 8);
        let night = OperatingHours {
            open: 22 * 3600,
            close: 6 * 3600,
        };
        assert!(night.is_open(23 * 3600 - 3600, &zone));
        assert!(!night.is_open(12 * 3600, &zone));
    }

    #[test]
    fn undefined_not_zero_or_nan() {
        assert_eq!(turn_in_rate(5, 0), None);
        assert_eq!(turn_in_rate(5, 20), Some(0.25));
        assert_eq!(conversion_rate(0, 10), Some(0.0));
        assert_eq!(conversion_rate(1, 0), None);
        assert_eq!(atv(0, 0), None);
        assert_eq!(atv(1_000, 4), Some(2.5));
    }

    #[test]
    fn occupancy_restarts_each_local_day() {
        let mut occ = OccupancyTracker::new(Zone::UTC);
        let c = Counts {
            visitors_in: 4,
            ..Counts::default()
        };
        assert_eq!(occ.push(0, &c).value, 4);
        assert_eq!(occ.push(3600, &c).value, 8);
        assert_eq!(occ.push(86_400, &c).value, 4);
    }

    proptest! {
        /// A03 never goes below zero, matches a naive clamped running sum, and equals
        /// ΣIn − ΣOut as long as it was never clamped.
        #[test]
        fn occupancy_never_negative(steps in proptest::collection::vec((0u64..10, 0u64..10), 0..48)) {
            let mut occ = OccupancyTracker::new(Zone::UTC);
            let (mut net, mut reference, mut ever_clamped) = (0i64, 0i64, false);
            for (i, (inn, out)) in steps.iter().enumerate() {
                let o = occ.push(i as i64 * 1800, &Counts { visitors_in: *inn, visitors_out: *out, ..Counts::default() });
                net += *inn as i64 - *out as i64;
                let raw = reference + *inn as i64 - *out as i64;
                prop_assert_eq!(o.clamped, raw < 0);
                reference = raw.max(0);
                prop_assert_eq!(o.value as i64, reference);
                ever_clamped |= o.clamped;
                if !ever_clamped { prop_assert_eq!(o.value as i64, net); }
            }
        }
    }
}
