//! What the PostgreSQL test files share (those of ffc-protocols, and ffc-cli's by `#[path]`):
//! the server from FFC_PG_URL (or a skip, except under CI), clients, throwaway databases,
//! and events.

// Each test file uses its own part of this module.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, Ordering};

use ffc_core::{CameraSerial, CountEvent, Metric, PeopleId, PeopleType, RoiId, Source, UtcOffset};
use tokio_postgres::NoTls;

/// The variable `var` (set by scripts/services.sh), or `None` after saying the test is
/// skipped; under CI a missing one fails.
pub fn env_or_skip(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(value) => Some(value),
        Err(_) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "{var} not set under CI: run the tests through scripts/test.sh"
            );
            eprintln!("skipped: {var} not set (source scripts/services.sh)");
            None
        }
    }
}

/// FFC_PG_URL, or `None` after saying the test is skipped (see [`env_or_skip`]).
pub fn url_or_skip() -> Option<String> {
    env_or_skip("FFC_PG_URL")
}

/// A client of the server at `url`, on database `db` (the URL's own without one).
pub async fn client(url: &str, db: Option<&str>) -> tokio_postgres::Client {
    let mut config: tokio_postgres::Config = url.parse().unwrap();
    if let Some(db) = db {
        config.dbname(db);
    }
    let (client, connection) = config.connect(NoTls).await.unwrap();
    tokio::spawn(connection);
    client
}

/// A fresh database of its own, named `ffc_<tag>_<pid>_<n>` (digits and the caller's
/// literal tag, never input).
pub async fn fresh_db(url: &str, tag: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = format!(
        "ffc_{tag}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let admin = client(url, None).await;
    admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
        .await
        .unwrap();
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    name
}

/// Drops a database [`fresh_db`] made, closing its connections.
pub async fn drop_db(url: &str, name: &str) {
    client(url, None)
        .await
        .batch_execute(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .await
        .unwrap();
}

/// The first column of every row `sql` gives, as text.
pub async fn texts(client: &tokio_postgres::Client, sql: &str) -> Vec<String> {
    client
        .query(sql, &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// A visitor crossing line 1 of `serial` at `end`, person `n`, on a site `offset` seconds
/// from UTC.
pub fn event(serial: CameraSerial, n: u64, end: i64, metric: Metric, offset: i32) -> CountEvent {
    CountEvent {
        serial,
        roi: RoiId(1),
        metric,
        people_type: PeopleType::Visitor,
        people_id: PeopleId(n),
        start: end,
        end,
        offset: UtcOffset::from_seconds(offset).unwrap(),
        uuid: None,
        source: Source::WebSocket,
    }
}
