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

use core::fmt;

use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime};
use ffc_core::time::{
    naive_to_seconds, parse_compact_date, parse_compact_time, seconds_to_naive, Format,
};
use ffc_core::{ParseError, Resolution, UnixSeconds, Zone};

/// The default path of the count CGI under `/cgi-bin/` (one FootfallCam page spells it
/// `apiCount_cgi`; the client makes it configurable).
pub const DEFAULT_COUNT_PATH: &str = "apiCount.cgi";
/// The path of the token CGI under `/cgi-bin/`.
pub const TOKEN_PATH: &str = "access_token.cgi";
/// The longest span one request may cover, in elapsed seconds.
pub const MAX_WINDOW_SECONDS: i64 = 86_400;

/// The response format (`data_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum DataType {
    /// `json` (the device default).
    #[default]
    Json,
    /// `xml`.
    Xml,
}

impl DataType {
    /// Both formats.
    pub const ALL: [DataType; 2] = [DataType::Json, DataType::Xml];

    /// The parameter value.
    pub const fn as_str(self) -> &'static str {
        match self {
            DataType::Json => "json",
            DataType::Xml => "xml",
        }
    }
}

impl fmt::Display for DataType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The granularity (`data_format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum DataFormat {
    /// `hour` (the device default).
    #[default]
    Hour,
    /// `minute`, with `resolution_min`.
    Minute,
    /// `second`, with `resolution_sec` (firmware 3.2.0 and later).
    Second,
}

impl DataFormat {
    /// The parameter value.
    pub const fn as_str(self) -> &'static str {
        match self {
            DataFormat::Hour => "hour",
            DataFormat::Minute => "minute",
            DataFormat::Second => "second",
        }
    }

    /// The format and step of a resolution; `None` for a day, which the device does not offer.
    pub const fn of(resolution: Resolution) -> Option<(DataFormat, u8)> {
        match resolution {
            Resolution::Hour => Some((DataFormat::Hour, 1)),
            Resolution::Minutes(m) => Some((DataFormat::Minute, m)),
            Resolution::Seconds(s) => Some((DataFormat::Second, s)),
            Resolution::Day => None,
        }
    }
}

impl fmt::Display for DataFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A query parameter, named in errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Param {
    /// `data_type`.
    DataType,
    /// `data_format`.
    DataFormat,
    /// `resolution_min`.
    ResolutionMin,
    /// `resolution_sec`.
    ResolutionSec,
    /// `date_start`.
    DateStart,
    /// `date_end`.
    DateEnd,
    /// `time_start`.
    TimeStart,
    /// `time_end`.
    TimeEnd,
}

impl Param {
    /// The parameter name exactly as the device spells it.
    pub const fn name(self) -> &'static str {
        match self {
            Param::DataType => "data_type",
            Param::DataFormat => "data_format",
            Param::ResolutionMin => "resolution_min",
            Param::ResolutionSec => "resolution_sec",
            Param::DateStart => "date_start",
            Param::DateEnd => "date_end",
            Param::TimeStart => "time_start",
            Param::TimeEnd => "time_end",
        }
    }

    fn from_name(name: &str) -> Option<Param> {
        Some(match name {
            "data_type" => Param::DataType,
            "data_format" => Param::DataFormat,
            "resolution_min" => Param::ResolutionMin,
            "resolution_sec" => Param::ResolutionSec,
            "date_start" => Param::DateStart,
            "date_end" => Param::DateEnd,
            "time_start" => Param::TimeStart,
            "time_end" => Param::TimeEnd,
            _ => return None,
        })
    }
}

impl fmt::Display for Param {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

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

    /// Parses URL parameters (as the simulator receives them) through the same builder.
    /// Parameters that are not the query's (`access_token`, unknown ones) are ignored.
    pub fn from_params<'a, I>(params: I, zone: &Zone) -> Result<Query, QueryError>
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        let mut b = QueryBuilder::default();
        let mut seen = [false; 8];
        for (name, value) in params {
            let Some(param) = Param::from_name(name) else {
                continue;
            };
            let slot = param as usize;
            if seen.get(slot).copied().unwrap_or(false) {
                return Err(QueryError::Duplicate { param });
            }
            if let Some(s) = seen.get_mut(slot) {
                *s = true;
            }
            let text = |e| QueryError::Text { param, error: e };
            match param {
                Param::DataType => {
                    b.data_type = Some(match value {
                        "json" => DataType::Json,
                        "xml" => DataType::Xml,
                        _ => return Err(QueryError::UnknownValue { param }),
                    })
                }
                Param::DataFormat => {
                    b.data_format = Some(match value {
                        "hour" => DataFormat::Hour,
                        "minute" => DataFormat::Minute,
                        "second" => DataFormat::Second,
                        _ => return Err(QueryError::UnknownValue { param }),
                    })
                }
                Param::ResolutionMin | Param::ResolutionSec => {
                    let step: u64 = value
                        .parse()
                        .map_err(|_| QueryError::UnknownValue { param })?;
                    let step =
                        u8::try_from(step).map_err(|_| QueryError::Step { param, value: step })?;
                    if param == Param::ResolutionMin {
                        b.resolution_min = Some(step);
                    } else {
                        b.resolution_sec = Some(step);
                    }
                }
                Param::DateStart => b.date_start = Some(parse_compact_date(value).map_err(text)?),
                Param::DateEnd => b.date_end = Some(parse_compact_date(value).map_err(text)?),
                Param::TimeStart => b.time_start = Some(parse_compact_time(value).map_err(text)?),
                Param::TimeEnd => b.time_end = Some(parse_compact_time(value).map_err(text)?),
            }
        }
        b.build(zone)
    }
}

/// Builds a [`Query`]; [`QueryBuilder::build`] applies the documented defaults and refuses
/// every invalid combination.
///
/// ```
/// use ffc_device::query::{DataFormat, DataType, Query};
/// use ffc_core::Zone;
/// use chrono::NaiveDate;
///
/// let day = NaiveDate::from_ymd_opt(2018, 12, 31).unwrap();
/// let q = Query::builder()
///     .data_type(DataType::Xml)
///     .data_format(DataFormat::Minute)
///     .resolution_min(15)
///     .date_start(day)
///     .build(&Zone::UTC)?;
/// let rendered: Vec<String> = q.params().iter().map(|(k, v)| format!("{k}={v}")).collect();
/// assert_eq!(rendered.join("&"), "data_type=xml&data_format=minute&resolution_min=15\
///     &date_start=20181231&date_end=20181231&time_start=000000&time_end=235959");
///
/// // Minute resolution with second data is refused before anything is sent.
/// let bad = Query::builder().data_format(DataFormat::Second).resolution_min(5).date_start(day);
/// assert!(bad.build(&Zone::UTC).is_err());
/// # Ok::<(), ffc_device::query::QueryError>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[must_use]
pub struct QueryBuilder {
    data_type: Option<DataType>,
    data_format: Option<DataFormat>,
    resolution_min: Option<u8>,
    resolution_sec: Option<u8>,
    date_start: Option<NaiveDate>,
    date_end: Option<NaiveDate>,
    time_start: Option<NaiveTime>,
    time_end: Option<NaiveTime>,
}

impl QueryBuilder {
    /// `data_type` (default `json`).
    pub fn data_type(mut self, v: DataType) -> Self {
        self.data_type = Some(v);
        self
    }
    /// `data_format` (default `hour`).
    pub fn data_format(mut self, v: DataFormat) -> Self {
        self.data_format = Some(v);
        self
    }
    /// `resolution_min` (minute data only; default 1).
    pub fn resolution_min(mut self, v: u8) -> Self {
        self.resolution_min = Some(v);
        self
    }
    /// `resolution_sec` (second data only; default 10).
    pub fn resolution_sec(mut self, v: u8) -> Self {
        self.resolution_sec = Some(v);
        self
    }
    /// `data_format` and its step from one [`Resolution`]; a day is refused at build.
    pub fn resolution(mut self, r: Resolution) -> Self {
        self.resolution_min = None;
        self.resolution_sec = None;
        match r {
            Resolution::Hour => self.data_format = Some(DataFormat::Hour),
            Resolution::Minutes(m) => {
                self.data_format = Some(DataFormat::Minute);
                self.resolution_min = Some(m);
            }
            Resolution::Seconds(s) => {
                self.data_format = Some(DataFormat::Second);
                self.resolution_sec = Some(s);
            }
            // Kept as an impossible combination so build() reports it.
            Resolution::Day => {
                self.data_format = None;
                self.resolution_min = Some(0);
                self.resolution_sec = Some(0);
            }
        }
        self
    }
    /// `date_start` (required by ffc).
    pub fn date_start(mut self, v: NaiveDate) -> Self {
        self.date_start = Some(v);
        self
    }
    /// `date_end` (default: the start day, or the next day when the window wraps midnight).
    pub fn date_end(mut self, v: NaiveDate) -> Self {
        self.date_end = Some(v);
        self
    }
    /// `time_start` (default `000000`).
    pub fn time_start(mut self, v: NaiveTime) -> Self {
        self.time_start = Some(v);
        self
    }
    /// `time_end` (default one hour after `time_start` if that is set, else `235959`).
    pub fn time_end(mut self, v: NaiveTime) -> Self {
        self.time_end = Some(v);
        self
    }

    fn resolution_checked(&self) -> Result<Resolution, QueryError> {
        if self.resolution_min == Some(0) && self.resolution_sec == Some(0) {
            return Err(QueryError::DayResolution);
        }
        let format = self.data_format.unwrap_or_default();
        let step = |param, v: u8| {
            let ok = match param {
                Param::ResolutionMin => Resolution::minutes(v),
                _ => Resolution::seconds(v),
            };
            ok.map_err(|_| QueryError::Step {
                param,
                value: u64::from(v),
            })
        };
        match format {
            DataFormat::Hour => {
                if self.resolution_min.is_some() {
                    return Err(QueryError::ResolutionMismatch {
                        param: Param::ResolutionMin,
                        format,
                    });
                }
                if self.resolution_sec.is_some() {
                    return Err(QueryError::ResolutionMismatch {
                        param: Param::ResolutionSec,
                        format,
                    });
                }
                Ok(Resolution::Hour)
            }
            DataFormat::Minute => {
                if self.resolution_sec.is_some() {
                    return Err(QueryError::ResolutionMismatch {
                        param: Param::ResolutionSec,
                        format,
                    });
                }
                step(Param::ResolutionMin, self.resolution_min.unwrap_or(1))
            }
            DataFormat::Second => {
                if self.resolution_min.is_some() {
                    return Err(QueryError::ResolutionMismatch {
                        param: Param::ResolutionMin,
                        format,
                    });
                }
                step(Param::ResolutionSec, self.resolution_sec.unwrap_or(10))
            }
        }
    }

    /// Validates and resolves the defaults; `zone` is the site's, which the 24-hour limit
    /// is measured in.
    pub fn build(&self, zone: &Zone) -> Result<Query, QueryError> {
        let resolution = self.resolution_checked()?;
        let date_start = self.date_start.ok_or(QueryError::MissingDateStart)?;
        let time_start = self.time_start.unwrap_or(NaiveTime::MIN);
        let time_end = match (self.time_start, self.time_end) {
            (_, Some(end)) => end,
            (Some(start), None) => start.overflowing_add_signed(Duration::hours(1)).0,
            (None, None) => NaiveTime::from_hms_opt(23, 59, 59).unwrap_or(NaiveTime::MIN),
        };
        let date_end = match self.date_end {
            Some(d) => d,
            None if time_end < time_start => date_start.succ_opt().ok_or(QueryError::OutOfRange)?,
            None => date_start,
        };
        let start = date_start.and_time(time_start);
        let end = date_end.and_time(time_end);
        if end < start {
            return Err(QueryError::EndBeforeStart);
        }
        let start_utc = zone.local_to_utc(naive_to_seconds(start));
        let end_utc = zone.local_to_utc(naive_to_seconds(end));
        let seconds = end_utc - start_utc + 1;
        if seconds > MAX_WINDOW_SECONDS {
            return Err(QueryError::WindowTooLong { seconds });
        }
        if end_utc < start_utc {
            return Err(QueryError::Ambiguous);
        }
        Ok(Query {
            data_type: self.data_type.unwrap_or_default(),
            resolution,
            start,
            end,
            start_utc,
            end_utc,
        })
    }
}

fn local_naive(zone: &Zone, utc: UnixSeconds) -> Result<NaiveDateTime, QueryError> {
    ffc_core::time::check_unix(utc).map_err(|_| QueryError::OutOfRange)?;
    seconds_to_naive(zone.local_seconds(utc)).ok_or(QueryError::OutOfRange)
}

/// One window of a long pull: the query and the span `[from, to)` (UTC) whose buckets it
/// returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// First bucket start covered.
    pub from: UnixSeconds,
    /// The instant after the last bucket start covered.
    pub to: UnixSeconds,
    /// The query that asks for exactly these buckets.
    pub query: Query,
}

/// Splits `[from, to)` (UTC, widened to whole buckets) into queries the device accepts:
/// one per local day, cut at the range ends, and a day longer than 24 hours (a DST
/// fall-back) cut again so no window exceeds [`MAX_WINDOW_SECONDS`].
///
/// Every window is checked to render back to exactly its span, so no bucket is asked
/// twice or missed at a DST change.
///
/// ```
/// use ffc_device::query::{split_range, DataType};
/// use ffc_core::{Resolution, Zone};
/// // 18:00 on 31 January to 06:00 on 2 February: three windows, cut at each midnight.
/// let from = 1_706_724_000; // 2024-01-31 18:00 UTC
/// let to = from + 36 * 3600;
/// let windows = split_range(from, to, Resolution::Minutes(15), DataType::Json, &Zone::UTC)?;
/// assert_eq!(windows.len(), 3);
/// assert_eq!(windows[1].query.params()[3], ("date_start", "20240201".to_string()));
/// # Ok::<(), ffc_device::query::QueryError>(())
/// ```
pub fn split_range(
    from: UnixSeconds,
    to: UnixSeconds,
    resolution: Resolution,
    data_type: DataType,
    zone: &Zone,
) -> Result<Vec<Window>, QueryError> {
    if DataFormat::of(resolution).is_none() {
        return Err(QueryError::DayResolution);
    }
    local_naive(zone, from)?;
    local_naive(zone, to)?;
    if to < from {
        return Err(QueryError::EndBeforeStart);
    }
    let mut windows = Vec::new();
    if to == from {
        return Ok(windows);
    }
    let from = resolution.bucket_start(from, zone);
    let to = resolution.next_start(resolution.bucket_start(to - 1, zone), zone);
    let mut cur = from;
    while cur < to {
        let day_end = Resolution::Day.next_start(Resolution::Day.bucket_start(cur, zone), zone);
        let mut end = day_end.min(to);
        if end - cur > MAX_WINDOW_SECONDS {
            end = resolution.bucket_start(cur + MAX_WINDOW_SECONDS, zone);
        }
        let first = local_naive(zone, cur)?;
        let last = local_naive(zone, end - 1)?;
        let query = Query::builder()
            .data_type(data_type)
            .resolution(resolution)
            .date_start(first.date())
            .date_end(last.date())
            .time_start(first.time())
            .time_end(last.time())
            .build(zone)?;
        if query.start() != cur || query.end_inclusive() != end - 1 {
            return Err(QueryError::Ambiguous);
        }
        windows.push(Window {
            from: cur,
            to: end,
            query,
        });
        cur = end;
    }
    Ok(windows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }
    fn hms(h: u32, m: u32, s: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, s).unwrap()
    }
    fn rendered(q: &Query) -> String {
        q.params()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&")
    }

    #[test]
    fn renders_the_published_samples() {
        // Sample 1 of the vendor document, narrowed to one day (ffc refuses a month).
        let q = Query::builder()
            .data_type(DataType::Json)
            .data_format(DataFormat::Second)
            .resolution_sec(30)
            .date_start(day(2018, 12, 31))
            .time_start(hms(8, 30, 0))
            .time_end(hms(18, 30, 0))
            .build(&Zone::UTC)
            .unwrap();
        assert_eq!(
            rendered(&q),
            "data_type=json&data_format=second&resolution_sec=30&date_start=20181231\
             &date_end=20181231&time_start=083000&time_end=183000"
        );
        let hour = Query::builder()
            .date_start(day(2018, 12, 31))
            .build(&Zone::UTC)
            .unwrap();
        assert_eq!(
            rendered(&hour),
            "data_type=json&data_format=hour&date_start=20181231&date_end=20181231\
             &time_start=000000&time_end=235959"
        );
        assert_eq!(hour.resolution(), Resolution::Hour);
    }

    #[test]
    fn documented_defaults_for_a_missing_end() {
        let only_start = Query::builder()
            .date_start(day(2024, 1, 31))
            .time_start(hms(23, 30, 0))
            .build(&Zone::UTC)
            .unwrap();
        // One hour later, which wraps to the next day (and the next month).
        assert!(rendered(&only_start)
            .ends_with("date_start=20240131&date_end=20240201&time_start=233000&time_end=003000"));
        let only_end = Query::builder()
            .date_start(day(2024, 1, 31))
            .time_end(hms(12, 0, 0))
            .build(&Zone::UTC)
            .unwrap();
        assert!(rendered(&only_end).ends_with("time_start=000000&time_end=120000"));
        let minute = Query::builder()
            .data_format(DataFormat::Minute)
            .date_start(day(2024, 1, 31))
            .build(&Zone::UTC)
            .unwrap();
        assert_eq!(minute.resolution(), Resolution::Minutes(1));
        let second = Query::builder()
            .data_format(DataFormat::Second)
            .date_start(day(2024, 1, 31))
            .build(&Zone::UTC)
            .unwrap();
        assert_eq!(second.resolution(), Resolution::Seconds(10));
    }

    #[test]
    fn invalid_queries_are_refused_with_the_reason() {
        let d = day(2024, 1, 31);
        let base = Query::builder().date_start(d);
        let z = Zone::UTC;
        assert_eq!(
            base.data_format(DataFormat::Second)
                .resolution_min(5)
                .build(&z),
            Err(QueryError::ResolutionMismatch {
                param: Param::ResolutionMin,
                format: DataFormat::Second
            })
        );
        assert_eq!(
            base.data_format(DataFormat::Minute)
                .resolution_sec(5)
                .build(&z),
            Err(QueryError::ResolutionMismatch {
                param: Param::ResolutionSec,
                format: DataFormat::Minute
            })
        );
        assert!(matches!(
            base.resolution_min(15).build(&z),
            Err(QueryError::ResolutionMismatch {
                format: DataFormat::Hour,
                ..
            })
        ));
        assert_eq!(
            base.data_format(DataFormat::Minute)
                .resolution_min(7)
                .build(&z),
            Err(QueryError::Step {
                param: Param::ResolutionMin,
                value: 7
            })
        );
        assert_eq!(
            base.resolution(Resolution::Day).build(&z),
            Err(QueryError::DayResolution)
        );
        assert_eq!(
            Query::builder().build(&z),
            Err(QueryError::MissingDateStart)
        );
        assert_eq!(
            base.date_end(day(2024, 1, 30)).build(&z),
            Err(QueryError::EndBeforeStart)
        );
        assert_eq!(
            base.date_end(day(2024, 2, 1)).build(&z),
            Err(QueryError::WindowTooLong {
                seconds: 2 * 86_400
            })
        );
        // Exactly 24 hours across midnight is accepted.
        assert!(base
            .date_end(day(2024, 2, 1))
            .time_start(hms(6, 0, 0))
            .time_end(hms(5, 59, 59))
            .build(&z)
            .is_ok());
    }

    #[test]
    fn a_fall_back_day_is_too_long_for_one_window() {
        let london = Zone::iana("Europe/London").unwrap();
        let q = Query::builder()
            .date_start(day(2024, 10, 27))
            .build(&london);
        assert_eq!(q, Err(QueryError::WindowTooLong { seconds: 25 * 3600 }));
        let spring = Query::builder()
            .date_start(day(2024, 3, 31))
            .build(&london)
            .unwrap();
        assert_eq!(spring.end_inclusive() - spring.start() + 1, 23 * 3600);
    }

    #[test]
    fn params_parse_back_through_the_same_rules() {
        let z = Zone::iana("Europe/London").unwrap();
        for r in Resolution::all().filter(|r| *r != Resolution::Day) {
            for t in DataType::ALL {
                let q = Query::builder()
                    .data_type(t)
                    .resolution(r)
                    .date_start(day(2024, 3, 30))
                    .date_end(day(2024, 3, 31))
                    .time_start(hms(12, 0, 0))
                    .time_end(hms(11, 59, 59))
                    .build(&z)
                    .unwrap();
                let params = q.params();
                let back =
                    Query::from_params(params.iter().map(|(k, v)| (*k, v.as_str())), &z).unwrap();
                assert_eq!(back, q);
            }
        }
        let bad = [("data_type", "csv"), ("date_start", "20240101")];
        assert_eq!(
            Query::from_params(bad, &z),
            Err(QueryError::UnknownValue {
                param: Param::DataType
            })
        );
        let twice = [("date_start", "20240101"), ("date_start", "20240102")];
        assert_eq!(
            Query::from_params(twice, &z),
            Err(QueryError::Duplicate {
                param: Param::DateStart
            })
        );
        let bad_date = [("date_start", "20240230")];
        assert!(matches!(
            Query::from_params(bad_date, &z),
            Err(QueryError::Text {
                param: Param::DateStart,
                ..
            })
        ));
        let big_step = [
            ("date_start", "20240101"),
            ("data_format", "minute"),
            ("resolution_min", "300"),
        ];
        assert_eq!(
            Query::from_params(big_step, &z),
            Err(QueryError::Step {
                param: Param::ResolutionMin,
                value: 300
            })
        );
    }

    fn check_cover(windows: &[Window], from: UnixSeconds, to: UnixSeconds) {
        assert_eq!(windows.first().unwrap().from, from);
        assert_eq!(windows.last().unwrap().to, to);
        for pair in windows.windows(2) {
            assert_eq!(pair[0].to, pair[1].from, "windows must be contiguous");
        }
        for w in windows {
            assert!(w.to - w.from <= MAX_WINDOW_SECONDS);
            assert_eq!(w.query.start(), w.from);
            assert_eq!(w.query.end_inclusive(), w.to - 1);
        }
    }

    #[test]
    fn splits_at_midnight_month_end_and_dst() {
        let london = Zone::iana("Europe/London").unwrap();
        // 2024-10-26 18:00 BST (17:00 UTC) to 2024-11-01 06:00 GMT: crosses the fall-back
        // day (25 hours, cut in two) and the end of October.
        let from = 1_729_962_000;
        let to = 1_730_440_800;
        let w = split_range(from, to, Resolution::Hour, DataType::Xml, &london).unwrap();
        check_cover(&w, from, to);
        let lens: Vec<i64> = w.iter().map(|w| (w.to - w.from) / 3600).collect();
        assert_eq!(lens, vec![6, 24, 1, 24, 24, 24, 24, 6]);
        let params = w[6].query.params();
        assert_eq!(params[2], ("date_start", "20241031".to_string()));
        // The fall-back day: 00:00 BST to 23:00 GMT, then the last hour.
        assert_eq!(w[1].query.params()[4], ("time_start", "000000".to_string()));
        assert_eq!(w[1].query.params()[5], ("time_end", "225959".to_string()));
        // Spring forward: a 23-hour day is one window.
        let from = 1_711_843_200; // 2024-03-31 00:00 GMT = UTC
        let w = split_range(
            from,
            from + 23 * 3600,
            Resolution::Minutes(15),
            DataType::Json,
            &london,
        )
        .unwrap();
        assert_eq!(w.len(), 1);
        check_cover(&w, from, from + 23 * 3600);
    }

    #[test]
    fn widens_to_whole_buckets() {
        let w = split_range(
            1_000_000_030,
            1_000_000_100,
            Resolution::Minutes(1),
            DataType::Json,
            &Zone::UTC,
        )
        .unwrap();
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].from, 1_000_000_020);
        assert_eq!(w[0].to, 1_000_000_140);
        assert!(
            split_range(10, 10, Resolution::Hour, DataType::Json, &Zone::UTC)
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            split_range(10, 5, Resolution::Hour, DataType::Json, &Zone::UTC),
            Err(QueryError::EndBeforeStart)
        );
        assert_eq!(
            split_range(0, 5, Resolution::Day, DataType::Json, &Zone::UTC),
            Err(QueryError::DayResolution)
        );
    }
}
