//! A loopback simulator of the V9 endpoints, serving ffc-core roll-ups.
//!
//! It speaks the same [`crate::v9`] codec as the client, binds `127.0.0.1` on a port the
//! kernel picks, and lets tests:
//! * authenticate (credentials compared in constant time) and expire tokens on a
//!   simulated clock ([`Simulator::advance_clock`]) or revoke them;
//! * inject failures per endpoint ([`Simulator::inject`]) to exercise retries;
//! * make the sales import drop rows, so `done < total`;
//! * read back what it saw ([`Simulator::stats`], [`Simulator::sales`]).
//!
//! Data comes from [`SimSite`]s: per-counter hourly series rolled up with
//! [`ffc_core::rollup::rollup_branch`], so a counter without data makes the branch rows
//! partial, exactly as the roll-up says.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::Router;
use chrono::NaiveDate;
use ffc_core::aggregate::Series;
use ffc_core::rollup::BranchSpec;
use ffc_core::{CameraSerial, UnixSeconds, Zone};
use serde_json::json;

mod data;

use crate::secret::Secret;
use crate::v9;
use crate::v9::cube::CubeQuery;
use crate::v9::export::encode_export;
use crate::v9::sales::{by_day, decode_rows, encode_import, ImportResult, SalesRow};
use crate::v9::token::{encode_token, expiry_of, TokenRequest};
use data::{export_rows, load_rows};

/// One simulated branch.
#[derive(Debug, Clone)]
pub struct SimSite {
    /// The branch and its counters.
    pub spec: BranchSpec,
    /// `Site` (branch name).
    pub name: String,
    /// `branchCode` / sales `SiteCode`.
    pub code: String,
    /// The branch's zone.
    pub zone: Zone,
    /// Hourly series per counter; a counter absent here never reported.
    pub counters: BTreeMap<CameraSerial, Series>,
}

/// Simulator settings: [`ServerSimConfig::new`] with the one user's credentials, then
/// the `with_*` setters, like every configuration in ffc.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServerSimConfig {
    /// The one user's e-mail.
    pub email: String,
    /// Its password.
    pub password: Secret,
    /// Token lifetime in seconds; `None` (the default) follows the server's rule
    /// ([`expiry_of`]).
    pub token_lifetime: Option<i64>,
    /// The branches (default none).
    pub sites: Vec<SimSite>,
    /// Answer `load` in the `"queryType":"multi"` shape (default off).
    pub multi_shape: bool,
}

impl ServerSimConfig {
    /// A simulator of one user with these credentials, no branches, the server's token
    /// lifetime and the plain `load` shape.
    pub fn new(email: impl Into<String>, password: Secret) -> Self {
        ServerSimConfig {
            email: email.into(),
            password,
            token_lifetime: None,
            sites: Vec::new(),
            multi_shape: false,
        }
    }

    /// Sets the token lifetime in seconds (`None`: the server's rule).
    #[must_use]
    pub fn with_token_lifetime(mut self, seconds: Option<i64>) -> Self {
        self.token_lifetime = seconds;
        self
    }

    /// Sets the branches.
    #[must_use]
    pub fn with_sites(mut self, sites: Vec<SimSite>) -> Self {
        self.sites = sites;
        self
    }

    /// Answers `load` in the `"queryType":"multi"` shape, or not.
    #[must_use]
    pub fn with_multi_shape(mut self, multi_shape: bool) -> Self {
        self.multi_shape = multi_shape;
        self
    }
}

/// An endpoint, for failure injection and statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Endpoint {
    /// `GenerateAccessToken`.
    Token,
    /// `exportData`.
    Export,
    /// Cube `load`.
    Load,
    /// Sales import.
    Sales,
}

/// A failure to inject into the next request of an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Answer this status with an error message.
    Status(u16),
    /// Answer 200 with a body that is not JSON.
    Garbage,
}

/// What the simulator saw.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Requests per endpoint, failed ones included.
    pub requests: BTreeMap<Endpoint, usize>,
    /// Tokens issued.
    pub tokens_issued: usize,
    /// Requests refused for a missing, unknown or expired token.
    pub unauthorized: usize,
    /// The most `load`/`exportData` requests in flight at once.
    pub max_in_flight: usize,
    /// Cube `load` date ranges in the order received.
    pub load_ranges: Vec<(NaiveDate, NaiveDate)>,
}

#[derive(Default)]
struct Inner {
    tokens: Vec<(Secret, UnixSeconds)>,
    failures: HashMap<Endpoint, VecDeque<Failure>>,
    stats: Stats,
    sales: BTreeMap<(String, NaiveDate), Vec<SalesRow>>,
    drop_rows: u64,
    next_token: u64,
}

struct Shared {
    config: ServerSimConfig,
    clock: AtomicI64,
    in_flight: AtomicUsize,
    inner: Mutex<Inner>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panicking handler cannot leave Inner half-updated in a way that matters to a
        // test double; keep serving.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
    fn now(&self) -> UnixSeconds {
        self.clock.load(Ordering::SeqCst)
    }
}

/// A running simulator; stops when dropped.
pub struct Simulator {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulator")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        self.task.abort();
    }
}

type Reply = (StatusCode, [(header::HeaderName, &'static str); 1], Vec<u8>);

fn reply(status: StatusCode, body: Vec<u8>) -> Reply {
    (status, [(header::CONTENT_TYPE, "application/json")], body)
}

fn error(status: StatusCode, message: &str) -> Reply {
    reply(
        status,
        serde_json::to_vec(&json!({"error": message, "message": message})).unwrap_or_default(),
    )
}

impl Simulator {
    /// Starts on `127.0.0.1` with the simulated clock at `now`.
    pub async fn start(config: ServerSimConfig, now: UnixSeconds) -> std::io::Result<Self> {
        let shared = Arc::new(Shared {
            config,
            clock: AtomicI64::new(now),
            in_flight: AtomicUsize::new(0),
            inner: Mutex::new(Inner::default()),
        });
        let app = Router::new()
            .route(v9::TOKEN_PATH, post(token))
            .route(v9::EXPORT_PATH, get(export))
            .route(v9::LOAD_PATH, post(load))
            .route(v9::SALES_PATH, post(sales))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Simulator { addr, shared, task })
    }

    /// [`start`](Self::start)s a simulator and hands back a [`crate::http::V9Client`]
    /// logged in as its user (with feature `http`).
    #[cfg(feature = "http")]
    pub async fn start_with_client(
        config: ServerSimConfig,
        now: UnixSeconds,
    ) -> std::io::Result<(Self, crate::http::V9Client)> {
        let sim = Simulator::start(config, now).await?;
        let client = sim.client().map_err(std::io::Error::other)?;
        Ok((sim, client))
    }

    /// A client for this simulator with its user's e-mail and password.
    #[cfg(feature = "http")]
    pub fn client(&self) -> Result<crate::http::V9Client, crate::http::ServerClientError> {
        let config = &self.shared.config;
        crate::http::V9Client::new(&self.base_url(), &config.email, config.password.clone())
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The simulated clock.
    pub fn now(&self) -> UnixSeconds {
        self.shared.now()
    }

    /// Moves the simulated clock forward (tokens expire by it).
    pub fn advance_clock(&self, seconds: i64) {
        self.shared.clock.fetch_add(seconds, Ordering::SeqCst);
    }

    /// Revokes every token issued so far.
    pub fn revoke_tokens(&self) {
        self.shared.lock().tokens.clear();
    }

    /// Makes the next request to `endpoint` fail with `failure` (queued, in order).
    pub fn inject(&self, endpoint: Endpoint, failure: Failure) {
        self.shared
            .lock()
            .failures
            .entry(endpoint)
            .or_default()
            .push_back(failure);
    }

    /// Makes the next sales import keep all but `n` of the rows it receives.
    pub fn drop_sales_rows(&self, n: u64) {
        self.shared.lock().drop_rows = n;
    }

    /// What the simulator saw.
    pub fn stats(&self) -> Stats {
        self.shared.lock().stats.clone()
    }

    /// Stored sales, by (site code, day).
    pub fn sales(&self) -> BTreeMap<(String, NaiveDate), Vec<SalesRow>> {
        self.shared.lock().sales.clone()
    }
}

/// Counts the request and pops an injected failure, if any.
fn enter(shared: &Shared, endpoint: Endpoint) -> Option<Reply> {
    let mut inner = shared.lock();
    *inner.stats.requests.entry(endpoint).or_default() += 1;
    match inner
        .failures
        .get_mut(&endpoint)
        .and_then(VecDeque::pop_front)
    {
        Some(Failure::Status(code)) => Some(error(
            StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            "injected failure",
        )),
        Some(Failure::Garbage) => Some(reply(StatusCode::OK, b"<html>oops".to_vec())),
        None => None,
    }
}

/// Checks a presented token in constant time against every live one.
fn authorize(shared: &Shared, presented: Option<&str>) -> Result<(), Reply> {
    let now = shared.now();
    let mut inner = shared.lock();
    let ok = presented.is_some_and(|p| {
        // Fold over every token so the time taken does not say which one matched.
        inner
            .tokens
            .iter()
            .fold(false, |found, (t, exp)| found | (t.ct_eq(p) && now < *exp))
    });
    if ok {
        Ok(())
    } else {
        inner.stats.unauthorized += 1;
        Err(error(
            StatusCode::UNAUTHORIZED,
            "access token missing, unknown or expired",
        ))
    }
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

async fn token(State(shared): State<Arc<Shared>>, body: Bytes) -> Reply {
    if let Some(r) = enter(&shared, Endpoint::Token) {
        return r;
    }
    let req = match TokenRequest::from_body(&body) {
        Ok(r) => r,
        Err(e) => return error(StatusCode::BAD_REQUEST, &e.to_string()),
    };
    let cfg = &shared.config;
    // Both compared in full, constant time, so timing does not tell which was wrong.
    let email_ok = Secret::new(cfg.email.as_str()).ct_eq(&req.email);
    let password_ok = cfg.password.ct_eq(req.password.expose());
    if !(email_ok & password_ok) {
        return error(StatusCode::UNAUTHORIZED, "Invalid email or password");
    }
    let now = shared.now();
    let expires = match cfg.token_lifetime {
        Some(s) => now.saturating_add(s),
        None => expiry_of(req.expiration, now),
    };
    let mut inner = shared.lock();
    inner.next_token += 1;
    let value = Secret::new(format!("sim-{:016x}-{}", now, inner.next_token));
    inner.tokens.push((value.clone(), expires));
    inner.stats.tokens_issued += 1;
    reply(StatusCode::OK, encode_token(&value))
}

struct InFlight<'a>(&'a Shared);
impl<'a> InFlight<'a> {
    fn new(shared: &'a Shared) -> Self {
        let n = shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        let mut inner = shared.lock();
        inner.stats.max_in_flight = inner.stats.max_in_flight.max(n);
        InFlight(shared)
    }
}
impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn export(
    State(shared): State<Arc<Shared>>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Reply {
    let _guard = InFlight::new(&shared);
    tokio::task::yield_now().await;
    if let Some(r) = enter(&shared, Endpoint::Export) {
        return r;
    }
    let presented = params
        .get("access_token")
        .map(String::as_str)
        .or_else(|| header_str(&headers, v9::TOKEN_HEADER));
    if let Err(r) = authorize(&shared, presented) {
        return r;
    }
    let Some(info) = params.get("infoJson") else {
        return error(StatusCode::BAD_REQUEST, "infoJson missing");
    };
    match export_rows(&shared.config, info) {
        Ok(rows) => reply(StatusCode::OK, encode_export(&rows)),
        Err(e) => error(StatusCode::BAD_REQUEST, &e.to_string()),
    }
}

async fn load(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Reply {
    let _guard = InFlight::new(&shared);
    tokio::task::yield_now().await;
    if let Some(r) = enter(&shared, Endpoint::Load) {
        return r;
    }
    let presented = header_str(&headers, header::AUTHORIZATION.as_str())
        .and_then(|v| v.strip_prefix("Bearer "));
    if let Err(r) = authorize(&shared, presented) {
        return r;
    }
    let query = match CubeQuery::from_body(&body) {
        Ok(q) => q,
        Err(e) => return error(StatusCode::BAD_REQUEST, &e.to_string()),
    };
    if let Some(t) = query.time {
        shared.lock().stats.load_ranges.push((t.from, t.to));
    }
    match load_rows(&shared.config, &query) {
        Ok(data) => {
            let body = if shared.config.multi_shape {
                json!({"queryType": "multi", "results": [{"data": data}]})
            } else {
                json!({ "data": data })
            };
            reply(
                StatusCode::OK,
                serde_json::to_vec(&body).unwrap_or_default(),
            )
        }
        Err(e) => error(StatusCode::BAD_REQUEST, &e),
    }
}

async fn sales(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Reply {
    if let Some(r) = enter(&shared, Endpoint::Sales) {
        return r;
    }
    if let Err(r) = authorize(&shared, header_str(&headers, v9::TOKEN_HEADER)) {
        return r;
    }
    let rows = match decode_rows(&body) {
        Ok(r) => r,
        Err(e) => return error(StatusCode::BAD_REQUEST, &e.to_string()),
    };
    let known = |code: &str| shared.config.sites.iter().any(|s| s.code == code);
    let total = rows.len() as u64;
    let mut inner = shared.lock();
    let drop_n = std::mem::take(&mut inner.drop_rows).min(total);
    let kept: Vec<SalesRow> = rows
        .into_iter()
        .take(usize::try_from(total - drop_n).unwrap_or(usize::MAX))
        .filter(|r| known(&r.site_code))
        .collect();
    let done = kept.len() as u64;
    // Replace-by-day: any row on a (site, day) replaces that site's whole day.
    for (day, rows) in by_day(kept) {
        inner.sales.insert(day, rows);
    }
    reply(StatusCode::OK, encode_import(ImportResult { done, total }))
}
