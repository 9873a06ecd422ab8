//! The codecs' JSON reader before issue 20 (serde_json deriving the fields, each a loose
//! value) and their UTC-offset rule before it (through chrono date-times), kept as the
//! references the scanner and `event::pair_offset` are tested against: on any input both
//! must give the same result or the same error (a syntax error's line and column included).

use alloc::borrow::Cow;
use alloc::boxed::Box;
use alloc::string::String;
use core::fmt;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use ffc_core::time::{naive_to_seconds, parse_datetime, seconds_to_naive};
use ffc_core::{UnixSeconds, UtcOffset};

use super::error::{field_err, FieldError, FieldProblem};
use super::event::{PairNames, OFFSET_GRANULARITY};
use super::payload::{expect_object, text, DataKind, Fields, Payload, Scalar};
use super::{PayloadError, SyntaxKind};

/// A `YYYY-MM-DD HH:MM:SS` string, as chrono reads it.
fn date_time(value: &Scalar<'_>, field: &'static str) -> Result<chrono::NaiveDateTime, FieldError> {
    parse_datetime(text(value, field)?).map_err(|e| field_err(field, FieldProblem::Text(e)))
}

/// The old `event::pair_offset`, through chrono.
pub(crate) fn pair_offset(
    utc: &Option<Scalar<'_>>,
    local: &Option<Scalar<'_>>,
    unix: UnixSeconds,
    names: &PairNames,
) -> Result<Option<UtcOffset>, FieldError> {
    let (reference, against) = match utc {
        Some(utc) => {
            let utc = date_time(utc, names.utc)?;
            if naive_to_seconds(utc) != unix {
                return Err(field_err(
                    names.utc,
                    FieldProblem::Conflicts { with: names.unix },
                ));
            }
            (utc, names.utc)
        }
        None => match seconds_to_naive(unix) {
            Some(at) => (at, names.unix),
            None => return Err(field_err(names.unix, FieldProblem::OutOfRange)),
        },
    };
    let Some(local) = local else {
        return Ok(None);
    };
    let offset = UtcOffset::between(reference, date_time(local, names.local)?)
        .map_err(|e| field_err(names.local, FieldProblem::Text(e)))?;
    if offset.seconds() % OFFSET_GRANULARITY != 0 {
        return Err(field_err(
            names.local,
            FieldProblem::Conflicts { with: against },
        ));
    }
    Ok(Some(offset))
}

/// The old `parse_fields`: serde_json into the derived fields, its error's category and
/// place.
pub(crate) fn parse<S>(text: &str) -> Result<Payload<'_>, PayloadError<S>> {
    expect_object(text)?;
    let fields = serde_json::from_str::<RefFields<'_>>(text).map_err(|e| {
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
    })?;
    let mut payload = Payload::default();
    let mut fields = fields;
    match fields.data.take().map(|d| *d) {
        Some(RefData::Object(inner)) => {
            payload.data = inner.into_fields();
            payload.data_kind = DataKind::Object;
        }
        Some(RefData::Other) => payload.data_kind = DataKind::Other,
        None => {}
    }
    payload.top = fields.into_fields();
    Ok(payload)
}

struct RefScalar<'a>(Scalar<'a>);

impl<'de: 'a, 'a> Deserialize<'de> for RefScalar<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ScalarVisitor;
        impl<'de> Visitor<'de> for ScalarVisitor {
            type Value = RefScalar<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_u64<E>(self, v: u64) -> Result<RefScalar<'de>, E> {
                Ok(RefScalar(Scalar::Unsigned(v)))
            }
            fn visit_i64<E>(self, v: i64) -> Result<RefScalar<'de>, E> {
                Ok(RefScalar(if v >= 0 {
                    Scalar::Unsigned(v.unsigned_abs())
                } else {
                    Scalar::Negative
                }))
            }
            fn visit_f64<E>(self, _: f64) -> Result<RefScalar<'de>, E> {
                Ok(RefScalar(Scalar::Float))
            }
            fn visit_bool<E>(self, _: bool) -> Result<RefScalar<'de>, E> {
                Ok(RefScalar(Scalar::Bool))
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<RefScalar<'de>, E> {
                Ok(RefScalar(Scalar::Str(Cow::Borrowed(v))))
            }
            fn visit_str<E>(self, v: &str) -> Result<RefScalar<'de>, E> {
                Ok(RefScalar(Scalar::Str(Cow::Owned(String::from(v)))))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RefScalar<'de>, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(RefScalar(Scalar::Compound))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RefScalar<'de>, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(RefScalar(Scalar::Compound))
            }
        }
        deserializer.deserialize_any(ScalarVisitor)
    }
}

#[derive(serde::Deserialize)]
struct RefFields<'a> {
    #[serde(rename = "Data", borrow, default)]
    data: Option<Box<RefData<'a>>>,
    #[serde(rename = "Topic", borrow, default)]
    topic: Option<RefScalar<'a>>,
    #[serde(rename = "UUID", borrow, default)]
    uuid: Option<RefScalar<'a>>,
    #[serde(rename = "CameraSerial", borrow, default)]
    camera_serial: Option<RefScalar<'a>>,
    #[serde(rename = "DeviceSerial", borrow, default)]
    device_serial: Option<RefScalar<'a>>,
    #[serde(rename = "RoiId", borrow, default)]
    roi: Option<RefScalar<'a>>,
    #[serde(rename = "MetricId", borrow, default)]
    metric: Option<RefScalar<'a>>,
    #[serde(rename = "PeopleTypeId", borrow, default)]
    people_type: Option<RefScalar<'a>>,
    #[serde(rename = "CombineObjectTypeId", borrow, default)]
    object_type: Option<RefScalar<'a>>,
    #[serde(rename = "PeopleId", borrow, default)]
    people_id: Option<RefScalar<'a>>,
    #[serde(rename = "EventStartTime", borrow, default)]
    start: Option<RefScalar<'a>>,
    #[serde(rename = "EventEndTime", borrow, default)]
    end: Option<RefScalar<'a>>,
    #[serde(rename = "EventStartUTCTime", borrow, default)]
    start_utc: Option<RefScalar<'a>>,
    #[serde(rename = "EventStartLocalTime", borrow, default)]
    start_local: Option<RefScalar<'a>>,
    #[serde(rename = "EventEndUTCTime", borrow, default)]
    end_utc: Option<RefScalar<'a>>,
    #[serde(rename = "EventEndLocalTime", borrow, default)]
    end_local: Option<RefScalar<'a>>,
    #[serde(rename = "ObjectCount", borrow, default)]
    object_count: Option<RefScalar<'a>>,
    #[serde(rename = "Timestamp", borrow, default)]
    timestamp: Option<RefScalar<'a>>,
    #[serde(rename = "LocalTime", borrow, default)]
    local_time: Option<RefScalar<'a>>,
    #[serde(rename = "UTCTime", borrow, default)]
    utc_time: Option<RefScalar<'a>>,
    #[serde(rename = "OccupancyTypeId", borrow, default)]
    occupancy_type: Option<RefScalar<'a>>,
    #[serde(rename = "ObjectCountUnit", borrow, default)]
    unit: Option<RefScalar<'a>>,
}

impl<'a> RefFields<'a> {
    fn into_fields(self) -> Fields<'a> {
        Fields {
            topic: self.topic.map(|s| s.0),
            uuid: self.uuid.map(|s| s.0),
            camera_serial: self.camera_serial.map(|s| s.0),
            device_serial: self.device_serial.map(|s| s.0),
            roi: self.roi.map(|s| s.0),
            metric: self.metric.map(|s| s.0),
            people_type: self.people_type.map(|s| s.0),
            object_type: self.object_type.map(|s| s.0),
            people_id: self.people_id.map(|s| s.0),
            start: self.start.map(|s| s.0),
            end: self.end.map(|s| s.0),
            start_utc: self.start_utc.map(|s| s.0),
            start_local: self.start_local.map(|s| s.0),
            end_utc: self.end_utc.map(|s| s.0),
            end_local: self.end_local.map(|s| s.0),
            object_count: self.object_count.map(|s| s.0),
            timestamp: self.timestamp.map(|s| s.0),
            local_time: self.local_time.map(|s| s.0),
            utc_time: self.utc_time.map(|s| s.0),
            occupancy_type: self.occupancy_type.map(|s| s.0),
            unit: self.unit.map(|s| s.0),
        }
    }
}

#[allow(clippy::large_enum_variant)] // always behind the Box in `RefFields::data`, as before
enum RefData<'a> {
    Object(RefFields<'a>),
    Other,
}

impl<'de: 'a, 'a> Deserialize<'de> for RefData<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DataVisitor;
        impl<'de> Visitor<'de> for DataVisitor {
            type Value = RefData<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RefData<'de>, A::Error> {
                RefFields::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(RefData::Object)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RefData<'de>, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(RefData::Other)
            }
            fn visit_u64<E>(self, _: u64) -> Result<RefData<'de>, E> {
                Ok(RefData::Other)
            }
            fn visit_i64<E>(self, _: i64) -> Result<RefData<'de>, E> {
                Ok(RefData::Other)
            }
            fn visit_f64<E>(self, _: f64) -> Result<RefData<'de>, E> {
                Ok(RefData::Other)
            }
            fn visit_bool<E>(self, _: bool) -> Result<RefData<'de>, E> {
                Ok(RefData::Other)
            }
            fn visit_str<E>(self, _: &str) -> Result<RefData<'de>, E> {
                Ok(RefData::Other)
            }
        }
        deserializer.deserialize_any(DataVisitor)
    }
}
