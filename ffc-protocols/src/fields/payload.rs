//! Reading a payload: its text, its JSON object into [`Fields`], and each field's
//! [`Scalar`] value into the type the model needs.

use alloc::borrow::Cow;

use super::error::{field_err, FieldError, FieldProblem, PayloadError};
use super::scan;
use ffc_core::time::{check_unix, parse_datetime_seconds};
use ffc_core::{CameraSerial, UnixSeconds};

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

/// Parses one JSON object into `payload` (fresh, from `Payload::default`), naming the line
/// and column of a syntax error (serde_json's, as before issue 20: see `scan`).
pub(crate) fn parse_fields<'a, S>(
    text: &'a str,
    payload: &mut Payload<'a>,
) -> Result<(), PayloadError<S>> {
    expect_object(text)?;
    scan::parse_payload(text, payload).map_err(|e| {
        let (line, column) = e.line_column(text);
        PayloadError::Syntax {
            kind: e.kind,
            line,
            column,
        }
    })
}

/// One JSON value of a field, kept loose so a wrong type becomes a field error naming the
/// field. `null` reads as an absent field.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Scalar<'a> {
    Unsigned(u64),
    Negative,
    Float,
    Str(Cow<'a, str>),
    Bool,
    Compound,
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

/// A `YYYY-MM-DD HH:MM:SS` string, as wall-clock seconds since the epoch.
pub(crate) fn date_time_seconds(
    value: &Scalar<'_>,
    field: &'static str,
) -> Result<i64, FieldError> {
    parse_datetime_seconds(text(value, field)?).map_err(|e| field_err(field, FieldProblem::Text(e)))
}

/// The fields of one JSON object, of every form either codec reads: the WebSocket envelope's
/// `Topic`, counting events (classic, 3D Pro2 and MQTT; the same inside the envelope's
/// `Data`) and MQTT occupancy samples. Unknown fields are skipped; a repeated field is a
/// [`Structure`](super::SyntaxKind::Structure) error.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Fields<'a> {
    // The WebSocket envelope.
    /// `Topic`.
    pub(crate) topic: Option<Scalar<'a>>,
    // Counting events.
    /// `UUID`.
    pub(crate) uuid: Option<Scalar<'a>>,
    /// `CameraSerial`.
    pub(crate) camera_serial: Option<Scalar<'a>>,
    /// `DeviceSerial`.
    pub(crate) device_serial: Option<Scalar<'a>>,
    /// `RoiId`.
    pub(crate) roi: Option<Scalar<'a>>,
    /// `MetricId`.
    pub(crate) metric: Option<Scalar<'a>>,
    /// `PeopleTypeId`.
    pub(crate) people_type: Option<Scalar<'a>>,
    /// `CombineObjectTypeId`.
    pub(crate) object_type: Option<Scalar<'a>>,
    /// `PeopleId`.
    pub(crate) people_id: Option<Scalar<'a>>,
    /// `EventStartTime`.
    pub(crate) start: Option<Scalar<'a>>,
    /// `EventEndTime`.
    pub(crate) end: Option<Scalar<'a>>,
    /// `EventStartUTCTime`.
    pub(crate) start_utc: Option<Scalar<'a>>,
    /// `EventStartLocalTime`.
    pub(crate) start_local: Option<Scalar<'a>>,
    /// `EventEndUTCTime`.
    pub(crate) end_utc: Option<Scalar<'a>>,
    /// `EventEndLocalTime`.
    pub(crate) end_local: Option<Scalar<'a>>,
    // MQTT occupancy samples.
    /// `ObjectCount`.
    pub(crate) object_count: Option<Scalar<'a>>,
    /// `Timestamp`.
    pub(crate) timestamp: Option<Scalar<'a>>,
    /// `LocalTime`.
    pub(crate) local_time: Option<Scalar<'a>>,
    /// `UTCTime`.
    pub(crate) utc_time: Option<Scalar<'a>>,
    /// `OccupancyTypeId`.
    pub(crate) occupancy_type: Option<Scalar<'a>>,
    /// `ObjectCountUnit`.
    pub(crate) unit: Option<Scalar<'a>>,
}

impl<'a> Fields<'a> {
    /// The field a key names: its index for [`Fields::slot`].
    #[inline]
    pub(crate) fn index_of(key: &[u8]) -> Option<u8> {
        Some(match key {
            b"Topic" => 0,
            b"UUID" => 1,
            b"CameraSerial" => 2,
            b"DeviceSerial" => 3,
            b"RoiId" => 4,
            b"MetricId" => 5,
            b"PeopleTypeId" => 6,
            b"CombineObjectTypeId" => 7,
            b"PeopleId" => 8,
            b"EventStartTime" => 9,
            b"EventEndTime" => 10,
            b"EventStartUTCTime" => 11,
            b"EventStartLocalTime" => 12,
            b"EventEndUTCTime" => 13,
            b"EventEndLocalTime" => 14,
            b"ObjectCount" => 15,
            b"Timestamp" => 16,
            b"LocalTime" => 17,
            b"UTCTime" => 18,
            b"OccupancyTypeId" => 19,
            b"ObjectCountUnit" => 20,
            _ => return None,
        })
    }

    /// The field of index `i` (from [`Fields::index_of`]).
    #[inline]
    pub(crate) fn slot(&mut self, i: u8) -> &mut Option<Scalar<'a>> {
        match i {
            0 => &mut self.topic,
            1 => &mut self.uuid,
            2 => &mut self.camera_serial,
            3 => &mut self.device_serial,
            4 => &mut self.roi,
            5 => &mut self.metric,
            6 => &mut self.people_type,
            7 => &mut self.object_type,
            8 => &mut self.people_id,
            9 => &mut self.start,
            10 => &mut self.end,
            11 => &mut self.start_utc,
            12 => &mut self.start_local,
            13 => &mut self.end_utc,
            14 => &mut self.end_local,
            15 => &mut self.object_count,
            16 => &mut self.timestamp,
            17 => &mut self.local_time,
            18 => &mut self.utc_time,
            19 => &mut self.occupancy_type,
            _ => &mut self.unit,
        }
    }
}

/// One payload: its top-level fields and the WebSocket envelope's `Data` (its fields when
/// [`DataKind::Object`]).
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Payload<'a> {
    pub(crate) top: Fields<'a>,
    pub(crate) data: Fields<'a>,
    pub(crate) data_kind: DataKind,
}

/// What the envelope's `Data` was.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DataKind {
    /// Absent or `null`.
    #[default]
    Absent,
    /// An object: its fields are in [`Payload::data`].
    Object,
    /// Any other value.
    Other,
}

/// A number of a field that must fit `T`.
pub(crate) fn small<T: TryFrom<u64>>(
    value: &Option<Scalar<'_>>,
    field: &'static str,
) -> Result<T, FieldError> {
    let v = unsigned(required(value, field)?, field)?;
    T::try_from(v).map_err(|_| field_err(field, FieldProblem::OutOfRange))
}
