use super::*;

#[test]
fn formats_round_trip() {
    let dt = parse_datetime("2020-06-17 11:16:41").unwrap();
    assert_eq!(
        Format::DateTime.display(dt).to_string(),
        "2020-06-17 11:16:41"
    );
    assert_eq!(Format::CompactDate.display(dt).to_string(), "20200617");
    assert_eq!(Format::CompactTime.display(dt).to_string(), "111641");
    assert_eq!(
        Format::SalesDateTime.display(dt).to_string(),
        "17-06-2020 11:16"
    );
    assert_eq!(
        parse_compact_date("20181231").unwrap().to_string(),
        "2018-12-31"
    );
    assert_eq!(
        parse_compact_time("083000").unwrap().to_string(),
        "08:30:00"
    );
    let s = parse_sales_datetime("31-12-2018 23:59").unwrap();
    assert_eq!(
        Format::DateTime.display(s).to_string(),
        "2018-12-31 23:59:00"
    );
    assert_eq!(parse_unix_seconds("1592363801"), Ok(1_592_363_801));
}

#[test]
fn errors_name_the_place() {
    assert_eq!(
        parse_compact_date("2018123"),
        Err(ParseError::Length {
            expected: 8,
            found: 7
        })
    );
    assert_eq!(
        parse_compact_date("2018a231"),
        Err(ParseError::Character { position: 4 })
    );
    assert_eq!(
        parse_compact_date("20181331"),
        Err(ParseError::OutOfRange {
            field: Field::Month
        })
    );
    assert_eq!(
        parse_compact_date("20180431"),
        Err(ParseError::OutOfRange { field: Field::Day })
    );
    assert_eq!(
        parse_compact_time("240000"),
        Err(ParseError::OutOfRange { field: Field::Hour })
    );
    assert_eq!(
        parse_datetime("2020-06-17T11:16:41"),
        Err(ParseError::Character { position: 10 })
    );
    assert_eq!(
        parse_sales_datetime("29-02-2019 10:00"),
        Err(ParseError::OutOfRange { field: Field::Day })
    );
    assert!(parse_sales_datetime("29-02-2020 10:00").is_ok());
    assert_eq!(
        parse_unix_seconds("-5"),
        Err(ParseError::Character { position: 0 })
    );
    assert!(parse_unix_seconds("").is_err());
    assert!(parse_datetime("2020-06-17 11:16:4\u{e9}").is_err());
}

#[test]
fn offset_from_utc_and_local_text() {
    let utc = parse_datetime("2020-06-17 03:16:41").unwrap();
    let local = parse_datetime("2020-06-17 11:16:41").unwrap();
    assert_eq!(UtcOffset::between(utc, local).unwrap().seconds(), 8 * 3600);
    assert!(UtcOffset::from_seconds(19 * 3600).is_err());
}

#[test]
fn resolutions_validate_and_nest() {
    assert!(Resolution::minutes(7).is_err());
    assert!(Resolution::seconds(30).is_ok());
    assert!(Resolution::Minutes(15).divides(Resolution::Hour));
    assert!(!Resolution::Hour.divides(Resolution::Minutes(15)));
    assert!(Resolution::Hour.divides(Resolution::Day));
    assert_eq!(Resolution::all().count(), 14);
}

#[test]
fn fixed_zone_buckets_align_locally() {
    // +05:30: local hours start at :30 UTC.
    let zone = Zone::Fixed(UtcOffset::from_seconds(5 * 3600 + 1800).unwrap());
    let t = 1_700_000_000; // 2023-11-14 22:13:20 UTC = 2023-11-15 03:43:20 local
    let h = Resolution::Hour.bucket_start(t, &zone);
    assert_eq!(zone.local_seconds(h).rem_euclid(3600), 0);
    assert!(h <= t && t < h + 3600);
    let d = Resolution::Day.bucket_start(t, &zone);
    assert_eq!(zone.local_seconds(d).rem_euclid(86_400), 0);
    assert_eq!(Resolution::Day.next_start(d, &zone) - d, 86_400);
}

#[cfg(feature = "std")]
#[test]
fn dst_days_have_23_and_25_hours() {
    let london = Zone::iana("Europe/London").unwrap();
    let day = |y, m, d| {
        let local = naive_to_seconds(
            NaiveDate::from_ymd_opt(y, m, d)
                .unwrap()
                .and_hms_opt(12, 0, 0)
                .unwrap(),
        );
        let start = Resolution::Day.bucket_start(london.local_to_utc(local), &london);
        let end = Resolution::Day.next_start(start, &london);
        Resolution::Hour
            .buckets(start, end, london)
            .collect::<Vec<_>>()
    };
    assert_eq!(day(2024, 3, 31).len(), 23);
    assert_eq!(day(2024, 10, 27).len(), 25);
    assert_eq!(day(2024, 7, 1).len(), 24);
    // The fall-back day repeats local 01:00 with two different UTC buckets.
    let fall = day(2024, 10, 27);
    assert_eq!(london.local_seconds(fall[1]), london.local_seconds(fall[2]));
}

#[cfg(feature = "std")]
proptest::proptest! {
    /// (e) every local day in a DST zone has 23, 24 or 25 hourly buckets: exactly as many
    /// as the hours between its two midnights, computed independently by chrono-tz.
    #[test]
    fn dst_days_have_right_hour_count(
        days in 10_957i64..24_837, // 2000-01-01 .. 2037-12-31
        name in proptest::sample::select(&["Europe/London", "America/New_York", "Australia/Sydney", "Europe/Berlin", "Asia/Tokyo"][..]),
    ) {
        use chrono::TimeZone;
        let tz: chrono_tz::Tz = name.parse().unwrap();
        let zone = Zone::Iana(tz);
        let date = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap() + chrono::Days::new(days as u64);
        let midnight = |d: NaiveDate| {
            tz.from_local_datetime(&d.and_hms_opt(0, 0, 0).unwrap()).earliest().unwrap().timestamp()
        };
        let (start, end) = (midnight(date), midnight(date.succ_opt().unwrap()));
        let noon = start + 12 * 3600;
        proptest::prop_assert_eq!(Resolution::Day.bucket_start(noon, &zone), start);
        proptest::prop_assert_eq!(Resolution::Day.next_start(start, &zone), end);
        let hours = Resolution::Hour.buckets(start, end, zone).count() as i64;
        proptest::prop_assert_eq!(hours * 3600, end - start);
        proptest::prop_assert!((23..=25).contains(&hours));
    }
}

mod datetime_seconds {
    use super::*;
    use proptest::prelude::*;

    /// The reference: the chrono parse, then its seconds.
    fn reference(text: &str) -> Result<i64, ParseError> {
        parse_datetime(text).map(naive_to_seconds)
    }

    #[test]
    fn edges_agree_with_the_chrono_parse() {
        for text in [
            "1970-01-01 00:00:00",
            "9999-12-31 23:59:59",
            "0001-01-01 00:00:00",
            "0000-01-01 00:00:00",
            "2000-02-29 12:00:00",
            "1900-02-29 12:00:00",
            "2024-02-29 23:59:59",
            "2023-02-29 00:00:00",
            "2023-04-31 00:00:00",
            "2023-00-10 00:00:00",
            "2023-13-10 00:00:00",
            "2023-12-00 00:00:00",
            "2023-12-10 24:00:00",
            "2023-12-10 23:60:00",
            "2023-12-10 23:59:60",
            "2023-13-10 2x:00:00",
            "2023-12-10T23:59:59",
            "2023-12-10 23:59:5",
            "2023-12-10 23:59:590",
            "2023-1a-10 23:59:59",
            "2023-12-10 23:59:5\u{e9}",
        ] {
            assert_eq!(parse_datetime_seconds(text), reference(text), "{text}");
        }
    }

    proptest! {
        /// Every valid date-time from year 1 to 9999 gives the chrono parse's seconds.
        #[test]
        fn valid_texts_agree(s in 0i64..253_402_300_800, back in 0i64..62_135_596_800) {
            for at in [s, s - back] {
                let text = Format::DateTime
                    .display(chrono::DateTime::from_timestamp(at, 0).unwrap().naive_utc())
                    .to_string();
                prop_assert_eq!(parse_datetime_seconds(&text), reference(&text), "{}", text);
            }
        }

        /// Near-misses (a digit or separator changed, a byte dropped or added) give the
        /// same value or the same error as the chrono parse.
        #[test]
        fn damaged_texts_agree(
            s in 0i64..253_402_300_800,
            at in 0usize..20,
            with in prop::sample::select(b"0123456789-: T9x".to_vec()),
            how in 0u8..3,
        ) {
            let text = Format::DateTime
                .display(chrono::DateTime::from_timestamp(s, 0).unwrap().naive_utc())
                .to_string();
            let mut bytes = text.into_bytes();
            match how {
                0 if at < bytes.len() => bytes[at] = with,
                1 if at < bytes.len() => { bytes.remove(at); }
                _ => bytes.insert(at.min(bytes.len()), with),
            }
            let text = String::from_utf8(bytes).unwrap();
            prop_assert_eq!(parse_datetime_seconds(&text), reference(&text), "{}", text);
        }
    }
}
