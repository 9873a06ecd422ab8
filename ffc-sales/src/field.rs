//! The four fields a sales file must have. A leaf: the header mapping and the errors both
//! name fields, and neither depends on the other through it.

use core::fmt;

use serde::Serialize;

/// The fields a sales file must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum SalesField {
    /// The site code (must equal a Site Code in Analytic Manager).
    StoreCode,
    /// Local date and time, `DD-MM-YYYY hh:mm`.
    DateTime,
    /// Number of transactions, a whole number.
    TotalTransactionQty,
    /// Amount received, numeric with at most two decimals.
    TotalTransactionValue,
}

impl SalesField {
    /// All four, in the template's column order.
    pub const ALL: [SalesField; 4] = [
        SalesField::StoreCode,
        SalesField::DateTime,
        SalesField::TotalTransactionQty,
        SalesField::TotalTransactionValue,
    ];

    /// The header name of FootfallCam's template.
    pub const fn name(self) -> &'static str {
        match self {
            SalesField::StoreCode => "StoreCode",
            SalesField::DateTime => "DateTime",
            SalesField::TotalTransactionQty => "TotalTransactionQty",
            SalesField::TotalTransactionValue => "TotalTransactionValue",
        }
    }

    pub(crate) const fn slot(self) -> usize {
        match self {
            SalesField::StoreCode => 0,
            SalesField::DateTime => 1,
            SalesField::TotalTransactionQty => 2,
            SalesField::TotalTransactionValue => 3,
        }
    }
}

impl fmt::Display for SalesField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
