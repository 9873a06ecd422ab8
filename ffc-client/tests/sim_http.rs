//! The V9 client against the simulator, over real HTTP on loopback: every endpoint, token
//! caching and expiry, retries, chunking, and the sales import's replace-by-day rules.
#![cfg(all(feature = "http", feature = "sim"))]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::{NaiveDate, NaiveDateTime};
use ffc_client::http::{ServerClientError, V9Client};
use ffc_client::sim::{Endpoint, Failure, ServerSimConfig, SimSite, Simulator};
use ffc_client::v9::cube::{Cube, CubeQuery, Granularity, Measure, Operator};
use ffc_client::v9::export::{InfoJson, Level, Period};
use ffc_client::v9::sales::{Coverage, PartialDays, SalesBatch, SalesRow, SalesUploadError};
use ffc_client::{datefmt, Secret};
use ffc_core::aggregate::{Counts, Series};
use ffc_core::backoff::RetryPolicy;
use ffc_core::rollup::BranchSpec;
use ffc_core::{CameraSerial, Resolution, SiteId, Subject, UtcOffset, Zone};

const EMAIL: &str = "analyst@example.com";
const PASSWORD: &str = "correct horse";
const SITE: u32 = 30273;
/// Mid-2026: the simulated "now".
const NOW: i64 = 1_780_000_000;

fn a() -> CameraSerial {
    CameraSerial::from_u64(0x6afc_e315)
}
fn b() -> CameraSerial {
    CameraSerial::from_u64(0x7b77_a260)
}
fn zone() -> Zone {
    Zone::Fixed(UtcOffset::from_seconds(8 * 3600).unwrap())
}
fn day(m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, m, d).unwrap()
}
/// Counter b was offline all of this day.
fn offline_day() -> NaiveDate {
    day(1, 15)
}

/// Deterministic hourly counts: in = (hour_index % 7) + 1 + k, out = in - 1.
fn hour_counts(hour_index: i64, k: u64) -> Counts {
    let v = (hour_index % 7) as u64 + 1 + k;
    Counts {
        visitors_in: v,
        visitors_out: v - 1,
        ..Counts::default()
    }
}

fn local_midnight(d: NaiveDate) -> i64 {
    zone().local_to_utc(d.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp())
}

fn config(token_lifetime: Option<i64>, multi_shape: bool) -> ServerSimConfig {
    let (from, to) = (local_midnight(day(1, 1)), local_midnight(day(4, 1)));
    let mut counters = BTreeMap::new();
    for (k, serial) in [a(), b()].into_iter().enumerate() {
        let mut s = Series::new(Resolution::Hour, zone());
        let mut t = from;
        while t < to {
            let off = (local_midnight(offline_day())
                ..local_midnight(offline_day().succ_opt().unwrap()))
                .contains(&t);
            if !(serial == b() && off) {
                s.add_counts(t, &hour_counts((t - from) / 3600, k as u64));
            }
            t += 3600;
        }
        counters.insert(serial, s);
    }
    ServerSimConfig::new(EMAIL, Secret::new(PASSWORD))
        .with_token_lifetime(token_lifetime)
        .with_sites(vec![SimSite {
            spec: BranchSpec {
                site: SiteId(SITE),
                counters: vec![a(), b()],
            },
            name: "Main St".into(),
            code: "S01".into(),
            zone: zone(),
            counters,
        }])
        .with_multi_shape(multi_shape)
}

fn fast_retry() -> RetryPolicy {
    RetryPolicy::new()
        .with_max_attempts(Some(3))
        .with_initial(Duration::from_millis(1))
        .with_cap(Duration::from_millis(5))
}

async fn setup(token_lifetime: Option<i64>, multi: bool) -> (Simulator, V9Client) {
    let sim = Simulator::start(config(token_lifetime, multi), NOW)
        .await
        .unwrap();
    let clock_value = NOW;
    let client = V9Client::new(&sim.base_url(), EMAIL, Secret::new(PASSWORD))
        .unwrap()
        .with_retry(fast_retry())
        .with_clock(Arc::new(move || clock_value));
    (sim, client)
}

fn hourly_info(from: NaiveDate, to: NaiveDate) -> InfoJson {
    InfoJson::new(
        Level::Site,
        [SITE.to_string()],
        Period::Hourly,
        from,
        to,
        &datefmt::default_date(),
        &datefmt::default_time(),
    )
}

/// Expected branch in-count for a local day (both counters, or a only on the offline day).
fn expected_day_in(d: NaiveDate) -> u64 {
    let from = local_midnight(day(1, 1));
    let start = local_midnight(d);
    (0..24)
        .map(|h| {
            let i = (start - from) / 3600 + h;
            let av = hour_counts(i, 0).visitors_in;
            if d == offline_day() {
                av
            } else {
                av + hour_counts(i, 1).visitors_in
            }
        })
        .sum()
}

#[tokio::test]
async fn token_is_cached_and_wrong_password_says_why() {
    let (sim, client) = setup(None, false).await;
    client
        .export(&hourly_info(day(1, 2), day(1, 2)))
        .await
        .unwrap();
    client
        .export(&hourly_info(day(1, 3), day(1, 3)))
        .await
        .unwrap();
    assert_eq!(
        sim.stats().tokens_issued,
        1,
        "the second export reuses the token"
    );
    assert_eq!(sim.stats().unauthorized, 0);

    let wrong = V9Client::new(&sim.base_url(), EMAIL, Secret::new("wrong-pw-123"))
        .unwrap()
        .with_retry(fast_retry());
    let err = wrong.token().await.unwrap_err();
    match &err {
        ServerClientError::Auth { status, message } => {
            assert_eq!(*status, 401);
            assert_eq!(message, "Invalid email or password");
        }
        other => panic!("{other:?}"),
    }
    assert!(!format!("{err} {err:?} {wrong:?}").contains("wrong-pw-123"));
}

#[tokio::test]
async fn server_side_expiry_renews_the_token_once() {
    let (sim, client) = setup(Some(3600), false).await;
    client
        .export(&hourly_info(day(1, 2), day(1, 2)))
        .await
        .unwrap();
    sim.advance_clock(7200); // the server now considers the token expired
    let rows = client
        .export(&hourly_info(day(1, 2), day(1, 2)))
        .await
        .unwrap();
    assert_eq!(rows.len(), 24);
    let s = sim.stats();
    assert_eq!(s.unauthorized, 1, "one 401");
    assert_eq!(s.tokens_issued, 2, "then one renewal");

    // A token revoked for good fails loudly after one renewal, instead of looping.
    sim.revoke_tokens();
    sim.inject(Endpoint::Token, Failure::Status(401));
    let err = client
        .export(&hourly_info(day(1, 2), day(1, 2)))
        .await
        .unwrap_err();
    assert!(
        matches!(err, ServerClientError::Auth { status: 401, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn client_side_expiry_fetches_a_new_token_before_sending() {
    let sim = Simulator::start(config(None, false), NOW).await.unwrap();
    let now = Arc::new(AtomicI64::new(NOW));
    let clock = now.clone();
    let client = V9Client::new(&sim.base_url(), EMAIL, Secret::new(PASSWORD))
        .unwrap()
        .with_retry(fast_retry())
        .with_clock(Arc::new(move || clock.load(Ordering::SeqCst)));
    client.token().await.unwrap();
    now.store(NOW + 86_400, Ordering::SeqCst); // past the one-day validity
    sim.advance_clock(86_400);
    client
        .export(&hourly_info(day(1, 2), day(1, 2)))
        .await
        .unwrap();
    let s = sim.stats();
    assert_eq!(s.tokens_issued, 2);
    assert_eq!(
        s.unauthorized, 0,
        "the client renewed before the server had to refuse"
    );
}

#[tokio::test]
async fn export_rows_are_the_rollup_with_completeness() {
    let (sim, client) = setup(None, false).await;
    let (d, t) = (datefmt::default_date(), datefmt::default_time());
    // Hourly: 24 rows of the 14th, complete, with both counters summed.
    let rows = client
        .export(&hourly_info(day(1, 14), day(1, 14)))
        .await
        .unwrap();
    assert_eq!(rows.len(), 24);
    assert!(rows
        .iter()
        .all(|r| r.aggregation_status.as_deref() == Some("complete")));
    let total: u64 = rows.iter().map(|r| r.value_in.unwrap()).sum();
    assert_eq!(total, expected_day_in(day(1, 14)));
    let rec = rows[0]
        .to_record(Level::Site, Period::Hourly, zone(), &d, &t)
        .unwrap();
    assert_eq!(rec.subject, Subject::Site(SiteId(SITE)));
    assert_eq!(rec.start, local_midnight(day(1, 14)));
    // The offline day: partial, and only counter a's counts.
    let rows = client
        .export(&hourly_info(offline_day(), offline_day()))
        .await
        .unwrap();
    assert!(rows
        .iter()
        .all(|r| r.aggregation_status.as_deref() == Some("partial")));
    let total: u64 = rows.iter().map(|r| r.value_in.unwrap()).sum();
    assert_eq!(total, expected_day_in(offline_day()));

    // Daily over 91 days: four 30-day chunks, rows in order.
    let mut info = hourly_info(day(1, 1), day(3, 31));
    info.period = Period::Daily;
    let before = sim
        .stats()
        .requests
        .get(&Endpoint::Export)
        .copied()
        .unwrap_or(0);
    let rows = client.export_chunked(&info).await.unwrap();
    assert_eq!(sim.stats().requests[&Endpoint::Export] - before, 4);
    assert_eq!(rows.len(), 91);
    for (i, r) in rows.iter().enumerate() {
        let d0 = day(1, 1) + chrono::Duration::days(i as i64);
        let rec = r
            .to_record(Level::Site, Period::Daily, zone(), &d, &t)
            .unwrap();
        assert_eq!(rec.start, local_midnight(d0));
        assert_eq!(rec.count_in, expected_day_in(d0), "day {d0}");
    }

    // Counter level: counter b has no rows on its offline day.
    let info = InfoJson::new(
        Level::Counter,
        [b().to_string()],
        Period::Hourly,
        day(1, 14),
        day(1, 15),
        &d,
        &t,
    );
    let rows = client.export(&info).await.unwrap();
    assert_eq!(rows.len(), 24);
    let rec = rows[0]
        .to_record(Level::Counter, Period::Hourly, zone(), &d, &t)
        .unwrap();
    assert_eq!(rec.subject, Subject::Counter(b()));
}

async fn check_load(multi: bool) {
    let (sim, client) = setup(None, multi).await;
    let client = client.with_concurrency(2);
    let q = CubeQuery::new(Cube::SiteSummary)
        .measures([Measure::A01, Measure::A02, Measure::A03])
        .dimension("SiteId")
        .dimension("AggregationStatus")
        .time(Granularity::Day, day(1, 1), day(3, 31))
        .filter("SiteId", Operator::Equals, [SITE.to_string()])
        .limit(1_000_000);
    let rows = client.load_chunked(&q).await.unwrap();
    assert_eq!(rows.len(), 91);
    for (i, r) in rows.iter().enumerate() {
        let d0 = day(1, 1) + chrono::Duration::days(i as i64);
        assert_eq!(r.time, Some(NaiveDateTime::from(d0)));
        assert_eq!(r.get(Measure::A01), Some(expected_day_in(d0) as f64));
        assert_eq!(
            r.get(Measure::A01).unwrap() - r.get(Measure::A02).unwrap(),
            r.get(Measure::A03).unwrap()
        );
        let status = if d0 == offline_day() {
            "partial"
        } else {
            "complete"
        };
        assert_eq!(r.members["AggregationStatus"], status);
    }
    let s = sim.stats();
    let mut ranges = s.load_ranges.clone();
    ranges.sort();
    assert_eq!(
        ranges,
        [
            (day(1, 1), day(1, 30)),
            (day(1, 31), day(2, 29)),
            (day(3, 1), day(3, 30)),
            (day(3, 31), day(3, 31))
        ]
    );
    assert!(
        s.max_in_flight <= 2,
        "bounded concurrency: {}",
        s.max_in_flight
    );
    // A filter that matches nothing gives nothing.
    let none = client
        .load(&q.clone().filter("SiteId", Operator::Equals, ["1"]).time(
            Granularity::Hour,
            day(1, 1),
            day(1, 1),
        ))
        .await
        .unwrap();
    assert!(none.is_empty());
    // The area cube: one row per counter-area and hour.
    let area = CubeQuery::new(Cube::AreaSummary)
        .measures([Measure::A01])
        .dimension("AreaId")
        .time(Granularity::Hour, day(1, 2), day(1, 2))
        .filter("AreaId", Operator::Equals, [a().to_string()]);
    let rows = client.load(&area).await.unwrap();
    assert_eq!(rows.len(), 24);
    assert_eq!(rows[0].members["AreaId"], a().to_string());
}

#[tokio::test]
async fn load_in_chunks_single_shape() {
    check_load(false).await;
}

#[tokio::test]
async fn load_in_chunks_multi_shape() {
    check_load(true).await;
}

#[tokio::test]
async fn retries_with_backoff_then_give_up() {
    let (sim, client) = setup(None, false).await;
    let q = CubeQuery::new(Cube::SiteSummary)
        .measures([Measure::A01])
        .time(Granularity::Day, day(1, 1), day(1, 2));
    sim.inject(Endpoint::Load, Failure::Status(503));
    sim.inject(Endpoint::Load, Failure::Status(429));
    assert_eq!(client.load(&q).await.unwrap().len(), 2);
    assert_eq!(sim.stats().requests[&Endpoint::Load], 3);

    for _ in 0..3 {
        sim.inject(Endpoint::Load, Failure::Status(500));
    }
    let err = client.load(&q).await.unwrap_err();
    match err {
        ServerClientError::RetriesExhausted { attempts, last } => {
            assert_eq!(attempts, 3);
            assert!(
                matches!(*last, ServerClientError::Status { status: 500, ref message } if message == "injected failure")
            );
        }
        other => panic!("{other:?}"),
    }
    // A 400 is the caller's to fix: no retry.
    let before = sim.stats().requests[&Endpoint::Load];
    sim.inject(Endpoint::Load, Failure::Status(400));
    assert!(matches!(
        client.load(&q).await,
        Err(ServerClientError::Status { status: 400, .. })
    ));
    assert_eq!(sim.stats().requests[&Endpoint::Load], before + 1);
    // A body that is not JSON is a decode error naming the place.
    sim.inject(Endpoint::Load, Failure::Garbage);
    assert!(matches!(
        client.load(&q).await,
        Err(ServerClientError::Decode(_))
    ));
    // The token endpoint is retried too.
    let fresh = V9Client::new(&sim.base_url(), EMAIL, Secret::new(PASSWORD))
        .unwrap()
        .with_retry(fast_retry());
    sim.inject(Endpoint::Token, Failure::Status(502));
    fresh.token().await.unwrap();
    // Export retries as well.
    sim.inject(Endpoint::Export, Failure::Status(503));
    assert_eq!(
        client
            .export(&hourly_info(day(1, 2), day(1, 2)))
            .await
            .unwrap()
            .len(),
        24
    );
}

fn sale(d: NaiveDate, h: u32, qty: u64) -> SalesRow {
    SalesRow {
        site_code: "S01".into(),
        transaction_date: d.and_hms_opt(h, 0, 0).unwrap(),
        quantity: qty,
        amount_cents: 1250 * qty as i64,
        units_per_transaction: Some(1.5),
    }
}

#[tokio::test]
async fn sales_upload_replaces_days_and_refuses_partial_ones() {
    let (sim, client) = setup(None, false).await;
    let d = day(5, 1);
    // Whole day: accepted, done == total.
    let whole = SalesBatch::new(
        vec![sale(d, 9, 2), sale(d, 12, 3), sale(d, 18, 1)],
        Coverage::WholeDays,
    )
    .unwrap();
    let r = client
        .upload_sales(&whole, PartialDays::Refuse)
        .await
        .unwrap();
    assert_eq!((r.done, r.total), (3, 3));
    assert_eq!(sim.sales()[&("S01".to_owned(), d)].len(), 3);

    // An incremental feed of 10:00-14:00 holds the day only in part: refused, nothing sent.
    let sent_before = sim.stats().requests.get(&Endpoint::Sales).copied();
    let window = Coverage::Window {
        from: d.and_hms_opt(10, 0, 0).unwrap(),
        to: d.and_hms_opt(14, 0, 0).unwrap(),
    };
    let partial = SalesBatch::new(vec![sale(d, 12, 5)], window).unwrap();
    let err = client
        .upload_sales(&partial, PartialDays::Refuse)
        .await
        .unwrap_err();
    match err {
        ServerClientError::Sales(SalesUploadError::PartialDays { days }) => {
            assert_eq!(days, [("S01".to_owned(), d)])
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        sim.stats().requests.get(&Endpoint::Sales).copied(),
        sent_before,
        "nothing was sent"
    );
    assert_eq!(
        sim.sales()[&("S01".to_owned(), d)].len(),
        3,
        "the day is intact"
    );

    // Told to send anyway, the server replaces the whole day with the one row.
    client
        .upload_sales(&partial, PartialDays::Send)
        .await
        .unwrap();
    assert_eq!(sim.sales()[&("S01".to_owned(), d)], [sale(d, 12, 5)]);

    // done < total fails loudly.
    sim.drop_sales_rows(1);
    let err = client
        .upload_sales(&whole, PartialDays::Refuse)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            ServerClientError::ImportIncomplete { done: 2, total: 3 }
        ),
        "{err:?}"
    );
    // Rows for a site the server does not know are not "done" either.
    let mut stranger = sale(d, 9, 1);
    stranger.site_code = "NOPE".into();
    let batch = SalesBatch::new(vec![stranger], Coverage::WholeDays).unwrap();
    assert!(matches!(
        client.upload_sales(&batch, PartialDays::Refuse).await,
        Err(ServerClientError::ImportIncomplete { done: 0, total: 1 })
    ));
}

#[tokio::test]
async fn unreachable_server_is_retried_then_reported_as_transport() {
    // A port that was free a moment ago and has nobody listening now.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let client = V9Client::new(
        &format!("http://127.0.0.1:{port}"),
        EMAIL,
        Secret::new(PASSWORD),
    )
    .unwrap()
    .with_retry(fast_retry());
    match client.token().await.unwrap_err() {
        ServerClientError::RetriesExhausted { attempts, last } => {
            assert_eq!(attempts, 3);
            assert!(matches!(*last, ServerClientError::Transport(_)), "{last:?}");
            assert!(!last.to_string().contains(PASSWORD));
        }
        other => panic!("{other:?}"),
    }
}
