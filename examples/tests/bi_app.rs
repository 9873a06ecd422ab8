//! A BI app written only against the README and the crate docs: two counters at a London
//! branch (one off for two hours) pulled from the device simulator into the aggregation
//! path, the branch rolled up, KPIs, and the sales joined. It also checks the mistakes a
//! BI team makes are caught by type, not shown as empty reports.
use std::collections::HashMap;

use ffc_core::{
    kpi, Aggregator, BranchSpec, CameraSerial, Completeness, CountEvent, Metric, NaiveDate,
    OccupancyTracker, OperatingHours, PeopleId, Resolution, RoiId, RollupError, SiteId, Source,
    Zone,
};
use ffc_device::client::PullIntoError;
use ffc_device::query::DataType;
use ffc_device::sim::{DeviceSimConfig, Simulator};
use ffc_sales::conversion::{convert, HourFlag, StoreFootfall};
use ffc_sales::{validate_bytes, ValidationConfig};

const DOOR: CameraSerial = CameraSerial::from_u64(0x6afc_e315);
const BACK: CameraSerial = CameraSerial::from_u64(0x6afc_e316);

fn london() -> Zone {
    Zone::iana("Europe/London").expect("IANA zone")
}

#[tokio::test]
async fn pull_roll_up_kpis_and_sales_conversion_of_a_branch() {
    let zone = london();
    // 27 October 2024: the clocks go back, so the local day has 25 hours.
    let day = NaiveDate::from_ymd_opt(2024, 10, 27).expect("date");
    let (from, to) = zone.day_span(day);
    assert_eq!(to - from, 25 * 3600);

    // Two counters, each one line; the back door was off 14:00–16:00 local (GMT that day).
    let (_door_sim, door) =
        Simulator::start_with_client(DeviceSimConfig::default().with_serial(DOOR).with_zone(zone))
            .await
            .expect("door simulator");
    let off_from = from + 15 * 3600; // 14:00 GMT: the 25-hour day has 01:00 twice
    let (_back_sim, back) = Simulator::start_with_client(
        DeviceSimConfig::default()
            .with_serial(BACK)
            .with_seed(2)
            .with_zone(zone)
            .with_offline(off_from, off_from + 2 * 3600),
    )
    .await
    .expect("back simulator");

    // Pull straight into the aggregation path.
    let mut agg = Aggregator::new(Resolution::Hour, zone);
    for (serial, client) in [(DOOR, &door), (BACK, &back)] {
        let put = client
            .pull_into(agg.series_mut(serial), from, to, DataType::Json, |_| {})
            .await
            .expect("pull");
        assert!(put > 0);
    }

    // Roll the branch up: resolution and zone come from the series.
    let spec = BranchSpec {
        site: SiteId(30273),
        counters: vec![DOOR, BACK],
    };
    let branch = spec.rollup(agg.counters(), from, to).expect("roll-up");
    assert_eq!((branch.zone, branch.resolution), (zone, Resolution::Hour));
    assert_eq!(branch.buckets.len(), 25);
    let local = |i: usize| branch.buckets[i].local_start.to_string();
    assert_eq!(local(0), "2024-10-27 00:00:00");
    assert_eq!(
        (local(1), local(2)),
        (
            "2024-10-27 01:00:00".to_owned(),
            "2024-10-27 01:00:00".to_owned()
        )
    );
    let partial: Vec<String> = branch
        .buckets
        .iter()
        .filter(|b| !b.completeness.is_whole())
        .map(|b| b.local_start.format("%H:%M").to_string())
        .collect();
    assert_eq!(partial, ["14:00", "15:00"]);
    assert_eq!(
        branch.buckets[15].completeness,
        Completeness::Partial {
            missing: vec![BACK]
        }
    );

    // KPIs: A01 within opening hours, and A03 occupancy through the day.
    let open = OperatingHours {
        open: 9 * 3600,
        close: 21 * 3600,
    };
    let a01 = kpi::footfall_in(branch.counts(), &open, &branch.zone);
    let (total, whole) = branch.total();
    assert!(a01 > 0 && a01 <= total.visitors_in);
    assert!(!whole);
    let mut occupancy = OccupancyTracker::new(zone);
    for (start, counts) in branch.counts() {
        occupancy.push(start, counts);
    }

    // Sales joined with the branch's footfall.
    let file = b"StoreCode,DateTime,TotalTransactionQty,TotalTransactionValue\n\
                 LON1,27-10-2024 12:15,6,180.00\n\
                 LON1,27-10-2024 14:40,2,30.00\n";
    let sales = validate_bytes(file, &ValidationConfig::default());
    assert!(sales.is_valid(), "{:?}", sales.errors);
    let footfall = HashMap::from([("LON1".to_owned(), StoreFootfall::branch(&branch))]);
    let conversion = convert(&sales.sales, &footfall, &open).expect("hourly footfall");
    let hour = |at: &str| {
        conversion
            .hours
            .iter()
            .find(|h| h.local.to_string() == at)
            .expect("hour")
    };
    let noon = hour("2024-10-27 12:00:00");
    assert_eq!(noon.transactions, 6);
    assert!(noon.conversion_rate.is_some());
    assert_eq!(noon.atv, Some(30.0));
    let two = hour("2024-10-27 14:00:00");
    assert_eq!(two.flag, Some(HourFlag::PartialFootfall));
    assert_eq!(two.conversion_rate, None);
    assert_eq!(conversion.days[0].conversion_rate, None);
}

#[tokio::test]
async fn a_wrong_zone_is_an_error_naming_it_never_an_empty_report() {
    let zone = london();
    let (from, to) = zone.day_span(NaiveDate::from_ymd_opt(2024, 6, 1).expect("date"));
    // The counter is in London; the client is configured (by mistake) for UTC.
    let sim = Simulator::start(DeviceSimConfig::default().with_zone(zone))
        .await
        .expect("simulator");
    let wrong = ffc_device::client::DeviceClientConfig::new(sim.base_url(), Zone::UTC)
        .with_count_path(sim.config().count_path.clone());
    let client = ffc_device::client::DeviceClient::new(
        wrong,
        ffc_device::client::Credentials::new("admin", "123456"),
    )
    .expect("client");
    let mut agg = Aggregator::new(Resolution::Hour, zone);
    let err = client
        .pull_into(agg.series_mut(DOOR), from, to, DataType::Json, |_| {})
        .await
        .expect_err("zones differ");
    assert!(
        matches!(err, PullIntoError::Zone { client, series } if client == Zone::UTC && series == zone)
    );
    assert!(err.to_string().contains("Europe/London"), "{err}");

    // Series built in two zones do not roll up into a branch of no-data buckets.
    let mut other = Aggregator::new(Resolution::Hour, Zone::UTC);
    other.series_mut(BACK).cover(from, to);
    agg.series_mut(DOOR).cover(from, to);
    let mut series = agg.counters().clone();
    series.extend(other.counters().clone());
    let spec = BranchSpec {
        site: SiteId(1),
        counters: vec![DOOR, BACK],
    };
    assert_eq!(
        spec.rollup(&series, from, to),
        Err(RollupError::Zone {
            counter: BACK,
            expected: zone,
            found: Zone::UTC
        })
    );
}

#[test]
fn events_are_equal_by_key_whatever_delivered_them() {
    let pushed = CountEvent::new(DOOR, RoiId(1), Metric::In, PeopleId(7), 1_717_236_000)
        .with_source(Source::WebSocket);
    let pulled = pushed.with_source(Source::Mqtt);
    assert_eq!(pushed, pulled);
    let mut agg = Aggregator::new(Resolution::Hour, london());
    assert_eq!(agg.ingest(&pushed), ffc_core::Ingested::New);
    assert_eq!(agg.ingest(&pulled), ffc_core::Ingested::Duplicate);
}
