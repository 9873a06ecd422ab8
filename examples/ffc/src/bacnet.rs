//! `ffc bacnet discover|read`: find FFC devices with Who-Is and read their 48 hourly
//! In/Out values over BACnet/IP.
use std::net::SocketAddr;
use std::time::Duration;

use clap::Subcommand;
use ffc_core::{CameraSerial, Zone};
use ffc_protocols::bacnet::client::{
    BacnetClientConfig as BacnetConfig, Client as BacnetClient, DeviceInfo,
};

use crate::args::{self, RecordFormat};

/// The BACnet commands.
#[derive(Subcommand)]
pub enum BacnetCommand {
    /// Who-Is to an address (a device's, or a broadcast address such as
    /// 255.255.255.255:47808); prints every I-Am as a JSON line.
    Discover {
        /// Where to send Who-Is.
        #[arg(long)]
        target: SocketAddr,
        /// How long to collect answers, in milliseconds.
        #[arg(long, default_value_t = 1000)]
        wait_ms: u64,
    },
    /// Read a device's 48 hourly In/Out values (`In-C-X`, `Out-C-X`) as count records.
    Read {
        /// The device's address.
        #[arg(long)]
        target: SocketAddr,
        /// The device instance (default: ask with Who-Is).
        #[arg(long)]
        instance: Option<u32>,
        /// The counter's serial to label records with (default: the instance number).
        #[arg(long)]
        serial: Option<CameraSerial>,
        /// How records are printed.
        #[arg(long, value_enum, default_value_t = RecordFormat::Csv)]
        format: RecordFormat,
    },
}

/// Runs a BACnet command.
pub fn run(command: BacnetCommand) -> Result<(), String> {
    crate::block_on(async move {
        match command {
            BacnetCommand::Discover { target, wait_ms } => discover(target, wait_ms).await,
            BacnetCommand::Read {
                target,
                instance,
                serial,
                format,
            } => read(target, instance, serial, format).await,
        }
    })
}

/// A client bound where it can reach `target`: loopback for a loopback device.
async fn bind_for(target: &SocketAddr) -> Result<BacnetClient, String> {
    let bind = if target.ip().is_loopback() {
        SocketAddr::from(([127, 0, 0, 1], 0))
    } else {
        BacnetConfig::default().bind
    };
    BacnetClient::bind(BacnetConfig::default().with_bind(bind))
        .await
        .map_err(|e| e.to_string())
}

async fn discover(target: SocketAddr, wait_ms: u64) -> Result<(), String> {
    let mut client = bind_for(&target).await?;
    let found = client
        .who_is(target, None, Duration::from_millis(wait_ms))
        .await
        .map_err(|e| e.to_string())?;
    for d in &found {
        println!(
            "{}",
            serde_json::json!({
                "instance": d.instance,
                "address": d.address.to_string(),
                "max_apdu": d.max_apdu,
                "segmentation": format!("{:?}", d.segmentation),
                "vendor_id": d.vendor_id,
            })
        );
    }
    if found.is_empty() {
        return Err(format!("no device answered Who-Is at {target}"));
    }
    Ok(())
}

async fn read(
    target: SocketAddr,
    instance: Option<u32>,
    serial: Option<CameraSerial>,
    format: RecordFormat,
) -> Result<(), String> {
    let mut client = bind_for(&target).await?;
    let info = match instance {
        Some(instance) => DeviceInfo::known(instance, target),
        None => client
            .who_is(target, None, Duration::from_millis(1000))
            .await
            .map_err(|e| e.to_string())?
            .first()
            .copied()
            .ok_or_else(|| format!("no device answered Who-Is at {target}"))?,
    };
    let series = client.read_counts(&info).await.map_err(|e| e.to_string())?;
    let serial = serial.unwrap_or(CameraSerial::from_u64(u64::from(info.instance)));
    let records = series.to_records(serial);
    print!("{}", args::records(&records, format, &Zone::UTC)?);
    eprintln!(
        "device {}: {} hours read in {} round trips",
        info.instance,
        records.len(),
        client.stats().round_trips()
    );
    Ok(())
}
