//! Reference integration: a WebSocket receiver for FootfallCam counters that keeps every
//! event in PostgreSQL.
//!
//! ```text
//! FFC_WS_TOKEN=... FFC_PG_PASSWORD=... \
//!   cargo run -p ffc-examples --bin ws_to_postgres -- 0.0.0.0:8080 postgresql://ffc@db.local/footfall
//! ```
//!
//! Point the counters' WebSocket push at `ws://this-host:8080/` with the token. Each event
//! is answered `OK` only after PostgreSQL committed it (`ffc_events`, with its hourly total
//! in `ffc_records`); a message that authenticates but does not decode is kept in
//! `ffc_dead_letters` and answered `OK` too. A resent event, from the same counter or
//! through another receiver behind the same load balancer, is a duplicate of its event key
//! and counted once. Stop with Ctrl-C (SIGINT) or SIGTERM.
use std::net::SocketAddr;
use std::sync::Arc;

use ffc_protocols::sink::postgres::{PgSink, PgSinkConfig};
use ffc_protocols::ws::server::{Auth, Server, ServerConfig};
use tokio::signal::unix::{signal, SignalKind};

async fn run() -> Result<(), String> {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let [bind, url] = argv.as_slice() else {
        return Err("usage: ws_to_postgres BIND_ADDR POSTGRES_URL".into());
    };
    let bind: SocketAddr = bind.parse().map_err(|e| format!("{bind}: {e}"))?;

    // The database: the schema is created or upgraded on connect. Secrets come from the
    // environment, never from the command line.
    let mut pg = PgSinkConfig::new(url).map_err(|e| e.to_string())?;
    if std::env::var_os("FFC_PG_PASSWORD").is_some() {
        pg = pg
            .with_password_from_env("FFC_PG_PASSWORD")
            .map_err(|e| e.to_string())?;
    }
    let sink = Arc::new(PgSink::connect(pg).await.map_err(|e| e.to_string())?);

    // The receiver: events and dead letters both go to PostgreSQL.
    let mut config = ServerConfig::new(bind);
    if let Ok(token) = std::env::var("FFC_WS_TOKEN") {
        config.auth = Auth::new().with_token(token);
    }
    let server = Server::bind(config, sink.clone(), sink.clone())
        .await
        .map_err(|e| format!("bind {bind}: {e}"))?;
    println!(
        "listening on {}",
        server.local_addr().map_err(|e| e.to_string())?
    );
    let handle = server.spawn();

    let mut term = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    let received = handle.stats();
    handle.shutdown().await.map_err(|e| e.to_string())?;
    sink.close().await;
    let kept = sink.stats();
    println!(
        "received {} events ({} duplicates), {} dead letters; PostgreSQL stored {} events in {} transactions",
        received.accepted, received.duplicates, received.dead_lettered, kept.events_stored, kept.batches
    );
    Ok(())
}

fn main() -> std::process::ExitCode {
    ffc_examples::main_exit(run())
}
