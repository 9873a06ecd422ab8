//! [`DeviceClient::pull_into`]: a pull straight into the aggregation path.

use ffc_core::aggregate::Series;
use ffc_core::{SeriesError, UnixSeconds, Zone};

use super::{DeviceClient, PullError, PullProgress};
use crate::query::DataType;

/// Why [`DeviceClient::pull_into`] stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PullIntoError {
    /// The client is configured with another zone than the series: the counter's local
    /// times would land in the wrong buckets. Nothing was fetched; fix the zone configured
    /// for the client (or the series).
    #[error(
        "the client's zone {client} is not the series' zone {series}; fix the configured zone"
    )]
    Zone {
        /// The client's zone.
        client: Zone,
        /// The series' zone.
        series: Zone,
    },
    /// The pull stopped; every bucket before `resume_from` is in the series.
    #[error(transparent)]
    Pull(#[from] PullError),
    /// A record does not fit the series (its length is not the series' resolution); the
    /// records before it are in the series.
    #[error("a pulled record does not fit the series: {0}")]
    Series(#[from] SeriesError),
}

impl DeviceClient {
    /// Pulls `[from, to)` at the series' resolution and puts every record into `series`
    /// ([`Series::put_records`]: a bucket pulled twice replaces, never adds), returning how
    /// many records were put. The series' zone must be the client's
    /// ([`PullIntoError::Zone`] otherwise, before anything is fetched).
    ///
    /// On a stopped pull, the records of the complete windows are put before the error is
    /// returned, so calling again with `from = resume_from` continues.
    pub async fn pull_into<F>(
        &self,
        series: &mut Series,
        from: UnixSeconds,
        to: UnixSeconds,
        data_type: DataType,
        progress: F,
    ) -> Result<usize, PullIntoError>
    where
        F: FnMut(&PullProgress),
    {
        if series.zone() != self.zone() {
            return Err(PullIntoError::Zone {
                client: self.zone(),
                series: series.zone(),
            });
        }
        match self
            .pull(from, to, series.resolution(), data_type, progress)
            .await
        {
            Ok(records) => Ok(series.put_records(&records)?),
            Err(mut stopped) => {
                series.put_records(&stopped.records)?;
                stopped.records.clear();
                Err(PullIntoError::Pull(stopped))
            }
        }
    }
}
