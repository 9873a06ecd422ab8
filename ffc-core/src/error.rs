//! Small `Copy` errors of the core. Each variant says where and why; the crates above wrap
//! them in their own `thiserror` enums.

use core::fmt;

/// What a text field of the model failed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ParseError {
    /// The text has the wrong length.
    Length {
        /// Characters the format needs.
        expected: u8,
        /// Characters found.
        found: usize,
    },
    /// A character that is not allowed at this byte offset.
    Character {
        /// Byte offset in the text.
        position: u8,
    },
    /// A field whose digits parse but whose value is impossible (month 13, 31 April, 25:00).
    OutOfRange {
        /// Which field.
        field: Field,
    },
}

/// A field of a date, time or model value, named in errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Field {
    /// Year.
    Year,
    /// Month.
    Month,
    /// Day of month (a real calendar date is required).
    Day,
    /// Hour.
    Hour,
    /// Minute.
    Minute,
    /// Second.
    Second,
    /// A UTC offset outside ±18 hours.
    Offset,
    /// A unix timestamp outside the supported years 1970..=9999.
    Timestamp,
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Field::Year => "year",
            Field::Month => "month",
            Field::Day => "day",
            Field::Hour => "hour",
            Field::Minute => "minute",
            Field::Second => "second",
            Field::Offset => "UTC offset",
            Field::Timestamp => "timestamp",
        })
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::Length { expected, found } => {
                write!(f, "expected {expected} characters, found {found}")
            }
            ParseError::Character { position } => {
                write!(f, "unexpected character at byte {position}")
            }
            ParseError::OutOfRange { field } => write!(f, "{field} out of range"),
        }
    }
}

impl core::error::Error for ParseError {}

/// A numeric code on the wire that the model does not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CodeError {
    /// `MetricId` other than 1 (In) or 2 (Out).
    Metric(u64),
    /// `PeopleTypeId` other than 1 (visitor) or 2 (staff).
    PeopleType(u64),
    /// `CombineObjectTypeId` other than 11 (visitor) or 21 (staff).
    ObjectType(u64),
    /// A resolution that is not one of the documented values.
    Resolution(u64),
}

impl fmt::Display for CodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CodeError::Metric(v) => write!(f, "unknown MetricId {v} (1 = In, 2 = Out)"),
            CodeError::PeopleType(v) => {
                write!(f, "unknown PeopleTypeId {v} (1 = visitor, 2 = staff)")
            }
            CodeError::ObjectType(v) => {
                write!(
                    f,
                    "unknown CombineObjectTypeId {v} (11 = visitor, 21 = staff)"
                )
            }
            CodeError::Resolution(v) => write!(f, "unsupported resolution {v}"),
        }
    }
}

impl core::error::Error for CodeError {}

/// Why a series operation was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SeriesError {
    /// Re-bucketing needs a target resolution that is a whole multiple of the source.
    NotCoarser,
    /// An instant outside the range a fixed-capacity series covers; the caller keeps the event.
    OutOfRange,
    /// A fixed-capacity structure is full; the caller keeps the item.
    Full,
    /// Two series of different resolutions were combined.
    ResolutionMismatch,
}

impl fmt::Display for SeriesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SeriesError::NotCoarser => {
                "target resolution is not a whole multiple of the source resolution"
            }
            SeriesError::OutOfRange => "instant outside the range the series covers",
            SeriesError::Full => "capacity exhausted",
            SeriesError::ResolutionMismatch => "series have different resolutions",
        })
    }
}

impl core::error::Error for SeriesError {}
