//! Diagnostics on stderr: a `tracing` subscriber filtered by `RUST_LOG` (default
//! [`DEFAULT_FILTER`]), as text or JSON lines. What a command reports stays on stdout.
use tracing_subscriber::EnvFilter;

/// The shape of diagnostic lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines with the span context (`demo:device{serial=..}: ...`).
    Text,
    /// One JSON object per line, with the current span and its parents.
    Json,
}

/// Without `RUST_LOG`: warnings and errors, except the demo's embedded broker (rumqttd),
/// which logs every closed connection (its own readiness probe, the demo's shutdown) as an
/// error that is no fault of the user's. `RUST_LOG=rumqttd=debug` still shows them.
pub const DEFAULT_FILTER: &str = "warn,rumqttd=off";

/// Installs the process's subscriber. An unreadable `RUST_LOG` falls back to
/// [`DEFAULT_FILTER`] (and says so) rather than stopping the command.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|e| {
        if std::env::var_os("RUST_LOG").is_some() {
            eprintln!("RUST_LOG ignored: {e}");
        }
        EnvFilter::new(DEFAULT_FILTER)
    });
    use std::io::IsTerminal as _;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        // Colours only for a person at a terminal; a file or a pipe gets plain text.
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    // A second init (tests calling in twice) keeps the first subscriber.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .try_init(),
    };
}
