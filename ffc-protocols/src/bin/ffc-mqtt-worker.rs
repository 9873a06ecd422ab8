//! An MQTT ingestion worker: one member of a shared subscription, writing counting events
//! into a JSON-lines file or PostgreSQL.
//!
//! ```text
//! ffc-mqtt-worker --broker mqtt://127.0.0.1:1883 --client-id ingest-1 --group ingest \
//!     --qos 1 --persistent --events events.jsonl --dead-letters dead.jsonl
//! ffc-mqtt-worker --broker mqtt://127.0.0.1:1883 --client-id ingest-2 --group ingest \
//!     --qos 1 --persistent --postgres postgresql://ffc@127.0.0.1:5432/ffc
//! ```
//!
//! Start several with the same `--group` and different `--client-id`s: the broker hands
//! each message to one of them (`$share/{group}/{filter}`). A message is acknowledged only
//! after the sink kept it (the subscriber's rule), so a worker killed mid-stream loses
//! nothing at QoS 1 with `--persistent`: the broker redelivers what it had not acknowledged
//! when the worker comes back under the same client id, and the sink's event key makes
//! the redelivery a duplicate rather than a second count.
//!
//! Secrets come from the environment, never the command line (which `ps` shows):
//! `FFC_MQTT_USERNAME` with `FFC_MQTT_PASSWORD` for the broker, `FFC_PG_PASSWORD` for
//! PostgreSQL. Prints `subscribed to <filters>` once the broker acknowledged the
//! subscription (and again after every reconnect); on SIGINT or SIGTERM it disconnects
//! and prints `stats ...`. When the sink fails (the database is down) the worker
//! disconnects without acknowledging, waits, and starts again with the same client id.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use ffc_protocols::mqtt::subscriber::{
    Stats, SubscribeError, Subscriber, SubscriberConfig, DEFAULT_FILTER,
};
use ffc_protocols::mqtt::{Credentials, Protocol, Qos};
use ffc_protocols::sink::{DeadLetterSink, EventSink, FileDeadLetters, FileSink};
use tokio::signal::unix::{signal, SignalKind};

const USAGE: &str = "usage: ffc-mqtt-worker --broker URL --client-id ID [--group NAME] \
[--filter FILTER]... [--qos 0|1] [--persistent] [--mqtt5] \
(--events FILE --dead-letters FILE | --postgres URL)";

/// Longest pause before starting again after a sink failure.
const MAX_RESTART_WAIT: Duration = Duration::from_secs(5);

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("ffc-mqtt-worker: {message}");
            ExitCode::FAILURE
        }
    }
}

struct Options {
    config: SubscriberConfig,
    events: Option<String>,
    dead_letters: Option<String>,
    postgres: Option<String>,
}

fn parse() -> Result<Options, String> {
    let mut broker = None;
    let mut client_id = None;
    let mut group = None;
    let mut filters = Vec::new();
    let mut qos = Qos::AtMostOnce;
    let mut persistent = false;
    let mut protocol = Protocol::V311;
    let mut events = None;
    let mut dead_letters = None;
    let mut postgres = None;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        match flag.as_str() {
            "--persistent" => {
                persistent = true;
                continue;
            }
            "--mqtt5" => {
                protocol = Protocol::V5;
                continue;
            }
            _ => {}
        }
        let value = args
            .next()
            .ok_or(format!("{flag} needs a value\n{USAGE}"))?;
        match flag.as_str() {
            "--broker" => broker = Some(value),
            "--client-id" => client_id = Some(value),
            "--group" => group = Some(value),
            "--filter" => filters.push(value),
            "--qos" => {
                qos = match value.as_str() {
                    "0" => Qos::AtMostOnce,
                    "1" => Qos::AtLeastOnce,
                    _ => return Err(format!("--qos: 0 or 1, not {value}")),
                }
            }
            "--events" => events = Some(value),
            "--dead-letters" => dead_letters = Some(value),
            "--postgres" => postgres = Some(value),
            _ => return Err(format!("unknown flag {flag}\n{USAGE}")),
        }
    }
    let broker = broker.ok_or(format!("--broker is required\n{USAGE}"))?;
    let client_id = client_id.ok_or(format!("--client-id is required\n{USAGE}"))?;
    let mut config =
        SubscriberConfig::new(&broker, client_id).map_err(|e| format!("--broker: {e}"))?;
    if !filters.is_empty() {
        config.filters = filters;
    } else {
        config.filters = vec![DEFAULT_FILTER.to_owned()];
    }
    config.share_group = group;
    config.qos = qos;
    config.clean_session = !persistent;
    config.protocol = protocol;
    config.backoff_max = Duration::from_secs(5);
    if let (Ok(user), Ok(password)) = (
        std::env::var("FFC_MQTT_USERNAME"),
        std::env::var("FFC_MQTT_PASSWORD"),
    ) {
        config.credentials = Some(Credentials::new(user, password));
    }
    if postgres.is_some() == (events.is_some() || dead_letters.is_some()) {
        return Err(format!(
            "give either --postgres or --events with --dead-letters\n{USAGE}"
        ));
    }
    Ok(Options {
        config,
        events,
        dead_letters,
        postgres,
    })
}

type Sinks = (Arc<dyn EventSink>, Arc<dyn DeadLetterSink>);

async fn open_sinks(options: &Options) -> Result<Sinks, String> {
    if let Some(url) = &options.postgres {
        return open_postgres(url).await;
    }
    let (Some(events), Some(dead)) = (&options.events, &options.dead_letters) else {
        return Err(format!("--events and --dead-letters go together\n{USAGE}"));
    };
    let events = FileSink::open(events).map_err(|e| format!("--events: {e}"))?;
    let dead = FileDeadLetters::open(dead).map_err(|e| format!("--dead-letters: {e}"))?;
    Ok((Arc::new(events), Arc::new(dead)))
}

/// Connects to PostgreSQL, waiting for it while it is down (a worker may start before
/// the database, or restart while it restarts).
#[cfg(feature = "postgres")]
async fn open_postgres(url: &str) -> Result<Sinks, String> {
    use ffc_protocols::sink::postgres::{PgSink, PgSinkConfig};
    // The subscriber hands over one message at a time and waits for its commit, so a
    // writer lingering for more events would only add latency: write at once, on one
    // connection (more throughput comes from more workers on the shared subscription).
    let mut config = PgSinkConfig::new(url)
        .map_err(|e| format!("--postgres: {e}"))?
        .with_batch_wait(Duration::ZERO)
        .with_pool_size(1);
    if std::env::var_os("FFC_PG_PASSWORD").is_some() {
        config = config
            .with_password_from_env("FFC_PG_PASSWORD")
            .map_err(|e| format!("FFC_PG_PASSWORD: {e}"))?;
    }
    let sink = PgSink::connect_waiting(config, |e, wait| {
        eprintln!("ffc-mqtt-worker: {e}; trying again in {wait:?}");
    })
    .await
    .map_err(|e| format!("--postgres: {e}"))?;
    let sink = Arc::new(sink);
    Ok((sink.clone(), sink))
}

#[cfg(not(feature = "postgres"))]
async fn open_postgres(_url: &str) -> Result<Sinks, String> {
    Err("--postgres: this build has no PostgreSQL sink (cargo feature `postgres`)".into())
}

fn add(total: &mut Stats, run: Stats) {
    total.messages += run.messages;
    total.events += run.events;
    total.duplicates += run.duplicates;
    total.occupancy += run.occupancy;
    total.dead_letters += run.dead_letters;
    total.connects += run.connects;
}

fn run() -> Result<(), String> {
    let options = parse()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        let (events, dead) = open_sinks(&options).await?;
        let mut term = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
        let mut interrupt = signal(SignalKind::interrupt()).map_err(|e| e.to_string())?;
        let filters = options.config.subscribed_filters().join(" ");
        let mut total = Stats::default();
        let mut restarts = 0u64;
        let mut wait = Duration::from_millis(100);
        loop {
            let subscriber = Subscriber::new(options.config.clone()).map_err(|e| e.to_string())?;
            let stopper = subscriber.stopper();
            let mut status = subscriber.status();
            let running = subscriber.run_into(&*events, &*dead, None);
            tokio::pin!(running);
            let mut seen_subacks = 0;
            let mut stopping = false;
            let result = loop {
                tokio::select! {
                    result = &mut running => break result,
                    _ = term.recv(), if !stopping => { stopping = true; stopper.stop(); }
                    _ = interrupt.recv(), if !stopping => { stopping = true; stopper.stop(); }
                    changed = status.changed() => {
                        if changed.is_ok() {
                            let subacks = status.borrow_and_update().subacks;
                            if subacks > seen_subacks {
                                seen_subacks = subacks;
                                wait = Duration::from_millis(100);
                                println!("subscribed to {filters}");
                            }
                        }
                    }
                }
            };
            match result {
                Ok(stats) => {
                    add(&mut total, stats);
                    break;
                }
                Err(SubscribeError::Sink(e)) if !stopping => {
                    // Not acknowledged: the broker keeps (QoS 1, persistent session) or
                    // drops (QoS 0) the message; either way start afresh.
                    restarts += 1;
                    eprintln!("ffc-mqtt-worker: sink failed ({e}); starting again in {wait:?}");
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = term.recv() => break,
                        _ = interrupt.recv() => break,
                    }
                    wait = (wait * 2).min(MAX_RESTART_WAIT);
                }
                Err(e) => return Err(e.to_string()),
            }
        }
        println!(
            "stats messages={} events={} duplicates={} occupancy={} dead_letters={} connects={} sink_restarts={restarts}",
            total.messages, total.events, total.duplicates, total.occupancy, total.dead_letters, total.connects
        );
        Ok(())
    })
}
