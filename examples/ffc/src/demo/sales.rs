//! Sales: a day of receipts in FootfallCam's import layout, validated by ffc-sales and
//! joined with the branches' footfall into conversion.
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use ffc_core::kpi::OperatingHours;
use ffc_core::rollup::BranchSeries;
use ffc_sales::conversion::{convert, Conversion, StoreFootfall};

use super::Day;
use crate::report::{self, ReportRow};

/// The report rows with sales and conversion, the day's conversion per store, and where
/// the sales file was written.
pub(super) struct Joined {
    pub rows: Vec<ReportRow>,
    pub day_conversion: Vec<(String, Option<f64>)>,
    pub sales_path: PathBuf,
}

/// A day of sales for stores `North` and `South` in the import layout (spec §8): a few
/// receipts per open hour, amounts with cents.
pub(super) fn sample_sales(day: &Day) -> Result<String, String> {
    let date = ffc_core::time::seconds_to_naive(day.zone.local_seconds(day.start))
        .ok_or("day out of range")?
        .date();
    let mut out = String::from("StoreCode,DateTime,TotalTransactionQty,TotalTransactionValue\n");
    for hour in 8u64..20 {
        for (i, store) in ["North", "South"].into_iter().enumerate() {
            for minute in [10u64, 40] {
                let qty = 2 + (hour * 7 + i as u64 * 5 + minute) % 6;
                let cents = qty * 1_875 + (hour * 13 + minute) % 100;
                out.push_str(&format!(
                    "{store},{} {hour:02}:{minute:02},{qty},{}.{:02}\n",
                    date.format("%d-%m-%Y"),
                    cents / 100,
                    cents % 100
                ));
            }
        }
    }
    Ok(out)
}

/// Writes the sales file to `out_dir`, validates it and joins it with `branches`.
pub(super) fn join(
    out_dir: &Path,
    sales_csv: &str,
    branches: &[(&str, BranchSeries)],
    day: &Day,
    say: &mut dyn FnMut(String),
) -> Result<Joined, String> {
    let hours = OperatingHours {
        open: 8 * 3600,
        close: 20 * 3600,
    };
    let sales_path = out_dir.join("sales.csv");
    std::fs::write(&sales_path, sales_csv).map_err(|e| format!("{}: {e}", sales_path.display()))?;
    let validation = ffc_sales::validate_bytes(
        sales_csv.as_bytes(),
        &ffc_sales::ValidationConfig::default().with_known_stores(["North", "South"]),
    );
    if !validation.is_valid() {
        return Err(format!(
            "sales: {} errors, first: {:?}",
            validation.error_count,
            validation.errors.first().map(ToString::to_string)
        ));
    }
    let footfall: HashMap<String, StoreFootfall<'_>> = branches
        .iter()
        .map(|(name, series)| ((*name).to_owned(), StoreFootfall::branch(series)))
        .collect();
    let conversion =
        convert(&validation.sales, &footfall, &hours).map_err(|e| format!("conversion: {e}"))?;
    tracing::debug!(
        rows = validation.counts.valid,
        store_hours = conversion.hours.len(),
        "sales joined with footfall"
    );
    say(format!(
        "sales: {} rows validated, {} store-hours joined with footfall",
        validation.counts.valid,
        conversion.hours.len()
    ));
    Ok(Joined {
        rows: rows(branches, &conversion, &hours, day),
        day_conversion: conversion
            .days
            .iter()
            .map(|d| (d.store.clone(), d.conversion_rate))
            .collect(),
        sales_path,
    })
}

/// The branch report's rows, each open hour with its transactions and conversion.
fn rows(
    branches: &[(&str, BranchSeries)],
    conversion: &Conversion,
    hours: &OperatingHours,
    day: &Day,
) -> Vec<ReportRow> {
    let mut rows = Vec::new();
    for (name, series) in branches {
        for mut row in report::rows(name, series, hours, day.zone) {
            if let Some(h) = conversion
                .hours
                .iter()
                .find(|h| h.store == *name && h.start == row.start_utc)
            {
                row.transactions = Some(h.transactions);
                row.conversion = h.conversion_rate;
            }
            rows.push(row);
        }
    }
    rows
}
