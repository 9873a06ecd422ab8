//! The core's text parsers (serial, dates, times, unix seconds) on arbitrary bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = ffc_core::CameraSerial::parse(text);
        let _ = ffc_core::time::parse_compact_date(text);
        let _ = ffc_core::time::parse_compact_time(text);
        let _ = ffc_core::time::parse_datetime(text);
        let _ = ffc_core::time::parse_sales_datetime(text);
        let _ = ffc_core::time::parse_unix_seconds(text);
    }
});
