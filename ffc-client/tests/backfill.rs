//! Backfill from the server simulator over loopback: whole-day export requests, joined and
//! shared between counters, exactly as many as planned; a second run sends none.
#![cfg(all(feature = "http", feature = "sim"))]

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::NaiveDate;
use ffc_client::backfill::backfill;
use ffc_client::http::V9Client;
use ffc_client::sim::{Endpoint, ServerSimConfig, SimSite, Simulator};
use ffc_client::v9::CHUNK_DAYS;
use ffc_client::Secret;
use ffc_core::aggregate::{Counts, Series};
use ffc_core::reconcile::{backfill_windows, overlay, reconcile, server_requests, BucketState};
use ffc_core::rollup::BranchSpec;
use ffc_core::{CameraSerial, CountEvent, CountRecord, Metric, PeopleId, PeopleType, Resolution};
use ffc_core::{RoiId, SiteId, Source, Subject, UtcOffset, Zone};

const EMAIL: &str = "analyst@example.com";
const PASSWORD: &str = "correct horse";
const NOW: i64 = 1_780_000_000;
const H: i64 = 3600;

fn zone() -> Zone {
    Zone::Fixed(UtcOffset::from_seconds(8 * 3600).unwrap())
}
fn local(day: u32, hour: i64) -> i64 {
    let d = NaiveDate::from_ymd_opt(2024, 1, day)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap();
    zone().local_to_utc(d.and_utc().timestamp()) + hour * H
}
fn counts(t: i64, k: u64) -> (u64, u64) {
    let v = ((t / H) % 5) as u64 + 2 + k;
    (v, v - 1)
}

#[tokio::test]
async fn server_backfill_is_minimal_and_idempotent() {
    let (a, b) = (CameraSerial::from_u64(0xa1), CameraSerial::from_u64(0xb2));
    let (from, to) = (local(1, 0), local(11, 0));
    let mut series = BTreeMap::new();
    for (k, serial) in [a, b].into_iter().enumerate() {
        let mut s = Series::new(Resolution::Hour, zone());
        for t in (from..to).step_by(H as usize) {
            let (i, o) = counts(t, k as u64);
            s.add_counts(
                t,
                &Counts {
                    visitors_in: i,
                    visitors_out: o,
                    ..Counts::default()
                },
            );
        }
        series.insert(serial, s);
    }
    let site = SimSite {
        spec: BranchSpec {
            site: SiteId(1),
            counters: vec![a, b],
        },
        name: "Main St".into(),
        code: "S01".into(),
        zone: zone(),
        counters: series,
    };
    let sim = Simulator::start(
        ServerSimConfig::new(EMAIL, Secret::new(PASSWORD)).with_sites(vec![site]),
        NOW,
    )
    .await
    .unwrap();
    let client = V9Client::new(&sim.base_url(), EMAIL, Secret::new(PASSWORD))
        .unwrap()
        .with_clock(Arc::new(|| NOW));
    // Hours the live path missed: a on day 3 10-12 and 23-01 across midnight, day 8 14-15;
    // b on day 3 10-11 and day 4 09-10.
    let gaps = [
        (a, local(3, 10), local(3, 12)),
        (a, local(3, 23), local(4, 1)),
        (a, local(8, 14), local(8, 15)),
        (b, local(3, 10), local(3, 11)),
        (b, local(4, 9), local(4, 10)),
    ];
    let missed = |s: CameraSerial, t: i64| {
        gaps.iter()
            .any(|(g, x, y)| *g == s && (*x..*y).contains(&t))
    };
    let mut live = Vec::new();
    let mut stale = Vec::new();
    for (k, serial) in [a, b].into_iter().enumerate() {
        for t in (from..to).step_by(H as usize) {
            let (i, o) = counts(t, k as u64);
            if !missed(serial, t) {
                live.extend(events(serial, t, i, o));
            }
            // An earlier pull that holds one visitor in more than live in the gap hours.
            let (pi, po) = if missed(serial, t) { (1, 0) } else { (i, o) };
            stale.push(record(serial, t, pi, po));
        }
    }
    let first = reconcile(&live, &stale);
    let windows = backfill_windows(&first);
    assert_eq!(
        windows.len(),
        6,
        "device windows cut at midnight: {windows:?}"
    );
    let requests = server_requests(&windows, CHUNK_DAYS);
    // Days 3-4 for both counters in one request, day 8 for a: two requests.
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert_eq!(requests[0].counters, [a, b]);
    let got = backfill(&client, &requests, zone()).await.unwrap();
    assert_eq!(got.requests, 2);
    assert_eq!(sim.stats().requests.get(&Endpoint::Export), Some(&2));
    let merged = reconcile(&live, &overlay(&stale, &got.records));
    for bucket in &merged.buckets {
        let k = u64::from(bucket.counter == b);
        assert_eq!(
            (bucket.merged_in(), bucket.merged_out()),
            counts(bucket.start, k)
        );
    }
    assert_eq!(merged.state_counts()[BucketState::LiveShort as usize], 7);
    let merged_records = merged.merged_records();
    let mut again = reconcile(&live, &merged_records);
    again.mark_held(&merged_records);
    let none = backfill(
        &client,
        &server_requests(&backfill_windows(&again), CHUNK_DAYS),
        zone(),
    )
    .await
    .unwrap();
    assert_eq!(none.requests, 0);
    assert_eq!(sim.stats().requests.get(&Endpoint::Export), Some(&2));
}

fn events(serial: CameraSerial, t: i64, i: u64, o: u64) -> Vec<CountEvent> {
    let make = |n: u64, metric: Metric| CountEvent {
        serial,
        roi: RoiId(1),
        metric,
        people_type: PeopleType::Visitor,
        people_id: PeopleId(t as u64 * 100 + n + if metric == Metric::Out { 50 } else { 0 }),
        start: t + n as i64,
        end: t + n as i64 + 1,
        offset: zone().offset_at(t),
        uuid: None,
        source: Source::WebSocket,
    };
    (0..i)
        .map(|n| make(n, Metric::In))
        .chain((0..o).map(|n| make(n, Metric::Out)))
        .collect()
}

fn record(serial: CameraSerial, t: i64, i: u64, o: u64) -> CountRecord {
    CountRecord {
        subject: Subject::Counter(serial),
        start: t,
        length: 3600,
        offset: zone().offset_at(t),
        count_in: i,
        count_out: o,
        outside: None,
        source: Source::ServerApi,
    }
}
