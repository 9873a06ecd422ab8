//! The V9 client over reqwest: a thin transport over the [`crate::v9`] codec.
//!
//! * The access token is fetched on first use, cached until it expires (less a margin),
//!   and renewed once when the server answers 401/403 anyway (revoked, or a server that
//!   expires tokens sooner than the SDK assumes).
//! * Transport errors, 429 and 5xx are retried with ffc-core's exponential backoff (full
//!   jitter, capped), a bounded number of times ([`RetryPolicy`], default
//!   [`default_retry`]); other 4xx are returned with the server's message.
//! * Long ranges are split into 30-day chunks fetched with bounded concurrency
//!   ([`V9Client::with_concurrency`]), results in chunk order.
//! * A sales upload refuses partial (site, day)s unless told, and fails loudly when the
//!   server imported fewer rows than it received.
//!
//! Errors never carry the token or the password: URLs are stripped from reqwest errors
//! (the export URL carries `access_token`).

use std::sync::Arc;
use std::time::Duration;

use ffc_core::backoff::RetryPolicy;
use ffc_core::UnixSeconds;
use futures_util::stream::{self, StreamExt, TryStreamExt};
use reqwest::{StatusCode, Url};

use crate::secret::Secret;
use crate::v9::cube::{decode_load, CubeQuery, CubeRow};
use crate::v9::export::{decode_export, ExportRow, InfoJson};
use crate::v9::sales::{decode_import, ImportResult, PartialDays, SalesBatch, SalesUploadError};
use crate::v9::token::{decode_token, expiry_of, AccessToken, TokenRequest};
use crate::v9::{self, server_message, DecodeError, CHUNK_DAYS};

/// A source of "now" (UTC unix seconds); tests and simulations pass their own.
pub type Clock = Arc<dyn Fn() -> UnixSeconds + Send + Sync>;

/// The system clock.
pub fn system_clock() -> Clock {
    Arc::new(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64)
    })
}

/// The server client's default retry policy: 4 attempts, waits drawn with full jitter
/// under a ceiling of 500 ms doubling up to 10 s (the server is far away and shared;
/// ffc-core's default is tuned for the LAN).
pub fn default_retry() -> RetryPolicy {
    RetryPolicy::new()
        .with_initial(Duration::from_millis(500))
        .with_cap(Duration::from_secs(10))
        .with_max_attempts(Some(4))
}

/// What went wrong talking to the server.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerClientError {
    /// The server could not be reached or the connection broke; retried already. Check the
    /// host and the network.
    #[error("transport: {0}")]
    Transport(String),
    /// The server refused the credentials or the renewed token. Check email and password.
    #[error("authentication refused ({status}): {message}")]
    Auth {
        /// HTTP status.
        status: u16,
        /// The server's message.
        message: String,
    },
    /// The server answered an error status; the message says why. 4xx: fix the request.
    #[error("server answered {status}: {message}")]
    Status {
        /// HTTP status.
        status: u16,
        /// The server's message, or the start of the body.
        message: String,
    },
    /// Every attempt failed; the last error is kept. Try again later.
    #[error("gave up after {attempts} attempts; last: {last}")]
    RetriesExhausted {
        /// Attempts made.
        attempts: u32,
        /// The last error.
        last: Box<ServerClientError>,
    },
    /// The body could not be decoded.
    #[error("decode: {0}")]
    Decode(#[from] DecodeError),
    /// A sales batch was refused before sending (partial days).
    #[error("sales batch refused: {0}")]
    Sales(#[from] SalesUploadError),
    /// The server imported fewer rows than it received: the missing rows are NOT on the
    /// server, and because of replace-by-day their days may now be short. Re-send them.
    #[error("sales import incomplete: {done} of {total} rows imported")]
    ImportIncomplete {
        /// Rows imported.
        done: u64,
        /// Rows received.
        total: u64,
    },
    /// The server counted a different number of rows than were sent.
    #[error("sales import: sent {sent} rows but the server counted {total}")]
    ImportMismatch {
        /// Rows sent.
        sent: u64,
        /// Rows the server counted.
        total: u64,
    },
    /// The base URL cannot be used.
    #[error("invalid base URL: {0}")]
    Url(String),
}

impl ServerClientError {
    /// What a log line may say about this error: the kind and the HTTP status, never the
    /// server's message, which may echo the request (credentials, the token in the URL).
    fn log_label(&self) -> String {
        match self {
            ServerClientError::Status { status, .. } => format!("status {status}"),
            ServerClientError::Transport(_) => "transport".to_string(),
            ServerClientError::Auth { status, .. } => format!("auth refused, status {status}"),
            ServerClientError::Decode(_) => "decode".to_string(),
            _ => "other".to_string(),
        }
    }

    fn retryable(&self) -> bool {
        match self {
            ServerClientError::Transport(_) => true,
            ServerClientError::Status { status, .. } => *status == 429 || *status >= 500,
            _ => false,
        }
    }
}

fn transport(e: reqwest::Error) -> ServerClientError {
    // Strip the URL: the export URL carries the token.
    ServerClientError::Transport(e.without_url().to_string())
}

fn message_of(body: &[u8]) -> String {
    server_message(body).unwrap_or_else(|| {
        let text = String::from_utf8_lossy(body);
        text.chars().take(200).collect()
    })
}

/// The V9 client.
///
/// ```no_run
/// # async fn run() -> Result<(), ffc_client::http::ServerClientError> {
/// use ffc_client::http::V9Client;
/// use ffc_client::v9::cube::{Cube, CubeQuery, Granularity, Measure};
/// let client = V9Client::new("https://v9.example", "me@example.com", "secret".into())?;
/// let q = CubeQuery::new(Cube::SiteSummary)
///     .measures([Measure::A01])
///     .time(Granularity::Day, chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap(),
///           chrono::NaiveDate::from_ymd_opt(2024, 6, 30).unwrap());
/// let rows = client.load_chunked(&q).await?; // six 30-day requests, bounded concurrency
/// # let _ = rows; Ok(()) }
/// ```
pub struct V9Client {
    http: reqwest::Client,
    base: Url,
    login: TokenRequest,
    token: tokio::sync::Mutex<Option<AccessToken>>,
    retry: RetryPolicy,
    concurrency: usize,
    clock: Clock,
    margin: i64,
}

impl std::fmt::Debug for V9Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("V9Client")
            .field("base", &self.base.as_str())
            .field("email", &self.login.email)
            .field("retry", &self.retry)
            .field("concurrency", &self.concurrency)
            .finish_non_exhaustive()
    }
}

impl V9Client {
    /// A client of the server at `base` (e.g. `https://v9.footfallcam.com`).
    pub fn new(base: &str, email: &str, password: Secret) -> Result<Self, ServerClientError> {
        let base = Url::parse(base).map_err(|e| ServerClientError::Url(e.to_string()))?;
        // reqwest is built without a crypto provider (its default, aws-lc, is a C build that
        // does not cross-compile to Windows): use ring unless the application installed one.
        if rustls::crypto::CryptoProvider::get_default().is_none() {
            // An error only means another thread installed a provider first: as good.
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(transport)?;
        Ok(V9Client {
            http,
            base,
            login: TokenRequest {
                email: email.to_owned(),
                password,
                expiration: None,
            },
            token: tokio::sync::Mutex::new(None),
            retry: default_retry(),
            concurrency: 4,
            clock: system_clock(),
            margin: 60,
        })
    }

    /// Asks for tokens valid through `date` (UTC) instead of the server's one day.
    #[must_use]
    pub fn with_expiration(mut self, date: chrono::NaiveDate) -> Self {
        self.login.expiration = Some(date);
        self
    }

    /// Sets the retry policy (default [`default_retry`]).
    #[must_use]
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// At most `n` chunk requests in flight at once (default 4, at least 1).
    #[must_use]
    pub fn with_concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// Uses `clock` for token expiry.
    #[must_use]
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    fn url(&self, path: &str) -> Result<Url, ServerClientError> {
        self.base
            .join(path)
            .map_err(|e| ServerClientError::Url(e.to_string()))
    }

    /// The cached token, or a new one.
    pub async fn token(&self) -> Result<Secret, ServerClientError> {
        let mut slot = self.token.lock().await;
        let now = (self.clock)();
        if let Some(t) = slot.as_ref().filter(|t| t.is_fresh(now, self.margin)) {
            return Ok(t.value.clone());
        }
        let url = self.url(v9::TOKEN_PATH)?;
        let body = self.login.to_body();
        let fresh = self
            .retrying(|| {
                let req = self
                    .http
                    .post(url.clone())
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body.clone());
                async move {
                    let resp = req.send().await.map_err(transport)?;
                    let status = resp.status();
                    let bytes = resp.bytes().await.map_err(transport)?;
                    if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
                        return Err(ServerClientError::Auth {
                            status: status.as_u16(),
                            message: message_of(&bytes),
                        });
                    }
                    if !status.is_success() {
                        return Err(ServerClientError::Status {
                            status: status.as_u16(),
                            message: message_of(&bytes),
                        });
                    }
                    decode_token(&bytes).map_err(|e| match e {
                        DecodeError::Server(message) => ServerClientError::Auth {
                            status: status.as_u16(),
                            message,
                        },
                        other => ServerClientError::Decode(other),
                    })
                }
            })
            .await?;
        let token = AccessToken {
            value: fresh.clone(),
            expires_at: expiry_of(self.login.expiration, now),
        };
        *slot = Some(token);
        Ok(fresh)
    }

    /// Forgets `used` if it is still the cached token.
    async fn invalidate(&self, used: &Secret) {
        let mut slot = self.token.lock().await;
        if slot.as_ref().is_some_and(|t| t.value.ct_eq(used.expose())) {
            *slot = None;
        }
    }

    async fn retrying<T, F, Fut>(&self, mut f: F) -> Result<T, ServerClientError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, ServerClientError>>,
    {
        let mut backoff = self.retry.backoff();
        loop {
            match f().await {
                Ok(v) => return Ok(v),
                Err(e) if e.retryable() => match backoff.next_delay() {
                    Some(wait) => {
                        tracing::warn!(
                            attempt = backoff.failures(),
                            wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                            error = %e.log_label(),
                            "V9 request failed; retrying"
                        );
                        tokio::time::sleep(wait).await;
                    }
                    None => {
                        tracing::error!(
                            attempts = backoff.failures(),
                            error = %e.log_label(),
                            "V9 request failed; giving up"
                        );
                        return Err(ServerClientError::RetriesExhausted {
                            attempts: backoff.failures(),
                            last: Box::new(e),
                        });
                    }
                },
                Err(e) => return Err(e),
            }
        }
    }

    /// Sends an authenticated request built by `build` from the token, with retries and
    /// one token renewal on 401/403; returns the success body.
    async fn call<B>(&self, build: B) -> Result<Vec<u8>, ServerClientError>
    where
        B: Fn(&Secret) -> Result<reqwest::RequestBuilder, ServerClientError>,
    {
        let mut renewed = false;
        loop {
            let token = self.token().await?;
            let outcome = self
                .retrying(|| {
                    let req = build(&token);
                    async move {
                        let resp = req?.send().await.map_err(transport)?;
                        let status = resp.status();
                        let bytes = resp.bytes().await.map_err(transport)?;
                        if status.is_success() {
                            Ok(Ok(bytes.to_vec()))
                        } else if status == StatusCode::UNAUTHORIZED
                            || status == StatusCode::FORBIDDEN
                        {
                            Ok(Err(ServerClientError::Auth {
                                status: status.as_u16(),
                                message: message_of(&bytes),
                            }))
                        } else {
                            Err(ServerClientError::Status {
                                status: status.as_u16(),
                                message: message_of(&bytes),
                            })
                        }
                    }
                })
                .await?;
            match outcome {
                Ok(body) => return Ok(body),
                // The token was refused: renew it once, then give up with the refusal.
                Err(_) if !renewed => {
                    renewed = true;
                    self.invalidate(&token).await;
                }
                Err(auth) => return Err(auth),
            }
        }
    }

    /// `exportData` for one request.
    pub async fn export(&self, info: &InfoJson) -> Result<Vec<ExportRow>, ServerClientError> {
        let url = self.url(v9::EXPORT_PATH)?;
        let info_json = info.to_json();
        let body = self
            .call(|token| {
                Ok(self
                    .http
                    .get(url.clone())
                    .query(&[
                        ("infoJson", info_json.as_str()),
                        ("access_token", token.expose()),
                    ])
                    .header(v9::TOKEN_HEADER, token.expose()))
            })
            .await?;
        Ok(decode_export(&body)?)
    }

    /// `exportData` over 30-day chunks of the request's range, in order.
    pub async fn export_chunked(
        &self,
        info: &InfoJson,
    ) -> Result<Vec<ExportRow>, ServerClientError> {
        let chunks = info.chunks(CHUNK_DAYS)?;
        let parts: Vec<Vec<ExportRow>> = stream::iter(chunks.iter().map(|c| self.export(c)))
            .buffered(self.concurrency)
            .try_collect()
            .await?;
        Ok(parts.into_iter().flatten().collect())
    }

    /// Cube `load` for one query.
    pub async fn load(&self, query: &CubeQuery) -> Result<Vec<CubeRow>, ServerClientError> {
        let url = self.url(v9::LOAD_PATH)?;
        let body = serde_json::to_vec(&query.to_body()).unwrap_or_default();
        let bytes = self
            .call(|token| {
                Ok(self
                    .http
                    .post(url.clone())
                    .bearer_auth(token.expose())
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body.clone()))
            })
            .await?;
        Ok(decode_load(query.cube, &bytes)?)
    }

    /// Cube `load` over 30-day chunks of the time dimension, in order.
    pub async fn load_chunked(&self, query: &CubeQuery) -> Result<Vec<CubeRow>, ServerClientError> {
        let chunks = query.chunks(CHUNK_DAYS);
        let parts: Vec<Vec<CubeRow>> = stream::iter(chunks.iter().map(|c| self.load(c)))
            .buffered(self.concurrency)
            .try_collect()
            .await?;
        Ok(parts.into_iter().flatten().collect())
    }

    /// Uploads a sales batch. Refuses partial (site, day)s unless `policy` is
    /// [`PartialDays::Send`]; fails with [`ServerClientError::ImportIncomplete`] when the server
    /// imported fewer rows than it received. Retrying is safe: every (site, day) sent is
    /// replaced whole, so a second delivery leaves the same state.
    pub async fn upload_sales(
        &self,
        batch: &SalesBatch,
        policy: PartialDays,
    ) -> Result<ImportResult, ServerClientError> {
        let body = batch.to_body(policy)?;
        let url = self.url(v9::SALES_PATH)?;
        let bytes = self
            .call(|token| {
                Ok(self
                    .http
                    .post(url.clone())
                    .header(v9::TOKEN_HEADER, token.expose())
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body.clone()))
            })
            .await?;
        let result = decode_import(&bytes)?;
        let sent = batch.rows().len() as u64;
        if result.total != sent {
            return Err(ServerClientError::ImportMismatch {
                sent,
                total: result.total,
            });
        }
        if result.done < result.total {
            return Err(ServerClientError::ImportIncomplete {
                done: result.done,
                total: result.total,
            });
        }
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_retry_policy_and_waits_under_each_ceiling() {
        // The client's policy drives ffc-core's backoff: full jitter under a ceiling that
        // doubles from 500 ms and stops at 10 s; the 4th failure gives up.
        let p = default_retry();
        assert_eq!(p.initial, Duration::from_millis(500));
        assert_eq!(p.cap, Duration::from_secs(10));
        assert_eq!(p.attempts(), Some(4));
        let p = p.with_max_attempts(Some(10));
        let ceilings = [100, 200, 400, 800, 1000, 1000, 1000, 1000, 1000];
        let p100 = p
            .with_initial(Duration::from_millis(100))
            .with_cap(Duration::from_secs(1));
        let mut b100 = p100.backoff_seeded(7);
        for ceiling in ceilings {
            let wait = b100.next_delay().unwrap();
            assert!(
                wait <= Duration::from_millis(ceiling),
                "{wait:?} > {ceiling} ms"
            );
        }
        assert_eq!(b100.next_delay(), None);
        assert_eq!(b100.failures(), 10);
    }

    #[test]
    fn debug_hides_password() {
        let c = V9Client::new("http://127.0.0.1:1", "me@x", Secret::new("pa55word")).unwrap();
        let d = format!("{c:?}");
        assert!(!d.contains("pa55word"), "{d}");
    }
}
