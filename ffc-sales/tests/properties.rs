//! Properties: any valid generated file validates and aggregates to the sums of its rows;
//! arbitrary bytes never panic (the fuzz target's entry point, on stable); positions are
//! exact; the record split agrees with the `csv` crate's.

use std::collections::{BTreeMap, HashSet};
use std::io::Read;

use ffc_sales::value::{parse_datetime_seconds, DateTimeParser};
use ffc_sales::{validate_bytes, validate_reader, ImportMode, ValidationConfig};
use proptest::prelude::*;

const STORES: [&str; 4] = ["S001", "S002", "Store, \"Quoted\"", "Ünïcode-7"];

#[derive(Debug, Clone)]
struct Row {
    store: usize,
    day: u32,
    month: u32,
    year: i32,
    hour: u32,
    minute: u32,
    qty: u64,
    cents: u64,
    decimals: u8,
    quote: bool,
    note: String,
}

fn row() -> impl Strategy<Value = Row> {
    (
        (
            0..STORES.len(),
            1u32..=28,
            1u32..=12,
            2020i32..2027,
            0u32..24,
            0u32..60,
        ),
        (
            0u64..1_000_000,
            0u64..100_000_000_000,
            0u8..=2,
            any::<bool>(),
            "[a-z ,\"\n]{0,8}",
        ),
    )
        .prop_map(
            |((store, day, month, year, hour, minute), (qty, cents, decimals, quote, note))| Row {
                store,
                day,
                month,
                year,
                hour,
                minute,
                qty,
                cents,
                decimals,
                quote,
                note,
            },
        )
}

fn quoted(field: &str, force: bool) -> String {
    if force || field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_owned()
    }
}

fn amount_text(cents: u64, decimals: u8) -> String {
    match decimals {
        0 if cents.is_multiple_of(100) => format!("{}", cents / 100),
        1 if cents.is_multiple_of(10) => format!("{}.{}", cents / 100, (cents % 100) / 10),
        _ => format!("{}.{:02}", cents / 100, cents % 100),
    }
}

#[derive(Debug, Clone)]
struct FileShape {
    bom: bool,
    crlf: bool,
    order: [usize; 5],
    upper: bool,
    trailing_blank_lines: usize,
}

fn shape() -> impl Strategy<Value = FileShape> {
    (
        any::<bool>(),
        any::<bool>(),
        Just([0usize, 1, 2, 3, 4]).prop_shuffle(),
        any::<bool>(),
        0usize..3,
    )
        .prop_map(
            |(bom, crlf, order, upper, trailing_blank_lines)| FileShape {
                bom,
                crlf,
                order: [order[0], order[1], order[2], order[3], order[4]],
                upper,
                trailing_blank_lines,
            },
        )
}

/// A valid file: the four fields and a free-text column in any order, any header case,
/// with or without BOM and CRLF, quoting where asked or needed, blank lines at the end.
fn render(rows: &[Row], s: &FileShape) -> Vec<u8> {
    let eol = if s.crlf { "\r\n" } else { "\n" };
    let names = [
        "StoreCode",
        "DateTime",
        "TotalTransactionQty",
        "TotalTransactionValue",
        "Note",
    ];
    let mut out = String::new();
    if s.bom {
        out.push('\u{feff}');
    }
    let header: Vec<String> = s
        .order
        .iter()
        .map(|&i| {
            if s.upper {
                names[i].to_uppercase()
            } else {
                names[i].to_owned()
            }
        })
        .collect();
    out.push_str(&header.join(","));
    out.push_str(eol);
    for r in rows {
        let fields = [
            quoted(STORES[r.store], r.quote),
            quoted(
                &format!(
                    "{:02}-{:02}-{:04} {:02}:{:02}",
                    r.day, r.month, r.year, r.hour, r.minute
                ),
                r.quote,
            ),
            quoted(&r.qty.to_string(), r.quote),
            quoted(&amount_text(r.cents, r.decimals), r.quote),
            quoted(&r.note, false),
        ];
        let line: Vec<&str> = s.order.iter().map(|&i| fields[i].as_str()).collect();
        out.push_str(&line.join(","));
        out.push_str(eol);
    }
    for _ in 0..s.trailing_blank_lines {
        out.push_str(eol);
    }
    out.into_bytes()
}

fn unique(rows: Vec<Row>) -> Vec<Row> {
    let mut seen = HashSet::new();
    rows.into_iter()
        .filter(|r| {
            seen.insert((
                r.store, r.day, r.month, r.year, r.hour, r.minute, r.qty, r.cents,
            ))
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn valid_files_validate_and_sum_to_their_rows(
        rows in proptest::collection::vec(row(), 0..60).prop_map(unique),
        shape in shape(),
    ) {
        let bytes = render(&rows, &shape);
        let v = validate_bytes(&bytes, &ValidationConfig::default().with_known_stores(STORES));
        prop_assert!(v.is_valid(), "{:?} {:?}", v.header_problems, v.errors);
        prop_assert_eq!(v.counts.valid, rows.len() as u64);

        // Expected sums per (store, local hour), straight from the rows.
        let mut want: BTreeMap<(String, String), (u64, u64, u64)> = BTreeMap::new();
        for r in &rows {
            let hour = format!("{:04}-{:02}-{:02} {:02}:00:00", r.year, r.month, r.day, r.hour);
            let e = want.entry((STORES[r.store].to_owned(), hour)).or_default();
            e.0 += r.qty;
            e.1 += r.cents;
            e.2 += 1;
        }
        let got: BTreeMap<(String, String), (u64, u64, u64)> = v
            .sales
            .iter()
            .map(|h| {
                (
                    (h.store.to_owned(), h.hour.format("%Y-%m-%d %H:%M:%S").to_string()),
                    (h.transactions, h.amount_cents, h.rows),
                )
            })
            .collect();
        prop_assert_eq!(&got, &want);
        let total_qty: u64 = rows.iter().map(|r| r.qty).sum();
        let total_cents: u64 = rows.iter().map(|r| r.cents).sum();
        prop_assert_eq!(v.sales.totals(), (u128::from(total_qty), u128::from(total_cents)));

        // The import carries every hour once, each (site, day) in one batch.
        let import = v.import("gen.csv", ImportMode::Atomic);
        let mut batch_keys = HashSet::new();
        let mut sent: BTreeMap<(String, String), (u64, u64)> = BTreeMap::new();
        for b in &import.batches {
            prop_assert!(batch_keys.insert((b.site.clone(), b.date)));
            for r in &b.rows {
                prop_assert_eq!(&r.site_code, &b.site);
                prop_assert_eq!(r.transaction_date.date(), b.date);
                let cents = u64::try_from(r.amount_cents).unwrap();
                sent.insert((r.site_code.clone(), r.transaction_date.format("%Y-%m-%d %H:%M:%S").to_string()), (r.quantity, cents));
            }
        }
        let want_sent: BTreeMap<_, _> = want.iter().map(|(k, v)| (k.clone(), (v.0, v.1))).collect();
        prop_assert_eq!(sent, want_sent);
        prop_assert_eq!(import.report.imported_rows, rows.len() as u64);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        check_invariants(&bytes);
    }

    #[test]
    fn csv_like_noise_never_panics_and_splits_like_the_csv_crate(
        lines in proptest::collection::vec(
            proptest::collection::vec(
                prop_oneof![
                    Just("S001".to_owned()),
                    Just("01-06-2024 09:00".to_owned()),
                    Just("\"1,5\"".to_owned()),
                    Just("\"a\nb\"".to_owned()),
                    Just(String::new()),
                    "[0-9.,$ -]{0,6}",
                    "[\\PC]{0,4}",
                ],
                0..6,
            ),
            0..30,
        ),
        crlf in any::<bool>(),
        step in 1usize..50,
    ) {
        let eol = if crlf { "\r\n" } else { "\n" };
        let mut text = String::from("StoreCode,DateTime,TotalTransactionQty,TotalTransactionValue");
        text.push_str(eol);
        for l in &lines {
            text.push_str(&l.join(","));
            text.push_str(eol);
        }
        let bytes = text.into_bytes();
        let v = check_invariants(&bytes);

        // The same records as the csv crate finds (blank lines skipped by both).
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(bytes.as_slice());
        let mut record = csv::ByteRecord::new();
        let mut records = 0u64;
        while reader.read_byte_record(&mut record).unwrap() {
            records += 1;
        }
        prop_assert_eq!(records.saturating_sub(1), v.counts.rows + v.counts.blank);

        // Reading in small pieces changes nothing.
        let trickled = validate_reader(Trickle { data: &bytes, step }, &ValidationConfig::default()).unwrap();
        prop_assert_eq!(&trickled.errors, &v.errors);
        prop_assert_eq!(trickled.counts, v.counts);
    }

    #[test]
    fn error_lines_and_bytes_are_exact(
        rows in proptest::collection::vec((any::<bool>(), 0usize..3, any::<bool>()), 1..40),
    ) {
        let mut text = String::from("StoreCode,DateTime,TotalTransactionQty,TotalTransactionValue\n");
        let mut line = 2u64;
        let mut want = Vec::new();
        for (i, (bad, blanks, crlf)) in rows.iter().enumerate() {
            for _ in 0..*blanks {
                text.push_str(if *crlf { "\r\n" } else { "\n" });
                line += 1;
            }
            let qty = if *bad { "x" } else { "1" };
            let row = format!("S1,01-06-2024 09:{:02},{qty},{i}", i % 60);
            if *bad {
                want.push((line, text.len() as u64, row.clone()));
            }
            text.push_str(&row);
            text.push_str(if *crlf { "\r\n" } else { "\n" });
            line += 1;
        }
        let v = validate_bytes(text.as_bytes(), &ValidationConfig::default());
        let got: Vec<(u64, u64)> = v.errors.iter().map(|e| (e.line, e.byte)).collect();
        let expected: Vec<(u64, u64)> = want.iter().map(|(l, b, _)| (*l, *b)).collect();
        prop_assert_eq!(got, expected);
    }
}

/// Validates with tight and default limits and checks what must always hold.
fn check_invariants(bytes: &[u8]) -> ffc_sales::Validation {
    let tight = ValidationConfig::default()
        .with_max_row_bytes(16)
        .with_max_errors(2)
        .with_known_stores(["S001"]);
    for config in [&tight] {
        let v = validate_bytes(bytes, config);
        assert_eq!(v.counts.rows, v.counts.valid + v.counts.invalid);
        assert!(v.errors.len() <= 2);
        assert!(v.error_count >= v.counts.invalid);
        for mode in [ImportMode::Atomic, ImportMode::ValidRowsOnly] {
            let import = v.import("noise", mode);
            serde_json::to_string(&import).unwrap();
        }
    }
    let v = validate_bytes(bytes, &ValidationConfig::default());
    assert_eq!(v.counts.rows, v.counts.valid + v.counts.invalid);
    assert_eq!(v.error_count, v.errors.len() as u64);
    let import = v.import("noise", ImportMode::ValidRowsOnly);
    serde_json::to_string(&import).unwrap();
    v
}

struct Trickle<'a> {
    data: &'a [u8],
    step: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.step.min(buf.len()).min(self.data.len());
        let (head, tail) = self.data.split_at(n);
        buf[..n].copy_from_slice(head);
        self.data = tail;
        Ok(n)
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Duplicates found (line and first line) equal a naive scan over all earlier rows,
    /// whether the file is sorted (linear runs), unsorted (hash map) or switches midway.
    #[test]
    fn duplicates_match_a_naive_scan(
        rows in proptest::collection::vec((0u8..2, 0u8..3, 0u8..3, 0u8..2, 0u8..2), 0..150),
        sort_prefix in 0usize..150,
    ) {
        let mut rows = rows;
        let cut = sort_prefix.min(rows.len());
        rows[..cut].sort_unstable();
        let mut text = String::from("StoreCode,DateTime,TotalTransactionQty,TotalTransactionValue\n");
        for (s, h, m, q, c) in &rows {
            text.push_str(&format!("S{s},01-06-2024 {h:02}:{m:02},{q},{c}\n"));
        }
        let v = validate_bytes(text.as_bytes(), &ValidationConfig::default());
        let got: Vec<(u64, u64)> = v
            .errors
            .iter()
            .map(|e| match e.reason {
                ffc_sales::Reason::DuplicateRow { first_line } => (e.line, first_line),
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        let mut want = Vec::new();
        for (i, r) in rows.iter().enumerate() {
            if let Some(j) = rows[..i].iter().position(|p| p == r) {
                want.push((i as u64 + 2, j as u64 + 2));
            }
        }
        prop_assert_eq!(got, want);
        prop_assert_eq!(v.counts.valid as usize + v.counts.duplicates as usize, rows.len());
    }
}

fn datetime_field() -> impl Strategy<Value = String> {
    (
        prop_oneof![Just(0u32), 1u32..=31, Just(32)],
        prop_oneof![1u32..=12, Just(0), Just(13)],
        prop_oneof![
            Just(2023u32),
            Just(2024),
            Just(1900),
            Just(2000),
            Just(0),
            Just(1)
        ],
        prop_oneof![0u32..24, Just(24), Just(99)],
        prop_oneof![0u32..60, Just(60)],
        prop_oneof![8 => Just(""), 1 => Just(" "), 1 => Just(":00"), 1 => Just("x")],
        prop_oneof![8 => Just(' '), 1 => Just('T'), 1 => Just('-')],
        prop_oneof![8 => Just(':'), 1 => Just('.'), 1 => Just('1')],
    )
        .prop_map(|(d, m, y, h, mi, tail, sep, colon)| {
            format!("{d:02}-{m:02}-{y:04}{sep}{h:02}{colon}{mi:02}{tail}")
        })
}

proptest! {
    /// The date-time parser's two caches (the last hour, the recent dates) never change an
    /// answer: any sequence of fields, real or not, gets what a parser without memory gives.
    #[test]
    fn date_caches_answer_as_a_fresh_parse(
        fields in proptest::collection::vec(datetime_field(), 1..200),
    ) {
        let mut parser = DateTimeParser::new();
        for f in &fields {
            prop_assert_eq!(parser.parse(f.as_bytes()), parse_datetime_seconds(f.as_bytes()), "{}", f);
        }
    }
}
