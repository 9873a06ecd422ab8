use std::sync::Arc;

use ffc_core::{CameraSerial, CountEvent, Metric, PeopleId, PeopleType, RoiId, Source, UtcOffset};

use super::{Health, Metrics, MetricsServer};
use crate::sink::{DeadLetter, MemoryDeadLetters, MemorySink};

fn event(id: u64) -> CountEvent {
    CountEvent {
        serial: CameraSerial::from_u64(0xecd5_cc57_d23c_5c9f),
        roi: RoiId(1),
        metric: Metric::In,
        people_type: PeopleType::Visitor,
        people_id: PeopleId(id),
        start: 1_753_266_990,
        end: 1_753_266_991,
        offset: UtcOffset::UTC,
        uuid: None,
        source: Source::WebSocket,
    }
}

/// reqwest's TLS has no built-in provider in this workspace (see its Cargo.toml): ring.
fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// The value of the sample line starting with `series` (name and labels), if any.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test]
async fn observed_sinks_count_what_went_through_and_the_endpoint_serves_it() {
    let metrics = Metrics::new("test");
    let events = metrics.observe_events(Arc::new(MemorySink::new()));
    let letters = metrics.observe_dead_letters(Arc::new(MemoryDeadLetters::new()));
    events.accept(&event(1)).await.unwrap();
    events.accept(&event(1)).await.unwrap();
    events.accept(&event(2)).await.unwrap();
    letters
        .dead_letter(DeadLetter {
            received_at: 1_753_266_991,
            origin: "test".into(),
            reason: "not an event".into(),
            raw: b"{".to_vec(),
        })
        .await
        .unwrap();
    metrics.acknowledged(4);
    metrics.set_consumer_lag(17);
    let server = MetricsServer::bind("127.0.0.1:0".parse().unwrap(), metrics.clone())
        .await
        .unwrap();
    let base = format!("http://{}", server.local_addr());
    let http = http_client();
    let response = http.get(format!("{base}/metrics")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let text = response.text().await.unwrap();
    let c = "component=\"test\"";
    assert_eq!(
        sample(&text, &format!("ffc_events_received_total{{{c}}}")),
        Some(3.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            &format!("ffc_events_kept_total{{{c},outcome=\"stored\"}}")
        ),
        Some(2.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            &format!("ffc_events_kept_total{{{c},outcome=\"duplicate\"}}")
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, &format!("ffc_messages_acknowledged_total{{{c}}}")),
        Some(4.0)
    );
    assert_eq!(
        sample(&text, &format!("ffc_dead_letters_total{{{c}}}")),
        Some(1.0)
    );
    assert_eq!(
        sample(&text, &format!("ffc_consumer_lag_messages{{{c}}}")),
        Some(17.0)
    );
    let seen = sample(
        &text,
        &format!("ffc_counter_last_seen_timestamp_seconds{{{c},serial=\"ecd5cc57d23c5c9f\"}}"),
    )
    .expect("last seen of the counter");
    assert!(seen > 1_753_266_991.0, "{seen}");

    server.shutdown().await;
    // A new connection is refused once it stopped.
    let fresh = http_client();
    assert!(fresh.get(format!("{base}/metrics")).send().await.is_err());
}

#[tokio::test]
async fn healthz_follows_the_health_and_other_paths_are_404() {
    let metrics = Metrics::new("test");
    let server = MetricsServer::bind("127.0.0.1:0".parse().unwrap(), metrics.clone())
        .await
        .unwrap();
    let base = format!("http://{}", server.local_addr());
    let http = http_client();
    let health = http.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(health.text().await.unwrap(), "ok\n");
    metrics.set_health(Health::Draining);
    let health = http.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 503);
    assert_eq!(health.text().await.unwrap(), "draining\n");
    metrics.set_health(Health::Unhealthy("database unreachable".into()));
    let health = http.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 503);
    assert_eq!(health.text().await.unwrap(), "database unreachable\n");

    let missing = http.get(format!("{base}/nothing")).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    server.shutdown().await;
}

#[tokio::test]
async fn observed_sinks_pass_receive_times_and_sessions_through() {
    use crate::sink::{EventSink, SessionKind, SessionRecord, SessionSource};
    let metrics = Metrics::new("test");
    let memory = Arc::new(MemorySink::new());
    let events = metrics.observe_events(memory.clone());
    events
        .accept_received(&event(7), 1_753_267_000)
        .await
        .unwrap();
    let session = SessionRecord {
        counter: event(7).serial,
        source: SessionSource::Ws,
        kind: SessionKind::Connect,
        at: 1_753_266_990,
    };
    events.session(&session).await.unwrap();
    assert_eq!(memory.received(), vec![(event(7), 1_753_267_000)]);
    assert_eq!(memory.sessions(), vec![session]);
}
