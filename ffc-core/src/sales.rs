//! One sales row, typed all the way: the row `ffc-sales` produces from a validated sales
//! file is the row `ffc-client` uploads to the V9 sales import API
//! (`POST /v9/api/Import/Sales`). It lives here, below both, so neither depends on the
//! other and nothing is printed and parsed back between them.
//!
//! With the `serde` feature the row serialises to the V9 wire form:
//!
//! ```
//! # #[cfg(feature = "serde")] {
//! use ffc_core::sales::SalesRow;
//! let at = chrono::NaiveDate::from_ymd_opt(2024, 6, 1)
//!     .and_then(|d| d.and_hms_opt(10, 0, 0))
//!     .ok_or("date")?;
//! let row = SalesRow::new("S001", at, 3, 1_550);
//! let wire = serde_json::to_value(&row)?;
//! assert_eq!(wire["TransactionDate"], "2024-06-01 10:00:00");
//! assert_eq!(wire["TotalTransactionAmount"], 15.5);
//! assert!(wire["UnitPerTransaction"].is_null());
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use alloc::string::String;

use chrono::{NaiveDate, NaiveDateTime};

/// One sales row: a site's transactions at one site-local time (for ffc-sales' output, the
/// start of a local hour).
#[derive(Debug, Clone, PartialEq)]
pub struct SalesRow {
    /// `SiteCode`: the site's code in Analytic Manager (the sales file's `StoreCode`).
    pub site_code: String,
    /// `TransactionDate`: site-local wall-clock time, `YYYY-MM-DD HH:mm:ss` on the wire.
    pub transaction_date: NaiveDateTime,
    /// `TotalTransactionQuantity`.
    pub quantity: u64,
    /// `TotalTransactionAmount` in integer cents (hundredths); a decimal with at most two
    /// places on the wire. Signed because the wire carries refunds as negative amounts.
    pub amount_cents: i64,
    /// `UnitPerTransaction`, when known. The sales CSV has no unit counts, so rows from
    /// ffc-sales carry `None` (sent as `null`, unknown) rather than a made-up 0.
    pub units_per_transaction: Option<f64>,
}

impl SalesRow {
    /// A row without a units-per-transaction figure.
    pub fn new(
        site_code: impl Into<String>,
        transaction_date: NaiveDateTime,
        quantity: u64,
        amount_cents: i64,
    ) -> Self {
        SalesRow {
            site_code: site_code.into(),
            transaction_date,
            quantity,
            amount_cents,
            units_per_transaction: None,
        }
    }

    /// The (site, local day) this row replaces on the server: the import API replaces a
    /// site's whole day when any row of it arrives.
    pub fn day(&self) -> (String, NaiveDate) {
        (self.site_code.clone(), self.transaction_date.date())
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for SalesRow {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("SalesRow", 5)?;
        st.serialize_field("SiteCode", &self.site_code)?;
        st.serialize_field(
            "TransactionDate",
            &Wire(crate::time::Format::DateTime.display(self.transaction_date)),
        )?;
        st.serialize_field("TotalTransactionQuantity", &self.quantity)?;
        // The wire takes a decimal number. Exact for every amount below 2^53 cents: the
        // shortest round-trip form of the nearest double is the decimal itself.
        #[allow(clippy::cast_precision_loss)]
        let amount = self.amount_cents as f64 / 100.0;
        st.serialize_field("TotalTransactionAmount", &amount)?;
        st.serialize_field("UnitPerTransaction", &self.units_per_transaction)?;
        st.end()
    }
}

/// Serialises a `Display` as a string without allocating.
#[cfg(feature = "serde")]
struct Wire<D>(D);

#[cfg(feature = "serde")]
impl<D: core::fmt::Display> serde::Serialize for Wire<D> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}
