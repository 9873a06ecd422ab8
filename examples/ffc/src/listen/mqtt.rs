//! `ffc listen mqtt`: ffc-protocols' MQTT subscriber printing what counters publish, or
//! its worker keeping it in a JSON-lines file (acknowledging QoS 1 only after the write
//! is synced).
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use clap::Args;
use ffc_core::backoff::RetryPolicy;
use ffc_core::CountEvent;
use ffc_protocols::metrics::Metrics;
use ffc_protocols::mqtt::subscriber::{Received, Stats, Status, Subscriber, SubscriberConfig};
use ffc_protocols::mqtt::worker::{Worker, WorkerConfig};
use ffc_protocols::mqtt::{Credentials, Protocol, Qos};
use ffc_protocols::shutdown;
use ffc_protocols::sink::{
    Accepted, DeadLetterSink, EventSink, FileDeadLetters, FileSink, MemoryDeadLetters, SinkError,
};
use tokio::sync::{watch, Notify};

/// `ffc listen mqtt` arguments.
#[derive(Args)]
pub struct MqttListenArgs {
    /// The broker, `mqtt://host:1883` (`mqtts://` with TLS builds).
    #[arg(long, env = "FFC_MQTT_URL", required_unless_present = "servers")]
    pub url: Option<String>,
    /// A topic filter (repeat for several; default `/status/+`, every counter's default
    /// topic).
    #[arg(long = "filter")]
    pub filters: Vec<String>,
    /// Join a shared subscription: filters become `$share/GROUP/filter`, so the workers
    /// of one group split the stream between them.
    #[arg(long)]
    pub share: Option<String>,
    /// Subscription QoS: 0 (what counters publish) or 1 (with --events, acknowledged only
    /// after the event is synced to the file).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=1))]
    pub qos: u8,
    /// Client id (default `ffc-listen-PID`); with --persistent it names the broker's
    /// session, so keep it fixed.
    #[arg(long)]
    pub client_id: Option<String>,
    /// Ask the broker to keep the session (subscriptions, QoS 1 messages) while away.
    #[arg(long)]
    pub persistent: bool,
    /// Speak MQTT 5 instead of 3.1.1.
    #[arg(long)]
    pub mqtt5: bool,
    /// Username; its password comes only from env FFC_MQTT_PASSWORD.
    #[arg(long, env = "FFC_MQTT_USERNAME")]
    pub username: Option<String>,
    /// Append counting events to this JSON-lines file (durable: a QoS 1 message is
    /// acknowledged only after the write is synced) instead of printing them.
    #[arg(long)]
    pub events: Option<PathBuf>,
    /// Append undecodable payloads here (JSON lines; default: print them).
    #[arg(long)]
    pub dead_letters: Option<PathBuf>,
    /// Stop after this many counting events were kept (default: run until Ctrl-C).
    #[arg(long)]
    pub max_events: Option<u64>,
    /// Serve `/metrics` (Prometheus) and `/healthz` on this address.
    #[arg(long)]
    pub metrics: Option<std::net::SocketAddr>,
    /// With --nats: the bridge from the NATS cluster's MQTT listeners into its stream.
    #[command(flatten)]
    pub bridge: super::nats::BridgeArgs,
}

/// Forwards to the file sink and asks the worker to stop once `max` events were stored.
struct StopAfter<S> {
    inner: S,
    stored: AtomicU64,
    max: Option<u64>,
    stop: Arc<Notify>,
}

#[async_trait::async_trait]
impl<S: EventSink> EventSink for StopAfter<S> {
    async fn accept(&self, event: &CountEvent) -> Result<Accepted, SinkError> {
        self.accept_received(event, ffc_protocols::sink::Clock::system().now())
            .await
    }

    async fn accept_received(
        &self,
        event: &CountEvent,
        received_utc: ffc_core::UnixSeconds,
    ) -> Result<Accepted, SinkError> {
        let accepted = self.inner.accept_received(event, received_utc).await?;
        if accepted == Accepted::Stored {
            let stored = self.stored.fetch_add(1, Ordering::SeqCst) + 1;
            if self.max.is_some_and(|max| stored >= max) {
                // A permit is kept if the worker is not waiting yet.
                self.stop.notify_one();
            }
        }
        Ok(accepted)
    }

    async fn session(&self, session: &ffc_protocols::sink::SessionRecord) -> Result<(), SinkError> {
        self.inner.session(session).await
    }
}

/// The subscriber's configuration from the arguments and env FFC_MQTT_PASSWORD.
fn config(a: &MqttListenArgs) -> Result<SubscriberConfig, String> {
    let client_id = a
        .client_id
        .clone()
        .unwrap_or_else(|| format!("ffc-listen-{}", std::process::id()));
    let url = a
        .url
        .as_deref()
        .ok_or("--url (or env FFC_MQTT_URL) is required")?;
    let mut config = SubscriberConfig::new(url, client_id).map_err(|e| format!("--url: {e}"))?;
    if !a.filters.is_empty() {
        config = config.with_filters(a.filters.clone());
    }
    let password = std::env::var("FFC_MQTT_PASSWORD").ok();
    let credentials = match (&a.username, password) {
        (Some(user), password) => Some(Credentials::new(user, password.unwrap_or_default())),
        (None, Some(_)) => return Err("FFC_MQTT_PASSWORD is set but no --username".into()),
        (None, None) => None,
    };
    Ok(config
        .with_share_group(a.share.clone())
        .with_qos(if a.qos == 1 {
            Qos::AtLeastOnce
        } else {
            Qos::AtMostOnce
        })
        .with_clean_session(!a.persistent)
        .with_protocol(if a.mqtt5 {
            Protocol::V5
        } else {
            Protocol::V311
        })
        .with_credentials(credentials))
}

fn line(v: serde_json::Value) {
    println!("{v}");
    let _ = std::io::stdout().flush();
}

fn with_topic(
    v: Result<serde_json::Value, serde_json::Error>,
    topic: String,
) -> Result<serde_json::Value, String> {
    v.map(|mut v| {
        v["topic"] = serde_json::json!(topic);
        v
    })
    .map_err(|e| e.to_string())
}

/// Prints `subscribed` (`subscribed to FILTERS at URL`) once the broker confirmed the
/// subscriptions.
fn announce(mut status: watch::Receiver<Status>, subscribed: String) {
    tokio::spawn(async move {
        if status.wait_for(|s| s.subacks >= 1).await.is_ok() {
            println!("{subscribed}");
            let _ = std::io::stdout().flush();
        }
    });
}

/// Subscribes and runs until a stop signal, `--max-events`, or a fatal error.
pub async fn listen(a: MqttListenArgs) -> Result<(), String> {
    let config = config(&a)?;
    let url = config.url.to_string();
    let subscribed = format!(
        "subscribed to {} at {url}",
        config.subscribed_filters().join(" ")
    );
    // The subscriber retries an unreachable broker with backoff; say what it is doing.
    eprintln!("connecting to {url} as {}", config.client_id);
    let served = crate::metrics::serve(a.metrics, "mqtt").await?;
    let metrics = served.as_ref().map(|(m, _)| m.clone());
    let stats = match &a.events {
        None => {
            let subscriber = Subscriber::new(config)
                .map_err(|e| e.to_string())?
                .with_metrics(metrics.clone());
            announce(subscriber.status(), subscribed);
            print_stream(subscriber, open_dead_letters(&a)?, a.max_events, metrics).await?
        }
        Some(path) => into_file(config, path, &a, subscribed, metrics).await?,
    };
    crate::metrics::stop(served).await;
    eprintln!(
        "stopped: {} messages, {} events kept, {} duplicates, {} occupancy samples, {} dead-lettered, {} connections",
        stats.messages,
        stats.events,
        stats.duplicates,
        stats.occupancy,
        stats.dead_letters,
        stats.connects
    );
    Ok(())
}

fn open_dead_letters(a: &MqttListenArgs) -> Result<Option<FileDeadLetters>, String> {
    a.dead_letters
        .as_ref()
        .map(|path| FileDeadLetters::open(path).map_err(|e| format!("{}: {e}", path.display())))
        .transpose()
}

/// Without `--events`: every event and occupancy sample as a JSON line with its topic
/// (the worker keeps events in sinks and drops topics, so this reads the stream).
async fn print_stream(
    subscriber: Subscriber,
    dead_file: Option<FileDeadLetters>,
    max_events: Option<u64>,
    metrics: Option<Metrics>,
) -> Result<Stats, String> {
    let stopper = subscriber.stopper();
    {
        let stopper = stopper.clone();
        tokio::spawn(async move {
            shutdown::signal().await;
            stopper.stop();
        });
    }
    let (mut rx, task) = subscriber.into_stream();
    let mut kept = 0u64;
    while let Some(item) = rx.recv().await {
        match item {
            Received::Count { topic, event } => {
                if let Some(m) = &metrics {
                    m.received();
                    m.seen(event.serial);
                    m.kept(Accepted::Stored);
                }
                line(with_topic(serde_json::to_value(event), topic)?);
                kept += 1;
            }
            Received::Occupancy { topic, sample } => {
                line(with_topic(serde_json::to_value(sample), topic)?);
            }
            Received::DeadLetter(letter) => {
                match &dead_file {
                    Some(file) => file.dead_letter(letter).await.map_err(|e| e.to_string())?,
                    None => line(serde_json::json!({ "dead_letter": letter })),
                }
                if let Some(m) = &metrics {
                    m.dead_lettered();
                }
            }
        }
        if max_events.is_some_and(|max| kept >= max) {
            stopper.stop();
        }
    }
    task.await
        .map_err(|e| format!("subscriber task: {e}"))?
        .map_err(|e| e.to_string())
}

/// With `--events`: ffc-protocols' worker keeps counting events in the file (acknowledged
/// after sync), occupancy samples still printed. A failing file fails the command at once
/// (one attempt, no restart), as a user watching it expects.
async fn into_file(
    config: SubscriberConfig,
    path: &Path,
    a: &MqttListenArgs,
    subscribed: String,
    metrics: Option<Metrics>,
) -> Result<Stats, String> {
    let dead: Arc<dyn DeadLetterSink> = match open_dead_letters(a)? {
        Some(file) => Arc::new(file),
        None => Arc::new(MemoryDeadLetters::new()),
    };
    let stop = Arc::new(Notify::new());
    let sink = StopAfter {
        inner: FileSink::open(path).map_err(|e| format!("{}: {e}", path.display()))?,
        stored: AtomicU64::new(0),
        max: a.max_events,
        stop: stop.clone(),
    };
    let (occupancy_tx, mut occupancy_rx) = tokio::sync::mpsc::channel(256);
    let config =
        WorkerConfig::new(config).with_restart(RetryPolicy::default().with_max_attempts(Some(1)));
    let mut worker = Worker::new(config, Arc::new(sink), dead).with_occupancy(occupancy_tx);
    if let Some(metrics) = metrics {
        worker = worker.with_metrics(metrics);
    }
    announce(worker.status(), subscribed);
    let run = worker.run(async {
        tokio::select! {
            () = shutdown::signal() => {}
            () = stop.notified() => {}
        }
    });
    let mut run = std::pin::pin!(run);
    loop {
        tokio::select! {
            result = &mut run => break result.map(|stats| stats.totals).map_err(|e| e.to_string()),
            Some(sample) = occupancy_rx.recv() => {
                line(serde_json::to_value(sample).map_err(|e| e.to_string())?);
            }
        }
    }
}
