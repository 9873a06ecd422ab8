//! The MQTT payload decoder on arbitrary bytes: never panics, comment stripping keeps the
//! lines, and every message it decodes survives the publisher's encoding
//! (`check_decode`, which the test suite also runs under proptest).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ffc_protocols::mqtt::codec::check_decode(data);
});
