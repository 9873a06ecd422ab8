//! Reference integration: pull a counter's hourly counts for a range into a CSV file, and
//! resume where a failed pull stopped.
//!
//! `FFC_PASSWORD=... cargo run -p ffc-examples --bin device_pull_to_csv -- \
//!     http://192.168.2.123/cgi-bin/ 2024-07-01 2024-07-08 counts.csv [ZONE]`
//!
//! The range is local to the counter (ZONE: `UTC`, `+08:00` or an IANA name; default UTC),
//! the end exclusive. `DeviceClient::pull` splits it into windows the counter accepts; when
//! a window fails after the client's own retries, the records of the complete prefix are
//! kept and the pull resumes from `resume_from` (up to three times).
use std::process::ExitCode;

use ffc_core::time::naive_to_seconds;
use ffc_core::Resolution;
use ffc_device::client::{Credentials, DeviceClient, DeviceClientConfig};
use ffc_device::query::DataType;
use ffc_examples::args;

const RESUMES: u32 = 3;

async fn run() -> Result<(), String> {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let [url, from, to, out, rest @ ..] = argv.as_slice() else {
        return Err("usage: device_pull_to_csv URL FROM TO OUT.csv [ZONE]".into());
    };
    let zone = args::parse_zone(rest.first().map_or("UTC", String::as_str))?;
    let password = std::env::var("FFC_PASSWORD").map_err(|_| "set FFC_PASSWORD")?;
    let client = DeviceClient::new(
        DeviceClientConfig::new(url.clone(), zone),
        Credentials::new("admin", password),
    )
    .map_err(|e| e.to_string())?;
    let mut from = zone.local_to_utc(naive_to_seconds(args::parse_local(from)?));
    let to = zone.local_to_utc(naive_to_seconds(args::parse_local(to)?));
    let mut records = Vec::new();
    let mut resumes = 0;
    loop {
        match client
            .pull(from, to, Resolution::Hour, DataType::Json, |_| {})
            .await
        {
            Ok(rest) => {
                records.extend(rest);
                break;
            }
            Err(e) if resumes < RESUMES => {
                resumes += 1;
                eprintln!(
                    "pull stopped ({}); {} records kept, resuming from {}",
                    e.source,
                    e.records.len(),
                    e.resume_from
                );
                records.extend(e.records);
                from = e.resume_from;
            }
            Err(e) => {
                records.extend(e.records);
                let _ = std::fs::write(
                    out,
                    args::records(&records, args::RecordFormat::Csv, &zone)?,
                );
                return Err(format!("gave up after {RESUMES} resumes: {}", e.source));
            }
        }
    }
    std::fs::write(
        out,
        args::records(&records, args::RecordFormat::Csv, &zone)?,
    )
    .map_err(|e| format!("{out}: {e}"))?;
    eprintln!("{} hourly records written to {out}", records.len());
    Ok(())
}

fn main() -> ExitCode {
    ffc_examples::main_exit(run())
}
