//! The event rows of a batch on their way in, two ways, each one transaction:
//!
//! - the fast path, while batches hold only new keys (the usual case): one binary `COPY`
//!   straight into `ffc_events` ([`COPY_EVENTS`]) and the hourly totals of the batch, summed
//!   here, appended to `ffc_record_deltas` as one row of arrays ([`ADD_TOTALS`]; see
//!   `totals` for the fold into `ffc_record_totals`). A key already stored makes
//!   the `COPY` fail with a unique violation, the transaction rolls back, nothing is written;
//! - the conflict-checking path, then: one binary `COPY` into a per-connection temporary
//!   staging table ([`COPY_STAGE`]), then one `INSERT .. SELECT .. ON CONFLICT DO NOTHING`
//!   into `ffc_events` and the hourly deltas of exactly the rows added
//!   ([`INSERT_FROM_STAGE`]).
//!
//! The fast path writes each row once, as a bulk load does; the staging path writes it twice
//! and checks every row's key, which is what a resend after an outage needs.
//!
//! The written columns are listed once, in [`EVENT_COLUMNS`]: the staging table, the `COPY`
//! and the `INSERT .. SELECT` are built from it. To write another column, add it there
//! (name, staging type, binary type) and its value in [`write_events`].

use std::collections::BTreeMap;
use std::error::Error;
use std::sync::LazyLock;

use bytes::{BufMut, BytesMut};
use ffc_core::{CameraSerial, CountEvent, EventKey, MessageId, Metric, PeopleId, RoiId, Source};
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{to_sql_checked, IsNull, ToSql, Type};

/// The staging table: temporary (this connection only, no WAL), emptied at every commit.
const STAGE: &str = "ffc_events_stage";

/// The event columns a batch writes, in `COPY` order: name (the same in `ffc_events`), type
/// in the staging table, binary wire type. The staging table has `ord` (the row's 1-based
/// position in the batch) before them.
pub(super) const EVENT_COLUMNS: &[(&str, &str, Type)] = &[
    ("serial", "text", Type::TEXT),
    ("roi", "bigint", Type::INT8),
    ("metric", "smallint", Type::INT2),
    ("people_type", "smallint", Type::INT2),
    ("people_id", "numeric(20, 0)", Type::NUMERIC),
    ("start_unix", "bigint", Type::INT8),
    ("end_unix", "bigint", Type::INT8),
    ("utc_offset_seconds", "integer", Type::INT4),
    ("uuid", "uuid", Type::UUID),
    ("source", "text", Type::TEXT),
];

fn names() -> String {
    EVENT_COLUMNS
        .iter()
        .map(|c| c.0)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Creates the staging table on a new connection (deadpool's `post_create` hook).
pub(super) static CREATE_STAGE: LazyLock<String> = LazyLock::new(|| {
    let columns: Vec<String> = EVENT_COLUMNS
        .iter()
        .map(|(name, ty, _)| format!("{name} {ty}"))
        .collect();
    format!(
        "CREATE TEMPORARY TABLE IF NOT EXISTS {STAGE} (ord integer NOT NULL, {}) \
         ON COMMIT DELETE ROWS",
        columns.join(", ")
    )
});

/// The binary `COPY` into the staging table.
pub(super) static COPY_STAGE: LazyLock<String> =
    LazyLock::new(|| format!("COPY {STAGE} (ord, {}) FROM STDIN BINARY", names()));

/// The wire types of [`COPY_STAGE`]'s columns.
pub(super) static COPY_TYPES: LazyLock<Vec<Type>> = LazyLock::new(|| {
    std::iter::once(Type::INT4)
        .chain(EVENT_COLUMNS.iter().map(|c| c.2.clone()))
        .collect()
});

/// Counts the rows of the CTE `inserted` (the events just added) per hour bucket and
/// appends the counts to `ffc_record_deltas` as one row of arrays, in bucket order (none
/// when no row was added): an append locks nothing another writer waits for.
const COUNT_INSERTED: &str = "
    INSERT INTO ffc_record_deltas (serial, roi, metric, people_type, hour_unix, events)
    SELECT array_agg(serial ORDER BY serial, roi, metric, people_type, hour_unix),
           array_agg(roi ORDER BY serial, roi, metric, people_type, hour_unix),
           array_agg(metric ORDER BY serial, roi, metric, people_type, hour_unix),
           array_agg(people_type ORDER BY serial, roi, metric, people_type, hour_unix),
           array_agg(hour_unix ORDER BY serial, roi, metric, people_type, hour_unix),
           array_agg(events ORDER BY serial, roi, metric, people_type, hour_unix)
    FROM (SELECT serial, roi, metric, people_type,
                 end_unix - ((end_unix % 3600) + 3600) % 3600 AS hour_unix, count(*) AS events
          FROM inserted
          GROUP BY 1, 2, 3, 4, 5) b
    HAVING count(*) > 0
";

/// Moves the staged rows into `ffc_events`, counts exactly the rows added into their hour
/// buckets, and returns the key of each row added (see [`added_key`]). The rows go in
/// in `ord` order, which is key order, so concurrent writers take index locks in the same
/// order (a deadlock all the same is retried).
pub(super) static INSERT_FROM_STAGE: LazyLock<String> = LazyLock::new(|| {
    let names = names();
    format!(
        "WITH inserted AS (
    INSERT INTO ffc_events ({names})
    SELECT {names} FROM {STAGE} ORDER BY ord
    ON CONFLICT DO NOTHING
    RETURNING serial, roi, metric, people_type, people_id, start_unix, end_unix, uuid
), counted AS (
{COUNT_INSERTED})
SELECT serial, roi, metric, people_id::text, start_unix, end_unix, uuid FROM inserted"
    )
});

/// The fast path's `COPY`, straight into `ffc_events` (columns as [`EVENT_COLUMNS`], no `ord`).
pub(super) static COPY_EVENTS: LazyLock<String> =
    LazyLock::new(|| format!("COPY ffc_events ({}) FROM STDIN BINARY", names()));

/// The wire types of [`COPY_EVENTS`]'s columns.
pub(super) static EVENT_TYPES: LazyLock<Vec<Type>> =
    LazyLock::new(|| EVENT_COLUMNS.iter().map(|c| c.2.clone()).collect());

/// The fast path's hourly totals: the batch's buckets ([`Totals`]) appended to
/// `ffc_record_deltas` as they are, one row of arrays. Concurrent writers share the buckets
/// (every batch counts the same counters' current hour), but an append locks no row another
/// writer waits for; the fold adds the deltas into `ffc_record_totals` later (see `totals`).
pub(super) const ADD_TOTALS: &str = "
    INSERT INTO ffc_record_deltas (serial, roi, metric, people_type, hour_unix, events)
    VALUES ($1::text[], $2::bigint[], $3::smallint[], $4::smallint[], $5::bigint[], $6::bigint[])
";

/// A batch's events summed per hour bucket (counter, line, metric, people type, hour of the
/// end time, UTC), as [`ADD_TOTALS`]' parameter arrays, in bucket order.
#[derive(Debug, Default, PartialEq)]
pub(super) struct Totals {
    serial: Vec<SerialText>,
    roi: Vec<i64>,
    metric: Vec<i16>,
    people_type: Vec<i16>,
    hour_unix: Vec<i64>,
    events: Vec<i64>,
}

impl Totals {
    /// The buckets of `events` (each event counted once: the batch holds distinct keys).
    pub(super) fn of(events: &[CountEvent]) -> Self {
        let mut buckets: BTreeMap<(CameraSerial, u32, u8, u8, i64), i64> = BTreeMap::new();
        for e in events {
            let hour = e.end - e.end.rem_euclid(3600);
            let key = (
                e.serial,
                e.roi.0,
                e.metric.code(),
                e.people_type.code(),
                hour,
            );
            *buckets.entry(key).or_default() += 1;
        }
        let mut totals = Self::default();
        for ((serial, roi, metric, people_type, hour), n) in buckets {
            totals.serial.push(SerialText(serial));
            totals.roi.push(i64::from(roi));
            totals.metric.push(i16::from(metric));
            totals.people_type.push(i16::from(people_type));
            totals.hour_unix.push(hour);
            totals.events.push(n);
        }
        totals
    }

    /// Totals written out row by row: (serial, roi, metric, people type, hour, events).
    #[cfg(test)]
    pub(super) fn from_rows(rows: &[(u64, i64, i16, i16, i64, i64)]) -> Self {
        let mut totals = Self::default();
        for &(serial, roi, metric, people_type, hour, n) in rows {
            totals
                .serial
                .push(SerialText(CameraSerial::from_u64(serial)));
            totals.roi.push(roi);
            totals.metric.push(metric);
            totals.people_type.push(people_type);
            totals.hour_unix.push(hour);
            totals.events.push(n);
        }
        totals
    }

    /// [`ADD_TOTALS`]' parameters.
    pub(super) fn params(&self) -> [&(dyn ToSql + Sync); 6] {
        [
            &self.serial,
            &self.roi,
            &self.metric,
            &self.people_type,
            &self.hour_unix,
            &self.events,
        ]
    }
}

/// The [`EventKey`] of a row [`INSERT_FROM_STAGE`] returned (the rows added), to find its
/// caller: matching in the client costs less than joining the stage back in the server.
pub(super) fn added_key(row: &tokio_postgres::Row) -> Result<EventKey, String> {
    let get = |e: tokio_postgres::Error| format!("reading the rows added: {e}");
    if let Some(uuid) = row.try_get::<_, Option<MessageId>>(6).map_err(get)? {
        return Ok(EventKey::Uuid(uuid));
    }
    let serial: &str = row.try_get(0).map_err(get)?;
    let roi: i64 = row.try_get(1).map_err(get)?;
    let metric: i16 = row.try_get(2).map_err(get)?;
    let people_id: &str = row.try_get(3).map_err(get)?;
    let bad = |what: &str, value: &dyn std::fmt::Display| format!("row added with {what} {value}");
    Ok(EventKey::Fields {
        serial: serial.parse().map_err(|_| bad("serial", &serial))?,
        roi: RoiId(u32::try_from(roi).map_err(|_| bad("roi", &roi))?),
        metric: u64::try_from(metric)
            .ok()
            .and_then(|m| Metric::from_code(m).ok())
            .ok_or_else(|| bad("metric", &metric))?,
        people_id: PeopleId(
            people_id
                .parse()
                .map_err(|_| bad("people id", &people_id))?,
        ),
        start: row.try_get(4).map_err(get)?,
        end: row.try_get(5).map_err(get)?,
    })
}

/// Writes `events` (the batch's distinct keys, in key order) as the rows of the `COPY` and
/// finishes it: with `ord` 1, 2, .. first for the staging table ([`COPY_STAGE`]), without
/// for [`COPY_EVENTS`].
pub(super) async fn write_events<'a>(
    copy: BinaryCopyInWriter,
    events: impl Iterator<Item = &'a CountEvent>,
    with_ord: bool,
) -> Result<u64, tokio_postgres::Error> {
    let first = usize::from(!with_ord);
    let mut copy = std::pin::pin!(copy);
    let mut sources: Vec<(Source, String)> = Vec::new();
    for (ord, e) in (1i32..).zip(events) {
        if !sources.iter().any(|(s, _)| *s == e.source) {
            sources.push((e.source, source_name(e.source)));
        }
        let source = sources
            .iter()
            .find(|(s, _)| *s == e.source)
            .map_or("", |(_, name)| name.as_str());
        let row: [&(dyn ToSql + Sync); 11] = [
            &ord,
            &SerialText(e.serial),
            &i64::from(e.roi.0),
            &i16::from(e.metric.code()),
            &i16::from(e.people_type.code()),
            &Numeric(e.people_id.0),
            &e.start,
            &e.end,
            &e.offset.seconds(),
            &e.uuid,
            &source,
        ];
        copy.as_mut().write(&row[first..]).await?;
    }
    copy.finish().await
}

/// A serial as `text`: its 16 hex digits written straight into the wire buffer (no
/// `String` per event, no formatting machinery).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct SerialText(pub(super) CameraSerial);

impl ToSql for SerialText {
    fn to_sql(&self, _: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        out.put_slice(&self.0.hex());
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::TEXT
    }

    to_sql_checked!();
}

/// A [`Source`] by its serde name (`WebSocket`, `Mqtt`, ..).
pub(super) fn source_name(source: Source) -> String {
    match serde_json::to_value(source) {
        Ok(serde_json::Value::String(name)) => name,
        _ => format!("{source:?}"),
    }
}

/// A `u64` as PostgreSQL's binary `numeric` (base-10000 digits), for `numeric(20, 0)`
/// columns: tokio-postgres has no numeric type of its own without an extra crate.
#[derive(Debug, Clone, Copy)]
pub(super) struct Numeric(pub(super) u64);

impl ToSql for Numeric {
    fn to_sql(&self, _: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        // Base-10000 digits, least significant first; at most 5 for a u64.
        let mut digits = [0i16; 5];
        let mut n = 0usize;
        let mut rest = self.0;
        while rest > 0 {
            digits[n] = (rest % 10_000) as i16;
            rest /= 10_000;
            n += 1;
        }
        // weight: the exponent (in base 10000) of the first digit; trailing zero digits
        // are left out, as PostgreSQL stores them.
        let weight = n.saturating_sub(1) as i16;
        let skip = digits[..n].iter().take_while(|d| **d == 0).count();
        let ndigits = n - skip;
        out.put_i16(ndigits as i16);
        out.put_i16(weight);
        out.put_i16(0); // sign: positive
        out.put_i16(0); // display scale
        for d in digits[skip..n].iter().rev() {
            out.put_i16(*d);
        }
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::NUMERIC
    }

    to_sql_checked!();
}
