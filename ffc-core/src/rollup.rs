//! Roll-up: counters → branch (site) → site group, with completeness per bucket.
//!
//! A branch bucket is [`Completeness::Complete`] only when every expected counter reported
//! it; otherwise it is [`Completeness::Partial`] naming the missing counters, or
//! [`Completeness::NoData`] when none did. When every counter reported and one of their
//! buckets took late data, it is [`Completeness::Revised`]. A partial total is never shown
//! as if it were complete: the flag travels with the number.
//!
//! ```
//! use std::collections::BTreeMap;
//! use ffc_core::aggregate::{Counts, Series};
//! use ffc_core::rollup::{rollup_branch, BranchSpec, Completeness};
//! use ffc_core::{CameraSerial, Resolution, SiteId, Zone};
//!
//! let (a, b) = (CameraSerial::from_u64(1), CameraSerial::from_u64(2));
//! let spec = BranchSpec { site: SiteId(7), counters: vec![a, b] };
//! let mut series = BTreeMap::new();
//! let mut sa = Series::new(Resolution::Hour, Zone::UTC);
//! sa.add_counts(0, &Counts { visitors_in: 5, ..Counts::default() });
//! series.insert(a, sa);
//! let branch = rollup_branch(&spec, &series, 0, 3600, Resolution::Hour, Zone::UTC).unwrap();
//! assert_eq!(branch.buckets[0].counts.visitors_in, 5);
//! assert_eq!(branch.buckets[0].completeness, Completeness::Partial { missing: vec![b] });
//! ```

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use crate::aggregate::{Counts, Series};
use crate::error::SeriesError;
use crate::model::{CameraSerial, SiteId};
use crate::time::{Resolution, UnixSeconds, Zone};

/// How much of a rolled-up bucket's data arrived.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Completeness {
    /// Every expected counter reported the bucket.
    Complete,
    /// Some counters did not report; the total is too low by what they saw.
    Partial {
        /// The counters that did not report, in serial order.
        missing: Vec<CameraSerial>,
    },
    /// No expected counter reported.
    NoData,
    /// Every counter reported, and at least one bucket took late data after it was closed.
    Revised,
}

impl Completeness {
    /// Whether the total can be used as the whole truth (complete or revised).
    pub fn is_whole(&self) -> bool {
        matches!(self, Completeness::Complete | Completeness::Revised)
    }

    /// A short label for reports.
    pub fn label(&self) -> &'static str {
        match self {
            Completeness::Complete => "complete",
            Completeness::Partial { .. } => "partial",
            Completeness::NoData => "no-data",
            Completeness::Revised => "revised",
        }
    }
}

/// A branch and the counters it should hear from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct BranchSpec {
    /// The branch.
    pub site: SiteId,
    /// Every counter installed at the branch.
    pub counters: Vec<CameraSerial>,
}

/// One bucket of a branch or site group.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct RolledBucket {
    /// Bucket start (UTC).
    pub start: UnixSeconds,
    /// Bucket end (UTC, exclusive).
    pub end: UnixSeconds,
    /// Sum over the counters that reported.
    pub counts: Counts,
    /// Sum of outside traffic over the counters that know it; `None` when none does.
    pub outside: Option<u64>,
    /// How much of the data arrived.
    pub completeness: Completeness,
    /// Counters that reported.
    pub reported: u32,
    /// Counters expected.
    pub expected: u32,
}

/// A branch's (or a site group's) buckets.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct BranchSeries {
    /// The branch; for a site group, the group's id.
    pub site: SiteId,
    /// The resolution.
    pub resolution: Resolution,
    /// Buckets in time order, one for every bucket of the range, reported or not.
    pub buckets: Vec<RolledBucket>,
}

impl BranchSeries {
    /// Sum over every bucket, and whether every bucket was whole.
    pub fn total(&self) -> (Counts, bool) {
        let mut sum = Counts::default();
        let mut whole = true;
        for b in &self.buckets {
            sum.merge(&b.counts);
            whole &= b.completeness.is_whole();
        }
        (sum, whole)
    }
}

/// Rolls a branch's counters up over the buckets of `[from, to)`.
///
/// Every series must be at `resolution`; counters in `series` that the spec does not list
/// are ignored (they belong to another branch).
pub fn rollup_branch(
    spec: &BranchSpec,
    series: &BTreeMap<CameraSerial, Series>,
    from: UnixSeconds,
    to: UnixSeconds,
    resolution: Resolution,
    zone: Zone,
) -> Result<BranchSeries, SeriesError> {
    let mut expected: Vec<CameraSerial> = spec.counters.clone();
    expected.sort_unstable();
    expected.dedup();
    for serial in &expected {
        if let Some(s) = series.get(serial) {
            if s.resolution() != resolution {
                return Err(SeriesError::ResolutionMismatch);
            }
        }
    }
    let mut buckets = Vec::new();
    for start in resolution.buckets(from, to, zone) {
        let end = resolution.next_start(start, &zone);
        let mut counts = Counts::default();
        let mut outside: Option<u64> = None;
        let mut missing = Vec::new();
        let mut revised = false;
        for serial in &expected {
            match series.get(serial).and_then(|s| s.get(start)) {
                Some(bucket) => {
                    counts.merge(&bucket.counts);
                    if let Some(o) = bucket.outside {
                        outside = Some(outside.unwrap_or(0).saturating_add(o));
                    }
                    revised |= bucket.revised;
                }
                None => missing.push(*serial),
            }
        }
        let expected_n = expected.len() as u32;
        let reported = expected_n - missing.len() as u32;
        let completeness = if reported == 0 {
            Completeness::NoData
        } else if !missing.is_empty() {
            Completeness::Partial { missing }
        } else if revised {
            Completeness::Revised
        } else {
            Completeness::Complete
        };
        buckets.push(RolledBucket {
            start,
            end,
            counts,
            outside,
            completeness,
            reported,
            expected: expected_n,
        });
    }
    Ok(BranchSeries {
        site: spec.site,
        resolution,
        buckets,
    })
}

/// Rolls branches up into a site group. Buckets are matched by start; a group bucket is
/// complete only when every branch's is, and a partial one names every missing counter.
pub fn rollup_group(group: SiteId, branches: &[BranchSeries]) -> Result<BranchSeries, SeriesError> {
    let Some(first) = branches.first() else {
        return Ok(BranchSeries {
            site: group,
            resolution: Resolution::Hour,
            buckets: Vec::new(),
        });
    };
    let resolution = first.resolution;
    let mut merged: BTreeMap<UnixSeconds, (RolledBucket, Vec<CameraSerial>, bool, u32)> =
        BTreeMap::new();
    for branch in branches {
        if branch.resolution != resolution {
            return Err(SeriesError::ResolutionMismatch);
        }
        for b in &branch.buckets {
            let entry = merged.entry(b.start).or_insert_with(|| {
                (
                    RolledBucket {
                        start: b.start,
                        end: b.end,
                        counts: Counts::default(),
                        outside: None,
                        completeness: Completeness::Complete,
                        reported: 0,
                        expected: 0,
                    },
                    Vec::new(),
                    false,
                    0,
                )
            });
            let (acc, missing, revised, branches_seen) = entry;
            acc.counts.merge(&b.counts);
            if let Some(o) = b.outside {
                acc.outside = Some(acc.outside.unwrap_or(0).saturating_add(o));
            }
            acc.reported += b.reported;
            acc.expected += b.expected;
            *branches_seen += 1;
            match &b.completeness {
                Completeness::Partial { missing: m } => missing.extend_from_slice(m),
                Completeness::Revised => *revised = true,
                _ => {}
            }
        }
    }
    let n_branches = branches.len() as u32;
    let mut buckets = Vec::new();
    for (_, (mut acc, mut missing, revised, branches_seen)) in merged {
        // A branch without this bucket at all (another zone, another range) is missing
        // whole; its counters are not known here, so the bucket cannot be complete.
        let absent_branch = branches_seen < n_branches;
        missing.sort_unstable();
        acc.completeness = if acc.reported == 0 {
            Completeness::NoData
        } else if !missing.is_empty() || acc.reported < acc.expected || absent_branch {
            Completeness::Partial { missing }
        } else if revised {
            Completeness::Revised
        } else {
            Completeness::Complete
        };
        buckets.push(acc);
    }
    Ok(BranchSeries {
        site: group,
        resolution,
        buckets,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use proptest::prelude::*;

    fn counter(n: u64) -> CameraSerial {
        CameraSerial::from_u64(n)
    }

    #[test]
    fn late_data_marks_revised_and_missing_counter_partial() {
        let spec = BranchSpec {
            site: SiteId(1),
            counters: vec![counter(1), counter(2)],
        };
        let mut map = BTreeMap::new();
        for n in [1, 2] {
            let mut s = Series::new(Resolution::Hour, Zone::UTC);
            s.cover(0, 7200);
            map.insert(counter(n), s);
        }
        let r = rollup_branch(&spec, &map, 0, 7200, Resolution::Hour, Zone::UTC).unwrap();
        assert!(r
            .buckets
            .iter()
            .all(|b| b.completeness == Completeness::Complete));
        let s1 = map.get_mut(&counter(1)).unwrap();
        s1.close_through(7200);
        s1.add_counts(
            10,
            &Counts {
                visitors_in: 1,
                ..Counts::default()
            },
        );
        let r = rollup_branch(&spec, &map, 0, 10_800, Resolution::Hour, Zone::UTC).unwrap();
        assert_eq!(r.buckets[0].completeness, Completeness::Revised);
        assert_eq!(r.buckets[1].completeness, Completeness::Complete);
        assert_eq!(r.buckets[2].completeness, Completeness::NoData);
        map.remove(&counter(2));
        let r = rollup_branch(&spec, &map, 0, 3600, Resolution::Hour, Zone::UTC).unwrap();
        assert_eq!(
            r.buckets[0].completeness,
            Completeness::Partial {
                missing: vec![counter(2)]
            }
        );
        assert_eq!((r.buckets[0].reported, r.buckets[0].expected), (1, 2));
    }

    #[test]
    fn group_names_every_missing_counter() {
        let mk = |site, completeness, counts_in| BranchSeries {
            site: SiteId(site),
            resolution: Resolution::Hour,
            buckets: vec![RolledBucket {
                start: 0,
                end: 3600,
                counts: Counts {
                    visitors_in: counts_in,
                    ..Counts::default()
                },
                outside: Some(10),
                completeness,
                reported: 1,
                expected: 2,
            }],
        };
        let g = rollup_group(
            SiteId(100),
            &[
                mk(
                    1,
                    Completeness::Partial {
                        missing: vec![counter(9)],
                    },
                    3,
                ),
                mk(
                    2,
                    Completeness::Partial {
                        missing: vec![counter(4)],
                    },
                    4,
                ),
            ],
        )
        .unwrap();
        assert_eq!(g.buckets[0].counts.visitors_in, 7);
        assert_eq!(g.buckets[0].outside, Some(20));
        assert_eq!(
            g.buckets[0].completeness,
            Completeness::Partial {
                missing: vec![counter(4), counter(9)]
            }
        );
    }

    fn arb_map(
    ) -> impl Strategy<Value = (BTreeMap<CameraSerial, Series>, std::vec::Vec<CameraSerial>)> {
        proptest::collection::vec(
            proptest::collection::vec((0i64..86_400, 0u64..20, 0u64..20), 0..30),
            1..6,
        )
        .prop_map(|per_counter| {
            let mut map = BTreeMap::new();
            let mut serials = std::vec::Vec::new();
            for (i, points) in per_counter.into_iter().enumerate() {
                let serial = counter(i as u64 + 1);
                let mut s = Series::new(Resolution::Hour, Zone::UTC);
                s.cover(0, 86_400);
                for (t, inn, out) in points {
                    s.add_counts(
                        t,
                        &Counts {
                            visitors_in: inn,
                            visitors_out: out,
                            ..Counts::default()
                        },
                    );
                }
                map.insert(serial, s);
                serials.push(serial);
            }
            (map, serials)
        })
    }

    proptest! {
        /// (b) the roll-up of complete counters equals the sum of the counters.
        #[test]
        fn rollup_of_complete_counters_is_their_sum((map, serials) in arb_map()) {
            let spec = BranchSpec { site: SiteId(1), counters: serials.clone() };
            let r = rollup_branch(&spec, &map, 0, 86_400, Resolution::Hour, Zone::UTC).unwrap();
            prop_assert_eq!(r.buckets.len(), 24);
            let mut expected = Counts::default();
            for s in map.values() { expected.merge(&s.total()); }
            let (total, whole) = r.total();
            prop_assert_eq!(total, expected);
            prop_assert!(whole);
            for b in &r.buckets {
                let mut sum = Counts::default();
                for s in map.values() { sum.merge(&s.get(b.start).unwrap().counts); }
                prop_assert_eq!(b.counts, sum);
                prop_assert_eq!(&b.completeness, &Completeness::Complete);
            }
        }

        /// (d) a missing counter always yields Partial (or NoData), never Complete.
        #[test]
        fn missing_counter_never_complete(
            (mut map, serials) in arb_map(),
            drop in any::<prop::sample::Index>(),
            hole in 0i64..24,
        ) {
            let victim = *drop.get(&serials);
            // The victim is offline for one hour: rebuild its series without that bucket.
            let old = map.remove(&victim).unwrap();
            let mut s = Series::new(Resolution::Hour, Zone::UTC);
            for (start, b) in old.iter() {
                if start != hole * 3600 { s.add_counts(start, &b.counts); }
            }
            map.insert(victim, s);
            let spec = BranchSpec { site: SiteId(1), counters: serials.clone() };
            let r = rollup_branch(&spec, &map, 0, 86_400, Resolution::Hour, Zone::UTC).unwrap();
            for b in &r.buckets {
                if b.start == hole * 3600 {
                    if serials.len() == 1 {
                        prop_assert_eq!(&b.completeness, &Completeness::NoData);
                    } else {
                        prop_assert_eq!(&b.completeness, &Completeness::Partial { missing: vec![victim] });
                    }
                    prop_assert!(!b.completeness.is_whole());
                } else {
                    prop_assert_eq!(&b.completeness, &Completeness::Complete);
                }
            }
            // An expected counter with no series at all is missing everywhere.
            let mut spec2 = spec.clone();
            spec2.counters.push(counter(999));
            let r2 = rollup_branch(&spec2, &map, 0, 86_400, Resolution::Hour, Zone::UTC).unwrap();
            prop_assert!(r2.buckets.iter().all(|b| b.completeness != Completeness::Complete));
        }
    }
}
