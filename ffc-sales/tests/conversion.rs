//! Sales joined with footfall: rates by the KPI rules, undefined denominators, flags for
//! missing and partial footfall, DST days, and no sale lost or counted twice.

use std::collections::{BTreeMap, HashMap};

use ffc_core::aggregate::{Counts, Series};
use ffc_core::kpi::OperatingHours;
use ffc_core::rollup::{rollup_branch, BranchSpec, Completeness};
use ffc_core::{CameraSerial, Resolution, SiteId, UtcOffset, Zone};
use ffc_sales::conversion::{convert, ConversionError, HourFlag, StoreFootfall};
use ffc_sales::{validate_bytes, HourlySales, ValidationConfig};
use proptest::prelude::*;

const HEADER: &str = "StoreCode,DateTime,TotalTransactionQty,TotalTransactionValue\n";

fn sales(rows: &[&str]) -> HourlySales {
    let file = format!("{HEADER}{}\n", rows.join("\n"));
    let v = validate_bytes(file.as_bytes(), &ValidationConfig::default());
    assert!(v.is_valid(), "{:?}", v.errors);
    v.sales
}

fn visitors(n: u64) -> Counts {
    Counts {
        visitors_in: n,
        visitors_out: n,
        ..Counts::default()
    }
}

/// 2024-06-01 00:00 in UTC+8.
const DAY_UTC8: i64 = 1_717_200_000 - 8 * 3600;

#[test]
fn hourly_and_daily_rates_follow_the_kpi_rules() {
    let zone = Zone::Fixed(UtcOffset::from_seconds(8 * 3600).unwrap());
    let s = sales(&[
        "S1,01-06-2024 09:10,2,50.00",
        "S1,01-06-2024 09:50,1,25.50",
        "S1,01-06-2024 10:00,3,30",
        "S1,01-06-2024 12:30,0,0",
    ]);
    let mut ff = Series::new(Resolution::Hour, zone);
    ff.cover(DAY_UTC8, DAY_UTC8 + 86_400);
    ff.add_counts(DAY_UTC8 + 9 * 3600, &visitors(12));
    ff.add_counts(DAY_UTC8 + 10 * 3600, &visitors(6));
    // 11:00 and 12:00 covered with nobody in.
    let map = HashMap::from([("S1".to_owned(), StoreFootfall::series(&ff))]);
    let open = OperatingHours {
        open: 9 * 3600,
        close: 13 * 3600,
    };
    let c = convert(&s, &map, &open).unwrap();
    assert_eq!(c.hours.len(), 24);
    let at = |h: i64| {
        c.hours
            .iter()
            .find(|x| x.start == DAY_UTC8 + h * 3600)
            .unwrap()
    };
    assert_eq!(at(9).transactions, 3);
    assert_eq!(at(9).amount_cents, 7550);
    assert_eq!(at(9).conversion_rate, Some(0.25));
    assert_eq!(at(9).atv, Some(25.166_666_666_666_668));
    assert_eq!(at(10).conversion_rate, Some(0.5));
    // Nobody came in and nothing was sold: both undefined, neither 0 nor NaN.
    assert_eq!(at(12).footfall_in, Some(0));
    assert_eq!(at(12).conversion_rate, None);
    assert_eq!(at(12).atv, None);
    assert_eq!(at(12).flag, None);
    assert_eq!(c.days.len(), 1);
    let day = &c.days[0];
    assert_eq!(day.date.to_string(), "2024-06-01");
    assert_eq!(
        (day.transactions, day.amount_cents, day.footfall_in),
        (6, 10_550, 18)
    );
    assert_eq!(day.incomplete_hours, 0);
    assert_eq!(day.conversion_rate, Some(6.0 / 18.0));
    assert_eq!(day.atv, Some(105.5 / 6.0));
}

#[test]
fn sales_without_footfall_are_flagged_not_computed() {
    let s = sales(&["S1,01-06-2024 09:10,2,50", "S2,01-06-2024 09:10,1,1"]);
    let mut ff = Series::new(Resolution::Hour, Zone::UTC);
    ff.add_counts(1_717_232_400 + 3600, &visitors(5)); // 10:00 only
    let map = HashMap::from([("S1".to_owned(), StoreFootfall::series(&ff))]);
    let c = convert(&s, &map, &OperatingHours::ALWAYS).unwrap();
    let nine = c.hours.iter().find(|h| h.start == 1_717_232_400).unwrap();
    assert_eq!(nine.flag, Some(HourFlag::SalesWithoutFootfall));
    assert_eq!(nine.conversion_rate, None);
    assert_eq!(nine.footfall_in, None);
    assert_eq!(nine.atv, Some(25.0)); // ATV needs no footfall
    let ten = c.hours.iter().find(|h| h.start == 1_717_236_000).unwrap();
    assert_eq!(ten.conversion_rate, Some(0.0)); // footfall and no sales: a real 0
    let day = &c.days[0];
    assert_eq!(day.hours_with_sales_without_footfall, 1);
    assert_eq!(day.incomplete_hours, 23);
    assert_eq!(day.conversion_rate, None);
    assert_eq!(c.stores_without_footfall, vec!["S2".to_owned()]);
}

#[test]
fn partial_branch_footfall_is_flagged() {
    let (a, b) = (CameraSerial::from_u64(1), CameraSerial::from_u64(2));
    let spec = BranchSpec {
        site: SiteId(7),
        counters: vec![a, b],
    };
    let day = 1_717_200_000; // 2024-06-01 00:00 UTC
    let mut sa = Series::new(Resolution::Hour, Zone::UTC);
    let mut sb = Series::new(Resolution::Hour, Zone::UTC);
    sa.cover(day, day + 86_400);
    sb.cover(day, day + 86_400);
    sa.add_counts(day + 9 * 3600, &visitors(10));
    sb.add_counts(day + 9 * 3600, &visitors(10));
    sa.add_counts(day + 10 * 3600, &visitors(10));
    let mut series = BTreeMap::from([(a, sa), (b, sb)]);
    // Counter b is offline from 10:00: its buckets from then on are missing.
    let sb = series.get_mut(&b).unwrap();
    let mut only_morning = Series::new(Resolution::Hour, Zone::UTC);
    for (start, bucket) in sb.iter().filter(|(s, _)| *s < day + 10 * 3600) {
        only_morning.add_counts(start, &bucket.counts);
    }
    *sb = only_morning;
    let branch = rollup_branch(
        &spec,
        &series,
        day,
        day + 86_400,
        Resolution::Hour,
        Zone::UTC,
    )
    .unwrap();
    let s = sales(&["B7,01-06-2024 09:30,5,100", "B7,01-06-2024 10:30,4,80"]);
    let map = HashMap::from([("B7".to_owned(), StoreFootfall::branch(&branch))]);
    let c = convert(&s, &map, &OperatingHours::ALWAYS).unwrap();
    let nine = c.hours.iter().find(|h| h.start == day + 9 * 3600).unwrap();
    assert_eq!(nine.completeness, Some(Completeness::Complete));
    assert_eq!(nine.conversion_rate, Some(0.25));
    let ten = c.hours.iter().find(|h| h.start == day + 10 * 3600).unwrap();
    assert_eq!(ten.flag, Some(HourFlag::PartialFootfall));
    assert_eq!(ten.footfall_in, Some(10));
    assert_eq!(ten.conversion_rate, None);
    assert!(matches!(
        ten.completeness,
        Some(Completeness::Partial { ref missing }) if missing == &vec![b]
    ));
    assert_eq!(c.days[0].conversion_rate, None);
    assert_eq!(c.days[0].incomplete_hours, 14);
}

#[test]
fn a_fall_back_day_has_25_hours_and_keeps_every_sale_once() {
    let london = Zone::iana("Europe/London").unwrap();
    let s = sales(&[
        "LON,27-10-2024 00:30,1,1",
        "LON,27-10-2024 01:30,2,2",
        "LON,27-10-2024 02:30,4,4",
    ]);
    let ff = Series::new(Resolution::Hour, london);
    let map = HashMap::from([("LON".to_owned(), StoreFootfall::series(&ff))]);
    let c = convert(&s, &map, &OperatingHours::ALWAYS).unwrap();
    assert_eq!(c.hours.len(), 25);
    let tx: Vec<u64> = c.hours.iter().take(4).map(|h| h.transactions).collect();
    // 00:00 BST, 01:00 BST (the file's 01:30 goes to the first), 01:00 GMT, 02:00 GMT.
    assert_eq!(tx, vec![1, 2, 0, 4]);
    assert_eq!(c.days[0].transactions, 7);
}

#[test]
fn footfall_that_is_not_hourly_is_refused() {
    let s = sales(&["S1,01-06-2024 09:10,2,50"]);
    let ff = Series::new(Resolution::Day, Zone::UTC);
    let map = HashMap::from([("S1".to_owned(), StoreFootfall::series(&ff))]);
    assert!(matches!(
        convert(&s, &map, &OperatingHours::ALWAYS),
        Err(ConversionError::NotHourly { .. })
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Whatever the zone (DST days included), the joined hours carry every transaction and
    /// cent of the sales exactly once, and a rate is defined only where footfall is whole
    /// and non-zero.
    #[test]
    fn the_join_loses_and_doubles_nothing(
        rows in proptest::collection::vec((0u32..3, 0u32..24, 0u32..60, 0u64..20, 0u64..100_000), 1..40),
        zone_name in prop_oneof![
            Just("Europe/London"), Just("America/New_York"), Just("Asia/Kuala_Lumpur"), Just("UTC")
        ],
        covered in proptest::collection::vec(any::<bool>(), 75),
    ) {
        let zone = Zone::iana(zone_name).unwrap();
        // 30 and 31 March, 27 October 2024: DST changes in London; plain days elsewhere.
        let days = ["30-03-2024", "31-03-2024", "27-10-2024"];
        let lines: Vec<String> = rows
            .iter()
            .enumerate()
            .map(|(i, (d, h, m, q, c))| {
                format!("S1,{} {h:02}:{m:02},{q},{}.{:02}", days[*d as usize], c + i as u64 * 100_000, 0)
            })
            .collect();
        let file = format!("{HEADER}{}\n", lines.join("\n"));
        let v = validate_bytes(file.as_bytes(), &ValidationConfig::default());
        prop_assert!(v.is_valid(), "{:?}", v.errors);
        let mut ff = Series::new(Resolution::Hour, zone);
        let from = zone.local_to_utc(1_711_756_800); // 30 March 2024 local midnight
        for (i, start) in Resolution::Hour.buckets(from, from + 75 * 3600, zone).enumerate() {
            if covered.get(i).copied().unwrap_or(false) {
                ff.add_counts(start, &visitors(i as u64 % 7));
            }
        }
        let map = HashMap::from([("S1".to_owned(), StoreFootfall::series(&ff))]);
        let c = convert(&v.sales, &map, &OperatingHours::ALWAYS).unwrap();
        let (q, cents) = v.sales.totals();
        let hq: u128 = c.hours.iter().map(|h| u128::from(h.transactions)).sum();
        let hc: u128 = c.hours.iter().map(|h| u128::from(h.amount_cents)).sum();
        prop_assert_eq!((hq, hc), (q, cents));
        let dq: u128 = c.days.iter().map(|d| u128::from(d.transactions)).sum();
        prop_assert_eq!(dq, q);
        for h in &c.hours {
            if let Some(rate) = h.conversion_rate {
                prop_assert!(rate.is_finite());
                prop_assert!(h.flag.is_none());
                prop_assert!(h.footfall_in.unwrap_or(0) > 0);
            }
            if h.transactions > 0 && h.footfall_in.is_none() {
                prop_assert_eq!(h.flag, Some(HourFlag::SalesWithoutFootfall));
            }
            prop_assert_eq!(h.atv.is_some(), h.transactions > 0);
        }
        let mut starts: Vec<i64> = c.hours.iter().map(|h| h.start).collect();
        starts.dedup();
        prop_assert_eq!(starts.len(), c.hours.len());
    }
}
