//! `GET /FootfallCam/exportData?infoJson=<JSON>&access_token=<AToken>` → `{"Data":[row,..]}`.
//!
//! The request is an [`InfoJson`]; rows decode into [`ExportRow`], whose every known field
//! is optional (what a row carries depends on level and period) and whose unknown fields
//! are kept in [`ExportRow::extra`], so a server that adds a column loses nothing.

mod row;
#[cfg(test)]
mod tests;

pub use row::{ExportRow, ExportRowError};

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use super::{day_chunks, parse_json, server_message, DecodeError};
use crate::datefmt::Pattern;

/// `cat`: what the rows are about. DECISION: 1 = site (branch), 0 = counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Level {
    /// One row per counter (`cat` 0).
    Counter,
    /// One row per site (`cat` 1).
    Site,
}

/// `period`: the bucket length. DECISION: 0 = hourly, 1 = daily.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Period {
    /// Hourly rows (`period` 0).
    Hourly,
    /// Daily rows (`period` 1).
    Daily,
}

impl Period {
    /// The matching ffc-core resolution.
    pub fn resolution(self) -> ffc_core::Resolution {
        match self {
            Period::Hourly => ffc_core::Resolution::Hour,
            Period::Daily => ffc_core::Resolution::Day,
        }
    }
}

fn code_of<'de, D: Deserializer<'de>>(d: D, what: &'static str) -> Result<u8, D::Error> {
    match Value::deserialize(d)? {
        Value::String(s) if s.trim() == "0" => Ok(0),
        Value::String(s) if s.trim() == "1" => Ok(1),
        Value::Number(n) if n.as_u64() == Some(0) => Ok(0),
        Value::Number(n) if n.as_u64() == Some(1) => Ok(1),
        other => Err(serde::de::Error::custom(format_args!(
            "{what} must be \"0\" or \"1\", found {other}"
        ))),
    }
}

impl Serialize for Level {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(match self {
            Level::Counter => "0",
            Level::Site => "1",
        })
    }
}

impl<'de> Deserialize<'de> for Level {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match code_of(d, "cat")? {
            0 => Level::Counter,
            _ => Level::Site,
        })
    }
}

impl Serialize for Period {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(match self {
            Period::Hourly => "0",
            Period::Daily => "1",
        })
    }
}

impl<'de> Deserialize<'de> for Period {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match code_of(d, "period")? {
            0 => Period::Hourly,
            _ => Period::Daily,
        })
    }
}

/// The `infoJson` query parameter of `exportData`.
///
/// Dates travel as text in the request's own `dateformat`, so the struct keeps them as
/// text (the published sample even carries the pattern itself as a placeholder);
/// [`InfoJson::new`] writes them and [`InfoJson::range`] reads them back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InfoJson {
    /// Site or counter rows.
    #[serde(rename = "cat")]
    pub level: Level,
    /// Site or counter ids.
    #[serde(rename = "id", default)]
    pub ids: Vec<String>,
    /// Extra metric selections (empty in every published request).
    #[serde(default)]
    pub data: Vec<Value>,
    /// First day, in `date_format`.
    #[serde(rename = "fromdate")]
    pub from_date: String,
    /// Last day (inclusive), in `date_format`.
    #[serde(rename = "todate")]
    pub to_date: String,
    /// Hourly or daily.
    pub period: Period,
    /// .NET date pattern of the request and of the rows, e.g. `dd/MM/yyyy`.
    #[serde(rename = "dateformat")]
    pub date_format: String,
    /// .NET time pattern of the rows, e.g. `HH:mm:ss`.
    #[serde(rename = "timeformat")]
    pub time_format: String,
    /// Keys this SDK does not know, sent back as they came.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

impl InfoJson {
    /// A request for `ids` at `level` and `period` over the days `[from, to]`.
    pub fn new(
        level: Level,
        ids: impl IntoIterator<Item = impl Into<String>>,
        period: Period,
        from: NaiveDate,
        to: NaiveDate,
        date: &Pattern,
        time: &Pattern,
    ) -> Self {
        InfoJson {
            level,
            ids: ids.into_iter().map(Into::into).collect(),
            data: Vec::new(),
            from_date: date.format_date(from),
            to_date: date.format_date(to),
            period,
            date_format: date.as_str().to_owned(),
            time_format: time.as_str().to_owned(),
            extra: BTreeMap::new(),
        }
    }

    /// The date and time patterns.
    pub fn patterns(&self) -> Result<(Pattern, Pattern), DecodeError> {
        let d = Pattern::new(&self.date_format).map_err(|e| DecodeError::Invalid(e.to_string()))?;
        let t = Pattern::new(&self.time_format).map_err(|e| DecodeError::Invalid(e.to_string()))?;
        Ok((d, t))
    }

    /// The inclusive day range, read with `date_format`.
    pub fn range(&self) -> Result<(NaiveDate, NaiveDate), DecodeError> {
        let (d, _) = self.patterns()?;
        let read = |text: &str, which: &str| {
            NaiveDate::parse_from_str(text.trim(), d.strftime()).map_err(|_| {
                DecodeError::Invalid(format!(
                    "{which} {text:?} is not a date in the format {:?}",
                    d.as_str()
                ))
            })
        };
        Ok((
            read(&self.from_date, "fromdate")?,
            read(&self.to_date, "todate")?,
        ))
    }

    /// The same request split into ranges of at most `days` days.
    pub fn chunks(&self, days: u32) -> Result<Vec<InfoJson>, DecodeError> {
        let (d, _) = self.patterns()?;
        let (from, to) = self.range()?;
        Ok(day_chunks(from, to, days)
            .into_iter()
            .map(|(a, b)| InfoJson {
                from_date: d.format_date(a),
                to_date: d.format_date(b),
                ..self.clone()
            })
            .collect())
    }

    /// The `infoJson` parameter value (the client URL-encodes it).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads the parameter (the simulator's side).
    pub fn from_json(text: &str) -> Result<Self, DecodeError> {
        serde_json::from_str(text).map_err(|e| DecodeError::json(&e))
    }
}

/// Decodes one row from its JSON (the fuzz target's entry point).
pub fn decode_row(json: &[u8]) -> Result<ExportRow, DecodeError> {
    serde_json::from_slice(json).map_err(|e| DecodeError::Row {
        row: 0,
        reason: e.to_string(),
    })
}

/// Decodes `{"Data": [..]}`. A row that is not an object, or whose known field has an
/// unusable value, fails the whole body with its index and the field.
pub fn decode_export(body: &[u8]) -> Result<Vec<ExportRow>, DecodeError> {
    let v = parse_json(body)?;
    let data = match v.get("Data").or_else(|| v.get("data")) {
        Some(Value::Array(rows)) => rows,
        Some(Value::Null) => return Ok(Vec::new()),
        _ => {
            return Err(match server_message(body) {
                Some(m) => DecodeError::Server(m),
                None => DecodeError::Missing("Data"),
            })
        }
    };
    data.iter()
        .enumerate()
        .map(|(row, value)| {
            ExportRow::deserialize(value).map_err(|e| DecodeError::Row {
                row,
                reason: e.to_string(),
            })
        })
        .collect()
}

/// The response body (the simulator's side).
pub fn encode_export(rows: &[ExportRow]) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({ "Data": rows })).unwrap_or_default()
}
