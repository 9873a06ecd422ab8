//! The client against the simulator over real HTTP on 127.0.0.1: every format, resolution
//! and data type; long pulls across midnight, month ends and DST; token refresh; retries
//! under injected faults; bad queries refused before sending.

use std::time::Duration;

use chrono::NaiveDate;
use ffc_core::backoff::RetryPolicy;
use ffc_core::{
    CountEvent, CountRecord, Metric, PeopleType, Resolution, Source, Subject, UnixSeconds, Zone,
};
use ffc_device::client::{
    Credentials, DeviceClient, DeviceClientConfig, DeviceClientError, Failure, PullProgress,
};
use ffc_device::query::{DataType, Query, QueryError};
use ffc_device::sim::{DeviceSimConfig, Fault, Simulator};

fn london() -> Zone {
    Zone::iana("Europe/London").expect("zone")
}

async fn sim(zone: Zone) -> Simulator {
    Simulator::start(DeviceSimConfig::default().with_zone(zone).with_seed(42))
        .await
        .expect("simulator starts")
}

fn config(sim: &Simulator) -> DeviceClientConfig {
    DeviceClientConfig::new(sim.base_url(), sim.config().zone)
        .with_timeout(Duration::from_secs(1))
        .with_retry(
            RetryPolicy::default()
                .with_max_attempts(Some(4))
                .with_initial(Duration::from_millis(10))
                .with_cap(Duration::from_millis(50)),
        )
        .with_concurrency(3)
}

fn client(sim: &Simulator) -> DeviceClient {
    DeviceClient::new(config(sim), Credentials::new("admin", "123456")).expect("client")
}

/// Visitors in and out ending in `[start, start + length)`, counted straight from the
/// event stream, without ffc-core's series.
fn tally(events: &[CountEvent], start: UnixSeconds, length: u32) -> (u64, u64) {
    let end = start + i64::from(length);
    let mut t = (0, 0);
    for e in events
        .iter()
        .filter(|e| e.end >= start && e.end < end && e.people_type == PeopleType::Visitor)
    {
        match e.metric {
            Metric::In => t.0 += 1,
            Metric::Out => t.1 += 1,
        }
    }
    t
}

fn check_contiguous(
    records: &[CountRecord],
    from: UnixSeconds,
    to: UnixSeconds,
    resolution: Resolution,
    zone: &Zone,
) {
    let expected: Vec<UnixSeconds> = resolution.buckets(from, to, *zone).collect();
    let got: Vec<UnixSeconds> = records.iter().map(|r| r.start).collect();
    assert_eq!(got, expected, "every bucket exactly once, in order");
    for r in records {
        assert_eq!(
            i64::from(r.length),
            resolution.next_start(r.start, zone) - r.start
        );
        assert_eq!(r.offset, zone.offset_at(r.start));
        assert_eq!(r.source, Source::DevicePull);
    }
}

fn check_against_events(sim: &Simulator, records: &[CountRecord]) {
    let (Some(first), Some(last)) = (records.first(), records.last()) else {
        panic!("no records");
    };
    let events = sim.events(first.start, last.start + i64::from(last.length));
    let mut nonzero = 0;
    for r in records {
        assert_eq!(
            (r.count_in, r.count_out),
            tally(&events, r.start, r.length),
            "bucket {}",
            r.start
        );
        nonzero += u64::from(r.count_in + r.count_out > 0);
        assert_eq!(r.subject, Subject::Counter(sim.config().serial));
    }
    assert!(nonzero > 0, "the synthetic crowd showed up");
}

#[tokio::test]
async fn every_data_type_format_and_resolution() {
    let zone = london();
    let sim = sim(zone).await;
    let client = client(&sim);
    let day = NaiveDate::from_ymd_opt(2024, 7, 1).expect("date");
    let resolutions = [
        Resolution::Hour,
        Resolution::Minutes(1),
        Resolution::Minutes(5),
        Resolution::Minutes(10),
        Resolution::Minutes(15),
        Resolution::Minutes(30),
        Resolution::Minutes(60),
        Resolution::Seconds(1),
        Resolution::Seconds(5),
        Resolution::Seconds(10),
        Resolution::Seconds(15),
        Resolution::Seconds(30),
        Resolution::Seconds(60),
    ];
    let mut requests = 0;
    for resolution in resolutions {
        // Hours and minutes over a whole day; seconds over 20 minutes of the lunch peak.
        let mut builder = Query::builder().resolution(resolution).date_start(day);
        if matches!(resolution, Resolution::Seconds(_)) {
            builder = builder
                .time_start(chrono::NaiveTime::from_hms_opt(12, 0, 0).expect("time"))
                .time_end(chrono::NaiveTime::from_hms_opt(12, 19, 59).expect("time"));
        }
        let mut answers = Vec::new();
        for data_type in DataType::ALL {
            let query = builder
                .data_type(data_type)
                .build(&zone)
                .expect("valid query");
            let body = client.counts(&query).await.expect("counts");
            requests += 1;
            assert_eq!(body.serial, sim.config().serial);
            assert_eq!(body.resolution, Some(resolution));
            check_contiguous(
                &body.records,
                query.start(),
                query.end_inclusive() + 1,
                resolution,
                &zone,
            );
            check_against_events(&sim, &body.records);
            answers.push(body.records);
        }
        assert_eq!(
            answers[0], answers[1],
            "{resolution:?}: JSON and XML answers decode equal"
        );
    }
    let stats = sim.stats();
    assert_eq!(stats.count_requests, requests);
    assert_eq!(
        stats.tokens_issued, 1,
        "the token is fetched once and cached"
    );
}

#[tokio::test]
async fn pulls_split_across_midnight_month_end_and_dst() {
    let zone = london();
    let sim = sim(zone).await;
    let client = client(&sim);
    // 2024-10-26 18:00 BST to 2024-11-01 06:00 GMT: midnights, the 25-hour fall-back day
    // (two windows) and the end of October.
    let from = 1_729_962_000;
    let to = 1_730_440_800;
    for (resolution, data_type) in [
        (Resolution::Minutes(15), DataType::Json),
        (Resolution::Hour, DataType::Xml),
    ] {
        let before = sim.stats().count_requests;
        let mut seen: Vec<PullProgress> = Vec::new();
        let records = client
            .pull(from, to, resolution, data_type, |p| seen.push(*p))
            .await
            .expect("pull");
        check_contiguous(&records, from, to, resolution, &zone);
        check_against_events(&sim, &records);
        assert_eq!(
            sim.stats().count_requests - before,
            8,
            "6 h, 24 h + 1 h, 4 days, 6 h"
        );
        assert_eq!(seen.len(), 8);
        assert!(seen
            .iter()
            .enumerate()
            .all(|(i, p)| p.windows_done == i + 1 && p.windows_total == 8));
        assert!(seen
            .windows(2)
            .all(|w| w[0].complete_until < w[1].complete_until));
        assert_eq!(
            seen.last().map(|p| (p.records, p.complete_until)),
            Some((records.len(), to))
        );
        // The repeated local hour appears twice, as two distinct UTC buckets.
        let one_am: Vec<_> = records
            .iter()
            .filter(|r| zone.local_seconds(r.start).rem_euclid(86_400) == 3600)
            .filter(|r| (1_729_980_000..1_730_070_000).contains(&r.start))
            .collect();
        assert_eq!(one_am.len(), 2, "{resolution:?}");
    }
    // Spring forward: 31 March 2024 has 23 hourly buckets, in one window.
    let day = 1_711_843_200;
    let records = client
        .pull(
            day,
            day + 23 * 3600,
            Resolution::Hour,
            DataType::Json,
            |_| {},
        )
        .await
        .expect("pull");
    assert_eq!(records.len(), 23);
    check_contiguous(&records, day, day + 23 * 3600, Resolution::Hour, &zone);
}

#[tokio::test]
async fn token_is_refreshed_once_after_revocation() {
    let sim = sim(Zone::UTC).await;
    let client = client(&sim);
    let query = Query::builder()
        .date_start(NaiveDate::from_ymd_opt(2024, 2, 29).expect("date"))
        .build(&Zone::UTC)
        .expect("query");
    let first = client.counts(&query).await.expect("counts");
    sim.revoke_tokens();
    let second = client
        .counts(&query)
        .await
        .expect("counts after revocation");
    assert_eq!(first, second);
    let stats = sim.stats();
    assert_eq!(stats.tokens_issued, 2);
    assert_eq!(stats.token_refusals, 1);
    assert_eq!(stats.count_requests, 3);

    let wrong =
        DeviceClient::new(config(&sim), Credentials::new("admin", "654321")).expect("client");
    match wrong.counts(&query).await {
        Err(DeviceClientError::Credentials { status: 401 }) => {}
        other => panic!("expected a credentials error, got {other:?}"),
    }
    // Refused credentials are not retried.
    assert_eq!(sim.stats().token_requests, 3);
}

#[tokio::test]
async fn token_is_the_counters_fetched_once_and_redacted() {
    let sim = sim(Zone::UTC).await;
    let client = client(&sim);
    let token = client.token().await.expect("token");
    assert_eq!(token, sim.current_token());
    assert!(!format!("{token:?}").contains(token.expose()));
    // Cached: a second call and a count request reuse it.
    assert_eq!(client.token().await.expect("token"), token);
    let query = Query::builder()
        .date_start(NaiveDate::from_ymd_opt(2024, 2, 29).expect("date"))
        .build(&Zone::UTC)
        .expect("query");
    client.counts(&query).await.expect("counts");
    assert_eq!(sim.stats().tokens_issued, 1);
    let wrong =
        DeviceClient::new(config(&sim), Credentials::new("admin", "654321")).expect("client");
    assert!(matches!(
        wrong.token().await,
        Err(DeviceClientError::Credentials { status: 401 })
    ));
}

#[tokio::test]
async fn retries_connect_errors_timeouts_drops_and_5xx_but_never_4xx() {
    let sim = sim(Zone::UTC).await;
    let client = client(&sim);
    let query = Query::builder()
        .resolution(Resolution::Minutes(5))
        .date_start(NaiveDate::from_ymd_opt(2024, 12, 31).expect("date"))
        .build(&Zone::UTC)
        .expect("query");
    let clean = client.counts(&query).await.expect("counts");

    // A 5xx, a dropped connection and an answer slower than the timeout: the fourth
    // attempt gets through.
    sim.inject([
        Fault::Status(503),
        Fault::Drop,
        Fault::Slow(Duration::from_secs(5)),
    ]);
    let retried = client
        .counts(&query)
        .await
        .expect("counts after three failures");
    assert_eq!(retried, clean);
    assert_eq!(sim.stats().faults, 3);

    // Four attempts, four failures: the client gives up and says why.
    sim.inject([Fault::Status(502); 4]);
    match client.counts(&query).await {
        Err(DeviceClientError::Unavailable {
            attempts: 4,
            last: Failure::Status(502),
        }) => {}
        other => panic!("expected Unavailable, got {other:?}"),
    }
    sim.inject([Fault::Drop; 4]);
    match client.counts(&query).await {
        Err(DeviceClientError::Unavailable {
            last: Failure::Transport(_),
            ..
        }) => {}
        other => panic!("expected Unavailable after drops, got {other:?}"),
    }

    // A 4xx is final: one attempt, and the next queued fault is still waiting.
    sim.inject([Fault::Status(404), Fault::Status(503)]);
    let faults = sim.stats().faults;
    match client.counts(&query).await {
        Err(DeviceClientError::Rejected {
            status: 404,
            message,
        }) => assert!(message.contains("injected"), "{message}"),
        other => panic!("expected Rejected, got {other:?}"),
    }
    assert_eq!(sim.stats().faults, faults + 1);
    assert_eq!(client.counts(&query).await.expect("counts"), clean);

    // Nothing listening: connect errors are retried, then reported.
    let port = sim.addr().port();
    drop(sim);
    let c = DeviceClientConfig::new(format!("http://127.0.0.1:{port}/cgi-bin/"), Zone::UTC)
        .with_retry(
            RetryPolicy::default()
                .with_max_attempts(Some(2))
                .with_initial(Duration::from_millis(1))
                .with_cap(Duration::from_millis(1)),
        );
    let gone = DeviceClient::new(c, Credentials::new("admin", "123456")).expect("client");
    match gone.counts(&query).await {
        Err(DeviceClientError::Unavailable { attempts: 2, .. }) => {}
        other => panic!("expected Unavailable, got {other:?}"),
    }
}

#[tokio::test]
async fn answers_over_the_size_limit_are_refused_not_retried() {
    let sim = sim(Zone::UTC).await;
    let c = config(&sim).with_max_body_bytes(4096);
    let client = DeviceClient::new(c, Credentials::new("admin", "123456")).expect("client");
    let query = Query::builder()
        .resolution(Resolution::Minutes(1))
        .date_start(NaiveDate::from_ymd_opt(2024, 6, 1).expect("date"))
        .build(&Zone::UTC)
        .expect("query");
    match client.counts(&query).await {
        Err(DeviceClientError::BodyTooLarge { limit: 4096 }) => {}
        other => panic!("expected BodyTooLarge, got {other:?}"),
    }
    assert_eq!(sim.stats().count_requests, 1);
}

#[tokio::test]
async fn pull_concurrency_is_bounded() {
    // A slow counter (50 ms a request) so windows overlap if the client lets them.
    let sim = Simulator::start(DeviceSimConfig::default().with_latency(Duration::from_millis(50)))
        .await
        .expect("simulator");
    let client = client(&sim); // concurrency 3
    let from = 1_704_067_200;
    let records = client
        .pull(
            from,
            from + 12 * 86_400,
            Resolution::Hour,
            DataType::Json,
            |_| {},
        )
        .await
        .expect("pull");
    assert_eq!(records.len(), 12 * 24);
    let stats = sim.stats();
    assert_eq!(stats.count_requests, 12);
    assert!(
        stats.max_in_flight <= 3,
        "never more than the configured bound: {stats:?}"
    );
    assert!(stats.max_in_flight > 1, "windows overlapped: {stats:?}");
}

#[tokio::test]
async fn a_failed_pull_resumes_from_the_last_complete_window() {
    let zone = london();
    let sim = sim(zone).await;
    let base = config(&sim);
    let retry = base.retry.with_max_attempts(Some(2));
    let c = base.with_concurrency(1).with_retry(retry);
    let client = DeviceClient::new(c, Credentials::new("admin", "123456")).expect("client");
    let from = 1_706_659_200; // 2024-01-31 00:00 GMT
    let to = from + 3 * 86_400;
    let whole = client
        .pull(from, to, Resolution::Minutes(30), DataType::Xml, |_| {})
        .await
        .expect("pull");
    // The token is cached; window 1 passes, window 2 fails twice.
    sim.inject([Fault::Pass, Fault::Status(503), Fault::Status(503)]);
    let err = client
        .pull(from, to, Resolution::Minutes(30), DataType::Xml, |_| {})
        .await
        .expect_err("window 2 fails");
    assert_eq!(err.resume_from, from + 86_400);
    assert_eq!(err.records.as_slice(), whole.get(..48).expect("a day"));
    assert!(matches!(err.source, DeviceClientError::Unavailable { .. }));
    let rest = client
        .pull(
            err.resume_from,
            to,
            Resolution::Minutes(30),
            DataType::Xml,
            |_| {},
        )
        .await
        .expect("resumed pull");
    let mut joined = err.records;
    joined.extend(rest);
    assert_eq!(joined, whole);
}

#[tokio::test]
async fn bad_queries_are_refused_before_sending() {
    let sim = sim(Zone::UTC).await;
    let client = client(&sim);
    let day = NaiveDate::from_ymd_opt(2024, 1, 1).expect("date");
    let refused = [
        Query::builder()
            .resolution(Resolution::Day)
            .date_start(day)
            .build(&Zone::UTC),
        Query::builder()
            .resolution(Resolution::Minutes(7))
            .date_start(day)
            .build(&Zone::UTC),
        Query::builder()
            .resolution_min(15)
            .date_start(day)
            .build(&Zone::UTC),
        Query::builder()
            .date_start(day)
            .date_end(day.succ_opt().expect("date"))
            .build(&Zone::UTC),
        Query::builder().build(&Zone::UTC),
    ];
    assert!(refused.iter().all(Result::is_err));
    match client
        .pull(100_000, 10, Resolution::Hour, DataType::Json, |_| {})
        .await
    {
        Err(e) => assert!(matches!(
            e.source,
            DeviceClientError::Query(QueryError::EndBeforeStart)
        )),
        Ok(_) => panic!("a reversed range must be refused"),
    }
    match client
        .pull(0, 86_400, Resolution::Day, DataType::Json, |_| {})
        .await
    {
        Err(e) => assert!(matches!(
            e.source,
            DeviceClientError::Query(QueryError::DayResolution)
        )),
        Ok(_) => panic!("days must be refused"),
    }
    // Nothing reached the counter, not even a token request.
    assert_eq!(sim.stats().token_requests + sim.stats().count_requests, 0);

    // The simulator refuses the same queries with HTTP 400 and the same message.
    let token = sim.current_token();
    let url = format!(
        "{}apiCount.cgi?data_format=minute&resolution_min=7&date_start=20240101&access_token={}",
        sim.base_url(),
        token.expose()
    );
    let response = reqwest::get(&url).await.expect("answer");
    assert_eq!(response.status().as_u16(), 400);
    let text = response.text().await.expect("body");
    assert!(text.contains("resolution_min=7 is not one of"), "{text}");
    assert_eq!(sim.stats().bad_queries, 1);
}
