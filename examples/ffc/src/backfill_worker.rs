//! `ffc backfill-worker`: the continuous form of `ffc reconcile --backfill` for deployments.
//! Every `--every` it pulls the recent past (`--lookback`, as far back as the counters hold
//! data) from each counter's CGI API, reconciles it with the live events the receivers kept in
//! PostgreSQL (`ffc_events`), and writes every bucket with its provenance into
//! `ffc_merged_records`: `match`, `backfilled` (the live path was short; the pulled counts
//! restore it), `live-over`, `conflict` (per direction the larger count), `unverified`. The
//! BI views (`ffc_bucket_provenance`, `ffc_branch_buckets`, `sitegroup_footfallcounting_*`)
//! read that table. A restored bucket stays `backfilled` in later passes; counts never go
//! down.

use std::time::Duration;

use clap::Args;
use ffc_core::reconcile::{self, BucketState, ReconciledBucket};
use ffc_core::{CameraSerial, Resolution, Subject, UnixSeconds, Zone};
use ffc_device::client::{Credentials, DeviceClient, DeviceClientConfig};
use ffc_device::query::DataType;
use ffc_protocols::sink::postgres::{MergedRow, PgSink, PgSinkConfig};

/// `ffc backfill-worker` arguments. No `Debug`: it holds the counters' password.
#[derive(Args)]
pub struct BackfillWorkerArgs {
    /// The PostgreSQL database the receivers write (`ffc listen ... --postgres`); the
    /// password from the URL or env FFC_PG_PASSWORD.
    #[arg(long)]
    pub postgres: String,
    /// A counter's CGI API base URL (`http://10.0.0.5/cgi-bin/`); repeat for each counter.
    #[arg(long = "device", required = true)]
    pub devices: Vec<String>,
    /// The counters' user.
    #[arg(long, default_value = "admin")]
    pub username: String,
    /// The counters' password (env FFC_DEVICE_PASSWORD).
    #[arg(long, env = "FFC_DEVICE_PASSWORD", hide_env_values = true)]
    pub password: String,
    /// Minutes between passes.
    #[arg(long, default_value_t = 15)]
    pub every_minutes: u64,
    /// Hours of the recent past each pass reconciles (the counters keep minutely data 90
    /// days and hourly data for ever).
    #[arg(long, default_value_t = 48)]
    pub lookback_hours: i64,
    /// Bucket length pulled: `hour` or minutes (1, 5, 10, 15, 30, 60).
    #[arg(long, default_value = "hour")]
    pub resolution: String,
    /// One pass, then exit.
    #[arg(long)]
    pub once: bool,
}

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pass {
    /// Buckets written, per state: match, backfilled, live-over, conflict, unverified.
    pub states: [usize; 5],
    /// Buckets restored in this pass (live-short, not restored before).
    pub restored: usize,
    /// Count requests sent to the counters.
    pub requests: usize,
}

/// The provenance a reconciled bucket is written with.
pub fn provenance(b: &ReconciledBucket) -> &'static str {
    match b.state {
        BucketState::Match => "match",
        BucketState::LiveShort => "backfilled",
        BucketState::LiveOver => "live-over",
        BucketState::Conflict => "conflict",
        BucketState::Unverified => "unverified",
    }
}

fn row(b: &ReconciledBucket) -> MergedRow {
    let mut r = MergedRow::new(
        b.counter,
        b.start,
        b.length,
        (b.merged_in(), b.merged_out()),
        provenance(b),
    );
    r.utc_offset_seconds = b.offset.seconds();
    r.live_in = b.live_in;
    r.live_out = b.live_out;
    r.pulled = b.pulled_in.zip(b.pulled_out);
    r
}

/// One pass over `devices` for `[from, to)`: pull, reconcile with the live events in `sink`,
/// write the merged buckets with their provenance.
pub async fn pass(
    sink: &PgSink,
    devices: &[DeviceClient],
    from: UnixSeconds,
    to: UnixSeconds,
    resolution: Resolution,
) -> Result<Pass, String> {
    let mut done = Pass::default();
    for device in devices {
        let mut windows = 0;
        let pulled = device
            .pull(from, to, resolution, DataType::Json, |_| windows += 1)
            .await
            .map_err(|e| format!("pull: {e}"))?;
        done.requests += windows;
        let serials: std::collections::BTreeSet<CameraSerial> = pulled
            .iter()
            .filter_map(|r| match r.subject {
                Subject::Counter(s) => Some(s),
                _ => None,
            })
            .collect();
        for serial in serials {
            let live = sink
                .live_events(serial, from, to)
                .await
                .map_err(|e| e.to_string())?;
            let held = sink
                .backfilled_records(serial, from, to)
                .await
                .map_err(|e| e.to_string())?;
            let mut found = reconcile::reconcile(&live, &pulled);
            let before: usize = found
                .non_matching()
                .filter(|b| b.state == BucketState::LiveShort)
                .count();
            found.mark_held(&held);
            let fresh = found
                .buckets
                .iter()
                .filter(|b| b.state == BucketState::LiveShort && !b.held)
                .count();
            done.restored += fresh.min(before);
            for b in &found.buckets {
                let i = ["match", "backfilled", "live-over", "conflict", "unverified"]
                    .iter()
                    .position(|s| *s == provenance(b))
                    .unwrap_or(4);
                done.states[i] += 1;
            }
            let rows: Vec<MergedRow> = found.buckets.iter().map(row).collect();
            sink.put_merged(&rows).await.map_err(|e| e.to_string())?;
        }
    }
    Ok(done)
}

fn resolution(text: &str) -> Result<Resolution, String> {
    if text == "hour" {
        return Ok(Resolution::Hour);
    }
    let minutes: u8 = text
        .parse()
        .map_err(|_| format!("--resolution {text:?}: `hour` or minutes"))?;
    Resolution::minutes(minutes).map_err(|e| format!("--resolution {text:?}: {e}"))
}

/// `ffc backfill-worker`.
pub fn run(args: BackfillWorkerArgs) -> Result<(), String> {
    crate::runtime()?.block_on(async {
        let mut config = PgSinkConfig::new(&args.postgres).map_err(|e| format!("--postgres: {e}"))?;
        if std::env::var_os("FFC_PG_PASSWORD").is_some() {
            config = config
                .with_password_from_env("FFC_PG_PASSWORD")
                .map_err(|e| e.to_string())?;
        }
        let sink = PgSink::connect(config).await.map_err(|e| e.to_string())?;
        let devices = args
            .devices
            .iter()
            .map(|url| {
                DeviceClient::new(
                    DeviceClientConfig::new(url.clone(), Zone::UTC),
                    Credentials::new(args.username.clone(), args.password.clone()),
                )
                .map_err(|e| format!("--device {url}: {e}"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let resolution = resolution(&args.resolution)?;
        loop {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0);
            let to = now - now.rem_euclid(3600);
            let from = to - args.lookback_hours * 3600;
            let done = pass(&sink, &devices, from, to, resolution).await?;
            println!(
                "pass: {} buckets (match {}, backfilled {}, live-over {}, conflict {}, unverified {}), {} restored now, {} requests",
                done.states.iter().sum::<usize>(),
                done.states[0],
                done.states[1],
                done.states[2],
                done.states[3],
                done.states[4],
                done.restored,
                done.requests
            );
            if args.once {
                break;
            }
            tokio::select! {
                () = tokio::time::sleep(Duration::from_secs(args.every_minutes.max(1) * 60)) => {}
                () = ffc_protocols::shutdown::signal() => break,
            }
        }
        sink.close().await;
        Ok(())
    })
}
