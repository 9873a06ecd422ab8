//! Schema version 2: receive times, connection sessions, the counter registry, merged
//! records with their provenance, and the views BI tools read (see the
//! [module docs](super) for the tables). Writing: [`PgSink::put_counters`],
//! [`PgSink::put_merged`]; [`EventSink::session`](crate::sink::EventSink::session) for sessions.

use ffc_core::{CameraSerial, UnixSeconds};
use tokio_postgres::types::ToSql;

use super::error::{error_text, pool_error_text};
use super::PgSink;
use crate::sink::{SessionRecord, SinkError};

/// The body of the view `ffc_counter_hours` (after `AS`), which migration 4 defines again
/// over the view `ffc_records`: one text for both.
macro_rules! counter_hours_view {
    () => {
        r#"SELECT m.counter, date_trunc('hour', m.local_start) AS local_hour,
       sum(m.count_in) AS count_in, sum(m.count_out) AS count_out
FROM ffc_merged_records m
WHERE m.length_seconds <= 3600
GROUP BY 1, 2
UNION ALL
SELECT r.serial, date_trunc('hour', (r.hour_start AT TIME ZONE 'UTC')
                                    + make_interval(secs => c.utc_offset_seconds)),
       sum(r.events) FILTER (WHERE r.metric = 1), sum(r.events) FILTER (WHERE r.metric = 2)
FROM ffc_records r JOIN ffc_counters c ON c.counter = r.serial
WHERE r.people_type = 1
  AND NOT EXISTS (SELECT 1 FROM ffc_merged_records m
                  WHERE m.counter = r.serial AND m.length_seconds <= 3600
                    AND m.start_utc >= r.hour_start
                    AND m.start_utc < r.hour_start + interval '1 hour')
GROUP BY 1, 2;
"#
    };
}
pub(super) use counter_hours_view;

/// Migration 2's SQL.
pub(super) const V2: &str = concat!(
    r#"
ALTER TABLE ffc_events ADD COLUMN received_utc timestamptz;
ALTER TABLE ffc_events ALTER COLUMN received_utc SET DEFAULT now();
CREATE TABLE ffc_sessions (
    counter text NOT NULL,
    source text NOT NULL,
    kind text NOT NULL CHECK (kind IN ('connect', 'disconnect', 'heartbeat', 'occupancy')),
    at_utc timestamptz NOT NULL
);
CREATE INDEX ffc_sessions_counter_at ON ffc_sessions (counter, at_utc);
CREATE TABLE ffc_counters (
    counter text PRIMARY KEY,
    branch_id text NOT NULL,
    branch_name text NOT NULL,
    site_group_id text NOT NULL DEFAULT '',
    site_group_name text NOT NULL DEFAULT '',
    utc_offset_seconds integer NOT NULL DEFAULT 0
);
CREATE TABLE ffc_merged_records (
    counter text NOT NULL,
    start_utc timestamptz NOT NULL,
    length_seconds integer NOT NULL CHECK (length_seconds > 0),
    local_start timestamp NOT NULL,
    count_in bigint NOT NULL,
    count_out bigint NOT NULL,
    live_in bigint NOT NULL,
    live_out bigint NOT NULL,
    pulled_in bigint,
    pulled_out bigint,
    state text NOT NULL CHECK (state IN
        ('match', 'live-short', 'backfilled', 'live-over', 'conflict', 'unverified')),
    minutes_on_time integer,
    minutes_late integer,
    minutes_offline integer,
    minutes_backfillable integer,
    minutes_backfilled integer,
    minutes_lost integer,
    reconciled_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (counter, start_utc, length_seconds)
);
CREATE VIEW ffc_bucket_provenance AS
SELECT m.counter, c.branch_id, c.branch_name, c.site_group_id, c.site_group_name,
       m.start_utc, m.local_start, m.length_seconds, m.count_in, m.count_out,
       m.state AS provenance, m.live_in, m.live_out, m.pulled_in, m.pulled_out,
       m.minutes_on_time, m.minutes_late, m.minutes_offline, m.minutes_backfillable,
       m.minutes_backfilled, m.minutes_lost,
       CASE WHEN m.minutes_on_time IS NULL THEN NULL
            ELSE round((m.minutes_on_time + m.minutes_late + m.minutes_backfilled)::numeric
                       / greatest(1, m.length_seconds / 60), 4) END AS availability,
       m.reconciled_at
FROM ffc_merged_records m LEFT JOIN ffc_counters c ON c.counter = m.counter;
CREATE VIEW ffc_branch_buckets AS
WITH b AS (
    SELECT c.branch_id, min(c.branch_name) AS branch_name, min(c.site_group_id) AS site_group_id,
           min(c.site_group_name) AS site_group_name, m.local_start, m.length_seconds,
           min(m.start_utc) AS start_utc, sum(m.count_in)::bigint AS count_in,
           sum(m.count_out)::bigint AS count_out, array_agg(DISTINCT m.counter) AS reported,
           bool_or(m.state = 'conflict') AS any_conflict,
           bool_or(m.state = 'live-short') AS any_short,
           bool_or(m.state = 'backfilled') AS any_backfilled,
           bool_or(m.state = 'unverified') AS any_unverified,
           bool_or(m.state = 'live-over') AS any_over,
           avg(CASE WHEN m.minutes_on_time IS NULL THEN NULL
                    ELSE (m.minutes_on_time + m.minutes_late + m.minutes_backfilled)::numeric
                         / greatest(1, m.length_seconds / 60) END) AS availability
    FROM ffc_merged_records m JOIN ffc_counters c ON c.counter = m.counter
    GROUP BY c.branch_id, m.local_start, m.length_seconds
)
SELECT b.branch_id, b.branch_name, b.site_group_id, b.site_group_name, b.start_utc,
       b.local_start, b.length_seconds, b.count_in, b.count_out,
       CASE WHEN cardinality(missing.counters) = 0 THEN 'complete' ELSE 'partial' END
           AS completeness,
       missing.counters AS missing,
       CASE WHEN b.any_conflict THEN 'conflict' WHEN b.any_short THEN 'live-short'
            WHEN b.any_backfilled THEN 'revised' WHEN b.any_unverified THEN 'unverified'
            WHEN b.any_over THEN 'live-over' ELSE 'match' END AS provenance,
       round(b.availability, 4) AS availability
FROM b CROSS JOIN LATERAL (
    SELECT coalesce(array_agg(c.counter ORDER BY c.counter), '{}') AS counters
    FROM ffc_counters c
    WHERE c.branch_id = b.branch_id AND NOT (c.counter = ANY (b.reported))
) missing;
"#,
    "CREATE VIEW ffc_counter_hours AS\n",
    counter_hours_view!(),
    r#"CREATE VIEW sitegroup_footfallcounting_hour AS
SELECT h.local_hour AS "Time", coalesce(sum(h.count_in), 0)::bigint AS "FC01_1_SUM",
       coalesce(sum(h.count_out), 0)::bigint AS "FC02_1_SUM",
       c.site_group_name AS "SiteGroupName", c.branch_name AS "BranchName",
       c.site_group_id AS "SiteGroupId"
FROM ffc_counter_hours h JOIN ffc_counters c ON c.counter = h.counter
GROUP BY h.local_hour, c.branch_id, c.branch_name, c.site_group_id, c.site_group_name;
CREATE VIEW sitegroup_footfallcounting_day AS
SELECT h.local_hour::date AS "Time", coalesce(sum(h.count_in), 0)::bigint AS "FC01_1_SUM",
       coalesce(sum(h.count_out), 0)::bigint AS "FC02_1_SUM",
       c.site_group_name AS "SiteGroupName", c.branch_name AS "BranchName",
       c.site_group_id AS "SiteGroupId"
FROM ffc_counter_hours h JOIN ffc_counters c ON c.counter = h.counter
GROUP BY h.local_hour::date, c.branch_id, c.branch_name, c.site_group_id, c.site_group_name;
"#
);

/// A counter's place in the branch hierarchy, for the views (`ffc_counters`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CounterPlace {
    /// The counter.
    pub counter: CameraSerial,
    /// Its branch (site): id and name (`BranchName` in the FootfallCam-shaped views).
    pub branch_id: String,
    /// The branch's name.
    pub branch_name: String,
    /// Its site group: id (`SiteGroupId`) and name (`SiteGroupName`); empty when none.
    pub site_group_id: String,
    /// The site group's name.
    pub site_group_name: String,
    /// The site's UTC offset in seconds, for the local hours of live totals.
    pub utc_offset_seconds: i32,
}

impl CounterPlace {
    /// `counter` in branch `branch_id` named `branch_name`, no site group, UTC.
    pub fn new(
        counter: CameraSerial,
        branch_id: impl Into<String>,
        branch_name: impl Into<String>,
    ) -> Self {
        CounterPlace {
            counter,
            branch_id: branch_id.into(),
            branch_name: branch_name.into(),
            site_group_id: String::new(),
            site_group_name: String::new(),
            utc_offset_seconds: 0,
        }
    }

    /// Sets the site group.
    pub fn with_site_group(mut self, id: impl Into<String>, name: impl Into<String>) -> Self {
        self.site_group_id = id.into();
        self.site_group_name = name.into();
        self
    }

    /// Sets the site's UTC offset.
    pub fn with_utc_offset_seconds(mut self, seconds: i32) -> Self {
        self.utc_offset_seconds = seconds;
        self
    }
}

/// Minutes of a bucket in each availability state (`ffc_core` availability, rolled up).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct AvailabilityMinutes {
    /// Kept within 5 minutes after the minute ended.
    pub on_time: u32,
    /// Kept later.
    pub late: u32,
    /// No connection or heartbeat covered the minute and nothing arrived.
    pub offline: u32,
    /// The counter holds data the pipeline lacks.
    pub backfillable: u32,
    /// Restored by a backfill.
    pub backfilled: u32,
    /// Neither path holds it.
    pub lost: u32,
}

/// One merged bucket of one counter, with its provenance (`ffc_merged_records`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MergedRow {
    /// The counter.
    pub counter: CameraSerial,
    /// Bucket start (UTC).
    pub start: UnixSeconds,
    /// Bucket length in seconds.
    pub length_seconds: u32,
    /// The bucket start's UTC offset, for `local_start`.
    pub utc_offset_seconds: i32,
    /// Merged counts (per direction the larger of live and pulled).
    pub count_in: u64,
    /// Merged out.
    pub count_out: u64,
    /// Live counts.
    pub live_in: u64,
    /// Live out.
    pub live_out: u64,
    /// Pulled counts (`None`: not covered by a pull, `unverified`).
    pub pulled: Option<(u64, u64)>,
    /// `match`, `live-short`, `backfilled`, `live-over`, `conflict` or `unverified`.
    pub state: String,
    /// Availability minutes, when computed.
    pub availability: Option<AvailabilityMinutes>,
}

impl MergedRow {
    /// A bucket of `counter` at `start` of `length_seconds` with merged counts and `state`;
    /// live equal to merged, no pull, no availability, UTC.
    pub fn new(
        counter: CameraSerial,
        start: UnixSeconds,
        length_seconds: u32,
        counts: (u64, u64),
        state: impl Into<String>,
    ) -> Self {
        MergedRow {
            counter,
            start,
            length_seconds,
            utc_offset_seconds: 0,
            count_in: counts.0,
            count_out: counts.1,
            live_in: counts.0,
            live_out: counts.1,
            pulled: None,
            state: state.into(),
            availability: None,
        }
    }
}

fn i64_of(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

const PUT_COUNTERS: &str = "
INSERT INTO ffc_counters AS c (counter, branch_id, branch_name, site_group_id, site_group_name,
                               utc_offset_seconds)
SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::integer[])
ON CONFLICT (counter) DO UPDATE SET branch_id = EXCLUDED.branch_id,
    branch_name = EXCLUDED.branch_name, site_group_id = EXCLUDED.site_group_id,
    site_group_name = EXCLUDED.site_group_name, utc_offset_seconds = EXCLUDED.utc_offset_seconds";

/// Inserts or replaces buckets. A `match`/`live-*`/`conflict`/`unverified` row never turns a
/// `backfilled` one back into `live-short`: once restored, a bucket stays `backfilled` while
/// its counts hold (a later reconcile finds it matching).
const PUT_MERGED: &str = "
INSERT INTO ffc_merged_records AS m (counter, start_utc, length_seconds, local_start, count_in,
    count_out, live_in, live_out, pulled_in, pulled_out, state, minutes_on_time, minutes_late,
    minutes_offline, minutes_backfillable, minutes_backfilled, minutes_lost)
SELECT counter, to_timestamp(start_unix), length_seconds,
       to_timestamp(start_unix + utc_offset) AT TIME ZONE 'UTC', count_in, count_out,
       live_in, live_out, pulled_in, pulled_out, state, a[1], a[2], a[3], a[4], a[5], a[6]
FROM UNNEST($1::text[], $2::bigint[], $3::integer[], $4::integer[], $5::bigint[], $6::bigint[],
            $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::text[], $12::text[])
    AS t(counter, start_unix, length_seconds, utc_offset, count_in, count_out, live_in,
         live_out, pulled_in, pulled_out, state, minutes),
    LATERAL (SELECT string_to_array(minutes, ',')::integer[] AS a) av
ON CONFLICT (counter, start_utc, length_seconds) DO UPDATE SET
    local_start = EXCLUDED.local_start,
    count_in = greatest(m.count_in, EXCLUDED.count_in),
    count_out = greatest(m.count_out, EXCLUDED.count_out),
    live_in = EXCLUDED.live_in, live_out = EXCLUDED.live_out,
    pulled_in = coalesce(EXCLUDED.pulled_in, m.pulled_in),
    pulled_out = coalesce(EXCLUDED.pulled_out, m.pulled_out),
    state = CASE WHEN m.state = 'backfilled' AND EXCLUDED.state = 'match' THEN 'backfilled'
                 ELSE EXCLUDED.state END,
    minutes_on_time = coalesce(EXCLUDED.minutes_on_time, m.minutes_on_time),
    minutes_late = coalesce(EXCLUDED.minutes_late, m.minutes_late),
    minutes_offline = coalesce(EXCLUDED.minutes_offline, m.minutes_offline),
    minutes_backfillable = coalesce(EXCLUDED.minutes_backfillable, m.minutes_backfillable),
    minutes_backfilled = coalesce(EXCLUDED.minutes_backfilled, m.minutes_backfilled),
    minutes_lost = coalesce(EXCLUDED.minutes_lost, m.minutes_lost),
    reconciled_at = now()";

impl PgSink {
    /// A client from the sink's pool, for statements outside the event batches.
    async fn side_client(&self) -> Result<deadpool_postgres::Object, String> {
        self.shared
            .pool
            .get()
            .await
            .map_err(|e| self.shared.redact(pool_error_text(&e)))
    }

    /// Inserts or updates counters' places (`ffc_counters`), which the views group by.
    pub async fn put_counters(&self, places: &[CounterPlace]) -> Result<u64, SinkError> {
        let col = |f: fn(&CounterPlace) -> String| places.iter().map(f).collect::<Vec<_>>();
        let counters = col(|p| p.counter.to_string());
        let (ids, names) = (col(|p| p.branch_id.clone()), col(|p| p.branch_name.clone()));
        let groups = col(|p| p.site_group_id.clone());
        let group_names = col(|p| p.site_group_name.clone());
        let offsets: Vec<i32> = places.iter().map(|p| p.utc_offset_seconds).collect();
        let params: [&(dyn ToSql + Sync); 6] =
            [&counters, &ids, &names, &groups, &group_names, &offsets];
        self.side_execute(PUT_COUNTERS, &params).await
    }

    /// Inserts or updates merged buckets with their provenance (`ffc_merged_records`), in
    /// one statement. Counts never go down (a pull never lowers a count), and a bucket once
    /// `backfilled` stays so when a later reconcile finds it matching.
    pub async fn put_merged(&self, rows: &[MergedRow]) -> Result<u64, SinkError> {
        let counters: Vec<String> = rows.iter().map(|r| r.counter.to_string()).collect();
        let starts: Vec<i64> = rows.iter().map(|r| r.start).collect();
        let lengths: Vec<i32> = rows
            .iter()
            .map(|r| i32::try_from(r.length_seconds).unwrap_or(i32::MAX))
            .collect();
        let offsets: Vec<i32> = rows.iter().map(|r| r.utc_offset_seconds).collect();
        let num = |f: fn(&MergedRow) -> u64| rows.iter().map(|r| i64_of(f(r))).collect::<Vec<_>>();
        let (count_in, count_out) = (num(|r| r.count_in), num(|r| r.count_out));
        let (live_in, live_out) = (num(|r| r.live_in), num(|r| r.live_out));
        let pulled_in: Vec<Option<i64>> =
            rows.iter().map(|r| r.pulled.map(|p| i64_of(p.0))).collect();
        let pulled_out: Vec<Option<i64>> =
            rows.iter().map(|r| r.pulled.map(|p| i64_of(p.1))).collect();
        let states: Vec<String> = rows.iter().map(|r| r.state.clone()).collect();
        let minutes: Vec<Option<String>> = rows
            .iter()
            .map(|r| {
                r.availability.map(|a| {
                    let m = [
                        a.on_time,
                        a.late,
                        a.offline,
                        a.backfillable,
                        a.backfilled,
                        a.lost,
                    ];
                    m.map(|v| v.to_string()).join(",")
                })
            })
            .collect();
        let params: [&(dyn ToSql + Sync); 12] = [
            &counters,
            &starts,
            &lengths,
            &offsets,
            &count_in,
            &count_out,
            &live_in,
            &live_out,
            &pulled_in,
            &pulled_out,
            &states,
            &minutes,
        ];
        self.side_execute(PUT_MERGED, &params).await
    }

    async fn side_execute(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, SinkError> {
        let database = |message| SinkError::Database { message };
        let client = self.side_client().await.map_err(database)?;
        client
            .execute(sql, params)
            .await
            .map_err(|e| database(self.shared.redact(error_text(&e))))
    }

    /// Keeps one session record (`ffc_sessions`).
    pub(super) async fn put_session(&self, session: &SessionRecord) -> Result<(), SinkError> {
        super::storable(session.at, "at_utc")?;
        let counter = session.counter.to_string();
        let params: [&(dyn ToSql + Sync); 4] = [
            &counter,
            &super::super::session::source_name(session.source),
            &super::super::session::kind_name(session.kind),
            &session.at,
        ];
        self.side_execute(
            "INSERT INTO ffc_sessions (counter, source, kind, at_utc)
             VALUES ($1, $2, $3, to_timestamp($4::bigint))",
            &params,
        )
        .await
        .map(|_| ())
    }
}

/// Events of `counter` ending in `[from, to)`, rebuilt from `ffc_events`.
const LIVE_EVENTS: &str = "
SELECT serial, roi, metric, people_type, people_id::text, start_unix, end_unix,
       utc_offset_seconds, uuid, source
FROM ffc_events WHERE serial = $1 AND end_unix >= $2 AND end_unix < $3";

/// Buckets of `counter` restored by a backfill, starting in `[from, to)`.
const BACKFILLED: &str = "
SELECT extract(epoch FROM start_utc)::bigint, length_seconds, count_in, count_out,
       extract(epoch FROM local_start - (start_utc AT TIME ZONE 'UTC'))::integer
FROM ffc_merged_records
WHERE counter = $1 AND state = 'backfilled'
  AND start_utc >= to_timestamp($2::bigint) AND start_utc < to_timestamp($3::bigint)";

fn row_event(row: &tokio_postgres::Row) -> Result<ffc_core::CountEvent, String> {
    use ffc_core::{Metric, PeopleId, PeopleType, RoiId, UtcOffset};
    let bad = |what: &str| format!("ffc_events holds an unreadable {what}");
    let serial: &str = row.try_get(0).map_err(|e| e.to_string())?;
    let code = |i: usize| -> Result<u64, String> {
        Ok(u64::try_from(row.try_get::<_, i16>(i).map_err(|e| e.to_string())?).unwrap_or(0))
    };
    let source: String = row.try_get(9).map_err(|e| e.to_string())?;
    Ok(ffc_core::CountEvent {
        serial: serial.parse().map_err(|_| bad("serial"))?,
        roi: RoiId(
            u32::try_from(row.try_get::<_, i64>(1).map_err(|e| e.to_string())?)
                .map_err(|_| bad("roi"))?,
        ),
        metric: Metric::from_code(code(2)?).map_err(|_| bad("metric"))?,
        people_type: PeopleType::from_code(code(3)?).map_err(|_| bad("people type"))?,
        people_id: PeopleId(
            row.try_get::<_, &str>(4)
                .map_err(|e| e.to_string())?
                .parse()
                .map_err(|_| bad("people id"))?,
        ),
        start: row.try_get(5).map_err(|e| e.to_string())?,
        end: row.try_get(6).map_err(|e| e.to_string())?,
        offset: UtcOffset::from_seconds(row.try_get(7).map_err(|e| e.to_string())?)
            .map_err(|_| bad("offset"))?,
        uuid: row.try_get(8).map_err(|e| e.to_string())?,
        source: serde_json::from_value(serde_json::Value::String(source))
            .map_err(|_| bad("source"))?,
    })
}

impl PgSink {
    /// The kept events of `counter` that ended in `[from, to)` (UTC), for reconciling the
    /// live path against a pull.
    pub async fn live_events(
        &self,
        counter: CameraSerial,
        from: UnixSeconds,
        to: UnixSeconds,
    ) -> Result<Vec<ffc_core::CountEvent>, SinkError> {
        let database = |message| SinkError::Database { message };
        let client = self.side_client().await.map_err(database)?;
        let rows = client
            .query(LIVE_EVENTS, &[&counter.to_string(), &from, &to])
            .await
            .map_err(|e| database(self.shared.redact(error_text(&e))))?;
        rows.iter()
            .map(row_event)
            .collect::<Result<_, _>>()
            .map_err(database)
    }

    /// The buckets of `counter` starting in `[from, to)` that a backfill restored, as
    /// records: what `ffc_core::reconcile::Reconciliation::mark_held` takes so a later pass
    /// does not pull them again.
    pub async fn backfilled_records(
        &self,
        counter: CameraSerial,
        from: UnixSeconds,
        to: UnixSeconds,
    ) -> Result<Vec<ffc_core::CountRecord>, SinkError> {
        let database = |message| SinkError::Database { message };
        let client = self.side_client().await.map_err(database)?;
        let rows = client
            .query(BACKFILLED, &[&counter.to_string(), &from, &to])
            .await
            .map_err(|e| database(self.shared.redact(error_text(&e))))?;
        let get =
            |r: &tokio_postgres::Row| -> Result<ffc_core::CountRecord, tokio_postgres::Error> {
                let (count_in, count_out): (i64, i64) = (r.try_get(2)?, r.try_get(3)?);
                Ok(ffc_core::CountRecord {
                    subject: ffc_core::Subject::Counter(counter),
                    start: r.try_get(0)?,
                    length: u32::try_from(r.try_get::<_, i32>(1)?).unwrap_or(0),
                    offset: ffc_core::UtcOffset::from_seconds(r.try_get(4)?)
                        .unwrap_or(ffc_core::UtcOffset::UTC),
                    count_in: u64::try_from(count_in).unwrap_or(0),
                    count_out: u64::try_from(count_out).unwrap_or(0),
                    outside: None,
                    source: ffc_core::Source::DevicePull,
                })
            };
        rows.iter()
            .map(get)
            .collect::<Result<_, _>>()
            .map_err(|e| database(self.shared.redact(error_text(&e))))
    }
}
