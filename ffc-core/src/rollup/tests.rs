use super::*;
use alloc::vec;
use proptest::prelude::*;

fn counter(n: u64) -> CameraSerial {
    CameraSerial::from_u64(n)
}

#[test]
fn late_data_marks_revised_and_missing_counter_partial() {
    let spec = BranchSpec {
        site: SiteId(1),
        counters: vec![counter(1), counter(2)],
    };
    let mut map = BTreeMap::new();
    for n in [1, 2] {
        let mut s = Series::new(Resolution::Hour, Zone::UTC);
        s.cover(0, 7200);
        map.insert(counter(n), s);
    }
    let r = rollup_branch(&spec, &map, 0, 7200, Resolution::Hour, Zone::UTC).unwrap();
    assert!(r
        .buckets
        .iter()
        .all(|b| b.completeness == Completeness::Complete));
    let s1 = map.get_mut(&counter(1)).unwrap();
    s1.close_through(7200);
    s1.add_counts(
        10,
        &Counts {
            visitors_in: 1,
            ..Counts::default()
        },
    );
    let r = rollup_branch(&spec, &map, 0, 10_800, Resolution::Hour, Zone::UTC).unwrap();
    assert_eq!(r.buckets[0].completeness, Completeness::Revised);
    assert_eq!(r.buckets[1].completeness, Completeness::Complete);
    assert_eq!(r.buckets[2].completeness, Completeness::NoData);
    map.remove(&counter(2));
    let r = rollup_branch(&spec, &map, 0, 3600, Resolution::Hour, Zone::UTC).unwrap();
    assert_eq!(
        r.buckets[0].completeness,
        Completeness::Partial {
            missing: vec![counter(2)]
        }
    );
    assert_eq!((r.buckets[0].reported, r.buckets[0].expected), (1, 2));
}

#[test]
fn group_names_every_missing_counter() {
    let mk = |site, completeness, counts_in| BranchSeries {
        site: SiteId(site),
        resolution: Resolution::Hour,
        zone: Zone::UTC,
        buckets: vec![RolledBucket {
            start: 0,
            local_start: NaiveDateTime::default(),
            end: 3600,
            counts: Counts {
                visitors_in: counts_in,
                ..Counts::default()
            },
            outside: Some(10),
            completeness,
            reported: 1,
            expected: 2,
        }],
    };
    let g = rollup_group(
        SiteId(100),
        &[
            mk(
                1,
                Completeness::Partial {
                    missing: vec![counter(9)],
                },
                3,
            ),
            mk(
                2,
                Completeness::Partial {
                    missing: vec![counter(4)],
                },
                4,
            ),
        ],
    )
    .unwrap();
    assert_eq!(g.buckets[0].counts.visitors_in, 7);
    assert_eq!(g.buckets[0].outside, Some(20));
    assert_eq!(
        g.buckets[0].completeness,
        Completeness::Partial {
            missing: vec![counter(4), counter(9)]
        }
    );
}

fn arb_map() -> impl Strategy<Value = (BTreeMap<CameraSerial, Series>, std::vec::Vec<CameraSerial>)>
{
    proptest::collection::vec(
        proptest::collection::vec((0i64..86_400, 0u64..20, 0u64..20), 0..30),
        1..6,
    )
    .prop_map(|per_counter| {
        let mut map = BTreeMap::new();
        let mut serials = std::vec::Vec::new();
        for (i, points) in per_counter.into_iter().enumerate() {
            let serial = counter(i as u64 + 1);
            let mut s = Series::new(Resolution::Hour, Zone::UTC);
            s.cover(0, 86_400);
            for (t, inn, out) in points {
                s.add_counts(
                    t,
                    &Counts {
                        visitors_in: inn,
                        visitors_out: out,
                        ..Counts::default()
                    },
                );
            }
            map.insert(serial, s);
            serials.push(serial);
        }
        (map, serials)
    })
}

proptest! {
    /// (b) the roll-up of complete counters equals the sum of the counters.
    #[test]
    fn rollup_of_complete_counters_is_their_sum((map, serials) in arb_map()) {
        let spec = BranchSpec { site: SiteId(1), counters: serials.clone() };
        let r = rollup_branch(&spec, &map, 0, 86_400, Resolution::Hour, Zone::UTC).unwrap();
        prop_assert_eq!(r.buckets.len(), 24);
        let mut expected = Counts::default();
        for s in map.values() { expected.merge(&s.total()); }
        let (total, whole) = r.total();
        prop_assert_eq!(total, expected);
        prop_assert!(whole);
        for b in &r.buckets {
            let mut sum = Counts::default();
            for s in map.values() { sum.merge(&s.get(b.start).unwrap().counts); }
            prop_assert_eq!(b.counts, sum);
            prop_assert_eq!(&b.completeness, &Completeness::Complete);
        }
    }

    /// (d) a missing counter always yields Partial (or NoData), never Complete.
    #[test]
    fn missing_counter_never_complete(
        (mut map, serials) in arb_map(),
        drop in any::<prop::sample::Index>(),
        hole in 0i64..24,
    ) {
        let victim = *drop.get(&serials);
        // The victim is offline for one hour: rebuild its series without that bucket.
        let old = map.remove(&victim).unwrap();
        let mut s = Series::new(Resolution::Hour, Zone::UTC);
        for (start, b) in old.iter() {
            if start != hole * 3600 { s.add_counts(start, &b.counts); }
        }
        map.insert(victim, s);
        let spec = BranchSpec { site: SiteId(1), counters: serials.clone() };
        let r = rollup_branch(&spec, &map, 0, 86_400, Resolution::Hour, Zone::UTC).unwrap();
        for b in &r.buckets {
            if b.start == hole * 3600 {
                if serials.len() == 1 {
                    prop_assert_eq!(&b.completeness, &Completeness::NoData);
                } else {
                    prop_assert_eq!(&b.completeness, &Completeness::Partial { missing: vec![victim] });
                }
                prop_assert!(!b.completeness.is_whole());
            } else {
                prop_assert_eq!(&b.completeness, &Completeness::Complete);
            }
        }
        // An expected counter with no series at all is missing everywhere.
        let mut spec2 = spec.clone();
        spec2.counters.push(counter(999));
        let r2 = rollup_branch(&spec2, &map, 0, 86_400, Resolution::Hour, Zone::UTC).unwrap();
        prop_assert!(r2.buckets.iter().all(|b| b.completeness != Completeness::Complete));
    }
}

#[test]
fn a_series_in_another_zone_or_resolution_is_an_error_naming_the_counter() {
    let spec = BranchSpec {
        site: SiteId(1),
        counters: vec![counter(1), counter(2)],
    };
    let eight = Zone::Fixed(crate::UtcOffset::from_seconds(8 * 3600).unwrap());
    let mut map = BTreeMap::new();
    map.insert(counter(1), Series::new(Resolution::Hour, Zone::UTC));
    map.insert(counter(2), Series::new(Resolution::Hour, eight));
    assert_eq!(
        spec.rollup(&map, 0, 3600),
        Err(RollupError::Zone {
            counter: counter(2),
            expected: Zone::UTC,
            found: eight
        })
    );
    map.insert(counter(2), Series::new(Resolution::Day, Zone::UTC));
    assert!(matches!(
        rollup_branch(&spec, &map, 0, 3600, Resolution::Hour, Zone::UTC),
        Err(RollupError::Resolution { counter: c, .. }) if c == counter(2)
    ));
    assert_eq!(
        spec.rollup(&BTreeMap::new(), 0, 3600),
        Err(RollupError::NoSeries { site: SiteId(1) })
    );
}

#[test]
fn rolled_buckets_carry_local_start_and_the_series_its_zone() {
    let spec = BranchSpec {
        site: SiteId(1),
        counters: vec![counter(1)],
    };
    let eight = Zone::Fixed(crate::UtcOffset::from_seconds(8 * 3600).unwrap());
    let mut s = Series::new(Resolution::Hour, eight);
    s.cover(0, 3600);
    let map = BTreeMap::from([(counter(1), s)]);
    let r = spec.rollup(&map, 0, 3600).unwrap();
    assert_eq!(r.zone, eight);
    assert_eq!(r.buckets[0].local_start.to_string(), "1970-01-01 08:00:00");
}
