//! The sales-CSV validator, import decision and report serialization on arbitrary bytes.
//! The same entry point runs under proptest in ffc-sales/tests/properties.rs.
#![no_main]
use libfuzzer_sys::fuzz_target;

use ffc_sales::{validate_bytes, ImportMode, ValidationConfig};

fuzz_target!(|data: &[u8]| {
    let tight = ValidationConfig::default()
        .with_max_row_bytes(64)
        .with_max_errors(4)
        .with_known_stores(["S001", "S002"]);
    for config in [ValidationConfig::default(), tight] {
        let v = validate_bytes(data, &config);
        assert_eq!(v.counts.rows, v.counts.valid + v.counts.invalid);
        assert!(v.errors.len() <= config.max_errors);
        for mode in [ImportMode::Atomic, ImportMode::ValidRowsOnly] {
            let import = v.import("fuzz.csv", mode);
            let _ = serde_json::to_string(&import);
        }
        let _ = v.sales.records(|_| ffc_core::Zone::UTC);
    }
});
