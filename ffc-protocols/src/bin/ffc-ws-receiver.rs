//! A WebSocket receiver for FootfallCam counters that keeps events in a JSON-lines file or
//! in PostgreSQL.
//!
//! ```text
//! ffc-ws-receiver --bind 127.0.0.1:8080 --events events.jsonl --dead-letters dead.jsonl
//! ffc-ws-receiver --bind 127.0.0.1:8080 --postgres postgresql://ffc@127.0.0.1:5432/ffc
//! ```
//!
//! With `--postgres` (cargo feature `postgres`) the receiver is stateless: run several
//! behind a load balancer, all writing to one database; the event key makes a counter's
//! resend through another receiver a duplicate, not a second count.
//!
//! Credentials come from the environment, never the command line (which `ps` shows):
//! `FFC_WS_TOKEN` (Bearer or `token` query parameter), `FFC_WS_BASIC_USER` with
//! `FFC_WS_BASIC_PASSWORD`; `FFC_PG_PASSWORD` for PostgreSQL. Prints `listening on <addr>`
//! once ready (after the database answered); stops gracefully on SIGINT or SIGTERM and
//! prints the counters.

use std::process::ExitCode;
use std::sync::Arc;

use ffc_protocols::sink::{DeadLetterSink, EventSink, FileDeadLetters, FileSink};
use ffc_protocols::ws::server::{Auth, Server, ServerConfig};

const USAGE: &str = "usage: ffc-ws-receiver --bind ADDR (--events FILE --dead-letters FILE | --postgres URL) [--max-connections N]";

type Sinks = (Arc<dyn EventSink>, Arc<dyn DeadLetterSink>);

/// Connects to PostgreSQL, waiting for it while it is down (a receiver may start before
/// the database, or restart while it restarts).
#[cfg(feature = "postgres")]
async fn open_postgres(url: &str) -> Result<Sinks, String> {
    use ffc_protocols::sink::postgres::{PgSink, PgSinkConfig};
    let mut config = PgSinkConfig::new(url).map_err(|e| format!("--postgres: {e}"))?;
    if std::env::var_os("FFC_PG_PASSWORD").is_some() {
        config = config
            .with_password_from_env("FFC_PG_PASSWORD")
            .map_err(|e| format!("FFC_PG_PASSWORD: {e}"))?;
    }
    let sink = PgSink::connect_waiting(config, |e, wait| {
        eprintln!("ffc-ws-receiver: {e}; trying again in {wait:?}");
    })
    .await
    .map_err(|e| format!("--postgres: {e}"))?;
    let sink = Arc::new(sink);
    Ok((sink.clone(), sink))
}

#[cfg(not(feature = "postgres"))]
async fn open_postgres(_url: &str) -> Result<Sinks, String> {
    Err("--postgres: this build has no PostgreSQL sink (cargo feature `postgres`)".into())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("ffc-ws-receiver: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let mut bind = None;
    let mut events = None;
    let mut dead = None;
    let mut max_connections = None;
    let mut postgres = None;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .ok_or(format!("{flag} needs a value\n{USAGE}"))?;
        match flag.as_str() {
            "--bind" => bind = Some(value),
            "--events" => events = Some(value),
            "--dead-letters" => dead = Some(value),
            "--max-connections" => max_connections = Some(value),
            "--postgres" => postgres = Some(value),
            _ => return Err(format!("unknown flag {flag}\n{USAGE}")),
        }
    }
    let bind = bind
        .ok_or(USAGE)?
        .parse()
        .map_err(|e| format!("--bind: {e}"))?;
    let files = match (postgres.is_some(), events, dead) {
        (false, Some(events), Some(dead)) => {
            let events = FileSink::open(events).map_err(|e| e.to_string())?;
            let dead = FileDeadLetters::open(dead).map_err(|e| e.to_string())?;
            Some((
                Arc::new(events) as Arc<dyn EventSink>,
                Arc::new(dead) as Arc<dyn DeadLetterSink>,
            ))
        }
        (true, None, None) => None,
        _ => {
            return Err(format!(
                "give either --postgres or --events with --dead-letters\n{USAGE}"
            ))
        }
    };
    let mut config = ServerConfig::new(bind);
    let mut auth = Auth::new();
    if let Ok(token) = std::env::var("FFC_WS_TOKEN") {
        auth = auth.with_token(token);
    }
    if let (Ok(user), Ok(password)) = (
        std::env::var("FFC_WS_BASIC_USER"),
        std::env::var("FFC_WS_BASIC_PASSWORD"),
    ) {
        auth = auth.with_basic(user, password);
    }
    config.auth = auth;
    if let Some(n) = max_connections {
        config.limits.max_connections = n.parse().map_err(|e| format!("--max-connections: {e}"))?;
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        let (events, dead) = match (files, postgres) {
            (Some(files), _) => files,
            (None, Some(url)) => open_postgres(&url).await?,
            (None, None) => return Err(USAGE.to_owned()),
        };
        let server = Server::bind(config, events, dead)
            .await
            .map_err(|e| format!("bind: {e}"))?;
        let addr = server.local_addr().map_err(|e| e.to_string())?;
        println!("listening on {addr}");
        let handle = server.spawn();
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .map_err(|e| e.to_string())?;
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        let stats = handle.stats();
        handle.shutdown().await.map_err(|e| e.to_string())?;
        println!("{stats:?}");
        Ok(())
    })
}
