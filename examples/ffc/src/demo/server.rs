//! The V9 server simulator holds the same counters: its exportData must give the branch
//! roll-up we computed, hour by hour, and its sales import must hold exactly the rows
//! ffc-sales validated.
use ffc_client::http::V9Client;
use ffc_client::sim::{ServerSimConfig, SimSite, Simulator as ServerSim};
use ffc_client::v9::export::{InfoJson, Level, Period};
use ffc_core::aggregate::Aggregator;
use ffc_core::rollup::{BranchSeries, BranchSpec};
use ffc_core::Zone;

use super::{Day, PASSWORD};

const EMAIL: &str = "demo@example.com";

/// Starts the simulator with the branches' counters, checks its export against
/// `branches` and uploads `sales_csv` through the same path as `ffc server import-sales`.
pub(super) async fn check(
    branches: &[(&str, BranchSeries)],
    specs: &[BranchSpec],
    agg: &Aggregator,
    day: &Day,
    sales_csv: &str,
    say: &mut dyn FnMut(String),
) -> Result<(), String> {
    let server = start(branches, specs, agg, day).await?;
    let client = V9Client::new(&server.base_url(), EMAIL, ffc_client::Secret::new(PASSWORD))
        .map_err(|e| e.to_string())?;
    let (rows, not_complete) = check_export(&client, branches, day).await?;
    tracing::debug!(rows, not_complete, "exportData equal to our roll-up");
    say(format!(
        "server simulator: exportData gave {rows} hourly site rows ({not_complete} not complete), equal to our roll-up"
    ));
    let (sales_rows, sales_days) = check_sales(&client, &server, sales_csv).await?;
    tracing::debug!(
        sales_rows,
        sales_days,
        "sales import equal to the validated file"
    );
    say(format!(
        "server simulator: sales import took {sales_rows} hourly rows of {sales_days} (site, day)s, equal to the validated file's"
    ));
    Ok(())
}

async fn start(
    branches: &[(&str, BranchSeries)],
    specs: &[BranchSpec],
    agg: &Aggregator,
    day: &Day,
) -> Result<ServerSim, String> {
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
                zone: day.zone,
                counters,
            }
        })
        .collect();
    ServerSim::start(
        ServerSimConfig::new(EMAIL, ffc_client::Secret::new(PASSWORD)).with_sites(sites),
        day.start + 2 * 86_400,
    )
    .await
    .map_err(|e| format!("server simulator: {e}"))
}

/// exportData of the day, hourly at site level: every row equals our roll-up. Returns
/// (rows, rows not complete).
async fn check_export(
    client: &V9Client,
    branches: &[(&str, BranchSeries)],
    day: &Day,
) -> Result<(usize, usize), String> {
    let zone: Zone = day.zone;
    let date = ffc_core::time::seconds_to_naive(zone.local_seconds(day.start))
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
    Ok((rows.len(), not_complete))
}

/// Validates the sales file, uploads it, and checks the server holds exactly the
/// validated rows. Returns (rows imported, (site, day)s).
async fn check_sales(
    client: &V9Client,
    server: &ServerSim,
    sales_csv: &str,
) -> Result<(u64, usize), String> {
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
    let uploaded = crate::sales::upload::upload_batches(client, &import.batches)
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
    Ok((uploaded.done, uploaded.days.len()))
}
