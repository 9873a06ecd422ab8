//! South-3 publishes its day over MQTT (QoS 1, as a counter would with QoS raised) to the
//! embedded broker; the SDK's subscriber takes it into a memory sink.
use std::time::Duration;

use ffc_core::aggregate::Aggregator;
use ffc_core::CountEvent;
use ffc_protocols::mqtt::codec::Message;
use ffc_protocols::mqtt::publisher::{Publisher, PublisherConfig};
use ffc_protocols::mqtt::subscriber::{Stopper, Subscriber, SubscriberConfig};
use ffc_protocols::mqtt::Qos;
use ffc_protocols::sink::{MemoryDeadLetters, MemorySink};
use tracing::Instrument as _;

use super::{simulator, Day, SOUTH_3};

/// Receives South-3's day over MQTT (in an `mqtt` span) and aggregates it.
pub(super) async fn receive(
    day: &Day,
    agg: &mut Aggregator,
    say: &mut dyn FnMut(String),
) -> Result<(), String> {
    let (events, broker_url) = counter(day)
        .instrument(tracing::info_span!("mqtt", serial = %SOUTH_3))
        .await?;
    for event in &events {
        agg.ingest(event);
    }
    agg.cover(SOUTH_3, day.start, day.end);
    say(format!(
        "received {} events over MQTT from South-3 through the embedded broker at {broker_url} (QoS 1), equal to what it published",
        events.len()
    ));
    Ok(())
}

/// Starts the broker and the subscriber, publishes the day once the subscription is
/// confirmed, and returns the received events (checked equal to the published ones) and
/// the broker's URL.
async fn counter(day: &Day) -> Result<(Vec<CountEvent>, String), String> {
    let broker = tokio::task::spawn_blocking(crate::broker::start)
        .await
        .map_err(|e| format!("embedded MQTT broker: {e}"))?
        .map_err(|e| format!("embedded MQTT broker: {e}"))?;
    let url = broker.url();
    let mut config =
        SubscriberConfig::new(&url, "ffc-demo-ingest").map_err(|e| format!("MQTT: {e}"))?;
    config.qos = Qos::AtLeastOnce;
    let subscriber = Subscriber::new(config).map_err(|e| format!("MQTT subscriber: {e}"))?;
    let status = subscriber.status();
    let stopper = subscriber.stopper();
    let (sink, dead) = (MemorySink::new(), MemoryDeadLetters::new());
    let stream = simulator(SOUTH_3, "ACME - South back door", 6).await?;
    let published: Vec<CountEvent> = stream.events(day.start, day.end);
    let publishing = Publishing {
        url: &url,
        events: &published,
        sink: &sink,
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
    Ok((received, url))
}

/// The counter's side: publish every event, then wait (bounded) until the subscriber
/// stored them all.
struct Publishing<'a> {
    url: &'a str,
    events: &'a [CountEvent],
    sink: &'a MemorySink,
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
        for event in self.events {
            publisher
                .publish(&Message::Count(*event))
                .await
                .map_err(|e| format!("MQTT publish: {e}"))?;
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
