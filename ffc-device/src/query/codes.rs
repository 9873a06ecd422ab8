//! The codes of the query's parameters: response format, data format, parameter names.

use core::fmt;

use ffc_core::Resolution;

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

    pub(super) fn from_name(name: &str) -> Option<Param> {
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
