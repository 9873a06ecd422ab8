//! `ffc demo`: the SDK's main job on loopback, with nothing installed. Two counters of
//! branch North answer over the device CGI API (simulators, real HTTP), a counter of branch
//! South is read over BACnet/IP (a simulated FFC device, real UDP), one counter of each
//! branch pushes its events over WebSocket to our receiver (real TCP, `OK` per event), and
//! a third counter of South publishes over MQTT to an embedded broker (rumqttd), received
//! by the SDK's subscriber. Counter North-2 is offline for the 14:00 hour of its pull, which
//! is backfilled once it answers again. North-3's server goes away at 09:00 until its
//! outbox overflows at 10,000 events (module off), and South-3's MQTT link is cut for 40
//! minutes: reconciling the live events with what the counters hold finds both, the
//! backfill restores them (`revised`), and the health strip is written beside the chart
//! (`restore`). Everything is pulled or received through the SDK, checked against
//! what the simulators hold, rolled up per branch (and checked against the V9 server
//! simulator's exportData over the same counters), joined with a sales CSV (validated by
//! ffc-sales, uploaded to the server simulator's sales import and checked there) into
//! conversion, and written as CSV and an SVG chart.
//!
//! Each source runs in its own `tracing` span (`device`, `bacnet`, `ws`, `mqtt`, `server`,
//! `sales`, with the counter serial where there is one), so `RUST_LOG=debug ffc demo`
//! shows on stderr which source every diagnostic line belongs to.

use std::path::{Path, PathBuf};
use std::time::Duration;

use ffc_core::aggregate::Aggregator;
use ffc_core::backoff::RetryPolicy;
use ffc_core::rollup::{rollup_branch, BranchSeries, BranchSpec};
use ffc_core::{CameraSerial, CountRecord, Resolution, SiteId, UnixSeconds, Zone};
use ffc_device::client::{Credentials, DeviceClient, DeviceClientConfig};
use ffc_device::query::{DataType, Query};
use ffc_device::secret::Secret;
use ffc_device::sim::{DeviceSimConfig, Simulator};
use tracing::Instrument as _;

use crate::report::{self, ReportRow};

mod bacnet;
mod device;
mod mqtt;
mod restore;
mod sales;
mod server;
mod ws;

/// The counters of the demo.
pub const NORTH_1: CameraSerial = CameraSerial::from_u64(0x6afc_e315);
/// Branch North's second counter, offline for the 14:00 hour of its pull.
pub const NORTH_2: CameraSerial = CameraSerial::from_u64(0x6afc_e316);
/// Branch South's counter, read over BACnet/IP.
pub const SOUTH_1: CameraSerial = CameraSerial::from_u64(0x6afc_e317);
/// Branch North's third counter, pushing over WebSocket.
pub const NORTH_3: CameraSerial = CameraSerial::from_u64(0x6afc_e318);
/// Branch South's second counter, pushing over WebSocket.
pub const SOUTH_2: CameraSerial = CameraSerial::from_u64(0x6afc_e319);
/// Branch South's third counter, publishing over MQTT.
pub const SOUTH_3: CameraSerial = CameraSerial::from_u64(0x6afc_e31a);
/// The hour (local, on the demo day) counter North-2 is offline.
pub const OUTAGE_HOUR: i64 = 14;
const PASSWORD: &str = "demo-only-password";

/// What the demo produced.
#[derive(Debug, Clone)]
pub struct DemoOutcome {
    /// The report rows, both branches, open hours.
    pub rows: Vec<ReportRow>,
    /// The branch report as CSV.
    pub csv_path: PathBuf,
    /// The chart.
    pub svg_path: PathBuf,
    /// The raw records pulled, as CSV.
    pub records_path: PathBuf,
    /// The sales CSV the demo generated and joined.
    pub sales_path: PathBuf,
    /// Per branch store code: transactions / A01 over the day, when every open hour is whole.
    pub day_conversion: Vec<(String, Option<f64>)>,
    /// Start of the reported day (UTC).
    pub day_start: UnixSeconds,
    /// What the reconcile and backfill of the live counters did.
    pub restored: restore::Restored,
}

/// The reported day: yesterday (UTC), whole, so every source has all of it.
#[derive(Debug, Clone, Copy)]
struct Day {
    zone: Zone,
    now: UnixSeconds,
    start: UnixSeconds,
    end: UnixSeconds,
}

impl Day {
    fn yesterday() -> Day {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        let start = now - now.rem_euclid(86_400) - 86_400;
        Day {
            zone: Zone::UTC,
            now,
            start,
            end: start + 86_400,
        }
    }
}

/// A seeded counter simulator on loopback.
async fn simulator(serial: CameraSerial, name: &str, seed: u64) -> Result<Simulator, String> {
    simulator_with_peak(serial, name, seed, 60).await
}

/// A seeded counter simulator on loopback with `peak` crossings in its busiest hour.
async fn simulator_with_peak(
    serial: CameraSerial,
    name: &str,
    seed: u64,
    peak: u32,
) -> Result<Simulator, String> {
    Simulator::start(
        DeviceSimConfig::default()
            .with_serial(serial)
            .with_name(name)
            .with_password(Secret::new(PASSWORD))
            .with_seed(seed)
            .with_peak_per_hour(peak),
    )
    .await
    .map_err(|e| format!("device simulator: {e}"))
}

/// A device client for `sim` that gives up fast.
fn client(sim: &Simulator, zone: Zone) -> Result<DeviceClient, String> {
    // Loopback answers at once: fail fast so the outage costs milliseconds.
    let config = DeviceClientConfig::new(sim.base_url(), zone).with_retry(
        RetryPolicy::default()
            .with_max_attempts(Some(2))
            .with_initial(Duration::from_millis(10))
            .with_cap(Duration::from_millis(50)),
    );
    DeviceClient::new(config, Credentials::new("admin", PASSWORD)).map_err(|e| e.to_string())
}

/// What the simulator holds for the day, hourly, as (start, in, out).
fn truth(sim: &Simulator, day: &Day) -> Result<Vec<(i64, u64, u64)>, String> {
    let date = ffc_core::time::seconds_to_naive(day.zone.local_seconds(day.start))
        .ok_or("day out of range")?
        .date();
    let query = Query::builder()
        .data_type(DataType::Json)
        .resolution(Resolution::Hour)
        .date_start(date)
        .build(&day.zone)
        .map_err(|e| e.to_string())?;
    Ok(sim
        .records(&query)
        .iter()
        .map(|r| (r.start, r.count_in, r.count_out))
        .collect())
}

fn triples(records: &[CountRecord]) -> Vec<(i64, u64, u64)> {
    records
        .iter()
        .map(|r| (r.start, r.count_in, r.count_out))
        .collect()
}

/// Each branch's name and its series.
type Branches = Vec<(&'static str, BranchSeries)>;

/// Both branches rolled up from every counter's series.
fn roll_up(agg: &Aggregator, day: &Day) -> Result<(Branches, Vec<BranchSpec>), String> {
    let mut branches = Vec::new();
    let mut specs = Vec::new();
    for (site, name, counters) in [
        (1, "North", vec![NORTH_1, NORTH_2, NORTH_3]),
        (2, "South", vec![SOUTH_1, SOUTH_2, SOUTH_3]),
    ] {
        let spec = BranchSpec {
            site: SiteId(site),
            counters,
        };
        let series = rollup_branch(
            &spec,
            agg.counters(),
            day.start,
            day.end,
            Resolution::Hour,
            day.zone,
        )
        .map_err(|e| format!("branch {name}: {e}"))?;
        branches.push((name, series));
        specs.push(spec);
    }
    Ok((branches, specs))
}

/// Pulled records into their counters' series (and the list written to records.csv).
fn put_records(
    agg: &mut Aggregator,
    pulled: [&[CountRecord]; 3],
) -> Result<Vec<CountRecord>, String> {
    let mut all = Vec::new();
    for records in pulled {
        for r in records {
            if let ffc_core::Subject::Counter(serial) = r.subject {
                agg.series_mut(serial)
                    .put_record(r)
                    .map_err(|e| format!("{serial}: {e}"))?;
            }
        }
        all.extend_from_slice(records);
    }
    Ok(all)
}

/// Runs the demo, printing what happens through `say`, and writes its files to `out_dir`.
pub async fn run(out_dir: &Path, say: &mut dyn FnMut(String)) -> Result<DemoOutcome, String> {
    let day = Day::yesterday();
    let mut agg = Aggregator::new(Resolution::Hour, day.zone);
    let (north_1, north_2) = device::pull_north(&day, say).await?;
    let south = bacnet::read_south(&day, say).await?;
    let (ws_live, _) = ws::receive(&day, say).await?;
    let mqtt_live = mqtt::receive(&day, say).await?;
    std::fs::create_dir_all(out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
    let restored = restore::run(
        &day,
        out_dir,
        &[&ws_live, &mqtt_live],
        &live_counters().await?,
        &mut agg,
        say,
    )
    .instrument(tracing::info_span!("restore"))
    .await?;
    let all_records = put_records(&mut agg, [&north_1, &north_2, &south])?;
    let (branches, specs) = roll_up(&agg, &day)?;
    // The server: a V9 simulator holds the same counters; its exportData must give the
    // branch roll-up we computed, hour by hour. The sales file goes to its import API.
    let sales_csv = sales::sample_sales(&day)?;
    server::check(&branches, &specs, &agg, &day, &sales_csv, say)
        .instrument(tracing::info_span!("server", sites = branches.len()))
        .await?;
    let joined = {
        let _span = tracing::info_span!("sales", stores = "North,South").entered();
        sales::join(out_dir, &sales_csv, &branches, &day, say)?
    };
    let (csv_path, svg_path, records_path) =
        write_files(out_dir, &joined.rows, &all_records, day.zone)?;
    Ok(DemoOutcome {
        rows: joined.rows,
        csv_path,
        svg_path,
        records_path,
        sales_path: joined.sales_path,
        day_conversion: joined.day_conversion,
        day_start: day.start,
        restored,
    })
}

/// The live counters' simulators again (same seeds: the same data), for the backfill.
async fn live_counters() -> Result<Vec<restore::LiveCounter>, String> {
    let mut counters = Vec::new();
    for (serial, name, seed, peak) in ws::COUNTERS {
        let label = if serial == NORTH_3 {
            "North-3"
        } else {
            "South-2"
        };
        counters.push(restore::LiveCounter {
            serial,
            label,
            sim: simulator_with_peak(serial, name, seed, peak).await?,
        });
    }
    counters.push(restore::LiveCounter {
        serial: SOUTH_3,
        label: "South-3",
        sim: simulator(SOUTH_3, mqtt::NAME, mqtt::SEED).await?,
    });
    Ok(counters)
}

/// The report CSV, the chart and the raw records.
fn write_files(
    out_dir: &Path,
    rows: &[ReportRow],
    records: &[CountRecord],
    zone: Zone,
) -> Result<(PathBuf, PathBuf, PathBuf), String> {
    let csv_path = out_dir.join("branch-report.csv");
    let svg_path = out_dir.join("branch-report.svg");
    let records_path = out_dir.join("records.csv");
    let write = |path: &Path, text: String| {
        std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
    };
    write(&csv_path, report::csv(rows).map_err(|e| e.to_string())?)?;
    write(
        &svg_path,
        report::svg(rows, "Visitors in per hour (red cross: not complete)")?,
    )?;
    write(
        &records_path,
        crate::args::records(records, crate::args::RecordFormat::Csv, &zone)?,
    )?;
    Ok((csv_path, svg_path, records_path))
}

/// `ffc demo`: runs the demo and prints its steps, the branch report and the summary.
pub fn command(out: &Path) -> Result<(), String> {
    let started = std::time::Instant::now();
    let outcome = crate::runtime()?.block_on(
        run(out, &mut |line| println!("{line}")).instrument(tracing::info_span!("demo")),
    )?;
    println!();
    print!("{}", report::table(&outcome.rows));
    let partial = outcome
        .rows
        .iter()
        .filter(|r| r.completeness == "partial" || r.completeness == "no-data")
        .count();
    let revised = outcome
        .rows
        .iter()
        .filter(|r| r.completeness == "revised")
        .count();
    println!(
        "\n{partial} hours not complete, {revised} complete after a backfill (revised); report {}, chart {}, records {}",
        outcome.csv_path.display(),
        outcome.svg_path.display(),
        outcome.records_path.display()
    );
    for (store, rate) in &outcome.day_conversion {
        match rate {
            Some(rate) => println!("day conversion {store}: {:.1}%", rate * 100.0),
            None => {
                println!("day conversion {store}: withheld, footfall not whole in every open hour")
            }
        }
    }
    println!("sales joined from {}", outcome.sales_path.display());
    let r = &outcome.restored;
    println!(
        "restored: {} buckets backfilled in {} requests (second run: {}); live events {}; health strip {}",
        r.buckets_restored,
        r.requests,
        r.second_run_requests,
        r.live_path.display(),
        r.health_path.display()
    );
    println!("demo finished in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}
