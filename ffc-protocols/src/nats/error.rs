//! [`NatsError`]: why a NATS connection, the stream's setup or a worker failed.

/// Why talking to the NATS cluster failed. Never holds a password, token or seed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NatsError {
    /// No server address was given.
    #[error("no NATS server given: pass --nats nats://HOST:4222[,nats://HOST2:4222...]")]
    NoServers,
    /// The servers answered but refused the credentials (or asked for some and none were
    /// given).
    #[error(
        "the NATS servers {servers} refused the {method} credentials: check FFC_NATS_USER and \
         FFC_NATS_PASSWORD, FFC_NATS_TOKEN, FFC_NATS_NKEY or FFC_NATS_CREDS"
    )]
    Unauthorized {
        /// The servers tried.
        servers: String,
        /// Which kind of credentials was offered (`user/password`, `token`, `nkey`,
        /// `creds file`, `no`).
        method: &'static str,
    },
    /// No server could be reached.
    #[error("could not connect to the NATS servers {servers}: {reason}")]
    Connect {
        /// The servers tried.
        servers: String,
        /// The client's reason.
        reason: String,
    },
    /// The credentials file or variable could not be read.
    #[error("NATS credentials from {source_name}: {reason}")]
    Credentials {
        /// The variable or file named.
        source_name: String,
        /// Why it could not be used.
        reason: String,
    },
    /// The stream does not exist: `listen` and `work` refuse to start without it.
    #[error(
        "the JetStream stream {stream:?} does not exist: create it first with \
         `ffc nats init --nats URL --stream {stream}`"
    )]
    StreamMissing {
        /// The stream's name.
        stream: String,
    },
    /// A JetStream request failed (creating the stream or the consumer, fetching).
    #[error("JetStream {doing}: {reason}")]
    JetStream {
        /// What was being done.
        doing: &'static str,
        /// The server's or client's reason.
        reason: String,
    },
    /// The sink failed and the worker gave up.
    #[error("the sink failed: {0}")]
    Sink(#[from] crate::sink::SinkError),
}
