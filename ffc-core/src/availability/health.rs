//! Fleet health: offline incidents, last-seen, and the outbox overflow case.

use alloc::vec::Vec;

use super::{Activity, AvailabilityConfig, SessionKind};
use crate::model::CameraSerial;
use crate::time::UnixSeconds;

/// A counter silent within opening hours for longer than
/// [`AvailabilityConfig::offline_after_seconds`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Incident {
    /// The counter.
    pub counter: CameraSerial,
    /// Last time it was heard before the silence (UTC).
    pub from: UnixSeconds,
    /// When it was heard again; `None` while the incident is open.
    pub to: Option<UnixSeconds>,
    /// Seconds of the silence that fell within opening hours (up to `now` when open).
    pub open_seconds: i64,
}

/// The last instant the receivers heard from the counter (an event or a session record).
pub fn last_seen(activity: &Activity) -> Option<UnixSeconds> {
    let events = activity
        .events
        .iter()
        .map(|(end, r)| r.unwrap_or(*end))
        .max();
    let sessions = activity.sessions.iter().map(|s| s.at).max();
    events.max(sessions)
}

/// Seconds of `[a, b)` within opening hours, by minute.
fn open_seconds(a: UnixSeconds, b: UnixSeconds, config: &AvailabilityConfig) -> i64 {
    let mut t = a - a.rem_euclid(60);
    let mut n = 0;
    while t < b {
        if config.hours.is_open(t, &config.zone) {
            n += (t + 60).min(b) - t.max(a);
        }
        t += 60;
    }
    n
}

/// The counter's incidents up to `now`: every silence between two instants it was heard
/// whose part within opening hours exceeds the threshold, and an open one when it has
/// been silent since its last message.
pub fn incidents(
    counter: CameraSerial,
    activity: &Activity,
    now: UnixSeconds,
    config: &AvailabilityConfig,
) -> Vec<Incident> {
    let heard = activity.heard();
    let mut out = Vec::new();
    for pair in heard.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        if b - a <= config.offline_after_seconds {
            continue;
        }
        let open = open_seconds(a, b, config);
        if open > config.offline_after_seconds {
            out.push(Incident {
                counter,
                from: a,
                to: Some(b),
                open_seconds: open,
            });
        }
    }
    if let Some(last) = heard.last().copied().filter(|l| *l < now) {
        let open = if now - last > config.offline_after_seconds {
            open_seconds(last, now, config)
        } else {
            0
        };
        if open > config.offline_after_seconds {
            out.push(Incident {
                counter,
                from: last,
                to: None,
                open_seconds: open,
            });
        }
    }
    out
}

/// The overflow case: after an outage, a burst of exactly the outbox's capacity of resent
/// events, then silence. The counter's outbox filled while it could not deliver, it resent
/// what it held, and its WebSocket module was then likely switched off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct OverflowSuspect {
    /// The counter.
    pub counter: CameraSerial,
    /// Last time it was heard before the outage.
    pub outage_from: UnixSeconds,
    /// First receive time of the burst.
    pub burst_from: UnixSeconds,
    /// Last receive time of the burst; silent since.
    pub burst_to: UnixSeconds,
    /// Events in the burst.
    pub events: usize,
}

impl OverflowSuspect {
    /// The name of the case and what to do.
    pub const ADVICE: &'static str = "outbox overflow: 10,000 unsent events were resent after an outage, then silence; the WebSocket module was likely switched off: re-enable it and backfill";
}

/// The overflow case for this counter, if its activity up to `now` shows it (the last
/// such burst).
pub fn overflow(
    counter: CameraSerial,
    activity: &Activity,
    now: UnixSeconds,
    config: &AvailabilityConfig,
) -> Option<OverflowSuspect> {
    let mut received: Vec<UnixSeconds> = activity.events.iter().filter_map(|(_, r)| *r).collect();
    received.sort_unstable();
    // The last burst: a run of receive times no more than the gap apart, ending the file.
    let burst_to = *received.last()?;
    let mut i = received.len() - 1;
    while i > 0 && received[i] - received[i - 1] <= config.burst_gap_seconds {
        i -= 1;
    }
    let burst_from = received[i];
    let events = received.len() - i;
    // Silence after it: nothing but a disconnect, for longer than the threshold.
    let spoke_after = activity
        .sessions
        .iter()
        .any(|s| s.at > burst_to && s.kind != SessionKind::Disconnect);
    if events != config.overflow_events
        || spoke_after
        || now - burst_to <= config.offline_after_seconds
    {
        return None;
    }
    // The outage before it: the last message before the burst other than a (re)connect.
    let before_events = i.checked_sub(1).map(|j| received[j]);
    let before_sessions = activity
        .sessions
        .iter()
        .filter(|s| s.at < burst_from && s.kind != SessionKind::Connect)
        .map(|s| s.at)
        .max();
    let outage_from = before_events.max(before_sessions)?;
    (burst_from - outage_from > config.offline_after_seconds).then_some(OverflowSuspect {
        counter,
        outage_from,
        burst_from,
        burst_to,
        events,
    })
}
