//! Sales conversion: hourly sales joined with footfall per store, per hour and per day,
//! giving conversion rate and ATV by the KPI rules of [`ffc_core::kpi`].
//!
//! Footfall comes from any ffc-core series: a counter's [`Series`] (a bucket present is data,
//! an absent one is not) or a branch's [`BranchSeries`] (each bucket carries its
//! [`Completeness`]). The caller maps each store code to its footfall. Both must be hourly.
//!
//! A rate is only computed from whole footfall: an hour with sales but no footfall bucket,
//! or with partial footfall, is flagged and its conversion rate is `None`, never a number
//! computed as if the footfall were complete. A day's rate needs every operating hour whole.
//! Rates are also `None` (not 0, not NaN) when their denominator is 0.
//!
//! ```
//! use std::collections::HashMap;
//! use ffc_core::aggregate::{Counts, Series};
//! use ffc_core::kpi::OperatingHours;
//! use ffc_core::{Resolution, Zone};
//! use ffc_sales::conversion::{convert, HourFlag, StoreFootfall};
//! use ffc_sales::{validate_bytes, ValidationConfig};
//!
//! let file = b"StoreCode,DateTime,TotalTransactionQty,TotalTransactionValue\n\
//!              S1,01-06-2024 10:05,3,120.00\n\
//!              S1,01-06-2024 11:20,1,10.00\n";
//! let sales = validate_bytes(file, &ValidationConfig::default()).sales;
//! let mut footfall = Series::new(Resolution::Hour, Zone::UTC);
//! footfall.add_counts(1_717_236_000, &Counts { visitors_in: 12, ..Counts::default() }); // 10:00
//! let map = HashMap::from([("S1".to_owned(), StoreFootfall::series(&footfall))]);
//! let open = OperatingHours { open: 10 * 3600, close: 12 * 3600 };
//! let c = convert(&sales, &map, &open)?;
//! let ten = c.hours.iter().find(|h| h.local.to_string() == "2024-06-01 10:00:00").unwrap();
//! assert_eq!(ten.conversion_rate, Some(0.25));
//! assert_eq!(ten.atv, Some(40.0));
//! let eleven = c.hours.iter().find(|h| h.local.to_string() == "2024-06-01 11:00:00").unwrap();
//! assert_eq!(eleven.flag, Some(HourFlag::SalesWithoutFootfall));
//! assert_eq!(eleven.conversion_rate, None);
//! assert_eq!(c.days[0].conversion_rate, None); // 11:00 is an operating hour without footfall
//! # Ok::<(), ffc_sales::conversion::ConversionError>(())
//! ```

use std::collections::{BTreeMap, HashMap};

use chrono::{NaiveDate, NaiveDateTime};
use ffc_core::aggregate::{Counts, Series};
use ffc_core::kpi::{atv, conversion_rate, footfall_in, OperatingHours};
use ffc_core::rollup::{BranchSeries, Completeness};
use ffc_core::time::{seconds_to_naive, SECONDS_PER_DAY};
use ffc_core::{Resolution, UnixSeconds, Zone};
use serde::Serialize;

use crate::aggregate::{HourlySales, StoreIdx, Totals};

/// One store's footfall.
#[derive(Debug, Clone, Copy)]
pub struct StoreFootfall<'a> {
    zone: Zone,
    source: Source<'a>,
}

#[derive(Debug, Clone, Copy)]
enum Source<'a> {
    Counter(&'a Series),
    Branch(&'a BranchSeries),
}

impl<'a> StoreFootfall<'a> {
    /// A counter's series; its own zone places the sales hours.
    pub fn series(series: &'a Series) -> Self {
        StoreFootfall {
            zone: series.zone(),
            source: Source::Counter(series),
        }
    }

    /// A branch roll-up; its own zone places the sales hours.
    pub fn branch(series: &'a BranchSeries) -> Self {
        StoreFootfall {
            zone: series.zone,
            source: Source::Branch(series),
        }
    }

    fn resolution(&self) -> Resolution {
        match self.source {
            Source::Counter(s) => s.resolution(),
            Source::Branch(b) => b.resolution,
        }
    }

    /// The hour bucket starting at `start`: its counts and completeness, or `None` when the
    /// series has no bucket there.
    fn hour(&self, start: UnixSeconds) -> Option<(Counts, Completeness)> {
        match self.source {
            Source::Counter(s) => s.get(start).map(|b| {
                let c = if b.revised {
                    Completeness::Revised
                } else {
                    Completeness::Complete
                };
                (b.counts, c)
            }),
            Source::Branch(b) => {
                let i = b.buckets.binary_search_by_key(&start, |r| r.start).ok()?;
                b.buckets.get(i).map(|r| (r.counts, r.completeness.clone()))
            }
        }
    }
}

/// Why a join could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConversionError {
    /// A store's footfall is not hourly; re-bucket it to hours first
    /// (`Series::rebucket`).
    #[error("footfall of store {store} is not hourly ({resolution:?}): re-bucket it to hours")]
    NotHourly {
        /// The store.
        store: String,
        /// The footfall's resolution.
        resolution: Resolution,
    },
}

/// Why an hour's conversion rate was not computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HourFlag {
    /// Sales were made but the footfall has no bucket for the hour.
    SalesWithoutFootfall,
    /// The footfall bucket is partial (some counters did not report): its A01 is too low.
    PartialFootfall,
}

/// One store's hour: sales, footfall and the KPIs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HourConversion {
    /// The store code.
    pub store: String,
    /// Hour start (UTC).
    pub start: UnixSeconds,
    /// Hour start on the site's wall clock.
    pub local: NaiveDateTime,
    /// Transactions.
    pub transactions: u64,
    /// Amount in cents.
    pub amount_cents: u64,
    /// Visitors in (A01) of the hour, when the footfall has data for it.
    pub footfall_in: Option<u64>,
    /// How complete the footfall is; `None` when there is no bucket.
    pub completeness: Option<Completeness>,
    /// Set when the rate was withheld because of the footfall.
    pub flag: Option<HourFlag>,
    /// Transactions / A01; `None` when flagged, when there is no footfall, or when A01 is 0.
    pub conversion_rate: Option<f64>,
    /// Amount / transactions in currency units; `None` when there were no transactions.
    pub atv: Option<f64>,
}

/// One store's day.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DayConversion {
    /// The store code.
    pub store: String,
    /// Local date.
    pub date: NaiveDate,
    /// Transactions.
    pub transactions: u64,
    /// Amount in cents.
    pub amount_cents: u64,
    /// A01 over the operating hours that have footfall.
    pub footfall_in: u64,
    /// Operating hours whose footfall is missing or partial.
    pub incomplete_hours: u32,
    /// Hours with sales but no footfall bucket (any hour, open or not).
    pub hours_with_sales_without_footfall: u32,
    /// Transactions / A01 when every operating hour's footfall is whole and A01 > 0.
    pub conversion_rate: Option<f64>,
    /// Amount / transactions in currency units; `None` when there were no transactions.
    pub atv: Option<f64>,
}

/// The join of a file's sales with footfall.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Conversion {
    /// Every hour of every day that has sales, per store, in order.
    pub hours: Vec<HourConversion>,
    /// Every day that has sales, per store.
    pub days: Vec<DayConversion>,
    /// Stores with sales but no footfall in the caller's map (not joined).
    pub stores_without_footfall: Vec<String>,
}

fn cents_i64(cents: u64) -> i64 {
    i64::try_from(cents).unwrap_or(i64::MAX)
}

/// Sales per store on the UTC timeline (hour start → totals), grouped by local day.
type PerStore = BTreeMap<StoreIdx, BTreeMap<i64, BTreeMap<UnixSeconds, Totals>>>;

/// Joins sales with footfall. Every local day with sales is covered hour by hour (23 or 25
/// hours on a DST change day, following the footfall's zone); sales of a local hour land on
/// the UTC hour [`HourlySales::records`] gives it.
pub fn convert(
    sales: &HourlySales,
    footfall: &HashMap<String, StoreFootfall<'_>>,
    operating: &OperatingHours,
) -> Result<Conversion, ConversionError> {
    let mut out = Conversion::default();
    let per_store = by_local_day(sales, footfall, &mut out.stores_without_footfall)?;
    for (store, days) in &per_store {
        let name = sales.store_name(*store);
        let Some(ff) = footfall.get(name) else {
            continue;
        };
        for (&day, day_sales) in days {
            let day_row = convert_day(name, ff, day, day_sales, operating, &mut out.hours);
            out.days.push(day_row);
        }
    }
    Ok(out)
}

/// Places each store's sales hours on the UTC timeline of its footfall, grouped by local
/// day; stores without footfall are listed in `without_footfall` (once each) and left out.
fn by_local_day(
    sales: &HourlySales,
    footfall: &HashMap<String, StoreFootfall<'_>>,
    without_footfall: &mut Vec<String>,
) -> Result<PerStore, ConversionError> {
    let mut per_store = PerStore::new();
    for (store, hour_key, totals) in sales.store_hours() {
        let name = sales.store_name(store);
        let Some(ff) = footfall.get(name) else {
            if without_footfall.last().map(String::as_str) != Some(name) {
                without_footfall.push(name.to_owned());
            }
            continue;
        };
        if ff.resolution() != Resolution::Hour {
            return Err(ConversionError::NotHourly {
                store: name.to_owned(),
                resolution: ff.resolution(),
            });
        }
        let start = Resolution::Hour.bucket_start(ff.zone.local_to_utc(hour_key), &ff.zone);
        let day = hour_key.div_euclid(SECONDS_PER_DAY);
        let t = per_store
            .entry(store)
            .or_default()
            .entry(day)
            .or_default()
            .entry(start)
            .or_default();
        t.transactions = t.transactions.saturating_add(totals.transactions);
        t.amount_cents = t.amount_cents.saturating_add(totals.amount_cents);
        t.rows += totals.rows;
    }
    Ok(per_store)
}

/// One store's local day, hour by hour: pushes each hour's row onto `hours` and returns
/// the day's row.
fn convert_day(
    name: &str,
    ff: &StoreFootfall<'_>,
    day: i64,
    day_sales: &BTreeMap<UnixSeconds, Totals>,
    operating: &OperatingHours,
    hours: &mut Vec<HourConversion>,
) -> DayConversion {
    let zone = ff.zone;
    let from = zone.local_to_utc(day * SECONDS_PER_DAY);
    let to = zone.local_to_utc((day + 1) * SECONDS_PER_DAY);
    let mut day_row = DayConversion {
        store: name.to_owned(),
        date: seconds_to_naive(day * SECONDS_PER_DAY).map_or(NaiveDate::MIN, |d| d.date()),
        transactions: 0,
        amount_cents: 0,
        footfall_in: 0,
        incomplete_hours: 0,
        hours_with_sales_without_footfall: 0,
        conversion_rate: None,
        atv: None,
    };
    let mut whole_counts: Vec<(UnixSeconds, Counts)> = Vec::new();
    for start in Resolution::Hour.buckets(from, to, zone) {
        let t = day_sales.get(&start).copied().unwrap_or_default();
        let bucket = ff.hour(start);
        let has_sales = t.transactions > 0 || t.amount_cents > 0;
        // A NoData bucket of a roll-up is no footfall at all, like an absent one.
        let no_footfall = matches!(&bucket, None | Some((_, Completeness::NoData)));
        let flag = match &bucket {
            _ if no_footfall && has_sales => Some(HourFlag::SalesWithoutFootfall),
            Some((_, Completeness::Partial { .. })) => Some(HourFlag::PartialFootfall),
            _ => None,
        };
        let open = operating.is_open(start, &zone);
        match &bucket {
            Some((counts, c)) if c.is_whole() => whole_counts.push((start, *counts)),
            _ if open => day_row.incomplete_hours += 1,
            _ => {}
        }
        if flag == Some(HourFlag::SalesWithoutFootfall) {
            day_row.hours_with_sales_without_footfall += 1;
        }
        day_row.transactions = day_row.transactions.saturating_add(t.transactions);
        day_row.amount_cents = day_row.amount_cents.saturating_add(t.amount_cents);
        let a01 = bucket
            .as_ref()
            .filter(|_| !no_footfall)
            .map(|(c, _)| c.visitors_in);
        hours.push(HourConversion {
            store: name.to_owned(),
            start,
            local: seconds_to_naive(zone.local_seconds(start)).unwrap_or(NaiveDateTime::MIN),
            transactions: t.transactions,
            amount_cents: t.amount_cents,
            footfall_in: a01,
            completeness: bucket.map(|(_, c)| c),
            flag,
            conversion_rate: match (flag, a01) {
                (None, Some(a)) => conversion_rate(t.transactions, a),
                _ => None,
            },
            atv: atv(cents_i64(t.amount_cents), t.transactions),
        });
    }
    day_row.footfall_in = footfall_in(whole_counts.iter().map(|(s, c)| (*s, c)), operating, &zone);
    day_row.conversion_rate = if day_row.incomplete_hours == 0 {
        conversion_rate(day_row.transactions, day_row.footfall_in)
    } else {
        None
    };
    day_row.atv = atv(cents_i64(day_row.amount_cents), day_row.transactions);
    day_row
}
