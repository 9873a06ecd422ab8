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
//!
//! Uses nothing but the SDK's public API, as a BI team's own program would.
use std::process::ExitCode;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use ffc_core::time::{naive_to_seconds, seconds_to_naive, Format};
use ffc_core::{CountRecord, Resolution, Subject, UnixSeconds, UtcOffset, Zone};
use ffc_device::client::{Credentials, DeviceClient, DeviceClientConfig};
use ffc_device::query::DataType;

const RESUMES: u32 = 3;

/// `UTC`, a fixed offset `+HH:MM` / `-HH:MM`, or an IANA name.
fn parse_zone(text: &str) -> Result<Zone, String> {
    if text.eq_ignore_ascii_case("utc") {
        return Ok(Zone::UTC);
    }
    if let Some(rest) = text.strip_prefix('+').or_else(|| text.strip_prefix('-')) {
        let sign = if text.starts_with('-') { -1 } else { 1 };
        let (h, m) = rest.split_once(':').unwrap_or((rest, "0"));
        let (h, m): (i32, i32) = h
            .parse()
            .and_then(|h| Ok((h, m.parse()?)))
            .map_err(|_| format!("zone {text:?}: not an offset like +08:00"))?;
        let offset = UtcOffset::from_seconds(sign * (h * 3600 + m * 60))
            .map_err(|e| format!("zone {text:?}: {e}"))?;
        return Ok(Zone::Fixed(offset));
    }
    Zone::iana(text).ok_or_else(|| format!("zone {text:?}: not UTC, +08:00 or an IANA name"))
}

/// A local `YYYY-MM-DD[ HH:MM]` in `zone`, as UTC unix seconds.
fn parse_local(text: &str, zone: &Zone) -> Result<UnixSeconds, String> {
    let local = match text.trim().split_once(' ') {
        Some(_) => NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%d %H:%M"),
        None => {
            NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map(|d| d.and_time(NaiveTime::MIN))
        }
    }
    .map_err(|e| format!("{text:?}: {e} (YYYY-MM-DD[ HH:MM])"))?;
    Ok(zone.local_to_utc(naive_to_seconds(local)))
}

/// The records as CSV, local times in `zone`.
fn csv(records: &[CountRecord], zone: &Zone) -> String {
    let mut out = String::from("subject,start_utc,local_start,length_seconds,in,out,source\n");
    for r in records {
        let subject = match r.subject {
            Subject::Counter(serial) => serial.to_string(),
            Subject::Site(site) => format!("site {}", site.0),
        };
        let local = seconds_to_naive(zone.local_seconds(r.start))
            .map(|t| Format::DateTime.display(t).to_string())
            .unwrap_or_default();
        out.push_str(&format!(
            "{subject},{},{local},{},{},{},{:?}\n",
            r.start, r.length, r.count_in, r.count_out, r.source
        ));
    }
    out
}

async fn run() -> Result<(), String> {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let [url, from, to, out, rest @ ..] = argv.as_slice() else {
        return Err("usage: device_pull_to_csv URL FROM TO OUT.csv [ZONE]".into());
    };
    let zone = parse_zone(rest.first().map_or("UTC", String::as_str))?;
    let password = std::env::var("FFC_PASSWORD").map_err(|_| "set FFC_PASSWORD")?;
    let client = DeviceClient::new(
        DeviceClientConfig::new(url.clone(), zone),
        Credentials::new("admin", password),
    )
    .map_err(|e| e.to_string())?;
    let mut from = parse_local(from, &zone)?;
    let to = parse_local(to, &zone)?;
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
                let _ = std::fs::write(out, csv(&records, &zone));
                return Err(format!("gave up after {RESUMES} resumes: {}", e.source));
            }
        }
    }
    std::fs::write(out, csv(&records, &zone)).map_err(|e| format!("{out}: {e}"))?;
    eprintln!("{} hourly records written to {out}", records.len());
    Ok(())
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let outcome = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))
        .and_then(|rt| rt.block_on(run()));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
