use chrono::{NaiveDate, NaiveTime};
use ffc_core::Zone;

use super::*;

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}
fn hms(h: u32, m: u32, s: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, s).unwrap()
}
fn rendered(q: &Query) -> String {
    q.params()
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

#[test]
fn renders_the_published_samples() {
    // Sample 1 of the vendor document, narrowed to one day (ffc refuses a month).
    let q = Query::builder()
        .data_type(DataType::Json)
        .data_format(DataFormat::Second)
        .resolution_sec(30)
        .date_start(day(2018, 12, 31))
        .time_start(hms(8, 30, 0))
        .time_end(hms(18, 30, 0))
        .build(&Zone::UTC)
        .unwrap();
    assert_eq!(
        rendered(&q),
        "data_type=json&data_format=second&resolution_sec=30&date_start=20181231\
         &date_end=20181231&time_start=083000&time_end=183000"
    );
    let hour = Query::builder()
        .date_start(day(2018, 12, 31))
        .build(&Zone::UTC)
        .unwrap();
    assert_eq!(
        rendered(&hour),
        "data_type=json&data_format=hour&date_start=20181231&date_end=20181231\
         &time_start=000000&time_end=235959"
    );
    assert_eq!(hour.resolution(), Resolution::Hour);
}

#[test]
fn documented_defaults_for_a_missing_end() {
    let only_start = Query::builder()
        .date_start(day(2024, 1, 31))
        .time_start(hms(23, 30, 0))
        .build(&Zone::UTC)
        .unwrap();
    // One hour later, which wraps to the next day (and the next month).
    assert!(rendered(&only_start)
        .ends_with("date_start=20240131&date_end=20240201&time_start=233000&time_end=003000"));
    let only_end = Query::builder()
        .date_start(day(2024, 1, 31))
        .time_end(hms(12, 0, 0))
        .build(&Zone::UTC)
        .unwrap();
    assert!(rendered(&only_end).ends_with("time_start=000000&time_end=120000"));
    let minute = Query::builder()
        .data_format(DataFormat::Minute)
        .date_start(day(2024, 1, 31))
        .build(&Zone::UTC)
        .unwrap();
    assert_eq!(minute.resolution(), Resolution::Minutes(1));
    let second = Query::builder()
        .data_format(DataFormat::Second)
        .date_start(day(2024, 1, 31))
        .build(&Zone::UTC)
        .unwrap();
    assert_eq!(second.resolution(), Resolution::Seconds(10));
}

#[test]
fn invalid_queries_are_refused_with_the_reason() {
    let d = day(2024, 1, 31);
    let base = Query::builder().date_start(d);
    let z = Zone::UTC;
    assert_eq!(
        base.data_format(DataFormat::Second)
            .resolution_min(5)
            .build(&z),
        Err(QueryError::ResolutionMismatch {
            param: Param::ResolutionMin,
            format: DataFormat::Second
        })
    );
    assert_eq!(
        base.data_format(DataFormat::Minute)
            .resolution_sec(5)
            .build(&z),
        Err(QueryError::ResolutionMismatch {
            param: Param::ResolutionSec,
            format: DataFormat::Minute
        })
    );
    assert!(matches!(
        base.resolution_min(15).build(&z),
        Err(QueryError::ResolutionMismatch {
            format: DataFormat::Hour,
            ..
        })
    ));
    assert_eq!(
        base.data_format(DataFormat::Minute)
            .resolution_min(7)
            .build(&z),
        Err(QueryError::Step {
            param: Param::ResolutionMin,
            value: 7
        })
    );
    assert_eq!(
        base.resolution(Resolution::Day).build(&z),
        Err(QueryError::DayResolution)
    );
    assert_eq!(
        Query::builder().build(&z),
        Err(QueryError::MissingDateStart)
    );
    assert_eq!(
        base.date_end(day(2024, 1, 30)).build(&z),
        Err(QueryError::EndBeforeStart)
    );
    assert_eq!(
        base.date_end(day(2024, 2, 1)).build(&z),
        Err(QueryError::WindowTooLong {
            seconds: 2 * 86_400
        })
    );
    // Exactly 24 hours across midnight is accepted.
    assert!(base
        .date_end(day(2024, 2, 1))
        .time_start(hms(6, 0, 0))
        .time_end(hms(5, 59, 59))
        .build(&z)
        .is_ok());
}

#[test]
fn a_fall_back_day_is_too_long_for_one_window() {
    let london = Zone::iana("Europe/London").unwrap();
    let q = Query::builder()
        .date_start(day(2024, 10, 27))
        .build(&london);
    assert_eq!(q, Err(QueryError::WindowTooLong { seconds: 25 * 3600 }));
    let spring = Query::builder()
        .date_start(day(2024, 3, 31))
        .build(&london)
        .unwrap();
    assert_eq!(spring.end_inclusive() - spring.start() + 1, 23 * 3600);
}

#[test]
fn params_parse_back_through_the_same_rules() {
    let z = Zone::iana("Europe/London").unwrap();
    for r in Resolution::all().filter(|r| *r != Resolution::Day) {
        for t in DataType::ALL {
            let q = Query::builder()
                .data_type(t)
                .resolution(r)
                .date_start(day(2024, 3, 30))
                .date_end(day(2024, 3, 31))
                .time_start(hms(12, 0, 0))
                .time_end(hms(11, 59, 59))
                .build(&z)
                .unwrap();
            let params = q.params();
            let back =
                Query::from_params(params.iter().map(|(k, v)| (*k, v.as_str())), &z).unwrap();
            assert_eq!(back, q);
        }
    }
    let bad = [("data_type", "csv"), ("date_start", "20240101")];
    assert_eq!(
        Query::from_params(bad, &z),
        Err(QueryError::UnknownValue {
            param: Param::DataType
        })
    );
    let twice = [("date_start", "20240101"), ("date_start", "20240102")];
    assert_eq!(
        Query::from_params(twice, &z),
        Err(QueryError::Duplicate {
            param: Param::DateStart
        })
    );
    let bad_date = [("date_start", "20240230")];
    assert!(matches!(
        Query::from_params(bad_date, &z),
        Err(QueryError::Text {
            param: Param::DateStart,
            ..
        })
    ));
    let big_step = [
        ("date_start", "20240101"),
        ("data_format", "minute"),
        ("resolution_min", "300"),
    ];
    assert_eq!(
        Query::from_params(big_step, &z),
        Err(QueryError::Step {
            param: Param::ResolutionMin,
            value: 300
        })
    );
}

fn check_cover(windows: &[Window], from: UnixSeconds, to: UnixSeconds) {
    assert_eq!(windows.first().unwrap().from, from);
    assert_eq!(windows.last().unwrap().to, to);
    for pair in windows.windows(2) {
        assert_eq!(pair[0].to, pair[1].from, "windows must be contiguous");
    }
    for w in windows {
        assert!(w.to - w.from <= MAX_WINDOW_SECONDS);
        assert_eq!(w.query.start(), w.from);
        assert_eq!(w.query.end_inclusive(), w.to - 1);
    }
}

#[test]
fn splits_at_midnight_month_end_and_dst() {
    let london = Zone::iana("Europe/London").unwrap();
    // 2024-10-26 18:00 BST (17:00 UTC) to 2024-11-01 06:00 GMT: crosses the fall-back
    // day (25 hours, cut in two) and the end of October.
    let from = 1_729_962_000;
    let to = 1_730_440_800;
    let w = split_range(from, to, Resolution::Hour, DataType::Xml, &london).unwrap();
    check_cover(&w, from, to);
    let lens: Vec<i64> = w.iter().map(|w| (w.to - w.from) / 3600).collect();
    assert_eq!(lens, vec![6, 24, 1, 24, 24, 24, 24, 6]);
    let params = w[6].query.params();
    assert_eq!(params[2], ("date_start", "20241031".to_string()));
    // The fall-back day: 00:00 BST to 23:00 GMT, then the last hour.
    assert_eq!(w[1].query.params()[4], ("time_start", "000000".to_string()));
    assert_eq!(w[1].query.params()[5], ("time_end", "225959".to_string()));
    // Spring forward: a 23-hour day is one window.
    let from = 1_711_843_200; // 2024-03-31 00:00 GMT = UTC
    let w = split_range(
        from,
        from + 23 * 3600,
        Resolution::Minutes(15),
        DataType::Json,
        &london,
    )
    .unwrap();
    assert_eq!(w.len(), 1);
    check_cover(&w, from, from + 23 * 3600);
}

#[test]
fn widens_to_whole_buckets() {
    let w = split_range(
        1_000_000_030,
        1_000_000_100,
        Resolution::Minutes(1),
        DataType::Json,
        &Zone::UTC,
    )
    .unwrap();
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].from, 1_000_000_020);
    assert_eq!(w[0].to, 1_000_000_140);
    assert!(
        split_range(10, 10, Resolution::Hour, DataType::Json, &Zone::UTC)
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        split_range(10, 5, Resolution::Hour, DataType::Json, &Zone::UTC),
        Err(QueryError::EndBeforeStart)
    );
    assert_eq!(
        split_range(0, 5, Resolution::Day, DataType::Json, &Zone::UTC),
        Err(QueryError::DayResolution)
    );
}
