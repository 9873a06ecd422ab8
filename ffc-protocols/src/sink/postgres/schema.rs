//! The ffc tables and their versioned migrations, applied under an advisory lock.

use super::error::error_text;
use super::PgSinkError;

/// The newest schema version this build creates; [`migrate`] brings a database up to it.
pub const SCHEMA_VERSION: u32 = 5;

/// The migrations in order: version, what it does, its SQL. Never edit a released one; add
/// the next version instead.
const MIGRATIONS: &[(u32, &str, &str)] = &[
    (
        1,
        "events keyed by EventKey, hourly records, dead letters",
        "CREATE TABLE ffc_events (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        serial text NOT NULL CHECK (serial ~ '^[0-9a-f]{16}$'),
        roi bigint NOT NULL,
        metric smallint NOT NULL,
        people_type smallint NOT NULL,
        people_id numeric(20, 0) NOT NULL,
        start_unix bigint NOT NULL,
        end_unix bigint NOT NULL,
        utc_offset_seconds integer NOT NULL,
        uuid uuid UNIQUE,
        source text NOT NULL,
        stored_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX ffc_events_fields_key
        ON ffc_events (serial, roi, metric, people_id, start_unix, end_unix)
        WHERE uuid IS NULL;
    CREATE TABLE ffc_records (
        serial text NOT NULL,
        roi bigint NOT NULL,
        metric smallint NOT NULL,
        people_type smallint NOT NULL,
        hour_start timestamptz NOT NULL,
        events bigint NOT NULL,
        PRIMARY KEY (serial, roi, metric, people_type, hour_start)
    );
    CREATE TABLE ffc_dead_letters (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        received_at timestamptz NOT NULL,
        origin text NOT NULL,
        reason text NOT NULL,
        raw bytea NOT NULL,
        stored_at timestamptz NOT NULL DEFAULT now()
    );",
    ),
    (
        2,
        "receive times, sessions, counters, merged records with provenance, BI views",
        super::provenance::V2,
    ),
    (
        3,
        "hourly records leave room on each page for their updates",
        // Every batch adds to the hourly totals it touches: an UPDATE of `events`, a column
        // no index holds. With room on the page PostgreSQL keeps the new row version there
        // and updates no index (a HOT update), which is most of what the totals cost.
        "ALTER TABLE ffc_records SET (fillfactor = 50);",
    ),
    (
        4,
        "hourly totals appended as deltas and folded; ffc_records a view of both",
        super::totals::V4,
    ),
    (
        5,
        "the uuid key indexes only events that have one; delta rows stay uncompressed",
        // A unique index holds NULLs too: every event keyed by its fields added a NULL entry
        // at the right edge of the uuid index, a page all concurrent writers then waited on.
        // A delta row over 2 kB (a batch of some 60 buckets) was compressed with pglz at
        // insert and decompressed by the fold; up to a page it now stays as it is.
        "ALTER TABLE ffc_events DROP CONSTRAINT ffc_events_uuid_key;
        CREATE UNIQUE INDEX ffc_events_uuid_key ON ffc_events (uuid) WHERE uuid IS NOT NULL;
        ALTER TABLE ffc_record_deltas SET (toast_tuple_target = 8160);",
    ),
];

/// The advisory lock key the migration holds for its transaction ("ffc mig" in ASCII).
const MIGRATION_LOCK: i64 = 0x0066_6663_206d_6967;

/// Creates or upgrades the ffc tables on `client`'s database to [`SCHEMA_VERSION`] and
/// returns the version it holds then. Idempotent, and safe to run from many processes at
/// once: the whole migration is one transaction under `pg_advisory_xact_lock`, so a second
/// caller waits for the first and then finds nothing to do. Each applied version is a row of
/// `ffc_schema_version`. Fails with [`PgSinkError::SchemaTooNew`] on a newer schema.
pub async fn migrate(client: &mut tokio_postgres::Client) -> Result<u32, PgSinkError> {
    migrate_to(client, SCHEMA_VERSION).await
}

/// Like [`migrate`], but applies the migrations only up to `target` (at most
/// [`SCHEMA_VERSION`]), as an older build would have: for testing upgrades from a database
/// an earlier release made. Returns the version the database holds then (more than
/// `target` when it held more already). A `target` above [`SCHEMA_VERSION`] is
/// [`PgSinkError::Config`].
pub async fn migrate_to(
    client: &mut tokio_postgres::Client,
    target: u32,
) -> Result<u32, PgSinkError> {
    if target > SCHEMA_VERSION {
        return Err(PgSinkError::Config {
            reason: format!(
                "schema version {target} asked for, this build knows up to {SCHEMA_VERSION}"
            ),
        });
    }
    let failed = |doing: &'static str| {
        move |e: tokio_postgres::Error| PgSinkError::Connect {
            target: "the migration's connection".into(),
            doing,
            message: error_text(&e),
        }
    };
    let tx = client
        .transaction()
        .await
        .map_err(failed("starting the migration"))?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(failed("taking the migration lock"))?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS ffc_schema_version (
            version integer PRIMARY KEY,
            description text NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now()
        )",
    )
    .await
    .map_err(failed("creating ffc_schema_version"))?;
    let current: Option<i32> = tx
        .query_one("SELECT max(version) FROM ffc_schema_version", &[])
        .await
        .map_err(failed("reading the schema version"))?
        // A table of that name from elsewhere may hold another type: an error, not a panic.
        .try_get(0)
        .map_err(failed("reading the schema version"))?;
    let current = u32::try_from(current.unwrap_or(0)).unwrap_or(0);
    if current > SCHEMA_VERSION {
        return Err(PgSinkError::SchemaTooNew {
            found: current,
            supported: SCHEMA_VERSION,
        });
    }
    let wanted = MIGRATIONS.iter().filter(|m| m.0 > current && m.0 <= target);
    for &(version, description, sql) in wanted {
        let migrate_error = |e: tokio_postgres::Error| PgSinkError::Migrate {
            version,
            message: error_text(&e),
        };
        tx.batch_execute(sql).await.map_err(migrate_error)?;
        tx.execute(
            "INSERT INTO ffc_schema_version (version, description) VALUES ($1, $2)",
            &[&i32::try_from(version).unwrap_or(i32::MAX), &description],
        )
        .await
        .map_err(migrate_error)?;
        tracing::info!(version, description, "ffc schema migrated");
    }
    tx.commit()
        .await
        .map_err(failed("committing the migration"))?;
    Ok(current.max(target))
}
