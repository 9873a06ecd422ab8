//! When to stop: one shutdown signal for every long-running loop of the family (the
//! WebSocket `Receiver::run`, the MQTT `Worker::run`, and your own); they take any future,
//! so a program may also stop them on its own condition.
//!
//! ```no_run
//! # async fn demo() {
//! // Resolves on Ctrl-C, and on SIGTERM where there is one (unix: `kill`, systemd,
//! // Kubernetes), so the same program stops gracefully on Linux and Windows.
//! ffc_protocols::shutdown::signal().await;
//! # }
//! ```

/// Resolves when the process is asked to stop: Ctrl-C (SIGINT, or the console's Ctrl-C
/// on Windows) everywhere, and SIGTERM on unix. If a handler cannot be installed (no
/// signal support in this environment) that source is left out and logged; the other
/// still stops the process.
pub async fn signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        () = ctrl_c => tracing::info!("Ctrl-C: shutting down"),
        () = terminate() => tracing::info!("SIGTERM: shutting down"),
    }
}

#[cfg(unix)]
async fn terminate() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            term.recv().await;
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for SIGTERM");
            std::future::pending::<()>().await;
        }
    }
}

// Windows has no SIGTERM; a service stop arrives as Ctrl-C (or ends the process).
#[cfg(not(unix))]
async fn terminate() {
    std::future::pending::<()>().await;
}
