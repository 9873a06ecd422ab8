//! South-3 publishes its day over MQTT (QoS 1, as a counter would with QoS raised) to the
//! embedded broker; the SDK's subscriber takes it into a memory sink, with receive times and
//! sessions on the demo's clock. Its link is cut for 40 minutes ([`CUT_FROM`]): what it
//! counted then is never published (a counter publishes at QoS 0 and keeps no queue).
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ffc_core::CountEvent;
use ffc_protocols::mqtt::codec::Message;
use ffc_protocols::mqtt::publisher::{Publisher, PublisherConfig};
use ffc_protocols::mqtt::subscriber::{Stopper, Subscriber, SubscriberConfig};
use ffc_protocols::mqtt::Qos;
use ffc_protocols::sink::{MemoryDeadLetters, MemorySink};
use tracing::Instrument as _;

use super::{simulator, Day, SOUTH_3};

/// South-3's simulator name and seed.
pub const NAME: &str = "ACME - South back door";
/// South-3's seed.
pub const SEED: u64 = 6;

/// Seconds after the day's start South-3's link is cut (12:10 local), for 40 minutes.
pub const CUT_FROM: i64 = 12 * 3600 + 600;
/// How long the cut lasts.
pub const CUT_SECONDS: i64 = 40 * 60;

/// Receives South-3's day over MQTT (in an `mqtt` span): the events with their receive
/// times and the sessions, in a memory sink.
pub(super) async fn receive(day: &Day, say: &mut dyn FnMut(String)) -> Result<MemorySink, String> {
    let (sink, broker_url, lost) = counter(day)
        .instrument(tracing::info_span!("mqtt", serial = %SOUTH_3))
        .await?;
    say(format!(
        "received {} events over MQTT from South-3 through the embedded broker at {broker_url} (QoS 1), equal to what it published; its link was cut {:02}:{:02}-{:02}:{:02}, {lost} crossings never published",
        sink.len(),
        CUT_FROM / 3600,
        CUT_FROM % 3600 / 60,
        (CUT_FROM + CUT_SECONDS) / 3600,
        (CUT_FROM + CUT_SECONDS) % 3600 / 60,
    ));
    Ok(sink)
}

/// Starts the broker and the subscriber, publishes the day (but the cut) once the
/// subscription is confirmed, and returns the sink (checked equal to what was published),
/// the broker's URL and how many events the cut lost.
async fn counter(day: &Day) -> Result<(MemorySink, String, usize), String> {
    let broker = tokio::task::spawn_blocking(crate::broker::start)
        .await
        .map_err(|e| format!("embedded MQTT broker: {e}"))?
        .map_err(|e| format!("embedded MQTT broker: {e}"))?;
    let url = broker.url();
    let mut config =
        SubscriberConfig::new(&url, "ffc-demo-ingest").map_err(|e| format!("MQTT: {e}"))?;
    config.qos = Qos::AtLeastOnce;
    let now = Arc::new(AtomicI64::new(day.start));
    let read = now.clone();
    config.clock = ffc_protocols::sink::Clock::new(move || read.load(Ordering::SeqCst));
    let subscriber = Subscriber::new(config).map_err(|e| format!("MQTT subscriber: {e}"))?;
    let status = subscriber.status();
    let stopper = subscriber.stopper();
    let (sink, dead) = (MemorySink::new(), MemoryDeadLetters::new());
    let stream = simulator(SOUTH_3, NAME, SEED).await?;
    let cut = day.start + CUT_FROM..day.start + CUT_FROM + CUT_SECONDS;
    let (lost, published): (Vec<CountEvent>, Vec<CountEvent>) = stream
        .events(day.start, day.end)
        .into_iter()
        .partition(|e| cut.contains(&e.end));
    let publishing = Publishing {
        url: &url,
        events: &published,
        sink: &sink,
        now: &now,
    };
    let (run, published_ok) = tokio::join!(
        subscriber.run_into(&sink, &dead, None),
        publishing.run(status, stopper)
    );
    published_ok?;
    let stats = run.map_err(|e| format!("MQTT subscriber: {e}"))?;
    let received = sink.events();
    same_events(&published, &received, stats.dead_letters)?;
    tracing::debug!(
        received = received.len(),
        "received, equal to what was published"
    );
    Ok((sink, url, lost.len()))
}

/// The counter's side: publish every event, then wait (bounded) until the subscriber
/// stored them all.
struct Publishing<'a> {
    url: &'a str,
    events: &'a [CountEvent],
    sink: &'a MemorySink,
    /// The demo's clock: each event is received when it was counted.
    now: &'a AtomicI64,
}

impl Publishing<'_> {
    async fn run(
        self,
        mut status: tokio::sync::watch::Receiver<ffc_protocols::mqtt::subscriber::Status>,
        stopper: Stopper,
    ) -> Result<(), String> {
        let outcome = self.publish(&mut status).await;
        stopper.stop();
        outcome
    }

    async fn publish(
        &self,
        status: &mut tokio::sync::watch::Receiver<ffc_protocols::mqtt::subscriber::Status>,
    ) -> Result<(), String> {
        tokio::time::timeout(Duration::from_secs(20), status.wait_for(|s| s.subacks >= 1))
            .await
            .map_err(|_| "MQTT: the subscription was not confirmed within 20 s")?
            .map_err(|_| "MQTT: the subscriber stopped")?;
        let mut config =
            PublisherConfig::new(self.url, SOUTH_3).map_err(|e| format!("MQTT: {e}"))?;
        config.qos = Qos::AtLeastOnce;
        let publisher = Publisher::connect(config)
            .await
            .map_err(|e| format!("MQTT publisher: {e}"))?;
        for (sent, event) in self.events.iter().enumerate() {
            self.now.store(event.end + 1, Ordering::SeqCst);
            publisher
                .publish(&Message::Count(*event))
                .await
                .map_err(|e| format!("MQTT publish: {e}"))?;
            // Stop and wait: the subscriber reads the demo's clock when it keeps the event
            // (its receive time, and the session's connect for the first one), so the clock
            // may move on only once it has.
            self.kept(sent + 1).await?;
        }
        publisher
            .flush()
            .await
            .map_err(|e| format!("MQTT publish: {e}"))?;
        publisher.close().await;
        // Every publish is acknowledged by the broker; wait for the subscriber to store
        // them all (bounded, in case some never come).
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while self.sink.len() < self.events.len() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // The counter's link stays up to the end of the day (the disconnect is kept then).
        self.now.store(
            self.events.last().map_or(0, |e| e.end + 60),
            Ordering::SeqCst,
        );
        Ok(())
    }
}

impl Publishing<'_> {
    /// Waits (bounded) until the subscriber kept `n` events.
    async fn kept(&self, n: usize) -> Result<(), String> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while self.sink.len() < n {
            if tokio::time::Instant::now() > deadline {
                return Err(format!("MQTT: event {n} was not received within 10 s"));
            }
            tokio::task::yield_now().await;
        }
        Ok(())
    }
}

/// What arrives is what was sent, tagged as MQTT (the payload has no UUID).
fn same_events(
    published: &[CountEvent],
    received: &[CountEvent],
    dead_letters: u64,
) -> Result<(), String> {
    let key = |e: &CountEvent| format!("{e:?}");
    let mut want: Vec<String> = published
        .iter()
        .map(|e| {
            key(&CountEvent {
                source: ffc_core::Source::Mqtt,
                uuid: None,
                ..*e
            })
        })
        .collect();
    let mut got: Vec<String> = received.iter().map(key).collect();
    want.sort();
    got.sort();
    if got != want || dead_letters > 0 {
        return Err(format!(
            "MQTT: {} events published, {} received ({} dead letters), not the same",
            want.len(),
            got.len(),
            dead_letters
        ));
    }
    Ok(())
}
