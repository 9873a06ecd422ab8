//! Branch North over the device CGI API (HTTP): North-1 pulled whole (JSON), North-2
//! (XML) offline for the outage hour, which is backfilled once it is back.
use ffc_core::{CountRecord, Resolution};
use ffc_device::query::DataType;
use ffc_device::sim::Fault;
use tracing::Instrument as _;

use super::{client, simulator, triples, truth, Day, NORTH_1, NORTH_2, OUTAGE_HOUR};

/// Pulls both North counters, each in its own `device` span, checking them against their
/// simulators.
pub(super) async fn pull_north(
    day: &Day,
    say: &mut dyn FnMut(String),
) -> Result<(Vec<CountRecord>, Vec<CountRecord>), String> {
    let north_1 = simulator(NORTH_1, "ACME - North door", 1).await?;
    let north_2 = simulator(NORTH_2, "ACME - North side door", 2).await?;
    say(format!(
        "device simulators: North-1 {} at {}, North-2 {} at {}",
        NORTH_1,
        north_1.base_url(),
        NORTH_2,
        north_2.base_url()
    ));
    let pulled_1 = async {
        let pulled = client(&north_1, day.zone)?
            .pull(day.start, day.end, Resolution::Hour, DataType::Json, |_| {})
            .await
            .map_err(|e| format!("North-1 pull: {e}"))?;
        if triples(&pulled) != truth(&north_1, day)? {
            return Err("North-1: pulled records differ from the simulator's".to_owned());
        }
        tracing::debug!(records = pulled.len(), "pulled, equal to the simulator's");
        Ok(pulled)
    }
    .instrument(tracing::info_span!("device", serial = %NORTH_1, data_type = "json"))
    .await?;
    say(format!(
        "pulled North-1: {} hourly records (JSON), equal to the simulator's",
        pulled_1.len()
    ));
    let pulled_2 = pull_with_outage(&north_2, day, say)
        .instrument(tracing::info_span!("device", serial = %NORTH_2, data_type = "xml"))
        .await?;
    say(format!(
        "pulled North-2: {} hourly records (XML), the offline hour backfilled",
        pulled_2.len()
    ));
    Ok((pulled_1, pulled_2))
}

/// North-2: the hours before the outage, the outage hour failing (every attempt finds the
/// connection dropped), the hours after; checked against the simulator without that hour.
async fn pull_with_outage(
    north_2: &ffc_device::sim::Simulator,
    day: &Day,
    say: &mut dyn FnMut(String),
) -> Result<Vec<CountRecord>, String> {
    let outage = day.start + OUTAGE_HOUR * 3600;
    let c2 = client(north_2, day.zone)?;
    let pull = |from, to| c2.pull(from, to, Resolution::Hour, DataType::Xml, |_| {});
    let mut pulled = pull(day.start, outage)
        .await
        .map_err(|e| format!("North-2 pull: {e}"))?;
    north_2.inject([Fault::Drop, Fault::Drop]);
    match pull(outage, outage + 3600).await {
        Ok(_) => return Err("North-2 answered while offline".into()),
        Err(e) => {
            tracing::debug!(hour = outage, "offline: {}", e.source);
            say(format!(
                "North-2 offline {OUTAGE_HOUR:02}:00-{:02}:00: {}",
                OUTAGE_HOUR + 1,
                e.source
            ))
        }
    }
    pulled.extend(
        pull(outage + 3600, day.end)
            .await
            .map_err(|e| format!("North-2 pull: {e}"))?,
    );
    let mut expected = truth(north_2, day)?;
    expected.retain(|(start, _, _)| *start != outage);
    if triples(&pulled) != expected {
        return Err("North-2: pulled records differ from the simulator's".into());
    }
    tracing::debug!(records = pulled.len(), "pulled, the offline hour missing");
    // Back online: the missing hour is backfilled with one request.
    let before = north_2.stats().count_requests;
    let restored = pull(outage, outage + 3600)
        .await
        .map_err(|e| format!("North-2 backfill: {e}"))?;
    say(format!(
        "North-2 back online: its {OUTAGE_HOUR:02}:00 hour backfilled ({} record, {} request)",
        restored.len(),
        north_2.stats().count_requests - before
    ));
    pulled.extend(restored);
    pulled.sort_by_key(|r| r.start);
    Ok(pulled)
}
