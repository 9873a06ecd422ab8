use alloc::vec::Vec;

use super::*;
use crate::kpi::OperatingHours;
use crate::model::{CountEvent, CountRecord, Metric, PeopleId, PeopleType, RoiId, Source, Subject};
use crate::reconcile::reconcile;
use crate::UtcOffset;

const C: CameraSerial = CameraSerial::from_u64(0xc);

fn kept(id: u64, end: i64, received: Option<i64>) -> ReceivedEvent {
    ReceivedEvent {
        event: CountEvent {
            serial: C,
            roi: RoiId(1),
            metric: Metric::In,
            people_type: PeopleType::Visitor,
            people_id: PeopleId(id),
            start: end - 1,
            end,
            offset: UtcOffset::UTC,
            uuid: None,
            source: Source::WebSocket,
        },
        received,
    }
}

fn session(kind: SessionKind, at: i64) -> SessionRecord {
    SessionRecord {
        counter: C,
        source: SessionSource::Ws,
        kind,
        at,
    }
}

fn input(
    from: i64,
    to: i64,
    buckets: &[crate::reconcile::ReconciledBucket],
) -> AvailabilityInput<'_> {
    AvailabilityInput {
        counter: C,
        from,
        to,
        buckets,
        merged: false,
    }
}

#[test]
fn on_time_late_and_offline_minutes() {
    let events = [
        kept(1, 30, Some(100)),
        kept(2, 90, Some(120 + 301)),
        kept(3, 150, None),
    ];
    let sessions = [
        session(SessionKind::Connect, 0),
        session(SessionKind::Disconnect, 240),
    ];
    let seen = activity(&events, &sessions);
    let a = availability(
        &input(0, 600, &[]),
        seen.get(&C),
        &AvailabilityConfig::default(),
    );
    assert_eq!(
        &a.minutes[..6],
        [
            MinuteState::OnTime,  // kept 40 s after the minute
            MinuteState::Late,    // kept 301 s after
            MinuteState::OnTime,  // no receive time recorded (older file)
            MinuteState::OnTime,  // connected, nothing to send
            MinuteState::Offline, // disconnected, nothing arrived
            MinuteState::Offline,
        ]
    );
    let hour = a.rollup(0, 600);
    assert_eq!(hour.get(MinuteState::Offline), 6);
    assert_eq!(hour.worst(), Some(MinuteState::Offline));
}

#[test]
fn a_heartbeat_covers_its_interval() {
    let seen = activity(&[], &[session(SessionKind::Heartbeat, 0)]);
    let a = availability(
        &input(0, 1200, &[]),
        seen.get(&C),
        &AvailabilityConfig::default(),
    );
    assert_eq!(a.rollup(0, 900).get(MinuteState::OnTime), 15);
    assert_eq!(a.rollup(900, 1200).get(MinuteState::Offline), 5);
}

#[test]
fn short_buckets_are_backfillable_then_backfilled_and_old_gaps_lost() {
    let pulled = [
        CountRecord {
            subject: Subject::Counter(C),
            start: 0,
            length: 900,
            offset: UtcOffset::UTC,
            count_in: 3,
            count_out: 0,
            outside: None,
            source: Source::DevicePull,
        },
        CountRecord {
            start: 1800,
            count_in: 0,
            ..CountRecord {
                subject: Subject::Counter(C),
                start: 0,
                length: 900,
                offset: UtcOffset::UTC,
                count_in: 0,
                count_out: 0,
                outside: None,
                source: Source::DevicePull,
            }
        },
    ];
    let events = [kept(1, 30, Some(40))];
    let rec = reconcile(&events.map(|e| e.event), &pulled);
    let seen = activity(&events, &[]);
    let config = AvailabilityConfig::default();
    let a = availability(&input(0, 2700, &rec.buckets), seen.get(&C), &config);
    assert_eq!(a.minutes[0], MinuteState::OnTime);
    assert_eq!(a.rollup(0, 900).get(MinuteState::Backfillable), 14);
    // 900..1800: the pull spans it but has no row: the counter holds nothing either.
    assert_eq!(a.rollup(900, 1800).get(MinuteState::Lost), 15);
    // 1800..2700: pulled and matching, link down: offline.
    assert_eq!(a.rollup(1800, 2700).get(MinuteState::Offline), 15);
    let merged = AvailabilityInput {
        merged: true,
        ..input(0, 2700, &rec.buckets)
    };
    let b = availability(&merged, seen.get(&C), &config);
    assert_eq!(b.rollup(0, 900).get(MinuteState::Backfilled), 14);
    let old = config.with_device_holds_from(Some(3000));
    let c = availability(&input(0, 2700, &rec.buckets), seen.get(&C), &old);
    assert_eq!(c.rollup(0, 900).get(MinuteState::Lost), 14);
    let hourly = b.by_bucket(Resolution::Hour, Zone::UTC);
    assert_eq!(hourly.len(), 1);
    assert_eq!(hourly[0].1.total(), 45);
}

#[test]
fn incidents_open_and_close_within_opening_hours() {
    let config = AvailabilityConfig::default()
        .with_offline_after_seconds(600)
        .with_hours(OperatingHours {
            open: 0,
            close: 7200,
        });
    let sessions = [
        session(SessionKind::Heartbeat, 0),
        session(SessionKind::Heartbeat, 300),
        session(SessionKind::Heartbeat, 3000), // back after 45 minutes
        // closed from 7200: a night's silence is no incident
        session(SessionKind::Heartbeat, 86_400 + 10),
    ];
    let seen = activity(&[], &sessions);
    let act = &seen[&C];
    let found = incidents(C, act, 86_400 + 3000, &config);
    assert_eq!(found.len(), 3, "{found:?}");
    assert_eq!((found[0].from, found[0].to), (300, Some(3000)));
    // The gap 3000..86_410 holds 4210 open seconds (3000..7200 and 86_400..86_410).
    assert_eq!(found[1].open_seconds, 4210);
    assert_eq!(found[2].to, None, "still silent now");
    assert_eq!(last_seen(act), Some(86_410));
}

#[test]
fn the_overflow_burst_is_recognised_and_named() {
    let config = AvailabilityConfig::default();
    let mut events: Vec<ReceivedEvent> = Vec::new();
    events.push(kept(0, 100, Some(101))); // before the outage
                                          // Outage 100..7300; then exactly 10,000 resent events within a few seconds.
    for k in 0..10_000u64 {
        events.push(kept(
            k + 1,
            200 + k as i64 / 2,
            Some(7300 + k as i64 / 4000),
        ));
    }
    let mut sessions = alloc::vec![session(SessionKind::Connect, 7299)];
    sessions.push(session(SessionKind::Disconnect, 7303));
    let seen = activity(&events, &sessions);
    let act = &seen[&C];
    let now = 7303 + 3600;
    let found = overflow(C, act, now, &config).expect("overflow");
    assert_eq!(found.events, 10_000);
    assert_eq!((found.outage_from, found.burst_from), (101, 7300));
    assert!(OverflowSuspect::ADVICE.contains("re-enable"));
    // One event fewer, or a heartbeat after the burst, is not the case.
    let fewer = activity(&events[..events.len() - 1], &sessions);
    assert_eq!(overflow(C, &fewer[&C], now, &config), None);
    let mut alive = sessions.clone();
    alive.push(session(SessionKind::Heartbeat, 8000));
    let alive = activity(&events, &alive);
    assert_eq!(overflow(C, &alive[&C], now, &config), None);
}

#[test]
fn rfc3339_reads_and_writes() {
    assert_eq!(parse_rfc3339("1970-01-01T00:01:00Z"), Ok(60));
    assert_eq!(parse_rfc3339("1970-01-01T01:00:00.123+01:00"), Ok(0));
    assert_eq!(parse_rfc3339("1970-01-01 00:00:00-00:30"), Ok(1800));
    assert!(parse_rfc3339("1970-01-01T00:00:00").is_err());
    assert!(parse_rfc3339("1970-01-01T00:00:00+1:00").is_err());
    assert!(parse_rfc3339("1970-13-01T00:00:00Z").is_err());
    assert_eq!(
        alloc::format!("{}", format_rfc3339(86_461)),
        "1970-01-02T00:01:01Z"
    );
}

#[cfg(feature = "serde")]
#[test]
fn wire_lines_round_trip_and_old_lines_read() {
    let line = r#"{"counter":"000000000000000c","source":"mqtt","kind":"occupancy","at_utc":"2026-12-06T05:00:00Z"}"#;
    let s: SessionRecord = serde_json::from_str(line).unwrap();
    assert_eq!(
        (s.source, s.kind),
        (SessionSource::Mqtt, SessionKind::Occupancy)
    );
    assert_eq!(serde_json::to_string(&s).unwrap(), line);
    let e = kept(7, 1_000_000, Some(1_000_030));
    let text = serde_json::to_string(&e).unwrap();
    assert!(
        text.contains(r#""received_utc":"1970-01-12T13:47:10Z""#),
        "{text}"
    );
    assert_eq!(serde_json::from_str::<ReceivedEvent>(&text).unwrap(), e);
    let old = serde_json::to_string(&e.event).unwrap();
    let read: ReceivedEvent = serde_json::from_str(&old).unwrap();
    assert_eq!((read.event, read.received), (e.event, None));
    assert!(serde_json::from_str::<ReceivedEvent>(&text.replace("13:47:10Z", "bad")).is_err());
}
