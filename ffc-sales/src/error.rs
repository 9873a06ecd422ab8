//! Why a row, a field or a header was refused, and the one error a whole read can end with.
//!
//! A [`Reason`] is a small `Copy` value that names one rule of the sales-file format; a
//! [`SalesRowError`] puts it in its place (line, byte offset, column, the offending value). Each
//! reason's `Display` says what to change in the file.

use core::fmt;

use serde::{Serialize, Serializer};

use crate::field::SalesField;

/// Why a value or a row was refused. Each variant is one rule of the sales-file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "code", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Reason {
    /// The field is empty.
    Empty,
    /// The field is not UTF-8 text.
    InvalidUtf8,
    /// Spaces or tabs before or after the value.
    SurroundingWhitespace,
    /// The `StoreCode` is not one of the site codes the caller listed.
    UnknownStore,
    /// `DateTime` does not have the layout `DD-MM-YYYY hh:mm`.
    DateTimeLayout {
        /// Byte offset in the field where the layout breaks, when one character is at fault.
        #[serde(skip_serializing_if = "Option::is_none")]
        position: Option<u8>,
    },
    /// `DateTime` has the right layout but is not a real calendar date or time
    /// (31 April, 29 February of a common year, 24:00).
    DateTimeNotReal {
        /// The part that is out of range.
        #[serde(serialize_with = "display")]
        part: ffc_core::Field,
    },
    /// A digit-less value such as `-`, `N/A` or `.`: often a placeholder for zero.
    NoDigits,
    /// A thousands separator, as in `1,234.50`.
    ThousandsSeparator,
    /// A currency symbol, as in `$12` or `12€`.
    CurrencySymbol,
    /// A minus sign: the format has no negative quantities or amounts.
    Negative,
    /// `TotalTransactionQty` with a decimal point: it must be a whole number.
    NotWholeNumber,
    /// `TotalTransactionValue` with more than two decimals, as in `12.345`.
    TooManyDecimals,
    /// A decimal point with no digits on one side, or more than one point (`12.`, `.5`, `1.2.3`).
    MalformedNumber,
    /// Any other character that is not a digit, such as `+`, `%`, `e` or a letter.
    SpecialCharacter {
        /// Byte offset of the first such character in the field.
        position: u32,
    },
    /// More digits than the format can hold (quantity above 10^12 − 1, amount above
    /// 10^13 − 1 in whole units).
    TooLarge,
    /// The row has fewer fields than the mapped columns need.
    MissingFields {
        /// Fields the row has.
        found: u32,
        /// Fields needed to reach every mapped column.
        needed: u32,
    },
    /// The row repeats an earlier row's store, date-time, quantity and amount.
    DuplicateRow {
        /// The line of the first occurrence.
        first_line: u64,
    },
    /// Adding the row would overflow the hour's totals.
    TotalOverflow,
    /// The row is longer than the configured limit (bytes) or has more than
    /// [`MAX_FIELDS`] fields; it was skipped without being buffered.
    RowTooLong {
        /// The byte limit in force.
        limit: u64,
    },
}

fn display<T: fmt::Display, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Empty => f.write_str("empty: every row needs a value here"),
            Reason::InvalidUtf8 => f.write_str("not UTF-8 text: save the file as UTF-8"),
            Reason::SurroundingWhitespace => {
                f.write_str("spaces around the value: remove them")
            }
            Reason::UnknownStore => {
                f.write_str("not a known site code: use the Site Code of the site in Analytic Manager")
            }
            Reason::DateTimeLayout { position: Some(p) } => write!(
                f,
                "unexpected character at byte {p}: DateTime must be DD-MM-YYYY hh:mm"
            ),
            Reason::DateTimeLayout { position: None } => {
                f.write_str("wrong length: DateTime must be DD-MM-YYYY hh:mm")
            }
            Reason::DateTimeNotReal { part } => {
                write!(f, "{part} out of range: not a real calendar date and time")
            }
            Reason::NoDigits => {
                f.write_str("no digits (a dash or placeholder?): write 0 when there were no sales")
            }
            Reason::ThousandsSeparator => {
                f.write_str("thousands separator: write 1234.50, not 1,234.50")
            }
            Reason::CurrencySymbol => f.write_str("currency symbol: write the number only"),
            Reason::Negative => f.write_str("negative value: quantities and amounts are never below 0"),
            Reason::NotWholeNumber => f.write_str("decimal point: the quantity must be a whole number"),
            Reason::TooManyDecimals => f.write_str("more than 2 decimals: round to cents"),
            Reason::MalformedNumber => {
                f.write_str("malformed number: digits are needed on both sides of one decimal point")
            }
            Reason::SpecialCharacter { position } => write!(
                f,
                "special character at byte {position}: only digits (and one decimal point in amounts)"
            ),
            Reason::TooLarge => f.write_str("too many digits for a quantity or amount"),
            Reason::MissingFields { found, needed } => write!(
                f,
                "row has {found} of the {needed} fields the mapped columns need"
            ),
            Reason::DuplicateRow { first_line } => write!(
                f,
                "duplicate of line {first_line}: remove one, or aggregate them into one row"
            ),
            Reason::RowTooLong { limit } => write!(
                f,
                "row longer than {limit} bytes or {} fields: check the file's quoting",
                MAX_FIELDS
            ),
            Reason::TotalOverflow => {
                f.write_str("the hour's totals would overflow: the values are implausibly large")
            }
        }
    }
}

/// Most fields a row may have (a row with more is refused like an over-long one,
/// [`Reason::RowTooLong`]).
pub const MAX_FIELDS: usize = 4096;

/// The longest value a [`SalesRowError`] keeps, in bytes; longer values are cut at a character
/// boundary so an error list stays small whatever the file holds.
pub const VALUE_EXCERPT_BYTES: usize = 64;

/// One refused row or field, with its place in the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct SalesRowError {
    /// 1-based line where the record starts.
    pub line: u64,
    /// Byte offset of the record's start in the file.
    pub byte: u64,
    /// The required field concerned; `None` for errors about the whole row.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<SalesField>,
    /// 1-based column of the file concerned; `None` for errors about the whole row.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
    /// The value as found (lossy UTF-8, at most [`VALUE_EXCERPT_BYTES`]).
    pub value: String,
    /// Why.
    pub reason: Reason,
    /// The reason in words, with what to do.
    pub message: String,
}

impl SalesRowError {
    pub(crate) fn new(
        line: u64,
        byte: u64,
        field: Option<(SalesField, u32)>,
        value: &[u8],
        reason: Reason,
    ) -> Self {
        SalesRowError {
            line,
            byte,
            field: field.map(|(f, _)| f),
            column: field.map(|(_, c)| c),
            value: excerpt(value),
            reason,
            message: reason.to_string(),
        }
    }
}

impl fmt::Display for SalesRowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}", self.line)?;
        if let (Some(field), Some(column)) = (self.field, self.column) {
            write!(f, ", column {column} ({field})")?;
        }
        write!(f, ", value {:?}: {}", self.value, self.message)
    }
}

/// At most [`VALUE_EXCERPT_BYTES`] of `value`, as lossy UTF-8, cut at a character boundary.
pub(crate) fn excerpt(value: &[u8]) -> String {
    let text = String::from_utf8_lossy(value);
    if text.len() <= VALUE_EXCERPT_BYTES {
        return text.into_owned();
    }
    let mut end = VALUE_EXCERPT_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let mut out = text.get(..end).unwrap_or_default().to_owned();
    out.push('…');
    out
}

/// A problem with the header row: the file cannot be read as a sales file at all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "code", rename_all = "snake_case")]
#[non_exhaustive]
pub enum HeaderProblem {
    /// The file has no header row (it is empty or blank).
    NoHeader,
    /// The header row is longer than the row limit: probably not a CSV sales file.
    HeaderTooLong,
    /// A required field has no column: neither the explicit map nor a header names it.
    MissingField {
        /// The required field.
        field: SalesField,
    },
    /// The explicit map names a header the file does not have.
    MappedHeaderAbsent {
        /// The required field.
        field: SalesField,
        /// The header the map expected.
        header: String,
    },
    /// Two columns of the file match one required field, so which one to use is unclear.
    AmbiguousField {
        /// The required field.
        field: SalesField,
        /// Both 1-based columns.
        columns: [u32; 2],
    },
}

impl fmt::Display for HeaderProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HeaderProblem::NoHeader => f.write_str("no header row: the file is empty"),
            HeaderProblem::HeaderTooLong => {
                f.write_str("header row longer than the row limit: is this a CSV sales file?")
            }
            HeaderProblem::MissingField { field } => write!(
                f,
                "required field {field} has no column: add it, or map a column onto it"
            ),
            HeaderProblem::MappedHeaderAbsent { field, header } => write!(
                f,
                "the map puts {field} in column {header:?}, which the file does not have"
            ),
            HeaderProblem::AmbiguousField { field, columns } => write!(
                f,
                "columns {} and {} both match {field}: map one explicitly",
                columns[0], columns[1]
            ),
        }
    }
}

/// Why a read stopped before the end of the file. Row and header problems are not errors of
/// this kind: they go into the report.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SalesFileError {
    /// Reading the input failed; retry or check the file.
    #[error("reading the sales file failed at byte {byte}: {source}")]
    Io {
        /// Byte offset reached.
        byte: u64,
        /// The IO error.
        #[source]
        source: std::io::Error,
    },
}
