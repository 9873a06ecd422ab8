//! `ffc`: the command-line tool for FootfallCam data. `main` parses, installs the
//! diagnostics subscriber and hands the command to its module.
use std::process::ExitCode;

use clap::Parser as _;
use ffc_cli::cli::{Cli, Command};
use ffc_cli::{
    backfill_worker, bacnet, decode, demo, device, health, listen, logging, nats, reconcile,
    report, sales, server, work,
};

fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init(cli.log_format);
    let outcome = match cli.command {
        Command::Reconcile(args) => return reconcile::command(args),
        Command::Health(args) => health::run(args),
        Command::Report(args) => report::run(args),
        Command::Device(args) => device::run(args),
        Command::Bacnet { command } => bacnet::run(command),
        Command::Decode(args) => decode::run(args),
        Command::Listen { command } => listen::run(command),
        Command::Server(args) => server::run(args),
        Command::Sales { command } => sales::run(command),
        Command::BackfillWorker(args) => backfill_worker::run(args),
        Command::Nats { command } => nats::run(command),
        Command::Work(args) => work::run(args),
        Command::Demo { out } => demo::command(&out),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
