//! One row of `exportData`: every known field optional, unknown fields kept, and its
//! reading as an ffc-core record.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use ffc_core::{CameraSerial, CountRecord, SiteId, Source, Subject, Zone};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Level, Period};
use crate::datefmt::{self, Pattern};
use crate::v9::lenient;

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
    pub fn local_start(
        &self,
        date: &Pattern,
        time: &Pattern,
    ) -> Result<NaiveDateTime, ExportRowError> {
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
                Subject::Site(SiteId(u32::try_from(id).map_err(|_| {
                    ExportRowError::Bad {
                        field: "BranchId",
                        value: id.to_string(),
                        reason: "larger than a site id",
                    }
                })?))
            }
            Level::Counter => Subject::Counter(
                self.serial()?
                    .ok_or(ExportRowError::Missing("CameraSerial"))?,
            ),
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
