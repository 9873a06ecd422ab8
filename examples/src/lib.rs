//! Shared pieces of ffc's reference integrations and the `ffc` command-line tool.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod args;
pub mod broker;
pub mod convert;
pub mod decode;
pub mod demo;
pub mod report;
pub mod sample;
pub mod snippet;
pub mod upload;

/// A current-thread tokio runtime with IO and timers: what every async example runs on.
pub fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))
}

/// The `main` of an async example: runs `work` on [`runtime`], prints its error, and turns
/// the outcome into the process's exit code.
pub fn main_exit<F>(work: F) -> std::process::ExitCode
where
    F: std::future::Future<Output = Result<(), String>>,
{
    match runtime().and_then(|rt| rt.block_on(work)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
