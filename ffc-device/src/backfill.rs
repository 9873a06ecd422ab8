//! Backfill execution from the counter: one count request per planned window.
//!
//! [`ffc_core::reconcile::backfill_windows`] plans the smallest set of requests that fills
//! a reconciliation's `live-short` buckets (adjacent buckets joined, cut at local
//! midnight); [`backfill`] sends exactly those, one `apiCount.cgi` request each, and
//! returns the records with the number of requests sent. Overlay them on the earlier pull
//! ([`ffc_core::reconcile::overlay`]) and reconcile again to merge.

use ffc_core::reconcile::{resolution_of, BackfillWindow};
use ffc_core::CountRecord;

use crate::client::{DeviceClient, DeviceClientError, PullError};
use crate::query::{split_range, DataType, QueryError};

/// What a backfill brought back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Backfilled {
    /// The records of every window, in window order.
    pub records: Vec<CountRecord>,
    /// Count requests sent.
    pub requests: usize,
}

/// Sends one count request per window (in the client's zone, at the window's bucket
/// length) and keeps the buckets each window asked for. Nothing is sent for an empty plan.
///
/// A window whose length is not a device resolution fails before anything is sent for
/// it; a failed request stops the backfill with the records of the windows before it.
pub async fn backfill(
    client: &DeviceClient,
    windows: &[BackfillWindow],
    data_type: DataType,
) -> Result<Backfilled, PullError> {
    let mut done = Backfilled::default();
    let zone = client.zone();
    for w in windows {
        let stop = |done: &mut Backfilled, source: DeviceClientError| PullError {
            records: std::mem::take(&mut done.records),
            resume_from: w.from,
            source,
        };
        let resolution = resolution_of(w.length)
            .ok_or_else(|| stop(&mut done, QueryError::DayResolution.into()))?;
        let queries = split_range(w.from, w.to, resolution, data_type, &zone)
            .map_err(|e| stop(&mut done, e.into()))?;
        for q in queries {
            done.requests += 1;
            let body = match client.counts(&q.query).await {
                Ok(body) => body,
                Err(e) => return Err(stop(&mut done, e)),
            };
            done.records.extend(
                body.records
                    .into_iter()
                    .filter(|r| q.query.holds_bucket(r.start)),
            );
        }
    }
    tracing::debug!(
        requests = done.requests,
        records = done.records.len(),
        "device backfill done"
    );
    Ok(done)
}
