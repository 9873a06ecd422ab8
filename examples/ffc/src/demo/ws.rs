//! One counter of each branch pushes its day of events over WebSocket to our receiver, with
//! receive times and sessions on the demo's clock (each event received when it was
//! counted). North-3 is a busy entrance whose server goes away at [`OUTAGE_FROM`]: its
//! outbox fills to 10,000 events, the next one is refused and the push module turns off;
//! when the server is back the counter resends the 10,000 it holds in one burst and is then
//! silent for the rest of the day.
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ffc_core::outbox::OutboxState;
use ffc_core::{CameraSerial, CountEvent};
use ffc_protocols::sink::{Clock, MemoryDeadLetters, MemorySink};
use ffc_protocols::ws::sender::{Sender, SenderConfig};
use ffc_protocols::ws::{Receiver, ReceiverConfig, ReceiverHandle};
use tracing::Instrument as _;

use super::{simulator_with_peak, Day, NORTH_3, SOUTH_2};

/// Seconds after the day's start North-3's server goes away (09:00 local).
pub const OUTAGE_FROM: i64 = 9 * 3600;
/// North-3's busiest hour, so the outage overflows its outbox within the day.
pub const NORTH_3_PEAK: u32 = 2400;

/// The WebSocket counters: serial, name, seed, busiest hour.
pub const COUNTERS: [(CameraSerial, &str, u64, u32); 2] = [
    (NORTH_3, "ACME - North entrance", 4, NORTH_3_PEAK),
    (SOUTH_2, "ACME - South side door", 5, 60),
];

/// What North-3's overflow looked like.
#[derive(Debug, Clone, Copy)]
pub struct Overflow {
    /// When the refused event was counted (the module turned off).
    pub at: i64,
    /// Events the outbox held and resent.
    pub held: usize,
}

/// Runs the receiver (in a `ws` span; each sender in its own `ws` span with its serial) and
/// returns the sink (events with receive times, sessions) and North-3's overflow.
pub(super) async fn receive(
    day: &Day,
    say: &mut dyn FnMut(String),
) -> Result<(MemorySink, Overflow), String> {
    let span = tracing::info_span!("ws", role = "receiver");
    let sink = Arc::new(MemorySink::new());
    let now = Arc::new(AtomicI64::new(day.start));
    let read = now.clone();
    let config = ReceiverConfig::new(SocketAddr::from(([127, 0, 0, 1], 0)))
        .with_clock(Clock::new(move || read.load(Ordering::SeqCst)));
    let receiver = Receiver::bind(config, sink.clone(), Arc::new(MemoryDeadLetters::new()))
        .instrument(span.clone())
        .await
        .map_err(|e| format!("WebSocket receiver: {e}"))?
        .spawn();
    let url = format!("ws://{}/", receiver.local_addr());
    let mut pushed = 0usize;
    let mut overflow = None;
    for (serial, name, seed, peak) in COUNTERS {
        let counter = Counter {
            serial,
            url: &url,
            now: &now,
            receiver: &receiver,
        };
        let events = simulator_with_peak(serial, name, seed, peak)
            .await?
            .events(day.start, day.end);
        let (n, o) = counter
            .push_day(&events, day, serial == NORTH_3)
            .instrument(tracing::info_span!("ws", serial = %serial))
            .await?;
        pushed += n;
        overflow = overflow.or(o);
    }
    let overflow = overflow.ok_or("North-3's outbox did not overflow")?;
    let stats = receiver.stats();
    receiver
        .shutdown()
        .instrument(span)
        .await
        .map_err(|e| format!("WebSocket receiver: {e}"))?;
    let sink = Arc::try_unwrap(sink).map_err(|_| "WebSocket sink still shared")?;
    if sink.len() != pushed {
        return Err(format!(
            "WebSocket: {pushed} events delivered, {} stored",
            sink.len()
        ));
    }
    say(format!(
        "received {} events over WebSocket from North-3 and South-2 at {url} ({} acknowledged with OK)",
        sink.len(),
        stats.accepted
    ));
    say(format!(
        "North-3's server away from {:02}:00: its outbox filled to {} events, the next one (counted {}) was refused and the push module turned off; the {} held were resent in one burst, then silence",
        OUTAGE_FROM / 3600,
        overflow.held,
        ffc_core::availability::format_rfc3339(overflow.at),
        overflow.held
    ));
    Ok((sink, overflow))
}

/// One counter's push module on the demo's clock.
struct Counter<'a> {
    serial: CameraSerial,
    url: &'a str,
    now: &'a AtomicI64,
    receiver: &'a ReceiverHandle,
}

impl Counter<'_> {
    /// Pushes a day of events, each delivered when it was counted; with `outage`, the server
    /// is away from [`OUTAGE_FROM`] until the outbox overflows. Returns how many events were
    /// delivered and the overflow.
    async fn push_day(
        &self,
        events: &[CountEvent],
        day: &Day,
        outage: bool,
    ) -> Result<(usize, Option<Overflow>), String> {
        let mut config = SenderConfig::new(self.url.to_owned());
        config.ack_timeout = Duration::from_secs(5);
        let mut sender: Sender = Sender::new(config);
        let mut delivered = 0;
        let away = day.start + OUTAGE_FROM;
        for event in events {
            let offline = outage && event.end >= away;
            if offline && sender.outbox().is_empty() {
                // The server goes away: the connection drops, events queue.
                self.set_clock(away);
                sender.disconnect();
                self.wait_closed().await;
            }
            if sender.push(*event).is_err() {
                debug_assert_eq!(sender.outbox().state(), OutboxState::Disabled);
                let held = sender.outbox().len();
                // The server is back 10 minutes later: the counter resends what it holds
                // (one burst), then stays silent with its module off.
                self.set_clock(event.end + 600);
                sender.enable();
                delivered += self.deliver(&mut sender).await?;
                sender.disconnect();
                self.wait_closed().await;
                let overflow = Overflow {
                    at: event.end,
                    held,
                };
                return Ok((delivered, Some(overflow)));
            }
            if !offline {
                self.set_clock(event.end + 1);
                delivered += self.deliver(&mut sender).await?;
            }
        }
        self.set_clock(day.end);
        sender.disconnect();
        self.wait_closed().await;
        Ok((delivered, None))
    }

    fn set_clock(&self, at: i64) {
        self.now.store(at, Ordering::SeqCst);
    }

    async fn deliver(&self, sender: &mut Sender) -> Result<usize, String> {
        let n = sender
            .deliver_all(Duration::from_secs(20))
            .await
            .map_err(|e| format!("{} over WebSocket: {e}", self.serial))?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    /// Waits until the receiver noticed the closed connection (so its disconnect carries
    /// the clock's time now).
    async fn wait_closed(&self) {
        for _ in 0..2000 {
            if self.receiver.stats().open_connections == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
}
