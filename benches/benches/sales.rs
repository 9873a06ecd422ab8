//! Sales-CSV validation throughput against the raw `csv` crate `ByteRecord` parse of the
//! same file, in the same run (goal: validation at least 0.6 of the raw parse).
//!
//! The file (200 stores, one month, one row per transaction, a few quoted fields, CRLF) is
//! generated deterministically and also written to `<target>/ffc-bench/sales.csv`, where
//! `benches/sales_pandas.sh` reads the very same bytes for the pandas comparison.

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ffc_sales::{validate_bytes, ValidationConfig};

const STORES: u32 = 200;
const ROWS: u32 = 200_000;

/// A deterministic sales file, about 6 MB.
fn sales_file() -> Vec<u8> {
    let mut out = String::from("StoreCode,DateTime,TotalTransactionQty,TotalTransactionValue\r\n");
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    for i in 0..ROWS {
        // xorshift64: cheap, reproducible.
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let store = (x % u64::from(STORES)) as u32;
        let day = 1 + (x >> 8) % 30;
        let hour = 8 + (x >> 16) % 14;
        let minute = (x >> 24) % 60;
        let qty = 1 + (x >> 32) % 5;
        // The row index in the cents keeps every row unique (no duplicate reports).
        let cents = u64::from(i) * 7 + (x >> 40) % 5000;
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

fn bench(c: &mut Criterion) {
    let bytes = sales_file();
    write_for_pandas(&bytes);
    let stores: Vec<String> = (0..STORES).map(|s| format!("S{s:04}")).collect();
    let config = ValidationConfig::default().known_stores(stores);
    let no_dups = config.clone().detect_duplicates(false);

    // The validator must accept the whole file, or the comparison measures the error path.
    let check = validate_bytes(&bytes, &config);
    assert!(check.is_valid(), "{:?}", check.errors.first());
    assert_eq!(check.counts.valid, u64::from(ROWS));

    let mut g = c.benchmark_group("sales_csv");
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.bench_function("csv_byte_record_baseline", |b| {
        b.iter(|| {
            let mut reader = csv::ReaderBuilder::new().from_reader(black_box(bytes.as_slice()));
            let mut record = csv::ByteRecord::new();
            let mut fields = 0usize;
            while reader.read_byte_record(&mut record).unwrap_or(false) {
                fields += record.len();
            }
            fields
        })
    });
    g.bench_function("ffc_sales_validate", |b| {
        b.iter(|| validate_bytes(black_box(&bytes), &config).counts.valid)
    });
    g.bench_function("ffc_sales_validate_no_duplicate_check", |b| {
        b.iter(|| validate_bytes(black_box(&bytes), &no_dups).counts.valid)
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
