//! Roll-up: counters → branch (site) → site group, with completeness per bucket.
//!
//! A branch bucket is [`Completeness::Complete`] only when every expected counter reported
//! it; otherwise it is [`Completeness::Partial`] naming the missing counters, or
//! [`Completeness::NoData`] when none did. When every counter reported and one of their
//! buckets took late data, it is [`Completeness::Revised`]. A partial total is never shown
//! as if it were complete: the flag travels with the number.
//!
//! [`BranchSpec::rollup`] takes the resolution and zone from the counters' series; a series
//! at another resolution or in another zone is a [`RollupError`] naming the counter, never a
//! branch of `no-data` buckets (a bucket start in one zone is no bucket start in another).
//!
//! ```
//! use std::collections::BTreeMap;
//! use ffc_core::{BranchSpec, CameraSerial, Completeness, Counts, Resolution, Series, SiteId, Zone};
//!
//! let (a, b) = (CameraSerial::from_u64(1), CameraSerial::from_u64(2));
//! let spec = BranchSpec { site: SiteId(7), counters: vec![a, b] };
//! let mut series = BTreeMap::new();
//! let mut sa = Series::new(Resolution::Hour, Zone::UTC);
//! sa.add_counts(0, &Counts { visitors_in: 5, ..Counts::default() });
//! series.insert(a, sa);
//! let branch = spec.rollup(&series, 0, 3600)?;
//! assert_eq!((branch.resolution, branch.zone), (Resolution::Hour, Zone::UTC));
//! assert_eq!(branch.buckets[0].counts.visitors_in, 5);
//! assert_eq!(branch.buckets[0].completeness, Completeness::Partial { missing: vec![b] });
//!
//! // b's series in another zone: an error naming b, not a branch of missing buckets.
//! let eight = Zone::Fixed(ffc_core::UtcOffset::from_seconds(8 * 3600)?);
//! series.insert(b, Series::new(Resolution::Hour, eight));
//! assert!(matches!(spec.rollup(&series, 0, 3600), Err(ffc_core::RollupError::Zone { counter, .. }) if counter == b));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::fmt;

use chrono::NaiveDateTime;

use crate::aggregate::{Counts, Series};
use crate::model::{CameraSerial, SiteId};
use crate::time::{Resolution, UnixSeconds, Zone};

/// Why a roll-up was refused. Each variant names the counter or branch at fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RollupError {
    /// A counter's series is at another resolution than the roll-up's.
    Resolution {
        /// The counter.
        counter: CameraSerial,
        /// The roll-up's resolution.
        expected: Resolution,
        /// The series'.
        found: Resolution,
    },
    /// A counter's series aligns its buckets in another zone than the roll-up's: a client or
    /// aggregator configured with the wrong zone. Fix the configuration.
    Zone {
        /// The counter.
        counter: CameraSerial,
        /// The roll-up's zone.
        expected: Zone,
        /// The series'.
        found: Zone,
    },
    /// None of the branch's counters has a series, so nothing says the resolution and zone;
    /// use [`rollup_branch`] with them to get a branch of `no-data` buckets.
    NoSeries {
        /// The branch.
        site: SiteId,
    },
    /// Branches of a site group at different resolutions or in different zones.
    Branch {
        /// The first branch that differs from the first branch.
        site: SiteId,
    },
}

impl fmt::Display for RollupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RollupError::Resolution {
                counter,
                expected,
                found,
            } => write!(
                f,
                "counter {counter}: series at {found:?}, the roll-up is at {expected:?}"
            ),
            RollupError::Zone {
                counter,
                expected,
                found,
            } => write!(
                f,
                "counter {counter}: series in zone {found}, the roll-up is in {expected}; \
                 check the zone configured for it"
            ),
            RollupError::NoSeries { site } => write!(
                f,
                "branch {}: none of its counters has a series to take resolution and zone from",
                site.0
            ),
            RollupError::Branch { site } => write!(
                f,
                "branch {}: another resolution or zone than the group's first branch",
                site.0
            ),
        }
    }
}

impl core::error::Error for RollupError {}

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

impl BranchSpec {
    /// Rolls the branch up over the buckets of `[from, to)` at the resolution and in the
    /// zone of its counters' series (which must all agree); see the [module docs](self).
    pub fn rollup(
        &self,
        series: &BTreeMap<CameraSerial, Series>,
        from: UnixSeconds,
        to: UnixSeconds,
    ) -> Result<BranchSeries, RollupError> {
        let first = self
            .counters
            .iter()
            .find_map(|c| series.get(c))
            .ok_or(RollupError::NoSeries { site: self.site })?;
        rollup_branch(self, series, from, to, first.resolution(), first.zone())
    }
}

/// One bucket of a branch or site group.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct RolledBucket {
    /// Bucket start (UTC).
    pub start: UnixSeconds,
    /// Bucket start in the branch's local time (as the shop's clock shows it).
    pub local_start: NaiveDateTime,
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
    /// The zone buckets align in (and `local_start` is in).
    pub zone: Zone,
    /// Buckets in time order, one for every bucket of the range, reported or not.
    pub buckets: Vec<RolledBucket>,
}

impl BranchSeries {
    /// `(start, counts)` of every bucket, the shape [`crate::kpi::footfall_in`] and
    /// [`crate::kpi::footfall_out`] take.
    pub fn counts(&self) -> impl Iterator<Item = (UnixSeconds, &Counts)> + '_ {
        self.buckets.iter().map(|b| (b.start, &b.counts))
    }

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

/// The local wall-clock start of a bucket (the Unix epoch when out of chrono's range).
fn local_start(zone: &Zone, start: UnixSeconds) -> NaiveDateTime {
    zone.local_datetime(start).unwrap_or_default()
}

/// Rolls a branch's counters up over the buckets of `[from, to)` at `resolution` in `zone`
/// ([`BranchSpec::rollup`] takes both from the series).
///
/// Every series must be at `resolution` and in `zone` ([`RollupError`] names the first that
/// is not); counters in `series` that the spec does not list are ignored (they belong to
/// another branch).
pub fn rollup_branch(
    spec: &BranchSpec,
    series: &BTreeMap<CameraSerial, Series>,
    from: UnixSeconds,
    to: UnixSeconds,
    resolution: Resolution,
    zone: Zone,
) -> Result<BranchSeries, RollupError> {
    let mut expected: Vec<CameraSerial> = spec.counters.clone();
    expected.sort_unstable();
    expected.dedup();
    for serial in &expected {
        if let Some(s) = series.get(serial) {
            if s.resolution() != resolution {
                return Err(RollupError::Resolution {
                    counter: *serial,
                    expected: resolution,
                    found: s.resolution(),
                });
            }
            if s.zone() != zone {
                return Err(RollupError::Zone {
                    counter: *serial,
                    expected: zone,
                    found: s.zone(),
                });
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
            local_start: local_start(&zone, start),
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
        zone,
        buckets,
    })
}

/// Rolls branches up into a site group. Buckets are matched by start; a group bucket is
/// complete only when every branch's is, and a partial one names every missing counter.
/// Every branch must be at the same resolution in the same zone.
pub fn rollup_group(group: SiteId, branches: &[BranchSeries]) -> Result<BranchSeries, RollupError> {
    let Some(first) = branches.first() else {
        return Ok(BranchSeries {
            site: group,
            resolution: Resolution::Hour,
            zone: Zone::UTC,
            buckets: Vec::new(),
        });
    };
    let (resolution, zone) = (first.resolution, first.zone);
    let mut merged: BTreeMap<UnixSeconds, (RolledBucket, Vec<CameraSerial>, bool, u32)> =
        BTreeMap::new();
    for branch in branches {
        if branch.resolution != resolution || branch.zone != zone {
            return Err(RollupError::Branch { site: branch.site });
        }
        for b in &branch.buckets {
            let entry = merged.entry(b.start).or_insert_with(|| {
                (
                    RolledBucket {
                        start: b.start,
                        local_start: b.local_start,
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
        zone,
        buckets,
    })
}

#[cfg(test)]
mod tests;
