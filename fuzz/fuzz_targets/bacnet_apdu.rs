//! The BACnet/IP decoder (BVLC, NPDU, APDU header and every service body) on arbitrary
//! datagrams: it must never panic, and whatever decodes must re-encode stably; neither the
//! device's nor the client's sans-IO core panics on them. The same entry points run under
//! proptest in ffc-protocols/tests/bacnet_wire.rs.
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
    // The client's answer path: a client waiting for invoke id 0 and for I-Ams.
    use ffc_protocols::bacnet::client::{BacnetClientConfig, ClientCore, ClientEvent, DeviceInfo};
    let peer = std::net::SocketAddr::from(([192, 0, 2, 1], 47808));
    let mut client = ClientCore::new(BacnetClientConfig::default());
    let _ = client.who_is(peer, None);
    let _ = client.request(&DeviceInfo::known(1, peer), 12, &[], 0);
    for event in client.handle(peer, data, 1) {
        if let ClientEvent::Send(transmit) = event {
            assert!(ffc_protocols::bacnet::wire::Frame::parse(&transmit.datagram).is_ok());
        }
    }
});
