//! `POST /v9/api/Import/Sales` (header `AToken`): a JSON array of transactions →
//! `{"done": n, "total": n}`.
//!
//! **Any transaction on a (site, date) replaces that site's whole day.** An upload that
//! carries only part of a day's transactions therefore deletes the rest on the server.
//! [`SalesBatch`] knows which (site, day)s its rows cover whole and refuses to send a
//! partial one unless told to ([`PartialDays::Send`]).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use serde_json::{json, Value};

use super::{parse_json, server_message, DecodeError};

pub use ffc_core::sales::SalesRow;

/// The row on the wire (its `Serialize` form in ffc-core: `UnitPerTransaction` is `null`
/// when unknown).
pub fn row_to_json(row: &SalesRow) -> Value {
    serde_json::to_value(row).unwrap_or(Value::Null)
}

/// Reads a row from the wire (the simulator's side), strictly: a field missing or of the
/// wrong type, a time not `YYYY-MM-DD HH:mm:ss`, or an amount with more than 2 decimals is
/// an error naming the field.
pub fn row_from_json(v: &Value) -> Result<SalesRow, String> {
    let s = |k: &str| v.get(k).and_then(Value::as_str);
    let site_code = s("SiteCode").ok_or("SiteCode missing")?.to_owned();
    let date = s("TransactionDate").ok_or("TransactionDate missing")?;
    let transaction_date = ffc_core::time::parse_datetime(date)
        .map_err(|_| format!("TransactionDate {date:?} is not YYYY-MM-DD HH:mm:ss"))?;
    let quantity = v
        .get("TotalTransactionQuantity")
        .and_then(Value::as_u64)
        .ok_or("TotalTransactionQuantity is not a whole number")?;
    let amount = v
        .get("TotalTransactionAmount")
        .and_then(Value::as_f64)
        .ok_or("TotalTransactionAmount is not a number")?;
    let cents = (amount * 100.0).round();
    if (amount * 100.0 - cents).abs() > 1e-6 || !cents.is_finite() {
        return Err(format!(
            "TotalTransactionAmount {amount} has more than 2 decimals"
        ));
    }
    // Beyond 2^53 cents an f64 no longer holds whole cents, and `as i64` would saturate
    // silently: refuse the amount instead.
    if cents.abs() > 9_007_199_254_740_992.0 {
        return Err(format!("TotalTransactionAmount {amount} is too large"));
    }
    Ok(SalesRow {
        site_code,
        transaction_date,
        quantity,
        amount_cents: cents as i64,
        units_per_transaction: v.get("UnitPerTransaction").and_then(Value::as_f64),
    })
}

/// What the rows of a batch are known to cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coverage {
    /// The caller vouches that every (site, day) the rows touch is there whole (for
    /// instance, a full export of closed days).
    WholeDays,
    /// The rows are every transaction in `[from, to)` (site-local time), no more: a day
    /// is whole only when the window contains all of it.
    Window {
        /// Start of the window (inclusive).
        from: NaiveDateTime,
        /// End of the window (exclusive).
        to: NaiveDateTime,
    },
}

/// Whether to send days that the batch holds only in part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartialDays {
    /// Refuse the upload (the default): it would delete the day's other transactions.
    Refuse,
    /// Send anyway: the caller accepts that those days are replaced by what is sent.
    Send,
}

/// Why a batch was refused before sending.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SalesUploadError {
    /// The batch touches (site, day)s it does not hold whole; sending it would replace
    /// those days with part of their transactions. Widen the window to whole days or pass
    /// [`PartialDays::Send`].
    #[error("refusing to replace {} partial (site, day)s, first {:?}", days.len(), days.first())]
    PartialDays {
        /// The partial (site code, day)s.
        days: Vec<(String, NaiveDate)>,
    },
    /// A row lies outside the batch's declared window: fix the window or the rows.
    #[error("row {row} ({at}) lies outside the window")]
    OutsideWindow {
        /// Index of the row.
        row: usize,
        /// Its time.
        at: NaiveDateTime,
    },
    /// A row without a site code.
    #[error("row {row} has an empty SiteCode")]
    EmptySite {
        /// Index of the row.
        row: usize,
    },
}

#[cfg(feature = "sales")]
impl SalesBatch {
    /// One upload of ffc-sales' validated batches ([`ffc_sales::Import::batches`]). Each
    /// [`ffc_sales::DayBatch`] is every row the file holds for its (site, day) — a day with
    /// an invalid row is withheld by ffc-sales, never sent in part — so the batch covers
    /// whole days ([`Coverage::WholeDays`]).
    pub fn from_day_batches<'a>(
        batches: impl IntoIterator<Item = &'a ffc_sales::DayBatch>,
    ) -> Result<Self, SalesUploadError> {
        let rows = batches
            .into_iter()
            .flat_map(|b| b.rows.iter().cloned())
            .collect();
        SalesBatch::new(rows, Coverage::WholeDays)
    }
}

/// Rows to upload, with what they cover.
#[derive(Debug, Clone, PartialEq)]
pub struct SalesBatch {
    rows: Vec<SalesRow>,
    partial: BTreeSet<(String, NaiveDate)>,
    days: BTreeSet<(String, NaiveDate)>,
}

impl SalesBatch {
    /// Checks the rows against `coverage` and finds the (site, day)s held only in part.
    pub fn new(rows: Vec<SalesRow>, coverage: Coverage) -> Result<Self, SalesUploadError> {
        let mut days = BTreeSet::new();
        let mut partial = BTreeSet::new();
        for (i, r) in rows.iter().enumerate() {
            if r.site_code.trim().is_empty() {
                return Err(SalesUploadError::EmptySite { row: i });
            }
            if let Coverage::Window { from, to } = coverage {
                if r.transaction_date < from || r.transaction_date >= to {
                    return Err(SalesUploadError::OutsideWindow {
                        row: i,
                        at: r.transaction_date,
                    });
                }
                let day = r.transaction_date.date();
                let start = day.and_time(NaiveTime::MIN);
                let whole = from <= start
                    && day
                        .succ_opt()
                        .is_some_and(|next| to >= next.and_time(NaiveTime::MIN));
                if !whole {
                    partial.insert(r.day());
                }
            }
            days.insert(r.day());
        }
        Ok(SalesBatch {
            rows,
            partial,
            days,
        })
    }

    /// The rows.
    pub fn rows(&self) -> &[SalesRow] {
        &self.rows
    }

    /// Every (site, day) the upload replaces.
    pub fn days(&self) -> impl Iterator<Item = &(String, NaiveDate)> {
        self.days.iter()
    }

    /// The (site, day)s held only in part.
    pub fn partial_days(&self) -> Vec<(String, NaiveDate)> {
        self.partial.iter().cloned().collect()
    }

    /// The request body, if `policy` allows sending this batch.
    pub fn to_body(&self, policy: PartialDays) -> Result<Vec<u8>, SalesUploadError> {
        if policy == PartialDays::Refuse && !self.partial.is_empty() {
            return Err(SalesUploadError::PartialDays {
                days: self.partial_days(),
            });
        }
        let rows: Vec<Value> = self.rows.iter().map(row_to_json).collect();
        Ok(serde_json::to_vec(&rows).unwrap_or_default())
    }
}

/// `{"done": n, "total": n}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportResult {
    /// Rows the server imported.
    pub done: u64,
    /// Rows the server received.
    pub total: u64,
}

/// Reads the import response.
pub fn decode_import(body: &[u8]) -> Result<ImportResult, DecodeError> {
    let v = parse_json(body)?;
    let num = |k: &'static str| {
        v.get(k)
            .and_then(Value::as_u64)
            .ok_or(DecodeError::Missing(k))
    };
    match (num("done"), num("total")) {
        (Ok(done), Ok(total)) => Ok(ImportResult { done, total }),
        (Err(e), _) | (_, Err(e)) => Err(server_message(body).map_or(e, DecodeError::Server)),
    }
}

/// The import response (the simulator's side).
pub fn encode_import(r: ImportResult) -> Vec<u8> {
    serde_json::to_vec(&json!({"done": r.done, "total": r.total})).unwrap_or_default()
}

/// Reads a request body into rows (the simulator's side); errors name the row.
pub fn decode_rows(body: &[u8]) -> Result<Vec<SalesRow>, DecodeError> {
    let v = parse_json(body)?;
    let arr = v.as_array().ok_or(DecodeError::Missing("array of rows"))?;
    arr.iter()
        .enumerate()
        .map(|(row, r)| row_from_json(r).map_err(|reason| DecodeError::Row { row, reason }))
        .collect()
}

/// Groups rows by (site, day): what the server replaces.
pub fn by_day(rows: Vec<SalesRow>) -> BTreeMap<(String, NaiveDate), Vec<SalesRow>> {
    let mut out: BTreeMap<_, Vec<_>> = BTreeMap::new();
    for r in rows {
        out.entry(r.day()).or_default().push(r);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(d: u32, h: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2024, 5, d)
            .unwrap()
            .and_hms_opt(h, 0, 0)
            .unwrap()
    }

    fn row(site: &str, d: u32, h: u32) -> SalesRow {
        SalesRow {
            site_code: site.into(),
            transaction_date: at(d, h),
            quantity: 2,
            amount_cents: 1999,
            units_per_transaction: None,
        }
    }

    #[test]
    fn published_shapes_decode() {
        let body = br#"[{"SiteCode":"S01","TransactionDate":"2024-05-01 10:00:00","TotalTransactionQuantity":3,"TotalTransactionAmount":45.5,"UnitPerTransaction":1.5}]"#;
        let rows = decode_rows(body).unwrap();
        assert_eq!(rows[0].amount_cents, 4550);
        assert_eq!(rows[0].units_per_transaction, Some(1.5));
        assert_eq!(row_from_json(&row_to_json(&rows[0])).unwrap(), rows[0]);
        assert_eq!(
            decode_import(br#"{"done": 5, "total": 5}"#).unwrap(),
            ImportResult { done: 5, total: 5 }
        );
        assert_eq!(
            decode_import(br#"{"message":"bad token"}"#),
            Err(DecodeError::Server("bad token".into()))
        );
        assert!(matches!(
            decode_rows(br#"[{"SiteCode":"S","TransactionDate":"2024-05-01 10:00:00","TotalTransactionQuantity":1,"TotalTransactionAmount":1.005}]"#),
            Err(DecodeError::Row { row: 0, .. })
        ));
    }

    #[test]
    fn partial_day_is_refused_unless_told() {
        // An hourly feed from 10:00 to 14:00 on the 1st holds that day only in part.
        let rows = vec![row("S01", 1, 10), row("S01", 1, 13)];
        let batch = SalesBatch::new(
            rows,
            Coverage::Window {
                from: at(1, 10),
                to: at(1, 14),
            },
        )
        .unwrap();
        let err = batch.to_body(PartialDays::Refuse).unwrap_err();
        assert_eq!(
            err,
            SalesUploadError::PartialDays {
                days: vec![("S01".into(), at(1, 0).date())]
            }
        );
        assert!(batch.to_body(PartialDays::Send).is_ok());
        // Whole days within the window are fine.
        let rows = vec![row("S01", 1, 10), row("S02", 2, 9)];
        let batch = SalesBatch::new(
            rows,
            Coverage::Window {
                from: at(1, 0),
                to: at(3, 0),
            },
        )
        .unwrap();
        assert!(batch.partial_days().is_empty());
        assert!(batch.to_body(PartialDays::Refuse).is_ok());
        // Rows outside the declared window are an error, not silently sent.
        assert_eq!(
            SalesBatch::new(
                vec![row("S01", 4, 1)],
                Coverage::Window {
                    from: at(1, 0),
                    to: at(3, 0)
                }
            ),
            Err(SalesUploadError::OutsideWindow {
                row: 0,
                at: at(4, 1)
            })
        );
        assert_eq!(
            SalesBatch::new(vec![row(" ", 1, 1)], Coverage::WholeDays),
            Err(SalesUploadError::EmptySite { row: 0 })
        );
    }

    /// A validated sales CSV goes through ffc-sales' batches into one upload: the rows on
    /// the wire are ffc-sales' hourly sums, the (site, day)s are exactly its batches', and
    /// a day with an invalid row is not among them.
    #[cfg(feature = "sales")]
    #[test]
    fn ffc_sales_batches_become_one_upload() {
        let csv = "StoreCode,DateTime,TotalTransactionQty,TotalTransactionValue\n\
                   S01,01-05-2024 10:05,2,10.50\n\
                   S01,01-05-2024 10:40,1,4.25\n\
                   S01,02-05-2024 09:00,3,30\n\
                   S02,01-05-2024 11:00,x,1\n\
                   S02,01-05-2024 12:00,1,1\n";
        let import =
            ffc_sales::validate_bytes(csv.as_bytes(), &ffc_sales::ValidationConfig::default())
                .import("f.csv", ffc_sales::ImportMode::ValidRowsOnly);
        let batch = SalesBatch::from_day_batches(&import.batches).unwrap();
        let days: Vec<_> = batch.days().cloned().collect();
        assert_eq!(
            days,
            vec![
                ("S01".into(), at(1, 0).date()),
                ("S01".into(), at(2, 0).date())
            ]
        );
        assert_eq!(batch.rows()[0].transaction_date, at(1, 10));
        assert_eq!(batch.rows()[0].quantity, 3);
        assert_eq!(batch.rows()[0].amount_cents, 1475);
        assert_eq!(batch.rows()[1].amount_cents, 3000);
        assert!(batch.partial_days().is_empty());
        // The wire rows read back equal (what the server simulator does).
        let body = batch.to_body(PartialDays::Refuse).unwrap();
        assert_eq!(decode_rows(&body).unwrap(), batch.rows());
        // The rows sent are ffc-sales' rows themselves, typed: no text in between.
        assert_eq!(
            batch.rows(),
            &import
                .batches
                .iter()
                .flat_map(|b| b.rows.clone())
                .collect::<Vec<_>>()[..]
        );
    }

    proptest::proptest! {
        /// A batch is refused exactly when some row's day is not wholly inside the window,
        /// and the refusal names exactly those (site, day)s.
        #[test]
        fn partial_days_are_exactly_the_cut_ones(
            from_h in 0i64..96, len_h in 1i64..96,
            rows in proptest::collection::vec((0usize..2, 0i64..96), 1..20),
        ) {
            let base = at(1, 0);
            let from = base + chrono::Duration::hours(from_h);
            let to = from + chrono::Duration::hours(len_h);
            let rows: Vec<SalesRow> = rows
                .into_iter()
                .map(|(site, h)| SalesRow {
                    site_code: ["A", "B"][site].into(),
                    transaction_date: from + chrono::Duration::hours(h % len_h),
                    quantity: 1,
                    amount_cents: 100,
                    units_per_transaction: None,
                })
                .collect();
            let batch = SalesBatch::new(rows.clone(), Coverage::Window { from, to }).unwrap();
            let mut want: Vec<(String, NaiveDate)> = rows
                .iter()
                .filter(|r| {
                    let d = r.transaction_date.date();
                    let start = d.and_time(NaiveTime::MIN);
                    !(from <= start && to >= start + chrono::Duration::days(1))
                })
                .map(SalesRow::day)
                .collect();
            want.sort();
            want.dedup();
            proptest::prop_assert_eq!(batch.partial_days(), want.clone());
            proptest::prop_assert_eq!(batch.to_body(PartialDays::Refuse).is_ok(), want.is_empty());
            proptest::prop_assert!(batch.to_body(PartialDays::Send).is_ok());
        }
    }
}
