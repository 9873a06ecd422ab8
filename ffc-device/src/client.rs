//! The async client (feature `client`): reqwest with rustls over the codecs of
//! [`crate::body`] and the queries of [`crate::query`].
//!
//! - The long-lived token from `access_token.cgi` is fetched once and cached; when the
//!   counter answers 401 or 403 the token is fetched again, once, and the request repeated.
//! - Connect errors, timeouts, dropped connections and 5xx answers are retried with
//!   the family's one backoff ([`RetryPolicy`]: exponential, full jitter, capped), at most
//!   [`RetryPolicy::attempts`] attempts in all; 4xx answers never are.
//! - The password and token travel as query parameters; every logged URL goes through
//!   [`RedactedUrl`], and errors keep no URL at all.
//! - [`DeviceClient::pull`] splits a long range into day windows, fetches them with bounded
//!   concurrency, reassembles them in order, reports progress, and on an error hands back
//!   everything up to the last complete window and where to resume.
//!
//! ```no_run
//! use ffc_device::client::{DeviceClientConfig, Credentials, DeviceClient};
//! use ffc_device::query::DataType;
//! use ffc_core::{Resolution, Zone};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let zone = Zone::iana("Europe/London").ok_or("zone")?;
//! let config = DeviceClientConfig::new("http://127.0.0.1:8080/cgi-bin/", zone);
//! let client = DeviceClient::new(config, Credentials::new("admin", "123456"))?;
//! let from = 1_704_067_200; // 2024-01-01 00:00 GMT
//! let records = client
//!     .pull(from, from + 7 * 86_400, Resolution::Minutes(15), DataType::Json, |p| {
//!         println!("{}/{} windows", p.windows_done, p.windows_total);
//!     })
//!     .await?;
//! println!("{} buckets", records.len());
//! # Ok(()) }
//! ```

use core::fmt;
use std::time::Duration;

use ffc_core::backoff::RetryPolicy;
use ffc_core::{CountRecord, Resolution, UnixSeconds, Zone};
use futures_util::stream::{self, StreamExt};
use reqwest::{StatusCode, Url};
use tokio::sync::Mutex;

use crate::body::{self, BodyError, CountBody, TokenBodyError};
use crate::query::{split_range, DataType, Query, QueryError, DEFAULT_COUNT_PATH, TOKEN_PATH};
use crate::secret::{RedactedUrl, Secret};

/// The counter's username and password (the Setup Wizard password).
pub use ffc_core::secret::Credentials;
pub use pull_into::PullIntoError;

mod pull_into;

/// Where the counter is and how to talk to it.
///
/// Built with [`DeviceClientConfig::new`] and the `with_*` setters, like every configuration
/// in ffc.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DeviceClientConfig {
    /// The counter's CGI directory, e.g. `http://192.168.2.123/cgi-bin/`.
    pub base_url: String,
    /// The count CGI under it (default `apiCount.cgi`).
    pub count_path: String,
    /// The counter's time zone: its `starttime`s and windows are local to it.
    pub zone: Zone,
    /// Whole-request timeout (default 30 s).
    pub timeout: Duration,
    /// Connect timeout (default 10 s).
    pub connect_timeout: Duration,
    /// Retries of failures that may pass (default [`RetryPolicy::default`]: 4 attempts,
    /// waits up to 200 ms doubling to 5 s, full jitter). A policy without an attempt limit
    /// retries a request until it gets an answer.
    pub retry: RetryPolicy,
    /// Windows fetched at once by [`DeviceClient::pull`] (default 4; at least 1).
    pub concurrency: usize,
    /// The largest answer read (default [`MAX_BODY_BYTES`]).
    pub max_body_bytes: usize,
}

impl DeviceClientConfig {
    /// The defaults for a counter at `base_url` in `zone`.
    pub fn new(base_url: impl Into<String>, zone: Zone) -> DeviceClientConfig {
        DeviceClientConfig {
            base_url: base_url.into(),
            count_path: DEFAULT_COUNT_PATH.to_owned(),
            zone,
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            retry: RetryPolicy::default(),
            concurrency: 4,
            max_body_bytes: MAX_BODY_BYTES,
        }
    }

    /// Sets the count CGI's path under the base URL.
    pub fn with_count_path(mut self, count_path: impl Into<String>) -> Self {
        self.count_path = count_path.into();
        self
    }

    /// Sets the counter's time zone.
    pub fn with_zone(mut self, zone: Zone) -> Self {
        self.zone = zone;
        self
    }

    /// Sets the whole-request timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the connect timeout.
    pub fn with_connect_timeout(mut self, connect_timeout: Duration) -> Self {
        self.connect_timeout = connect_timeout;
        self
    }

    /// Sets the retry policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Sets how many windows [`DeviceClient::pull`] fetches at once.
    pub fn with_concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency;
        self
    }

    /// Sets the largest answer read.
    pub fn with_max_body_bytes(mut self, max_body_bytes: usize) -> Self {
        self.max_body_bytes = max_body_bytes;
        self
    }
}

/// Why an attempt failed, kept without the URL (which carries secrets).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Failure {
    /// The counter answered with this 5xx status.
    Status(u16),
    /// No answer within the timeout.
    Timeout,
    /// No connection could be made.
    Connect,
    /// The connection failed or closed mid-exchange (the transport's words, without URL).
    Transport(String),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Status(s) => write!(f, "HTTP {s}"),
            Failure::Timeout => f.write_str("timed out"),
            Failure::Connect => f.write_str("could not connect"),
            Failure::Transport(s) => write!(f, "transport error: {s}"),
        }
    }
}

fn classify(e: reqwest::Error) -> Failure {
    if e.is_timeout() {
        return Failure::Timeout;
    }
    if e.is_connect() {
        return Failure::Connect;
    }
    // The chain of causes, without the URL reqwest would print.
    let e = e.without_url();
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    Failure::Transport(text)
}

/// What went wrong talking to a counter. Every variant says what to do about it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeviceClientError {
    /// The configured base URL is not an http(s) URL; fix the configuration.
    #[error("the base URL is not usable: {0}")]
    BaseUrl(String),
    /// The query was refused before sending; fix the query.
    #[error(transparent)]
    Query(#[from] QueryError),
    /// `access_token.cgi` refused the username or password; check them.
    #[error("the counter refused the credentials (HTTP {status}); check username and password")]
    Credentials {
        /// 401 or 403.
        status: u16,
    },
    /// A freshly fetched token was refused too; the counter's API access may be disabled.
    #[error("the counter refused a freshly issued token (HTTP {status})")]
    TokenRefused {
        /// 401 or 403.
        status: u16,
    },
    /// The counter refused the request (4xx other than 401/403); fix the request, do not retry.
    #[error("the counter refused the request (HTTP {status}): {message}")]
    Rejected {
        /// The status.
        status: u16,
        /// The start of the counter's message, secrets masked.
        message: String,
    },
    /// Every attempt failed for a reason that may pass; try again later.
    #[error("the counter did not answer after {attempts} attempts; last: {last}")]
    Unavailable {
        /// Attempts made.
        attempts: u32,
        /// Why the last one failed.
        last: Failure,
    },
    /// The answer is larger than [`DeviceClientConfig::max_body_bytes`]; ask for a shorter window or a coarser
    /// resolution.
    #[error("the answer exceeds {limit} bytes")]
    BodyTooLarge {
        /// The limit.
        limit: usize,
    },
    /// The count body does not decode; the counter speaks another format. Keep the bytes.
    #[error(transparent)]
    Body(#[from] BodyError),
    /// The token body holds no token; check the URL points at a counter.
    #[error(transparent)]
    TokenBody(#[from] TokenBodyError),
}

/// The default for [`DeviceClientConfig::max_body_bytes`]: a day of 1-second JSON is about 12 MB.
pub const MAX_BODY_BYTES: usize = 64 << 20;

enum Read {
    Transport(reqwest::Error),
    TooLarge,
}

/// Reads a body chunk by chunk, refusing more than `limit` bytes.
async fn read_body(mut response: reqwest::Response, limit: usize) -> Result<Vec<u8>, Read> {
    if response.content_length().is_some_and(|n| n > limit as u64) {
        return Err(Read::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(Read::Transport)? {
        if body.len() + chunk.len() > limit {
            return Err(Read::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The longest part of a refusal message kept in [`DeviceClientError::Rejected`].
const MESSAGE_LIMIT: usize = 200;

#[derive(Default)]
struct TokenCache {
    token: Option<Secret>,
    generation: u64,
}

/// Progress of a [`DeviceClient::pull`], reported after each window, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PullProgress {
    /// Windows fetched and placed so far.
    pub windows_done: usize,
    /// Windows in the pull.
    pub windows_total: usize,
    /// Records so far.
    pub records: usize,
    /// Every bucket before this instant is in hand.
    pub complete_until: UnixSeconds,
}

/// A pull that stopped: the records of every window before the failed one, and where to
/// start again (call [`DeviceClient::pull`] with `from = resume_from`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
#[error("pull stopped; {} records kept, resume from {resume_from}: {source}", records.len())]
pub struct PullError {
    /// Records of the complete windows, in order.
    pub records: Vec<CountRecord>,
    /// The start of the first window not complete.
    pub resume_from: UnixSeconds,
    /// Why the window failed.
    #[source]
    pub source: DeviceClientError,
}

/// A client for one counter.
pub struct DeviceClient {
    http: reqwest::Client,
    count_url: Url,
    token_url: Url,
    credentials: Credentials,
    zone: Zone,
    retry: RetryPolicy,
    concurrency: usize,
    max_body_bytes: usize,
    token: Mutex<TokenCache>,
}

impl fmt::Debug for DeviceClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceClient")
            .field("count_url", &RedactedUrl(self.count_url.as_str()))
            .field("credentials", &self.credentials)
            .field("zone", &self.zone)
            .field("retry", &self.retry)
            .field("concurrency", &self.concurrency)
            .finish_non_exhaustive()
    }
}

impl DeviceClient {
    /// A client; nothing is sent until the first request.
    pub fn new(
        config: DeviceClientConfig,
        credentials: Credentials,
    ) -> Result<DeviceClient, DeviceClientError> {
        let mut base =
            Url::parse(&config.base_url).map_err(|e| DeviceClientError::BaseUrl(format!("{e}")))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(DeviceClientError::BaseUrl(format!(
                "scheme {} is not http(s)",
                base.scheme()
            )));
        }
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        base.set_query(None);
        let join = |path: &str| {
            base.join(path)
                .map_err(|e| DeviceClientError::BaseUrl(e.to_string()))
        };
        // reqwest is built without a crypto provider (its default, aws-lc, is a C build that
        // does not cross-compile to Windows): use ring unless the application installed one.
        if rustls::crypto::CryptoProvider::get_default().is_none() {
            // An error only means another thread installed a provider first: as good.
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.connect_timeout)
            // The counter is one host on the LAN: no proxy should see the token.
            .no_proxy()
            .build()
            .map_err(|e| DeviceClientError::BaseUrl(classify(e).to_string()))?;
        Ok(DeviceClient {
            http,
            count_url: join(&config.count_path)?,
            token_url: join(TOKEN_PATH)?,
            credentials,
            zone: config.zone,
            retry: config.retry,
            concurrency: config.concurrency.max(1),
            max_body_bytes: config.max_body_bytes,
            token: Mutex::new(TokenCache::default()),
        })
    }

    /// The counter's zone.
    pub fn zone(&self) -> Zone {
        self.zone
    }

    /// GET with retries; returns the status and body of the first answer that is not a
    /// 5xx, or the last failure.
    async fn get(
        &self,
        url: &Url,
        what: &'static str,
    ) -> Result<(StatusCode, Vec<u8>), DeviceClientError> {
        let redacted = RedactedUrl(url.as_str());
        let mut backoff = self.retry.backoff();
        let mut attempt: u32 = 0;
        loop {
            attempt = attempt.saturating_add(1);
            tracing::debug!(url = %redacted, attempt, what, "GET");
            let failure = match self.http.get(url.clone()).send().await {
                Ok(response) => {
                    let status = response.status();
                    if status.is_server_error() {
                        Failure::Status(status.as_u16())
                    } else {
                        match read_body(response, self.max_body_bytes).await {
                            Ok(bytes) => {
                                tracing::debug!(url = %redacted, status = status.as_u16(), bytes = bytes.len(), "answer");
                                return Ok((status, bytes));
                            }
                            Err(Read::Transport(e)) => classify(e),
                            Err(Read::TooLarge) => {
                                return Err(DeviceClientError::BodyTooLarge {
                                    limit: self.max_body_bytes,
                                })
                            }
                        }
                    }
                }
                Err(e) => classify(e),
            };
            tracing::warn!(url = %redacted, attempt, what, failure = %failure, "attempt failed");
            match backoff.next_delay() {
                Some(wait) => tokio::time::sleep(wait).await,
                None => {
                    return Err(DeviceClientError::Unavailable {
                        attempts: attempt,
                        last: failure,
                    })
                }
            }
        }
    }

    /// The start of a refusal message, with anything secret masked.
    fn message(&self, body: &[u8], token: Option<&Secret>) -> String {
        let text = String::from_utf8_lossy(body);
        let mut text: String = text.chars().take(MESSAGE_LIMIT).collect();
        let password = self.credentials.password.expose();
        for secret in [Some(password), token.map(Secret::expose)]
            .into_iter()
            .flatten()
        {
            if !secret.is_empty() {
                text = text.replace(secret, "***");
            }
        }
        text.trim().to_owned()
    }

    async fn fetch_token(&self) -> Result<Secret, DeviceClientError> {
        let mut url = self.token_url.clone();
        url.query_pairs_mut()
            .append_pair("username", &self.credentials.username)
            .append_pair("password", self.credentials.password.expose());
        let (status, body) = self.get(&url, "token").await?;
        if matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) {
            return Err(DeviceClientError::Credentials {
                status: status.as_u16(),
            });
        }
        if !status.is_success() {
            return Err(DeviceClientError::Rejected {
                status: status.as_u16(),
                message: self.message(&body, None),
            });
        }
        let token = Secret::new(body::decode_token(&body)?);
        tracing::info!("access token fetched");
        Ok(token)
    }

    /// The access token the client uses: the cached one, or a freshly fetched one when
    /// there is none (the token is long-lived). For callers that hand it to another tool;
    /// it is a [`Secret`], redacted in `Debug`, so `expose()` it only onto the wire.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), ffc_device::client::DeviceClientError> {
    /// use ffc_core::Zone;
    /// use ffc_device::client::{DeviceClientConfig, Credentials, DeviceClient};
    /// let client = DeviceClient::new(
    ///     DeviceClientConfig::new("http://192.168.2.123/cgi-bin/", Zone::UTC),
    ///     Credentials::new("admin", "123456"),
    /// )?;
    /// let token = client.token().await?;
    /// assert!(!format!("{token:?}").contains(token.expose()));
    /// # Ok(()) }
    /// ```
    pub async fn token(&self) -> Result<Secret, DeviceClientError> {
        Ok(self.cached_token().await?.1)
    }

    /// The cached token, fetching one if there is none. Held under the lock so concurrent
    /// windows wait for one fetch instead of each making its own.
    async fn cached_token(&self) -> Result<(u64, Secret), DeviceClientError> {
        let mut cache = self.token.lock().await;
        if let Some(t) = &cache.token {
            return Ok((cache.generation, t.clone()));
        }
        let token = self.fetch_token().await?;
        cache.generation += 1;
        cache.token = Some(token.clone());
        Ok((cache.generation, token))
    }

    /// Forgets the token of `generation`, unless another request already replaced it.
    async fn invalidate(&self, generation: u64) {
        let mut cache = self.token.lock().await;
        if cache.generation == generation {
            cache.token = None;
        }
    }

    /// One `apiCount.cgi` request: the records of `query`'s window.
    pub async fn counts(&self, query: &Query) -> Result<CountBody, DeviceClientError> {
        let mut refreshed = false;
        loop {
            let (generation, token) = self.cached_token().await?;
            let mut url = self.count_url.clone();
            {
                let mut pairs = url.query_pairs_mut();
                for (name, value) in query.params() {
                    pairs.append_pair(name, &value);
                }
                pairs.append_pair("access_token", token.expose());
            }
            let (status, body) = self.get(&url, "counts").await?;
            if matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) {
                if refreshed {
                    return Err(DeviceClientError::TokenRefused {
                        status: status.as_u16(),
                    });
                }
                tracing::info!(
                    status = status.as_u16(),
                    "token refused; fetching a new one"
                );
                self.invalidate(generation).await;
                refreshed = true;
                continue;
            }
            if !status.is_success() {
                return Err(DeviceClientError::Rejected {
                    status: status.as_u16(),
                    message: self.message(&body, Some(&token)),
                });
            }
            return Ok(body::decode(query.data_type(), &body, &self.zone)?);
        }
    }

    /// Every bucket of `[from, to)` (UTC, widened to whole buckets) at `resolution`: split
    /// into windows the counter accepts, fetched at most `concurrency` at a time, returned
    /// in time order. `progress` is called after each window, in order.
    pub async fn pull<F>(
        &self,
        from: UnixSeconds,
        to: UnixSeconds,
        resolution: Resolution,
        data_type: DataType,
        mut progress: F,
    ) -> Result<Vec<CountRecord>, PullError>
    where
        F: FnMut(&PullProgress),
    {
        let windows =
            split_range(from, to, resolution, data_type, &self.zone).map_err(|e| PullError {
                records: Vec::new(),
                resume_from: from,
                source: e.into(),
            })?;
        let total = windows.len();
        let mut records = Vec::new();
        let mut fetches = stream::iter(windows.into_iter().map(|w| async move {
            let answer = self.counts(&w.query).await;
            (w, answer)
        }))
        .buffered(self.concurrency);
        let mut done = 0;
        while let Some((window, answer)) = fetches.next().await {
            match answer {
                Ok(body) => {
                    // Only the window's own buckets: a bucket outside it belongs to a
                    // neighbour and would be counted twice.
                    records.extend(
                        body.records
                            .into_iter()
                            .filter(|r| window.query.holds_bucket(r.start)),
                    );
                    done += 1;
                    progress(&PullProgress {
                        windows_done: done,
                        windows_total: total,
                        records: records.len(),
                        complete_until: window.to,
                    });
                }
                Err(source) => {
                    tracing::warn!(resume_from = window.from, error = %source, "pull stopped");
                    return Err(PullError {
                        records,
                        resume_from: window.from,
                        source,
                    });
                }
            }
        }
        Ok(records)
    }
}
