//! `GET /FootfallCam/exportData?infoJson=<JSON>&access_token=<AToken>` → `{"Data":[row,..]}`.
//!
//! The request is an [`InfoJson`]; rows decode into [`ExportRow`], whose every known field
//! is optional (what a row carries depends on level and period) and whose unknown fields
//! are kept in [`ExportRow::extra`], so a server that adds a column loses nothing.

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveDateTime};
use ffc_core::{CameraSerial, CountRecord, SiteId, Source, Subject, Zone};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use super::{day_chunks, lenient, parse_json, server_message, DecodeError};
use crate::datefmt::{self, Pattern};

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

/// One row of `{"Data": [..]}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ExportRow {
    /// `AvgVisitDuration`.
    #[serde(
        rename = "AvgVisitDuration",
        default,
        deserialize_with = "lenient::opt_f64",
        skip_serializing_if = "Option::is_none"
    )]
    pub avg_visit_duration: Option<f64>,
    /// `NewCustomer`.
    #[serde(
        rename = "NewCustomer",
        default,
        deserialize_with = "lenient::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub new_customer: Option<u64>,
    /// `ReturningCustomer`.
    #[serde(
        rename = "ReturningCustomer",
        default,
        deserialize_with = "lenient::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub returning_customer: Option<u64>,
    /// `LessThanFifteen`.
    #[serde(
        rename = "LessThanFifteen",
        default,
        deserialize_with = "lenient::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub less_than_fifteen: Option<u64>,
    /// `LessThanThirty`.
    #[serde(
        rename = "LessThanThirty",
        default,
        deserialize_with = "lenient::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub less_than_thirty: Option<u64>,
    /// `OverThirty`.
    #[serde(
        rename = "OverThirty",
        default,
        deserialize_with = "lenient::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub over_thirty: Option<u64>,
    /// `ReturnInWeek`.
    #[serde(
        rename = "ReturnInWeek",
        default,
        deserialize_with = "lenient::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub return_in_week: Option<u64>,
    /// `AggregationStatus`.
    #[serde(
        rename = "AggregationStatus",
        default,
        deserialize_with = "lenient::opt_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub aggregation_status: Option<String>,
    /// `ZoneID`.
    #[serde(
        rename = "ZoneID",
        default,
        deserialize_with = "lenient::opt_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub zone_id: Option<String>,
    /// `Week`.
    #[serde(
        rename = "Week",
        default,
        deserialize_with = "lenient::opt_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub week: Option<String>,
    /// `WeekString`.
    #[serde(
        rename = "WeekString",
        default,
        deserialize_with = "lenient::opt_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub week_string: Option<String>,
    /// `Month`.
    #[serde(
        rename = "Month",
        default,
        deserialize_with = "lenient::opt_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub month: Option<String>,
    /// `SiteTags`.
    #[serde(
        rename = "SiteTags",
        default,
        deserialize_with = "lenient::opt_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub site_tags: Option<String>,
    /// `SiteTagsCount`.
    #[serde(
        rename = "SiteTagsCount",
        default,
        deserialize_with = "lenient::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub site_tags_count: Option<u64>,
    /// `Day`.
    #[serde(
        rename = "Day",
        default,
        deserialize_with = "lenient::opt_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub day: Option<String>,
    /// `TransactionCount`.
    #[serde(
        rename = "TransactionCount",
        default,
        deserialize_with = "lenient::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub transaction_count: Option<u64>,
    /// `SalesAmount`.
    #[serde(
        rename = "SalesAmount",
        default,
        deserialize_with = "lenient::opt_f64",
        skip_serializing_if = "Option::is_none"
    )]
    pub sales_amount: Option<f64>,
    /// `AvgTransactionValue`.
    #[serde(
        rename = "AvgTransactionValue",
        default,
        deserialize_with = "lenient::opt_f64",
        skip_serializing_if = "Option::is_none"
    )]
    pub avg_transaction_value: Option<f64>,
    /// `Company`.
    #[serde(
        rename = "Company",
        default,
        deserialize_with = "lenient::opt_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub company: Option<String>,
    /// `Site`.
    #[serde(
        rename = "Site",
        default,
        deserialize_with = "lenient::opt_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub site: Option<String>,
    /// `Counter`.
    #[serde(
        rename = "Counter",
        default,
        deserialize_with = "lenient::opt_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub counter: Option<String>,
    /// `DateTime`.
    #[serde(
        rename = "DateTime",
        default,
        deserialize_with = "lenient::opt_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub date_time: Option<String>,
    /// `ValueDateTime`.
    #[serde(
        rename = "ValueDateTime",
        default,
        deserialize_with = "lenient::opt_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub value_date_time: Option<String>,
    /// `DateTimeFormat`.
    #[serde(
        rename = "DateTimeFormat",
        default,
        deserialize_with = "lenient::opt_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub date_time_format: Option<String>,
    /// `ValueIn`.
    #[serde(
        rename = "ValueIn",
        default,
        deserialize_with = "lenient::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub value_in: Option<u64>,
    /// `ValueOut`.
    #[serde(
        rename = "ValueOut",
        default,
        deserialize_with = "lenient::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub value_out: Option<u64>,
    /// `OutsideTraffic`.
    #[serde(
        rename = "OutsideTraffic",
        default,
        deserialize_with = "lenient::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub outside_traffic: Option<u64>,
    /// `TurnInRate`.
    #[serde(
        rename = "TurnInRate",
        default,
        deserialize_with = "lenient::opt_f64",
        skip_serializing_if = "Option::is_none"
    )]
    pub turn_in_rate: Option<f64>,
    /// `SalesConversion`.
    #[serde(
        rename = "SalesConversion",
        default,
        deserialize_with = "lenient::opt_f64",
        skip_serializing_if = "Option::is_none"
    )]
    pub sales_conversion: Option<f64>,
    /// `VerificationStatus`.
    #[serde(
        rename = "VerificationStatus",
        default,
        deserialize_with = "lenient::opt_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub verification_status: Option<String>,
    /// `BranchId`.
    #[serde(
        rename = "BranchId",
        default,
        deserialize_with = "lenient::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub branch_id: Option<u64>,
    /// `branchCode`.
    #[serde(
        rename = "branchCode",
        default,
        deserialize_with = "lenient::opt_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub branch_code: Option<String>,
    /// `Longitude`.
    #[serde(
        rename = "Longitude",
        default,
        deserialize_with = "lenient::opt_f64",
        skip_serializing_if = "Option::is_none"
    )]
    pub longitude: Option<f64>,
    /// `Latitude`.
    #[serde(
        rename = "Latitude",
        default,
        deserialize_with = "lenient::opt_f64",
        skip_serializing_if = "Option::is_none"
    )]
    pub latitude: Option<f64>,
    /// `CameraSerial`.
    #[serde(
        rename = "CameraSerial",
        default,
        deserialize_with = "lenient::opt_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub camera_serial: Option<String>,
    /// `CameraId`.
    #[serde(
        rename = "CameraId",
        default,
        deserialize_with = "lenient::opt_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub camera_id: Option<String>,
    /// `CoverageDays`.
    #[serde(
        rename = "CoverageDays",
        default,
        deserialize_with = "lenient::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub coverage_days: Option<u64>,
    /// `StartOfDate`.
    #[serde(
        rename = "StartOfDate",
        default,
        deserialize_with = "lenient::opt_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub start_of_date: Option<String>,
    /// `ReturningRate`.
    #[serde(
        rename = "ReturningRate",
        default,
        deserialize_with = "lenient::opt_f64",
        skip_serializing_if = "Option::is_none"
    )]
    pub returning_rate: Option<f64>,
    /// Keys this SDK does not know, kept as sent.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// Why an [`ExportRow`] could not become a [`CountRecord`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExportRowError {
    /// A field the record needs is absent; ask for a level/period that carries it.
    #[error("row lacks {0}")]
    Missing(&'static str),
    /// A field has a value the record cannot use.
    #[error("{field} = {value:?}: {reason}")]
    Bad {
        /// The field's wire name.
        field: &'static str,
        /// The value found.
        value: String,
        /// Why it is unusable.
        reason: &'static str,
    },
}

impl ExportRow {
    /// The bucket start in site-local wall-clock time: `ValueDateTime` (ISO,
    /// `YYYY-MM-DDTHH:MM:SS`) when present, else `DateTime` read with the request's
    /// patterns.
    pub fn local_start(&self, date: &Pattern, time: &Pattern) -> Result<NaiveDateTime, ExportRowError> {
        if let Some(v) = self.value_date_time.as_deref() {
            for f in [
                "%Y-%m-%dT%H:%M:%S%.f",
                "%Y-%m-%d %H:%M:%S%.f",
                "%Y-%m-%dT%H:%M:%S%.fZ",
            ] {
                if let Ok(dt) = NaiveDateTime::parse_from_str(v.trim(), f) {
                    return Ok(dt);
                }
            }
        }
        let text = self
            .date_time
            .as_deref()
            .ok_or(ExportRowError::Missing("DateTime"))?;
        datefmt::parse_local(text, None, date, time).ok_or_else(|| ExportRowError::Bad {
            field: "DateTime",
            value: text.to_owned(),
            reason: "not a date-time in the request's dateformat and timeformat",
        })
    }

    /// The counter's serial, when the row names one.
    pub fn serial(&self) -> Result<Option<CameraSerial>, ExportRowError> {
        match self.camera_serial.as_deref() {
            None => Ok(None),
            Some(s) => CameraSerial::parse(s.trim())
                .map(Some)
                .map_err(|_| ExportRowError::Bad {
                    field: "CameraSerial",
                    value: s.to_owned(),
                    reason: "not 16 hexadecimal digits",
                }),
        }
    }

    /// The row as a normalized record: the subject from `level` (`BranchId` or
    /// `CameraSerial`), the bucket from `period` aligned in `zone`.
    pub fn to_record(
        &self,
        level: Level,
        period: Period,
        zone: Zone,
        date: &Pattern,
        time: &Pattern,
    ) -> Result<CountRecord, ExportRowError> {
        let subject = match level {
            Level::Site => {
                let id = self.branch_id.ok_or(ExportRowError::Missing("BranchId"))?;
                Subject::Site(SiteId(u32::try_from(id).map_err(|_| ExportRowError::Bad {
                    field: "BranchId",
                    value: id.to_string(),
                    reason: "larger than a site id",
                })?))
            }
            Level::Counter => {
                Subject::Counter(self.serial()?.ok_or(ExportRowError::Missing("CameraSerial"))?)
            }
        };
        let local = self.local_start(date, time)?;
        let resolution = period.resolution();
        let local_secs = ffc_core::time::naive_to_seconds(local);
        let start = zone.local_to_utc(local_secs);
        let aligned = resolution.bucket_start(start, &zone);
        if aligned != start {
            return Err(ExportRowError::Bad {
                field: "DateTime",
                value: local.to_string(),
                reason: "not the start of an hour or day",
            });
        }
        let end = resolution.next_start(start, &zone);
        Ok(CountRecord {
            subject,
            start,
            length: u32::try_from(end - start).unwrap_or(u32::MAX),
            offset: zone.offset_at(start),
            count_in: self.value_in.ok_or(ExportRowError::Missing("ValueIn"))?,
            count_out: self.value_out.ok_or(ExportRowError::Missing("ValueOut"))?,
            outside: self.outside_traffic,
            source: Source::ServerApi,
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    /// spec §2, the published `infoJson`.
    const SAMPLE_INFO: &str = r#"{"cat":"1","id":["26509"],"data":[],"fromdate":"dd/MM/yyyy","todate":"dd/MM/yyyy","period":"0","dateformat":"dd/MM/yyyy","timeformat":"HH:mm:ss"}"#;

    #[test]
    fn published_info_json_decodes_and_round_trips() {
        let info = InfoJson::from_json(SAMPLE_INFO).unwrap();
        assert_eq!(info.level, Level::Site);
        assert_eq!(info.ids, ["26509"]);
        assert_eq!(info.period, Period::Hourly);
        assert_eq!(info.date_format, "dd/MM/yyyy");
        // The published dates are placeholders: range() says so instead of guessing.
        assert!(matches!(info.range(), Err(DecodeError::Invalid(_))));
        let back: Value = serde_json::from_str(&info.to_json()).unwrap();
        let orig: Value = serde_json::from_str(SAMPLE_INFO).unwrap();
        assert_eq!(back, orig);
        assert!(InfoJson::from_json(&SAMPLE_INFO.replace(r#""cat":"1""#, r#""cat":"7""#)).is_err());
    }

    #[test]
    fn info_json_dates_and_chunks() {
        let (d, t) = (datefmt::default_date(), datefmt::default_time());
        let from = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
        let to = NaiveDate::from_ymd_opt(2024, 3, 15).unwrap();
        let info = InfoJson::new(Level::Counter, ["1", "2"], Period::Daily, from, to, &d, &t);
        assert_eq!(info.from_date, "01/01/2024");
        assert_eq!(info.range().unwrap(), (from, to));
        let chunks = info.chunks(30).unwrap();
        assert_eq!(chunks.len(), 3);
        assert_eq!(chunks[0].to_date, "30/01/2024");
        assert_eq!(chunks[1].from_date, "31/01/2024");
        assert_eq!(chunks[2].to_date, "15/03/2024");
    }

    /// Every key of the published row list, with strings where numbers could be.
    #[test]
    fn every_published_row_key_decodes_and_unknown_keys_stay() {
        let body = br#"{"Data":[{"AvgVisitDuration":"12.5","NewCustomer":3,"ReturningCustomer":"4","LessThanFifteen":1,
        "LessThanThirty":2,"OverThirty":0,"ReturnInWeek":1,"AggregationStatus":1,"ZoneID":null,"Week":"2","WeekString":"W2",
        "Month":"Jan","SiteTags":"mall","SiteTagsCount":1,"Day":"Mon","TransactionCount":"7","SalesAmount":"123.40",
        "AvgTransactionValue":17.63,"Company":"ACME","Site":"Main St","Counter":"Door","DateTime":"08/01/2024 10:00:00",
        "ValueDateTime":"2024-01-08T10:00:00","DateTimeFormat":"dd/MM/yyyy HH:mm:ss","ValueIn":"42","ValueOut":40,
        "OutsideTraffic":300,"TurnInRate":"14%","SalesConversion":0.16,"VerificationStatus":"Verified","BranchId":30273,
        "branchCode":"S01","Longitude":"101.7","Latitude":3.1,"CameraSerial":"000000006afce315","CameraId":77,
        "CoverageDays":"","StartOfDate":"2024-01-08","ReturningRate":0.5,"Brand":"new"}]}"#;
        let rows = decode_export(body).unwrap();
        let r = &rows[0];
        assert_eq!(r.value_in, Some(42));
        assert_eq!(r.value_out, Some(40));
        assert_eq!(r.turn_in_rate, Some(14.0));
        assert_eq!(r.sales_amount, Some(123.4));
        assert_eq!(r.coverage_days, None);
        assert_eq!(r.zone_id, None);
        assert_eq!(r.camera_id.as_deref(), Some("77"));
        assert_eq!(r.extra.get("Brand"), Some(&Value::from("new")));
        let (d, t) = (datefmt::default_date(), datefmt::default_time());
        let rec = r
            .to_record(Level::Site, Period::Hourly, Zone::UTC, &d, &t)
            .unwrap();
        assert_eq!(rec.subject, Subject::Site(SiteId(30273)));
        assert_eq!(rec.start, 1_704_708_000);
        assert_eq!(
            (rec.count_in, rec.count_out, rec.outside),
            (42, 40, Some(300))
        );
        let rec = r
            .to_record(Level::Counter, Period::Hourly, Zone::UTC, &d, &t)
            .unwrap();
        assert_eq!(
            rec.subject,
            Subject::Counter(CameraSerial::from_u64(0x6afc_e315))
        );
        // Round trip through the simulator's encoder keeps everything, unknown keys too.
        let again = decode_export(&encode_export(&rows)).unwrap();
        assert_eq!(again, rows);
    }

    #[test]
    fn bad_rows_name_the_row_and_field() {
        let err = decode_export(br#"{"Data":[{"ValueIn":1},{"ValueIn":"many"}]}"#).unwrap_err();
        match err {
            DecodeError::Row { row, reason } => {
                assert_eq!(row, 1);
                assert!(reason.contains("many"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            decode_export(br#"{"Data":[1]}"#),
            Err(DecodeError::Row { row: 0, .. })
        ));
        assert!(matches!(
            decode_export(br#"{"ValueIn":-1}"#),
            Err(DecodeError::Missing("Data"))
        ));
        assert!(matches!(
            decode_export(br#"{"Data":[{"ValueOut":-3}]}"#),
            Err(DecodeError::Row { .. })
        ));
        assert_eq!(
            decode_export(br#"{"message":"token expired"}"#),
            Err(DecodeError::Server("token expired".into()))
        );
        let r = decode_row(
            br#"{"DateTime":"31/02/2024 10:00:00","ValueIn":1,"ValueOut":1,"BranchId":1}"#,
        )
        .unwrap();
        let (d, t) = (datefmt::default_date(), datefmt::default_time());
        assert!(matches!(
            r.to_record(Level::Site, Period::Hourly, Zone::UTC, &d, &t),
            Err(ExportRowError::Bad {
                field: "DateTime",
                ..
            })
        ));
    }

    proptest::proptest! {
        #[test]
        /// The fuzz target's entry points (fuzz/fuzz_targets/export_row.rs), on stable.
        fn decode_never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            let (d, t) = (datefmt::default_date(), datefmt::default_time());
            if let Ok(row) = decode_row(&bytes) {
                let _ = row.to_record(Level::Site, Period::Daily, Zone::UTC, &d, &t);
                let _ = row.to_record(Level::Counter, Period::Hourly, Zone::UTC, &d, &t);
            }
            let _ = decode_export(&bytes);
            let _ = crate::v9::cube::decode_load(crate::v9::cube::Cube::SiteSummary, &bytes);
            let _ = crate::v9::cube::CubeQuery::from_body(&bytes);
            let _ = crate::v9::token::decode_token(&bytes);
            let _ = crate::v9::sales::decode_import(&bytes);
            let _ = crate::v9::sales::decode_rows(&bytes);
        }

        #[test]
        /// Rows that look like the server's, with any values, never panic either.
        fn json_rows_never_panic(
            value_in in "[0-9a-z\\-\\. ]{0,6}",
            when in "[0-9/: T-]{0,22}",
            serial in "[0-9a-fA-Fx]{0,17}",
        ) {
            let body = serde_json::json!({"Data": [{"ValueIn": value_in, "ValueOut": 1, "DateTime": when,
                "ValueDateTime": when, "CameraSerial": serial, "BranchId": 3}]});
            let bytes = serde_json::to_vec(&body).unwrap();
            let (d, t) = (datefmt::default_date(), datefmt::default_time());
            if let Ok(rows) = decode_export(&bytes) {
                for r in rows {
                    let _ = r.to_record(Level::Counter, Period::Hourly, Zone::UTC, &d, &t);
                }
            }
        }
    }
}
