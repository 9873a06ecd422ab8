//! The JSON payload machinery the WebSocket and MQTT codecs share: both carry FootfallCam's
//! flat counting-event fields (`CameraSerial`, `MetricId`, `EventEndTime`…), so the fields,
//! their checks, the counting event built from them and the error type live here once; each
//! codec keeps only what its protocol adds (the WebSocket envelope and Python-literal form,
//! MQTT's comments and occupancy samples).
//!
//! A field is read as a [`Scalar`] whatever its JSON type, so a wrong type becomes a
//! [`FieldProblem`] naming the field instead of a serde message.

use alloc::borrow::Cow;
use alloc::boxed::Box;
use alloc::string::String;
use core::fmt;

use ffc_core::time::{check_unix, naive_to_seconds, parse_datetime, seconds_to_naive};
use ffc_core::{
    CameraSerial, CodeError, CountEvent, MessageId, Metric, ObjectType, ParseError, PeopleId,
    PeopleType, RoiId, Source, UnixSeconds, UtcOffset,
};
use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// How a JSON syntax error broke the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SyntaxKind {
    /// Not JSON at this place.
    Syntax,
    /// The text ends before the JSON does: a truncated message.
    Truncated,
    /// JSON, but a field repeats or the structure cannot hold a payload.
    Structure,
}

/// Why a payload did not decode. Every variant names the place; the receiver or subscriber
/// keeps the payload as a dead letter with this text as the reason and goes on, so one bad
/// message never stalls a counter's queue.
///
/// The variants are the same for every JSON payload of a counter; `S` is what a
/// well-formed payload of one protocol can still be (each codec's `Shape`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PayloadError<S> {
    /// The payload is not UTF-8; the first bad byte is at `offset`.
    Utf8 {
        /// Byte offset of the first invalid byte.
        offset: usize,
    },
    /// The payload does not start with `{` (after white space and comments).
    NotAnObject {
        /// Byte offset of the first other character, or the length when there is none.
        offset: usize,
    },
    /// A string that never ends (found while converting the text to plain JSON).
    UnterminatedString {
        /// Byte offset of its opening quote.
        offset: usize,
    },
    /// JSON that does not parse. The conversions to plain JSON keep the line breaks, so
    /// the place is the input's.
    Syntax {
        /// What went wrong.
        kind: SyntaxKind,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// A field's value was refused.
    Field {
        /// The wire name of the field (`Data.` in front when inside an envelope).
        field: &'static str,
        /// Why.
        problem: FieldProblem,
    },
    /// Well-formed, but not a payload this protocol carries.
    Shape(S),
}

impl<S: fmt::Display> fmt::Display for PayloadError<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PayloadError::Utf8 { offset } => write!(f, "not UTF-8 at byte {offset}"),
            PayloadError::NotAnObject { offset } => {
                write!(f, "expected a JSON object at byte {offset}")
            }
            PayloadError::UnterminatedString { offset } => {
                write!(f, "string opened at byte {offset} never ends")
            }
            PayloadError::Syntax { kind, line, column } => {
                let what = match kind {
                    SyntaxKind::Syntax => "JSON syntax error",
                    SyntaxKind::Truncated => "message ends early (truncated)",
                    SyntaxKind::Structure => "repeated field or wrong structure",
                };
                write!(f, "{what} at line {line}, column {column}")
            }
            PayloadError::Field { field, problem } => write!(f, "field {field}: {problem}"),
            PayloadError::Shape(shape) => shape.fmt(f),
        }
    }
}

impl<S: fmt::Debug + fmt::Display> core::error::Error for PayloadError<S> {}

impl<S> From<FieldError> for PayloadError<S> {
    fn from(e: FieldError) -> Self {
        PayloadError::Field {
            field: e.field,
            problem: e.problem,
        }
    }
}

/// Why a message could not be encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EncodeError {
    /// An instant plus its offset is outside the years 1970..=9999, so its date-time
    /// strings cannot be written. Fix the value; nothing was written.
    TimeOutOfRange,
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncodeError::TimeOutOfRange => {
                f.write_str("time outside 1970..=9999 cannot be written as a date-time")
            }
        }
    }
}

impl core::error::Error for EncodeError {}

/// The payload as text, or where its UTF-8 breaks.
pub(crate) fn utf8<S>(bytes: &[u8]) -> Result<&str, PayloadError<S>> {
    core::str::from_utf8(bytes).map_err(|e| PayloadError::Utf8 {
        offset: e.valid_up_to(),
    })
}

/// Checks that `text` starts with `{`: serde's derived structs also accept a JSON array,
/// and a payload is an object.
pub(crate) fn expect_object<S>(text: &str) -> Result<(), PayloadError<S>> {
    match text.char_indices().find(|(_, c)| !c.is_whitespace()) {
        Some((_, '{')) => Ok(()),
        Some((offset, _)) => Err(PayloadError::NotAnObject { offset }),
        None => Err(PayloadError::NotAnObject { offset: text.len() }),
    }
}

/// Parses one JSON object into [`Fields`], naming the line and column of a syntax error.
pub(crate) fn parse_fields<S>(text: &str) -> Result<Fields<'_>, PayloadError<S>> {
    expect_object(text)?;
    serde_json::from_str::<Fields<'_>>(text).map_err(|e| {
        let kind = match e.classify() {
            serde_json::error::Category::Eof => SyntaxKind::Truncated,
            serde_json::error::Category::Syntax => SyntaxKind::Syntax,
            _ => SyntaxKind::Structure,
        };
        PayloadError::Syntax {
            kind,
            line: e.line(),
            column: e.column(),
        }
    })
}

/// Why a value of a field was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldProblem {
    /// The field is absent (or `null`).
    Missing,
    /// The field holds another JSON type than the one named.
    WrongType {
        /// The JSON type the field needs.
        expected: &'static str,
    },
    /// A number outside the range the field allows.
    OutOfRange,
    /// Text that does not parse (serial, date-time).
    Text(ParseError),
    /// A code the model does not know.
    Code(CodeError),
    /// Disagrees with the field named here (two serials, a UTC string and its unix time,
    /// `PeopleTypeId` and `CombineObjectTypeId`).
    Conflicts {
        /// The other field.
        with: &'static str,
    },
    /// Not a valid UUID.
    Uuid,
}

impl fmt::Display for FieldProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldProblem::Missing => f.write_str("missing"),
            FieldProblem::WrongType { expected } => write!(f, "expected {expected}"),
            FieldProblem::OutOfRange => f.write_str("number out of range"),
            FieldProblem::Text(e) => write!(f, "{e}"),
            FieldProblem::Code(e) => write!(f, "{e}"),
            FieldProblem::Conflicts { with } => write!(f, "disagrees with {with}"),
            FieldProblem::Uuid => f.write_str("not a UUID"),
        }
    }
}

/// A refused field: which one, and why. The codecs convert it into their `DecodeError`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FieldError {
    pub(crate) field: &'static str,
    pub(crate) problem: FieldProblem,
}

pub(crate) fn field_err(field: &'static str, problem: FieldProblem) -> FieldError {
    FieldError { field, problem }
}

/// One JSON value of a field, kept loose so a wrong type becomes a field error naming the
/// field rather than a serde message. `null` deserializes as an absent field.
pub(crate) enum Scalar<'a> {
    Unsigned(u64),
    Negative,
    Float,
    Str(Cow<'a, str>),
    Bool,
    Compound,
}

impl<'de: 'a, 'a> Deserialize<'de> for Scalar<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ScalarVisitor;
        impl<'de> Visitor<'de> for ScalarVisitor {
            type Value = Scalar<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_u64<E>(self, v: u64) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Unsigned(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Scalar<'de>, E> {
                Ok(if v >= 0 {
                    Scalar::Unsigned(v.unsigned_abs())
                } else {
                    Scalar::Negative
                })
            }
            fn visit_f64<E>(self, _: f64) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Float)
            }
            fn visit_bool<E>(self, _: bool) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Bool)
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Str(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Str(Cow::Owned(String::from(v))))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar<'de>, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Scalar::Compound)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar<'de>, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Scalar::Compound)
            }
        }
        deserializer.deserialize_any(ScalarVisitor)
    }
}

/// The field's value, or `Missing`.
pub(crate) fn required<'s, 'a>(
    value: &'s Option<Scalar<'a>>,
    field: &'static str,
) -> Result<&'s Scalar<'a>, FieldError> {
    value
        .as_ref()
        .ok_or(field_err(field, FieldProblem::Missing))
}

/// A whole, non-negative JSON number.
pub(crate) fn unsigned(value: &Scalar<'_>, field: &'static str) -> Result<u64, FieldError> {
    match value {
        Scalar::Unsigned(v) => Ok(*v),
        Scalar::Negative => Err(field_err(field, FieldProblem::OutOfRange)),
        _ => Err(field_err(
            field,
            FieldProblem::WrongType {
                expected: "a whole number",
            },
        )),
    }
}

/// A JSON string.
pub(crate) fn text<'s>(value: &'s Scalar<'_>, field: &'static str) -> Result<&'s str, FieldError> {
    match value {
        Scalar::Str(s) => Ok(s.as_ref()),
        _ => Err(field_err(
            field,
            FieldProblem::WrongType {
                expected: "a string",
            },
        )),
    }
}

/// A counter serial (16 hex digits) given as a string.
pub(crate) fn serial(value: &Scalar<'_>, field: &'static str) -> Result<CameraSerial, FieldError> {
    CameraSerial::parse(text(value, field)?).map_err(|e| field_err(field, FieldProblem::Text(e)))
}

/// Unix seconds within the years 1970..=9999.
pub(crate) fn instant(value: &Scalar<'_>, field: &'static str) -> Result<UnixSeconds, FieldError> {
    let v = unsigned(value, field)?;
    let v = i64::try_from(v).map_err(|_| field_err(field, FieldProblem::OutOfRange))?;
    check_unix(v).map_err(|e| field_err(field, FieldProblem::Text(e)))
}

/// A `YYYY-MM-DD HH:MM:SS` string.
pub(crate) fn date_time(
    value: &Scalar<'_>,
    field: &'static str,
) -> Result<chrono::NaiveDateTime, FieldError> {
    parse_datetime(text(value, field)?).map_err(|e| field_err(field, FieldProblem::Text(e)))
}

/// The fields of one JSON payload, of every form either codec reads: the WebSocket envelope
/// (`Topic`, `Data` holding the same fields), counting events (classic, 3D Pro2 and MQTT)
/// and MQTT occupancy samples. Unknown fields are skipped; a repeated field is a
/// [`SyntaxKind::Structure`] error.
#[derive(serde::Deserialize)]
pub(crate) struct Fields<'a> {
    // The WebSocket envelope.
    #[serde(rename = "Topic", borrow, default)]
    pub(crate) topic: Option<Scalar<'a>>,
    #[serde(rename = "Data", borrow, default)]
    pub(crate) data: Option<Box<Data<'a>>>,
    // Counting events.
    #[serde(rename = "UUID", borrow, default)]
    pub(crate) uuid: Option<Scalar<'a>>,
    #[serde(rename = "CameraSerial", borrow, default)]
    pub(crate) camera_serial: Option<Scalar<'a>>,
    #[serde(rename = "DeviceSerial", borrow, default)]
    pub(crate) device_serial: Option<Scalar<'a>>,
    #[serde(rename = "RoiId", borrow, default)]
    pub(crate) roi: Option<Scalar<'a>>,
    #[serde(rename = "MetricId", borrow, default)]
    pub(crate) metric: Option<Scalar<'a>>,
    #[serde(rename = "PeopleTypeId", borrow, default)]
    pub(crate) people_type: Option<Scalar<'a>>,
    #[serde(rename = "CombineObjectTypeId", borrow, default)]
    pub(crate) object_type: Option<Scalar<'a>>,
    #[serde(rename = "PeopleId", borrow, default)]
    pub(crate) people_id: Option<Scalar<'a>>,
    #[serde(rename = "EventStartTime", borrow, default)]
    pub(crate) start: Option<Scalar<'a>>,
    #[serde(rename = "EventEndTime", borrow, default)]
    pub(crate) end: Option<Scalar<'a>>,
    #[serde(rename = "EventStartUTCTime", borrow, default)]
    pub(crate) start_utc: Option<Scalar<'a>>,
    #[serde(rename = "EventStartLocalTime", borrow, default)]
    pub(crate) start_local: Option<Scalar<'a>>,
    #[serde(rename = "EventEndUTCTime", borrow, default)]
    pub(crate) end_utc: Option<Scalar<'a>>,
    #[serde(rename = "EventEndLocalTime", borrow, default)]
    pub(crate) end_local: Option<Scalar<'a>>,
    // MQTT occupancy samples.
    #[serde(rename = "ObjectCount", borrow, default)]
    pub(crate) object_count: Option<Scalar<'a>>,
    #[serde(rename = "Timestamp", borrow, default)]
    pub(crate) timestamp: Option<Scalar<'a>>,
    #[serde(rename = "LocalTime", borrow, default)]
    pub(crate) local_time: Option<Scalar<'a>>,
    #[serde(rename = "UTCTime", borrow, default)]
    pub(crate) utc_time: Option<Scalar<'a>>,
    #[serde(rename = "OccupancyTypeId", borrow, default)]
    pub(crate) occupancy_type: Option<Scalar<'a>>,
    #[serde(rename = "ObjectCountUnit", borrow, default)]
    pub(crate) unit: Option<Scalar<'a>>,
}

/// The envelope's `Data`: an object of event fields, or anything else.
#[allow(clippy::large_enum_variant)] // always behind the Box in `Fields::data`
pub(crate) enum Data<'a> {
    Object(Fields<'a>),
    Other,
}

impl<'de: 'a, 'a> Deserialize<'de> for Data<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DataVisitor;
        impl<'de> Visitor<'de> for DataVisitor {
            type Value = Data<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Data<'de>, A::Error> {
                Fields::deserialize(de::value::MapAccessDeserializer::new(map)).map(Data::Object)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Data<'de>, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Data::Other)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Data<'de>, E> {
                Ok(Data::Other)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Data<'de>, E> {
                Ok(Data::Other)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Data<'de>, E> {
                Ok(Data::Other)
            }
            fn visit_bool<E>(self, _: bool) -> Result<Data<'de>, E> {
                Ok(Data::Other)
            }
            fn visit_str<E>(self, _: &str) -> Result<Data<'de>, E> {
                Ok(Data::Other)
            }
        }
        deserializer.deserialize_any(DataVisitor)
    }
}

/// The names of one UTC/local string pair and the unix time it restates, as errors name
/// them.
pub(crate) struct PairNames {
    pub(crate) utc: &'static str,
    pub(crate) local: &'static str,
    pub(crate) unix: &'static str,
}

/// The offset a UTC/local pair implies, after checking the UTC string against `unix`.
/// `None` when the pair is not (wholly) there.
pub(crate) fn pair_offset(
    utc: &Option<Scalar<'_>>,
    local: &Option<Scalar<'_>>,
    unix: UnixSeconds,
    names: &PairNames,
) -> Result<Option<UtcOffset>, FieldError> {
    let Some(utc) = utc else {
        return Ok(None);
    };
    let utc = date_time(utc, names.utc)?;
    if naive_to_seconds(utc) != unix {
        return Err(field_err(
            names.utc,
            FieldProblem::Conflicts { with: names.unix },
        ));
    }
    match local {
        Some(l) => UtcOffset::between(utc, date_time(l, names.local)?)
            .map(Some)
            .map_err(|e| field_err(names.local, FieldProblem::Text(e))),
        None => Ok(None),
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

/// A number of a field that must fit `T`.
pub(crate) fn small<T: TryFrom<u64>>(
    value: &Option<Scalar<'_>>,
    field: &'static str,
) -> Result<T, FieldError> {
    let v = unsigned(required(value, field)?, field)?;
    T::try_from(v).map_err(|_| field_err(field, FieldProblem::OutOfRange))
}

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
/// the offset comes from the end's UTC/local pair, else the start's, and an event with
/// neither is an error, not UTC; `PeopleTypeId` and `CombineObjectTypeId` must agree.
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
    let offset = end_offset
        .or(start_offset)
        .ok_or(field_err(n.end.local, FieldProblem::Missing))?;
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
