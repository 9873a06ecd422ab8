//! The `apiCount.cgi` query: building, validating, rendering and parsing its parameters,
//! and splitting a long range into windows the device accepts.
//!
//! One type serves both ends: the client renders a [`Query`] into URL parameters, the
//! simulator parses the same parameters back through the same builder, so both refuse the
//! same queries with the same [`QueryError`].
//!
//! ## How the device reads a window (DECISION, spec §1)
//!
//! The public record says a request covers `date_start`..`date_end` and
//! `time_start`..`time_end`, and that one time window returns at most 24 hours. ffc reads
//! this as one continuous local-time span: from `date_start time_start` to
//! `date_end time_end`, both ends inclusive to the second, holding every bucket whose start
//! lies in the span. The 24-hour limit is measured in elapsed time, so the local day of a
//! DST fall-back (25 hours) needs two windows. Missing parameters take the documented
//! defaults: `time_start` `000000`; `time_end` one hour after `time_start` when only that
//! is set, else `235959`; `date_end` the same day (the next one when the window wraps past
//! midnight). `date_start` has a device default (yesterday, by the device's clock), but ffc
//! requires it, so a query means the same thing whatever the device's clock says.
//! These rules live in [`QueryBuilder::build`] and [`split_range`] only.

use chrono::NaiveDateTime;
use ffc_core::time::Format;
use ffc_core::{ParseError, Resolution, UnixSeconds};

mod builder;
mod codes;
mod window;

pub use builder::QueryBuilder;
pub use codes::{DataFormat, DataType, Param};
pub use window::{split_range, Window};

/// The default path of the count CGI under `/cgi-bin/` (one FootfallCam page spells it
/// `apiCount_cgi`; the client makes it configurable).
pub const DEFAULT_COUNT_PATH: &str = "apiCount.cgi";
/// The path of the token CGI under `/cgi-bin/`.
pub const TOKEN_PATH: &str = "access_token.cgi";
/// The longest span one request may cover, in elapsed seconds.
pub const MAX_WINDOW_SECONDS: i64 = 86_400;

/// Why a query was refused before anything was sent (or, in the simulator, why a request
/// gets HTTP 400). Every variant is fixed by changing the query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QueryError {
    /// `date_start` was not given; set it (ffc does not rely on the device's clock).
    #[error("date_start is required")]
    MissingDateStart,
    /// A resolution parameter that does not belong to the data format, such as
    /// `resolution_min` with `data_format=second`; drop it or change the format.
    #[error("{param} does not apply to data_format={format}")]
    ResolutionMismatch {
        /// The resolution parameter given.
        param: Param,
        /// The data format it was given with.
        format: DataFormat,
    },
    /// A step other than 1, 5, 10, 15, 30 or 60; use one of those.
    #[error("{param}={value} is not one of 1, 5, 10, 15, 30, 60")]
    Step {
        /// Which resolution parameter.
        param: Param,
        /// The value given.
        value: u64,
    },
    /// Daily buckets: the device does not offer them; pull hours and re-bucket.
    #[error("the device offers hour, minute and second data, not days")]
    DayResolution,
    /// A parameter value the device does not know; use a documented value.
    #[error("{param} has an unknown value")]
    UnknownValue {
        /// Which parameter.
        param: Param,
    },
    /// A date or time that does not parse; use `YYYYMMDD` or `HHmmss`.
    #[error("{param}: {error}")]
    Text {
        /// Which parameter.
        param: Param,
        /// What is wrong with the text.
        error: ParseError,
    },
    /// A parameter given twice; give it once.
    #[error("{param} given more than once")]
    Duplicate {
        /// Which parameter.
        param: Param,
    },
    /// The window ends before it starts; swap or fix the ends.
    #[error("the window ends before it starts")]
    EndBeforeStart,
    /// The window is longer than the device answers; split it (see [`split_range`]).
    #[error("the window spans {seconds} s, more than the 86400 s one request may cover")]
    WindowTooLong {
        /// Elapsed seconds the window spans.
        seconds: i64,
    },
    /// A range end that is no instant this library can name (before 1970 or after 9999).
    #[error("the range lies outside the years 1970..=9999")]
    OutOfRange,
    /// A window whose local-time ends do not name its instants (an end inside a repeated
    /// or skipped hour of a DST change); choose other ends.
    #[error("the window's local-time ends are ambiguous in the site's zone")]
    Ambiguous,
}

/// A validated `apiCount.cgi` query, bound to the span it covers in the site's zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Query {
    data_type: DataType,
    resolution: Resolution,
    start: NaiveDateTime,
    end: NaiveDateTime,
    start_utc: UnixSeconds,
    end_utc: UnixSeconds,
}

impl Query {
    /// A builder with every parameter unset.
    pub fn builder() -> QueryBuilder {
        QueryBuilder::default()
    }

    /// The response format.
    pub const fn data_type(&self) -> DataType {
        self.data_type
    }

    /// The bucket length asked for (hour, minutes or seconds).
    pub const fn resolution(&self) -> Resolution {
        self.resolution
    }

    /// The first instant of the window (UTC).
    pub const fn start(&self) -> UnixSeconds {
        self.start_utc
    }

    /// The last instant of the window (UTC), inclusive: buckets starting at it are included.
    pub const fn end_inclusive(&self) -> UnixSeconds {
        self.end_utc
    }

    /// Whether a bucket starting at `start` (UTC) belongs to the answer.
    pub const fn holds_bucket(&self, start: UnixSeconds) -> bool {
        start >= self.start_utc && start <= self.end_utc
    }

    /// The same window in the other format.
    pub const fn with_data_type(mut self, data_type: DataType) -> Query {
        self.data_type = data_type;
        self
    }

    /// The URL parameters, with the documented names, in the documented order, with the
    /// defaults resolved (so the device has nothing left to guess).
    pub fn params(&self) -> Vec<(&'static str, String)> {
        let (format, step) = DataFormat::of(self.resolution).unwrap_or((DataFormat::Hour, 1));
        let mut out = Vec::with_capacity(7);
        out.push((Param::DataType.name(), self.data_type.as_str().to_owned()));
        out.push((Param::DataFormat.name(), format.as_str().to_owned()));
        match format {
            DataFormat::Hour => {}
            DataFormat::Minute => out.push((Param::ResolutionMin.name(), step.to_string())),
            DataFormat::Second => out.push((Param::ResolutionSec.name(), step.to_string())),
        }
        let date = |dt| Format::CompactDate.display(dt).to_string();
        let time = |dt| Format::CompactTime.display(dt).to_string();
        out.push((Param::DateStart.name(), date(self.start)));
        out.push((Param::DateEnd.name(), date(self.end)));
        out.push((Param::TimeStart.name(), time(self.start)));
        out.push((Param::TimeEnd.name(), time(self.end)));
        out
    }
}

#[cfg(test)]
mod tests;
