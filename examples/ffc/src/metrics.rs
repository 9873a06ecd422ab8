//! `--metrics ADDR`: ffc-protocols' `/metrics` and `/healthz` server for a long-running
//! command (`ffc listen ws|mqtt`, and whatever else runs until stopped). Prints
//! `serving metrics on http://ADDR/metrics` on stderr once bound.
use std::net::SocketAddr;

use ffc_protocols::metrics::{Metrics, MetricsServer};

/// Metrics labelled `component` served on `addr`, or nothing without an address.
pub async fn serve(
    addr: Option<SocketAddr>,
    component: &str,
) -> Result<Option<(Metrics, MetricsServer)>, String> {
    let Some(addr) = addr else {
        return Ok(None);
    };
    let metrics = Metrics::new(component);
    let server = MetricsServer::bind(addr, metrics.clone())
        .await
        .map_err(|e| format!("--metrics {addr}: {e}"))?;
    eprintln!("serving metrics on http://{}/metrics", server.local_addr());
    Ok(Some((metrics, server)))
}

/// Stops the server, if any, after the command's work is done (so a last scrape sees the
/// final counts until then).
pub async fn stop(served: Option<(Metrics, MetricsServer)>) {
    if let Some((_, server)) = served {
        server.shutdown().await;
    }
}
