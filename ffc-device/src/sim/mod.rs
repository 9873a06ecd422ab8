//! A counter simulator (feature `sim`): an HTTP/1.1 server on a loopback port that serves
//! `access_token.cgi` and `apiCount.cgi` as a counter does, for tests, benchmarks and demos.
//!
//! - Counts come from ffc-core aggregation ([`Series`]) over a seeded synthetic event
//!   stream ([`Simulator::events`]): the same seed gives the same people on every run.
//! - Bodies are rendered by [`crate::body`], queries parsed by [`Query::from_params`]: the
//!   client's own codecs, so the simulator cannot drift from them. A bad query gets HTTP 400
//!   with the [`crate::query::QueryError`] message.
//! - Credentials are configurable and compared in constant time; [`Simulator::revoke_tokens`]
//!   makes the current token invalid, as a counter reset would.
//! - [`Simulator::inject`] queues faults, one per request: a 5xx status, a slow answer, or a
//!   dropped connection (the request is read, then the connection closed unanswered).
//!
//! - [`DeviceSimConfig::with_offline`] switches the counter off for spans of time: no
//!   events and no buckets there.
//!
//! One line starts it and hands back a client set up for it (its URL, zone and the default
//! credentials `admin` / `123456`; with feature `client`):
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use ffc_device::sim::{DeviceSimConfig, Simulator};
//! let (sim, client) = Simulator::start_with_client(DeviceSimConfig::default()).await?;
//! assert!(sim.base_url().starts_with("http://127.0.0.1:"));
//! # #[cfg(feature = "client")]
//! assert_eq!(client.zone(), sim.config().zone);
//! # let _ = client;
//! # Ok(()) }
//! ```

use std::borrow::Cow;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use ffc_core::aggregate::{EventColumns, Series};
use ffc_core::rng::SplitMix64;
use ffc_core::{
    CountEvent, CountRecord, Metric, PeopleId, PeopleType, RoiId, Source, Subject, UnixSeconds,
};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use subtle::ConstantTimeEq;
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};

use crate::body;
use crate::query::{Query, TOKEN_PATH};
use crate::secret::{RedactedUrl, Secret};

mod config;

pub use config::DeviceSimConfig;

/// What [`Simulator::start_with_client`] hands back beside the simulator: a
/// [`DeviceClient`](crate::client::DeviceClient) with feature `client`.
#[cfg(feature = "client")]
pub type SimClient = crate::client::DeviceClient;
/// What [`Simulator::start_with_client`] hands back beside the simulator: nothing without
/// feature `client`.
#[cfg(not(feature = "client"))]
pub type SimClient = ();

/// A fault served instead of (or before) one request's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this status (use a 5xx) and a short message.
    Status(u16),
    /// Wait this long, then answer normally.
    Slow(Duration),
    /// Read the request, then close the connection without answering.
    Drop,
    /// Answer normally: a placeholder that puts the next fault at a later request.
    Pass,
}

/// What the simulator has served, for tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SimStats {
    /// `access_token.cgi` requests.
    pub token_requests: u64,
    /// Tokens issued (credentials accepted).
    pub tokens_issued: u64,
    /// `apiCount.cgi` requests.
    pub count_requests: u64,
    /// Count requests refused for a missing or wrong token.
    pub token_refusals: u64,
    /// Count requests refused with 400.
    pub bad_queries: u64,
    /// Faults served.
    pub faults: u64,
    /// The most count requests served at the same time.
    pub max_in_flight: u64,
}

#[derive(Default)]
struct Counters {
    token_requests: AtomicU64,
    tokens_issued: AtomicU64,
    count_requests: AtomicU64,
    token_refusals: AtomicU64,
    bad_queries: AtomicU64,
    faults: AtomicU64,
    in_flight: AtomicU64,
    max_in_flight: AtomicU64,
}

/// Counts one count request in flight for as long as it lives.
struct InFlight<'a>(&'a Counters);

impl<'a> InFlight<'a> {
    fn enter(c: &'a Counters) -> Self {
        let now = c.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        c.max_in_flight.fetch_max(now, Ordering::SeqCst);
        InFlight(c)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

struct State {
    config: DeviceSimConfig,
    generation: AtomicU64,
    faults: Mutex<VecDeque<Fault>>,
    counters: Counters,
}

/// A running simulated counter; the server stops when this is dropped.
pub struct Simulator {
    addr: SocketAddr,
    state: Arc<State>,
    server: JoinHandle<()>,
}

impl Drop for Simulator {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulator")
            .field("addr", &self.addr)
            .field("config", &self.state.config)
            .finish_non_exhaustive()
    }
}

/// The error that makes hyper close a connection without answering.
#[derive(Debug)]
struct DropConnection;

impl std::fmt::Display for DropConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("injected fault: connection dropped")
    }
}

impl std::error::Error for DropConnection {}

/// Share of the peak rate by local hour: closed at night, busiest at lunch and evening.
const DAY_PROFILE: [u8; 24] = [
    0, 0, 0, 0, 0, 0, 2, 10, 30, 50, 60, 80, 100, 90, 70, 65, 75, 90, 85, 60, 40, 20, 5, 1,
];

impl State {
    fn token(&self) -> String {
        let generation = self.generation.load(Ordering::SeqCst);
        let mut rng =
            SplitMix64::new(self.config.seed ^ generation.wrapping_mul(0x2545_f491_4f6c_dd1d));
        format!(
            "sim{generation}.{:016x}{:016x}",
            rng.next_u64(),
            rng.next_u64()
        )
    }

    /// The events of one UTC hour, the same for the same seed.
    fn hour_events(&self, hour: i64, out: &mut Vec<CountEvent>) {
        let c = &self.config;
        let start = hour * 3600;
        let mut rng = SplitMix64::new(c.seed ^ (hour as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let local_hour = c.zone.local_seconds(start).rem_euclid(86_400) / 3600;
        let share = DAY_PROFILE
            .get(usize::try_from(local_hour).unwrap_or(0))
            .copied()
            .unwrap_or(0);
        let mean = u64::from(c.peak_per_hour) * u64::from(share) / 100;
        // Uniform on [mean/2, 3·mean/2]: about `mean` people, never the same twice.
        let n = mean / 2 + rng.below(mean + 1);
        for i in 0..n {
            let end = start + rng.below(3600) as i64;
            let metric = if rng.below(2) == 0 {
                Metric::In
            } else {
                Metric::Out
            };
            let people_type = if rng.below(20) == 0 {
                PeopleType::Staff
            } else {
                PeopleType::Visitor
            };
            out.push(CountEvent {
                serial: c.serial,
                roi: RoiId(1),
                metric,
                people_type,
                people_id: PeopleId((hour as u64).wrapping_mul(10_000).wrapping_add(i)),
                start: end - 1,
                end,
                offset: c.zone.offset_at(end),
                uuid: None,
                source: Source::Counting,
            });
        }
    }

    fn events(&self, from: UnixSeconds, to: UnixSeconds) -> Vec<CountEvent> {
        let mut out = Vec::new();
        for hour in from.div_euclid(3600)..=(to - 1).div_euclid(3600) {
            self.hour_events(hour, &mut out);
        }
        out.retain(|e| e.end >= from && e.end < to && !self.config.is_offline(e.end));
        out.sort_by_key(|e| e.end);
        out
    }

    fn records(&self, query: &Query) -> Vec<CountRecord> {
        let zone = self.config.zone;
        let resolution = query.resolution();
        let first = resolution.bucket_start(query.start(), &zone);
        let end =
            resolution.next_start(resolution.bucket_start(query.end_inclusive(), &zone), &zone);
        let mut series = Series::new(resolution, zone);
        // A pull of days holds many events: binned from their columns, not one by one.
        series.add_columns(&EventColumns::from_events(&self.events(first, end)));
        // A counter that was up reports zeros, not gaps.
        series.cover(first, end);
        series
            .iter()
            .filter(|(start, _)| query.holds_bucket(*start) && !self.config.is_offline(*start))
            .map(|(start, bucket)| CountRecord {
                subject: Subject::Counter(self.config.serial),
                start,
                length: u32::try_from(resolution.next_start(start, &zone) - start).unwrap_or(0),
                offset: zone.offset_at(start),
                count_in: bucket.counts.visitors_in,
                count_out: bucket.counts.visitors_out,
                outside: None,
                source: Source::DevicePull,
            })
            .collect()
    }

    fn next_fault(&self) -> Option<Fault> {
        let fault = self
            .faults
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop_front();
        if fault.is_some_and(|f| f != Fault::Pass) {
            self.counters.faults.fetch_add(1, Ordering::SeqCst);
        }
        fault
    }
}

fn answer(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Bytes>,
) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static(content_type),
    );
    response
}

fn error(status: StatusCode, message: &str) -> Response<Full<Bytes>> {
    let body = serde_json::json!({ "error": message }).to_string();
    answer(status, "application/json", body)
}

fn secret_matches(given: Option<&str>, expected: &str) -> subtle::Choice {
    // Length differences show; contents are compared in constant time.
    given.unwrap_or("").as_bytes().ct_eq(expected.as_bytes())
}

async fn handle(
    state: Arc<State>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, DropConnection> {
    let uri = request.uri().clone();
    tracing::debug!(
        method = %request.method(),
        uri = %RedactedUrl(uri.path_and_query().map_or("", |p| p.as_str())),
        "simulator request"
    );
    match state.next_fault() {
        Some(Fault::Drop) => {
            tracing::debug!("injected fault: dropping the connection");
            return Err(DropConnection);
        }
        Some(Fault::Status(code)) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return Ok(error(status, "injected failure"));
        }
        Some(Fault::Slow(delay)) => tokio::time::sleep(delay).await,
        Some(Fault::Pass) | None => {}
    }
    if request.method() != Method::GET {
        return Ok(error(StatusCode::METHOD_NOT_ALLOWED, "GET only"));
    }
    let params: Vec<(Cow<'_, str>, Cow<'_, str>)> =
        form_urlencoded::parse(uri.query().unwrap_or("").as_bytes()).collect();
    let Some(cgi) = uri.path().strip_prefix("/cgi-bin/") else {
        return Ok(error(StatusCode::NOT_FOUND, "no such path"));
    };
    if cgi == TOKEN_PATH {
        return Ok(serve_token(&state, &params));
    }
    if cgi != state.config.count_path {
        return Ok(error(StatusCode::NOT_FOUND, "no such CGI"));
    }
    Ok(serve_counts(&state, &params).await)
}

/// The value of query parameter `name`, if present.
fn param<'p>(params: &'p [(Cow<'_, str>, Cow<'_, str>)], name: &str) -> Option<&'p str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_ref())
}

/// `access_token.cgi`: a token for the right username and password, 401 otherwise.
fn serve_token(state: &State, params: &[(Cow<'_, str>, Cow<'_, str>)]) -> Response<Full<Bytes>> {
    let config = &state.config;
    let counters = &state.counters;
    counters.token_requests.fetch_add(1, Ordering::SeqCst);
    let ok = secret_matches(param(params, "username"), &config.username)
        & secret_matches(param(params, "password"), config.password.expose());
    if !bool::from(ok) {
        return error(StatusCode::UNAUTHORIZED, "invalid username or password");
    }
    counters.tokens_issued.fetch_add(1, Ordering::SeqCst);
    let body = serde_json::json!({ "access_token": state.token() }).to_string();
    answer(StatusCode::OK, "application/json", body)
}

/// The count CGI: the records of a valid query with the current token, in its format.
async fn serve_counts(
    state: &State,
    params: &[(Cow<'_, str>, Cow<'_, str>)],
) -> Response<Full<Bytes>> {
    let config = &state.config;
    let counters = &state.counters;
    counters.count_requests.fetch_add(1, Ordering::SeqCst);
    let _in_flight = InFlight::enter(counters);
    if !bool::from(secret_matches(
        param(params, "access_token"),
        &state.token(),
    )) {
        counters.token_refusals.fetch_add(1, Ordering::SeqCst);
        return error(StatusCode::UNAUTHORIZED, "invalid or expired access token");
    }
    let query = match Query::from_params(
        params.iter().map(|(k, v)| (k.as_ref(), v.as_ref())),
        &config.zone,
    ) {
        Ok(q) => q,
        Err(e) => {
            counters.bad_queries.fetch_add(1, Ordering::SeqCst);
            return error(StatusCode::BAD_REQUEST, &e.to_string());
        }
    };
    if !config.latency.is_zero() {
        tokio::time::sleep(config.latency).await;
    }
    let records = state.records(&query);
    let body = body::encode(
        query.data_type(),
        config.serial,
        &config.name,
        query.resolution(),
        &records,
    );
    let content_type = match query.data_type() {
        crate::query::DataType::Json => "application/json",
        crate::query::DataType::Xml => "application/xml",
    };
    answer(StatusCode::OK, content_type, body)
}

impl Simulator {
    /// Binds a free port on 127.0.0.1 and starts serving on the current tokio runtime.
    pub async fn start(config: DeviceSimConfig) -> std::io::Result<Simulator> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(State {
            config,
            generation: AtomicU64::new(1),
            faults: Mutex::new(VecDeque::new()),
            counters: Counters::default(),
        });
        let shared = Arc::clone(&state);
        let server = tokio::spawn(async move {
            // Connections live in the set, so aborting the server ends them too.
            let mut connections = JoinSet::new();
            loop {
                let stream = match listener.accept().await {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        tracing::warn!(error = %e, "simulator accept failed");
                        continue;
                    }
                };
                let state = Arc::clone(&shared);
                let service =
                    hyper::service::service_fn(move |request| handle(Arc::clone(&state), request));
                connections.spawn(async move {
                    let io = hyper_util::rt::TokioIo::new(stream);
                    if let Err(e) = hyper::server::conn::http1::Builder::new()
                        .serve_connection(io, service)
                        .await
                    {
                        tracing::debug!(error = %e, "simulator connection ended");
                    }
                });
                // Reap finished connections so the set does not grow without bound.
                while connections.try_join_next().is_some() {}
            }
        });
        tracing::info!(%addr, "simulator listening");
        Ok(Simulator {
            addr,
            state,
            server,
        })
    }

    /// [`start`](Self::start)s a simulator and hands back a client set up for it (with
    /// feature `client`; without it, `()`).
    pub async fn start_with_client(
        config: DeviceSimConfig,
    ) -> std::io::Result<(Simulator, SimClient)> {
        let sim = Simulator::start(config).await?;
        #[cfg(feature = "client")]
        let client = sim.client().map_err(std::io::Error::other)?;
        #[cfg(not(feature = "client"))]
        let client = ();
        Ok((sim, client))
    }

    /// A client for this simulator: its base URL, zone, count path and credentials.
    #[cfg(feature = "client")]
    pub fn client(&self) -> Result<crate::client::DeviceClient, crate::client::DeviceClientError> {
        let c = &self.state.config;
        let config = crate::client::DeviceClientConfig::new(self.base_url(), c.zone)
            .with_count_path(c.count_path.clone());
        let credentials = crate::client::Credentials::new(c.username.clone(), c.password.clone());
        crate::client::DeviceClient::new(config, credentials)
    }

    /// The address served.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The CGI directory URL, e.g. `http://127.0.0.1:40123/cgi-bin/`.
    pub fn base_url(&self) -> String {
        format!("http://{}/cgi-bin/", self.addr)
    }

    /// The configuration served.
    pub fn config(&self) -> &DeviceSimConfig {
        &self.state.config
    }

    /// Makes the current token invalid; the next `access_token.cgi` call issues a new one.
    pub fn revoke_tokens(&self) {
        self.state.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// The token currently accepted (for tests that look for it where it must not be).
    pub fn current_token(&self) -> Secret {
        Secret::new(self.state.token())
    }

    /// Queues faults, served one per request (of either CGI) in order.
    pub fn inject(&self, faults: impl IntoIterator<Item = Fault>) {
        self.state
            .faults
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(faults);
    }

    /// Counts of what has been served.
    pub fn stats(&self) -> SimStats {
        let c = &self.state.counters;
        let load = |a: &AtomicU64| a.load(Ordering::SeqCst);
        SimStats {
            token_requests: load(&c.token_requests),
            tokens_issued: load(&c.tokens_issued),
            count_requests: load(&c.count_requests),
            token_refusals: load(&c.token_refusals),
            bad_queries: load(&c.bad_queries),
            faults: load(&c.faults),
            max_in_flight: load(&c.max_in_flight),
        }
    }

    /// The synthetic crossings ending in `[from, to)`, in time order.
    pub fn events(&self, from: UnixSeconds, to: UnixSeconds) -> Vec<CountEvent> {
        if to <= from {
            return Vec::new();
        }
        self.state.events(from, to)
    }

    /// The records the simulator answers `query` with (visitors only, as A01/A02).
    pub fn records(&self, query: &Query) -> Vec<CountRecord> {
        self.state.records(query)
    }
}
