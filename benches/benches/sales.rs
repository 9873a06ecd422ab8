//! Sales-CSV validation throughput against the raw `csv` crate `ByteRecord` parse of the
//! same file, in interleaved pairs (groups `sales_sorted` and `sales_shuffled`; goals 0.7
//! and 0.5 of the raw parse). Validation keeps every check: duplicates, known stores, the
//! replace-by-day completeness bookkeeping, every typed error with its line.
//!
//! The file (200 stores, one month, 200 000 rows of one transaction each, a few quoted
//! fields, CRLF, about 7 MB) is generated deterministically, once sorted by store and time
//! (as point-of-sale exports are) and once shuffled (the worst case for the hourly sums and
//! the store cache). The sorted one is also written to `<target>/ffc-bench/sales.csv`, where
//! `benches/sales_pandas.sh` reads the very same bytes for the pandas comparison.

use std::hint::black_box;
use std::path::PathBuf;

use ffc_benches::{compare, selected};
use ffc_sales::{validate_bytes, ValidationConfig};

const STORES: u32 = 200;
const ROWS: u32 = 200_000;

/// One generated transaction: store, day, hour, minute, quantity, cents.
type Sale = (u32, u64, u64, u64, u64, u64);

/// Deterministic transactions (xorshift64), every one unique.
fn sales() -> Vec<Sale> {
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    (0..ROWS)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let store = (x % u64::from(STORES)) as u32;
            // The row index in the cents keeps every row unique (no duplicate reports).
            let cents = u64::from(i) * 7 + (x >> 40) % 5000;
            (
                store,
                1 + (x >> 8) % 30,
                8 + (x >> 16) % 14,
                (x >> 24) % 60,
                1 + (x >> 32) % 5,
                cents,
            )
        })
        .collect()
}

/// The file: CRLF, every 16th row with quoted fields.
fn render(rows: &[Sale]) -> Vec<u8> {
    let mut out = String::from("StoreCode,DateTime,TotalTransactionQty,TotalTransactionValue\r\n");
    for (i, &(store, day, hour, minute, qty, cents)) in rows.iter().enumerate() {
        let amount = format!("{}.{:02}", cents / 100, cents % 100);
        if i % 16 == 0 {
            out.push_str(&format!(
                "\"S{store:04}\",\"{day:02}-06-2024 {hour:02}:{minute:02}\",{qty},\"{amount}\"\r\n"
            ));
        } else {
            out.push_str(&format!(
                "S{store:04},{day:02}-06-2024 {hour:02}:{minute:02},{qty},{amount}\r\n"
            ));
        }
    }
    out.into_bytes()
}

fn write_for_pandas(bytes: &[u8]) {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target")));
    let dir = target.join("ffc-bench");
    if std::fs::create_dir_all(&dir).is_ok() {
        let _ = std::fs::write(dir.join("sales.csv"), bytes);
    }
}

/// The baseline: the raw parse, every record read into one reused `ByteRecord`.
fn csv_parse(bytes: &[u8]) -> usize {
    let mut reader = csv::ReaderBuilder::new().from_reader(bytes);
    let mut record = csv::ByteRecord::new();
    let mut fields = 0usize;
    while reader.read_byte_record(&mut record).unwrap_or(false) {
        fields += record.len();
    }
    fields
}

fn main() {
    let mut rows = sales();
    // Shuffled: every row in a different (store, hour) than the last, the worst case.
    let shuffled = render(&rows);
    // Sorted by store and time, as point-of-sale exports usually are.
    rows.sort_unstable();
    let sorted = render(&rows);
    write_for_pandas(&sorted);
    let stores: Vec<String> = (0..STORES).map(|s| format!("S{s:04}")).collect();
    let config = ValidationConfig::default().with_known_stores(stores);

    for (name, bytes) in [("sorted", &sorted), ("shuffled", &shuffled)] {
        let group = format!("sales_{name}");
        if !selected(&group) {
            continue;
        }
        // The validator must accept the whole file, or the comparison measures the error path.
        let check = validate_bytes(bytes, &config);
        assert!(check.is_valid(), "{:?}", check.errors.first());
        assert_eq!(check.counts.valid, u64::from(ROWS));
        compare(
            &group,
            "ffc_sales_validate",
            || validate_bytes(black_box(bytes), &config).counts.valid,
            "csv_byte_record",
            || csv_parse(black_box(bytes)),
        );
        if std::env::var_os("FFC_SALES_DETAIL").is_some() {
            let no_dups = config.clone().with_detect_duplicates(false);
            let no_known = ValidationConfig::default().with_detect_duplicates(false);
            compare(
                &format!("{group}_no_dup"),
                "ffc_sales_validate",
                || validate_bytes(black_box(bytes), &no_dups).counts.valid,
                "csv_byte_record",
                || csv_parse(black_box(bytes)),
            );
            compare(
                &format!("{group}_no_dup_no_known"),
                "ffc_sales_validate",
                || validate_bytes(black_box(bytes), &no_known).counts.valid,
                "csv_byte_record",
                || csv_parse(black_box(bytes)),
            );
        }
    }
}
