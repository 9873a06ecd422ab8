//! Reference integration: a WebSocket receiver for FootfallCam counters that keeps every
//! event in PostgreSQL (or, without a database, in JSON-lines files).
//!
//! ```text
//! FFC_WS_TOKEN=... FFC_PG_PASSWORD=... \
//!   cargo run -p ffc-examples --bin ws_to_postgres -- 0.0.0.0:8080 postgresql://ffc@db.local/footfall
//! ws_to_postgres --bind 0.0.0.0:8080 --postgres postgresql://ffc@db.local/footfall [--max-connections N]
//! ws_to_postgres --bind 127.0.0.1:8080 --events events.jsonl --dead-letters dead.jsonl
//! ```
//!
//! Point the counters' WebSocket push at `ws://this-host:8080/` with the token. Each event
//! is answered `OK` only after PostgreSQL committed it (`ffc_events`, with its hourly total
//! in the view `ffc_records`); a message that authenticates but does not decode is kept in
//! `ffc_dead_letters` and answered `OK` too. A resent event, from the same counter or
//! through another receiver behind the same load balancer, is a duplicate of its event key
//! and counted once: the receiver is stateless, so run several behind a load balancer.
//!
//! Secrets come from the environment, never the command line (which `ps` shows):
//! `FFC_WS_TOKEN` (Bearer or `token` query parameter), `FFC_WS_BASIC_USER` with
//! `FFC_WS_BASIC_PASSWORD`, `FFC_PG_PASSWORD`. Prints `listening on <addr>` once ready
//! (after the database answered; it waits for a database that is down); stops gracefully
//! on Ctrl-C or SIGTERM and prints what it kept. Logs go to stderr (`RUST_LOG`, default
//! `info`).
//!
//! Everything here is ffc-protocols' public API: `ws::Receiver` owns the loop (accept,
//! authenticate, decode, keep, acknowledge, drain on shutdown).
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use ffc_protocols::sink::postgres::{PgSink, PgSinkConfig};
use ffc_protocols::sink::{DeadLetterSink, EventSink, FileDeadLetters, FileSink};
use ffc_protocols::ws::server::{Auth, Limits};
use ffc_protocols::ws::{Receiver, ReceiverConfig};

const USAGE: &str =
    "usage: ws_to_postgres BIND_ADDR POSTGRES_URL\n   or: ws_to_postgres --bind ADDR \
(--postgres URL | --events FILE --dead-letters FILE) [--max-connections N]";

/// Where the events go.
enum Store {
    Postgres(String),
    Files {
        events: String,
        dead_letters: String,
    },
}

struct Options {
    bind: SocketAddr,
    store: Store,
    max_connections: Option<usize>,
}

fn parse(argv: &[String]) -> Result<Options, String> {
    if let [bind, url] = argv {
        if !bind.starts_with("--") {
            return Ok(Options {
                bind: bind.parse().map_err(|e| format!("{bind}: {e}"))?,
                store: Store::Postgres(url.clone()),
                max_connections: None,
            });
        }
    }
    let (mut bind, mut postgres, mut events, mut dead, mut max) = (None, None, None, None, None);
    let mut args = argv.iter();
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .ok_or(format!("{flag} needs a value\n{USAGE}"))?;
        match flag.as_str() {
            "--bind" => bind = Some(value.parse().map_err(|e| format!("--bind: {e}"))?),
            "--postgres" => postgres = Some(value.clone()),
            "--events" => events = Some(value.clone()),
            "--dead-letters" => dead = Some(value.clone()),
            "--max-connections" => {
                max = Some(
                    value
                        .parse()
                        .map_err(|e| format!("--max-connections: {e}"))?,
                )
            }
            _ => return Err(format!("unknown flag {flag}\n{USAGE}")),
        }
    }
    let store = match (postgres, events, dead) {
        (Some(url), None, None) => Store::Postgres(url),
        (None, Some(events), Some(dead_letters)) => Store::Files {
            events,
            dead_letters,
        },
        _ => return Err(USAGE.into()),
    };
    Ok(Options {
        bind: bind.ok_or(USAGE)?,
        store,
        max_connections: max,
    })
}

/// Connects to PostgreSQL, waiting while it is down (a receiver may start before the
/// database, or restart while it restarts). The schema is created or upgraded on connect.
async fn open_postgres(url: &str) -> Result<Arc<PgSink>, String> {
    let mut config = PgSinkConfig::new(url).map_err(|e| format!("--postgres: {e}"))?;
    if std::env::var_os("FFC_PG_PASSWORD").is_some() {
        config = config
            .with_password_from_env("FFC_PG_PASSWORD")
            .map_err(|e| format!("FFC_PG_PASSWORD: {e}"))?;
    }
    let sink = PgSink::connect_waiting(config, |e, wait| {
        tracing::warn!(error = %e, ?wait, "PostgreSQL not ready; trying again");
    })
    .await
    .map_err(|e| format!("--postgres: {e}"))?;
    Ok(Arc::new(sink))
}

fn auth_from_env() -> Auth {
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
    auth
}

async fn run(options: Options) -> Result<(), String> {
    let (events, dead, postgres): (Arc<dyn EventSink>, Arc<dyn DeadLetterSink>, _) = match &options
        .store
    {
        Store::Postgres(url) => {
            let sink = open_postgres(url).await?;
            (sink.clone(), sink.clone(), Some(sink))
        }
        Store::Files {
            events,
            dead_letters,
        } => (
            Arc::new(FileSink::open(events).map_err(|e| format!("--events: {e}"))?),
            Arc::new(
                FileDeadLetters::open(dead_letters).map_err(|e| format!("--dead-letters: {e}"))?,
            ),
            None,
        ),
    };
    let mut limits = Limits::default();
    if let Some(max) = options.max_connections {
        limits = limits.with_max_connections(max);
    }
    let config = ReceiverConfig::new(options.bind)
        .with_auth(auth_from_env())
        .with_limits(limits);
    let receiver = Receiver::bind(config, events, dead)
        .await
        .map_err(|e| format!("bind {}: {e}", options.bind))?;
    println!(
        "listening on {}",
        receiver.local_addr().map_err(|e| e.to_string())?
    );
    let received = receiver
        .run(ffc_protocols::shutdown::signal())
        .await
        .map_err(|e| e.to_string())?;
    let stored = match &postgres {
        Some(sink) => {
            sink.close().await;
            let kept = sink.stats();
            format!(
                "; PostgreSQL stored {} events in {} transactions",
                kept.events_stored, kept.batches
            )
        }
        None => String::new(),
    };
    println!(
        "received {} events ({} duplicates), {} dead letters, {} test messages{stored}",
        received.accepted, received.duplicates, received.dead_lettered, received.tests
    );
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let result = match parse(&argv) {
        Ok(options) => run(options).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("ws_to_postgres: {message}");
            ExitCode::FAILURE
        }
    }
}
