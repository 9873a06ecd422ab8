//! The command line: the top-level commands and the global flags. Each command group's own
//! arguments live in its module.
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::logging::LogFormat;
use crate::{
    backfill_worker, bacnet, decode, device, health, listen, nats, reconcile, report, sales,
    server, work,
};

/// One typed, reliable way to get FootfallCam data out of every interface.
#[derive(Parser)]
#[command(name = "ffc", version, about)]
pub struct Cli {
    /// How diagnostics go to stderr (filtered by RUST_LOG, default `warn`, the embedded broker off); results stay
    /// on stdout.
    #[arg(long, value_enum, global = true, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands, one per group.
#[derive(Subcommand)]
pub enum Command {
    /// Branch report with completeness per bucket, from events (JSON lines) and a branch layout.
    Report(report::ReportArgs),
    /// Live events against pulled records: a state per bucket (match, live-short,
    /// live-over, conflict, unverified), merged records with provenance, and `--backfill`
    /// of exactly the live-short windows. Exit status as diff(1): 0 match, 1 not, 2 trouble.
    Reconcile(reconcile::ReconcileArgs),
    /// Data availability per counter per hour (table, JSON, SVG strip), open offline
    /// incidents, last-seen and the outbox overflow case, from an events file and its
    /// sessions file.
    Health(health::HealthArgs),
    /// Talk to one counter over its CGI API: token, counts, long pulls. Replaces
    /// FootfallCam's Windows-only Data Integration Tool: `--print-curl` and `--print-rust`
    /// print the same requests as a shell script and a Rust program instead of sending them.
    Device(device::DeviceArgs),
    /// Find FFC devices and read their 48 hourly In/Out values over BACnet/IP.
    Bacnet {
        /// What to do.
        #[command(subcommand)]
        command: bacnet::BacnetCommand,
    },
    /// Decode a payload (FILE or `-` for stdin) into normalized JSON lines; a payload that
    /// fails gives one JSON error line and exit status 1.
    Decode(decode::DecodeArgs),
    /// Run a receiver that counters push to, and show or store what they send.
    Listen {
        /// Which receiver.
        #[command(subcommand)]
        command: listen::ListenCommand,
    },
    /// The Analytic Manager V9 server APIs: token, exportData, the cube API and the sales
    /// import; `--print-curl`/`--print-rust` print the queries instead of sending them.
    Server(server::ServerArgs),
    /// Sales files (FootfallCam's import layout): validate, and conversion against footfall.
    Sales {
        /// What to do.
        #[command(subcommand)]
        command: sales::SalesCommand,
    },
    /// For deployments: every `--every-minutes`, reconcile the recent past pulled from each
    /// counter with the live events in PostgreSQL and write every bucket with its provenance
    /// (`backfilled` where the live path was short) into `ffc_merged_records`, which the BI
    /// views read.
    BackfillWorker(backfill_worker::BackfillWorkerArgs),
    /// The NATS JetStream cluster between counters and storage: set up its stream.
    Nats {
        /// What to do.
        #[command(subcommand)]
        command: nats::NatsCommand,
    },
    /// Drain the NATS cluster's stream into a sink (file or PostgreSQL) through a durable
    /// pull consumer, acknowledging each message after the sink kept it. Prints `working on
    /// stream STREAM as DURABLE` first.
    Work(work::WorkArgs),
    /// The main job on loopback, nothing installed: simulated counters over HTTP, BACnet,
    /// WebSocket and MQTT (embedded broker), one offline for an hour; the V9 server
    /// simulator's export and sales import; a branch report with completeness and
    /// conversion, CSV and an SVG chart.
    Demo {
        /// Where the CSV and SVG files go.
        #[arg(long, default_value = "target/ffc-demo")]
        out: PathBuf,
    },
}
