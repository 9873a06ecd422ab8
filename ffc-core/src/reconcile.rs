//! Reconciliation of a counter's live series (events) against its pulled series (records
//! from the device CGI API, the server export or export files).
//!
//! Every bucket gets a [`BucketState`]: `match`, `live-short` (events the live path missed;
//! to be backfilled), `live-over` (the pull is stale or the device lost data; flagged, never
//! overwritten), `conflict` (below in one direction, above in the other) or `unverified`
//! (live visitor events in a bucket the pull does not cover).
//!
//! Live counts are visitors only (staff excluded, as the device's In/Out are), each event
//! counted once by its [`EventKey`](crate::EventKey) whatever path delivered it, binned by
//! its end time into buckets with the length and alignment of that counter's pulled buckets
//! (a counter without pulled rows: the pull's most common length, aligned to local
//! midnight in the events' own offset).
//!
//! The merge rule is per direction the larger of live and pulled: a count can be lost on
//! either path but not invented. Each merged bucket carries its state as provenance, and
//! [`Reconciliation::merged_series`] marks the buckets the pull raised `revised`, so a
//! branch roll-up over merged data says which buckets were backfilled.
//!
//! ```
//! use ffc_core::reconcile::{reconcile, BucketState};
//! use ffc_core::{CameraSerial, CountEvent, CountRecord, Metric, PeopleId, PeopleType};
//! use ffc_core::{RoiId, Source, Subject, UtcOffset};
//!
//! let serial = CameraSerial::from_u64(1);
//! let event = |id: u64, end: i64| CountEvent {
//!     serial, roi: RoiId(1), metric: Metric::In, people_type: PeopleType::Visitor,
//!     people_id: PeopleId(id), start: end, end, offset: UtcOffset::UTC, uuid: None,
//!     source: Source::WebSocket,
//! };
//! let pulled = CountRecord {
//!     subject: Subject::Counter(serial), start: 0, length: 900, offset: UtcOffset::UTC,
//!     count_in: 3, count_out: 0, outside: None, source: Source::DevicePull,
//! };
//! // Two events arrived live (one of them twice); the counter saw three.
//! let live = [event(1, 10), event(2, 20), event(2, 20)];
//! let result = reconcile(&live, &[pulled]);
//! let bucket = &result.buckets[0];
//! assert_eq!(bucket.state, BucketState::LiveShort);
//! assert_eq!((bucket.live_in, bucket.pulled_in), (2, Some(3)));
//! assert_eq!(bucket.merged_in(), 3);
//! ```

mod plan;
#[cfg(test)]
mod tests;

pub use plan::{backfill_windows, server_requests, BackfillWindow, ServerRequest};

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec::Vec;

use crate::aggregate::Series;
use crate::model::{CameraSerial, CountEvent, CountRecord, Metric, PeopleType, Source, Subject};
use crate::time::{Resolution, UnixSeconds, UtcOffset, Zone};

/// The length used for a counter without pulled rows when the pull holds no rows at all.
pub const FALLBACK_LENGTH: u32 = 3600;

/// How a bucket's live counts compare with its pulled counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum BucketState {
    /// Live equals pulled in both directions.
    Match,
    /// Live below pulled in at least one direction and above in none: to be backfilled.
    LiveShort,
    /// Live above pulled in at least one direction and below in none: the pull is stale or
    /// the device lost data. Flagged, never overwritten.
    LiveOver,
    /// Below in one direction, above in the other.
    Conflict,
    /// Live visitor events in a bucket the pull does not cover.
    Unverified,
}

impl BucketState {
    /// Every state, in order.
    pub const ALL: [BucketState; 5] = [
        BucketState::Match,
        BucketState::LiveShort,
        BucketState::LiveOver,
        BucketState::Conflict,
        BucketState::Unverified,
    ];

    /// The label used in files and reports: `match`, `live-short`, `live-over`,
    /// `conflict`, `unverified`.
    pub const fn label(self) -> &'static str {
        match self {
            BucketState::Match => "match",
            BucketState::LiveShort => "live-short",
            BucketState::LiveOver => "live-over",
            BucketState::Conflict => "conflict",
            BucketState::Unverified => "unverified",
        }
    }

    /// The state of a label written by [`BucketState::label`].
    pub fn from_label(text: &str) -> Option<BucketState> {
        BucketState::ALL.into_iter().find(|s| s.label() == text)
    }

    /// The state of live `(in, out)` against pulled `(in, out)`.
    pub const fn compare(live: (u64, u64), pulled: (u64, u64)) -> BucketState {
        let below = live.0 < pulled.0 || live.1 < pulled.1;
        let above = live.0 > pulled.0 || live.1 > pulled.1;
        match (below, above) {
            (false, false) => BucketState::Match,
            (true, false) => BucketState::LiveShort,
            (false, true) => BucketState::LiveOver,
            (true, true) => BucketState::Conflict,
        }
    }
}

/// One bucket of one counter, reconciled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ReconciledBucket {
    /// The counter.
    pub counter: CameraSerial,
    /// Bucket start (UTC unix seconds).
    #[cfg_attr(feature = "serde", serde(rename = "start_utc"))]
    pub start: UnixSeconds,
    /// Bucket length in seconds.
    #[cfg_attr(feature = "serde", serde(rename = "length_seconds"))]
    pub length: u32,
    /// The state.
    pub state: BucketState,
    /// Visitors in seen live (deduplicated).
    pub live_in: u64,
    /// Visitors out seen live (deduplicated).
    pub live_out: u64,
    /// Visitors in pulled; `None` when the pull does not cover the bucket.
    pub pulled_in: Option<u64>,
    /// Visitors out pulled; `None` when the pull does not cover the bucket.
    pub pulled_out: Option<u64>,
    /// The UTC offset of the bucket's local start (the pull's, else the events').
    #[cfg_attr(feature = "serde", serde(rename = "utc_offset_seconds"))]
    pub offset: UtcOffset,
    /// The pull's source when pulled, else the live path's.
    pub source: Source,
    /// Whether the pipeline already holds the pulled counts from an earlier backfill (see
    /// [`Reconciliation::mark_held`]): the bucket keeps its state as provenance, and the
    /// backfill plan skips it.
    #[cfg_attr(feature = "serde", serde(default))]
    pub held: bool,
}

impl ReconciledBucket {
    /// The instant after the bucket.
    pub const fn end(&self) -> UnixSeconds {
        self.start + self.length as i64
    }

    /// Merged visitors in: the larger of live and pulled.
    pub fn merged_in(&self) -> u64 {
        self.live_in.max(self.pulled_in.unwrap_or(0))
    }

    /// Merged visitors out: the larger of live and pulled.
    pub fn merged_out(&self) -> u64 {
        self.live_out.max(self.pulled_out.unwrap_or(0))
    }

    /// Whether the pull raised the live counts in the merge (the bucket was backfilled).
    pub fn backfilled(&self) -> bool {
        self.merged_in() != self.live_in || self.merged_out() != self.live_out
    }

    /// The merged bucket as a record.
    pub fn merged_record(&self) -> CountRecord {
        CountRecord {
            subject: Subject::Counter(self.counter),
            start: self.start,
            length: self.length,
            offset: self.offset,
            count_in: self.merged_in(),
            count_out: self.merged_out(),
            outside: None,
            source: self.source,
        }
    }
}

/// Every bucket of every counter, sorted by counter then start.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reconciliation {
    /// Pulled buckets and unverified ones, by counter then start.
    pub buckets: Vec<ReconciledBucket>,
}

impl Reconciliation {
    /// Whether every bucket is `match`.
    pub fn all_match(&self) -> bool {
        self.buckets.iter().all(|b| b.state == BucketState::Match)
    }

    /// The buckets whose state is not `match`, in order.
    pub fn non_matching(&self) -> impl Iterator<Item = &ReconciledBucket> + '_ {
        self.buckets
            .iter()
            .filter(|b| b.state != BucketState::Match)
    }

    /// How many buckets have each state, in the order of [`BucketState::ALL`].
    pub fn state_counts(&self) -> [usize; 5] {
        let mut n = [0; 5];
        for b in &self.buckets {
            n[b.state as usize] += 1;
        }
        n
    }

    /// Marks every bucket for which `held` (records the pipeline already holds from an
    /// earlier backfill: the rows of a merged file whose state was `live-short` or
    /// `conflict`) has at least the pulled counts: backfilling it again would add nothing.
    pub fn mark_held(&mut self, held: &[CountRecord]) {
        let held: BTreeMap<(Subject, UnixSeconds), (u64, u64)> = held
            .iter()
            .map(|r| ((r.subject, r.start), (r.count_in, r.count_out)))
            .collect();
        for b in &mut self.buckets {
            if let (Some(pi), Some(po)) = (b.pulled_in, b.pulled_out) {
                if let Some((hi, ho)) = held.get(&(Subject::Counter(b.counter), b.start)) {
                    b.held |= *hi >= pi && *ho >= po;
                }
            }
        }
    }

    /// The merged records, one per bucket, in order.
    pub fn merged_records(&self) -> Vec<CountRecord> {
        self.buckets
            .iter()
            .map(ReconciledBucket::merged_record)
            .collect()
    }

    /// The merged counts as one [`Series`] per counter (buckets whose length is a
    /// [`Resolution`]; each series in the zone of its first bucket's offset), with every
    /// bucket the pull raised marked `revised`: what
    /// [`rollup_branch`](crate::rollup::rollup_branch) reads to mark a branch bucket revised.
    /// Buckets whose length is no resolution, or does not match the counter's first bucket,
    /// are left out.
    pub fn merged_series(&self) -> BTreeMap<CameraSerial, Series> {
        let mut out: BTreeMap<CameraSerial, Series> = BTreeMap::new();
        for b in &self.buckets {
            let Some(resolution) = resolution_of(b.length) else {
                continue;
            };
            let series = out
                .entry(b.counter)
                .or_insert_with(|| Series::new(resolution, Zone::Fixed(b.offset)));
            let mut record = b.merged_record();
            record.count_in = b.live_in;
            record.count_out = b.live_out;
            if series.put_record(&record).is_err() {
                continue;
            }
            // Closing the bucket first makes the merge's raise a late revision.
            series.close_through(b.end());
            let _ = series.put_record(&b.merged_record());
        }
        out
    }
}

/// The resolution whose buckets are `length` seconds long (86 400: a day; 3 600: an hour).
///
/// Where two names share a length (`Minutes(60)` and `Hour`, `Seconds(60)` and
/// `Minutes(1)`) the coarser name wins: it is how the device and the series write it, so a
/// merged series of hourly buckets rolls up with hourly series.
pub fn resolution_of(length: u32) -> Option<Resolution> {
    Resolution::all()
        .filter(|r| r.nominal_seconds() == length)
        .last()
}

#[derive(Clone, Copy)]
struct Pulled {
    length: u32,
    offset: UtcOffset,
    count_in: u64,
    count_out: u64,
    source: Source,
}

#[derive(Clone, Copy)]
struct Live {
    length: u32,
    offset: UtcOffset,
    count_in: u64,
    count_out: u64,
    source: Source,
}

/// The pulled rows of each counter by start; a duplicated row keeps the larger count per
/// direction, so reading a line twice changes nothing.
fn pulled_by_counter(
    pulled: &[CountRecord],
) -> BTreeMap<CameraSerial, BTreeMap<UnixSeconds, Pulled>> {
    let mut out: BTreeMap<CameraSerial, BTreeMap<UnixSeconds, Pulled>> = BTreeMap::new();
    for r in pulled {
        let Subject::Counter(serial) = r.subject else {
            continue;
        };
        let slot = out
            .entry(serial)
            .or_default()
            .entry(r.start)
            .or_insert(Pulled {
                length: r.length,
                offset: r.offset,
                count_in: 0,
                count_out: 0,
                source: r.source,
            });
        slot.count_in = slot.count_in.max(r.count_in);
        slot.count_out = slot.count_out.max(r.count_out);
        slot.length = slot.length.max(r.length);
        slot.source = slot.source.min(r.source);
    }
    out
}

/// The most common value (the smallest among equals); `None` when empty.
fn most_common(lengths: impl Iterator<Item = u32>) -> Option<u32> {
    let mut n: BTreeMap<u32, usize> = BTreeMap::new();
    for l in lengths {
        *n.entry(l).or_default() += 1;
    }
    let mut best: Option<(u32, usize)> = None;
    for (l, c) in n {
        if best.is_none_or(|(_, bc)| c > bc) {
            best = Some((l, c));
        }
    }
    best.map(|(l, _)| l)
}

/// Where a counter's events go: its pulled buckets, else buckets of its pull's most
/// common length aligned like its first pulled bucket (or to local midnight).
struct Grid<'a> {
    pulled: Option<&'a BTreeMap<UnixSeconds, Pulled>>,
    length: u32,
    /// A bucket start the grid is aligned to; `None`: local midnight of each event.
    anchor: Option<UnixSeconds>,
}

impl Grid<'_> {
    /// `(start, length, offset)` of the bucket holding `end`.
    fn bucket(&self, end: UnixSeconds, offset: UtcOffset) -> (UnixSeconds, u32, UtcOffset) {
        if let Some(map) = self.pulled {
            if let Some((start, p)) = map.range(..=end).next_back() {
                if end < *start + i64::from(p.length) {
                    return (*start, p.length, p.offset);
                }
            }
        }
        let len = i64::from(self.length.max(1));
        let start = match self.anchor {
            Some(anchor) => end - (end - anchor).rem_euclid(len),
            None => end - (end + i64::from(offset.seconds())).rem_euclid(len),
        };
        (start, self.length, offset)
    }
}

/// Reconciles live events against pulled records, for every counter either names.
///
/// Records about sites (not counters) are ignored; so are staff events.
pub fn reconcile(events: &[CountEvent], pulled: &[CountRecord]) -> Reconciliation {
    let pulled = pulled_by_counter(pulled);
    let fallback = most_common(pulled.values().flat_map(|m| m.values().map(|p| p.length)))
        .unwrap_or(FALLBACK_LENGTH);
    let grids: BTreeMap<CameraSerial, Grid<'_>> = pulled
        .iter()
        .map(|(serial, map)| {
            let grid = Grid {
                pulled: Some(map),
                length: most_common(map.values().map(|p| p.length)).unwrap_or(fallback),
                anchor: map.keys().next().copied(),
            };
            (*serial, grid)
        })
        .collect();
    let no_pull = Grid {
        pulled: None,
        length: fallback,
        anchor: None,
    };
    let live = live_buckets(events, |serial| grids.get(&serial).unwrap_or(&no_pull));
    Reconciliation {
        buckets: join(&pulled, &live),
    }
}

type LiveMap = BTreeMap<(CameraSerial, UnixSeconds), Live>;

/// The deduplicated visitor events binned per counter on its grid.
fn live_buckets<'g>(
    events: &[CountEvent],
    grid_of: impl Fn(CameraSerial) -> &'g Grid<'g>,
) -> LiveMap {
    let mut seen = BTreeSet::new();
    let mut live = LiveMap::new();
    for e in events {
        if e.people_type != PeopleType::Visitor || !seen.insert(e.key()) {
            continue;
        }
        let (start, length, offset) = grid_of(e.serial).bucket(e.end, e.offset);
        let slot = live.entry((e.serial, start)).or_insert(Live {
            length,
            offset,
            count_in: 0,
            count_out: 0,
            source: e.source,
        });
        // Deterministic whatever the order of events: the larger offset, the first source.
        slot.offset = slot.offset.max(offset);
        slot.source = slot.source.min(e.source);
        match e.metric {
            Metric::In => slot.count_in += 1,
            Metric::Out => slot.count_out += 1,
        }
    }
    live
}

/// Every pulled bucket with its live counts, plus the live buckets the pull lacks.
fn join(
    pulled: &BTreeMap<CameraSerial, BTreeMap<UnixSeconds, Pulled>>,
    live: &LiveMap,
) -> Vec<ReconciledBucket> {
    let mut out =
        Vec::with_capacity(live.len() + pulled.values().map(BTreeMap::len).sum::<usize>());
    for (serial, map) in pulled {
        for (start, p) in map {
            let l = live.get(&(*serial, *start));
            let (li, lo) = l.map_or((0, 0), |l| (l.count_in, l.count_out));
            out.push(ReconciledBucket {
                counter: *serial,
                start: *start,
                length: p.length,
                state: BucketState::compare((li, lo), (p.count_in, p.count_out)),
                live_in: li,
                live_out: lo,
                pulled_in: Some(p.count_in),
                pulled_out: Some(p.count_out),
                offset: p.offset,
                source: p.source,
                held: false,
            });
        }
    }
    for ((serial, start), l) in live {
        let covered = pulled.get(serial).is_some_and(|m| m.contains_key(start));
        if !covered {
            out.push(ReconciledBucket {
                counter: *serial,
                start: *start,
                length: l.length,
                state: BucketState::Unverified,
                live_in: l.count_in,
                live_out: l.count_out,
                pulled_in: None,
                pulled_out: None,
                offset: l.offset,
                source: l.source,
                held: false,
            });
        }
    }
    out.sort_unstable_by_key(|b| (b.counter, b.start));
    out
}

/// Replaces the pulled rows of `base` by those of `fresh` for every `(counter, start)`
/// that `fresh` holds: a new pull of a window supersedes the old one. Rows keep `base`'s
/// order, new ones follow.
pub fn overlay(base: &[CountRecord], fresh: &[CountRecord]) -> Vec<CountRecord> {
    let replaced: BTreeSet<(Subject, UnixSeconds)> =
        fresh.iter().map(|r| (r.subject, r.start)).collect();
    base.iter()
        .filter(|r| !replaced.contains(&(r.subject, r.start)))
        .chain(fresh.iter())
        .copied()
        .collect()
}
