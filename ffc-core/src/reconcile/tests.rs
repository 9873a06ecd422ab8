use alloc::vec::Vec;

use proptest::prelude::*;

use super::*;
use crate::model::{Metric, PeopleId, PeopleType, RoiId};
use crate::rollup::{rollup_branch, BranchSpec, Completeness};
use crate::SiteId;

const A: CameraSerial = CameraSerial::from_u64(0xa);
const B: CameraSerial = CameraSerial::from_u64(0xb);

fn event(serial: CameraSerial, id: u64, end: i64, metric: Metric) -> CountEvent {
    CountEvent {
        serial,
        roi: RoiId(1),
        metric,
        people_type: PeopleType::Visitor,
        people_id: PeopleId(id),
        start: end - 1,
        end,
        offset: UtcOffset::UTC,
        uuid: None,
        source: Source::WebSocket,
    }
}

fn record(serial: CameraSerial, start: i64, length: u32, i: u64, o: u64) -> CountRecord {
    CountRecord {
        subject: Subject::Counter(serial),
        start,
        length,
        offset: UtcOffset::UTC,
        count_in: i,
        count_out: o,
        outside: None,
        source: Source::DevicePull,
    }
}

/// `n_in` ins and `n_out` outs of `serial` inside `[start, start + 900)`.
fn events(serial: CameraSerial, start: i64, n_in: u64, n_out: u64) -> Vec<CountEvent> {
    let mut v = Vec::new();
    for k in 0..n_in {
        v.push(event(
            serial,
            start as u64 * 10 + k,
            start + 1 + k as i64,
            Metric::In,
        ));
    }
    for k in 0..n_out {
        v.push(event(
            serial,
            start as u64 * 10 + 5 + k,
            start + 1 + k as i64,
            Metric::Out,
        ));
    }
    v
}

#[test]
fn every_state_on_constructed_buckets() {
    let mut live = Vec::new();
    live.extend(events(A, 0, 2, 2)); // match
    live.extend(events(A, 900, 1, 2)); // short in
    live.extend(events(A, 1800, 3, 2)); // over in
    live.extend(events(A, 2700, 1, 3)); // conflict
    live.extend(events(A, 3600, 1, 0)); // not pulled
    let pulled = [
        record(A, 0, 900, 2, 2),
        record(A, 900, 900, 2, 2),
        record(A, 1800, 900, 2, 2),
        record(A, 2700, 900, 2, 2),
    ];
    let r = reconcile(&live, &pulled);
    let states: Vec<_> = r.buckets.iter().map(|b| (b.start, b.state)).collect();
    assert_eq!(
        states,
        [
            (0, BucketState::Match),
            (900, BucketState::LiveShort),
            (1800, BucketState::LiveOver),
            (2700, BucketState::Conflict),
            (3600, BucketState::Unverified),
        ]
    );
    let conflict = &r.buckets[3];
    assert_eq!((conflict.merged_in(), conflict.merged_out()), (2, 3));
    let over = &r.buckets[2];
    assert_eq!(over.merged_in(), 3, "a pull never lowers a count");
    assert_eq!((r.buckets[4].pulled_in, r.buckets[4].length), (None, 900));
    assert_eq!(r.state_counts(), [1, 1, 1, 1, 1]);
    assert!(!r.all_match());
}

#[test]
fn staff_and_duplicates_do_not_count() {
    let mut live = events(A, 0, 2, 0);
    live.push(live[0]);
    let mut staff = live[1];
    staff.people_type = PeopleType::Staff;
    staff.people_id = PeopleId(999);
    live.push(staff);
    let mut other_path = live[0];
    other_path.source = Source::Mqtt;
    live.push(other_path);
    let r = reconcile(&live, &[record(A, 0, 900, 2, 0)]);
    assert_eq!(r.buckets[0].state, BucketState::Match);
}

#[test]
fn events_bin_by_end_time() {
    let mut e = event(A, 1, 900, Metric::In);
    e.start = 899;
    let r = reconcile(&[e], &[record(A, 0, 900, 0, 0), record(A, 900, 900, 1, 0)]);
    assert_eq!(r.buckets[0].state, BucketState::Match);
    assert_eq!(r.buckets[1].state, BucketState::Match);
}

#[test]
fn a_counter_without_pulled_rows_takes_the_pull_s_length_at_local_midnight() {
    let mut e = event(B, 1, 3 * 3600 + 20 * 60, Metric::In);
    e.offset = UtcOffset::from_seconds(30 * 60).unwrap();
    // The pull (of another counter) is at 15 minutes.
    let r = reconcile(&[e], &[record(A, 0, 900, 0, 0), record(A, 900, 900, 0, 0)]);
    let b = r.buckets.iter().find(|b| b.counter == B).unwrap();
    assert_eq!(b.state, BucketState::Unverified);
    assert_eq!(b.length, 900);
    // 03:20 UTC is 03:50 local: the local bucket 03:45 starts at 03:15 UTC.
    assert_eq!(b.start, 3 * 3600 + 15 * 60);
}

#[test]
fn unpulled_buckets_of_a_pulled_counter_follow_its_alignment() {
    // Pulled hours that start at :30 (a half-hour zone pulled in UTC).
    let r = reconcile(
        &[event(A, 1, 5 * 3600 + 10, Metric::In)],
        &[record(A, 1800, 3600, 0, 0)],
    );
    let b = r.buckets.last().unwrap();
    assert_eq!(
        (b.start, b.length, b.state),
        (4 * 3600 + 1800, 3600, BucketState::Unverified)
    );
}

#[test]
fn merged_series_marks_backfilled_buckets_revised_in_a_roll_up() {
    let mut live = events(A, 0, 2, 2);
    live.extend(events(B, 0, 2, 2));
    live.extend(events(B, 900, 1, 1));
    let pulled = [
        record(A, 0, 900, 2, 2),
        record(A, 900, 900, 0, 0),
        record(B, 0, 900, 2, 2),
        record(B, 900, 900, 3, 1),
    ];
    let r = reconcile(&live, &pulled);
    let series = r.merged_series();
    let spec = BranchSpec {
        site: SiteId(1),
        counters: alloc::vec![A, B],
    };
    let zone = Zone::UTC;
    let branch = rollup_branch(&spec, &series, 0, 1800, Resolution::Minutes(15), zone).unwrap();
    assert_eq!(branch.buckets[0].completeness, Completeness::Complete);
    assert_eq!(branch.buckets[1].completeness, Completeness::Revised);
    assert_eq!(branch.buckets[1].counts.visitors_in, 3);
}

#[test]
fn backfill_joins_adjacent_windows_and_cuts_at_local_midnight() {
    let day = 86_400;
    let mut pulled = Vec::new();
    // A: short from 23:00 to 01:00 across midnight, and again 03:00-03:15.
    for start in [
        day - 3600,
        day - 2700,
        day - 1800,
        day - 900,
        day,
        day + 900,
        day + 10_800,
    ] {
        pulled.push(record(A, start, 900, 1, 0));
    }
    pulled.push(record(A, day + 1800, 900, 0, 0)); // matches (no live, nothing pulled)
    pulled.push(record(B, day, 900, 0, 1));
    let r = reconcile(&[], &pulled);
    let w = backfill_windows(&r);
    let spans: Vec<_> = w.iter().map(|w| (w.counter, w.from, w.to)).collect();
    assert_eq!(
        spans,
        [
            (A, day - 3600, day),
            (A, day, day + 1800),
            (A, day + 10_800, day + 11_700),
            (B, day, day + 900),
        ]
    );
    // A second run over the merged result finds nothing to pull.
    let merged = r.merged_records();
    let mut again = reconcile(&[], &merged);
    assert!(
        !backfill_windows(&again).is_empty(),
        "without provenance it looks short"
    );
    again.mark_held(&merged);
    assert!(backfill_windows(&again).is_empty());
    assert_eq!(
        again.state_counts(),
        r.state_counts(),
        "states kept as provenance"
    );
    // The server takes whole days: A's two days in one request, B's day shared with A?
    // No: A asks days 0..=1, B day 1 only, so two requests.
    let reqs = server_requests(&w, 30);
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0].counters, [A]);
    assert_eq!((reqs[0].last_day - reqs[0].first_day).num_days(), 1);
    assert_eq!(reqs[1].counters, [B]);
    // Chunked at one day, A needs two requests and shares day 1 with B.
    let reqs = server_requests(&w, 1);
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[1].counters, [A, B]);
}

#[test]
fn overlay_lets_a_fresh_pull_supersede() {
    let base = [record(A, 0, 900, 1, 1), record(A, 900, 900, 1, 1)];
    let fresh = [record(A, 900, 900, 5, 5)];
    let merged = overlay(&base, &fresh);
    assert_eq!(merged.len(), 2);
    assert_eq!(merged[1].count_in, 5);
}

#[test]
fn labels_round_trip() {
    for s in BucketState::ALL {
        assert_eq!(BucketState::from_label(s.label()), Some(s));
    }
    assert_eq!(BucketState::from_label("nope"), None);
}

fn arb_events() -> impl Strategy<Value = Vec<CountEvent>> {
    proptest::collection::vec(
        (0u64..3, 0u64..40, 0i64..7200, any::<bool>(), any::<bool>()),
        0..120,
    )
    .prop_map(|v| {
        v.into_iter()
            .map(|(s, id, end, out, staff)| {
                let mut e = event(
                    CameraSerial::from_u64(s),
                    id,
                    end,
                    if out { Metric::Out } else { Metric::In },
                );
                if staff {
                    e.people_type = PeopleType::Staff;
                }
                e
            })
            .collect()
    })
}

fn arb_pulled() -> impl Strategy<Value = Vec<CountRecord>> {
    proptest::collection::vec((0u64..3, 0i64..8, 0u64..6, 0u64..6), 0..20).prop_map(|v| {
        v.into_iter()
            .map(|(s, k, i, o)| record(CameraSerial::from_u64(s), k * 900, 900, i, o))
            .collect()
    })
}

proptest! {
    #[test]
    fn a_series_reconciled_with_itself_only_matches(events in arb_events(), pulled in arb_pulled()) {
        // The live series' own buckets, as records.
        let own = reconcile(&events, &pulled);
        let as_pulled: Vec<CountRecord> = own
            .buckets
            .iter()
            .map(|b| CountRecord { count_in: b.live_in, count_out: b.live_out, ..b.merged_record() })
            .collect();
        let again = reconcile(&events, &as_pulled);
        prop_assert!(again.all_match(), "{:?}", again.non_matching().collect::<Vec<_>>());
    }

    #[test]
    fn merged_is_never_below_either_side(events in arb_events(), pulled in arb_pulled()) {
        for b in reconcile(&events, &pulled).buckets {
            prop_assert!(b.merged_in() >= b.live_in && b.merged_out() >= b.live_out);
            prop_assert!(b.merged_in() >= b.pulled_in.unwrap_or(0));
            prop_assert!(b.merged_out() >= b.pulled_out.unwrap_or(0));
        }
    }

    #[test]
    fn order_and_duplicated_lines_do_not_matter(
        events in arb_events(),
        pulled in arb_pulled(),
        seed in any::<u64>(),
        dups in proptest::collection::vec(any::<prop::sample::Index>(), 0..20),
    ) {
        let base = reconcile(&events, &pulled);
        let mut shuffled = events.clone();
        let mut p = pulled.clone();
        if !events.is_empty() {
            for d in &dups {
                shuffled.push(events[d.index(events.len())]);
            }
        }
        if !pulled.is_empty() {
            for d in &dups {
                p.push(pulled[d.index(pulled.len())]);
            }
        }
        let mut rng = crate::rng::SplitMix64::new(seed);
        for i in (1..shuffled.len()).rev() {
            shuffled.swap(i, rng.below(i as u64 + 1) as usize);
        }
        for i in (1..p.len()).rev() {
            p.swap(i, rng.below(i as u64 + 1) as usize);
        }
        prop_assert_eq!(base, reconcile(&shuffled, &p));
    }
}

#[test]
fn a_bucket_length_names_the_coarser_resolution() {
    use crate::time::Resolution;
    assert_eq!(resolution_of(3600), Some(Resolution::Hour));
    assert_eq!(resolution_of(60), Some(Resolution::Minutes(1)));
    assert_eq!(resolution_of(900), Some(Resolution::Minutes(15)));
    assert_eq!(resolution_of(5), Some(Resolution::Seconds(5)));
    assert_eq!(resolution_of(86_400), Some(Resolution::Day));
    assert_eq!(resolution_of(7), None);
}
