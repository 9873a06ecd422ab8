//! The validator's fast paths give the answers of the plain rules: the datetime shortcut
//! agrees with the chrono parse, and the duplicate index (sorted runs, the switch to the
//! hash map, rows taken back after an overflow) agrees with a naive scan.

use ffc_sales::value::{parse_datetime, parse_datetime_seconds};
use ffc_sales::{validate_bytes, Reason, ValidationConfig};
use proptest::prelude::*;

const HEADER: &str = "StoreCode,DateTime,TotalTransactionQty,TotalTransactionValue\n";

/// Every duplicate of `rows` (rendered one per line after the header) by a naive scan, as
/// (line, first line).
fn naive_duplicates<T: PartialEq>(rows: &[T]) -> Vec<(u64, u64)> {
    let mut want = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        if let Some(j) = rows[..i].iter().position(|p| p == r) {
            want.push((i as u64 + 2, j as u64 + 2));
        }
    }
    want
}

fn found_duplicates(v: &ffc_sales::Validation) -> Vec<(u64, u64)> {
    v.errors
        .iter()
        .map(|e| match e.reason {
            Reason::DuplicateRow { first_line } => (e.line, first_line),
            other => panic!("unexpected {other:?} on line {}", e.line),
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// The shortcut and the chrono parse agree on fields shaped like dates (with digits out
    /// of range), on near misses, and on arbitrary bytes.
    #[test]
    fn datetime_shortcut_agrees_with_chrono(
        day in 0u32..40, month in 0u32..14, year in 0u32..10_000,
        hour in 0u32..30, minute in 0u32..70,
        noise in proptest::collection::vec(any::<u8>(), 0..20),
        at in 0usize..16, byte in any::<u8>(),
    ) {
        let slow = |b: &[u8]| parse_datetime(b).map(ffc_core::time::naive_to_seconds);
        let text = format!("{day:02}-{month:02}-{year:04} {hour:02}:{minute:02}");
        let mut b = text.clone().into_bytes();
        prop_assert_eq!(parse_datetime_seconds(&b), slow(&b), "{}", text);
        if let Some(c) = b.get_mut(at) {
            *c = byte;
        }
        prop_assert_eq!(parse_datetime_seconds(&b), slow(&b));
        prop_assert_eq!(parse_datetime_seconds(&noise), slow(&noise));
    }

    /// Long runs in one (store, hour) (past the linear-scan limit), sorted prefixes that
    /// switch to the hash map midway, and unsorted tails: the duplicates and the lines of
    /// their first copies are those of a naive scan.
    #[test]
    fn duplicates_in_long_runs_match_a_naive_scan(
        rows in proptest::collection::vec((0u8..2, 0u8..2, 0u8..60, 0u8..3, 0u8..3), 0..400),
        sort_prefix in 0usize..400,
    ) {
        let mut rows = rows;
        let cut = sort_prefix.min(rows.len());
        rows[..cut].sort_unstable_by_key(|&(s, h, ..)| (s, h));
        let mut text = String::from(HEADER);
        for (s, h, m, q, c) in &rows {
            text.push_str(&format!("S{s},01-06-2024 {h:02}:{m:02},{q},{c}\n"));
        }
        let v = validate_bytes(text.as_bytes(), &ValidationConfig::default());
        prop_assert_eq!(found_duplicates(&v), naive_duplicates(&rows));
        prop_assert_eq!(v.counts.valid as usize + v.counts.duplicates as usize, rows.len());
    }
}

/// A row refused because the hour's total would overflow is not summed, so a later copy of
/// it is refused for the overflow again, not as a duplicate of a row that was never summed.
/// (An overflow needs over 18 000 rows in one hour, so the duplicate index has left its
/// linear runs for the hash map by then, whether the file starts in order or not.)
#[test]
fn an_overflowing_row_is_not_remembered_as_seen() {
    // 18 446 rows of 9 999 999 999 999.99 fit in a u64 of cents; the next one does not.
    let fitting = 18_446u64;
    for out_of_order_first in [false, true] {
        let mut text = String::from(HEADER);
        if out_of_order_first {
            text.push_str("S1,01-06-2024 11:00,1,1.00\n");
        }
        let row = |i: u64| {
            format!(
                "S1,01-06-2024 10:{:02},{},9999999999999.99\n",
                i % 60,
                i / 60
            )
        };
        for i in 0..fitting {
            text.push_str(&row(i));
        }
        let overflowing = row(fitting);
        text.push_str(&overflowing);
        text.push_str(&overflowing);
        // And a true duplicate of the first summed row, still found after all that.
        text.push_str(&row(0));
        let v = validate_bytes(text.as_bytes(), &ValidationConfig::default());
        let first = if out_of_order_first { 3 } else { 2 };
        let last = first + fitting;
        let reasons: Vec<(u64, Reason)> = v.errors.iter().map(|e| (e.line, e.reason)).collect();
        assert_eq!(
            reasons,
            vec![
                (last, Reason::TotalOverflow),
                (last + 1, Reason::TotalOverflow),
                (last + 2, Reason::DuplicateRow { first_line: first }),
            ],
            "out of order first: {out_of_order_first}"
        );
    }
}
