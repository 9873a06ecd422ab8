//! exportData rows (and the other V9 response decoders): any bytes, no panic; a decoded
//! row converts to a record or says why not.
#![no_main]

use ffc_client::datefmt;
use ffc_client::v9::cube::{decode_load, Cube, CubeQuery};
use ffc_client::v9::export::{decode_export, decode_row, Level, Period};
use ffc_client::v9::{sales, token};
use ffc_core::Zone;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (d, t) = (datefmt::default_date(), datefmt::default_time());
    if let Ok(row) = decode_row(data) {
        for level in [Level::Site, Level::Counter] {
            for period in [Period::Hourly, Period::Daily] {
                let _ = row.to_record(level, period, Zone::UTC, &d, &t);
            }
        }
    }
    let _ = decode_export(data);
    let _ = decode_load(Cube::SiteSummary, data);
    let _ = CubeQuery::from_body(data);
    let _ = token::decode_token(data);
    let _ = sales::decode_import(data);
    let _ = sales::decode_rows(data);
});
