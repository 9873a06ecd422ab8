//! The validator's fast paths give the answers of the plain rules: the datetime shortcut
//! agrees with the chrono parse, and the duplicate index (sorted runs, the switch to the
//! hash map, rows taken back after an overflow) agrees with a naive scan.

use ffc_sales::value::{parse_datetime, parse_datetime_seconds, DateTimeParser};
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

/// A row's store, hour, minute, quantity and cents.
type RowValues = (u8, u8, u8, u64, u64);

/// A date-time field near another: the same day and hour with other minutes (valid or
/// not), another hour, another day, or a near miss in any byte.
fn nearby_datetime() -> impl Strategy<Value = Vec<u8>> {
    (
        prop_oneof![Just(28u32), Just(29), Just(30), Just(31), 0u32..40],
        prop_oneof![Just(2u32), Just(6), 0u32..14],
        prop_oneof![Just(2023u32), Just(2024), Just(1900), 0u32..10_000],
        prop_oneof![Just(10u32), 0u32..30],
        0u32..100,
        proptest::option::of((0usize..17, any::<u8>())),
    )
        .prop_map(|(day, month, year, hour, minute, change)| {
            let mut b = format!("{day:02}-{month:02}-{year:04} {hour:02}:{minute:02}").into_bytes();
            match change {
                Some((at, byte)) if at < b.len() => b[at] = byte,
                Some(_) => b.push(b'0'),
                None => {}
            }
            b
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// The parser that remembers the last date and hour answers every field of a sequence
    /// as the one-shot parse does, whatever came before.
    #[test]
    fn remembered_hour_agrees_with_the_one_shot_parse(
        fields in proptest::collection::vec(nearby_datetime(), 1..40),
    ) {
        let mut parser = DateTimeParser::new();
        for b in &fields {
            prop_assert_eq!(parser.parse(b), parse_datetime_seconds(b), "{:?}", String::from_utf8_lossy(b));
        }
    }

    /// The packed history of a sorted prefix (large quantities and amounts, line jumps over
    /// blank and invalid lines) read back when rows go out of order: the duplicates and the
    /// lines of their first copies are those of a naive scan over the valid rows.
    #[test]
    fn packed_history_reads_back_exactly(
        rows in proptest::collection::vec(
            (
                0u8..3,
                0u8..3,
                0u8..60,
                prop_oneof![Just(0u64), Just(127), Just(128), Just(16_384), Just(999_999_999_999), 0u64..5],
                prop_oneof![Just(0u64), Just(12_799), Just(999_999_999_999_999), 0u64..5],
                0usize..3,
            ),
            0..200,
        ),
        sort_prefix in 0usize..200,
    ) {
        let mut rows = rows;
        let cut = sort_prefix.min(rows.len());
        rows[..cut].sort_unstable_by_key(|&(s, h, ..)| (s, h));
        let mut text = String::from(HEADER);
        let mut line = 2u64;
        // Each valid row's (store, hour, minute, quantity, cents) and its line.
        let mut valid: Vec<(RowValues, u64)> = Vec::new();
        let mut want = Vec::new();
        for &(s, h, m, q, c, junk) in &rows {
            // 0: none; 1: a blank line; 2: an invalid row (not summed, not remembered).
            match junk {
                1 => text.push_str("\r\n"),
                2 => text.push_str(&format!("S{s},01-06-2024 {h:02}:{m:02},x,{c}\n")),
                _ => {}
            }
            if junk > 0 {
                line += 1;
            }
            let key = (s, h, m, q, c);
            text.push_str(&format!(
                "S{s},01-06-2024 {h:02}:{m:02},{q},{}.{:02}\n",
                c / 100,
                c % 100
            ));
            match valid.iter().find(|(k, _)| *k == key) {
                Some((_, first)) => want.push((line, *first)),
                None => valid.push((key, line)),
            }
            line += 1;
        }
        let v = validate_bytes(text.as_bytes(), &ValidationConfig::default());
        let got: Vec<(u64, u64)> = v
            .errors
            .iter()
            .filter_map(|e| match e.reason {
                Reason::DuplicateRow { first_line } => Some((e.line, first_line)),
                _ => None,
            })
            .collect();
        prop_assert_eq!(got, want);
        prop_assert_eq!(v.counts.valid as usize, valid.len());
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
