//! `ffc work`: a worker draining the cluster's stream into a sink (ffc-protocols'
//! `nats::PullWorker`), acknowledging each message only after the sink kept it.
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use ffc_protocols::nats::{PullWorker, PullWorkerConfig};
use ffc_protocols::sink::postgres::{PgSink, PgSinkConfig};
use ffc_protocols::sink::{
    DeadLetterSink, EventSink, FileDeadLetters, FileSink, MemoryDeadLetters,
};

use crate::nats::StreamArgs;

/// `ffc work` arguments.
#[derive(Args)]
#[command(group = clap::ArgGroup::new("sink").required(true).args(["events", "postgres"]))]
pub struct WorkArgs {
    /// The cluster's servers, comma-separated.
    #[arg(long = "nats", value_name = "URL[,URL...]")]
    pub servers: String,
    /// The stream.
    #[command(flatten)]
    pub stream: StreamArgs,
    /// The durable consumer: workers with the same name share its messages.
    #[arg(long, default_value = "ffc-work")]
    pub durable: String,
    /// Keep events in this JSON-lines file (a message is acknowledged once the write is synced).
    #[arg(long)]
    pub events: Option<PathBuf>,
    /// Keep events in PostgreSQL (acknowledged after COMMIT): `postgresql://user@host/db`;
    /// the password only from env FFC_PG_PASSWORD.
    #[arg(long)]
    pub postgres: Option<String>,
    /// Undecodable messages go here (JSON lines; default: kept in memory and counted).
    #[arg(long)]
    pub dead_letters: Option<PathBuf>,
    /// Seconds the cluster waits for an acknowledgement before it delivers a message again
    /// (to this or another worker): how soon a dead worker's messages move on.
    #[arg(long, default_value_t = 30)]
    pub ack_wait: u64,
    /// Messages fetched and kept at once.
    #[arg(long, default_value_t = 256)]
    pub batch: usize,
    /// Stop after this many events were stored (default: run until Ctrl-C or SIGTERM,
    /// finishing the batch in hand).
    #[arg(long)]
    pub max_events: Option<u64>,
    /// Serve `/metrics` (Prometheus) and `/healthz` on this address.
    #[arg(long)]
    pub metrics: Option<std::net::SocketAddr>,
}

async fn sink(a: &WorkArgs) -> Result<(Arc<dyn EventSink>, Option<Arc<PgSink>>), String> {
    if let Some(path) = &a.events {
        let file = FileSink::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
        return Ok((Arc::new(file), None));
    }
    let url = a.postgres.as_deref().unwrap_or_default();
    let mut config = PgSinkConfig::new(url).map_err(|e| format!("--postgres: {e}"))?;
    if std::env::var_os("FFC_PG_PASSWORD").is_some() {
        config = config
            .with_password_from_env("FFC_PG_PASSWORD")
            .map_err(|e| e.to_string())?;
    }
    let pg = Arc::new(
        PgSink::connect_waiting(config, |_, _| {})
            .await
            .map_err(|e| e.to_string())?,
    );
    Ok((pg.clone(), Some(pg)))
}

/// Runs `ffc work`.
pub fn run(a: WorkArgs) -> Result<(), String> {
    // Several threads: the sink's writers and the consumer's fetches run side by side.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))?;
    runtime.block_on(work(a))
}

async fn work(a: WorkArgs) -> Result<(), String> {
    let name = format!("ffc-work-{}", std::process::id());
    let (_client, js) = crate::nats::jetstream(&a.servers, &name, &a.stream.stream).await?;
    let (mut sink, pg) = sink(&a).await?;
    let mut dead: Arc<dyn DeadLetterSink> = match &a.dead_letters {
        Some(path) => {
            Arc::new(FileDeadLetters::open(path).map_err(|e| format!("{}: {e}", path.display()))?)
        }
        None => Arc::new(MemoryDeadLetters::new()),
    };
    let served = crate::metrics::serve(a.metrics, "work").await?;
    if let Some((m, _)) = &served {
        sink = m.observe_events(sink);
        dead = m.observe_dead_letters(dead);
    }
    let config = PullWorkerConfig::default()
        .with_stream(a.stream.stream.clone())
        .with_durable(a.durable.clone())
        .with_ack_wait(Duration::from_secs(a.ack_wait))
        .with_batch(a.batch)
        .with_max_events(a.max_events);
    let worker = PullWorker::new(js, config, sink, dead);
    worker.consumer().await.map_err(|e| e.to_string())?;
    let ticker = served
        .as_ref()
        .map(|(m, _)| tokio::spawn(report_progress(m.clone(), worker.stats_reader())));
    println!("working on stream {} as {}", a.stream.stream, a.durable);
    let _ = std::io::stdout().flush();
    let stats = worker
        .run(ffc_protocols::shutdown::signal())
        .await
        .map_err(|e| e.to_string())?;
    if let Some(pg) = pg {
        pg.close().await;
    }
    if let Some(ticker) = ticker {
        ticker.abort();
    }
    crate::metrics::stop(served).await;
    eprintln!(
        "stopped: {} fetched, {} events kept, {} duplicates, {} occupancy, {} dead-lettered, {} acknowledged, lag {}",
        stats.fetched, stats.kept, stats.duplicates, stats.occupancy, stats.dead_lettered, stats.acked, stats.lag
    );
    Ok(())
}

/// Every second: the consumer's lag and the acknowledgements since the last look, read from
/// the worker's own counters (it acknowledges in the stream, not through the sink).
async fn report_progress(
    metrics: ffc_protocols::metrics::Metrics,
    stats: impl Fn() -> ffc_protocols::nats::WorkerStats,
) {
    let mut acked = 0;
    let mut every = tokio::time::interval(Duration::from_secs(1));
    loop {
        every.tick().await;
        let now = stats();
        metrics.set_consumer_lag(now.lag);
        metrics.acknowledged(now.acked.saturating_sub(acked));
        acked = now.acked;
    }
}
