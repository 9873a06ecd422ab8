//! `ffc reconcile --backfill`: pulls exactly the `live-short` windows from the counter
//! (`--device`) or the server (`--server`), overlays them on the pull and reconciles again.

use ffc_client::http::V9Client;
use ffc_core::reconcile::{backfill_windows, overlay, server_requests, Reconciliation};
use ffc_core::{CameraSerial, CountEvent, CountRecord};
use ffc_device::client::{Credentials, DeviceClient, DeviceClientConfig};
use ffc_device::query::DataType;

use super::input::Pulled;

/// Where a backfill pulls from.
#[derive(clap::Args)]
pub struct BackfillSource {
    /// The counter's CGI API (it serves one counter: see --counter).
    #[arg(long, conflicts_with = "server")]
    pub device: Option<String>,
    /// The counter's username.
    #[arg(long, default_value = "admin")]
    pub username: String,
    /// The counter's password (better given as env FFC_PASSWORD).
    #[arg(long, env = "FFC_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    /// The counter the device is, when live-short buckets name several.
    #[arg(long)]
    pub counter: Option<CameraSerial>,
    /// The V9 server (exportData), for counters you cannot reach directly.
    #[arg(long)]
    pub server: Option<String>,
    /// The server account's e-mail.
    #[arg(long, env = "FFC_V9_EMAIL")]
    pub email: Option<String>,
    /// The server account's password (better given as env FFC_V9_PASSWORD).
    #[arg(long, env = "FFC_V9_PASSWORD", hide_env_values = true)]
    pub server_password: Option<String>,
    /// The zone the device's and the server's local times are in.
    #[arg(long, default_value = "UTC")]
    pub zone: String,
}

/// Pulls the planned windows; the reconciliation after the merge and the requests sent.
pub async fn run(
    src: &BackfillSource,
    live: &[CountEvent],
    pulled: &Pulled,
    first: &Reconciliation,
) -> Result<(Reconciliation, usize), String> {
    let zone = crate::args::parse_zone(&src.zone)?;
    let mut windows = backfill_windows(first);
    if let Some(c) = src.counter {
        windows.retain(|w| w.counter == c);
    }
    let (fresh, requests): (Vec<CountRecord>, usize) = match (&src.device, &src.server) {
        (Some(url), _) => {
            let mut counters: Vec<CameraSerial> = windows.iter().map(|w| w.counter).collect();
            counters.dedup();
            if counters.len() > 1 {
                return Err(format!(
                    "live-short buckets of {} counters; a device serves one: pass --counter",
                    counters.len()
                ));
            }
            let password = src
                .password
                .clone()
                .ok_or("no device password: set FFC_PASSWORD or pass --password")?;
            let client = DeviceClient::new(
                DeviceClientConfig::new(url.clone(), zone),
                Credentials::new(src.username.clone(), password),
            )
            .map_err(|e| e.to_string())?;
            let got = ffc_device::backfill::backfill(&client, &windows, DataType::Json)
                .await
                .map_err(|e| e.to_string())?;
            (got.records, got.requests)
        }
        (None, Some(url)) => {
            let email = src
                .email
                .clone()
                .ok_or("no e-mail: set FFC_V9_EMAIL or pass --email")?;
            let password = src
                .server_password
                .clone()
                .ok_or("no server password: set FFC_V9_PASSWORD or pass --server-password")?;
            let client = V9Client::new(url, &email, ffc_client::Secret::new(password))
                .map_err(|e| e.to_string())?;
            let requests = server_requests(&windows, ffc_client::v9::CHUNK_DAYS);
            let got = ffc_client::backfill::backfill(&client, &requests, zone)
                .await
                .map_err(|e| e.to_string())?;
            (got.records, got.requests)
        }
        (None, None) => return Err("--backfill needs --device URL or --server URL".into()),
    };
    let merged = Pulled {
        records: overlay(&pulled.records, &fresh),
        held: pulled.held.clone(),
    };
    Ok((super::reconcile_files(live, &merged), requests))
}
