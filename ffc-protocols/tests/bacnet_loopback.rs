//! Our client against our simulated device, over real UDP on 127.0.0.1.
#![cfg(feature = "bacnet")]

use ffc_core::Metric;
use ffc_protocols::bacnet::client::{BacnetClientConfig, BacnetClientError, Client, DeviceInfo};
use ffc_protocols::bacnet::device::{BacnetDeviceConfig, SimulatedDevice};
use ffc_protocols::bacnet::wire::{
    ErrorClass, ErrorCode, MaxApdu, ObjectId, ObjectType, PropertyId, Segmentation, Value,
};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Distinct, recognisable counts: In = 1000 + 7x, Out = 2000 + 11x.
fn sample(metric: Metric, x: u8) -> u64 {
    match metric {
        Metric::In => 1000 + 7 * u64::from(x),
        Metric::Out => 2000 + 11 * u64::from(x),
    }
}

type Values = fn(Metric, u8) -> u64;

async fn device(config: BacnetDeviceConfig) -> SimulatedDevice {
    let bind: SocketAddr = "127.0.0.1:0".parse().unwrap();
    SimulatedDevice::spawn(bind, config, Arc::new(Mutex::new(sample as Values)))
        .await
        .unwrap()
}

async fn client() -> Client {
    Client::bind(
        BacnetClientConfig::default()
            .with_bind("127.0.0.1:0".parse().unwrap())
            .with_apdu_timeout(Duration::from_millis(1500)),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn discovers_and_reads_all_96_values() {
    let device = device(BacnetDeviceConfig::new(123_456)).await;
    let mut client = client().await;
    let found = client
        .who_is(
            device.local_addr(),
            Some((100_000, 200_000)),
            Duration::from_millis(300),
        )
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    let info = found[0];
    assert_eq!(info.instance, 123_456);
    assert_eq!(info.address, device.local_addr());
    assert_eq!(info.max_apdu, 1476);
    assert_eq!(info.segmentation, Segmentation::Transmit);

    // Out of range: no answer.
    let none = client
        .who_is(
            device.local_addr(),
            Some((0, 99)),
            Duration::from_millis(200),
        )
        .await
        .unwrap();
    assert!(none.is_empty());

    client.reset_stats();
    let series = client.read_counts(&info).await.unwrap();
    assert_eq!(series.device_instance, 123_456);
    assert_eq!(series.hour_read % 3600, 0);
    for x in 0..48u8 {
        assert_eq!(series.inbound[usize::from(x)], sample(Metric::In, x));
        assert_eq!(series.outbound[usize::from(x)], sample(Metric::Out, x));
    }
    let stats = client.stats();
    // object-list (1) + one segmented ReadPropertyMultiple.
    assert_eq!(stats.requests, 2);
    assert!(stats.segments_received > 1, "{stats:?}");
    let records = series.to_records(ffc_core::CameraSerial::from_u64(0x123456));
    assert_eq!(records.len(), 48);
    assert_eq!(records[47].count_in, sample(Metric::In, 0));
    assert_eq!(records[0].start, series.hour_read - 47 * 3600);
    device.shutdown().await;
}

#[tokio::test]
async fn small_max_apdu_without_segmentation_batches() {
    let device = device(BacnetDeviceConfig::new(42).with_max_apdu(MaxApdu::Up480)).await;
    // A client that refuses segmented answers: it must read the object list by index
    // (the whole list is 491 bytes, over 480) and batch the values so each answer fits.
    let mut client = Client::bind(
        BacnetClientConfig::default()
            .with_bind("127.0.0.1:0".parse().unwrap())
            .with_segmented_response_accepted(false),
    )
    .await
    .unwrap();
    let info = client
        .who_is(device.local_addr(), None, Duration::from_millis(300))
        .await
        .unwrap()[0];
    assert_eq!(info.max_apdu, 480);
    let series = client.read_counts(&info).await.unwrap();
    for x in 0..48u8 {
        assert_eq!(series.inbound[usize::from(x)], sample(Metric::In, x));
        assert_eq!(series.outbound[usize::from(x)], sample(Metric::Out, x));
    }
    let stats = client.stats();
    assert_eq!(stats.segments_received, 0);
    // Whole list aborted, its length, the elements, then several value batches.
    assert!(stats.requests > 4, "{stats:?}");
    device.shutdown().await;
}

#[tokio::test]
async fn unsegmented_read_takes_two_round_trips() {
    let device = device(BacnetDeviceConfig::new(7)).await;
    let mut client = client().await;
    let info = DeviceInfo::known(7, device.local_addr());
    // Present values only fit one 1476-byte answer: object-list + one RPM.
    let list = client.read_object_list(&info).await.unwrap();
    assert_eq!(list.len(), 97);
    let specs = list[1..]
        .iter()
        .map(|object| ffc_protocols::bacnet::wire::ReadAccessSpec {
            object: *object,
            properties: vec![ffc_protocols::bacnet::wire::PropertyReference::new(
                PropertyId::PresentValue,
            )],
        })
        .collect::<Vec<_>>();
    let specs = specs[..80].to_vec();
    let results = client.read_property_multiple(&info, specs).await.unwrap();
    assert_eq!(results.len(), 80);
    assert_eq!(client.stats().round_trips(), 2);
    assert_eq!(client.stats().segments_received, 0);
    device.shutdown().await;
}

#[tokio::test]
async fn errors_for_unknown_objects_and_properties() {
    let device = device(BacnetDeviceConfig::new(9)).await;
    let mut client = client().await;
    let info = DeviceInfo::known(9, device.local_addr());
    let missing = ObjectId::new(ObjectType::AnalogValue, 500);
    match client
        .read_property(&info, missing, PropertyId::PresentValue, None)
        .await
    {
        Err(BacnetClientError::Service { class, code }) => {
            assert_eq!(
                (class, code),
                (ErrorClass::Object, ErrorCode::UnknownObject)
            );
        }
        other => panic!("expected unknown-object, got {other:?}"),
    }
    let av = ObjectId::new(ObjectType::AnalogValue, 3);
    match client
        .read_property(&info, av, PropertyId::Other(4000), None)
        .await
    {
        Err(BacnetClientError::Service { class, code }) => {
            assert_eq!(
                (class, code),
                (ErrorClass::Property, ErrorCode::UnknownProperty)
            );
        }
        other => panic!("expected unknown-property, got {other:?}"),
    }
    let name = client
        .read_property(&info, av, PropertyId::ObjectName, None)
        .await
        .unwrap();
    assert_eq!(name, vec![Value::CharacterString("In-C-3".into())]);
    let device_name = client
        .read_property(
            &info,
            ObjectId::new(ObjectType::Device, 9),
            PropertyId::ObjectName,
            None,
        )
        .await
        .unwrap();
    assert_eq!(device_name, vec![Value::CharacterString("FFC".into())]);
    // An unknown confirmed service is rejected.
    match client.confirmed(&info, 15, &[0x09, 0x00]).await {
        Err(BacnetClientError::Rejected(reason)) => {
            assert_eq!(
                reason,
                ffc_protocols::bacnet::wire::RejectReason::UnrecognizedService
            )
        }
        other => panic!("expected a reject, got {other:?}"),
    }
    // A malformed ReadProperty is rejected too.
    assert!(matches!(
        client.confirmed(&info, 12, &[0x0c, 0x00]).await,
        Err(BacnetClientError::Rejected(_))
    ));
    device.shutdown().await;
}

#[tokio::test]
async fn times_out_after_retries_when_nobody_answers() {
    // A bound socket that never answers.
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut client = Client::bind(
        BacnetClientConfig::default()
            .with_bind("127.0.0.1:0".parse().unwrap())
            .with_apdu_timeout(Duration::from_millis(50))
            .with_apdu_retries(2),
    )
    .await
    .unwrap();
    let info = DeviceInfo::known(1, silent.local_addr().unwrap());
    match client.read_object_list(&info).await {
        Err(BacnetClientError::Timeout { attempts, .. }) => assert_eq!(attempts, 3),
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert_eq!(client.stats().requests, 3);
    assert_eq!(client.stats().retries, 2);
}

#[tokio::test]
async fn serves_the_hourly_ring() {
    use ffc_core::{HourlyRing48, Zone};
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let mut ring = HourlyRing48::new(Zone::UTC);
    ring.advance_to(now);
    ring.record(Metric::In, now - 5 * 3600, 17).unwrap();
    ring.record(Metric::Out, now - 47 * 3600, 4).unwrap();
    ring.record(Metric::In, now, 2).unwrap();
    let ring = Arc::new(Mutex::new(ring));
    let device = SimulatedDevice::spawn(
        "127.0.0.1:0".parse().unwrap(),
        BacnetDeviceConfig::new(654_321),
        ring.clone(),
    )
    .await
    .unwrap();
    let mut client = client().await;
    let info = DeviceInfo::known(654_321, device.local_addr());
    let series = client.read_counts(&info).await.unwrap();
    let ring = ring.lock().unwrap().clone();
    // The read may straddle an hour boundary; compare with the ring as the device saw it.
    for x in 0..48usize {
        assert_eq!(
            series.inbound[x],
            u64::from(ring.value(Metric::In, x).unwrap())
        );
        assert_eq!(
            series.outbound[x],
            u64::from(ring.value(Metric::Out, x).unwrap())
        );
    }
    assert!(series.hour_read >= ring.current_hour().unwrap());
    assert_eq!(series.inbound.iter().sum::<u64>(), 19);
    device.shutdown().await;
}
