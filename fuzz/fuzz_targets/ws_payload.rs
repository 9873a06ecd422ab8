//! The WebSocket payload decoder on arbitrary bytes: never panics, and every event it
//! decodes survives the classic and 3D Pro2 encodings (`check_decode`, which the test
//! suite also runs under proptest).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ffc_protocols::ws::codec::check_decode(data);
});
