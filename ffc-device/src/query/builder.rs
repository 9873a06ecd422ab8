//! [`QueryBuilder`]: the documented defaults and every check of a query.

use chrono::{Duration, NaiveDate, NaiveTime};
use ffc_core::time::{naive_to_seconds, parse_compact_date, parse_compact_time};
use ffc_core::{Resolution, Zone};

use super::{DataFormat, DataType, Param, Query, QueryError, MAX_WINDOW_SECONDS};

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

impl Query {
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
