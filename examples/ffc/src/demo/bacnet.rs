//! Branch South's first counter over BACnet/IP: a simulated FFC device whose 48-hour ring
//! is filled from a seeded event stream, read with the SDK's client.
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ffc_core::{CountRecord, HourlyRing48, Metric, PeopleType};
use ffc_protocols::bacnet::client::{BacnetClientConfig as BacnetConfig, Client as BacnetClient};
use ffc_protocols::bacnet::device::{BacnetDeviceConfig, SimulatedDevice};
use tracing::Instrument as _;

use super::{simulator, Day, SOUTH_1};

const BACNET_INSTANCE: u32 = 123_317;

/// The day's hours read over BACnet/IP (in a `bacnet` span), checked against the device.
pub(super) async fn read_south(
    day: &Day,
    say: &mut dyn FnMut(String),
) -> Result<Vec<CountRecord>, String> {
    read(day, say)
        .instrument(tracing::info_span!("bacnet", serial = %SOUTH_1, instance = BACNET_INSTANCE))
        .await
}

/// The device's ring, filled with the visitors of the last 48 hours.
async fn ring(day: &Day) -> Result<HourlyRing48, String> {
    let stream = simulator(SOUTH_1, "ACME - South door", 3).await?;
    let mut ring = HourlyRing48::new(day.zone);
    ring.advance_to(day.now);
    let ring_from = day.now - day.now.rem_euclid(3600) - 47 * 3600;
    for event in stream.events(ring_from, day.now) {
        if event.people_type == PeopleType::Visitor {
            ring.record_event(&event)
                .map_err(|_| "event outside the ring")?;
        }
    }
    Ok(ring)
}

async fn read(day: &Day, say: &mut dyn FnMut(String)) -> Result<Vec<CountRecord>, String> {
    let ring = Arc::new(Mutex::new(ring(day).await?));
    let device = SimulatedDevice::spawn(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        BacnetDeviceConfig::new(BACNET_INSTANCE),
        Arc::clone(&ring),
    )
    .await
    .map_err(|e| format!("BACnet device: {e}"))?;
    let mut bacnet = BacnetClient::bind(
        BacnetConfig::default().with_bind(SocketAddr::from(([127, 0, 0, 1], 0))),
    )
    .await
    .map_err(|e| e.to_string())?;
    let found = bacnet
        .who_is(device.local_addr(), None, Duration::from_millis(500))
        .await
        .map_err(|e| e.to_string())?;
    let info = found
        .first()
        .copied()
        .ok_or("the BACnet device did not answer Who-Is")?;
    let series = bacnet.read_counts(&info).await.map_err(|e| e.to_string())?;
    let south: Vec<CountRecord> = series
        .to_records(SOUTH_1)
        .into_iter()
        .filter(|r| r.start >= day.start && r.start < day.end)
        .collect();
    check(&ring, &south)?;
    tracing::debug!(
        hours = south.len(),
        round_trips = bacnet.stats().round_trips(),
        "read, equal to the device's"
    );
    say(format!(
        "read South-1 over BACnet/IP: device {} at {}, 96 values in {} round trips, equal to the device's",
        info.instance,
        info.address,
        bacnet.stats().round_trips()
    ));
    device.shutdown().await;
    Ok(south)
}

/// Every hour read equals what the device's ring holds.
fn check(ring: &Mutex<HourlyRing48>, south: &[CountRecord]) -> Result<(), String> {
    let ring = ring.lock().map_err(|_| "ring lock")?;
    let current = ring.current_hour().ok_or("ring has no hour")?;
    for r in south {
        let back = usize::try_from((current - r.start) / 3600).map_err(|_| "hour")?;
        let want_in = u64::from(ring.value(Metric::In, back).unwrap_or(0));
        let want_out = u64::from(ring.value(Metric::Out, back).unwrap_or(0));
        if (r.count_in, r.count_out) != (want_in, want_out) {
            return Err(format!(
                "South-1: BACnet read of {} differs from the device",
                r.start
            ));
        }
    }
    Ok(())
}
