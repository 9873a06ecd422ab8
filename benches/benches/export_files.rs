//! Export-file rows per second: ffc-client's header-driven reader (mapping, date and time
//! parsing with the export's formats, number checks) against the raw `csv` crate parse of
//! the same bytes (records split into fields, nothing interpreted): the fastest plain way to
//! read the file with that crate. ffc's reader splits files with no quote and no `\r` itself
//! (eight bytes at a time) and hands any other file to `csv`, so it can pass this baseline.
use ffc_benches::compare;
use ffc_client::files::{read_export, ExportFileOptions};
use std::fmt::Write as _;
use std::hint::black_box;

const ROWS: usize = 50_000;
const GROUP: &str = "export_file";

/// A site-level hourly manual export: one row per branch and hour.
fn export_file(rows: usize) -> Vec<u8> {
    let mut s =
        String::from("Site,BranchId,Date,Time,ValueIn,ValueOut,OutsideTraffic,TurnInRate\n");
    for i in 0..rows {
        let (branch, hour) = (i % 50, i / 50);
        let day = 1 + (hour / 24) % 28;
        let month = 1 + (hour / (24 * 28)) % 12;
        let v = (i * 7919) % 400;
        let _ = writeln!(
            s,
            "Branch {branch},{},{day:02}/{month:02}/2024,{:02}:00:00,{v},{},{},{:.2}",
            30_000 + branch,
            hour % 24,
            v.saturating_sub(3),
            v * 9 + 11,
            v as f64 / (v * 9 + 11) as f64
        );
    }
    s.into_bytes()
}

fn main() {
    let bytes = export_file(ROWS);
    let opts = ExportFileOptions::default();
    // Both must see the same rows, or the ratio means nothing.
    let checked = read_export("bench.csv", &bytes, &opts).expect("readable");
    assert_eq!(checked.rows.len(), ROWS);
    assert!(checked.errors.is_empty());
    compare(
        GROUP,
        "ffc_read_export",
        || {
            let file = read_export("bench.csv", black_box(&bytes), &opts).expect("readable");
            file.rows.len()
        },
        "raw_csv",
        || {
            let mut reader = csv::ReaderBuilder::new().from_reader(black_box(&bytes[..]));
            let mut record = csv::StringRecord::new();
            let mut n = 0usize;
            while reader.read_record(&mut record).unwrap_or(false) {
                n += record.len();
            }
            n
        },
    );
}
