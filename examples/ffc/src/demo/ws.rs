//! One counter of each branch pushes its day of events over WebSocket to our receiver.
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ffc_core::aggregate::Aggregator;
use ffc_core::CameraSerial;
use ffc_protocols::sink::{MemoryDeadLetters, MemorySink};
use ffc_protocols::ws::sender::{Sender, SenderConfig};
use ffc_protocols::ws::{Receiver, ReceiverConfig};
use tracing::Instrument as _;

use super::{simulator, Day, NORTH_3, SOUTH_2};

/// Runs the receiver (in a `ws` span; each sender in its own `ws` span with its serial),
/// checks every pushed event was stored, and aggregates them.
pub(super) async fn receive(
    day: &Day,
    agg: &mut Aggregator,
    say: &mut dyn FnMut(String),
) -> Result<(), String> {
    let span = tracing::info_span!("ws", role = "receiver");
    let sink = Arc::new(MemorySink::new());
    let receiver = Receiver::bind(
        ReceiverConfig::new(SocketAddr::from(([127, 0, 0, 1], 0))),
        sink.clone(),
        Arc::new(MemoryDeadLetters::new()),
    )
    .instrument(span.clone())
    .await
    .map_err(|e| format!("WebSocket receiver: {e}"))?
    .spawn();
    let url = format!("ws://{}/", receiver.local_addr());
    let mut pushed = 0usize;
    for (serial, name, seed) in [
        (NORTH_3, "ACME - North entrance", 4),
        (SOUTH_2, "ACME - South side door", 5),
    ] {
        pushed += push(serial, name, seed, &url, day)
            .instrument(tracing::info_span!("ws", serial = %serial))
            .await?;
    }
    let entered = span.enter();
    let received = sink.events();
    if received.len() != pushed {
        return Err(format!(
            "WebSocket: {pushed} events pushed, {} stored",
            received.len()
        ));
    }
    for event in &received {
        agg.ingest(event);
    }
    // Both connections were up all day: hours without a crossing are zero, not missing.
    agg.cover(NORTH_3, day.start, day.end);
    agg.cover(SOUTH_2, day.start, day.end);
    let stats = receiver.stats();
    tracing::debug!(
        received = received.len(),
        acknowledged = stats.accepted,
        "received"
    );
    say(format!(
        "received {} events over WebSocket from North-3 and South-2 at {url} ({} acknowledged with OK)",
        received.len(),
        stats.accepted
    ));
    drop(entered);
    receiver
        .shutdown()
        .instrument(span)
        .await
        .map_err(|e| format!("WebSocket receiver: {e}"))
}

/// A counter simulator's day of events, pushed by the SDK's sender until every one is
/// acknowledged; returns how many.
async fn push(
    serial: CameraSerial,
    name: &str,
    seed: u64,
    url: &str,
    day: &Day,
) -> Result<usize, String> {
    let stream = simulator(serial, name, seed).await?;
    let mut config = SenderConfig::new(url.to_owned());
    config.ack_timeout = Duration::from_secs(5);
    let mut sender: Sender = Sender::new(config);
    let mut pushed = 0;
    for event in stream.events(day.start, day.end) {
        sender
            .push(event)
            .map_err(|_| "the counter's outbox is full")?;
        pushed += 1;
    }
    sender
        .deliver_all(Duration::from_secs(20))
        .await
        .map_err(|e| format!("{serial} over WebSocket: {e}"))?;
    tracing::debug!(events = pushed, "delivered, every event acknowledged");
    Ok(pushed)
}
