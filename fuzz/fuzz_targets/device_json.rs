//! The device count-body JSON decoder and the token-body decoder on arbitrary bytes, in a
//! fixed zone and in one with DST (where local times can be ambiguous or skipped).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = ffc_device::body::decode_json(data, &ffc_core::Zone::UTC);
    if let Some(london) = ffc_core::Zone::iana("Europe/London") {
        let _ = ffc_device::body::decode_json(data, &london);
    }
    let _ = ffc_device::body::decode_token(data);
});
