//! Backfill from the device simulator over loopback: the request count equals the minimal
//! plan, the merge restores the counter's own counts, and a second run sends nothing.
#![cfg(all(feature = "client", feature = "sim"))]

use ffc_core::reconcile::{backfill_windows, overlay, reconcile, BucketState};
use ffc_core::{Resolution, Zone};
use ffc_device::backfill::backfill;
use ffc_device::client::{Credentials, DeviceClient, DeviceClientConfig};
use ffc_device::query::DataType;
use ffc_device::sim::{DeviceSimConfig, Simulator};

/// 2024-02-01 00:00 UTC.
const DAY: i64 = 1_706_745_600;
const H: i64 = 3600;
const M: i64 = 60;

#[tokio::test]
async fn backfill_sends_the_minimal_requests_and_a_second_run_none() {
    let sim = Simulator::start(DeviceSimConfig::default().with_zone(Zone::UTC).with_seed(7))
        .await
        .expect("simulator");
    let client = DeviceClient::new(
        DeviceClientConfig::new(sim.base_url(), Zone::UTC),
        Credentials::new("admin", "123456"),
    )
    .expect("client");
    let (from, to) = (DAY, DAY + 2 * 86_400);
    let truth = sim.events(from, to);
    // The live path missed 10:00-10:40 and 13:00-13:30 on day one, 11:00-11:15 on day two.
    let gaps = [
        (DAY + 10 * H, DAY + 10 * H + 40 * M),
        (DAY + 13 * H, DAY + 13 * H + 30 * M),
        (DAY + 86_400 + 11 * H, DAY + 86_400 + 11 * H + 15 * M),
    ];
    let live: Vec<_> = truth
        .iter()
        .filter(|e| !gaps.iter().any(|(a, b)| (*a..*b).contains(&e.end)))
        .copied()
        .collect();
    // An earlier pull that is stale for the gap buckets: it holds what live holds there.
    let pulled = client
        .pull(from, to, Resolution::Minutes(15), DataType::Json, |_| {})
        .await
        .expect("pull");
    let stale: Vec<_> = reconcile(&live, &pulled)
        .buckets
        .iter()
        .map(|b| {
            let mut r = b.merged_record();
            if b.state == BucketState::LiveShort {
                (r.count_in, r.count_out) = (b.live_in + 1, b.live_out);
            }
            r
        })
        .collect();
    let first = reconcile(&live, &stale);
    let windows = backfill_windows(&first);
    // 10:00, 10:15, 10:30 joined; 13:00, 13:15 joined; day two 11:00: three requests.
    assert_eq!(windows.len(), 3, "{windows:?}");
    let before = sim.stats().count_requests;
    let got = backfill(&client, &windows, DataType::Json)
        .await
        .expect("backfill");
    assert_eq!(got.requests, 3);
    assert_eq!(
        sim.stats().count_requests - before,
        3,
        "exactly the planned requests"
    );
    // Merged: every bucket now holds the counter's own counts.
    let merged_input = overlay(&stale, &got.records);
    let merged = reconcile(&live, &merged_input);
    let truth_buckets = reconcile(&truth, &pulled);
    for (m, t) in merged.buckets.iter().zip(&truth_buckets.buckets) {
        assert_eq!(
            (m.start, m.merged_in(), m.merged_out()),
            (t.start, t.live_in, t.live_out)
        );
    }
    assert_eq!(merged.state_counts()[BucketState::LiveShort as usize], 6);
    // Second run over the merged records: they are held, nothing to pull, no request.
    let merged_records = merged.merged_records();
    let mut again = reconcile(&live, &merged_records);
    again.mark_held(&merged_records);
    let windows = backfill_windows(&again);
    assert!(windows.is_empty());
    let none = backfill(&client, &windows, DataType::Json)
        .await
        .expect("empty");
    assert_eq!(none.requests, 0);
    assert_eq!(sim.stats().count_requests - before, 3);
}
