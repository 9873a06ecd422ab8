//! The `ffc` command-line tool: one module per command group, and the pieces they share.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod args;
pub mod broker;
pub mod convert;
pub mod decode;
pub mod demo;
pub mod mqtt_split;
pub mod report;
pub mod sample;
pub mod snippet;
pub mod upload;

/// A current-thread tokio runtime with IO and timers: what every async command runs on.
pub fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))
}
