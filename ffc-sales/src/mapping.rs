//! Header mapping: which column of the file holds which required field.
//!
//! FootfallCam's import lets the user drag the file's own headers onto the four required
//! fields. [`HeaderMapping`] does the same: an explicit map from field to header, and for
//! every field the map leaves out, a case-insensitive match of the field's own name.
//!
//! ```
//! use ffc_sales::{HeaderMapping, SalesField};
//! let mapping = HeaderMapping::by_name()
//!     .map(SalesField::StoreCode, "Branch")
//!     .map(SalesField::TotalTransactionValue, "Net Sales");
//! let columns = mapping.resolve(["Branch", "datetime", "TOTALTRANSACTIONQTY", "Net Sales"])?;
//! assert_eq!(columns.index(SalesField::TotalTransactionValue), 3);
//! # Ok::<(), Vec<ffc_sales::HeaderProblem>>(())
//! ```

use crate::error::HeaderProblem;
pub use crate::field::SalesField;

/// How the file's headers map onto the required fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeaderMapping {
    explicit: Vec<(SalesField, String)>,
}

/// Where each required field is in a file: 0-based column indexes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Columns {
    index: [usize; 4],
}

impl Columns {
    /// The template's own layout: the four fields in their order, columns 0 to 3.
    pub const TEMPLATE: Columns = Columns {
        index: [0, 1, 2, 3],
    };

    /// The 0-based column of a field.
    pub fn index(&self, field: SalesField) -> usize {
        self.index[field.slot()]
    }

    /// How many fields a row needs so every mapped column is present.
    pub fn needed(&self) -> usize {
        self.index.iter().copied().max().unwrap_or(0) + 1
    }
}

/// Header text as compared: a leading UTF-8 byte-order mark and surrounding whitespace
/// removed.
fn clean(header: &str) -> &str {
    header.trim_start_matches('\u{feff}').trim()
}

impl HeaderMapping {
    /// Every field found by a case-insensitive match of its own name.
    pub fn by_name() -> Self {
        HeaderMapping::default()
    }

    /// Takes `field` from the column headed `header` (compared case-insensitively, with
    /// surrounding whitespace ignored). A later map of the same field replaces an earlier one.
    #[must_use]
    pub fn map(mut self, field: SalesField, header: impl Into<String>) -> Self {
        self.explicit.retain(|(f, _)| *f != field);
        self.explicit.push((field, header.into()));
        self
    }

    /// Finds each field's column in a header row, or says every problem at once.
    pub fn resolve<I, S>(&self, headers: I) -> Result<Columns, Vec<HeaderProblem>>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let headers: Vec<String> = headers
            .into_iter()
            .map(|h| clean(h.as_ref()).to_owned())
            .collect();
        let mut index = [0usize; 4];
        let mut problems = Vec::new();
        for field in SalesField::ALL {
            let explicit = self.explicit.iter().find(|(f, _)| *f == field);
            let wanted = explicit.map_or(field.name(), |(_, h)| clean(h));
            let mut found = headers
                .iter()
                .enumerate()
                .filter(|(_, h)| h.eq_ignore_ascii_case(wanted))
                .map(|(i, _)| i);
            match (found.next(), found.next()) {
                (Some(i), None) => index[field.slot()] = i,
                (Some(a), Some(b)) => problems.push(HeaderProblem::AmbiguousField {
                    field,
                    columns: [column_number(a), column_number(b)],
                }),
                (None, _) => problems.push(match explicit {
                    Some((_, header)) => HeaderProblem::MappedHeaderAbsent {
                        field,
                        header: header.clone(),
                    },
                    None => HeaderProblem::MissingField { field },
                }),
            }
        }
        if problems.is_empty() {
            Ok(Columns { index })
        } else {
            Err(problems)
        }
    }
}

/// A 0-based index as a 1-based column number for reports.
pub(crate) fn column_number(index: usize) -> u32 {
    u32::try_from(index).map_or(u32::MAX, |i| i.saturating_add(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_headers_resolve_in_order() {
        let c = HeaderMapping::by_name()
            .resolve([
                "StoreCode",
                "DateTime",
                "TotalTransactionQty",
                "TotalTransactionValue",
            ])
            .unwrap();
        assert_eq!(c, Columns::TEMPLATE);
        assert_eq!(c.needed(), 4);
    }

    #[test]
    fn case_bom_and_spaces_do_not_matter() {
        let c = HeaderMapping::by_name()
            .resolve([
                "\u{feff}storecode",
                " Extra ",
                "DATETIME",
                "totaltransactionvalue",
                "TotalTransactionQTY ",
            ])
            .unwrap();
        assert_eq!(c.index(SalesField::StoreCode), 0);
        assert_eq!(c.index(SalesField::DateTime), 2);
        assert_eq!(c.index(SalesField::TotalTransactionQty), 4);
        assert_eq!(c.index(SalesField::TotalTransactionValue), 3);
        assert_eq!(c.needed(), 5);
    }

    #[test]
    fn missing_fields_are_named_all_at_once() {
        let err = HeaderMapping::by_name()
            .resolve(["StoreCode", "Amount"])
            .unwrap_err();
        assert_eq!(
            err,
            vec![
                HeaderProblem::MissingField {
                    field: SalesField::DateTime
                },
                HeaderProblem::MissingField {
                    field: SalesField::TotalTransactionQty
                },
                HeaderProblem::MissingField {
                    field: SalesField::TotalTransactionValue
                },
            ]
        );
        let text: Vec<String> = err.iter().map(ToString::to_string).collect();
        assert!(text[0].contains("DateTime"));
    }

    #[test]
    fn explicit_map_wins_and_reports_absent_headers() {
        let m = HeaderMapping::by_name()
            .map(SalesField::StoreCode, "Shop")
            .map(SalesField::StoreCode, "Branch");
        let err = m
            .resolve([
                "Shop",
                "DateTime",
                "TotalTransactionQty",
                "TotalTransactionValue",
            ])
            .unwrap_err();
        assert_eq!(
            err,
            vec![HeaderProblem::MappedHeaderAbsent {
                field: SalesField::StoreCode,
                header: "Branch".into()
            }]
        );
    }

    #[test]
    fn two_matching_columns_are_ambiguous() {
        let err = HeaderMapping::by_name()
            .resolve([
                "StoreCode",
                "storecode",
                "DateTime",
                "TotalTransactionQty",
                "TotalTransactionValue",
            ])
            .unwrap_err();
        assert_eq!(
            err,
            vec![HeaderProblem::AmbiguousField {
                field: SalesField::StoreCode,
                columns: [1, 2]
            }]
        );
    }
}
