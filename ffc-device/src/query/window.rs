//! Splitting a long range into windows the device accepts.

use chrono::NaiveDateTime;
use ffc_core::time::seconds_to_naive;
use ffc_core::{Resolution, UnixSeconds, Zone};

use super::{DataFormat, DataType, Query, QueryError, MAX_WINDOW_SECONDS};

fn local_naive(zone: &Zone, utc: UnixSeconds) -> Result<NaiveDateTime, QueryError> {
    ffc_core::time::check_unix(utc).map_err(|_| QueryError::OutOfRange)?;
    seconds_to_naive(zone.local_seconds(utc)).ok_or(QueryError::OutOfRange)
}

/// One window of a long pull: the query and the span `[from, to)` (UTC) whose buckets it
/// returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// First bucket start covered.
    pub from: UnixSeconds,
    /// The instant after the last bucket start covered.
    pub to: UnixSeconds,
    /// The query that asks for exactly these buckets.
    pub query: Query,
}

/// Splits `[from, to)` (UTC, widened to whole buckets) into queries the device accepts:
/// one per local day, cut at the range ends, and a day longer than 24 hours (a DST
/// fall-back) cut again so no window exceeds [`MAX_WINDOW_SECONDS`].
///
/// Every window is checked to render back to exactly its span, so no bucket is asked
/// twice or missed at a DST change.
///
/// ```
/// use ffc_device::query::{split_range, DataType};
/// use ffc_core::{Resolution, Zone};
/// // 18:00 on 31 January to 06:00 on 2 February: three windows, cut at each midnight.
/// let from = 1_706_724_000; // 2024-01-31 18:00 UTC
/// let to = from + 36 * 3600;
/// let windows = split_range(from, to, Resolution::Minutes(15), DataType::Json, &Zone::UTC)?;
/// assert_eq!(windows.len(), 3);
/// assert_eq!(windows[1].query.params()[3], ("date_start", "20240201".to_string()));
/// # Ok::<(), ffc_device::query::QueryError>(())
/// ```
pub fn split_range(
    from: UnixSeconds,
    to: UnixSeconds,
    resolution: Resolution,
    data_type: DataType,
    zone: &Zone,
) -> Result<Vec<Window>, QueryError> {
    if DataFormat::of(resolution).is_none() {
        return Err(QueryError::DayResolution);
    }
    local_naive(zone, from)?;
    local_naive(zone, to)?;
    if to < from {
        return Err(QueryError::EndBeforeStart);
    }
    let mut windows = Vec::new();
    if to == from {
        return Ok(windows);
    }
    let from = resolution.bucket_start(from, zone);
    let to = resolution.next_start(resolution.bucket_start(to - 1, zone), zone);
    let mut cur = from;
    while cur < to {
        let day_end = Resolution::Day.next_start(Resolution::Day.bucket_start(cur, zone), zone);
        let mut end = day_end.min(to);
        if end - cur > MAX_WINDOW_SECONDS {
            end = resolution.bucket_start(cur + MAX_WINDOW_SECONDS, zone);
        }
        let first = local_naive(zone, cur)?;
        let last = local_naive(zone, end - 1)?;
        let query = Query::builder()
            .data_type(data_type)
            .resolution(resolution)
            .date_start(first.date())
            .date_end(last.date())
            .time_start(first.time())
            .time_end(last.time())
            .build(zone)?;
        if query.start() != cur || query.end_inclusive() != end - 1 {
            return Err(QueryError::Ambiguous);
        }
        windows.push(Window {
            from: cur,
            to: end,
            query,
        });
        cur = end;
    }
    Ok(windows)
}
