//! PostgreSQL views `sitegroup_footfallcounting_day` and `sitegroup_footfallcounting_hour`
//! (feature `postgres`, tokio-postgres).
//!
//! Columns (spec §2): `Time`, `FC01_1_SUM` (footfall in, A01), `FC02_1_SUM` (footfall out,
//! A02), `SiteGroupName`, `BranchName`, `SiteGroupId`. FootfallCam's own sample SQL names
//! them unquoted, so PostgreSQL folds them to lower case; the queries do the same. Every
//! value is a bound parameter: no SQL is built from strings.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use ffc_core::time::naive_to_seconds;
use ffc_core::{CountRecord, Resolution, SiteId, Source, Subject, Zone};

/// What went wrong with PostgreSQL.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PgError {
    /// Connecting or querying failed; the message is the server's (no credentials).
    #[error("postgres: {0}")]
    Postgres(#[from] tokio_postgres::Error),
}

/// One row of either view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteGroupRow {
    /// `Time`: bucket start, site-local wall clock (a date at midnight in the day view).
    pub time: NaiveDateTime,
    /// `FC01_1_SUM`: footfall in (A01).
    pub footfall_in: i64,
    /// `FC02_1_SUM`: footfall out (A02).
    pub footfall_out: i64,
    /// `SiteGroupName`.
    pub site_group_name: Option<String>,
    /// `BranchName` (per-branch rows).
    pub branch_name: Option<String>,
    /// `SiteGroupId`.
    pub site_group_id: String,
}

impl SiteGroupRow {
    /// The row as a record about `site` (the group or the branch, as the caller knows it)
    /// at `resolution` in `zone`. Negative sums (a view bug) become 0.
    pub fn to_record(&self, site: SiteId, resolution: Resolution, zone: Zone) -> CountRecord {
        let start = zone.local_to_utc(naive_to_seconds(self.time));
        let end = resolution.next_start(resolution.bucket_start(start, &zone), &zone);
        CountRecord {
            subject: Subject::Site(site),
            start,
            length: u32::try_from(end - start).unwrap_or(u32::MAX),
            offset: zone.offset_at(start),
            count_in: u64::try_from(self.footfall_in).unwrap_or(0),
            count_out: u64::try_from(self.footfall_out).unwrap_or(0),
            outside: None,
            source: Source::Sql,
        }
    }
}

const DAY_SQL: &str = "SELECT time::timestamp, fc01_1_sum::bigint, fc02_1_sum::bigint, \
     sitegroupname::text, branchname::text, sitegroupid::text \
     FROM sitegroup_footfallcounting_day \
     WHERE sitegroupid::text = $1 AND time::timestamp BETWEEN $2 AND $3 \
     ORDER BY 1, 5";
const HOUR_SQL: &str = "SELECT time::timestamp, fc01_1_sum::bigint, fc02_1_sum::bigint, \
     sitegroupname::text, branchname::text, sitegroupid::text \
     FROM sitegroup_footfallcounting_hour \
     WHERE sitegroupid::text = $1 AND time::timestamp BETWEEN $2 AND $3 \
     ORDER BY 1, 5";

/// A connection to the views.
pub struct PgViews {
    client: tokio_postgres::Client,
    connection: Option<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for PgViews {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgViews").finish_non_exhaustive()
    }
}

impl Drop for PgViews {
    fn drop(&mut self) {
        if let Some(c) = self.connection.take() {
            c.abort();
        }
    }
}

impl PgViews {
    /// Connects with a URL or key-value string (no TLS: loopback or a tunnel). The
    /// connection runs on a spawned tokio task.
    pub async fn connect(config: &str) -> Result<Self, PgError> {
        let (client, connection) = tokio_postgres::connect(config, tokio_postgres::NoTls).await?;
        let task = tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(PgViews {
            client,
            connection: Some(task),
        })
    }

    /// Wraps a client you connected yourself (for TLS).
    pub fn from_client(client: tokio_postgres::Client) -> Self {
        PgViews {
            client,
            connection: None,
        }
    }

    /// The underlying client.
    pub fn client(&self) -> &tokio_postgres::Client {
        &self.client
    }

    /// Daily rows of `site_group_id` for the days `[from, to]`.
    pub async fn daily(
        &self,
        site_group_id: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<SiteGroupRow>, PgError> {
        let from = from.and_time(NaiveTime::MIN);
        let to = to.and_time(NaiveTime::MIN);
        self.rows(DAY_SQL, site_group_id, from, to).await
    }

    /// Hourly rows of `site_group_id` with `Time` in `[from, to]`.
    pub async fn hourly(
        &self,
        site_group_id: &str,
        from: NaiveDateTime,
        to: NaiveDateTime,
    ) -> Result<Vec<SiteGroupRow>, PgError> {
        self.rows(HOUR_SQL, site_group_id, from, to).await
    }

    async fn rows(
        &self,
        sql: &str,
        id: &str,
        from: NaiveDateTime,
        to: NaiveDateTime,
    ) -> Result<Vec<SiteGroupRow>, PgError> {
        let rows = self.client.query(sql, &[&id, &from, &to]).await?;
        rows.iter()
            .map(|r| {
                Ok(SiteGroupRow {
                    time: r.try_get(0)?,
                    footfall_in: r.try_get::<_, Option<i64>>(1)?.unwrap_or(0),
                    footfall_out: r.try_get::<_, Option<i64>>(2)?.unwrap_or(0),
                    site_group_name: r.try_get(3)?,
                    branch_name: r.try_get(4)?,
                    site_group_id: r.try_get::<_, Option<String>>(5)?.unwrap_or_default(),
                })
            })
            .collect()
    }
}
