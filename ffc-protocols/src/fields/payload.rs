//! Reading a payload: its text, its JSON object into [`Fields`], and each field's
//! [`Scalar`] value into the type the model needs.

use alloc::borrow::Cow;
use alloc::boxed::Box;
use alloc::string::String;
use core::fmt;

use ffc_core::time::{check_unix, parse_datetime};
use ffc_core::{CameraSerial, UnixSeconds};
use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::error::{field_err, FieldError, FieldProblem, PayloadError, SyntaxKind};

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

/// A number of a field that must fit `T`.
pub(crate) fn small<T: TryFrom<u64>>(
    value: &Option<Scalar<'_>>,
    field: &'static str,
) -> Result<T, FieldError> {
    let v = unsigned(required(value, field)?, field)?;
    T::try_from(v).map_err(|_| field_err(field, FieldProblem::OutOfRange))
}
