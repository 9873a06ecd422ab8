//! The BACnet/IP decoder (BVLC, NPDU, APDU header and every service body) on arbitrary
//! datagrams: it must never panic, and whatever decodes must re-encode stably. The same
//! entry point runs under proptest in ffc-protocols/tests/bacnet_wire.rs.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = ffc_protocols::bacnet::wire::decode_and_reencode(data);
    // The device's answer path on the same bytes: decode, then build the reply.
    let mut device = ffc_protocols::bacnet::device::DeviceCore::<u8>::new(
        ffc_protocols::bacnet::device::BacnetDeviceConfig::new(123_456),
    );
    let values = |_: ffc_core::Metric, x: u8| u64::from(x);
    for reply in device.handle(&values, 0, data, 0) {
        assert!(ffc_protocols::bacnet::wire::Frame::parse(&reply).is_ok());
    }
});
