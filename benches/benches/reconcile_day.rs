//! A day of live events reconciled against the day's hourly pull
//! (`ffc_core::reconcile::reconcile`), against a plain loop doing the same work for this
//! data: a `HashSet` of event keys to drop resends and staff, a `HashMap` of hourly
//! (in, out) per counter, each pulled row compared with its bucket, the live buckets the pull
//! lacks added as unverified, and the lot sorted by counter and start. The plain loop knows
//! the grid is whole UTC hours; ffc finds each counter's grid from its pulled rows.
//!
//! Groups `reconcile_day_<n>`: `n` events over four counters (`day_of_events`), one in
//! twenty sent twice, against 96 hourly rows less one counter's last hour (so that some
//! buckets are live-short and one unverified). `FFC_BENCH_QUICK` (as `scripts/bench.sh`
//! sets) runs 100,000 events, a few seconds; without it 1,000,000 as well.
use std::collections::{BTreeMap, HashMap, HashSet};

use ffc_benches::{compare, day_of_events, quick};
use ffc_core::reconcile::{reconcile, BucketState};
use ffc_core::{CameraSerial, CountEvent, CountRecord, Metric, PeopleType, Source, Subject};
use ffc_core::{UnixSeconds, UtcOffset};
use std::hint::black_box;

const DAY: i64 = 1_700_006_400; // a UTC midnight

/// One reconciled bucket as both sides report it: counter, start, state, live in and out.
type Row = (CameraSerial, UnixSeconds, BucketState, u64, u64);

/// The live events (with resends) and the pulled hourly rows.
fn workload(n: usize) -> (Vec<CountEvent>, Vec<CountRecord>) {
    let unique = day_of_events(n, DAY);
    let mut hours: BTreeMap<(CameraSerial, UnixSeconds), (u64, u64)> = BTreeMap::new();
    for e in unique
        .iter()
        .filter(|e| e.people_type == PeopleType::Visitor)
    {
        let slot = hours.entry((e.serial, hour_of(e.end))).or_default();
        match e.metric {
            Metric::In => slot.0 += 1,
            Metric::Out => slot.1 += 1,
        }
    }
    let last = hours.keys().next_back().copied();
    let pulled = hours
        .iter()
        .filter(|(key, _)| Some(**key) != last)
        .enumerate()
        .map(
            |(i, ((serial, start), (count_in, count_out)))| CountRecord {
                subject: Subject::Counter(*serial),
                start: *start,
                length: 3600,
                offset: UtcOffset::UTC,
                // Every seventh row counted one more than arrived live: live-short.
                count_in: count_in + u64::from(i % 7 == 0),
                count_out: *count_out,
                outside: None,
                source: Source::DevicePull,
            },
        )
        .collect();
    let mut events = unique.clone();
    events.extend(unique.iter().step_by(20).copied());
    (events, pulled)
}

fn hour_of(end: UnixSeconds) -> UnixSeconds {
    end - (end - DAY).rem_euclid(3600)
}

/// The measured side, as rows.
fn ffc_rows(events: &[CountEvent], pulled: &[CountRecord]) -> Vec<Row> {
    reconcile(events, pulled)
        .buckets
        .iter()
        .map(|b| (b.counter, b.start, b.state, b.live_in, b.live_out))
        .collect()
}

/// The baseline.
fn plain_rows(events: &[CountEvent], pulled: &[CountRecord]) -> Vec<Row> {
    let mut seen = HashSet::with_capacity(events.len());
    let mut live: HashMap<(CameraSerial, UnixSeconds), (u64, u64)> = HashMap::new();
    for e in events {
        if e.people_type != PeopleType::Visitor || !seen.insert(e.key()) {
            continue;
        }
        let slot = live.entry((e.serial, hour_of(e.end))).or_default();
        match e.metric {
            Metric::In => slot.0 += 1,
            Metric::Out => slot.1 += 1,
        }
    }
    let mut out = Vec::with_capacity(pulled.len() + 1);
    let mut covered = HashSet::with_capacity(pulled.len());
    for r in pulled {
        let Subject::Counter(serial) = r.subject else {
            continue;
        };
        let (li, lo) = live.get(&(serial, r.start)).copied().unwrap_or_default();
        let state = BucketState::compare((li, lo), (r.count_in, r.count_out));
        out.push((serial, r.start, state, li, lo));
        covered.insert((serial, r.start));
    }
    for ((serial, start), (li, lo)) in &live {
        if !covered.contains(&(*serial, *start)) {
            out.push((*serial, *start, BucketState::Unverified, *li, *lo));
        }
    }
    out.sort_unstable_by_key(|row| (row.0, row.1));
    out
}

fn reconcile_day(n: usize) {
    let (events, pulled) = workload(n);
    // The same work: both sides give the same buckets, states and counts.
    let rows = ffc_rows(&events, &pulled);
    assert_eq!(rows, plain_rows(&events, &pulled));
    assert!(rows.iter().any(|r| r.2 == BucketState::LiveShort));
    assert!(rows.iter().any(|r| r.2 == BucketState::Unverified));
    compare(
        &format!("reconcile_day_{n}"),
        "ffc_reconcile",
        || ffc_rows(black_box(&events), black_box(&pulled)),
        "plain_loop",
        || plain_rows(black_box(&events), black_box(&pulled)),
    );
}

fn main() {
    reconcile_day(100_000);
    if !quick() {
        reconcile_day(1_000_000);
    }
}
