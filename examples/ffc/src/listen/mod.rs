//! `ffc listen ws|mqtt`: receivers counters push to, printing events or keeping them in a
//! JSON-lines file. Both stop on `ffc_protocols::shutdown::signal()`: Ctrl-C everywhere,
//! SIGTERM as well on unix.
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Subcommand;

pub mod mqtt;
pub mod nats;
pub mod ws;

/// The receivers.
#[derive(Subcommand)]
pub enum ListenCommand {
    /// The WebSocket receiver: answers `OK` to every event it keeps, dead-letters what it
    /// cannot read. Prints `listening on ws://ADDR/` first, then (without --events) every
    /// event as a JSON line. Token from env FFC_WS_TOKEN, Basic from FFC_WS_BASIC_USER and
    /// FFC_WS_BASIC_PASSWORD (never on the command line).
    Ws {
        /// Where to listen.
        #[arg(long, default_value = "127.0.0.1:8080")]
        bind: SocketAddr,
        /// Append events to this JSON-lines file (durable: `OK` only after the write is
        /// synced) instead of printing them.
        #[arg(long)]
        events: Option<PathBuf>,
        /// Append undecodable messages here (JSON lines).
        #[arg(long)]
        dead_letters: Option<PathBuf>,
        /// Stop after this many events were kept (default: run until Ctrl-C).
        #[arg(long)]
        max_events: Option<u64>,
        /// Serve `/metrics` (Prometheus) and `/healthz` on this address.
        #[arg(long)]
        metrics: Option<SocketAddr>,
        /// Keep events in this NATS cluster's stream (servers, comma-separated) instead:
        /// `OK` only after JetStream acknowledged the event. Credentials from env
        /// FFC_NATS_USER/FFC_NATS_PASSWORD, FFC_NATS_TOKEN, FFC_NATS_NKEY or FFC_NATS_CREDS.
        #[arg(long = "nats", value_name = "URL[,URL...]", conflicts_with_all = ["events", "max_events"])]
        nats: Option<String>,
        /// The stream (with --nats).
        #[command(flatten)]
        stream: crate::nats::StreamArgs,
    },
    /// Subscribe to counters' MQTT topics on a broker (ffc-protocols' subscriber:
    /// reconnects and re-subscribes by itself). Prints `subscribed to FILTERS at URL` once
    /// the broker confirmed, then (without --events) every counting event and occupancy
    /// sample as a JSON line with its topic. The password only from env FFC_MQTT_PASSWORD
    /// (never on the command line).
    Mqtt(mqtt::MqttListenArgs),
}

/// Runs a receiver until it is told to stop.
pub fn run(command: ListenCommand) -> Result<(), String> {
    match command {
        ListenCommand::Ws {
            bind,
            events,
            dead_letters,
            max_events,
            metrics,
            nats: Some(servers),
            stream,
        } => {
            let _ = (events, max_events);
            crate::block_on(async move {
                let served = crate::metrics::serve(metrics, "ws").await?;
                let config = ffc_protocols::ws::ReceiverConfig::new(bind)
                    .with_auth(ws::auth_from_env())
                    .with_metrics(served.as_ref().map(|(m, _)| m.clone()));
                let kept = nats::ws(config, &servers, &stream, dead_letters.as_ref()).await;
                crate::metrics::stop(served).await;
                kept
            })
        }
        ListenCommand::Ws {
            bind,
            events,
            dead_letters,
            max_events,
            metrics,
            ..
        } => crate::block_on(ws::listen(bind, events, dead_letters, max_events, metrics)),
        ListenCommand::Mqtt(args) if args.bridge.servers.is_some() => crate::block_on(async move {
            nats::bridge(&args.bridge, args.dead_letters.as_ref(), args.metrics).await
        }),
        ListenCommand::Mqtt(args) => crate::block_on(mqtt::listen(args)),
    }
}
