//! Reference integration: N MQTT ingestion workers on one shared subscription, all writing
//! into one sink (PostgreSQL, or a JSON-lines file).
//!
//! ```text
//! FFC_PG_PASSWORD=... cargo run -p ffc-examples --bin mqtt_workers -- \
//!     mqtt://broker.local:1883 4 postgresql://ffc@db.local/footfall [FILTER]
//! cargo run -p ffc-examples --bin mqtt_workers -- mqtt://127.0.0.1:1883 2 events.jsonl
//! ```
//!
//! Every worker subscribes to `$share/ffc-ingest/{FILTER}` (default `/status/+`, the
//! counters' topic) at QoS 1 with a persistent session under a fixed client id, so the
//! broker hands each message to one worker, keeps messages for a worker that is away, and
//! redelivers what a worker had not acknowledged. A worker acknowledges a message only
//! after the sink kept the event; the sink is idempotent on the event key, so a
//! redelivery is a duplicate, never a second count. Here the workers are tasks of one
//! process; across machines run the same loop in several processes (or `ffc-mqtt-worker`
//! from ffc-protocols) with different client ids. Stop with Ctrl-C or SIGTERM.
use std::sync::Arc;

use ffc_protocols::mqtt::subscriber::{Subscriber, SubscriberConfig, DEFAULT_FILTER};
use ffc_protocols::mqtt::Qos;
use ffc_protocols::sink::postgres::{PgSink, PgSinkConfig};
use ffc_protocols::sink::{DeadLetterSink, EventSink, FileDeadLetters, FileSink};
use tokio::signal::unix::{signal, SignalKind};

const GROUP: &str = "ffc-ingest";

type Sinks = (Arc<dyn EventSink>, Arc<dyn DeadLetterSink>);

/// One sink for all workers: PostgreSQL for a `postgresql://` URL, else a file.
async fn open_sink(target: &str) -> Result<Sinks, String> {
    if target.starts_with("postgres://") || target.starts_with("postgresql://") {
        let mut pg = PgSinkConfig::new(target).map_err(|e| e.to_string())?;
        if std::env::var_os("FFC_PG_PASSWORD").is_some() {
            pg = pg
                .with_password_from_env("FFC_PG_PASSWORD")
                .map_err(|e| e.to_string())?;
        }
        let sink = Arc::new(PgSink::connect(pg).await.map_err(|e| e.to_string())?);
        return Ok((sink.clone(), sink));
    }
    let events = FileSink::open(target).map_err(|e| e.to_string())?;
    let dead = FileDeadLetters::open(format!("{target}.dead")).map_err(|e| e.to_string())?;
    Ok((Arc::new(events), Arc::new(dead)))
}

async fn run() -> Result<(), String> {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let [broker, workers, target, rest @ ..] = argv.as_slice() else {
        return Err("usage: mqtt_workers BROKER_URL WORKERS (POSTGRES_URL | FILE) [FILTER]".into());
    };
    let workers: usize = workers.parse().map_err(|_| "WORKERS: a number")?;
    let filter = rest.first().map_or(DEFAULT_FILTER, String::as_str);
    let (events, dead) = open_sink(target).await?;

    let mut running = Vec::new();
    let mut stoppers = Vec::new();
    for i in 0..workers {
        let mut config =
            SubscriberConfig::new(broker, format!("{GROUP}-{i}")).map_err(|e| e.to_string())?;
        config.filters = vec![filter.to_owned()];
        config.share_group = Some(GROUP.to_owned());
        config.qos = Qos::AtLeastOnce;
        config.clean_session = false;
        let subscriber = Subscriber::new(config).map_err(|e| e.to_string())?;
        stoppers.push(subscriber.stopper());
        let mut status = subscriber.status();
        let (events, dead) = (events.clone(), dead.clone());
        running.push(tokio::spawn(async move {
            let run = subscriber.run_into(&*events, &*dead, None);
            tokio::pin!(run);
            tokio::select! {
                done = &mut run => return done,
                _ = status.wait_for(|s| s.subacks > 0) => println!("worker {i} subscribed"),
            }
            run.await
        }));
    }

    let mut term = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    for stopper in &stoppers {
        stopper.stop();
    }
    for (i, worker) in running.into_iter().enumerate() {
        let stats = worker
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| format!("worker {i}: {e}"))?;
        println!(
            "worker {i}: {} messages, {} events stored, {} duplicates, {} dead letters",
            stats.messages, stats.events, stats.duplicates, stats.dead_letters
        );
    }
    Ok(())
}

fn main() -> std::process::ExitCode {
    ffc_examples::main_exit(run())
}
