//! Reference integration: MQTT ingestion workers on one shared subscription, writing into
//! PostgreSQL (or JSON-lines files).
//!
//! ```text
//! FFC_PG_PASSWORD=... cargo run -p ffc-examples --bin mqtt_workers -- \
//!     mqtt://broker.local:1883 4 postgresql://ffc@db.local/footfall [FILTER]
//! cargo run -p ffc-examples --bin mqtt_workers -- mqtt://127.0.0.1:1883 2 events.jsonl
//! mqtt_workers --broker mqtt://127.0.0.1:1883 --client-id ingest-1 [--workers N] \
//!     [--group NAME] [--filter FILTER]... [--qos 0|1] [--persistent] [--mqtt5] \
//!     (--postgres URL | --events FILE --dead-letters FILE)
//! ```
//!
//! The short form runs WORKERS workers in this process as `ffc-ingest-{i}` on
//! `$share/ffc-ingest/{FILTER}` (default `/status/+`, the counters' topic) at QoS 1 with
//! persistent sessions, keeping dead letters in `FILE.dead` next to a file target. The flag
//! form names everything (run one such process per machine, each with its own client id:
//! with `--workers N` the ids are `{ID}-{i}`).
//!
//! The broker hands each message to one worker, keeps messages for a worker that is away
//! (persistent session), and redelivers what a worker had not acknowledged. A worker
//! acknowledges a message only after the sink kept the event; the sink is idempotent on
//! the event key, so a redelivery is a duplicate, never a second count. When the sink fails
//! (the database is down) the worker disconnects without acknowledging, waits, and starts
//! again under the same client id.
//!
//! Secrets come from the environment: `FFC_MQTT_USERNAME` with `FFC_MQTT_PASSWORD` for the
//! broker, `FFC_PG_PASSWORD` for PostgreSQL. Prints `worker {i} subscribed to <filters>`
//! each time a worker's subscription is in place (again after every reconnect); stops
//! gracefully on Ctrl-C or SIGTERM and prints each worker's `worker {i}: ... messages, ...`. Logs go to stderr
//! (`RUST_LOG`, default `info`).
//!
//! Everything here is ffc-protocols' public API: `mqtt::worker::Worker` owns the loop
//! (subscribe, decode, keep, acknowledge, restart after a sink failure, drain on shutdown).
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use ffc_core::backoff::RetryPolicy;
use ffc_protocols::mqtt::subscriber::{SubscriberConfig, DEFAULT_FILTER};
use ffc_protocols::mqtt::worker::{Worker, WorkerConfig};
use ffc_protocols::mqtt::{Credentials, Protocol, Qos};
use ffc_protocols::sink::postgres::{PgSink, PgSinkConfig};
use ffc_protocols::sink::{DeadLetterSink, EventSink, FileDeadLetters, FileSink};
use tokio::sync::watch;

const USAGE: &str = "usage: mqtt_workers BROKER_URL WORKERS (POSTGRES_URL | FILE) [FILTER]\n   \
or: mqtt_workers --broker URL --client-id ID [--workers N] [--group NAME] [--filter FILTER]... \
[--qos 0|1] [--persistent] [--mqtt5] (--postgres URL | --events FILE --dead-letters FILE)";

const GROUP: &str = "ffc-ingest";

struct Options {
    /// One subscription per worker (client ids differ).
    workers: Vec<SubscriberConfig>,
    postgres: Option<String>,
    events: Option<String>,
    dead_letters: Option<String>,
}

/// The short form: `BROKER WORKERS TARGET [FILTER]`.
fn parse_short(argv: &[String]) -> Result<Options, String> {
    let [broker, workers, target, rest @ ..] = argv else {
        return Err(USAGE.into());
    };
    let workers: usize = workers.parse().map_err(|_| "WORKERS: a number")?;
    let filter = rest.first().map_or(DEFAULT_FILTER, String::as_str);
    let base = SubscriberConfig::new(broker, GROUP)
        .map_err(|e| format!("{broker}: {e}"))?
        .with_filters(vec![filter.to_owned()])
        .with_share_group(Some(GROUP.to_owned()))
        .with_qos(Qos::AtLeastOnce)
        .with_clean_session(false);
    let postgres = target.starts_with("postgres://") || target.starts_with("postgresql://");
    Ok(Options {
        workers: per_worker(&base, GROUP, workers, true),
        postgres: postgres.then(|| target.clone()),
        events: (!postgres).then(|| target.clone()),
        dead_letters: (!postgres).then(|| format!("{target}.dead")),
    })
}

/// `workers` copies of `base`, with client ids `{id}-{i}` (or `id` alone for one worker
/// when `always_number` is false).
fn per_worker(
    base: &SubscriberConfig,
    id: &str,
    workers: usize,
    always_number: bool,
) -> Vec<SubscriberConfig> {
    (0..workers)
        .map(|i| {
            let mut config = base.clone();
            config.client_id = if workers == 1 && !always_number {
                id.to_owned()
            } else {
                format!("{id}-{i}")
            };
            config
        })
        .collect()
}

/// The flag form of one worker process.
fn parse_flags(argv: &[String]) -> Result<Options, String> {
    let (mut broker, mut client_id, mut group, mut workers) = (None, None, None, 1usize);
    let (mut filters, mut qos, mut persistent, mut protocol) =
        (Vec::new(), Qos::AtMostOnce, false, Protocol::V311);
    let (mut postgres, mut events, mut dead_letters) = (None, None, None);
    let mut args = argv.iter();
    while let Some(flag) = args.next() {
        match flag.as_str() {
            "--persistent" => persistent = true,
            "--mqtt5" => protocol = Protocol::V5,
            _ => {
                let value = args
                    .next()
                    .ok_or(format!("{flag} needs a value\n{USAGE}"))?;
                match flag.as_str() {
                    "--broker" => broker = Some(value.clone()),
                    "--client-id" => client_id = Some(value.clone()),
                    "--group" => group = Some(value.clone()),
                    "--workers" => workers = value.parse().map_err(|_| "--workers: a number")?,
                    "--filter" => filters.push(value.clone()),
                    "--qos" => {
                        qos = match value.as_str() {
                            "0" => Qos::AtMostOnce,
                            "1" => Qos::AtLeastOnce,
                            _ => return Err(format!("--qos: 0 or 1, not {value}")),
                        }
                    }
                    "--postgres" => postgres = Some(value.clone()),
                    "--events" => events = Some(value.clone()),
                    "--dead-letters" => dead_letters = Some(value.clone()),
                    _ => return Err(format!("unknown flag {flag}\n{USAGE}")),
                }
            }
        }
    }
    let broker = broker.ok_or(format!("--broker is required\n{USAGE}"))?;
    let client_id = client_id.ok_or(format!("--client-id is required\n{USAGE}"))?;
    if postgres.is_some() == (events.is_some() || dead_letters.is_some()) {
        return Err(format!(
            "give either --postgres or --events with --dead-letters\n{USAGE}"
        ));
    }
    if filters.is_empty() {
        filters.push(DEFAULT_FILTER.to_owned());
    }
    let base = SubscriberConfig::new(&broker, client_id.clone())
        .map_err(|e| format!("--broker: {e}"))?
        .with_filters(filters)
        .with_share_group(group)
        .with_qos(qos)
        .with_clean_session(!persistent)
        .with_protocol(protocol)
        // A worker process comes back within 5 s of its broker.
        .with_retry(RetryPolicy::forever(
            Duration::from_millis(100),
            Duration::from_secs(5),
        ));
    Ok(Options {
        workers: per_worker(&base, &client_id, workers, false),
        postgres,
        events,
        dead_letters,
    })
}

type Sinks = (
    Arc<dyn EventSink>,
    Arc<dyn DeadLetterSink>,
    Option<Arc<PgSink>>,
);

/// One sink for all workers. PostgreSQL: each worker hands over one message at a time and
/// waits for its commit, so a writer lingering for more events would only add latency:
/// write at once, one connection per worker.
async fn open_sinks(options: &Options) -> Result<Sinks, String> {
    if let Some(url) = &options.postgres {
        let mut config = PgSinkConfig::new(url)
            .map_err(|e| format!("--postgres: {e}"))?
            .with_batch_wait(Duration::ZERO)
            .with_pool_size(options.workers.len());
        if std::env::var_os("FFC_PG_PASSWORD").is_some() {
            config = config
                .with_password_from_env("FFC_PG_PASSWORD")
                .map_err(|e| format!("FFC_PG_PASSWORD: {e}"))?;
        }
        let sink = PgSink::connect_waiting(config, |e, wait| {
            tracing::warn!(error = %e, ?wait, "PostgreSQL not ready; trying again");
        })
        .await
        .map_err(|e| format!("--postgres: {e}"))?;
        let sink = Arc::new(sink);
        return Ok((sink.clone(), sink.clone(), Some(sink)));
    }
    let (Some(events), Some(dead)) = (&options.events, &options.dead_letters) else {
        return Err(USAGE.into());
    };
    let events = FileSink::open(events).map_err(|e| format!("{events}: {e}"))?;
    let dead = FileDeadLetters::open(dead).map_err(|e| format!("{dead}: {e}"))?;
    Ok((Arc::new(events), Arc::new(dead), None))
}

async fn run(options: Options) -> Result<(), String> {
    let (events, dead, postgres) = open_sinks(&options).await?;
    let credentials = match (
        std::env::var("FFC_MQTT_USERNAME"),
        std::env::var("FFC_MQTT_PASSWORD"),
    ) {
        (Ok(user), Ok(password)) => Some(Credentials::new(user, password)),
        _ => None,
    };
    // Every worker stops when the one shutdown signal arrives.
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut running = Vec::new();
    for (i, subscriber) in options.workers.into_iter().enumerate() {
        let filters = subscriber.subscribed_filters().join(" ");
        let config = WorkerConfig::new(subscriber.with_credentials(credentials.clone()));
        let worker = Worker::new(config, events.clone(), dead.clone());
        let mut status = worker.status();
        tokio::spawn(async move {
            let mut seen = 0;
            while status.changed().await.is_ok() {
                let subacks = status.borrow_and_update().subacks;
                if subacks > seen {
                    seen = subacks;
                    println!("worker {i} subscribed to {filters}");
                }
            }
        });
        let mut stop = stop_rx.clone();
        let shutdown = async move {
            let _ = stop.wait_for(|s| *s).await;
        };
        running.push(tokio::spawn(worker.run(shutdown)));
    }
    ffc_protocols::shutdown::signal().await;
    stop_tx.send_replace(true);
    let mut failed = None;
    for (i, worker) in running.into_iter().enumerate() {
        match worker.await.map_err(|e| e.to_string())? {
            Ok(stats) => {
                let t = stats.totals;
                println!(
                    "worker {i}: {} messages, {} events stored, {} duplicates, {} dead letters, \
                     {} occupancy samples, {} connects, {} sink restarts",
                    t.messages,
                    t.events,
                    t.duplicates,
                    t.dead_letters,
                    t.occupancy,
                    t.connects,
                    stats.sink_restarts
                );
            }
            Err(e) => failed = Some(format!("worker {i}: {e}")),
        }
    }
    if let Some(sink) = postgres {
        sink.close().await;
    }
    failed.map_or(Ok(()), Err)
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let parsed = if argv.first().is_some_and(|a| a.starts_with("--")) {
        parse_flags(&argv)
    } else {
        parse_short(&argv)
    };
    let result = match parsed {
        Ok(options) => run(options).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("mqtt_workers: {message}");
            ExitCode::FAILURE
        }
    }
}
