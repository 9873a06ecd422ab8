//! The simulator's data: export rows and cube rows rolled up from the configured sites'
//! hourly series, as the real server would answer them.

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveTime};
use ffc_core::aggregate::Series;
use ffc_core::rollup::{rollup_branch, BranchSpec, RolledBucket};
use ffc_core::time::{naive_to_seconds, seconds_to_naive};
use ffc_core::{CameraSerial, Resolution, UnixSeconds, Zone};
use serde_json::{Map, Value};

use super::{ServerSimConfig, SimSite};
use crate::v9::cube::{Cube, CubeQuery, Granularity, Measure, Operator};
use crate::v9::export::{ExportRow, InfoJson, Level, Period};
use crate::v9::DecodeError;

fn day_bounds(zone: Zone, from: NaiveDate, to: NaiveDate) -> (UnixSeconds, UnixSeconds) {
    let start = zone.local_to_utc(naive_to_seconds(from.and_time(NaiveTime::MIN)));
    let end = to.succ_opt().map_or(UnixSeconds::MAX / 2, |d| {
        zone.local_to_utc(naive_to_seconds(d.and_time(NaiveTime::MIN)))
    });
    (start, end)
}

fn rebucket(
    series: &BTreeMap<CameraSerial, Series>,
    resolution: Resolution,
) -> BTreeMap<CameraSerial, Series> {
    series
        .iter()
        .filter_map(|(k, s)| {
            let s = if s.resolution() == resolution {
                s.clone()
            } else {
                s.rebucket(resolution).ok()?
            };
            Some((*k, s))
        })
        .collect()
}

pub(super) fn export_rows(
    config: &ServerSimConfig,
    info: &str,
) -> Result<Vec<ExportRow>, DecodeError> {
    let info = InfoJson::from_json(info)?;
    let (date, time) = info.patterns()?;
    let (from, to) = info.range()?;
    let resolution = info.period.resolution();
    let mut rows = Vec::new();
    let stamp = |row: &mut ExportRow, start: UnixSeconds, zone: Zone| {
        let local = seconds_to_naive(zone.local_seconds(start)).unwrap_or_default();
        row.date_time = Some(match info.period {
            Period::Hourly => format!(
                "{} {}",
                date.format_datetime(local),
                time.format_datetime(local)
            ),
            Period::Daily => date.format_datetime(local),
        });
        row.value_date_time = Some(local.format("%Y-%m-%dT%H:%M:%S").to_string());
        row.date_time_format = Some(format!("{} {}", date.as_str(), time.as_str()));
    };
    for id in &info.ids {
        match info.level {
            Level::Site => {
                let site = config
                    .sites
                    .iter()
                    .find(|s| s.spec.site.0.to_string() == *id);
                if let Some(site) = site {
                    site_rows(site, (from, to), resolution, &stamp, &mut rows)?;
                }
            }
            Level::Counter => {
                if let Ok(serial) = id.parse::<CameraSerial>() {
                    for site in &config.sites {
                        counter_rows(site, serial, (from, to), resolution, &stamp, &mut rows)?;
                    }
                }
            }
        }
    }
    Ok(rows)
}

/// Writes a row's time fields in the request's formats.
type Stamp<'a> = dyn Fn(&mut ExportRow, UnixSeconds, Zone) + 'a;

/// A branch's rolled-up rows over `[from, to]` (local days).
fn site_rows(
    site: &SimSite,
    (from, to): (NaiveDate, NaiveDate),
    resolution: Resolution,
    stamp: &Stamp<'_>,
    rows: &mut Vec<ExportRow>,
) -> Result<(), DecodeError> {
    let (start, end) = day_bounds(site.zone, from, to);
    let series = rebucket(&site.counters, resolution);
    let branch = rollup_branch(&site.spec, &series, start, end, resolution, site.zone)
        .map_err(|e| DecodeError::Invalid(e.to_string()))?;
    for b in branch.buckets {
        let mut row = ExportRow {
            branch_id: Some(u64::from(site.spec.site.0)),
            site: Some(site.name.clone()),
            branch_code: Some(site.code.clone()),
            value_in: Some(b.counts.visitors_in),
            value_out: Some(b.counts.visitors_out),
            outside_traffic: b.outside,
            aggregation_status: Some(b.completeness.label().to_owned()),
            ..ExportRow::default()
        };
        stamp(&mut row, b.start, site.zone);
        rows.push(row);
    }
    Ok(())
}

/// One counter's rows over `[from, to]` (local days), if it belongs to `site`.
fn counter_rows(
    site: &SimSite,
    serial: CameraSerial,
    (from, to): (NaiveDate, NaiveDate),
    resolution: Resolution,
    stamp: &Stamp<'_>,
    rows: &mut Vec<ExportRow>,
) -> Result<(), DecodeError> {
    let Some(s) = site.counters.get(&serial) else {
        return Ok(());
    };
    let s = if s.resolution() == resolution {
        s.clone()
    } else {
        s.rebucket(resolution)
            .map_err(|e| DecodeError::Invalid(e.to_string()))?
    };
    let (start, end) = day_bounds(site.zone, from, to);
    for (at, b) in s.iter().filter(|(at, _)| *at >= start && *at < end) {
        let mut row = ExportRow {
            branch_id: Some(u64::from(site.spec.site.0)),
            site: Some(site.name.clone()),
            camera_serial: Some(serial.to_string()),
            counter: Some(format!("Counter {serial}")),
            value_in: Some(b.counts.visitors_in),
            value_out: Some(b.counts.visitors_out),
            outside_traffic: b.outside,
            ..ExportRow::default()
        };
        stamp(&mut row, at, site.zone);
        rows.push(row);
    }
    Ok(())
}

pub(super) fn load_rows(config: &ServerSimConfig, q: &CubeQuery) -> Result<Vec<Value>, String> {
    let t = q.time.ok_or("the simulator needs a time dimension")?;
    let resolution = match t.granularity {
        Granularity::Hour => Resolution::Hour,
        Granularity::Day => Resolution::Day,
        other => {
            return Err(format!(
                "the simulator serves hour and day, not {}",
                other.name()
            ))
        }
    };
    let wanted = |member: &str, value: &str| {
        q.filters
            .iter()
            .filter(|f| f.member == member)
            .all(|f| match f.operator {
                Operator::Equals => f.values.iter().any(|v| v == value),
                Operator::NotEquals => f.values.iter().all(|v| v != value),
                _ => true,
            })
    };
    let c = q.cube;
    let time_key = c.member(&format!("Time.{}", t.granularity.name()));
    let mut out = Vec::new();
    for site in &config.sites {
        let site_id = site.spec.site.0.to_string();
        if !wanted("SiteId", &site_id) {
            continue;
        }
        let (start, end) = day_bounds(site.zone, t.from, t.to);
        let series = rebucket(&site.counters, resolution);
        // A subject is the branch (site cube) or one counter as an area (area cube).
        let subjects: Vec<(Option<CameraSerial>, BranchSpec)> = match c {
            Cube::SiteSummary => vec![(None, site.spec.clone())],
            Cube::AreaSummary => site
                .spec
                .counters
                .iter()
                .filter(|s| wanted("AreaId", &s.to_string()))
                .map(|s| {
                    (
                        Some(*s),
                        BranchSpec {
                            site: site.spec.site,
                            counters: vec![*s],
                        },
                    )
                })
                .collect(),
        };
        for (area, spec) in subjects {
            let rolled = rollup_branch(&spec, &series, start, end, resolution, site.zone)
                .map_err(|e| e.to_string())?;
            for b in rolled.buckets {
                out.push(cube_row(q, &time_key, site, &site_id, area, &b));
            }
        }
    }
    if let Some(limit) = q.limit {
        out.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    }
    Ok(out)
}

/// One response row: the bucket's local time, the measures asked for and the dimensions.
fn cube_row(
    q: &CubeQuery,
    time_key: &str,
    site: &SimSite,
    site_id: &str,
    area: Option<CameraSerial>,
    b: &RolledBucket,
) -> Value {
    let c = q.cube;
    let mut row = Map::new();
    let local = seconds_to_naive(site.zone.local_seconds(b.start)).unwrap_or_default();
    row.insert(
        time_key.to_owned(),
        local.format("%Y-%m-%dT%H:%M:%S%.3f").to_string().into(),
    );
    for m in &q.measures {
        let v: Value = match m {
            Measure::A01 => b.counts.visitors_in.into(),
            Measure::A02 => b.counts.visitors_out.into(),
            Measure::A05 | Measure::A61 => b.outside.map_or(Value::Null, Value::from),
            // Cube answers measures as strings; mimic it for one of them.
            Measure::A03 => b
                .counts
                .visitors_in
                .saturating_sub(b.counts.visitors_out)
                .to_string()
                .into(),
            _ => Value::Null,
        };
        row.insert(c.member(m.code()), v);
    }
    for d in &q.dimensions {
        let v: Value = match d.as_str() {
            "SiteId" => site_id.into(),
            "SiteName" => site.name.clone().into(),
            "AreaId" => area.map_or(Value::Null, |a| a.to_string().into()),
            "AggregationStatus" => b.completeness.label().into(),
            _ => Value::Null,
        };
        row.insert(c.member(d), v);
    }
    Value::Object(row)
}
