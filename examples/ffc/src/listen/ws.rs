//! `ffc listen ws`: ffc-protocols' WebSocket receiver, printing events or keeping them.
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ffc_protocols::sink::{
    ChannelSink, DeadLetterSink, EventSink, FileDeadLetters, FileSink, MemoryDeadLetters,
};
use ffc_protocols::ws::server::Auth;
use ffc_protocols::ws::{Receiver, ReceiverConfig};

/// Token from env FFC_WS_TOKEN, Basic from FFC_WS_BASIC_USER and FFC_WS_BASIC_PASSWORD.
pub fn auth_from_env() -> Auth {
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

/// Runs the receiver until a stop signal or `max_events` kept events.
pub async fn listen(
    bind: SocketAddr,
    events: Option<PathBuf>,
    dead_letters: Option<PathBuf>,
    max_events: Option<u64>,
    metrics: Option<SocketAddr>,
) -> Result<(), String> {
    let served = crate::metrics::serve(metrics, "ws").await?;
    let config = ReceiverConfig::new(bind)
        .with_auth(auth_from_env())
        .with_metrics(served.as_ref().map(|(m, _)| m.clone()));
    let (tx, mut rx) = tokio::sync::mpsc::channel(1024);
    let sink: Arc<dyn EventSink> = match &events {
        Some(path) => {
            Arc::new(FileSink::open(path).map_err(|e| format!("{}: {e}", path.display()))?)
        }
        None => Arc::new(ChannelSink::new(tx)),
    };
    let dead: Arc<dyn DeadLetterSink> = match &dead_letters {
        Some(path) => {
            Arc::new(FileDeadLetters::open(path).map_err(|e| format!("{}: {e}", path.display()))?)
        }
        None => Arc::new(MemoryDeadLetters::new()),
    };
    let receiver = Receiver::bind(config, sink, dead)
        .await
        .map_err(|e| format!("{bind}: {e}"))?;
    let local = receiver.local_addr().map_err(|e| format!("{bind}: {e}"))?;
    let receiver = receiver.spawn();
    println!("listening on ws://{local}/");
    let _ = std::io::stdout().flush();
    let mut stop = std::pin::pin!(ffc_protocols::shutdown::signal());
    let mut tick = tokio::time::interval(Duration::from_millis(50));
    loop {
        tokio::select! {
            _ = &mut stop => break,
            Some(event) = rx.recv() => {
                println!("{}", serde_json::to_string(&event).map_err(|e| e.to_string())?);
                let _ = std::io::stdout().flush();
            }
            _ = tick.tick() => {}
        }
        if let Some(max) = max_events {
            // With a channel sink, print what is queued before stopping.
            if receiver.stats().accepted >= max && rx.is_empty() {
                break;
            }
        }
    }
    let stats = receiver.stats();
    receiver.shutdown().await.map_err(|e| e.to_string())?;
    eprintln!(
        "stopped: {} events kept, {} duplicates, {} test messages, {} dead-lettered",
        stats.accepted, stats.duplicates, stats.tests, stats.dead_lettered
    );
    crate::metrics::stop(served).await;
    Ok(())
}
