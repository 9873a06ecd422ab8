//! Loose JSON field values and their checks, shared by the WebSocket and MQTT payload codecs
//! (both carry FootfallCam's flat `CameraSerial`/`MetricId`/`EventEndTime`… fields).
//!
//! A field is read as a [`Scalar`] whatever its JSON type, so a wrong type becomes a
//! [`FieldProblem`] naming the field instead of a serde message; each codec turns the
//! [`FieldError`] into its own `DecodeError::Field`.

use alloc::borrow::Cow;
use alloc::string::String;
use core::fmt;

use ffc_core::time::{check_unix, parse_datetime};
use ffc_core::{CameraSerial, CodeError, ParseError, UnixSeconds};
use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

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
