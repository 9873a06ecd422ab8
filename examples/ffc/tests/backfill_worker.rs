//! `ffc backfill-worker`'s pass against the real device simulator (loopback HTTP) and a real
//! PostgreSQL (FFC_PG_URL from scripts/services.d/40-postgres.sh; without it the test says so
//! and returns, except under CI): an hour the live path missed is restored from the counter
//! with its provenance, the other hours match, and a second pass restores nothing more and
//! keeps the provenance.

use ffc_cli::backfill_worker::{pass, Pass};
use ffc_core::{CameraSerial, Resolution, Zone};
use ffc_device::client::{Credentials, DeviceClient, DeviceClientConfig};
use ffc_device::secret::Secret;
use ffc_device::sim::{DeviceSimConfig, Simulator};
use ffc_protocols::sink::postgres::{PgSink, PgSinkConfig};
use ffc_protocols::sink::EventSink;
// The PostgreSQL test helpers of ffc-protocols, one copy for the workspace.
#[path = "../../../ffc-protocols/tests/pg_support/mod.rs"]
mod pg_support;
use pg_support::{client, drop_db, fresh_db, url_or_skip};

const FROM: i64 = 1_753_257_600; // 2025-07-23 08:00:00 UTC
const SERIAL: CameraSerial = CameraSerial::from_u64(0x6afc_e3aa);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missed_hour_is_backfilled_with_provenance_and_a_second_pass_keeps_it() {
    let Some(url) = url_or_skip() else {
        return;
    };
    let name = fresh_db(&url, "backfill").await;
    let sink = PgSink::connect(PgSinkConfig::new(&url).unwrap().with_dbname(&name))
        .await
        .unwrap();
    let sim = Simulator::start(
        DeviceSimConfig::default()
            .with_serial(SERIAL)
            .with_password(Secret::new("pw-test"))
            .with_seed(9)
            .with_peak_per_hour(200),
    )
    .await
    .unwrap();
    let to = FROM + 4 * 3600;
    // The live path kept every event but those of 09:00-10:00.
    for e in sim.events(FROM, to) {
        if !(FROM + 3600..FROM + 7200).contains(&e.end) {
            sink.accept(&e).await.unwrap();
        }
    }
    let device = DeviceClient::new(
        DeviceClientConfig::new(sim.base_url(), Zone::UTC),
        Credentials::new("admin", "pw-test"),
    )
    .unwrap();
    let first = pass(
        &sink,
        std::slice::from_ref(&device),
        FROM,
        to,
        Resolution::Hour,
    )
    .await
    .unwrap();
    let want = Pass {
        states: [3, 1, 0, 0, 0],
        restored: 1,
        requests: 1,
    };
    assert_eq!(first, want);

    let db = client(&url, Some(&name)).await;
    let rows: Vec<(i64, String, i64, i64, i64)> = db
        .query(
            "SELECT extract(epoch FROM start_utc)::bigint, state, count_in, count_out, live_in
             FROM ffc_merged_records ORDER BY start_utc",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
        .collect();
    let truth = sim.records(
        &ffc_device::query::Query::builder()
            .resolution(Resolution::Hour)
            .date_start(chrono::NaiveDate::from_ymd_opt(2025, 7, 23).unwrap())
            .build(&Zone::UTC)
            .unwrap(),
    );
    assert_eq!(rows.len(), 4);
    for (start, state, count_in, count_out, live_in) in &rows {
        let t = truth.iter().find(|r| r.start == *start).unwrap();
        assert_eq!(
            (*count_in as u64, *count_out as u64),
            (t.count_in, t.count_out)
        );
        let missed = *start == FROM + 3600;
        assert_eq!(state, if missed { "backfilled" } else { "match" });
        assert_eq!(*live_in == 0, missed, "{start}");
    }

    // Later passes: nothing more restored, the provenance stays.
    let second = pass(&sink, &[device], FROM, to, Resolution::Hour)
        .await
        .unwrap();
    assert_eq!((second.states, second.restored), ([3, 1, 0, 0, 0], 0));
    let state: String = db
        .query_one(
            "SELECT provenance FROM ffc_bucket_provenance WHERE start_utc = to_timestamp($1::bigint)",
            &[&(FROM + 3600)],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(state, "backfilled");
    sink.close().await;
    drop(db);
    drop_db(&url, &name).await;
}
