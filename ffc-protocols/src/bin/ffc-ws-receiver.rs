//! A WebSocket receiver for FootfallCam counters that appends events to a JSON-lines file.
//!
//! ```text
//! ffc-ws-receiver --bind 127.0.0.1:8080 --events events.jsonl --dead-letters dead.jsonl
//! ```
//!
//! Credentials come from the environment, never the command line (which `ps` shows):
//! `FFC_WS_TOKEN` (Bearer or `token` query parameter), `FFC_WS_BASIC_USER` with
//! `FFC_WS_BASIC_PASSWORD`. Prints `listening on <addr>` once ready; stops gracefully on
//! SIGINT or SIGTERM and prints the counters.

use std::process::ExitCode;
use std::sync::Arc;

use ffc_protocols::sink::{FileDeadLetters, FileSink};
use ffc_protocols::ws::server::{Auth, Server, ServerConfig};

const USAGE: &str =
    "usage: ffc-ws-receiver --bind ADDR --events FILE --dead-letters FILE [--max-connections N]";

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
            _ => return Err(format!("unknown flag {flag}\n{USAGE}")),
        }
    }
    let bind = bind
        .ok_or(USAGE)?
        .parse()
        .map_err(|e| format!("--bind: {e}"))?;
    let events = FileSink::open(events.ok_or(USAGE)?).map_err(|e| e.to_string())?;
    let dead = FileDeadLetters::open(dead.ok_or(USAGE)?).map_err(|e| e.to_string())?;
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
        let server = Server::bind(config, Arc::new(events), Arc::new(dead))
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
