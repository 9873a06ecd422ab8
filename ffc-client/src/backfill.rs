//! Backfill execution from the server, for counters the user cannot reach directly: one
//! `exportData` request per planned [`ServerRequest`].
//!
//! [`ffc_core::reconcile::server_requests`] turns the planned windows into whole-day
//! requests (the export takes days), joined where they touch, cut at the server's chunk
//! length ([`crate::v9::CHUNK_DAYS`]), counters with the same days sharing one request.
//! [`backfill`] sends exactly those and returns the counter records with the number of
//! requests sent.

use ffc_core::reconcile::ServerRequest;
use ffc_core::{CountRecord, Zone};

use crate::datefmt;
use crate::http::{ServerClientError, V9Client};
use crate::v9::export::{InfoJson, Level, Period};
use crate::v9::DecodeError;

/// What a server backfill brought back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Backfilled {
    /// Counter records of every request, in request order.
    pub records: Vec<CountRecord>,
    /// `exportData` requests sent.
    pub requests: usize,
}

/// The export period that delivers buckets of `length` seconds: hours or days only.
pub fn period_of(length: u32) -> Option<Period> {
    match length {
        3600 => Some(Period::Hourly),
        86_400 => Some(Period::Daily),
        _ => None,
    }
}

/// Sends one counter-level export per request, rows read in `zone` (the sites' zone).
/// Nothing is sent for an empty plan. A request whose bucket length the export cannot
/// deliver (not an hour or a day) fails before anything is sent.
pub async fn backfill(
    client: &V9Client,
    requests: &[ServerRequest],
    zone: Zone,
) -> Result<Backfilled, ServerClientError> {
    let (date, time) = (datefmt::default_date(), datefmt::default_time());
    let mut infos = Vec::with_capacity(requests.len());
    for r in requests {
        let period = period_of(r.length).ok_or_else(|| {
            ServerClientError::Decode(DecodeError::Invalid(format!(
                "the export delivers hours and days, not {}-second buckets",
                r.length
            )))
        })?;
        let ids = r.counters.iter().map(|c| c.to_string());
        let info = InfoJson::new(
            Level::Counter,
            ids,
            period,
            r.first_day,
            r.last_day,
            &date,
            &time,
        );
        infos.push((info, period));
    }
    let mut done = Backfilled::default();
    for (info, period) in &infos {
        done.requests += 1;
        let rows = client.export(info).await?;
        for (i, row) in rows.iter().enumerate() {
            let record = row
                .to_record(Level::Counter, *period, zone, &date, &time)
                .map_err(|e| {
                    ServerClientError::Decode(DecodeError::Row {
                        row: i,
                        reason: e.to_string(),
                    })
                })?;
            done.records.push(record);
        }
    }
    tracing::debug!(
        requests = done.requests,
        records = done.records.len(),
        "server backfill done"
    );
    Ok(done)
}
