//! `ffc sales convert`: a sales CSV joined with footfall into conversion per store, per
//! hour or per day, with the flags of [`ffc_sales::conversion`].
//!
//! Footfall is what the other commands write: count records as `ffc device pull`,
//! `ffc server export` and `ffc bacnet read` print them (CSV or JSON lines), or counting
//! events as `ffc listen ws|mqtt --events` store them (JSON lines). Each store code is
//! mapped to its counters (`CODE=SERIAL,SERIAL`) or its site (`CODE=site:ID`). A store of
//! counters is rolled up with ffc-core, so an hour one of its counters missed is
//! `partial` and gets no conversion rate; a store without footfall is named.

use std::collections::HashMap;

use ffc_core::aggregate::{Aggregator, Series};
use ffc_core::kpi::OperatingHours;
use ffc_core::rollup::{rollup_branch, BranchSeries, BranchSpec};
use ffc_core::time::{seconds_to_naive, SECONDS_PER_DAY};
use ffc_core::{
    CameraSerial, CountEvent, CountRecord, Resolution, SiteId, Subject, UnixSeconds, Zone,
};
use ffc_sales::conversion::{convert as join, Conversion, StoreFootfall};

/// Footfall as read from a file.
#[derive(Debug, Clone, PartialEq)]
pub enum Footfall {
    /// Hourly count records of counters or sites.
    Records(Vec<CountRecord>),
    /// Counting events of counters.
    Events(Vec<CountEvent>),
}

/// A store code and the subjects whose footfall it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreMap {
    /// The store code used in the sales file.
    pub code: String,
    /// Its counters, or its one site.
    pub subjects: Vec<Subject>,
}

/// A subject as typed: a 16-hex-digit counter serial, or `site:ID` (also `site ID`, as
/// the record CSV prints it).
pub fn parse_subject(text: &str) -> Result<Subject, String> {
    let text = text.trim();
    if let Some(id) = text
        .strip_prefix("site:")
        .or_else(|| text.strip_prefix("site "))
    {
        return id
            .trim()
            .parse::<u32>()
            .map(|id| Subject::Site(SiteId(id)))
            .map_err(|_| format!("{text:?}: the site id is not a whole number"));
    }
    text.parse::<CameraSerial>()
        .map(Subject::Counter)
        .map_err(|e| format!("{text:?}: not a counter serial nor site:ID ({e})"))
}

/// `CODE=SUBJECT[,SUBJECT..]`.
pub fn parse_store(text: &str) -> Result<StoreMap, String> {
    let (code, subjects) = text.split_once('=').ok_or_else(|| {
        format!("--store {text:?}: expected CODE=SERIAL[,SERIAL] or CODE=site:ID")
    })?;
    let subjects = subjects
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(parse_subject)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("--store {text:?}: {e}"))?;
    if code.trim().is_empty() || subjects.is_empty() {
        return Err(format!("--store {text:?}: a code and at least one subject"));
    }
    let sites = subjects
        .iter()
        .filter(|s| matches!(s, Subject::Site(_)))
        .count();
    if sites > 0 && subjects.len() > 1 {
        return Err(format!(
            "--store {text:?}: a store is one site or a set of counters, not both"
        ));
    }
    Ok(StoreMap {
        code: code.trim().to_owned(),
        subjects,
    })
}

/// Reads footfall: record CSV (header [`crate::args::RECORD_HEADER`]), record JSON lines
/// (`Subject`, `ValueDateTime`, ..) or event JSON lines (`CameraSerial`, `MetricId`, ..).
/// Errors name the line.
pub fn read_footfall(bytes: &[u8]) -> Result<Footfall, String> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| format!("footfall: not UTF-8 text (byte {})", e.valid_up_to()))?;
    let first = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .ok_or("footfall: the file is empty")?;
    if first.trim_start().starts_with('{') {
        return json_lines(text, first);
    }
    record_csv(bytes)
}

/// Record or event JSON lines, told apart by the first line.
fn json_lines(text: &str, first: &str) -> Result<Footfall, String> {
    let is_event = serde_json::from_str::<serde_json::Value>(first)
        .map(|v| v.get("Subject").is_none())
        .map_err(|e| format!("footfall line 1: {e}"))?;
    let mut records = Vec::new();
    let mut events = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let at = |e: serde_json::Error| format!("footfall line {}: {e}", n + 1);
        if is_event {
            events.push(serde_json::from_str::<CountEvent>(line).map_err(at)?);
        } else {
            records.push(serde_json::from_str::<CountRecord>(line).map_err(at)?);
        }
    }
    Ok(if is_event {
        Footfall::Events(events)
    } else {
        Footfall::Records(records)
    })
}

/// Record CSV as `ffc device pull` and friends print it.
fn record_csv(bytes: &[u8]) -> Result<Footfall, String> {
    let mut reader = csv::ReaderBuilder::new().from_reader(bytes);
    let header = reader
        .headers()
        .map_err(|e| format!("footfall header: {e}"))?
        .iter()
        .collect::<Vec<_>>()
        .join(",");
    if header != crate::args::RECORD_HEADER {
        return Err(format!(
            "footfall: header {header:?} is not the record CSV's {:?}",
            crate::args::RECORD_HEADER
        ));
    }
    let mut records = Vec::new();
    for (n, row) in reader.records().enumerate() {
        let line = n + 2;
        let row = row.map_err(|e| format!("footfall line {line}: {e}"))?;
        records
            .push(crate::args::record_from_row(&row, line).map_err(|e| format!("footfall {e}"))?);
    }
    Ok(Footfall::Records(records))
}

/// The footfall per store, built from `footfall` for `stores` in `zone`.
struct Built {
    branches: Vec<(String, BranchSeries)>,
    sites: Vec<(String, Series)>,
}

/// The longest footfall span joined at once: ten years of hours per store.
const MAX_SPAN_SECONDS: i64 = 10 * 366 * SECONDS_PER_DAY;

/// The footfall as counter series (aggregated) and site series, and the span it covers.
struct Ingested {
    agg: Aggregator,
    sites: HashMap<SiteId, Series>,
    from: UnixSeconds,
    to: UnixSeconds,
}

fn ingest(footfall: &Footfall, zone: Zone) -> Result<Ingested, String> {
    let mut agg = Aggregator::new(Resolution::Hour, zone);
    let mut site_series: HashMap<SiteId, Series> = HashMap::new();
    let (mut from, mut to) = (UnixSeconds::MAX, UnixSeconds::MIN);
    match footfall {
        Footfall::Records(records) => {
            for r in records {
                from = from.min(r.start);
                // Starts are checked to lie in 1970..=9999, so adding a u32 cannot overflow.
                to = to.max(r.start.saturating_add(i64::from(r.length)));
                let series = match r.subject {
                    Subject::Counter(serial) => agg.series_mut(serial),
                    Subject::Site(site) => site_series
                        .entry(site)
                        .or_insert_with(|| Series::new(Resolution::Hour, zone)),
                };
                series.put_record(r).map_err(|e| {
                    format!(
                        "footfall record of {:?} at {}: {e} (records must be hourly)",
                        r.subject, r.start
                    )
                })?;
            }
        }
        Footfall::Events(events) => {
            for e in events {
                let end = ffc_core::time::check_unix(e.end)
                    .map_err(|err| format!("stored event of {}: end: {err}", e.serial))?;
                from = from.min(end);
                to = to.max(end.saturating_add(1));
            }
            // Every end checked: the file's events binned per counter in one pass.
            agg.ingest_all(events);
        }
    }
    Ok(Ingested {
        agg,
        sites: site_series,
        from,
        to,
    })
}

fn build(footfall: &Footfall, stores: &[StoreMap], zone: Zone) -> Result<Built, String> {
    let Ingested {
        agg,
        sites: site_series,
        from,
        to,
    } = ingest(footfall, zone)?;
    let mut built = Built {
        branches: Vec::new(),
        sites: Vec::new(),
    };
    if from > to {
        return Ok(built);
    }
    // Every store gets one bucket per hour of the span: refuse a span no sales report
    // needs rather than allocate for centuries.
    if to.saturating_sub(from) > MAX_SPAN_SECONDS {
        return Err(format!(
            "the footfall spans {} days; at most {} days are joined at once (split the file)",
            to.saturating_sub(from) / SECONDS_PER_DAY,
            MAX_SPAN_SECONDS / SECONDS_PER_DAY
        ));
    }
    // Whole local days around the footfall, so every hour of a sales day is judged.
    let day_start = |t: UnixSeconds| {
        let local = zone.local_seconds(t);
        zone.local_to_utc(local - local.rem_euclid(SECONDS_PER_DAY))
    };
    let (from, to) = (day_start(from), day_start(to - 1) + SECONDS_PER_DAY);
    for (i, store) in stores.iter().enumerate() {
        if let [Subject::Site(site)] = store.subjects.as_slice() {
            if let Some(series) = site_series.get(site) {
                built.sites.push((store.code.clone(), series.clone()));
            }
            continue;
        }
        let counters: Vec<CameraSerial> = store
            .subjects
            .iter()
            .filter_map(|s| match s {
                Subject::Counter(c) => Some(*c),
                Subject::Site(_) => None,
            })
            .collect();
        let spec = BranchSpec {
            site: SiteId(u32::try_from(i + 1).unwrap_or(u32::MAX)),
            counters,
        };
        let series = rollup_branch(&spec, agg.counters(), from, to, Resolution::Hour, zone)
            .map_err(|e| format!("store {}: {e}", store.code))?;
        built.branches.push((store.code.clone(), series));
    }
    Ok(built)
}

/// Validates `sales` (rows with errors are left out and counted) and joins them with the
/// stores' footfall. Returns the validation and the conversion.
pub fn convert(
    sales: &[u8],
    footfall: &Footfall,
    stores: &[StoreMap],
    hours: &OperatingHours,
    zone: Zone,
) -> Result<(ffc_sales::Validation, Conversion), String> {
    let validation = ffc_sales::validate_bytes(sales, &ffc_sales::ValidationConfig::default());
    if let Some(problem) = validation.header_problems.first() {
        return Err(format!("sales header: {problem}"));
    }
    let built = build(footfall, stores, zone)?;
    let mut map: HashMap<String, StoreFootfall<'_>> = HashMap::new();
    for (code, series) in &built.branches {
        map.insert(code.clone(), StoreFootfall::branch(series));
    }
    for (code, series) in &built.sites {
        map.insert(code.clone(), StoreFootfall::series(series));
    }
    let conversion = join(&validation.sales, &map, hours).map_err(|e| e.to_string())?;
    Ok((validation, conversion))
}

/// Whether `convert` prints hours or days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Per {
    /// One row per store and hour.
    Hour,
    /// One row per store and local day.
    Day,
}

fn rate(r: Option<f64>) -> String {
    r.map(|r| format!("{r:.4}")).unwrap_or_default()
}

fn money(cents: u64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// The conversion as CSV (empty cells where a rate is undefined or withheld) or JSON lines.
pub fn render(
    conversion: &Conversion,
    per: Per,
    format: crate::args::RecordFormat,
    zone: &Zone,
) -> Result<String, String> {
    use crate::args::RecordFormat;
    let mut out = String::new();
    match (per, format) {
        (Per::Hour, RecordFormat::Json) => {
            for h in &conversion.hours {
                out.push_str(&serde_json::to_string(h).map_err(|e| e.to_string())?);
                out.push('\n');
            }
        }
        (Per::Day, RecordFormat::Json) => {
            for d in &conversion.days {
                out.push_str(&serde_json::to_string(d).map_err(|e| e.to_string())?);
                out.push('\n');
            }
        }
        (Per::Hour, RecordFormat::Csv) => {
            out.push_str("store,local_hour,start_utc,transactions,amount,footfall_in,completeness,flag,conversion,atv\n");
            for h in &conversion.hours {
                let local = seconds_to_naive(zone.local_seconds(h.start))
                    .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
                    .unwrap_or_else(|| h.local.format("%Y-%m-%d %H:%M").to_string());
                let flag = h
                    .flag
                    .map(|f| match f {
                        ffc_sales::conversion::HourFlag::SalesWithoutFootfall => {
                            "sales_without_footfall"
                        }
                        ffc_sales::conversion::HourFlag::PartialFootfall => "partial_footfall",
                    })
                    .unwrap_or_default();
                out.push_str(&format!(
                    "{},{local},{},{},{},{},{},{flag},{},{}\n",
                    h.store,
                    h.start,
                    h.transactions,
                    money(h.amount_cents),
                    h.footfall_in.map(|n| n.to_string()).unwrap_or_default(),
                    h.completeness
                        .as_ref()
                        .map(|c| c.label())
                        .unwrap_or("no data"),
                    rate(h.conversion_rate),
                    rate(h.atv),
                ));
            }
        }
        (Per::Day, RecordFormat::Csv) => {
            out.push_str("store,date,transactions,amount,footfall_in,incomplete_hours,hours_with_sales_without_footfall,conversion,atv\n");
            for d in &conversion.days {
                out.push_str(&format!(
                    "{},{},{},{},{},{},{},{},{}\n",
                    d.store,
                    d.date,
                    d.transactions,
                    money(d.amount_cents),
                    d.footfall_in,
                    d.incomplete_hours,
                    d.hours_with_sales_without_footfall,
                    rate(d.conversion_rate),
                    rate(d.atv),
                ));
            }
        }
    }
    Ok(out)
}
