//! The errors of the JSON payload codecs: why a payload did not decode ([`PayloadError`],
//! naming the field and its [`FieldProblem`]) and why a message could not be encoded
//! ([`EncodeError`]).

use core::fmt;

use ffc_core::{CodeError, ParseError};

/// How a JSON syntax error broke the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
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
#[non_exhaustive]
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

/// Why a value of a field was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
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
