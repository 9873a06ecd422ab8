//! The HTTP endpoint (axum): `GET /metrics` and `GET /healthz`.

use std::io;
use std::net::SocketAddr;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::{Health, Metrics};

/// The content type of the Prometheus text format.
const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Serves [`Metrics`] on `GET /metrics` and their [`Health`] on `GET /healthz`, on a
/// spawned task, until [`MetricsServer::shutdown`] (or until dropped: the task is aborted).
#[derive(Debug)]
pub struct MetricsServer {
    local_addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<io::Result<()>>>,
}

impl MetricsServer {
    /// Binds `addr` and starts serving. Needs a tokio runtime with IO enabled.
    pub async fn bind(addr: SocketAddr, metrics: Metrics) -> io::Result<MetricsServer> {
        let listener = TcpListener::bind(addr).await?;
        let local_addr = listener.local_addr()?;
        let app = Router::new()
            .route("/metrics", get(scrape))
            .route("/healthz", get(healthz))
            .with_state(metrics);
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
        });
        tracing::info!(%local_addr, "serving /metrics and /healthz");
        Ok(MetricsServer {
            local_addr,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// The address it listens on (useful after binding port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops accepting, finishes the requests in flight and returns.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            match task.await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "metrics server failed"),
                Err(e) => tracing::warn!(error = %e, "metrics server task failed"),
            }
        }
    }
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

async fn scrape(State(metrics): State<Metrics>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, TEXT_FORMAT)], metrics.encode())
}

async fn healthz(State(metrics): State<Metrics>) -> impl IntoResponse {
    let (status, body) = match metrics.health() {
        Health::Serving => (StatusCode::OK, "ok\n".to_owned()),
        Health::Draining => (StatusCode::SERVICE_UNAVAILABLE, "draining\n".to_owned()),
        Health::Unhealthy(reason) => (StatusCode::SERVICE_UNAVAILABLE, format!("{reason}\n")),
    };
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body,
    )
}
