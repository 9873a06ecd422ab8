//! Reference integration: poll an FFC counter over BACnet/IP as a building management
//! system does, and print the last complete hour (`In-C-1`, `Out-C-1`) at each poll.
//!
//! `cargo run -p ffc-examples --bin bacnet_poll -- 192.168.2.123:47808 000000006afce315 [POLLS] [INTERVAL_MS]`
//!
//! The device is found with Who-Is at the address, its object list read once, then every
//! poll reads the 96 values with ReadPropertyMultiple (segmented answers reassembled).
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use ffc_core::CameraSerial;
use ffc_protocols::bacnet::client::{BacnetClientConfig, Client};

async fn run() -> Result<(), String> {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let [target, serial, rest @ ..] = argv.as_slice() else {
        return Err("usage: bacnet_poll ADDR:PORT SERIAL [POLLS] [INTERVAL_MS]".into());
    };
    let target: SocketAddr = target.parse().map_err(|e| format!("{target}: {e}"))?;
    let serial: CameraSerial = serial.parse().map_err(|e| format!("{serial}: {e:?}"))?;
    let polls: u32 = rest
        .first()
        .map_or(Ok(1), |p| p.parse())
        .map_err(|_| "POLLS")?;
    let interval: u64 = rest
        .get(1)
        .map_or(Ok(60_000), |p| p.parse())
        .map_err(|_| "INTERVAL_MS")?;
    let bind = if target.ip().is_loopback() {
        SocketAddr::from(([127, 0, 0, 1], 0))
    } else {
        BacnetClientConfig::default().bind
    };
    let mut client = Client::bind(BacnetClientConfig::default().with_bind(bind))
        .await
        .map_err(|e| e.to_string())?;
    let device = client
        .who_is(target, None, Duration::from_secs(2))
        .await
        .map_err(|e| e.to_string())?
        .first()
        .copied()
        .ok_or_else(|| format!("no BACnet device answered at {target}"))?;
    println!("serial,device,hour_start_utc,in,out");
    for poll in 0..polls {
        if poll > 0 {
            tokio::time::sleep(Duration::from_millis(interval)).await;
        }
        let series = client
            .read_counts(&device)
            .await
            .map_err(|e| e.to_string())?;
        let records = series.to_records(serial);
        // Oldest first: the second to last is the last complete hour.
        let last_complete = records
            .iter()
            .rev()
            .nth(1)
            .ok_or("the device returned under two hours")?;
        println!(
            "{serial},{},{},{},{}",
            device.instance, last_complete.start, last_complete.count_in, last_complete.count_out
        );
    }
    Ok(())
}

fn main() -> ExitCode {
    ffc_examples::main_exit(run())
}
