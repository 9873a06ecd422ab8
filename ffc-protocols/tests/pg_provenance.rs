//! Schema version 2 of the PostgreSQL sink against a real PostgreSQL (FFC_PG_URL from
//! scripts/services.d/40-postgres.sh; without it the test says so and returns, except under
//! CI): receive times, sessions, merged records with provenance, and the views a BI tool
//! reads, including the FootfallCam-shaped `sitegroup_footfallcounting_day` / `_hour`,
//! queried by a real client (tokio-postgres).

use ffc_core::availability::{SessionKind, SessionRecord, SessionSource};
use ffc_core::{CameraSerial, CountEvent, Metric};
use ffc_protocols::sink::postgres::{
    AvailabilityMinutes, CounterPlace, MergedRow, PgSink, PgSinkConfig,
};
use ffc_protocols::sink::EventSink;
mod pg_support;
use pg_support::{client, drop_db, fresh_db, texts, url_or_skip};

const DAY: i64 = 1_753_228_800; // 2025-07-23 00:00:00 UTC
const N1: CameraSerial = CameraSerial::from_u64(0x6afc_e315);
const N2: CameraSerial = CameraSerial::from_u64(0x6afc_e316);
const S1: CameraSerial = CameraSerial::from_u64(0x6afc_e317);

fn event(serial: CameraSerial, n: u64, end: i64, metric: Metric) -> CountEvent {
    pg_support::event(serial, n, end, metric, 3600)
}

fn row(counter: CameraSerial, hour: i64, counts: (u64, u64), state: &str) -> MergedRow {
    let mut r = MergedRow::new(counter, DAY + hour * 3600, 3600, counts, state);
    r.utc_offset_seconds = 3600;
    r
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provenance_sessions_and_footfallcam_views_read_back_through_a_real_client() {
    let Some(url) = url_or_skip() else {
        return;
    };
    let name = fresh_db(&url, "prov").await;
    let sink = PgSink::connect(PgSinkConfig::new(&url).unwrap().with_dbname(&name))
        .await
        .unwrap();
    let db = client(&url, Some(&name)).await;

    // Live: S1 only has live events (hour 10: 2 in, 1 out), no merged rows.
    for (n, metric) in [(1, Metric::In), (2, Metric::In), (3, Metric::Out)] {
        sink.accept_received(
            &event(S1, n, DAY + 10 * 3600 + 60, metric),
            DAY + 10 * 3600 + 61,
        )
        .await
        .unwrap();
    }
    let session = SessionRecord {
        counter: S1,
        source: SessionSource::Ws,
        kind: SessionKind::Connect,
        at: DAY + 10 * 3600,
    };
    sink.session(&session).await.unwrap();
    sink.put_counters(&[
        CounterPlace::new(N1, "1", "North")
            .with_site_group("G1", "Region A")
            .with_utc_offset_seconds(3600),
        CounterPlace::new(N2, "1", "North")
            .with_site_group("G1", "Region A")
            .with_utc_offset_seconds(3600),
        CounterPlace::new(S1, "2", "South")
            .with_site_group("G1", "Region A")
            .with_utc_offset_seconds(3600),
    ])
    .await
    .unwrap();
    // Merged: North hour 10 both counters, N2 backfilled; hour 11 only N1 (partial).
    let mut backfilled = row(N2, 10, (7, 5), "backfilled");
    backfilled.live_in = 3;
    backfilled.pulled = Some((7, 5));
    let mut minutes = AvailabilityMinutes::default();
    minutes.on_time = 20;
    minutes.backfilled = 40;
    backfilled.availability = Some(minutes);
    let rows = [
        row(N1, 10, (4, 2), "match"),
        backfilled.clone(),
        row(N1, 11, (1, 1), "match"),
    ];
    assert_eq!(sink.put_merged(&rows).await.unwrap(), 3);
    // A later reconcile finding the restored bucket matching keeps its provenance, and a
    // lower count never lowers what is stored.
    let mut again = row(N2, 10, (6, 5), "match");
    again.pulled = Some((6, 5));
    sink.put_merged(&[again]).await.unwrap();

    let r = db
        .query_one(
            "SELECT count(*), count(received_utc),
                    min(extract(epoch FROM received_utc))::bigint FROM ffc_events",
            &[],
        )
        .await
        .unwrap();
    assert_eq!((r.get::<_, i64>(0), r.get::<_, i64>(1)), (3, 3));
    let r = db
        .query_one(
            "SELECT counter, source, kind, extract(epoch FROM at_utc)::bigint FROM ffc_sessions",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(r.get::<_, &str>(0), "000000006afce317");
    assert_eq!(
        (r.get::<_, &str>(1), r.get::<_, &str>(2)),
        ("ws", "connect")
    );
    assert_eq!(r.get::<_, i64>(3), DAY + 10 * 3600);

    let r = db
        .query_one(
            "SELECT provenance, count_in, count_out, pulled_in, availability::float8
             FROM ffc_bucket_provenance WHERE counter = '000000006afce316'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(r.get::<_, &str>(0), "backfilled");
    assert_eq!((r.get::<_, i64>(1), r.get::<_, i64>(2)), (7, 5));
    assert_eq!(r.get::<_, Option<i64>>(3), Some(6));
    assert_eq!(r.get::<_, Option<f64>>(4), Some(1.0));

    let branch: Vec<(String, String, String, Vec<String>, i64)> = db
        .query(
            "SELECT to_char(local_start, 'HH24:MI'), completeness, provenance, missing, count_in
             FROM ffc_branch_buckets WHERE branch_name = 'North' ORDER BY local_start",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
        .collect();
    assert_eq!(
        branch,
        [
            (
                "11:00".into(),
                "complete".into(),
                "revised".into(),
                vec![],
                11
            ),
            (
                "12:00".into(),
                "partial".into(),
                "match".into(),
                vec!["000000006afce316".to_string()],
                1
            ),
        ]
    );

    // FootfallCam's own sample SQL, with the column names quoted as a BI tool sends them.
    let hour: Vec<(String, i64, i64, String, String)> = db
        .query(
            r#"SELECT to_char("Time", 'YYYY-MM-DD HH24:MI:SS'), "FC01_1_SUM", "FC02_1_SUM",
                      "BranchName", "SiteGroupName"
               FROM sitegroup_footfallcounting_hour
               WHERE "SiteGroupId" = 'G1' AND "Time" BETWEEN '2025-07-23 00:00:00' AND '2025-07-23 23:00:00'
               ORDER BY "Time", "BranchName""#,
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
        .collect();
    let g = |t: &str, i, o, b: &str| (t.to_string(), i, o, b.to_string(), "Region A".to_string());
    assert_eq!(
        hour,
        [
            g("2025-07-23 11:00:00", 11, 7, "North"),
            g("2025-07-23 11:00:00", 2, 1, "South"),
            g("2025-07-23 12:00:00", 1, 1, "North"),
        ]
    );
    let day: Vec<(String, i64, i64, String)> = db
        .query(
            r#"SELECT "Time"::text, "FC01_1_SUM", "FC02_1_SUM", "BranchName"
               FROM sitegroup_footfallcounting_day WHERE "SiteGroupId" = 'G1'
                AND "Time" BETWEEN '2025-07-21' AND '2025-07-26' ORDER BY "BranchName""#,
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect();
    assert_eq!(
        day,
        [
            ("2025-07-23".to_string(), 12, 8, "North".to_string()),
            ("2025-07-23".to_string(), 2, 1, "South".to_string()),
        ]
    );
    // The views' columns are exactly FootfallCam's names (Power BI reads them from here).
    let columns = texts(
        &db,
        "SELECT column_name::text FROM information_schema.columns
         WHERE table_name = 'sitegroup_footfallcounting_day' ORDER BY ordinal_position",
    )
    .await;
    assert_eq!(
        columns,
        [
            "Time",
            "FC01_1_SUM",
            "FC02_1_SUM",
            "SiteGroupName",
            "BranchName",
            "SiteGroupId"
        ]
    );
    sink.close().await;
    drop(db);
    drop_db(&url, &name).await;
}
