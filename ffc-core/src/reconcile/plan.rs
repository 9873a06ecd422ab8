//! Minimal backfill planning: from the `live-short` buckets, the smallest set of requests
//! that fills them. Adjacent buckets are joined; a window is split only where the API's own
//! limits require it (the device answers one local day per request, the server's export
//! takes whole days in chunks of at most so many days).

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use chrono::NaiveDate;

use super::{BucketState, Reconciliation};
use crate::model::CameraSerial;
use crate::time::{seconds_to_naive, UnixSeconds, UtcOffset, SECONDS_PER_DAY};

/// One device request of a backfill: a counter's buckets `[from, to)` at `length`, inside
/// one local day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct BackfillWindow {
    /// The counter.
    pub counter: CameraSerial,
    /// First bucket start (UTC).
    pub from: UnixSeconds,
    /// The instant after the last bucket (UTC).
    pub to: UnixSeconds,
    /// Bucket length in seconds (the gap's resolution).
    pub length: u32,
    /// The counter's UTC offset, which places local midnight.
    pub offset: UtcOffset,
}

impl BackfillWindow {
    /// The local day (in the window's offset) that holds the instant `at`.
    pub fn local_day(offset: UtcOffset, at: UnixSeconds) -> i64 {
        (at + i64::from(offset.seconds())).div_euclid(SECONDS_PER_DAY)
    }

    /// The local date of the window's first bucket.
    pub fn first_date(&self) -> Option<NaiveDate> {
        seconds_to_naive(self.from + i64::from(self.offset.seconds())).map(|t| t.date())
    }

    /// The local date of the window's last bucket.
    pub fn last_date(&self) -> Option<NaiveDate> {
        seconds_to_naive(self.to - 1 + i64::from(self.offset.seconds())).map(|t| t.date())
    }
}

/// The device requests that fill every `live-short` bucket: per counter, runs of adjacent
/// buckets of one length joined, cut at local midnight (the device's 24-hour window), in
/// counter then time order. Buckets the pipeline already holds
/// ([`Reconciliation::mark_held`]) are skipped, so a second run over the merged result
/// plans nothing and sends no request.
pub fn backfill_windows(reconciliation: &Reconciliation) -> Vec<BackfillWindow> {
    let mut out: Vec<BackfillWindow> = Vec::new();
    for b in &reconciliation.buckets {
        if b.state != BucketState::LiveShort || b.held {
            continue;
        }
        if let Some(last) = out.last_mut() {
            let joins = last.counter == b.counter
                && last.length == b.length
                && last.offset == b.offset
                && last.to == b.start
                && BackfillWindow::local_day(b.offset, b.start)
                    == BackfillWindow::local_day(last.offset, last.from);
            if joins {
                last.to = b.end();
                continue;
            }
        }
        out.push(BackfillWindow {
            counter: b.counter,
            from: b.start,
            to: b.end(),
            length: b.length,
            offset: b.offset,
        });
    }
    out
}

/// One server export request of a backfill: the counters' rows over the local days
/// `[first_day, last_day]`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServerRequest {
    /// First local day.
    pub first_day: NaiveDate,
    /// Last local day (inclusive).
    pub last_day: NaiveDate,
    /// Bucket length in seconds of the gaps it fills.
    pub length: u32,
    /// The counters asked for, in serial order.
    pub counters: Vec<CameraSerial>,
}

/// The server requests that fill `windows`: per counter, the windows' days joined where
/// they touch or overlap, cut into chunks of at most `max_days` days; counters with the
/// same days and length share one request.
pub fn server_requests(windows: &[BackfillWindow], max_days: u32) -> Vec<ServerRequest> {
    let step = i64::from(max_days.max(1));
    // Per (counter, length): day spans as (first, last) day numbers, joined.
    let mut spans: BTreeMap<(CameraSerial, u32), Vec<(i64, i64)>> = BTreeMap::new();
    for w in windows {
        let first = BackfillWindow::local_day(w.offset, w.from);
        let last = BackfillWindow::local_day(w.offset, w.to - 1);
        let list = spans.entry((w.counter, w.length)).or_default();
        list.push((first, last));
    }
    let mut grouped: BTreeMap<(i64, i64, u32), Vec<CameraSerial>> = BTreeMap::new();
    for ((counter, length), mut list) in spans {
        list.sort_unstable();
        let mut joined: Vec<(i64, i64)> = Vec::new();
        for (a, b) in list {
            match joined.last_mut() {
                Some(last) if a <= last.1 + 1 => last.1 = last.1.max(b),
                _ => joined.push((a, b)),
            }
        }
        for (a, b) in joined {
            let mut start = a;
            while start <= b {
                let end = (start + step - 1).min(b);
                grouped
                    .entry((start, end, length))
                    .or_default()
                    .push(counter);
                start = end + 1;
            }
        }
    }
    grouped
        .into_iter()
        .filter_map(|((a, b, length), counters)| {
            Some(ServerRequest {
                first_day: day_date(a)?,
                last_day: day_date(b)?,
                length,
                counters,
            })
        })
        .collect()
}

fn day_date(day: i64) -> Option<NaiveDate> {
    seconds_to_naive(day * SECONDS_PER_DAY).map(|t| t.date())
}
