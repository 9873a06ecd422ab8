//! Properties of the codecs and queries: JSON and XML renderings of the same records decode
//! equal (and equal to the records); the decoders never panic on any bytes (the entry
//! points of the fuzz targets `device_json` and `device_xml`); queries survive their own
//! rendering; a split range covers every bucket once.

use ffc_core::{CameraSerial, CountRecord, Resolution, Source, Subject, UtcOffset, Zone};
use ffc_device::body::{decode_json, decode_token, decode_xml, encode_json, encode_xml};
use ffc_device::query::{split_range, DataType, Query, QueryError, MAX_WINDOW_SECONDS};
use proptest::prelude::*;

fn zone() -> impl Strategy<Value = Zone> {
    prop_oneof![
        Just(Zone::UTC),
        Just(Zone::Fixed(
            UtcOffset::from_seconds(5 * 3600 + 1800).expect("offset")
        )),
        Just(Zone::Fixed(
            UtcOffset::from_seconds(-8 * 3600).expect("offset")
        )),
        Just(Zone::iana("Europe/London").expect("zone")),
        Just(Zone::iana("America/New_York").expect("zone")),
    ]
}

fn device_resolution() -> impl Strategy<Value = Resolution> {
    prop::sample::select(
        Resolution::all()
            .filter(|r| *r != Resolution::Day)
            .collect::<Vec<_>>(),
    )
}

/// Consecutive records from an aligned start that is not inside a repeated DST hour (a
/// body that starts there is ambiguous by nature; see `body`).
fn records() -> impl Strategy<Value = (Zone, Resolution, Vec<CountRecord>)> {
    (
        zone(),
        device_resolution(),
        946_684_800i64..1_893_456_000,
        prop::collection::vec((any::<u64>(), 0u64..10_000), 0..60),
        any::<u64>(),
    )
        .prop_filter_map(
            "start inside a repeated hour",
            |(zone, res, at, counts, serial)| {
                let start = res.bucket_start(at, &zone);
                if zone.local_to_utc(zone.local_seconds(start)) != start {
                    return None;
                }
                let mut t = start;
                let mut out = Vec::new();
                for (count_in, count_out) in counts {
                    let next = res.next_start(t, &zone);
                    out.push(CountRecord {
                        subject: Subject::Counter(CameraSerial::from_u64(serial)),
                        start: t,
                        length: u32::try_from(next - t).ok()?,
                        offset: zone.offset_at(t),
                        count_in,
                        count_out,
                        outside: None,
                        source: Source::DevicePull,
                    });
                    t = next;
                }
                Some((zone, res, out))
            },
        )
}

/// Whether a second of `[from, to)` is the second pass of a repeated local time. A
/// repeated stretch lasts an hour in the zones above, so checking both ends and every
/// 900 seconds between cannot step over one.
fn touches_repeated_time(zone: &Zone, from: i64, to: i64) -> bool {
    let repeated = |t: i64| zone.local_to_utc(zone.local_seconds(t)) != t;
    (from..to).step_by(900).chain([to - 1]).any(repeated)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn json_and_xml_of_the_same_records_decode_equal(
        (zone, resolution, records) in records(),
        serial in any::<u64>(),
        name in "[a-zA-Z0-9 &<>\"'/-]{0,24}",
    ) {
        let serial = CameraSerial::from_u64(serial);
        let records: Vec<CountRecord> = records
            .into_iter()
            .map(|r| CountRecord { subject: Subject::Counter(serial), ..r })
            .collect();
        let json = decode_json(encode_json(serial, &name, resolution, &records).as_bytes(), &zone)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let xml = decode_xml(encode_xml(serial, &name, resolution, &records).as_bytes(), &zone)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&json, &xml);
        prop_assert_eq!(json.serial, serial);
        prop_assert_eq!(json.resolution, Some(resolution));
        prop_assert_eq!(json.records, records);
    }

    #[test]
    fn decoders_never_panic_on_any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = decode_json(&bytes, &Zone::UTC);
        let _ = decode_xml(&bytes, &Zone::UTC);
        let _ = decode_token(&bytes);
    }

    #[test]
    fn decoders_never_panic_on_damaged_bodies(
        (zone, resolution, records) in records(),
        cut in any::<prop::sample::Index>(),
        flip in any::<prop::sample::Index>(),
        byte in any::<u8>(),
    ) {
        let serial = CameraSerial::from_u64(1);
        for body in [
            encode_json(serial, "n", resolution, &records).into_bytes(),
            encode_xml(serial, "n", resolution, &records).into_bytes(),
        ] {
            let mut damaged = body.clone();
            if !damaged.is_empty() {
                let i = flip.index(damaged.len());
                damaged[i] = byte;
            }
            let truncated = &body[..cut.index(body.len() + 1)];
            for b in [damaged.as_slice(), truncated] {
                let _ = decode_json(b, &zone);
                let _ = decode_xml(b, &zone);
            }
        }
    }

    #[test]
    fn query_params_parse_back_and_arbitrary_params_never_panic(
        zone in zone(),
        resolution in device_resolution(),
        data_type in prop::sample::select(DataType::ALL.to_vec()),
        at in 946_684_800i64..1_893_456_000,
        span in 1i64..=MAX_WINDOW_SECONDS,
        junk in prop::collection::vec(("[a-z_]{1,14}", "[0-9a-z]{0,9}"), 0..8),
    ) {
        let windows = match split_range(at, at + span, resolution, data_type, &zone) {
            Ok(windows) => windows,
            // Refused by name only where the range touches a repeated local time (a fall-back
            // hour), which a counter's local-time query cannot name.
            Err(QueryError::Ambiguous) => {
                let from = resolution.bucket_start(at, &zone);
                let to = resolution.next_start(resolution.bucket_start(at + span - 1, &zone), &zone);
                prop_assert!(touches_repeated_time(&zone, from, to), "refused with no repeated local time");
                return Ok(());
            }
            Err(e) => return Err(TestCaseError::fail(e.to_string())),
        };
        for w in &windows {
            let params = w.query.params();
            let back = Query::from_params(params.iter().map(|(k, v)| (*k, v.as_str())), &zone)
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(back, w.query);
        }
        let _ = Query::from_params(junk.iter().map(|(k, v)| (k.as_str(), v.as_str())), &zone);
    }

    #[test]
    fn split_ranges_cover_every_bucket_once(
        zone in zone(),
        resolution in prop::sample::select(vec![Resolution::Hour, Resolution::Minutes(15), Resolution::Minutes(60)]),
        at in 946_684_800i64..1_893_456_000,
        days in 0i64..40,
        extra in 0i64..86_400,
    ) {
        let to = at + days * 86_400 + extra;
        let windows = match split_range(at, to, resolution, DataType::Json, &zone) {
            Ok(windows) => windows,
            // A counter's query names local times. A window ending in the second pass of a
            // repeated hour (fall back) cannot say so, and is refused by name rather than
            // answered with the first pass's buckets: only where such a second exists.
            Err(QueryError::Ambiguous) => {
                let repeated = |t: i64| zone.local_to_utc(zone.local_seconds(t)) != t;
                let end = resolution.next_start(resolution.bucket_start(to - 1, &zone), &zone);
                let ends = resolution.buckets(at, to, zone).chain([end]);
                prop_assert!(ends.map(|b| b - 1).any(repeated), "refused with no repeated local time");
                return Ok(());
            }
            Err(e) => return Err(TestCaseError::fail(e.to_string())),
        };
        let mut covered = Vec::new();
        for w in &windows {
            prop_assert!(w.to - w.from <= MAX_WINDOW_SECONDS);
            covered.extend(resolution.buckets(w.from, w.to, zone).filter(|b| w.query.holds_bucket(*b)));
        }
        let expected: Vec<i64> = resolution.buckets(at, to, zone).collect();
        prop_assert_eq!(covered, expected);
    }
}
