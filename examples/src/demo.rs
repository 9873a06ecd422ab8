//! `ffc demo`: the SDK's main job on loopback, with nothing installed. Two counters of
//! branch North answer over the device CGI API (simulators, real HTTP), a counter of branch
//! South is read over BACnet/IP (a simulated FFC device, real UDP), one counter of each
//! branch pushes its events over WebSocket to our receiver (real TCP, `OK` per event), and
//! a third counter of South publishes over MQTT to an embedded broker (rumqttd), received
//! by the SDK's subscriber. Counter North-2 is offline for the 14:00 hour, so that hour is
//! flagged `partial`. Everything is pulled or received through the SDK, checked against
//! what the simulators hold, rolled up per branch (and checked against the V9 server
//! simulator's exportData over the same counters), joined with a sales CSV (validated by
//! ffc-sales, uploaded to the server simulator's sales import and checked there) into
//! conversion, and written as CSV and an SVG chart.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ffc_core::aggregate::Aggregator;
use ffc_core::backoff::RetryPolicy;
use ffc_core::kpi::OperatingHours;
use ffc_core::rollup::{rollup_branch, BranchSpec};
use ffc_core::{
    CameraSerial, CountRecord, HourlyRing48, Metric, PeopleType, Resolution, SiteId, UnixSeconds,
    Zone,
};
use ffc_device::client::{Credentials, DeviceClient, DeviceClientConfig};
use ffc_device::query::{DataType, Query};
use ffc_device::secret::Secret;
use ffc_device::sim::{DeviceSimConfig, Fault, Simulator};
use ffc_protocols::bacnet::client::{BacnetClientConfig as BacnetConfig, Client as BacnetClient};
use ffc_protocols::bacnet::device::{BacnetDeviceConfig, SimulatedDevice};
use ffc_protocols::sink::{MemoryDeadLetters, MemorySink};
use ffc_protocols::ws::sender::{Sender, SenderConfig};
use ffc_protocols::ws::server::{Server, ServerConfig};

use crate::report::{self, ReportRow};

/// The counters of the demo.
pub const NORTH_1: CameraSerial = CameraSerial::from_u64(0x6afc_e315);
/// Branch North's second counter, offline for the 14:00 hour.
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
const BACNET_INSTANCE: u32 = 123_317;
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
}

fn now() -> UnixSeconds {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

async fn device(serial: CameraSerial, name: &str, seed: u64) -> Result<Simulator, String> {
    Simulator::start(
        DeviceSimConfig::default()
            .with_serial(serial)
            .with_name(name)
            .with_password(Secret::new(PASSWORD))
            .with_seed(seed)
            .with_peak_per_hour(60),
    )
    .await
    .map_err(|e| format!("device simulator: {e}"))
}

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

/// What the simulator holds for `[from, to)`, hourly, as (start, in, out).
fn truth(sim: &Simulator, from: UnixSeconds, zone: &Zone) -> Result<Vec<(i64, u64, u64)>, String> {
    let date = ffc_core::time::seconds_to_naive(zone.local_seconds(from))
        .ok_or("day out of range")?
        .date();
    let query = Query::builder()
        .data_type(DataType::Json)
        .resolution(Resolution::Hour)
        .date_start(date)
        .build(zone)
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

/// Runs the demo, printing what happens through `say`, and writes its files to `out_dir`.
pub async fn run(out_dir: &Path, say: &mut dyn FnMut(String)) -> Result<DemoOutcome, String> {
    let zone = Zone::UTC;
    let now = now();
    let day = now - now.rem_euclid(86_400) - 86_400;
    let day_end = day + 86_400;
    let outage = day + OUTAGE_HOUR * 3600;
    let mut agg = Aggregator::new(Resolution::Hour, zone);
    let mut all_records = Vec::new();

    // Branch North: two counters over the device CGI API (HTTP).
    let north_1 = device(NORTH_1, "ACME - North door", 1).await?;
    let north_2 = device(NORTH_2, "ACME - North side door", 2).await?;
    say(format!(
        "device simulators: North-1 {} at {}, North-2 {} at {}",
        NORTH_1,
        north_1.base_url(),
        NORTH_2,
        north_2.base_url()
    ));
    let c1 = client(&north_1, zone)?;
    let pulled_1 = c1
        .pull(day, day_end, Resolution::Hour, DataType::Json, |_| {})
        .await
        .map_err(|e| format!("North-1 pull: {e}"))?;
    if triples(&pulled_1) != truth(&north_1, day, &zone)? {
        return Err("North-1: pulled records differ from the simulator's".into());
    }
    say(format!(
        "pulled North-1: {} hourly records (JSON), equal to the simulator's",
        pulled_1.len()
    ));

    let c2 = client(&north_2, zone)?;
    let mut pulled_2 = c2
        .pull(day, outage, Resolution::Hour, DataType::Xml, |_| {})
        .await
        .map_err(|e| format!("North-2 pull: {e}"))?;
    // North-2 goes offline: every attempt at its 14:00 hour finds the connection dropped.
    north_2.inject([Fault::Drop, Fault::Drop]);
    match c2
        .pull(
            outage,
            outage + 3600,
            Resolution::Hour,
            DataType::Xml,
            |_| {},
        )
        .await
    {
        Ok(_) => return Err("North-2 answered while offline".into()),
        Err(e) => say(format!(
            "North-2 offline {OUTAGE_HOUR:02}:00-{:02}:00: {}",
            OUTAGE_HOUR + 1,
            e.source
        )),
    }
    pulled_2.extend(
        c2.pull(
            outage + 3600,
            day_end,
            Resolution::Hour,
            DataType::Xml,
            |_| {},
        )
        .await
        .map_err(|e| format!("North-2 pull: {e}"))?,
    );
    let mut expected_2 = truth(&north_2, day, &zone)?;
    expected_2.retain(|(start, _, _)| *start != outage);
    if triples(&pulled_2) != expected_2 {
        return Err("North-2: pulled records differ from the simulator's".into());
    }
    say(format!(
        "pulled North-2: {} hourly records (XML), the offline hour missing",
        pulled_2.len()
    ));

    // Branch South: one counter read over BACnet/IP; its 48-hour ring is filled from a
    // seeded event stream.
    let stream = device(SOUTH_1, "ACME - South door", 3).await?;
    let mut ring = HourlyRing48::new(zone);
    ring.advance_to(now);
    let ring_from = now - now.rem_euclid(3600) - 47 * 3600;
    for event in stream.events(ring_from, now) {
        if event.people_type == PeopleType::Visitor {
            ring.record_event(&event)
                .map_err(|_| "event outside the ring")?;
        }
    }
    let ring = Arc::new(Mutex::new(ring));
    let bacnet_device = SimulatedDevice::spawn(
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
        .who_is(bacnet_device.local_addr(), None, Duration::from_millis(500))
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
        .filter(|r| r.start >= day && r.start < day_end)
        .collect();
    {
        let ring = ring.lock().map_err(|_| "ring lock")?;
        let current = ring.current_hour().ok_or("ring has no hour")?;
        for r in &south {
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
    }
    say(format!(
        "read South-1 over BACnet/IP: device {} at {}, 96 values in {} round trips, equal to the device's",
        info.instance,
        info.address,
        bacnet.stats().round_trips()
    ));
    bacnet_device.shutdown().await;

    // One counter of each branch pushes its day of events over WebSocket to our receiver.
    let sink = Arc::new(MemorySink::new());
    let receiver = Server::bind(
        ServerConfig::new(SocketAddr::from(([127, 0, 0, 1], 0))),
        sink.clone(),
        Arc::new(MemoryDeadLetters::new()),
    )
    .await
    .map_err(|e| format!("WebSocket receiver: {e}"))?
    .spawn();
    let url = format!("ws://{}/", receiver.local_addr());
    let mut pushed = 0usize;
    for (serial, name, seed) in [
        (NORTH_3, "ACME - North entrance", 4),
        (SOUTH_2, "ACME - South side door", 5),
    ] {
        let stream = device(serial, name, seed).await?;
        let mut config = SenderConfig::new(url.clone());
        config.ack_timeout = Duration::from_secs(5);
        let mut sender: Sender = Sender::new(config);
        for event in stream.events(day, day_end) {
            sender
                .push(event)
                .map_err(|_| "the counter's outbox is full")?;
            pushed += 1;
        }
        sender
            .deliver_all(Duration::from_secs(20))
            .await
            .map_err(|e| format!("{serial} over WebSocket: {e}"))?;
    }
    let received = sink.events();
    if received.len() != pushed {
        return Err(format!(
            "WebSocket: {pushed} events pushed, {} stored",
            received.len()
        ));
    }
    for event in &received {
        agg.ingest(event);
    }
    // Both connections were up all day: hours without a crossing are zero, not missing.
    agg.cover(NORTH_3, day, day_end);
    agg.cover(SOUTH_2, day, day_end);
    let stats = receiver.stats();
    say(format!(
        "received {} events over WebSocket from North-3 and South-2 at {url} ({} acknowledged with OK)",
        received.len(),
        stats.accepted
    ));
    receiver
        .shutdown()
        .await
        .map_err(|e| format!("WebSocket receiver: {e}"))?;

    // South-3 publishes its day over MQTT to the embedded broker; our subscriber takes it.
    let (mqtt_events, broker_url) = mqtt_counter(day, day_end).await?;
    for event in &mqtt_events {
        agg.ingest(event);
    }
    agg.cover(SOUTH_3, day, day_end);
    say(format!(
        "received {} events over MQTT from South-3 through the embedded broker at {broker_url} (QoS 1), equal to what it published",
        mqtt_events.len()
    ));

    for records in [&pulled_1, &pulled_2, &south] {
        for r in records.iter() {
            if let ffc_core::Subject::Counter(serial) = r.subject {
                agg.series_mut(serial)
                    .put_record(r)
                    .map_err(|e| format!("{serial}: {e}"))?;
            }
        }
        all_records.extend_from_slice(records);
    }

    let hours = OperatingHours {
        open: 8 * 3600,
        close: 20 * 3600,
    };
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
        let series = rollup_branch(&spec, agg.counters(), day, day_end, Resolution::Hour, zone)
            .map_err(|e| format!("branch {name}: {e}"))?;
        branches.push((name, series));
        specs.push(spec);
    }

    // The server: a V9 simulator holds the same counters; its exportData must give the
    // branch roll-up we computed, hour by hour. The sales file goes to its import API.
    let sales_csv = sample_sales(day, &zone)?;
    let server = server_export(&branches, &specs, &agg, day, zone, &sales_csv).await?;
    say(format!(
        "server simulator: exportData gave {} hourly site rows ({} not complete), equal to our roll-up",
        server.rows, server.not_complete
    ));
    say(format!(
        "server simulator: sales import took {} hourly rows of {} (site, day)s, equal to the validated file's",
        server.sales_rows, server.sales_days
    ));

    // Sales: a CSV in FootfallCam's import layout, validated and joined with the footfall.
    std::fs::create_dir_all(out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
    let sales_path = out_dir.join("sales.csv");
    std::fs::write(&sales_path, &sales_csv)
        .map_err(|e| format!("{}: {e}", sales_path.display()))?;
    let validation = ffc_sales::validate_bytes(
        sales_csv.as_bytes(),
        &ffc_sales::ValidationConfig::default().with_known_stores(["North", "South"]),
    );
    if !validation.is_valid() {
        return Err(format!(
            "sales: {} errors, first: {:?}",
            validation.error_count,
            validation.errors.first().map(ToString::to_string)
        ));
    }
    let footfall: std::collections::HashMap<String, ffc_sales::conversion::StoreFootfall<'_>> =
        branches
            .iter()
            .map(|(name, series)| {
                (
                    (*name).to_owned(),
                    ffc_sales::conversion::StoreFootfall::branch(series, zone),
                )
            })
            .collect();
    let conversion = ffc_sales::conversion::convert(&validation.sales, &footfall, &hours)
        .map_err(|e| format!("conversion: {e}"))?;
    say(format!(
        "sales: {} rows validated, {} store-hours joined with footfall",
        validation.counts.valid,
        conversion.hours.len()
    ));
    let mut rows = Vec::new();
    for (name, series) in &branches {
        for mut row in report::rows(name, series, &hours, zone) {
            if let Some(h) = conversion
                .hours
                .iter()
                .find(|h| h.store == *name && h.start == row.start_utc)
            {
                row.transactions = Some(h.transactions);
                row.conversion = h.conversion_rate;
            }
            rows.push(row);
        }
    }
    let day_conversion = conversion
        .days
        .iter()
        .map(|d| (d.store.clone(), d.conversion_rate))
        .collect();

    let csv_path = out_dir.join("branch-report.csv");
    let svg_path = out_dir.join("branch-report.svg");
    let records_path = out_dir.join("records.csv");
    let write = |path: &Path, text: String| {
        std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
    };
    write(&csv_path, report::csv(&rows).map_err(|e| e.to_string())?)?;
    write(
        &svg_path,
        report::svg(&rows, "Visitors in per hour (red cross: not complete)")?,
    )?;
    write(
        &records_path,
        crate::args::records(&all_records, crate::args::RecordFormat::Csv, &zone)?,
    )?;
    Ok(DemoOutcome {
        rows,
        csv_path,
        svg_path,
        records_path,
        sales_path,
        day_conversion,
        day_start: day,
    })
}

/// A counter simulator publishing the day's events over MQTT (QoS 1, as a counter would
/// with QoS raised) to an embedded broker, and the SDK's subscriber receiving them into a
/// memory sink. Returns the received events, checked equal to the published ones, and the
/// broker's URL.
async fn mqtt_counter(
    day: UnixSeconds,
    day_end: UnixSeconds,
) -> Result<(Vec<ffc_core::CountEvent>, String), String> {
    use ffc_protocols::mqtt::codec::Message;
    use ffc_protocols::mqtt::publisher::{Publisher, PublisherConfig};
    use ffc_protocols::mqtt::subscriber::{Subscriber, SubscriberConfig};
    use ffc_protocols::mqtt::Qos;
    let broker = tokio::task::spawn_blocking(crate::broker::start)
        .await
        .map_err(|e| format!("embedded MQTT broker: {e}"))?
        .map_err(|e| format!("embedded MQTT broker: {e}"))?;
    let url = broker.url();
    let mut config =
        SubscriberConfig::new(&url, "ffc-demo-ingest").map_err(|e| format!("MQTT: {e}"))?;
    config.qos = Qos::AtLeastOnce;
    let subscriber = Subscriber::new(config).map_err(|e| format!("MQTT subscriber: {e}"))?;
    let mut status = subscriber.status();
    let stopper = subscriber.stopper();
    let (sink, dead) = (MemorySink::new(), MemoryDeadLetters::new());
    let stream = device(SOUTH_3, "ACME - South back door", 6).await?;
    let published: Vec<ffc_core::CountEvent> = stream.events(day, day_end);
    let publish = async {
        let outcome: Result<(), String> = async {
            tokio::time::timeout(Duration::from_secs(20), status.wait_for(|s| s.subacks >= 1))
                .await
                .map_err(|_| "MQTT: the subscription was not confirmed within 20 s")?
                .map_err(|_| "MQTT: the subscriber stopped")?;
            let mut config =
                PublisherConfig::new(&url, SOUTH_3).map_err(|e| format!("MQTT: {e}"))?;
            config.qos = Qos::AtLeastOnce;
            let publisher = Publisher::connect(config)
                .await
                .map_err(|e| format!("MQTT publisher: {e}"))?;
            for event in &published {
                publisher
                    .publish(&Message::Count(*event))
                    .await
                    .map_err(|e| format!("MQTT publish: {e}"))?;
            }
            publisher
                .flush()
                .await
                .map_err(|e| format!("MQTT publish: {e}"))?;
            publisher.close().await;
            // Every publish is acknowledged by the broker; wait for the subscriber to
            // store them all (bounded, in case some never come).
            let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
            while sink.len() < published.len() && tokio::time::Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            Ok(())
        }
        .await;
        stopper.stop();
        outcome
    };
    let (run, published_ok) = tokio::join!(subscriber.run_into(&sink, &dead, None), publish);
    published_ok?;
    let stats = run.map_err(|e| format!("MQTT subscriber: {e}"))?;
    // What arrives is what was sent, tagged as MQTT (the payload has no UUID).
    let key = |e: &ffc_core::CountEvent| format!("{e:?}");
    let mut want: Vec<String> = published
        .iter()
        .map(|e| {
            key(&ffc_core::CountEvent {
                source: ffc_core::Source::Mqtt,
                uuid: None,
                ..*e
            })
        })
        .collect();
    let received = sink.events();
    let mut got: Vec<String> = received.iter().map(key).collect();
    want.sort();
    got.sort();
    if got != want || stats.dead_letters > 0 {
        return Err(format!(
            "MQTT: {} events published, {} received ({} dead letters), not the same",
            want.len(),
            got.len(),
            stats.dead_letters
        ));
    }
    Ok((received, url))
}

/// What the server simulator step checked.
struct ServerChecked {
    rows: usize,
    not_complete: usize,
    sales_rows: u64,
    sales_days: usize,
}

/// Starts the V9 server simulator with the branches' counters, exports the day hourly at
/// site level through the V9 client, and checks every row against `branches`; then
/// validates `sales_csv` with ffc-sales, uploads it through the same path as
/// `ffc server import-sales`, and checks the server holds exactly the validated rows.
async fn server_export(
    branches: &[(&str, ffc_core::rollup::BranchSeries)],
    specs: &[BranchSpec],
    agg: &Aggregator,
    day: UnixSeconds,
    zone: Zone,
    sales_csv: &str,
) -> Result<ServerChecked, String> {
    use ffc_client::sim::{ServerSimConfig as ServerConfig, SimSite, Simulator as ServerSim};
    use ffc_client::v9::export::{InfoJson, Level, Period};
    let sites = branches
        .iter()
        .zip(specs)
        .map(|((name, _), spec)| {
            let counters = agg
                .counters()
                .iter()
                .filter(|(serial, _)| spec.counters.contains(serial))
                .map(|(serial, s)| (*serial, s.clone()))
                .collect();
            SimSite {
                spec: spec.clone(),
                name: (*name).to_owned(),
                code: (*name).to_owned(),
                zone,
                counters,
            }
        })
        .collect();
    let server = ServerSim::start(
        ServerConfig::new("demo@example.com", ffc_client::Secret::new(PASSWORD)).with_sites(sites),
        day + 2 * 86_400,
    )
    .await
    .map_err(|e| format!("server simulator: {e}"))?;
    let client = ffc_client::http::V9Client::new(
        &server.base_url(),
        "demo@example.com",
        ffc_client::Secret::new(PASSWORD),
    )
    .map_err(|e| e.to_string())?;
    let date = ffc_core::time::seconds_to_naive(zone.local_seconds(day))
        .ok_or("day out of range")?
        .date();
    let (d, t) = (
        ffc_client::datefmt::default_date(),
        ffc_client::datefmt::default_time(),
    );
    let ids: Vec<String> = branches.iter().map(|(_, s)| s.site.0.to_string()).collect();
    let info = InfoJson::new(Level::Site, ids, Period::Hourly, date, date, &d, &t);
    let rows = client
        .export(&info)
        .await
        .map_err(|e| format!("exportData: {e}"))?;
    let mut not_complete = 0;
    for row in &rows {
        let record = row
            .to_record(Level::Site, Period::Hourly, zone, &d, &t)
            .map_err(|e| format!("exportData row: {e}"))?;
        let ffc_core::Subject::Site(site) = record.subject else {
            return Err("exportData row without a site".into());
        };
        let ours = branches
            .iter()
            .find(|(_, s)| s.site == site)
            .and_then(|(_, s)| s.buckets.iter().find(|b| b.start == record.start))
            .ok_or_else(|| format!("exportData: site {} hour {} not ours", site.0, record.start))?;
        if ours.counts.visitors_in != record.count_in {
            return Err(format!(
                "exportData: site {} hour {}: {} in, we have {}",
                site.0, record.start, record.count_in, ours.counts.visitors_in
            ));
        }
        if row.aggregation_status.as_deref() != Some("complete") {
            not_complete += 1;
        }
    }

    let import = ffc_sales::validate_bytes(
        sales_csv.as_bytes(),
        &ffc_sales::ValidationConfig::default().with_known_stores(["North", "South"]),
    )
    .import("sales.csv", ffc_sales::ImportMode::Atomic);
    if import.report.outcome != ffc_sales::Outcome::Imported {
        return Err(format!(
            "sales import: {:?}, {} errors",
            import.report.outcome, import.report.error_count
        ));
    }
    let uploaded = crate::upload::upload_batches(&client, &import.batches)
        .await
        .map_err(|(_, e)| format!("sales upload: {e}"))?;
    let held = server.sales();
    for batch in &import.batches {
        let sent = ffc_client::v9::sales::SalesBatch::from_day_batches(std::iter::once(batch))
            .map_err(|e| format!("sales upload: {e}"))?;
        if held
            .get(&(batch.site.clone(), batch.date))
            .map(Vec::as_slice)
            != Some(sent.rows())
        {
            return Err(format!(
                "sales upload: the server does not hold {} {} as validated",
                batch.site, batch.date
            ));
        }
    }
    if held.len() != import.batches.len() || uploaded.done != uploaded.total {
        return Err(format!(
            "sales upload: {} (site, day)s on the server, {} sent; {} of {} rows imported",
            held.len(),
            import.batches.len(),
            uploaded.done,
            uploaded.total
        ));
    }
    Ok(ServerChecked {
        rows: rows.len(),
        not_complete,
        sales_rows: uploaded.done,
        sales_days: uploaded.days.len(),
    })
}

/// A day of sales for stores `North` and `South` in the import layout (spec §8): a few
/// receipts per open hour, amounts with cents.
fn sample_sales(day: UnixSeconds, zone: &Zone) -> Result<String, String> {
    let date = ffc_core::time::seconds_to_naive(zone.local_seconds(day))
        .ok_or("day out of range")?
        .date();
    let mut out = String::from("StoreCode,DateTime,TotalTransactionQty,TotalTransactionValue\n");
    for hour in 8u64..20 {
        for (i, store) in ["North", "South"].into_iter().enumerate() {
            for minute in [10u64, 40] {
                let qty = 2 + (hour * 7 + i as u64 * 5 + minute) % 6;
                let cents = qty * 1_875 + (hour * 13 + minute) % 100;
                out.push_str(&format!(
                    "{store},{} {hour:02}:{minute:02},{qty},{}.{:02}\n",
                    date.format("%d-%m-%Y"),
                    cents / 100,
                    cents % 100
                ));
            }
        }
    }
    Ok(out)
}
