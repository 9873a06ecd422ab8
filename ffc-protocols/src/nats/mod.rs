//! Past one machine: a NATS JetStream cluster between counters and storage (feature `nats`,
//! async-nats).
//!
//! ```text
//! WS counters ──▶ ws::Receiver + JetStreamSink ──▶ ffc.ws.<serial> ─┐
//! MQTT counters ─▶ NATS MQTT listener ─▶ counters.mqtt.<serial>     │  stream FFC (ffc.>),
//!                    (subject mapping of /status/<serial>)          ├─ replicated on 3 nodes,
//!                 ─▶ Bridge (queue group) ──▶ ffc.mqtt.<serial> ────┘  duplicate window
//!                                             ffc.occupancy.<serial>
//! stream FFC ──▶ PullWorker (durable pull consumer, shared) ──▶ any EventSink (PgSink…)
//! ```
//!
//! - [`init_stream`] creates or updates the stream (idempotent); [`require_stream`] is what
//!   receivers, bridges and workers check first (the error names `ffc nats init`).
//! - Every publish carries the event key as `Nats-Msg-Id` ([`message_id`]) and is retried
//!   until the stream acknowledges it ([`publish_until_acked`]): a resend within the
//!   duplicate window is stored once, a later one is caught by the sinks' key.
//! - [`JetStreamSink`] is an [`EventSink`](crate::sink::EventSink): the WebSocket receiver
//!   keeps its events there and so answers `OK` only after the replicated stream has them.
//! - [`Bridge`] reads the counters' MQTT messages from core NATS in a queue group, decodes
//!   them with the one MQTT codec (undecodable ones to the dead letters) and publishes them
//!   into the stream from a bounded buffer.
//! - [`PullWorker`] drains a durable pull consumer into a sink and acknowledges a message
//!   only after the sink kept it; undecodable messages go to the dead letters (subject and
//!   reason), then are acknowledged.
//! - [`NatsConfig`] connects with [`NatsCredentials`] (user/password, token, nkey, creds
//!   file) from the environment or files; they never appear in `Debug` or errors.
//!
//! ```
//! use ffc_protocols::nats::{event_subject, message_id, JetStreamConfig, NatsConfig};
//! let config = NatsConfig::new("nats://127.0.0.1:4222,nats://127.0.0.1:4223");
//! assert_eq!(config.servers.len(), 2);
//! let stream = JetStreamConfig::default();
//! assert_eq!((stream.name.as_str(), stream.prefix.as_str(), stream.replicas), ("FFC", "ffc", 3));
//!
//! let payload = br#"{"UUID":"658a2443-72ba-422c-85dc-e4e10baa1288","DeviceSerial":"ecd5cc57d23c5c9f","RoiId":1,"MetricId":1,"PeopleTypeId":1,"CombineObjectTypeId":11,"PeopleId":1,"EventEndLocalTime":"2025-07-23 18:36:31","EventEndTime":1753266991,"EventEndUTCTime":"2025-07-23 10:36:31"}"#;
//! let ffc_protocols::ws::codec::Message::Event(event) = ffc_protocols::ws::codec::decode(payload)?
//!     else { unreachable!() };
//! assert_eq!(event_subject("ffc", &event), "ffc.ws.ecd5cc57d23c5c9f");
//! assert_eq!(message_id(&event), "658a2443-72ba-422c-85dc-e4e10baa1288");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use ffc_core::{CountEvent, EventKey, OccupancySample, Source};

/// The async-nats crate this module is built on (its `Client`, JetStream `Context`).
pub use async_nats;

mod bridge;
mod connect;
mod error;
mod publish;
mod stream;
mod worker;

pub use bridge::{Bridge, BridgeConfig, BridgeStats};
pub use connect::{NatsConfig, NatsCredentials};
pub use error::NatsError;
pub use publish::{publish_until_acked, JetStreamSink};
pub use stream::{init_stream, require_stream, JetStreamConfig, StreamState};
pub use worker::{PullWorker, PullWorkerConfig, WorkerStats};

/// The path token of an event's subject: `ws` for WebSocket events, `mqtt` for MQTT ones,
/// `other` for the rest.
pub fn path_of(source: Source) -> &'static str {
    match source {
        Source::WebSocket | Source::WebSocketPro2 => "ws",
        Source::Mqtt => "mqtt",
        _ => "other",
    }
}

/// `<prefix>.<path>.<serial>`: where an event is published.
pub fn event_subject(prefix: &str, event: &CountEvent) -> String {
    format!("{prefix}.{}.{}", path_of(event.source), event.serial)
}

/// `<prefix>.occupancy.<serial>`: where an occupancy sample is published.
pub fn occupancy_subject(prefix: &str, sample: &OccupancySample) -> String {
    format!("{prefix}.occupancy.{}", sample.serial)
}

/// The `Nats-Msg-Id` of an event: its [`EventKey`] as text — the UUID when the counter sent
/// one, else `serial-roi-metric-people_id-start-end`. The same event resent (or seen on two
/// paths) has the same id, so the stream stores it once within its duplicate window.
pub fn message_id(event: &CountEvent) -> String {
    match event.key() {
        EventKey::Uuid(id) => id.to_string(),
        EventKey::Fields {
            serial,
            roi,
            metric,
            people_id,
            start,
            end,
        } => format!(
            "{serial}-{}-{}-{}-{start}-{end}",
            roi.0,
            metric.code(),
            people_id.0
        ),
    }
}

/// The `Nats-Msg-Id` of an occupancy sample: `occ-serial-roi-timestamp`.
pub fn occupancy_message_id(sample: &OccupancySample) -> String {
    format!(
        "occ-{}-{}-{}",
        sample.serial, sample.roi.0, sample.timestamp
    )
}

/// Unix seconds now (for dead letters).
fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
