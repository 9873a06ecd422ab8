//! `ffc listen ws|mqtt --nats URL[,URL...]`: the receivers in front of the cluster. The
//! WebSocket receiver keeps each event in the stream (ffc-protocols' `JetStreamSink`) and
//! answers `OK` after JetStream's acknowledgement; the MQTT bridge reads the counters'
//! messages from core NATS in a queue group and publishes them into the stream.
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use ffc_protocols::nats::{Bridge, BridgeConfig, JetStreamSink};
use ffc_protocols::sink::{DeadLetterSink, FileDeadLetters, MemoryDeadLetters};
use ffc_protocols::ws::{Receiver, ReceiverConfig};

use crate::nats::StreamArgs;

/// The MQTT bridge's own arguments (with `ffc listen mqtt --nats`).
#[derive(Args, Clone, Debug)]
pub struct BridgeArgs {
    /// Bridge from this NATS cluster (servers, comma-separated) instead of reading a
    /// broker: core NATS subject --subject in queue group --queue, into the stream.
    #[arg(long = "nats", value_name = "URL[,URL...]")]
    pub servers: Option<String>,
    /// The core NATS subject the counters' messages arrive on (the cluster maps
    /// FootfallCam's `/status/<serial>` there).
    #[arg(long, default_value = "counters.mqtt.*")]
    pub subject: String,
    /// The queue group: bridges of one group share the messages.
    #[arg(long, default_value = "ffc-mqtt")]
    pub queue: String,
    /// Messages held at most while the stream has not acknowledged them.
    #[arg(long, default_value_t = 1024)]
    pub buffer: usize,
    /// The stream.
    #[command(flatten)]
    pub stream: StreamArgs,
}

fn dead_letters(path: Option<&PathBuf>) -> Result<Arc<dyn DeadLetterSink>, String> {
    Ok(match path {
        Some(path) => {
            Arc::new(FileDeadLetters::open(path).map_err(|e| format!("{}: {e}", path.display()))?)
        }
        None => Arc::new(MemoryDeadLetters::new()),
    })
}

/// `ffc listen ws --nats`: the receiver with the stream as its sink.
pub async fn ws(
    config: ReceiverConfig,
    servers: &str,
    stream: &StreamArgs,
    dead: Option<&PathBuf>,
) -> Result<(), String> {
    let bind = config.bind;
    let name = format!("ffc-listen-ws-{}", std::process::id());
    let (_client, js) = crate::nats::jetstream(servers, &name, &stream.stream).await?;
    let sink = Arc::new(JetStreamSink::new(js, stream.prefix.clone()));
    let receiver = Receiver::bind(config, sink.clone(), dead_letters(dead)?)
        .await
        .map_err(|e| format!("{bind}: {e}"))?;
    let local = receiver.local_addr().map_err(|e| format!("{bind}: {e}"))?;
    println!("listening on ws://{local}/ into stream {}", stream.stream);
    let _ = std::io::stdout().flush();
    let stats = receiver
        .run(ffc_protocols::shutdown::signal())
        .await
        .map_err(|e| e.to_string())?;
    eprintln!(
        "stopped: {} events kept, {} duplicates, {} test messages, {} dead-lettered, {} not acknowledged",
        stats.accepted, stats.duplicates, stats.tests, stats.dead_lettered, stats.sink_failures
    );
    Ok(())
}

/// `ffc listen mqtt --nats`: the bridge (with `/metrics` on `metrics`, when given).
pub async fn bridge(
    a: &BridgeArgs,
    dead: Option<&PathBuf>,
    metrics: Option<std::net::SocketAddr>,
) -> Result<(), String> {
    let servers = a.servers.as_deref().unwrap_or_default();
    let name = format!("ffc-bridge-{}", std::process::id());
    let (client, _js) = crate::nats::jetstream(servers, &name, &a.stream.stream).await?;
    let config = BridgeConfig::default()
        .with_subject(a.subject.clone())
        .with_queue(a.queue.clone())
        .with_prefix(a.stream.prefix.clone())
        .with_buffer(a.buffer);
    let served = crate::metrics::serve(metrics, "bridge").await?;
    let mut dead = dead_letters(dead)?;
    if let Some((m, _)) = &served {
        dead = m.observe_dead_letters(dead);
    }
    let bridge = Bridge::new(client, config, dead);
    let ticker = served
        .as_ref()
        .map(|(m, _)| tokio::spawn(report_progress(m.clone(), bridge.stats_reader())));
    let stop = ffc_protocols::shutdown::signal();
    let subject = a.subject.clone();
    let queue = a.queue.clone();
    let stream = a.stream.stream.clone();
    let run = bridge.run_announced(stop, move || {
        println!("listening on nats {subject} (queue {queue}) into stream {stream}");
        let _ = std::io::stdout().flush();
    });
    let stats = run.await.map_err(|e| e.to_string());
    if let Some(ticker) = ticker {
        ticker.abort();
    }
    crate::metrics::stop(served).await;
    let stats = stats?;
    eprintln!(
        "stopped: {} messages, {} events, {} occupancy samples, {} duplicates, {} dead-lettered, {} lost",
        stats.received, stats.events, stats.occupancy, stats.duplicates, stats.dead_lettered, stats.lost
    );
    Ok(())
}

/// Every second: what the stream acknowledged since the last look (events and occupancy
/// samples), read from the bridge's own counters (it keeps them in the stream, not a sink).
async fn report_progress(
    metrics: ffc_protocols::metrics::Metrics,
    stats: impl Fn() -> ffc_protocols::nats::BridgeStats,
) {
    let mut kept = 0;
    let mut every = tokio::time::interval(std::time::Duration::from_secs(1));
    loop {
        every.tick().await;
        let now = stats();
        let total = now.events + now.occupancy;
        metrics.acknowledged(total.saturating_sub(kept));
        kept = total;
    }
}
