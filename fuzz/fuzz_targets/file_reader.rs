//! Export and per-counter FTP file readers: any bytes, no panic; every row read or
//! reported with its line.
#![no_main]

use chrono::NaiveDate;
use ffc_client::files::{read_counter_day, read_export, CounterDayFile, ExportFileOptions};
use ffc_core::aggregate::Series;
use ffc_core::{CameraSerial, Resolution, Zone};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let opts = ExportFileOptions::default();
    if let Ok(file) = read_export("fuzz.csv", data, &opts) {
        for e in &file.errors {
            assert!(e.line >= 1);
        }
    }
    let mut series = Series::new(Resolution::Hour, Zone::UTC);
    let mut errors = Vec::new();
    let file = CounterDayFile {
        name: "000000006afce315_20240501.csv",
        serial: CameraSerial::from_u64(0x6afc_e315),
        day: NaiveDate::from_ymd_opt(2024, 5, 1).unwrap_or_default(),
        bytes: data,
    };
    let _ = read_counter_day(&file, &opts, &mut series, &mut errors);
});
