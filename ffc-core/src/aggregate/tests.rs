use super::*;
use crate::model::{CameraSerial, PeopleId, RoiId, Source};
use crate::time::UtcOffset;
use crate::CountRecord;
use crate::Subject;
use proptest::prelude::*;

const BASE: i64 = 1_700_000_000;

fn ev(serial: u64, metric: Metric, people: PeopleType, id: u64, end: i64) -> CountEvent {
    CountEvent {
        serial: CameraSerial::from_u64(serial),
        roi: RoiId(1),
        metric,
        people_type: people,
        people_id: PeopleId(id),
        start: end - 1,
        end,
        offset: UtcOffset::UTC,
        uuid: None,
        source: Source::Unknown,
    }
}

fn arb_event() -> impl Strategy<Value = CountEvent> {
    // The people type follows from the id: two events with one key are one event.
    (1u64..4, any::<bool>(), 0u64..50, 0i64..3 * 86_400).prop_map(|(serial, inn, id, dt)| {
        ev(
            serial,
            if inn { Metric::In } else { Metric::Out },
            if id % 5 == 0 {
                PeopleType::Staff
            } else {
                PeopleType::Visitor
            },
            id,
            BASE + dt,
        )
    })
}

fn arb_zone() -> impl Strategy<Value = Zone> {
    prop_oneof![
        Just(Zone::UTC),
        (-12i32..=14).prop_map(|h| Zone::Fixed(UtcOffset::from_seconds(h * 3600).unwrap())),
        Just(Zone::Fixed(
            UtcOffset::from_seconds(5 * 3600 + 1800).unwrap()
        )),
        Just(Zone::iana("Europe/London").unwrap()),
        Just(Zone::iana("America/New_York").unwrap()),
    ]
}

fn aggregate(events: &[CountEvent], resolution: Resolution, zone: Zone) -> Series {
    let mut s = Series::new(resolution, zone);
    for e in events {
        s.add_event(e);
    }
    s
}

#[test]
fn staff_counted_apart() {
    let mut s = Series::new(Resolution::Hour, Zone::UTC);
    s.add_event(&ev(1, Metric::In, PeopleType::Visitor, 1, BASE));
    s.add_event(&ev(1, Metric::In, PeopleType::Staff, 2, BASE));
    s.add_event(&ev(1, Metric::Out, PeopleType::Visitor, 3, BASE));
    let t = s.total();
    assert_eq!(
        (t.visitors_in, t.visitors_out, t.staff_in, t.staff_out),
        (1, 1, 1, 0)
    );
}

#[test]
fn late_event_marks_bucket_revised() {
    let mut s = Series::new(Resolution::Hour, Zone::UTC);
    s.add_event(&ev(1, Metric::In, PeopleType::Visitor, 1, BASE));
    s.close_through(BASE + 7200);
    let start = s.bucket_start(BASE);
    assert!(!s.get(start).unwrap().revised);
    s.add_event(&ev(1, Metric::In, PeopleType::Visitor, 2, BASE + 10));
    let b = s.get(start).unwrap();
    assert!(b.revised);
    assert_eq!(b.counts.visitors_in, 2);
    // An event in an open bucket is not late.
    s.add_event(&ev(1, Metric::In, PeopleType::Visitor, 3, BASE + 7300));
    assert!(!s.get(s.bucket_start(BASE + 7300)).unwrap().revised);
}

#[test]
fn records_replace_and_check_length() {
    let mut s = Series::new(Resolution::Hour, Zone::UTC);
    let start = s.bucket_start(BASE);
    let mut r = CountRecord {
        subject: Subject::Counter(CameraSerial::from_u64(1)),
        start,
        length: 3600,
        offset: UtcOffset::UTC,
        count_in: 5,
        count_out: 4,
        outside: None,
        source: Source::DevicePull,
    };
    s.put_record(&r).unwrap();
    s.put_record(&r).unwrap();
    assert_eq!(s.get(start).unwrap().counts.visitors_in, 5);
    s.close_through(start + 3600);
    r.count_in = 6;
    s.put_record(&r).unwrap();
    assert!(s.get(start).unwrap().revised);
    r.length = 900;
    assert_eq!(s.put_record(&r), Err(SeriesError::ResolutionMismatch));
    r.length = 3600;
    r.start += 60;
    assert_eq!(s.put_record(&r), Err(SeriesError::ResolutionMismatch));
}

#[test]
fn rebucket_refuses_finer() {
    let s = Series::new(Resolution::Hour, Zone::UTC);
    assert_eq!(
        s.rebucket(Resolution::Minutes(15)),
        Err(SeriesError::NotCoarser)
    );
    assert!(s.rebucket(Resolution::Day).is_ok());
}

#[test]
fn binner_refuses_out_of_range_and_day() {
    assert!(Binner::new(Resolution::Day, Zone::UTC, 0).is_err());
    let mut counts = [[0u64; 4]; 4];
    let mut b = Binner::new(Resolution::Minutes(15), Zone::UTC, BASE).unwrap();
    let origin = b.origin();
    assert_eq!(
        b.bin(&mut counts, Metric::In, PeopleType::Visitor, origin - 1),
        Err(SeriesError::OutOfRange)
    );
    assert_eq!(
        b.bin(&mut counts, Metric::In, PeopleType::Visitor, origin + 3600),
        Err(SeriesError::OutOfRange)
    );
    b.bin(&mut counts, Metric::Out, PeopleType::Staff, origin + 3599)
        .unwrap();
    b.bin(&mut counts, Metric::In, PeopleType::Visitor, origin)
        .unwrap();
    assert_eq!(Counts::from(counts[3]).staff_out, 1);
    assert_eq!(Counts::from(counts[0]).visitors_in, 1);
}

proptest! {
    /// (a) totals are conserved at every resolution and across re-bucketing, and
    /// re-bucketing equals aggregating directly.
    #[test]
    fn totals_conserved_and_rebucket_equals_direct(
        events in proptest::collection::vec(arb_event(), 0..300),
        zone in arb_zone(),
    ) {
        let mut expected = Counts::default();
        for e in &events { expected.add(e.metric, e.people_type, 1); }
        let resolutions: std::vec::Vec<Resolution> = Resolution::all().collect();
        for (i, fine) in resolutions.iter().enumerate() {
            let direct = aggregate(&events, *fine, zone);
            prop_assert_eq!(direct.total(), expected);
            for coarse in &resolutions[i..] {
                if !fine.divides(*coarse) { continue; }
                let re = direct.rebucket(*coarse).unwrap();
                prop_assert_eq!(&re, &aggregate(&events, *coarse, zone));
            }
        }
    }

    /// The dense binner agrees with the series.
    #[test]
    fn binner_matches_series(
        events in proptest::collection::vec(arb_event(), 0..300),
        zone in arb_zone(),
    ) {
        let resolution = Resolution::Minutes(15);
        let mut counts = std::vec![[0u64; 4]; 5 * 24 * 4];
        let mut binner = Binner::new(resolution, zone, BASE - 86_400).unwrap();
        for e in &events { binner.bin_event(&mut counts, e).unwrap(); }
        let series = aggregate(&events, resolution, zone);
        for (start, bucket) in series.iter() {
            let index = ((start - binner.origin()) / 900) as usize;
            prop_assert_eq!(Counts::from(counts[index]), bucket.counts);
        }
        let dense_total = counts.iter().fold(Counts::default(), |mut a, c| { a.merge(&Counts::from(*c)); a });
        prop_assert_eq!(dense_total, series.total());
    }

    /// (c) ingestion is idempotent under any duplication and reordering.
    #[test]
    fn ingestion_idempotent(
        events in proptest::collection::vec(arb_event(), 0..200),
        dup in proptest::collection::vec(any::<prop::sample::Index>(), 0..200),
        seed in any::<u64>(),
    ) {
        let mut once = Aggregator::new(Resolution::Hour, Zone::UTC);
        for e in &events { once.ingest(e); }
        let mut noisy: std::vec::Vec<CountEvent> = events.clone();
        if !events.is_empty() {
            for d in &dup { noisy.push(*d.get(&events)); }
        }
        // Deterministic shuffle from the seed.
        let mut state = seed | 1;
        for i in (1..noisy.len()).rev() {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17;
            noisy.swap(i, (state % (i as u64 + 1)) as usize);
        }
        let mut twice = Aggregator::new(Resolution::Hour, Zone::UTC);
        for e in &noisy { twice.ingest(e); }
        prop_assert_eq!(once.counters(), twice.counters());
    }

    /// `ingest_all` (columns per counter, binned together) equals `ingest` one by one:
    /// the same series, revised flags and duplicates refused, in any zone.
    #[test]
    fn ingest_all_equals_ingest(
        events in proptest::collection::vec(arb_event(), 0..300),
        zone in arb_zone(),
        resolution in prop_oneof![Just(Resolution::Minutes(15)), Just(Resolution::Hour), Just(Resolution::Day)],
        split in any::<prop::sample::Index>(),
    ) {
        // Two batches with the series closed between them, so that revised flags matter.
        let cut = if events.is_empty() { 0 } else { split.index(events.len()) };
        let (first, second) = events.split_at(cut);
        let mut one_by_one = Aggregator::new(resolution, zone);
        let mut batched = Aggregator::new(resolution, zone);
        let mut new = 0;
        for e in first {
            new += usize::from(one_by_one.ingest(e) == Ingested::New);
        }
        let batched_new = batched.ingest_all(first);
        one_by_one.close_through(BASE + 86_400);
        batched.close_through(BASE + 86_400);
        for e in second {
            new += usize::from(one_by_one.ingest(e) == Ingested::New);
        }
        prop_assert_eq!(batched_new + batched.ingest_all(second), new);
        prop_assert_eq!(batched.counters(), one_by_one.counters());
    }
}
