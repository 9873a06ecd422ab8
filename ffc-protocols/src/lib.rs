//! # ffc-protocols
//!
//! Sans-IO codecs for the push and poll protocols of FootfallCam counters (WebSocket, MQTT,
//! BACnet/IP) with thin async transports and event sinks.
//!
//! | module | feature | what |
//! |---|---|---|
//! | [`ws::codec`] | `alloc` | WebSocket payloads: classic envelope (JSON and Python-literal), test message, 3D Pro2 flat form |
//! | [`sink`] | `std` | [`sink::EventSink`]: memory, JSON-lines file (synced before it returns), channel; dead letters |
//! | `sink::postgres` | `postgres` | `PgSink`: PostgreSQL, exactly once on the event key, hourly totals in the same transaction, group commit, ack after `COMMIT` |
//! | `ws::server` | `ws` | `Receiver`: the receiver counters connect to (auth, `OK` only after the sink kept the event, drain on shutdown) |
//! | `ws::sender` | `ws` | the counter side: sends from ffc-core's outbox, waits for `OK` |
//! | [`mqtt::codec`] | `alloc` | MQTT payloads: occupancy samples and counting events, `#` comments tolerated |
//! | `mqtt::subscriber` | `mqtt` | rumqttc subscriber: reconnect and re-subscribe, shared subscriptions, sink or stream, dead letters |
//! | `mqtt::worker` | `mqtt` | the ingestion worker: subscriber into sinks, restarts after a sink failure, stops on a shutdown future |
//! | `mqtt::publisher` | `mqtt` | the counter side: publishes both kinds with its serial as client id |
//! | [`bacnet::wire`] | `alloc` | BACnet/IP datagrams: BVLC, NPDU, APDU headers, Who-Is, I-Am, ReadProperty(-Multiple) |
//! | `bacnet::client`, `bacnet::device` | `bacnet` | sans-IO cores (`ClientCore`, `DeviceCore`) and their tokio UDP loops (`Client`, `SimulatedDevice`) |
//! | `metrics` | `metrics` | `Metrics` and `MetricsServer`: Prometheus `/metrics` and `/healthz` for receivers, bridges and workers |
//! | `nats` | `nats` | NATS JetStream: the stream's setup, `JetStreamSink` (receivers answer `OK` after the replicated stream's ack), the MQTT `Bridge`, the `PullWorker` (ack after the sink kept it) |
//! | `shutdown` | `ws` or `mqtt` | [`signal`](crate::shutdown) resolving on Ctrl-C, and SIGTERM on unix |
//!
//! The codecs build without std: `--no-default-features --features alloc`.
#![cfg_attr(not(feature = "std"), no_std)]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

#[cfg(feature = "alloc")]
extern crate alloc;

pub use ffc_core as core_model;

#[cfg(feature = "alloc")]
pub mod bacnet;
#[cfg(feature = "alloc")]
mod fields;
#[cfg(feature = "metrics")]
pub mod metrics;
#[cfg(feature = "alloc")]
pub mod mqtt;
#[cfg(feature = "nats")]
pub mod nats;
#[cfg(any(feature = "ws", feature = "mqtt"))]
pub mod shutdown;
#[cfg(feature = "std")]
pub mod sink;
#[cfg(feature = "alloc")]
pub mod ws;

// The README's example runs as a doctest, so the example on crates.io is one that works.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
