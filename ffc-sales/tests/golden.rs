//! Golden files: each sales file under `tests/golden/` with its expected import report and
//! day batches as JSON. Files named `error_<code>.csv` must also report that reason code.
//!
//! To rewrite the expected JSON after a deliberate change: `FFC_UPDATE_GOLDEN=1 cargo test
//! -p ffc-sales --test golden`, then review the diff.

use std::fs;
use std::path::{Path, PathBuf};

use ffc_sales::{validate_reader, HeaderMapping, ImportMode, SalesField, ValidationConfig};

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn config_for(stem: &str) -> ValidationConfig {
    let config = ValidationConfig::default()
        .with_known_stores(["S001", "S002", "S003"])
        .with_max_errors(50);
    if stem.starts_with("mapped_") {
        config.with_mapping(
            HeaderMapping::by_name()
                .map(SalesField::StoreCode, "Branch")
                .map(SalesField::TotalTransactionValue, "Net Sales"),
        )
    } else {
        config
    }
}

fn check(path: &Path, expected: &Path, mode: ImportMode) -> serde_json::Value {
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap();
    let file = fs::File::open(path).unwrap();
    let validation = validate_reader(file, &config_for(stem)).unwrap();
    let import = validation.import(&format!("{stem}.csv"), mode);
    let actual = serde_json::to_value(&import).unwrap();
    let pretty = serde_json::to_string_pretty(&actual).unwrap() + "\n";
    if std::env::var_os("FFC_UPDATE_GOLDEN").is_some() {
        fs::write(expected, &pretty).unwrap();
    }
    let want = fs::read_to_string(expected)
        .unwrap_or_else(|_| panic!("missing expected report {}", expected.display()));
    let want: serde_json::Value = serde_json::from_str(&want).unwrap();
    assert_eq!(
        actual,
        want,
        "{} ({mode:?}) differs from {}:\n{pretty}",
        path.display(),
        expected.display()
    );
    actual
}

#[test]
fn every_golden_file_matches_its_report() {
    let mut files: Vec<PathBuf> = fs::read_dir(golden_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "csv"))
        .collect();
    files.sort();
    assert!(files.len() >= 20, "golden files missing: {files:?}");
    for path in &files {
        let stem = path.file_stem().unwrap().to_str().unwrap().to_owned();
        let atomic = check(path, &path.with_extension("json"), ImportMode::Atomic);
        let partial_path = golden_dir().join(format!("{stem}.valid_rows_only.json"));
        if partial_path.exists() || stem == "mixed" {
            check(path, &partial_path, ImportMode::ValidRowsOnly);
        }
        let report = &atomic["report"];
        if let Some(code) = stem.strip_prefix("error_") {
            let codes: Vec<&str> = report["errors"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["reason"]["code"].as_str().unwrap())
                .collect();
            assert!(codes.contains(&code), "{stem}: reasons {codes:?}");
            assert_eq!(report["outcome"], "rejected", "{stem}");
            assert!(atomic["batches"].as_array().unwrap().is_empty(), "{stem}");
        }
        if stem.starts_with("header_") {
            assert!(!report["header_problems"].as_array().unwrap().is_empty());
            assert_eq!(report["outcome"], "rejected", "{stem}");
        }
    }
}

#[test]
fn valid_golden_file_is_imported_whole() {
    let file = fs::File::open(golden_dir().join("valid.csv")).unwrap();
    let v = validate_reader(file, &config_for("valid")).unwrap();
    assert!(v.is_valid(), "{:?}", v.errors);
    assert_eq!(v.counts.valid, 6);
    assert_eq!(v.counts.blank, 1);
    let import = v.import("valid.csv", ImportMode::Atomic);
    let cents: i64 = import
        .batches
        .iter()
        .flat_map(|b| &b.rows)
        .map(|r| r.amount_cents)
        .sum();
    assert_eq!(cents, 12050 + 1550 + 123_456 + 99_999 + 1); // the 10:00 row is 0
}
