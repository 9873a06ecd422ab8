//! Data availability per counter per minute, modelled on FootfallCam's own states, rolled
//! up to any bucket; offline incidents, last-seen, and the outbox overflow case.
//!
//! A minute is `on-time` when what it holds was kept within 5 minutes after it ended (or
//! the counter was connected and had nothing to send), `late` when kept after that,
//! `offline` when no connection or heartbeat covered it and nothing arrived, `backfillable`
//! when the counter holds data the pipeline lacks (a `live-short` bucket not merged yet),
//! `backfilled` once that pull was merged, and `lost` when the counter holds nothing either
//! (its pull covers the time but has no row) or no longer holds that time.
//!
//! Input is what the receivers keep: each event's receive time ([`ReceivedEvent`]) and the
//! connection sessions ([`SessionRecord`]), gathered per counter by [`activity`].
//!
//! ```
//! use ffc_core::availability::{activity, availability, AvailabilityConfig, AvailabilityInput};
//! use ffc_core::availability::{MinuteState, SessionKind, SessionRecord, SessionSource};
//! use ffc_core::CameraSerial;
//!
//! let counter = CameraSerial::from_u64(1);
//! let sessions = [
//!     SessionRecord { counter, source: SessionSource::Ws, kind: SessionKind::Connect, at: 0 },
//!     SessionRecord { counter, source: SessionSource::Ws, kind: SessionKind::Disconnect, at: 600 },
//! ];
//! let seen = activity(&[], &sessions);
//! let input = AvailabilityInput { counter, from: 0, to: 1200, buckets: &[], merged: false };
//! let minutes = availability(&input, seen.get(&counter), &AvailabilityConfig::default());
//! assert_eq!(minutes.minutes[0], MinuteState::OnTime); // connected, nothing to send
//! assert_eq!(minutes.minutes[15], MinuteState::Offline); // neither connected nor heard
//! ```

mod health;
#[cfg(test)]
mod tests;
mod wire;

pub use health::{incidents, last_seen, overflow, Incident, OverflowSuspect};
pub use wire::{
    format_rfc3339, parse_rfc3339, ReceivedEvent, SessionKind, SessionRecord, SessionSource,
};

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use crate::kpi::OperatingHours;
use crate::model::CameraSerial;
use crate::reconcile::{BucketState, ReconciledBucket};
use crate::time::{Resolution, UnixSeconds, Zone};

/// Seconds after a minute's end within which its data counts as on time.
pub const ON_TIME_SECONDS: i64 = 300;

/// The availability of one counter in one minute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum MinuteState {
    /// Kept within 5 minutes after the minute ended (or connected with nothing to send).
    OnTime,
    /// Kept later than that.
    Late,
    /// No connection or heartbeat covered the minute and nothing arrived.
    Offline,
    /// The counter holds data the pipeline lacks.
    Backfillable,
    /// Data the live path missed, restored from a pull.
    Backfilled,
    /// The counter holds nothing either, or no longer holds that time.
    Lost,
}

impl MinuteState {
    /// Every state, in order.
    pub const ALL: [MinuteState; 6] = [
        MinuteState::OnTime,
        MinuteState::Late,
        MinuteState::Offline,
        MinuteState::Backfillable,
        MinuteState::Backfilled,
        MinuteState::Lost,
    ];

    /// `on-time`, `late`, `offline`, `backfillable`, `backfilled`, `lost`.
    pub const fn label(self) -> &'static str {
        match self {
            MinuteState::OnTime => "on-time",
            MinuteState::Late => "late",
            MinuteState::Offline => "offline",
            MinuteState::Backfillable => "backfillable",
            MinuteState::Backfilled => "backfilled",
            MinuteState::Lost => "lost",
        }
    }

    /// How bad the state is for a roll-up's headline: lost, then backfillable, offline,
    /// late, backfilled, on-time.
    pub const fn severity(self) -> u8 {
        match self {
            MinuteState::OnTime => 0,
            MinuteState::Backfilled => 1,
            MinuteState::Late => 2,
            MinuteState::Offline => 3,
            MinuteState::Backfillable => 4,
            MinuteState::Lost => 5,
        }
    }
}

/// Minutes per state over a bucket.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct StateCounts(pub [u32; 6]);

impl StateCounts {
    /// Minutes in `state`.
    pub fn get(&self, state: MinuteState) -> u32 {
        self.0[state as usize]
    }

    /// Counts one more minute in `state`.
    pub fn add(&mut self, state: MinuteState) {
        self.0[state as usize] += 1;
    }

    /// Minutes counted.
    pub fn total(&self) -> u32 {
        self.0.iter().sum()
    }

    /// The most severe state present ([`MinuteState::severity`]); `None` when empty.
    pub fn worst(&self) -> Option<MinuteState> {
        MinuteState::ALL
            .into_iter()
            .filter(|s| self.get(*s) > 0)
            .max_by_key(|s| s.severity())
    }

    /// Share of minutes whose data the pipeline holds (on-time, late or backfilled).
    pub fn available(&self) -> f64 {
        let ok = self.get(MinuteState::OnTime)
            + self.get(MinuteState::Late)
            + self.get(MinuteState::Backfilled);
        match self.total() {
            0 => 0.0,
            n => f64::from(ok) / f64::from(n),
        }
    }
}

/// Settings of the availability model: `Default`, then `with_*` setters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct AvailabilityConfig {
    /// Seconds after a minute's end within which its data is on time (default 300).
    pub on_time_seconds: i64,
    /// Seconds a heartbeat or occupancy message vouches for the counter after it (default
    /// 900, the counters' heartbeat interval).
    pub heartbeat_seconds: i64,
    /// Silence within opening hours longer than this opens an incident (default 900).
    pub offline_after_seconds: i64,
    /// Opening hours, in [`AvailabilityConfig::zone`] (default always open).
    pub hours: OperatingHours,
    /// The sites' zone, for opening hours.
    pub zone: Zone,
    /// The earliest instant the counter still holds data; before it a gap is `lost`
    /// (default: it holds everything).
    pub device_holds_from: Option<UnixSeconds>,
    /// Largest gap in seconds between receive times inside one resent burst (default 5).
    pub burst_gap_seconds: i64,
    /// Events in a burst that name the overflow: the outbox's capacity (default 10,000).
    pub overflow_events: usize,
}

impl Default for AvailabilityConfig {
    fn default() -> Self {
        AvailabilityConfig {
            on_time_seconds: ON_TIME_SECONDS,
            heartbeat_seconds: 900,
            offline_after_seconds: 900,
            hours: OperatingHours::ALWAYS,
            zone: Zone::UTC,
            device_holds_from: None,
            burst_gap_seconds: 5,
            overflow_events: crate::outbox::DEFAULT_CAPACITY,
        }
    }
}

impl AvailabilityConfig {
    /// Sets [`AvailabilityConfig::on_time_seconds`].
    pub fn with_on_time_seconds(mut self, v: i64) -> Self {
        self.on_time_seconds = v;
        self
    }
    /// Sets [`AvailabilityConfig::heartbeat_seconds`].
    pub fn with_heartbeat_seconds(mut self, v: i64) -> Self {
        self.heartbeat_seconds = v;
        self
    }
    /// Sets [`AvailabilityConfig::offline_after_seconds`].
    pub fn with_offline_after_seconds(mut self, v: i64) -> Self {
        self.offline_after_seconds = v;
        self
    }
    /// Sets [`AvailabilityConfig::hours`].
    pub fn with_hours(mut self, v: OperatingHours) -> Self {
        self.hours = v;
        self
    }
    /// Sets [`AvailabilityConfig::zone`].
    pub fn with_zone(mut self, v: Zone) -> Self {
        self.zone = v;
        self
    }
    /// Sets [`AvailabilityConfig::device_holds_from`].
    pub fn with_device_holds_from(mut self, v: Option<UnixSeconds>) -> Self {
        self.device_holds_from = v;
        self
    }
    /// Sets [`AvailabilityConfig::burst_gap_seconds`].
    pub fn with_burst_gap_seconds(mut self, v: i64) -> Self {
        self.burst_gap_seconds = v;
        self
    }
    /// Sets [`AvailabilityConfig::overflow_events`].
    pub fn with_overflow_events(mut self, v: usize) -> Self {
        self.overflow_events = v;
        self
    }
}

/// What the receivers kept about one counter, in time order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Activity {
    /// Per kept event: its end time and its receive time when recorded; by end time.
    pub events: Vec<(UnixSeconds, Option<UnixSeconds>)>,
    /// Session records, by time.
    pub sessions: Vec<SessionRecord>,
}

impl Activity {
    /// Every instant the receivers heard from the counter (event receive times, or end
    /// times where none was recorded, and every session record), sorted.
    pub fn heard(&self) -> Vec<UnixSeconds> {
        let mut at: Vec<UnixSeconds> = self
            .events
            .iter()
            .map(|(end, received)| received.unwrap_or(*end))
            .chain(self.sessions.iter().map(|s| s.at))
            .collect();
        at.sort_unstable();
        at
    }
}

/// Gathers events (deduplicated by key) and session records per counter.
pub fn activity(
    events: &[ReceivedEvent],
    sessions: &[SessionRecord],
) -> BTreeMap<CameraSerial, Activity> {
    let mut seen = alloc::collections::BTreeSet::new();
    let mut out: BTreeMap<CameraSerial, Activity> = BTreeMap::new();
    for e in events {
        if seen.insert(e.event.key()) {
            let a = out.entry(e.event.serial).or_default();
            a.events.push((e.event.end, e.received));
        }
    }
    for s in sessions {
        out.entry(s.counter).or_default().sessions.push(*s);
    }
    for a in out.values_mut() {
        a.events.sort_unstable();
        a.sessions.sort_unstable_by_key(|s| (s.at, s.kind));
    }
    out
}

/// One counter's range to judge and what reconciliation says about it.
#[derive(Debug, Clone, Copy)]
pub struct AvailabilityInput<'a> {
    /// The counter.
    pub counter: CameraSerial,
    /// First instant (rounded down to a minute).
    pub from: UnixSeconds,
    /// End (exclusive; rounded up to a minute).
    pub to: UnixSeconds,
    /// The counter's reconciled buckets (may be empty: no pull to compare with).
    pub buckets: &'a [ReconciledBucket],
    /// Whether the pulled side of `buckets` was merged into the pipeline's data (then a
    /// `live-short` bucket is `backfilled`, else `backfillable`).
    pub merged: bool,
}

/// One counter's availability, minute by minute from `from`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CounterAvailability {
    /// The counter.
    pub counter: CameraSerial,
    /// Start of the first minute (UTC).
    pub from: UnixSeconds,
    /// One state per minute.
    pub minutes: Vec<MinuteState>,
}

impl CounterAvailability {
    /// The state of the minute holding `at`, if in range.
    pub fn state_at(&self, at: UnixSeconds) -> Option<MinuteState> {
        let i = usize::try_from((at - self.from).div_euclid(60)).ok()?;
        self.minutes.get(i).copied()
    }

    /// Minutes per state over `[start, end)`.
    pub fn rollup(&self, start: UnixSeconds, end: UnixSeconds) -> StateCounts {
        let mut n = StateCounts::default();
        let mut t = start - (start - self.from).rem_euclid(60);
        while t < end {
            if let Some(s) = self.state_at(t) {
                n.add(s);
            }
            t += 60;
        }
        n
    }

    /// Minutes per state for every bucket of `resolution` in `zone` over the range.
    pub fn by_bucket(&self, resolution: Resolution, zone: Zone) -> Vec<(UnixSeconds, StateCounts)> {
        let to = self.from + 60 * self.minutes.len() as i64;
        resolution
            .buckets(self.from, to, zone)
            .map(|start| {
                let end = resolution.next_start(start, &zone);
                (start, self.rollup(start.max(self.from), end.min(to)))
            })
            .collect()
    }
}

/// The counter's state in every minute of the input's range.
pub fn availability(
    input: &AvailabilityInput<'_>,
    activity: Option<&Activity>,
    config: &AvailabilityConfig,
) -> CounterAvailability {
    let from = input.from - input.from.rem_euclid(60);
    let to = input.to + (60 - input.to.rem_euclid(60)) % 60;
    let n = usize::try_from((to - from) / 60).unwrap_or(0);
    let empty = Activity::default();
    let activity = activity.unwrap_or(&empty);
    // Per minute: whether an event ended in it, and whether any of them came late.
    let mut arrived: Vec<Option<bool>> = alloc::vec![None; n];
    for (end, received) in &activity.events {
        let Ok(i) = usize::try_from((end - from).div_euclid(60)) else {
            continue;
        };
        if let Some(slot) = arrived.get_mut(i) {
            let minute_end = from + 60 * (i as i64 + 1);
            let late = received.is_some_and(|r| r > minute_end + config.on_time_seconds);
            *slot = Some(slot.unwrap_or(false) | late);
        }
    }
    let covered = coverage(activity, from, n, config);
    let pulled_span = pulled_span(input.buckets);
    let mut minutes = Vec::with_capacity(n);
    for i in 0..n {
        let t = from + 60 * i as i64;
        let bucket = bucket_at(input.buckets, t);
        let short = bucket
            .is_some_and(|b| matches!(b.state, BucketState::LiveShort | BucketState::Conflict));
        let restored = input.merged || bucket.is_some_and(|b| b.held);
        // In a short bucket the missing events lie in its minutes that received none.
        let state = match (arrived[i], short) {
            (Some(true), _) => MinuteState::Late,
            (Some(false), _) => MinuteState::OnTime,
            (None, true) if restored => MinuteState::Backfilled,
            (None, true) if config.device_holds_from.is_some_and(|h| t < h) => MinuteState::Lost,
            (None, true) => MinuteState::Backfillable,
            (None, false) if covered[i] => MinuteState::OnTime,
            (None, false) => gap_state(t, bucket.is_some(), pulled_span, config),
        };
        minutes.push(state);
    }
    CounterAvailability {
        counter: input.counter,
        from,
        minutes,
    }
}

/// An offline minute with no shortfall known: lost when the counter no longer holds it or
/// its pull covers the time without a row, else offline.
fn gap_state(
    t: UnixSeconds,
    in_pulled_bucket: bool,
    pulled_span: Option<(UnixSeconds, UnixSeconds)>,
    config: &AvailabilityConfig,
) -> MinuteState {
    if config.device_holds_from.is_some_and(|h| t < h) {
        return MinuteState::Lost;
    }
    let pull_covers = pulled_span.is_some_and(|(a, b)| a <= t && t < b);
    if pull_covers && !in_pulled_bucket {
        MinuteState::Lost
    } else {
        MinuteState::Offline
    }
}

/// The span from the first pulled bucket's start to the last one's end.
fn pulled_span(buckets: &[ReconciledBucket]) -> Option<(UnixSeconds, UnixSeconds)> {
    let mut pulled = buckets.iter().filter(|b| b.pulled_in.is_some());
    let first = pulled.next()?;
    let last = pulled.next_back().unwrap_or(first);
    Some((first.start, last.end()))
}

/// The pulled bucket holding `t` (buckets sorted by start).
fn bucket_at(buckets: &[ReconciledBucket], t: UnixSeconds) -> Option<&ReconciledBucket> {
    let i = buckets.partition_point(|b| b.start <= t);
    let b = buckets.get(i.checked_sub(1)?)?;
    (t < b.end() && b.pulled_in.is_some() || t < b.end() && b.state == BucketState::Unverified)
        .then_some(b)
}

/// Per minute, whether a connection or a heartbeat/occupancy message covered it.
fn coverage(
    activity: &Activity,
    from: UnixSeconds,
    n: usize,
    config: &AvailabilityConfig,
) -> Vec<bool> {
    let to = from + 60 * n as i64;
    let mut covered = alloc::vec![false; n];
    let mut mark = |a: UnixSeconds, b: UnixSeconds| {
        // Minutes that overlap [a, b).
        let first = (a.max(from) - from).div_euclid(60);
        let last = (b.min(to) - from + 59).div_euclid(60);
        for i in first.max(0)..last.max(0) {
            if let Some(c) = covered.get_mut(i as usize) {
                *c = true;
            }
        }
    };
    let mut open: Option<UnixSeconds> = None;
    for s in &activity.sessions {
        match s.kind {
            SessionKind::Connect => {
                open.get_or_insert(s.at);
            }
            SessionKind::Disconnect => {
                if let Some(a) = open.take() {
                    mark(a, s.at);
                }
            }
            SessionKind::Heartbeat | SessionKind::Occupancy => {
                mark(s.at, s.at + config.heartbeat_seconds);
            }
        }
    }
    if let Some(a) = open {
        mark(a, to);
    }
    covered
}
