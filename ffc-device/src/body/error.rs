//! Where a count body fails to decode and why.

use core::fmt;

use ffc_core::ParseError;

use super::MAX_RECORDS;
use crate::query::DataType;

/// Where in a body a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Location {
    /// A JSON text position (1-based line and column, as serde_json counts them).
    Line {
        /// Line.
        line: usize,
        /// Column.
        column: usize,
    },
    /// A byte offset into the body.
    Byte {
        /// Offset from the first byte.
        offset: u64,
    },
    /// The n-th `cntset` (0-based), where the problem is the set as a whole.
    Cntset {
        /// Index in body order.
        index: usize,
    },
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Line { line, column } => write!(f, "line {line}, column {column}"),
            Location::Byte { offset } => write!(f, "byte {offset}"),
            Location::Cntset { index } => write!(f, "cntset #{index}"),
        }
    }
}

/// What is wrong at a [`Location`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// Not well-formed JSON or XML (the parser's words).
    Syntax(String),
    /// The body is not UTF-8.
    Utf8,
    /// The root is not the count body (`countdata`, or a JSON object).
    Root(String),
    /// A required field or attribute is missing.
    Missing(&'static str),
    /// A field that must be a non-negative whole number is not.
    Number(&'static str),
    /// `serial` is not 16 hex digits.
    Serial(ParseError),
    /// `starttime` is not `YYYY-MM-DD HH:MM:SS`.
    Time(ParseError),
    /// `data_format` or `resolution` names no device resolution.
    Resolution,
    /// `delta` is zero.
    ZeroDelta,
    /// A `cntset` gives the same `typeid` twice.
    DuplicateType(u64),
    /// A `cntset` lacks the In (3) or Out (4) count.
    MissingType(u64),
    /// The body holds more `cntset`s than [`MAX_RECORDS`].
    TooManyRecords,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Syntax(s) => write!(f, "syntax: {s}"),
            Problem::Utf8 => f.write_str("not UTF-8"),
            Problem::Root(s) => write!(f, "not a count body: {s}"),
            Problem::Missing(name) => write!(f, "`{name}` is missing"),
            Problem::Number(name) => write!(f, "`{name}` is not a non-negative whole number"),
            Problem::Serial(e) => write!(f, "`serial`: {e}"),
            Problem::Time(e) => write!(f, "`starttime`: {e}"),
            Problem::Resolution => f.write_str("`data_format`/`resolution` name no resolution"),
            Problem::ZeroDelta => f.write_str("`delta` is 0"),
            Problem::DuplicateType(t) => write!(f, "typeid {t} given twice"),
            Problem::MissingType(t) => write!(f, "no count for typeid {t}"),
            Problem::TooManyRecords => write!(f, "more than {MAX_RECORDS} cntsets"),
        }
    }
}

/// A count body that does not decode. The device (or something in front of it) answered
/// something other than the documented format: keep the bytes and report it; retrying
/// will not help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
#[error("{format} count body, {location}: {problem}")]
pub struct BodyError {
    /// JSON or XML.
    pub format: DataType,
    /// Where.
    pub location: Location,
    /// Why.
    pub problem: Problem,
}
