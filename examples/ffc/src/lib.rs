//! The `ffc` command-line tool: one module per command group (`device`, `server`,
//! `listen`, `decode`, `sales`, `report`, `bacnet`, `demo`), the command line itself
//! (`cli`), and the pieces they share.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod args;
pub mod backfill_worker;
pub mod bacnet;
pub mod broker;
pub mod cli;
pub mod decode;
pub mod demo;
pub mod device;
pub mod health;
pub mod listen;
pub mod logging;
pub mod metrics;
pub mod nats;
pub mod reconcile;
pub mod report;
pub mod sales;
pub mod sample;
pub mod server;
pub mod snippet;
pub mod work;

/// A current-thread tokio runtime with IO and timers: what every async command runs on.
pub fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))
}

/// Runs an async command to its end on [`runtime`].
pub fn block_on<F>(work: F) -> Result<(), String>
where
    F: std::future::Future<Output = Result<(), String>>,
{
    runtime()?.block_on(work)
}

/// Runs an async computation to its end on [`runtime`] and returns its value.
pub fn block_on_value<T, F>(work: F) -> Result<T, String>
where
    F: std::future::Future<Output = Result<T, String>>,
{
    runtime()?.block_on(work)
}

/// Writes `text` to `output`, or stdout when there is none.
pub fn emit(text: &str, output: Option<&std::path::PathBuf>) -> Result<(), String> {
    match output {
        Some(path) => std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display())),
        None => {
            print!("{text}");
            Ok(())
        }
    }
}
