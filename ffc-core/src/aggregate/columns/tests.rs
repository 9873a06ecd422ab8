use super::*;
use crate::model::{CameraSerial, PeopleId, RoiId, Source};
use crate::time::{Resolution, UtcOffset};
use proptest::prelude::*;
use std::vec::Vec;

const BASE: i64 = 1_700_000_000;

fn ev(metric: Metric, people: PeopleType, end: i64) -> CountEvent {
    CountEvent {
        serial: CameraSerial::from_u64(7),
        roi: RoiId(1),
        metric,
        people_type: people,
        people_id: PeopleId(1),
        start: end,
        end,
        offset: UtcOffset::UTC,
        uuid: None,
        source: Source::Unknown,
    }
}

/// Ends around `BASE`: most in a two-hour slice, some before it, some after it, and the
/// ends of i64 (which must be refused, not wrapped into range).
fn arb_end() -> impl Strategy<Value = i64> {
    prop_oneof![
        8 => (0i64..7_200).prop_map(|d| BASE + d),
        1 => (-10_000i64..0).prop_map(|d| BASE + d),
        1 => (7_200i64..20_000).prop_map(|d| BASE + d),
        1 => prop_oneof![Just(i64::MIN), Just(i64::MAX), Just(i64::MIN + 1), Just(0)],
    ]
}

fn arb_event() -> impl Strategy<Value = CountEvent> {
    (any::<bool>(), any::<bool>(), arb_end()).prop_map(|(out, staff, end)| {
        ev(
            if out { Metric::Out } else { Metric::In },
            if staff {
                PeopleType::Staff
            } else {
                PeopleType::Visitor
            },
            end,
        )
    })
}

/// Random events, and the same sorted by end: time order makes the long runs the run
/// path bins.
fn arb_events() -> impl Strategy<Value = Vec<CountEvent>> {
    (
        proptest::collection::vec(arb_event(), 0..600),
        any::<bool>(),
    )
        .prop_map(|(mut v, sort)| {
            if sort {
                v.sort_by_key(|e| e.end);
            }
            v
        })
}

fn arb_resolution() -> impl Strategy<Value = Resolution> {
    prop_oneof![
        Just(Resolution::Seconds(10)),
        Just(Resolution::Minutes(1)),
        Just(Resolution::Minutes(15)),
        Just(Resolution::Hour),
    ]
}

/// The struct path: counts, and the index and error of every refused event.
fn by_struct(
    binner: &mut Binner,
    cells: &mut [CountCells],
    events: &[CountEvent],
) -> Vec<(usize, SeriesError)> {
    let mut refused = Vec::new();
    for (i, e) in events.iter().enumerate() {
        if let Err(err) = binner.bin_event(cells, e) {
            refused.push((i, err));
        }
    }
    refused
}

#[test]
fn columns_keep_end_metric_and_people() {
    let events = [
        ev(Metric::In, PeopleType::Visitor, 5),
        ev(Metric::Out, PeopleType::Visitor, -3),
        ev(Metric::In, PeopleType::Staff, i64::MAX),
        ev(Metric::Out, PeopleType::Staff, 0),
    ];
    let columns = EventColumns::from_events(&events);
    assert_eq!(columns.len(), 4);
    assert_eq!(columns.cells(), &[0, 1, 2, 3]);
    assert_eq!(columns.ends(), &[5, -3, i64::MAX, 0]);
    let back: Vec<_> = columns.iter().collect();
    let expected: Vec<_> = events
        .iter()
        .map(|e| (e.end, e.metric, e.people_type))
        .collect();
    assert_eq!(back, expected);
    assert_eq!(events.iter().collect::<EventColumns>(), columns);
    assert!(EventColumns::new().is_empty());
}

#[test]
fn bin_columns_counts_runs_and_refuses_with_index() {
    // An hour boundary, so that bucket 0 is [T0, T0 + 60).
    const T0: i64 = 1_699_999_200;
    let mut columns = EventColumns::new();
    // A long run in bucket 0 (every cell), one event before the slice, one after it.
    for i in 0..37 {
        let metric = if i % 2 == 0 { Metric::In } else { Metric::Out };
        let people = if i % 3 == 0 {
            PeopleType::Staff
        } else {
            PeopleType::Visitor
        };
        columns.push(T0 + i, metric, people);
    }
    columns.push(T0 - 1, Metric::In, PeopleType::Visitor);
    columns.push(T0 + 120, Metric::In, PeopleType::Visitor);
    let mut cells = [[0u64; 4]; 2];
    let mut binner = Binner::new(Resolution::Minutes(1), Zone::UTC, T0).unwrap();
    let mut refused = Vec::new();
    let binned = binner.bin_columns(&mut cells, &columns, |i, e| refused.push((i, e)));
    assert_eq!(binned, 37);
    assert_eq!(
        refused,
        [(37, SeriesError::OutOfRange), (38, SeriesError::OutOfRange)]
    );
    // Of 0..37: In at even i, staff at i divisible by 3.
    let expected = [
        (0..37).filter(|i| i % 2 == 0 && i % 3 != 0).count() as u64,
        (0..37).filter(|i| i % 2 == 1 && i % 3 != 0).count() as u64,
        (0..37).filter(|i| i % 2 == 0 && i % 3 == 0).count() as u64,
        (0..37).filter(|i| i % 2 == 1 && i % 3 == 0).count() as u64,
    ];
    assert_eq!(cells[0], expected);
    assert_eq!(cells[1], [0; 4]);
}

proptest! {
    /// Binning the columns gives exactly the struct path's counts, and refuses the same
    /// events (by index, with the same error) and no others.
    #[test]
    fn bin_columns_equals_bin_event(
        events in arb_events(),
        resolution in arb_resolution(),
        buckets in 0usize..800,
    ) {
        let mut by_event = std::vec![[0u64; 4]; buckets];
        let mut binner = Binner::new(resolution, Zone::UTC, BASE).unwrap();
        let refused_by_event = by_struct(&mut binner, &mut by_event, &events);

        let columns = EventColumns::from_events(&events);
        let mut by_columns = std::vec![[0u64; 4]; buckets];
        let mut binner = Binner::new(resolution, Zone::UTC, BASE).unwrap();
        let mut refused = Vec::new();
        let binned = binner.bin_columns(&mut by_columns, &columns, |i, e| refused.push((i, e)));

        prop_assert_eq!(&by_columns, &by_event);
        prop_assert_eq!(&refused, &refused_by_event);
        prop_assert_eq!(binned + refused.len(), events.len());
    }

    /// `Series::add_columns` equals `add_event` on each event: buckets, counts and revised
    /// flags, in fixed and IANA zones (the dense path and the one-by-one path), also across
    /// DST changes (London's hour, Lord Howe's half hour).
    #[test]
    fn add_columns_equals_add_event(
        events in proptest::collection::vec(arb_event(), 0..400),
        resolution in prop_oneof![arb_resolution(), Just(Resolution::Day)],
        zone in prop_oneof![
            Just(Zone::UTC),
            (-12i32..=14).prop_map(|h| Zone::Fixed(UtcOffset::from_seconds(h * 3600 + 1800).unwrap())),
            Just(Zone::iana("Europe/London").unwrap()),
            Just(Zone::iana("Australia/Lord_Howe").unwrap()),
        ],
        // BASE; an hour before London's 2023-10-29 change; an hour before Lord Howe's
        // 2023-10-01 change (UTC 2023-09-30 15:30).
        shift in prop_oneof![Just(0i64), Just(1_698_541_200 - 3_600 - BASE), Just(1_696_087_800 - 3_600 - BASE)],
        closed in 0i64..7_200,
    ) {
        // The ends of i64 have no bucket start in any zone (`bucket_start` overflows), so
        // keep to instants a zone can hold.
        let events: Vec<CountEvent> = events
            .into_iter()
            .filter(|e| (0..i64::MAX / 2).contains(&e.end))
            .map(|e| ev(e.metric, e.people_type, e.end + shift))
            .collect();
        let mut one_by_one = Series::new(resolution, zone);
        one_by_one.close_through(BASE + shift + closed);
        let mut by_columns = one_by_one.clone();
        for e in &events {
            one_by_one.add_event(e);
        }
        by_columns.add_columns(&EventColumns::from_events(&events));
        prop_assert_eq!(by_columns, one_by_one);
    }
}

#[test]
fn add_columns_counts_across_a_half_hour_dst_change() {
    // Lord Howe moves from +10:30 to +11:00 at UTC 2023-09-30 15:30: hour buckets before
    // start at :30 UTC, after at :00, so the dense grid does not hold and the events go one
    // by one, into the buckets the series names.
    let zone = Zone::iana("Australia/Lord_Howe").unwrap();
    let change = 1_696_087_800;
    let events: Vec<CountEvent> = (-7_200..7_200)
        .step_by(60)
        .map(|d| ev(Metric::In, PeopleType::Visitor, change + d))
        .collect();
    let mut one_by_one = Series::new(Resolution::Hour, zone);
    for e in &events {
        one_by_one.add_event(e);
    }
    let mut by_columns = Series::new(Resolution::Hour, zone);
    by_columns.add_columns(&EventColumns::from_events(&events));
    assert_eq!(by_columns, one_by_one);
    assert_eq!(by_columns.total().visitors_in, 240);
}

#[test]
fn a_count_event_is_64_bytes_and_a_column_entry_9() {
    // The figures docs/design.md gives: the struct's fields add up to 60 bytes, rounded to
    // 64 by 8-byte alignment; the columns keep the 8-byte end and a 1-byte cell.
    assert_eq!(core::mem::size_of::<CountEvent>(), 64);
    assert_eq!(core::mem::size_of::<Option<crate::MessageId>>(), 17);
    assert_eq!(
        core::mem::size_of::<UnixSeconds>() + core::mem::size_of::<u8>(),
        9
    );
}
