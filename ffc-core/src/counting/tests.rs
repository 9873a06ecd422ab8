use super::*;
use crate::{
    CameraSerial, CountEvent, Metric, PeopleId, PeopleType, RoiId, Source, UtcOffset, Zone,
};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::vec::Vec;

const SERIAL: CameraSerial = CameraSerial::from_u64(0x6afc_e315);

fn door() -> CountingLine {
    // Along +x at y = 100, band 10: In is towards larger y.
    CountingLine::new(
        RoiId(1),
        Point::new(0.0, 100.0),
        Point::new(200.0, 100.0),
        10.0,
    )
    .unwrap()
}

fn run<const L: usize, const T: usize>(
    counter: &mut LineCounter<L, T>,
    frames: &[(i64, Vec<TrackedObject>)],
) -> Vec<CountEvent> {
    let mut events = Vec::new();
    for (t, objects) in frames {
        counter.update(*t, objects, |e| events.push(e));
    }
    events
}

/// One visitor walking the given y positions at x = 50, one frame per second from t = 1000.
fn walk_y(ys: &[f32]) -> Vec<(i64, Vec<TrackedObject>)> {
    ys.iter()
        .enumerate()
        .map(|(i, y)| {
            (
                1000 + i as i64,
                std::vec![TrackedObject::visitor(1, 50.0, *y)],
            )
        })
        .collect()
}

#[test]
fn a_passage_counts_once_with_band_entry_and_exit_times() {
    let zone = Zone::Fixed(UtcOffset::from_seconds(8 * 3600).unwrap());
    let mut c: LineCounter<1, 8> = LineCounter::new(SERIAL, zone, [door()]);
    let events = run(
        &mut c,
        &walk_y(&[50.0, 85.0, 95.0, 104.0, 109.0, 115.0, 150.0]),
    );
    assert_eq!(events.len(), 1);
    let e = events[0];
    assert_eq!(e.metric, Metric::In);
    assert_eq!(
        (e.start, e.end),
        (1002, 1005),
        "entered the band at 1002, left it at 1005"
    );
    assert_eq!(
        (e.serial, e.roi, e.people_id),
        (SERIAL, RoiId(1), PeopleId(1))
    );
    assert_eq!(e.people_type, PeopleType::Visitor);
    assert_eq!(e.source, Source::Counting);
    assert_eq!(e.offset.seconds(), 8 * 3600);
    assert_eq!(e.uuid, None);
    let events = run(&mut c, &walk_y(&[150.0, 105.0, 80.0]));
    assert_eq!(
        events.iter().map(|e| e.metric).collect::<Vec<_>>(),
        [Metric::Out]
    );
    assert_eq!(
        c.totals()[0],
        LineTotals {
            count_in: 1,
            count_out: 1,
            u_turns: 0
        }
    );
}

#[test]
fn u_turn_and_jitter_on_the_line_do_not_count() {
    let mut c: LineCounter<1, 8> = LineCounter::new(SERIAL, Zone::UTC, [door()]);
    // Into the band, across the line several times, back out where it came from.
    let events = run(
        &mut c,
        &walk_y(&[60.0, 95.0, 105.0, 91.0, 109.9, 90.0, 99.0, 70.0]),
    );
    assert!(events.is_empty(), "{events:?}");
    assert_eq!(c.totals()[0].u_turns, 1);
}

#[test]
fn lost_in_the_band_or_first_seen_in_it_does_not_count() {
    let mut c: LineCounter<1, 8> = LineCounter::new(SERIAL, Zone::UTC, [door()]);
    let mut frames = walk_y(&[60.0, 95.0, 105.0]);
    frames.push((1003, Vec::new())); // gone from the tracker inside the band
    frames.extend(
        walk_y(&[105.0, 150.0])
            .into_iter()
            .map(|(t, o)| (t + 10, o)),
    ); // same id again
    let report_events = run(&mut c, &frames);
    assert!(report_events.is_empty(), "{report_events:?}");
    // First seen in the band, then out either side.
    let events = run(
        &mut c,
        &[
            (2000, std::vec![TrackedObject::visitor(9, 50.0, 100.0)]),
            (2001, std::vec![TrackedObject::visitor(9, 50.0, 200.0)]),
        ],
    );
    assert!(events.is_empty());
    // Its next passage does count.
    let events = run(
        &mut c,
        &[
            (2002, std::vec![TrackedObject::visitor(9, 50.0, 95.0)]),
            (2003, std::vec![TrackedObject::visitor(9, 50.0, 0.0)]),
        ],
    );
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].metric, Metric::Out);
}

#[test]
fn going_around_the_end_does_not_count_but_a_jump_over_the_band_does() {
    let mut c: LineCounter<1, 8> = LineCounter::new(SERIAL, Zone::UTC, [door()]);
    let around = [(250.0, 50.0), (210.0, 95.0), (210.0, 105.0), (250.0, 150.0)];
    let frames: Vec<_> = around
        .iter()
        .enumerate()
        .map(|(i, (x, y))| (i as i64, std::vec![TrackedObject::visitor(1, *x, *y)]))
        .collect();
    assert!(run(&mut c, &frames).is_empty());
    // A jump past the end (no band sample, not through the segment) does not count either.
    let frames = [
        (10, std::vec![TrackedObject::visitor(2, 250.0, 50.0)]),
        (11, std::vec![TrackedObject::visitor(2, 250.0, 150.0)]),
    ];
    assert!(run(&mut c, &frames).is_empty());
    // A jump through the segment over the whole band counts, starting at the previous frame.
    let frames = [
        (20, std::vec![TrackedObject::visitor(3, 100.0, 50.0)]),
        (22, std::vec![TrackedObject::visitor(3, 120.0, 150.0)]),
    ];
    let events = run(&mut c, &frames);
    assert_eq!(events.len(), 1);
    assert_eq!(
        (events[0].metric, events[0].start, events[0].end),
        (Metric::In, 20, 22)
    );
}

#[test]
fn several_lines_count_independently() {
    let exit = CountingLine::new(
        RoiId(2),
        Point::new(200.0, 300.0),
        Point::new(0.0, 300.0),
        5.0,
    )
    .unwrap();
    let mut c: LineCounter<2, 8> = LineCounter::new(SERIAL, Zone::UTC, [door(), exit]);
    let events = run(&mut c, &walk_y(&[50.0, 150.0, 250.0, 350.0]));
    let got: Vec<_> = events.iter().map(|e| (e.roi, e.metric)).collect();
    // The exit line is drawn the other way, so walking down it counts Out there.
    assert_eq!(got, [(RoiId(1), Metric::In), (RoiId(2), Metric::Out)]);
    assert_eq!(c.lines()[1].roi(), RoiId(2));
}

#[test]
fn at_the_track_bound_new_ids_wait_and_start_fresh() {
    let mut c: LineCounter<1, 2> = LineCounter::new(SERIAL, Zone::UTC, [door()]);
    let v = TrackedObject::visitor;
    let r = c.update(
        0,
        &[v(1, 10.0, 50.0), v(2, 20.0, 50.0), v(3, 30.0, 50.0)],
        |_| {},
    );
    assert_eq!((r.tracks, r.tracks_started, r.untracked), (2, 2, 1));
    let mut events = Vec::new();
    // All three walk into the band; 3 is still not followed.
    let r = c.update(
        1,
        &[v(1, 10.0, 95.0), v(2, 20.0, 95.0), v(3, 30.0, 95.0)],
        |e| events.push(e),
    );
    assert_eq!(r.untracked, 1);
    // 2 disappears: 3 takes its slot at once, but from inside the band (origin unknown).
    let r = c.update(2, &[v(1, 10.0, 150.0), v(3, 30.0, 105.0)], |e| {
        events.push(e)
    });
    assert_eq!(
        (r.tracks_ended, r.tracks_started, r.untracked, r.tracks),
        (1, 1, 0, 2)
    );
    let r = c.update(3, &[v(1, 10.0, 150.0), v(3, 30.0, 150.0)], |e| {
        events.push(e)
    });
    assert_eq!(r.tracks, 2);
    let ids: Vec<_> = events.iter().map(|e| e.people_id.0).collect();
    assert_eq!(ids, [1], "the followed track counts; the late one does not");
    let mut ids: Vec<_> = c.track_ids().map(|p| p.0).collect();
    ids.sort_unstable();
    assert_eq!(ids, [1, 3]);
}

#[test]
fn duplicates_and_non_finite_positions_are_reported_not_counted() {
    let mut c: LineCounter<1, 4> = LineCounter::new(SERIAL, Zone::UTC, [door()]);
    let v = TrackedObject::visitor;
    let r = c.update(
        0,
        &[v(1, 10.0, 50.0), v(1, 10.0, 150.0), v(2, f32::NAN, 1.0)],
        |_| {},
    );
    assert_eq!((r.tracks, r.duplicates, r.invalid), (1, 1, 1));
    let r = c.update(1, &[v(1, f32::INFINITY, 150.0)], |_| {});
    assert_eq!((r.tracks, r.tracks_ended, r.invalid), (0, 1, 1));
    c.update(2, &[v(1, 10.0, 50.0)], |_| {});
    c.reset_tracks();
    assert_eq!(c.tracks(), 0);
}

#[test]
fn people_type_comes_from_the_latest_frame() {
    let mut c: LineCounter<1, 4> = LineCounter::new(SERIAL, Zone::UTC, [door()]);
    let staff = |y| TrackedObject {
        id: PeopleId(5),
        position: Point::new(50.0, y),
        people_type: PeopleType::Staff,
    };
    let mut events = Vec::new();
    c.update(0, &[TrackedObject::visitor(5, 50.0, 50.0)], |e| {
        events.push(e)
    });
    c.update(1, &[staff(150.0)], |e| events.push(e));
    assert_eq!(events[0].people_type, PeopleType::Staff);
}

// ---- properties ----------------------------------------------------------------------

/// A line at a random place and angle, and a map from line-local (along, across) to world.
#[derive(Debug, Clone, Copy)]
struct Frame {
    origin: (f32, f32),
    angle: f32,
    length: f32,
    band: f32,
}

impl Frame {
    fn line(&self) -> CountingLine {
        let (c, s) = (self.angle.cos(), self.angle.sin());
        let end = Point::new(
            self.origin.0 + c * self.length,
            self.origin.1 + s * self.length,
        );
        CountingLine::new(
            RoiId(1),
            Point::new(self.origin.0, self.origin.1),
            end,
            self.band,
        )
        .unwrap()
    }
    fn world(&self, along: f32, across: f32) -> Point {
        let (c, s) = (self.angle.cos(), self.angle.sin());
        Point::new(
            self.origin.0 + along * c - across * s,
            self.origin.1 + along * s + across * c,
        )
    }
}

fn frame() -> impl Strategy<Value = Frame> {
    (
        -500.0f32..500.0,
        -500.0f32..500.0,
        0.0f32..core::f32::consts::TAU,
        50.0f32..400.0,
        0.5f32..40.0,
    )
        .prop_map(|(x, y, angle, length, band)| Frame {
            origin: (x, y),
            angle,
            length,
            band,
        })
}

/// Tracks as (first frame, steps of (d_along fraction, d_across in bands)).
/// A track: first frame, start (along fraction, across in bands), steps.
type Walk = (usize, (f32, f32), Vec<(f32, f32)>);

fn walks() -> impl Strategy<Value = Vec<Walk>> {
    proptest::collection::vec(
        (
            0usize..20,
            (0.1f32..0.9, -4.0f32..4.0),
            proptest::collection::vec((-0.05f32..0.05, -2.5f32..2.5), 1..60),
        ),
        1..12,
    )
}

/// Feeds tracks (each its own id, alive for a contiguous run of frames) and returns the
/// events and each track's world positions.
fn feed(f: &Frame, tracks: &[Walk]) -> (Vec<CountEvent>, Vec<Vec<Point>>) {
    let mut paths: Vec<Vec<Point>> = Vec::new();
    for (_, (a0, d0), steps) in tracks {
        let (mut a, mut d) = (*a0, *d0);
        let mut path = std::vec![f.world(a * f.length, d * f.band)];
        for (da, dd) in steps {
            a = (a + da).clamp(0.1, 0.9);
            d = (d + dd).clamp(-8.0, 8.0);
            path.push(f.world(a * f.length, d * f.band));
        }
        paths.push(path);
    }
    let last = tracks
        .iter()
        .zip(&paths)
        .map(|((s, _, _), p)| s + p.len())
        .max()
        .unwrap_or(0);
    let mut c: LineCounter<1, 16> = LineCounter::new(SERIAL, Zone::UTC, [f.line()]);
    let mut events = Vec::new();
    for k in 0..last {
        let objects: Vec<_> = tracks
            .iter()
            .zip(&paths)
            .enumerate()
            .filter_map(|(id, ((start, _, _), path))| {
                let p = path.get(k.checked_sub(*start)?)?;
                Some(TrackedObject::visitor(id as u64, p.x, p.y))
            })
            .collect();
        c.update(k as i64, &objects, |e| events.push(e));
    }
    (events, paths)
}

fn per_track(events: &[CountEvent]) -> BTreeMap<u64, Vec<Metric>> {
    let mut m: BTreeMap<u64, Vec<Metric>> = BTreeMap::new();
    for e in events {
        m.entry(e.people_id.0).or_default().push(e.metric);
    }
    m
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// In − Out equals the net side change of each track: (last zone − first zone) / 2,
    /// and each track's events alternate.
    #[test]
    fn in_minus_out_is_the_net_side_change(f in frame(), tracks in walks()) {
        let (events, paths) = feed(&f, &tracks);
        let line = f.line();
        let by_track = per_track(&events);
        for (id, path) in paths.iter().enumerate() {
            let zones: Vec<i64> = path
                .iter()
                .filter_map(|p| match line.place(*p) {
                    Place::Zone(Side::Negative) => Some(-1),
                    Place::Zone(Side::Positive) => Some(1),
                    Place::Band => None,
                    Place::Beside => None,
                })
                .collect();
            prop_assert!(path.iter().all(|p| line.place(*p) != Place::Beside));
            let expected = match (zones.first(), zones.last()) {
                (Some(a), Some(b)) => (b - a) / 2,
                _ => 0,
            };
            let metrics = by_track.get(&(id as u64)).cloned().unwrap_or_default();
            let net: i64 = metrics.iter().map(|m| if *m == Metric::In { 1 } else { -1 }).sum();
            prop_assert_eq!(net, expected, "track {}: {:?}", id, metrics);
            prop_assert!(metrics.windows(2).all(|w| w[0] != w[1]), "alternates: {:?}", metrics);
        }
        for e in &events {
            prop_assert!(e.start <= e.end);
        }
    }

    /// Starting in a zone, entering the band and moving anywhere inside it (crossing the
    /// line itself as often as it likes), then lost or back to the same zone: never counts.
    #[test]
    fn jitter_in_the_band_and_u_turns_never_count(
        f in frame(),
        people in proptest::collection::vec(
            (any::<bool>(), 1.01f32..20.0, proptest::collection::vec((0.0f32..=1.0, -1.0f32..=1.0), 1..40), any::<bool>(), 1usize..4),
            1..10,
        ),
    ) {
        let line = f.line();
        let mut c: LineCounter<1, 16> = LineCounter::new(SERIAL, Zone::UTC, [line]);
        let mut events = Vec::new();
        let mut expected_u_turns = 0;
        let mut t = 0;
        for (id, (positive, far, jitter, comes_back, repeats)) in people.iter().enumerate() {
            let side = if *positive { 1.0 } else { -1.0 };
            let zone_point = f.world(0.5 * f.length, side * far * f.band);
            let mut frames = std::vec![zone_point];
            for _ in 0..*repeats {
                for (along, across) in jitter {
                    // Strictly inside the band so rounding cannot push a point out of it.
                    frames.push(f.world(along * f.length, 0.98 * across * f.band));
                }
                if *comes_back {
                    frames.push(zone_point);
                    expected_u_turns += 1;
                } else {
                    break;
                }
            }
            for p in frames {
                prop_assert!(line.place(p) == Place::Band || matches!(line.place(p), Place::Zone(_)));
                c.update(t, &[TrackedObject::visitor(id as u64, p.x, p.y)], |e| events.push(e));
                t += 1;
            }
        }
        c.update(t, &[], |e| events.push(e));
        prop_assert!(events.is_empty(), "{:?}", events);
        prop_assert_eq!(c.totals()[0].u_turns, expected_u_turns);
    }

    /// The table never holds more than T, and every frame's report adds up.
    #[test]
    fn track_table_accounting(frames in proptest::collection::vec(proptest::collection::vec((0u64..12, -50.0f32..250.0), 0..10), 1..40)) {
        let mut c: LineCounter<1, 4> = LineCounter::new(SERIAL, Zone::UTC, [door()]);
        let mut before = 0u32;
        for (t, ids) in frames.iter().enumerate() {
            let objects: Vec<_> = ids.iter().map(|(id, y)| TrackedObject::visitor(*id, 50.0, *y)).collect();
            let r = c.update(t as i64, &objects, |_| {});
            prop_assert!(r.tracks <= 4);
            prop_assert_eq!(r.tracks, before + r.tracks_started - r.tracks_ended);
            prop_assert_eq!(r.tracks as usize, c.tracks());
            let distinct: std::collections::BTreeSet<_> = ids.iter().map(|(id, _)| *id).collect();
            prop_assert_eq!(r.tracks + r.untracked, distinct.len() as u32, "every distinct id is followed or reported");
            prop_assert_eq!(r.duplicates as usize, ids.len() - distinct.len());
            before = r.tracks;
        }
    }
}

// ---- areas ---------------------------------------------------------------------------

fn square_area(dwell: u32) -> CountingArea<4> {
    let polygon = Polygon::new(&[
        Point::new(0.0, 0.0),
        Point::new(10.0, 0.0),
        Point::new(10.0, 10.0),
        Point::new(0.0, 10.0),
    ])
    .unwrap();
    CountingArea::new(RoiId(4), polygon).with_dwell(dwell)
}

#[test]
fn area_counts_after_dwell_and_out_on_leave() {
    let mut c: AreaCounter<1, 8, 4> = AreaCounter::new(SERIAL, Zone::UTC, [square_area(3)]);
    let v = TrackedObject::visitor;
    let mut ev = Vec::new();
    // A passer-by inside for 2 s: nothing.
    for (t, x) in [(0, 5.0), (1, 5.0), (2, 5.0), (3, 20.0)] {
        c.update(t, &[v(1, x, 5.0)], |e| ev.push(e));
    }
    assert!(ev.is_empty());
    assert_eq!(c.occupancy(0), Some(0));
    let s = c.sample(0, 3, OccupancyUnit::Occupied).unwrap();
    assert_eq!(
        (
            s.roi,
            s.object_count,
            s.unit,
            s.object_type,
            s.occupancy_type,
            s.timestamp
        ),
        (RoiId(4), 0, 1, 1, 1, 3)
    );
    // Two people stay: both count, occupancy 2 (flag 1).
    for t in 10..=13 {
        c.update(t, &[v(2, 5.0, 5.0), v(3, 6.0, 6.0)], |e| ev.push(e));
    }
    assert_eq!(
        ev.iter()
            .map(|e| (e.people_id.0, e.metric, e.start, e.end))
            .collect::<Vec<_>>(),
        [(2, Metric::In, 10, 13), (3, Metric::In, 10, 13)]
    );
    assert_eq!(c.occupancy_of(RoiId(4)), Some(2));
    assert_eq!(
        c.sample(0, 13, OccupancyUnit::People)
            .map(|s| (s.object_count, s.unit)),
        Some((2, 2))
    );
    assert_eq!(
        c.samples(13, OccupancyUnit::Occupied)
            .map(|s| s.object_count)
            .collect::<Vec<_>>(),
        [1]
    );
    // 2 walks out; 3 is lost inside: Out at its last sighting.
    ev.clear();
    c.update(14, &[v(2, 50.0, 5.0), v(3, 6.0, 6.0)], |e| ev.push(e));
    c.update(20, &[], |e| ev.push(e));
    assert_eq!(
        ev.iter()
            .map(|e| (e.people_id.0, e.metric, e.start, e.end))
            .collect::<Vec<_>>(),
        [(2, Metric::Out, 10, 14), (3, Metric::Out, 10, 14)]
    );
    assert_eq!(c.occupancy(0), Some(0));
    assert_eq!(c.occupancy(1), None);
    assert!(ev
        .iter()
        .all(|e| e.source == Source::Counting && e.roi == RoiId(4)));
}

proptest! {
    /// For random walks in and out of an area: In − Out equals the occupancy at every
    /// frame, each person's events alternate In, Out, ..., and every In waited the dwell.
    #[test]
    fn area_in_minus_out_is_occupancy(
        dwell in 0u32..5,
        frames in proptest::collection::vec(proptest::collection::vec((0u64..6, -5.0f32..15.0, -5.0f32..15.0), 0..6), 1..60),
    ) {
        let mut c: AreaCounter<1, 4, 4> = AreaCounter::new(SERIAL, Zone::UTC, [square_area(dwell)]);
        let mut events = Vec::new();
        for (t, objs) in frames.iter().enumerate() {
            let objects: Vec<_> = objs.iter().map(|(id, x, y)| TrackedObject::visitor(*id, *x, *y)).collect();
            c.update(t as i64, &objects, |e| events.push(e));
            let ins = events.iter().filter(|e| e.metric == Metric::In).count() as i64;
            let outs = events.iter().filter(|e| e.metric == Metric::Out).count() as i64;
            prop_assert_eq!(ins - outs, i64::from(c.occupancy(0).unwrap()));
        }
        for (_, metrics) in per_track(&events) {
            prop_assert!(metrics.iter().enumerate().all(|(i, m)| *m == if i % 2 == 0 { Metric::In } else { Metric::Out }), "{:?}", metrics);
        }
        for e in events.iter().filter(|e| e.metric == Metric::In) {
            prop_assert!(e.end - e.start >= i64::from(dwell));
        }
    }
}

#[test]
fn a_clock_stepping_back_never_gives_start_after_end() {
    let mut c: LineCounter<1, 4> = LineCounter::new(SERIAL, Zone::UTC, [door()]);
    let mut events = Vec::new();
    for (t, y) in [(100, 50.0), (101, 95.0), (90, 150.0)] {
        c.update(t, &[TrackedObject::visitor(1, 50.0, y)], |e| events.push(e));
    }
    assert_eq!(events.len(), 1);
    assert_eq!((events[0].start, events[0].end), (90, 90));
}
