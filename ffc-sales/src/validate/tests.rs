//! The validator's own tests: plain-line and csv-core paths agree, varints round-trip.

use super::driver::validate_slice;
use super::duplicates::{push_varint, read_varint};
use super::*;
use proptest::prelude::*;

/// Everything a validation says, for comparing two.
fn summary(v: &Validation) -> String {
    let hours: Vec<_> = v.sales.iter().collect();
    format!(
        "{:?} {:?} {:?} {} {:?} {:?} {} {:?}",
        v.header_problems,
        v.counts,
        v.errors,
        v.error_count,
        v.tainted_days,
        v.tainted_stores,
        v.unattributed_invalid_rows,
        hours
    )
}

fn field() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("S001".to_owned()),
        Just("S002".to_owned()),
        Just("01-06-2024 09:00".to_owned()),
        Just("01-06-2024 10:30".to_owned()),
        Just("1".to_owned()),
        Just("2.50".to_owned()),
        Just(String::new()),
        Just("\"".to_owned()),
        Just("\"a,b\"".to_owned()),
        Just("\"a\r\nb\"".to_owned()),
        Just("\r".to_owned()),
        Just("\n".to_owned()),
        Just("\r\n".to_owned()),
        Just("\u{feff}".to_owned()),
        Just("x".repeat(1030)),
        "[0-9.,$ -]{0,6}",
        "[\\PC]{0,4}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(150))]

    /// Plain lines split without csv-core give exactly what csv-core gives: records,
    /// lines, byte offsets, blank rows, row limits (long rows, many fields), quoted
    /// and multi-line fields, lone CRs, stray byte-order marks; in default and tight
    /// configurations.
    #[test]
    fn plain_lines_split_as_csv_core_does(
        lines in proptest::collection::vec(
            (proptest::collection::vec(field(), 0..40), 0usize..3, any::<bool>()),
            0..12,
        ),
        bom in any::<bool>(),
        noise in proptest::collection::vec(any::<u8>(), 0..40),
    ) {
        let mut text = String::new();
        if bom {
            text.push('\u{feff}');
        }
        text.push_str("StoreCode,DateTime,TotalTransactionQty,TotalTransactionValue\r\n");
        for (fields, blanks, crlf) in &lines {
            let eol = if *crlf { "\r\n" } else { "\n" };
            for _ in 0..*blanks {
                text.push_str(eol);
            }
            text.push_str(&fields.join(","));
            text.push_str(eol);
        }
        let tight = ValidationConfig {
            max_row_bytes: 16,
            ..ValidationConfig::default().with_max_errors(3).with_known_stores(["S001"])
        };
        let mut with_noise = text.clone().into_bytes();
        with_noise.extend_from_slice(&noise);
        for bytes in [text.as_bytes(), &with_noise, &noise] {
            for config in [&ValidationConfig::default(), &tight] {
                let plain = validate_slice(bytes, config, true);
                let core = validate_slice(bytes, config, false);
                prop_assert_eq!(summary(&plain), summary(&core));
            }
        }
    }
}

#[test]
fn varints_round_trip() {
    let values = [
        0,
        1,
        127,
        128,
        16_383,
        16_384,
        u64::from(u32::MAX),
        u64::MAX,
    ];
    let mut buf = Vec::new();
    for v in values {
        push_varint(&mut buf, v);
    }
    let mut pos = 0;
    for v in values {
        assert_eq!(read_varint(&buf, &mut pos), Some(v));
    }
    assert_eq!(pos, buf.len());
    assert_eq!(read_varint(&buf, &mut pos), None);
    assert_eq!(read_varint(&[0x80; 11], &mut 0), None);
}

/// Rows in the given order against a plain model: every repeat names its first line, and
/// the totals are the sums of the first occurrences.
fn check_against_model(rows: &[(u32, String, u64, u64)]) {
    let mut file = String::from("StoreCode,DateTime,TotalTransactionQty,TotalTransactionValue\n");
    let mut first: std::collections::HashMap<(u32, &str, u64, u64), u64> = Default::default();
    let mut repeats = Vec::new();
    let (mut qty, mut cents) = (0u128, 0u128);
    for (i, (store, at, q, c)) in rows.iter().enumerate() {
        let line = i as u64 + 2;
        file.push_str(&format!("S{store},{at},{q},{}.{:02}\n", c / 100, c % 100));
        match first.get(&(*store, at.as_str(), *q, *c)) {
            Some(&l) => repeats.push((line, l)),
            None => {
                first.insert((*store, at.as_str(), *q, *c), line);
                qty += u128::from(*q);
                cents += u128::from(*c);
            }
        }
    }
    let v = validate_bytes(file.as_bytes(), &ValidationConfig::default());
    let found: Vec<(u64, u64)> = v
        .errors
        .iter()
        .map(|e| match e.reason {
            Reason::DuplicateRow { first_line } => (e.line, first_line),
            ref other => panic!("line {}: {other:?}", e.line),
        })
        .collect();
    assert_eq!(found, repeats);
    assert_eq!(v.sales.totals(), (qty, cents));
    let hours: Vec<_> = v.sales.iter().map(|h| (h.store, h.hour)).collect();
    let mut sorted = hours.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(hours.len(), sorted.len(), "one bucket per (store, hour)");
}

/// Out of order and sparse (hours decades apart), with repeats: each names its first line.
#[test]
fn sparse_out_of_order_repeats_name_their_first_line() {
    let mut rows = Vec::new();
    for year in (2001..2090).rev().step_by(7) {
        for store in [2, 1] {
            rows.push((
                store,
                format!("01-06-{year} 10:15"),
                1,
                100 + u64::from(store),
            ));
            rows.push((
                store,
                format!("01-06-{year} 10:15"),
                1,
                100 + u64::from(store),
            ));
        }
    }
    check_against_model(&rows);
}

/// Out of order with one busy hour (more rows than the sorted run scan holds): every repeat
/// still names its first line.
#[test]
fn busy_hour_out_of_order_repeats_name_their_first_line() {
    let mut rows = Vec::new();
    for i in 0..300u64 {
        rows.push((
            1,
            format!("02-06-2024 {:02}:{:02}", 9 + i % 3, i % 60),
            1,
            i,
        ));
        rows.push((2, "01-06-2024 12:00".to_owned(), 1, i / 2));
        if i % 50 == 7 {
            rows.push((
                1,
                format!("02-06-2024 {:02}:{:02}", 9 + i % 3, i % 60),
                1,
                i,
            ));
        }
    }
    check_against_model(&rows);
}

/// The plain split as it was written first, a byte at a time: the reference for the
/// word-at-a-time one.
fn split_plain_line_bytewise<'a>(
    input: &'a [u8],
    out_room: usize,
    ends: &mut [usize],
) -> Option<(&'a [u8], usize, usize)> {
    let end = input
        .iter()
        .position(|b| matches!(b, b'\n' | b'\r' | b'"'))?;
    let consumed = match input.get(end..)? {
        [b'\n', ..] => end + 1,
        [b'\r', b'\n', ..] => end + 2,
        _ => return None,
    };
    let line = input.get(..end)?;
    let mut fields = 0usize;
    for (i, &b) in line.iter().enumerate() {
        if b == b',' {
            *ends.get_mut(fields)? = i;
            fields += 1;
        }
    }
    *ends.get_mut(fields)? = end;
    fields += 1;
    if fields >= ends.len() || end - (fields - 1) >= out_room {
        return None;
    }
    Some((line, consumed, fields))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// The word-at-a-time split finds what a byte-at-a-time one finds: the line, the bytes
    /// consumed, every field end; and declines the same lines (quotes, lone CRs, no end,
    /// too many fields, too long), at every length and alignment.
    #[test]
    fn plain_split_matches_the_bytewise_one(
        input in proptest::collection::vec(
            prop_oneof![
                8 => Just(b'a'), 4 => Just(b','), 1 => Just(b'\n'), 1 => Just(b'\r'),
                1 => Just(b'"'), 1 => Just(b'-'), 1 => Just(0u8), 1 => Just(0x80u8),
                1 => Just(0xacu8), 1 => any::<u8>(),
            ],
            0..80,
        ),
        ends_len in 1usize..12,
        out_room in 0usize..80,
    ) {
        let mut fast_ends = vec![usize::MAX; ends_len];
        let mut slow_ends = vec![usize::MAX; ends_len];
        let fast = super::driver::split_plain_line(&input, out_room, &mut fast_ends);
        let slow = split_plain_line_bytewise(&input, out_room, &mut slow_ends);
        prop_assert_eq!(fast, slow);
        if let Some((_, _, fields)) = fast {
            prop_assert_eq!(&fast_ends[..fields], &slow_ends[..fields]);
        }
    }
}

/// One generated row: store choice, year choice, day, hour, minute, quantity, cents, and
/// what to spoil (0: nothing).
type ModelRow = (usize, usize, u32, u32, u32, u64, u64, u8);

const MODEL_STORES: [&str; 5] = ["S1", "S2", "S3", "X9", " S1"];
const MODEL_YEARS: [u32; 3] = [2024, 2024, 2031];

fn model_row_text(&(store, year, day, hour, minute, qty, cents, spoil): &ModelRow) -> String {
    let store = MODEL_STORES[store];
    let year = MODEL_YEARS[year];
    let amount = format!("{}.{:02}", cents / 100, cents % 100);
    match spoil {
        1 => format!("{store},{day:02}-06-{year} {hour:02}:{minute:02},x{qty},{amount}"),
        2 => format!("{store},31-06-{year} {hour:02}:{minute:02},{qty},{amount}"),
        3 => format!("{store},{day:02}-06-{year} {hour:02}:{minute:02},{qty}"),
        4 => ",,,".to_owned(),
        5 => format!("{store},{day:02}-06-{year} {hour:02}:{minute:02},{qty},1,{amount}"),
        _ => format!("{store},{day:02}-06-{year} {hour:02}:{minute:02},{qty},{amount}"),
    }
}

/// What the validator must report, computed the plain way: the public field rules, a
/// `BTreeMap` of sums and a `HashMap` of first lines (no caches, no chains, no index).
fn model_summary(rows: &[String], config: &ValidationConfig) -> String {
    use crate::aggregate::{day_key, hour_start};
    use crate::value::{parse_amount_cents, parse_datetime_seconds, parse_quantity, parse_store};
    let mut counts = RowCounts::default();
    let mut errors: Vec<(u64, Reason)> = Vec::new();
    let mut stores: Vec<String> = Vec::new();
    let mut sums: std::collections::BTreeMap<(u32, i64), (u64, u64, u64)> = Default::default();
    let mut first: std::collections::HashMap<(u32, i64, u64, u64), u64> = Default::default();
    let (mut days, mut whole_stores) = (BTreeSet::new(), BTreeSet::new());
    let mut unattributed = 0u64;
    for (i, row) in rows.iter().enumerate() {
        let line = i as u64 + 2;
        let fields: Vec<&[u8]> = row.as_bytes().split(|b| *b == b',').collect();
        if fields.iter().all(|f| f.is_empty()) {
            counts.blank += 1;
            continue;
        }
        counts.rows += 1;
        if fields.len() < 4 {
            counts.invalid += 1;
            unattributed += 1;
            let (found, needed) = (fields.len() as u32, 4);
            errors.push((line, Reason::MissingFields { found, needed }));
            continue;
        }
        let store = parse_store(fields[0]).and_then(|code| {
            match &config.known_stores {
                Some(known) if !known.contains(code) => return Err(Reason::UnknownStore),
                _ => {}
            }
            let i = stores.iter().position(|s| s == code).unwrap_or_else(|| {
                stores.push(code.to_owned());
                stores.len() - 1
            });
            Ok(i as u32)
        });
        let dt = parse_datetime_seconds(fields[1]);
        let qty = parse_quantity(fields[2]);
        let amount = parse_amount_cents(fields[3]);
        let (Ok(s), Ok(d), Ok(q), Ok(c)) = (store, dt, qty, amount) else {
            counts.invalid += 1;
            for reason in [store.err(), dt.err(), qty.err(), amount.err()]
                .into_iter()
                .flatten()
            {
                errors.push((line, reason));
            }
            match (store, dt) {
                (Ok(s), Ok(d)) => drop(days.insert((s, day_key(d)))),
                (Ok(s), Err(_)) => drop(whole_stores.insert(s)),
                _ => unattributed += 1,
            }
            continue;
        };
        let hour = hour_start(d);
        if let Some(&first_line) = first.get(&(s, d, q, c)) {
            counts.invalid += 1;
            counts.duplicates += 1;
            days.insert((s, day_key(d)));
            errors.push((line, Reason::DuplicateRow { first_line }));
            continue;
        }
        first.insert((s, d, q, c), line);
        let sum = sums.entry((s, hour)).or_default();
        *sum = (sum.0 + q, sum.1 + c, sum.2 + 1);
        counts.valid += 1;
    }
    let hours: Vec<_> = sums
        .into_iter()
        .map(|((s, h), t)| (stores[s as usize].clone(), h, t))
        .collect();
    format!("{counts:?} {errors:?} {days:?} {whole_stores:?} {unattributed} {hours:?}")
}

/// The same facts from the validator.
fn validator_summary(v: &Validation) -> String {
    let errors: Vec<(u64, Reason)> = v.errors.iter().map(|e| (e.line, e.reason)).collect();
    let hours: Vec<_> = v
        .sales
        .store_hours()
        .map(|(s, h, t)| {
            let name = v.sales.store_name(s).to_owned();
            (name, h, (t.transactions, t.amount_cents, t.rows))
        })
        .collect();
    format!(
        "{:?} {:?} {:?} {:?} {} {:?}",
        v.counts, errors, v.tainted_days, v.tainted_stores, v.unattributed_invalid_rows, hours
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// The fast paths (sorted runs and their history, the hour index with dense and sparse
    /// stores, bucket chains and their filter, busy buckets in the map, the store and date
    /// caches) report what the plain model reports: every count, every error with its line,
    /// every tainted day and store, every hourly sum. Files sorted, shuffled, or sorted then
    /// shuffled; with repeats, unknown stores, bad fields, short and long rows, blank rows;
    /// rows packed into few buckets (busy ones) or spread over years.
    #[test]
    fn validation_matches_the_plain_model(
        rows in proptest::collection::vec(
            (
                0usize..5, 0usize..3, 1u32..4, 0u32..24, 0u32..60, 1u64..4, 0u64..5000,
                prop_oneof![12 => Just(0u8), 1 => Just(1), 1 => Just(2), 1 => Just(3), 1 => Just(4), 1 => Just(5)],
            ),
            0..300,
        ),
        narrow in 0u32..4,
        order in 0u8..3,
        sorted_share in 0usize..=100,
        repeats in proptest::collection::vec((any::<proptest::sample::Index>(), any::<proptest::sample::Index>()), 0..40),
    ) {
        let mut rows: Vec<ModelRow> = rows;
        // Narrow files pack their rows into a few (store, hour) buckets: busy buckets.
        for r in rows.iter_mut() {
            if narrow > 0 {
                r.1 = 0;
                r.2 = 1 + r.2 % narrow;
                r.3 = 10 + r.3 % narrow;
            }
        }
        match order {
            0 => rows.sort(),
            1 => {
                let cut = rows.len() * sorted_share / 100;
                rows[..cut].sort();
            }
            _ => {}
        }
        // Repeats of earlier rows, anywhere after them.
        for (from, to) in repeats {
            if rows.is_empty() {
                break;
            }
            let row = rows[from.index(rows.len())];
            let at = to.index(rows.len() + 1);
            rows.insert(at, row);
        }
        let text: Vec<String> = rows.iter().map(model_row_text).collect();
        let mut file = String::from("StoreCode,DateTime,TotalTransactionQty,TotalTransactionValue\n");
        for line in &text {
            file.push_str(line);
            file.push('\n');
        }
        let known = ValidationConfig::default().with_known_stores(["S1", "S2", "S3"]);
        for config in [&ValidationConfig::default(), &known] {
            let fast = validate_bytes(file.as_bytes(), config);
            prop_assert_eq!(validator_summary(&fast), model_summary(&text, config));
        }
    }
}

/// Rows out of (store, hour) order wait a few rows before they are summed (see `ahead`),
/// a plain line with its text left in the input, any other row with the start of its text
/// copied: a repeat among them is named with the excerpt the whole row gives, for plain and
/// quoted lines, long ones with multi-byte characters; an overflowing total with the whole
/// amount. (`tests/validator.rs` reads such rows in pieces that end while they wait.)
#[test]
fn waiting_rows_keep_their_error_excerpts() {
    let store = "Ståre-ü".repeat(12);
    let plain = format!("{store},01-06-2024 11:05,1,2.00");
    let quoted = format!("\"{store}\",\"01-06-2024 12:05\",1,\"3.00\"");
    let mut file = String::from("StoreCode,DateTime,TotalTransactionQty,TotalTransactionValue\n");
    // Out of order from the second row: every row after waits.
    file.push_str("B,02-06-2024 10:00,1,1.00\nA,01-06-2024 10:00,1,1.00\n");
    for line in [&plain, &quoted, &plain, &quoted] {
        file.push_str(line);
        file.push('\n');
    }
    // One bucket's total overflows: 15-digit amounts, distinct rows, more than u64 holds.
    let amount = "9999999999999.99";
    for i in 0..18_500u64 {
        file.push_str(&format!(
            "C,03-06-2024 09:{:02},{},{amount}\n",
            i % 60,
            1 + i / 60
        ));
    }
    let v = validate_bytes(file.as_bytes(), &ValidationConfig::default());
    let excerpt = |s: &str| crate::error::excerpt(s.as_bytes());
    let quoted_joined = format!("{store},01-06-2024 12:05,1,3.00");
    let repeats: Vec<(u64, &str)> = v
        .errors
        .iter()
        .filter(|e| matches!(e.reason, Reason::DuplicateRow { .. }))
        .map(|e| (e.line, e.value.as_str()))
        .collect();
    assert_eq!(
        repeats,
        [
            (6, excerpt(&plain).as_str()),
            (7, excerpt(&quoted_joined).as_str())
        ]
    );
    assert!(
        excerpt(&plain).ends_with('…'),
        "the row is longer than an excerpt"
    );
    let overflow = v.errors.iter().find(|e| e.reason == Reason::TotalOverflow);
    assert_eq!(overflow.map(|e| e.value.as_str()), Some(amount));
    assert_eq!(
        overflow.map(|e| e.field),
        Some(Some(SalesField::TotalTransactionValue))
    );
}
