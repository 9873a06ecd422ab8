//! `ffc nats init`, and what every NATS path of `ffc` shares: the connection arguments
//! (`--nats URL[,URL...]`, `--stream`, `--prefix`) and credentials from the environment
//! (`FFC_NATS_USER` with `FFC_NATS_PASSWORD` or `FFC_NATS_PASSWORD_FILE`,
//! `FFC_NATS_TOKEN[_FILE]`, `FFC_NATS_NKEY[_FILE]`, `FFC_NATS_CREDS`), never from the
//! command line and never printed.
use std::io::Write as _;
use std::time::Duration;

use clap::{Args, Subcommand};
use ffc_protocols::nats::{
    init_stream, require_stream, JetStreamConfig, NatsConfig, NatsCredentials,
};

/// The cluster and the stream, as every NATS path takes them.
#[derive(Args, Clone, Debug)]
pub struct StreamArgs {
    /// The stream's name.
    #[arg(long, default_value = "FFC")]
    pub stream: String,
    /// The subjects' first token: the stream holds `PREFIX.>` (`PREFIX.ws.<serial>`,
    /// `PREFIX.mqtt.<serial>`, `PREFIX.occupancy.<serial>`).
    #[arg(long, default_value = "ffc")]
    pub prefix: String,
}

/// `ffc nats` commands.
#[derive(Subcommand)]
pub enum NatsCommand {
    /// Create the stream, or update its settings (idempotent): subjects `PREFIX.>`, file
    /// storage, a duplicate window, REPLICAS copies. Prints the stream's state.
    Init {
        /// The cluster's servers, comma-separated.
        #[arg(long = "nats", value_name = "URL[,URL...]")]
        servers: String,
        /// The stream.
        #[command(flatten)]
        stream: StreamArgs,
        /// Copies of each message (one per node of a 3-node cluster).
        #[arg(long, default_value_t = 3)]
        replicas: usize,
        /// How long a message id is remembered (seconds).
        #[arg(long, default_value_t = 120)]
        duplicate_window: u64,
    },
}

/// The connection settings for `servers`, credentials from the environment.
pub fn config(servers: &str, name: &str) -> Result<NatsConfig, String> {
    let credentials = NatsCredentials::from_env().map_err(|e| e.to_string())?;
    Ok(NatsConfig::new(servers)
        .with_credentials(credentials)
        .with_name(name))
}

/// Connects and checks the stream exists (the error names `ffc nats init`).
pub async fn jetstream(
    servers: &str,
    name: &str,
    stream: &str,
) -> Result<(async_nats_client::Client, async_nats_client::Context), String> {
    let config = config(servers, name)?;
    let client = config.connect().await.map_err(|e| e.to_string())?;
    let mut js = async_nats_client::new(client.clone());
    js.set_timeout(config.request_timeout);
    require_stream(&js, stream, Duration::from_secs(30))
        .await
        .map_err(|e| e.to_string())?;
    Ok((client, js))
}

/// The async-nats types `ffc` hands around, through ffc-protocols' re-export.
pub mod async_nats_client {
    pub use ffc_protocols::nats::async_nats::jetstream::{new, Context};
    pub use ffc_protocols::nats::async_nats::Client;
}

/// Runs `ffc nats ...`.
pub fn run(command: NatsCommand) -> Result<(), String> {
    match command {
        NatsCommand::Init {
            servers,
            stream,
            replicas,
            duplicate_window,
        } => crate::block_on(async move {
            let js = config(&servers, "ffc-nats-init")?
                .jetstream()
                .await
                .map_err(|e| e.to_string())?;
            let settings = JetStreamConfig::default()
                .with_name(stream.stream)
                .with_prefix(stream.prefix)
                .with_replicas(replicas)
                .with_duplicate_window(Duration::from_secs(duplicate_window));
            let state = init_stream(&js, &settings)
                .await
                .map_err(|e| e.to_string())?;
            println!(
                "stream {} ready: subjects {}, {} replicas, {} messages, leader {}",
                state.name,
                state.subjects.join(" "),
                state.replicas,
                state.messages,
                if state.leader.is_empty() {
                    "(electing)"
                } else {
                    &state.leader
                }
            );
            let _ = std::io::stdout().flush();
            Ok(())
        }),
    }
}
