//! The counting event the fields describe, shared by the WebSocket and MQTT codecs, and the
//! date-times an encoder writes for one.

use ffc_core::time::{check_unix, seconds_to_naive};
use ffc_core::{
    CameraSerial, CodeError, CountEvent, MessageId, Metric, ObjectType, ParseError, PeopleId,
    PeopleType, RoiId, Source, UnixSeconds, UtcOffset,
};

use super::error::{field_err, EncodeError, FieldError, FieldProblem};
use super::payload::{
    date_time_seconds, instant, required, serial, small, text, unsigned, Fields, Scalar,
};

/// The names of one UTC/local string pair and the unix time it restates, as errors name
/// them.
pub(crate) struct PairNames {
    pub(crate) utc: &'static str,
    pub(crate) local: &'static str,
    pub(crate) unix: &'static str,
}

/// Every UTC offset in use is a whole number of quarter hours (Nepal's +05:45, Chatham's
/// +12:45 included): a local text that differs from its instant by anything else disagrees
/// with it (one second off gives 28,799 s, which is refused, never taken as an offset).
pub(crate) const OFFSET_GRANULARITY: i32 = 900;

/// The offset a UTC/local pair implies, after checking the UTC string against `unix`; the
/// local text is compared with the UTC text, or with `unix` when the UTC text is absent.
/// `None` when the pair has no local text. DECISION: a local text whose difference is not a
/// whole quarter hour is an error naming the local field and the one it was compared with.
pub(crate) fn pair_offset(
    utc: &Option<Scalar<'_>>,
    local: &Option<Scalar<'_>>,
    unix: UnixSeconds,
    names: &PairNames,
) -> Result<Option<UtcOffset>, FieldError> {
    // Each text is parsed once, straight to wall-clock seconds (issue 20).
    let (reference, against) = match utc {
        Some(utc) => {
            if date_time_seconds(utc, names.utc)? != unix {
                return Err(field_err(
                    names.utc,
                    FieldProblem::Conflicts { with: names.unix },
                ));
            }
            (unix, names.utc)
        }
        None => (unix, names.unix),
    };
    let Some(local) = local else {
        return Ok(None);
    };
    let local = date_time_seconds(local, names.local)?;
    // Both are within the years 1..=9999, so the difference cannot overflow; like
    // `UtcOffset::between`, more than ±18 hours is out of range.
    let offset = i32::try_from(local - reference)
        .map_err(|_| OFFSET_RANGE)
        .and_then(UtcOffset::from_seconds)
        .map_err(|e| field_err(names.local, FieldProblem::Text(e)))?;
    if offset.seconds() % OFFSET_GRANULARITY != 0 {
        return Err(field_err(
            names.local,
            FieldProblem::Conflicts { with: against },
        ));
    }
    Ok(Some(offset))
}

/// What `UtcOffset::between` says of a difference beyond `i32`.
const OFFSET_RANGE: ParseError = ParseError::OutOfRange {
    field: ffc_core::Field::Offset,
};

/// The event's offset from its end pair and its start pair: where both give one they must
/// agree (DECISION: a crossing of a few seconds that straddles a DST change is refused by
/// field name rather than guessed); an event with neither is an error, not UTC.
fn event_offset(
    end: Option<UtcOffset>,
    start: Option<UtcOffset>,
    n: &EventNames,
) -> Result<UtcOffset, FieldError> {
    match (end, start) {
        (Some(e), Some(s)) if e != s => Err(field_err(
            n.start.local,
            FieldProblem::Conflicts { with: n.end.local },
        )),
        (Some(o), _) | (None, Some(o)) => Ok(o),
        (None, None) => Err(field_err(n.end.local, FieldProblem::Missing)),
    }
}

/// The wire names of a counting event's fields, as errors name them.
pub(crate) struct EventNames {
    uuid: &'static str,
    camera_serial: &'static str,
    device_serial: &'static str,
    roi: &'static str,
    metric: &'static str,
    people_type: &'static str,
    object_type: &'static str,
    people_id: &'static str,
    start: PairNames,
    end: PairNames,
}

/// A counting event's names at the top level of a payload.
pub(crate) const FLAT_NAMES: EventNames = EventNames {
    uuid: "UUID",
    camera_serial: "CameraSerial",
    device_serial: "DeviceSerial",
    roi: "RoiId",
    metric: "MetricId",
    people_type: "PeopleTypeId",
    object_type: "CombineObjectTypeId",
    people_id: "PeopleId",
    start: PairNames {
        utc: "EventStartUTCTime",
        local: "EventStartLocalTime",
        unix: "EventStartTime",
    },
    end: PairNames {
        utc: "EventEndUTCTime",
        local: "EventEndLocalTime",
        unix: "EventEndTime",
    },
};

/// A counting event's names inside the WebSocket envelope's `Data`.
pub(crate) const ENVELOPE_NAMES: EventNames = EventNames {
    uuid: "Data.UUID",
    camera_serial: "Data.CameraSerial",
    device_serial: "Data.DeviceSerial",
    roi: "Data.RoiId",
    metric: "Data.MetricId",
    people_type: "Data.PeopleTypeId",
    object_type: "Data.CombineObjectTypeId",
    people_id: "Data.PeopleId",
    start: PairNames {
        utc: "Data.EventStartUTCTime",
        local: "Data.EventStartLocalTime",
        unix: "Data.EventStartTime",
    },
    end: PairNames {
        utc: "Data.EventEndUTCTime",
        local: "Data.EventEndLocalTime",
        unix: "Data.EventEndTime",
    },
};

/// The counter's serial from `DeviceSerial` or `CameraSerial`; when both come they must
/// agree.
pub(crate) fn counter_serial(f: &Fields<'_>, n: &EventNames) -> Result<CameraSerial, FieldError> {
    match (&f.device_serial, &f.camera_serial) {
        (Some(d), Some(c)) => {
            let d = serial(d, n.device_serial)?;
            if serial(c, n.camera_serial)? != d {
                return Err(field_err(
                    n.camera_serial,
                    FieldProblem::Conflicts {
                        with: n.device_serial,
                    },
                ));
            }
            Ok(d)
        }
        (Some(d), None) => serial(d, n.device_serial),
        (None, Some(c)) => serial(c, n.camera_serial),
        (None, None) => Err(field_err(n.camera_serial, FieldProblem::Missing)),
    }
}

/// A code field read through the model's `from_code`.
fn code<T>(
    value: &Scalar<'_>,
    field: &'static str,
    from_code: fn(u64) -> Result<T, CodeError>,
) -> Result<T, FieldError> {
    from_code(unsigned(value, field)?).map_err(|e| field_err(field, FieldProblem::Code(e)))
}

/// The counting event the fields describe (spec/interfaces.md §4, §5): the same fields
/// over WebSocket and MQTT. DECISIONS: a missing `EventStartTime` makes the start the end;
/// the offset comes from the end's and the start's local texts (see [`pair_offset`] and
/// `event_offset`: fields that disagree are an error naming them, never a derived offset); `PeopleTypeId` and `CombineObjectTypeId` must agree.
pub(crate) fn count_event(
    f: &Fields<'_>,
    n: &EventNames,
    source: Source,
) -> Result<CountEvent, FieldError> {
    let serial = counter_serial(f, n)?;
    let roi = RoiId(small(&f.roi, n.roi)?);
    let metric = code(required(&f.metric, n.metric)?, n.metric, Metric::from_code)?;
    let by_people_type = match &f.people_type {
        Some(v) => Some(code(v, n.people_type, PeopleType::from_code)?),
        None => None,
    };
    let by_object_type = match &f.object_type {
        Some(v) => Some(code(v, n.object_type, ObjectType::from_code)?.people_type()),
        None => None,
    };
    let people_type = match (by_people_type, by_object_type) {
        (Some(a), Some(b)) if a != b => {
            return Err(field_err(
                n.object_type,
                FieldProblem::Conflicts {
                    with: n.people_type,
                },
            ))
        }
        (Some(a), _) | (None, Some(a)) => a,
        (None, None) => return Err(field_err(n.people_type, FieldProblem::Missing)),
    };
    let people_id = PeopleId(unsigned(required(&f.people_id, n.people_id)?, n.people_id)?);
    let end = instant(required(&f.end, n.end.unix)?, n.end.unix)?;
    let start = match &f.start {
        Some(v) => instant(v, n.start.unix)?,
        None => end,
    };
    let end_offset = pair_offset(&f.end_utc, &f.end_local, end, &n.end)?;
    let start_offset = pair_offset(&f.start_utc, &f.start_local, start, &n.start)?;
    let offset = event_offset(end_offset, start_offset, n)?;
    let uuid = match &f.uuid {
        Some(v) => Some(
            MessageId::try_parse(text(v, n.uuid)?)
                .map_err(|_| field_err(n.uuid, FieldProblem::Uuid))?,
        ),
        None => None,
    };
    Ok(CountEvent {
        serial,
        roi,
        metric,
        people_type,
        people_id,
        start,
        end,
        offset,
        uuid,
        source,
    })
}

/// A UTC instant and its local wall-clock time, ready for an encoder to write.
pub(crate) fn wall_clocks(
    unix: UnixSeconds,
    offset: UtcOffset,
) -> Result<(chrono::NaiveDateTime, chrono::NaiveDateTime), EncodeError> {
    check_unix(unix).map_err(|_| EncodeError::TimeOutOfRange)?;
    let utc = seconds_to_naive(unix).ok_or(EncodeError::TimeOutOfRange)?;
    let local = unix
        .checked_add(i64::from(offset.seconds()))
        .and_then(|s| check_unix(s).ok())
        .and_then(seconds_to_naive)
        .ok_or(EncodeError::TimeOutOfRange)?;
    Ok((utc, local))
}
