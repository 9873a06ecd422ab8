//! The MQTT codec's payload splitter (what `ffc decode mqtt` reads captures with) on
//! arbitrary bytes: never panics; the payloads it finds are in order, do not overlap, are
//! the input's own bytes at their offsets, carry a line number that counts the newlines
//! before them, and each goes to the MQTT codec's checked decoder. The same properties run
//! under proptest in ffc-protocols/tests/mqtt_split.rs.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut end = 0;
    for (offset, line, payload) in ffc_protocols::mqtt::codec::split_payloads(data) {
        assert!(offset >= end, "payloads overlap or go backwards");
        assert!(!payload.is_empty());
        assert_eq!(data.get(offset..offset + payload.len()), Some(payload));
        let newlines = data[..offset].iter().filter(|b| **b == b'\n').count();
        assert_eq!(line, newlines + 1);
        end = offset + payload.len();
        ffc_protocols::mqtt::codec::check_decode(payload);
    }
});
