//! The machinery of `tests/soak.rs`: settings, worker processes, a TCP load balancer, the
//! fault loop, the store the workers write to, and the checks.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ffc_core::backoff::RetryPolicy;
use ffc_core::{CameraSerial, CountEvent, Metric, PeopleId, PeopleType, RoiId, Source, UtcOffset};
use ffc_protocols::mqtt::codec::Message;
use ffc_protocols::mqtt::publisher::{Publisher, PublisherConfig};
use ffc_protocols::mqtt::Qos;
use ffc_protocols::ws::sender::{PayloadForm, Sender, SenderConfig};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::process::{Child, Command};
use tokio::task::JoinHandle;

// ---------------------------------------------------------------------------------------
// Settings and randomness.

/// How long and how hard the soak runs.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Seconds of pushing with faults, per path.
    pub seconds: u64,
    /// Simulated counters per path.
    pub counters: u64,
    /// Worker processes per path.
    pub workers: usize,
    /// Events per counter per second.
    pub rate: u64,
    /// The seed of every random choice (fault times, targets, down times).
    pub seed: u64,
}

fn env_u64(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v}: not a number")),
        Err(_) => default,
    }
}

impl Settings {
    pub fn from_env() -> Settings {
        let seed = env_u64(
            "FFC_SOAK_SEED",
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .subsec_nanos() as u64,
        ) | 1;
        Settings {
            seconds: env_u64("FFC_SOAK_SECONDS", 8),
            counters: env_u64("FFC_SOAK_COUNTERS", 12),
            workers: env_u64("FFC_SOAK_WORKERS", 3).max(1) as usize,
            rate: env_u64("FFC_SOAK_RATE", 10).max(1),
            seed,
        }
    }

    /// Events each counter sends.
    pub fn events_per_counter(&self) -> u64 {
        self.seconds * self.rate
    }
}

/// xorshift64: small, seeded, repeatable.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    /// Uniform in `lo..hi` milliseconds.
    pub fn millis(&mut self, lo: u64, hi: u64) -> Duration {
        Duration::from_millis(lo + self.next() % (hi - lo).max(1))
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

// ---------------------------------------------------------------------------------------
// Peers.

/// What the environment provides (scripts/services.d).
pub struct Peers {
    /// The mosquitto binary (`$FFC_MOSQUITTO_BIN`, set with `$FFC_MOSQUITTO_START`).
    pub mosquitto_bin: PathBuf,
    /// `$FFC_PG_START DIR PORT`: a private PostgreSQL cluster.
    pub pg_start: Option<PathBuf>,
}

impl Peers {
    pub fn from_env() -> Option<Peers> {
        let Ok(bin) = std::env::var("FFC_MOSQUITTO_BIN") else {
            let why = "FFC_MOSQUITTO_BIN not set: run through scripts/test.sh or `source scripts/services.sh`";
            if std::env::var_os("CI").is_some() {
                panic!("{why}");
            }
            eprintln!("skipped: {why}");
            return None;
        };
        let pg_start = std::env::var_os("FFC_PG_START").map(PathBuf::from);
        if pg_start.is_none() {
            let why = "FFC_PG_START not set: the soak falls back to file sinks";
            if std::env::var_os("CI").is_some() {
                panic!("{why}");
            }
            eprintln!("soak: {why}");
        }
        Some(Peers {
            mosquitto_bin: PathBuf::from(bin),
            pg_start,
        })
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn signal(pid: u32, sig: &str) {
    let _ = std::process::Command::new("kill")
        .args([sig, &pid.to_string()])
        .stderr(Stdio::null())
        .status();
}

/// Whether `pid` is gone (or a zombie nobody reaped yet: it holds no sockets any more).
fn gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
    }
}

async fn wait_gone(pid: u32) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !gone(pid) {
        assert!(Instant::now() < deadline, "process {pid} did not exit");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

// ---------------------------------------------------------------------------------------
// Worker processes.

/// One worker process (`ws_to_postgres` or `mqtt_workers`, the reference integrations), restartable with the
/// same arguments; its stdout lines are kept for readiness and the final stats.
pub struct Worker {
    pub name: String,
    exe: &'static str,
    args: Vec<String>,
    child: Option<Child>,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Worker {
    pub fn new(name: impl Into<String>, exe: &'static str, args: Vec<String>) -> Worker {
        Worker {
            name: name.into(),
            exe,
            args,
            child: None,
            lines: Arc::default(),
        }
    }

    pub fn spawn(&mut self) {
        let mut child = Command::new(self.exe)
            .args(&self.args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", self.exe));
        let stdout = child.stdout.take().unwrap();
        let lines = self.lines.clone();
        tokio::spawn(async move {
            let mut reader = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = reader.next_line().await {
                lines.lock().unwrap().push(line);
            }
        });
        self.child = Some(child);
    }

    /// Waits until the process printed a line starting with `prefix` (`count` of them).
    pub async fn wait_for_line(&self, prefix: &str, count: usize) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let seen = self
                .lines
                .lock()
                .unwrap()
                .iter()
                .filter(|l| l.starts_with(prefix))
                .count();
            if seen >= count {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{} never printed {prefix:?}",
                self.name
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub fn lines_starting(&self, prefix: &str) -> usize {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.starts_with(prefix))
            .count()
    }

    pub async fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.start_kill();
            let _ = child.wait().await;
        }
    }

    /// SIGTERM, then the last line it printed (its stats).
    pub async fn stop(&mut self) -> String {
        if let Some(mut child) = self.child.take() {
            if let Some(pid) = child.id() {
                signal(pid, "-TERM");
            }
            if tokio::time::timeout(Duration::from_secs(15), child.wait())
                .await
                .is_err()
            {
                let _ = child.start_kill();
                let _ = child.wait().await;
                return format!("{}: did not stop on SIGTERM", self.name);
            }
        }
        // The reader task may still be draining the pipe.
        tokio::time::sleep(Duration::from_millis(50)).await;
        let last = self
            .lines
            .lock()
            .unwrap()
            .last()
            .cloned()
            .unwrap_or_default();
        format!("{}: {last}", self.name)
    }
}

// ---------------------------------------------------------------------------------------
// A private mosquitto.

pub struct Broker {
    bin: PathBuf,
    dir: tempfile::TempDir,
    pub port: u16,
    child: Option<std::process::Child>,
}

impl Broker {
    /// Our own mosquitto (the binary `$FFC_MOSQUITTO_START` runs), persistent, with a
    /// snapshot after every change (`autosave_on_changes`): mosquitto has no write-ahead
    /// log, so this is as crash-safe as it gets.
    pub async fn start(bin: &Path) -> Broker {
        Broker::start_with(bin, true).await
    }

    /// As [`Broker::start`]; `every_change: false` snapshots once a minute instead (each
    /// snapshot writes every queued message, so a large backlog with a snapshot per change
    /// measures mosquitto's disk writes rather than the workers).
    pub async fn start_with(bin: &Path, every_change: bool) -> Broker {
        let mut broker = Broker {
            bin: bin.to_path_buf(),
            dir: tempfile::tempdir().unwrap(),
            port: free_port(),
            child: None,
        };
        let conf = broker.dir.path().join("mosquitto.conf");
        std::fs::write(
            &conf,
            format!(
                "user root\npersistence true\npersistence_location {}/\n{}\n\
                 log_dest file {}/mosquitto.log\nmax_queued_messages 100000\nlistener {} 127.0.0.1\nallow_anonymous true\n",
                broker.dir.path().display(),
                if every_change {
                    "autosave_on_changes true\nautosave_interval 1"
                } else {
                    "autosave_interval 60"
                },
                broker.dir.path().display(),
                broker.port
            ),
        )
        .unwrap();
        broker.restart().await;
        broker
    }

    pub fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }

    /// Asks mosquitto to write its persistence file now (SIGUSR1).
    pub fn save(&self) {
        if let Some(child) = &self.child {
            signal(child.id(), "-USR1");
        }
    }

    pub async fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub async fn restart(&mut self) {
        let conf = self.dir.path().join("mosquitto.conf");
        for _ in 0..100 {
            let mut child = std::process::Command::new(&self.bin)
                .arg("-c")
                .arg(&conf)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            for _ in 0..100 {
                if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                    self.child = Some(child);
                    return;
                }
                if child.try_wait().unwrap().is_some() {
                    break; // the port is still held by the old one: try again
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            let _ = child.kill();
            let _ = child.wait();
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("mosquitto did not start on port {}", self.port);
    }

    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            signal(child.id(), "-TERM");
            let _ = child.wait();
        }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

// ---------------------------------------------------------------------------------------
// The store the workers write to.

/// Where the workers keep events: each worker's own JSON-lines file, or one PostgreSQL.
pub enum Store {
    Files(tempfile::TempDir),
    Postgres(Database),
}

/// A private PostgreSQL cluster (`$FFC_PG_START DIR PORT`) that the soak may kill.
pub struct Database {
    start: PathBuf,
    stop: Option<PathBuf>,
    dir: tempfile::TempDir,
    port: u16,
    pid: Option<u32>,
}

impl Database {
    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn url(&self) -> String {
        format!("postgresql://ffc@127.0.0.1:{}/postgres", self.port)
    }

    async fn launch(&mut self) {
        // After a kill -9 the old backends need a moment to notice and release the shared
        // memory; until then the start fails.
        for _ in 0..100 {
            let out = std::process::Command::new(&self.start)
                .arg(self.data())
                .arg(self.port.to_string())
                .output()
                .unwrap();
            if out.status.success() {
                self.pid = String::from_utf8(out.stdout).unwrap().trim().parse().ok();
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("PostgreSQL did not restart on port {}", self.port);
    }

    /// `(serial, roi, metric, people_type, hour start)` → events, from the view `ffc_records`.
    async fn buckets(&self, prefix: &str) -> HashMap<Bucket, i64> {
        let client = self.client().await;
        let rows = client
            .query(
                "SELECT serial, roi, metric, people_type, extract(epoch FROM hour_start)::bigint, events \
                 FROM ffc_records WHERE serial LIKE $1",
                &[&format!("{prefix}%")],
            )
            .await
            .unwrap();
        rows.iter()
            .map(|r| {
                let serial: String = r.get(0);
                (
                    (
                        serial.parse::<CameraSerial>().unwrap(),
                        r.get::<_, i64>(1) as u32,
                        r.get::<_, i16>(2) as u8,
                        r.get::<_, i16>(3) as u8,
                        r.get::<_, i64>(4),
                    ),
                    r.get::<_, i64>(5),
                )
            })
            .collect()
    }

    async fn events(&self, prefix: &str) -> Vec<CountEvent> {
        let client = self.client().await;
        let rows = client
            .query(
                "SELECT serial, roi, metric, people_type, people_id::text, start_unix, end_unix, \
                 utc_offset_seconds FROM ffc_events WHERE serial LIKE $1",
                &[&format!("{prefix}%")],
            )
            .await
            .unwrap();
        rows.iter()
            .map(|r| CountEvent {
                serial: r.get::<_, String>(0).parse().unwrap(),
                roi: RoiId(r.get::<_, i64>(1) as u32),
                metric: Metric::from_code(r.get::<_, i16>(2) as u64).unwrap(),
                people_type: PeopleType::from_code(r.get::<_, i16>(3) as u64).unwrap(),
                people_id: PeopleId(r.get::<_, String>(4).parse().unwrap()),
                start: r.get(5),
                end: r.get(6),
                offset: UtcOffset::from_seconds(r.get(7)).unwrap(),
                uuid: None,
                source: Source::Mqtt,
            })
            .collect()
    }

    async fn client(&self) -> tokio_postgres::Client {
        let (client, connection) = tokio_postgres::connect(&self.url(), tokio_postgres::NoTls)
            .await
            .expect("the soak's database is up for the checks");
        tokio::spawn(connection);
        client
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Some(stop) = &self.stop {
            let _ = std::process::Command::new(stop)
                .arg(self.data())
                .arg("immediate")
                .output();
        } else if let Some(pid) = self.pid {
            signal(pid, "-KILL");
        }
    }
}

/// An hourly total: serial, roi, metric code, people type code, hour start (UTC, by the
/// event's end, as the PostgreSQL sink buckets).
pub type Bucket = (CameraSerial, u32, u8, u8, i64);

pub fn bucket(e: &CountEvent) -> Bucket {
    (
        e.serial,
        e.roi.0,
        e.metric.code(),
        e.people_type.code(),
        e.end.div_euclid(3600) * 3600,
    )
}

impl Store {
    pub async fn start(peers: &Peers) -> Store {
        if let Some(start) = &peers.pg_start {
            let mut db = Database {
                start: start.clone(),
                stop: std::env::var_os("FFC_PG_STOP").map(PathBuf::from),
                dir: tempfile::tempdir().unwrap(),
                port: free_port(),
                pid: None,
            };
            db.launch().await;
            return Store::Postgres(db);
        }
        let _ = peers;
        Store::Files(tempfile::tempdir().unwrap())
    }

    pub fn describe(&self) -> String {
        match self {
            Store::Files(dir) => format!("JSON-lines files in {}", dir.path().display()),
            Store::Postgres(db) => format!("one PostgreSQL, {}", db.url()),
        }
    }

    /// Whether the store is one database that all workers share.
    pub fn is_shared(&self) -> bool {
        !matches!(self, Store::Files(_))
    }

    /// The sink arguments of a worker named `name`.
    pub fn worker_args(&self, name: &str) -> Vec<String> {
        match self {
            Store::Files(dir) => vec![
                "--events".into(),
                dir.path()
                    .join(format!("{name}.events.jsonl"))
                    .display()
                    .to_string(),
                "--dead-letters".into(),
                dir.path()
                    .join(format!("{name}.dead.jsonl"))
                    .display()
                    .to_string(),
            ],
            Store::Postgres(db) => vec!["--postgres".into(), db.url()],
        }
    }

    /// Whether this store can be killed as a fault target.
    pub fn killable(&self) -> bool {
        self.is_shared()
    }

    pub async fn kill9(&mut self) {
        if let Store::Postgres(db) = self {
            if let Some(pid) = db.pid.take() {
                signal(pid, "-KILL");
                wait_gone(pid).await;
            }
        }
    }

    pub async fn restart(&mut self) {
        if let Store::Postgres(db) = self {
            db.launch().await;
        }
    }

    /// Every stored copy of the events of `path`, grouped by the worker file (or the one
    /// database) that holds it.
    pub async fn load(&self, path: Run) -> Vec<Vec<CountEvent>> {
        match self {
            Store::Files(dir) => {
                let mut out = Vec::new();
                for entry in std::fs::read_dir(dir.path()).unwrap() {
                    let file = entry.unwrap().path();
                    let name = file.file_name().unwrap().to_string_lossy().into_owned();
                    if name.starts_with(&format!("{}-", path.prefix()))
                        && name.ends_with(".events.jsonl")
                    {
                        out.push(ffc_protocols::sink::read_events(&file).unwrap());
                    }
                }
                out
            }
            Store::Postgres(db) => vec![db.events(&path.serial_prefix()).await],
        }
    }

    /// Empties the tables (a measurement starts from nothing).
    pub async fn truncate(&self) {
        if let Store::Postgres(db) = self {
            db.client()
                .await
                .batch_execute(
                    "DO $$ BEGIN IF to_regclass('ffc_events') IS NOT NULL THEN \
                     TRUNCATE ffc_events, ffc_record_totals, ffc_record_deltas; END IF; END $$",
                )
                .await
                .unwrap();
        }
    }

    /// How many events of `path` the store holds (all copies).
    pub async fn count(&self, path: Run) -> usize {
        match self {
            Store::Postgres(db) => {
                let row = db
                    .client()
                    .await
                    .query_one(
                        "SELECT count(*) FROM ffc_events WHERE serial LIKE $1",
                        &[&format!("{}%", path.serial_prefix())],
                    )
                    .await
                    .unwrap();
                row.get::<_, i64>(0) as usize
            }
            _ => self.load(path).await.iter().map(Vec::len).sum(),
        }
    }

    /// The store's own hourly totals, where it keeps them (PostgreSQL's view `ffc_records`:
    /// the folded totals plus the deltas not folded yet).
    pub async fn buckets(&self, path: Run) -> Option<HashMap<Bucket, i64>> {
        match self {
            Store::Files(_) => {
                let _ = path;
                None
            }
            Store::Postgres(db) => Some(db.buckets(&path.serial_prefix()).await),
        }
    }
}

// ---------------------------------------------------------------------------------------
// A TCP load balancer in front of the WebSocket receivers.

/// Hands each accepted connection to the next backend (round-robin) that accepts a TCP
/// connection, then copies bytes both ways. A receiver that is down is skipped, which is
/// what a load balancer's failed connect or health check does.
pub struct Balancer {
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Balancer {
    pub async fn start(backends: Vec<SocketAddr>) -> Balancer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let next = Arc::new(AtomicUsize::new(0));
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    continue;
                };
                let backends = backends.clone();
                let first = next.fetch_add(1, Ordering::Relaxed);
                tokio::spawn(async move {
                    for i in 0..backends.len() {
                        let backend = backends[(first + i) % backends.len()];
                        if let Ok(Ok(mut upstream)) = tokio::time::timeout(
                            Duration::from_secs(1),
                            TcpStream::connect(backend),
                        )
                        .await
                        {
                            let _ = upstream.set_nodelay(true);
                            let _ = client.set_nodelay(true);
                            let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                            return;
                        }
                    }
                    // No receiver up: closing the connection makes the counter retry.
                });
            }
        });
        Balancer { addr, task }
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

// ---------------------------------------------------------------------------------------
// Events.

/// The three runs use disjoint serial ranges, so they can share one database.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Run {
    Ws,
    MqttQos1,
    MqttQos1BrokerCrash,
    MqttQos0,
}

impl Run {
    fn base(self) -> u64 {
        match self {
            Run::Ws => 0x5a00_0000_0000_0000,
            Run::MqttQos1 => 0x5b00_0000_0000_0000,
            Run::MqttQos1BrokerCrash => 0x5d00_0000_0000_0000,
            Run::MqttQos0 => 0x5c00_0000_0000_0000,
        }
    }
    /// The serial's first two hex digits, shared by every counter of the path.
    pub fn serial_prefix(self) -> String {
        format!("{:02x}", self.base() >> 56)
    }
    pub fn name(self) -> &'static str {
        match self {
            Run::Ws => "WebSocket behind a load balancer",
            Run::MqttQos1 => "MQTT QoS 1, persistent sessions, shared subscription",
            Run::MqttQos1BrokerCrash => {
                "MQTT QoS 1, persistent sessions, shared subscription, broker killed too"
            }
            Run::MqttQos0 => "MQTT QoS 0, clean sessions, shared subscription",
        }
    }
    pub fn prefix(self) -> &'static str {
        match self {
            Run::Ws => "ws",
            Run::MqttQos1 => "q1",
            Run::MqttQos1BrokerCrash => "q1b",
            Run::MqttQos0 => "q0",
        }
    }
}

pub fn serial(path: Run, counter: u64) -> CameraSerial {
    CameraSerial::from_u64(path.base() + counter)
}

/// The `n`th event of a counter: both lines, both directions, some staff, spread over
/// several quarter-hours.
pub fn event(path: Run, counter: u64, n: u64) -> CountEvent {
    let start = 1_764_460_800 + (n as i64) * 37 + (counter as i64 % 7);
    CountEvent {
        serial: serial(path, counter),
        roi: RoiId(1 + (n % 2) as u32),
        metric: if n.is_multiple_of(3) {
            Metric::Out
        } else {
            Metric::In
        },
        people_type: if n.is_multiple_of(11) {
            PeopleType::Staff
        } else {
            PeopleType::Visitor
        },
        people_id: PeopleId(n),
        start,
        end: start + 1 + (n % 3) as i64,
        offset: UtcOffset::from_seconds(3600).unwrap(),
        uuid: None,
        source: match path {
            Run::Ws => Source::WebSocket,
            _ => Source::Mqtt,
        },
    }
}

/// What identifies an event in the soak (people ids are unique per counter).
pub type Id = (CameraSerial, u64);

fn id(e: &CountEvent) -> Id {
    (e.serial, e.people_id.0)
}

/// The fields a transport must carry unchanged (the form adds a UUID and a source).
fn same_content(a: &CountEvent, b: &CountEvent) -> bool {
    (
        a.serial,
        a.roi,
        a.metric,
        a.people_type,
        a.people_id,
        a.start,
        a.end,
        a.offset,
    ) == (
        b.serial,
        b.roi,
        b.metric,
        b.people_type,
        b.people_id,
        b.start,
        b.end,
        b.offset,
    )
}

// ---------------------------------------------------------------------------------------
// Faults.

/// What can be killed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Target {
    Worker(usize),
    Broker,
    Database,
}

/// The systems under fault.
pub struct Rig<'a> {
    pub workers: &'a mut [Worker],
    pub broker: Option<&'a mut Broker>,
    pub store: &'a mut Store,
}

/// Kills a random target with SIGKILL, keeps it down a random moment, restarts it;
/// repeated until `until`. The first faults go to each kind of target once (shuffled), so
/// even a short run hits workers, broker and database. Returns the kill counts.
pub async fn fault_loop(rig: &mut Rig<'_>, rng: &mut Rng, until: Instant) -> BTreeMap<String, u32> {
    let mut kinds = vec![Target::Worker(0)];
    if rig.broker.is_some() {
        kinds.push(Target::Broker);
    }
    if rig.store.killable() {
        kinds.push(Target::Database);
    }
    // Shuffle the first round.
    for i in (1..kinds.len()).rev() {
        kinds.swap(i, rng.below(i + 1));
    }
    let mut kills = BTreeMap::new();
    let mut round = 0usize;
    loop {
        tokio::time::sleep(rng.millis(300, 1500)).await;
        // The first round (every kind once) always completes, so each run kills a worker,
        // the database when it is private and the broker when faulted, whatever the seed.
        if Instant::now() >= until && round >= kinds.len() {
            break;
        }
        let kind = if round < kinds.len() {
            kinds[round]
        } else {
            kinds[rng.below(kinds.len())]
        };
        round += 1;
        let target = match kind {
            Target::Worker(_) => Target::Worker(rng.below(rig.workers.len())),
            other => other,
        };
        let down = rng.millis(50, 1200);
        let name = match target {
            Target::Worker(i) => {
                rig.workers[i].kill9().await;
                rig.workers[i].name.clone()
            }
            Target::Broker => {
                rig.broker.as_deref_mut().unwrap().kill9().await;
                "broker".into()
            }
            Target::Database => {
                rig.store.kill9().await;
                "database".into()
            }
        };
        *kills.entry(name).or_insert(0u32) += 1;
        tokio::time::sleep(down).await;
        match target {
            Target::Worker(i) => rig.workers[i].spawn(),
            Target::Broker => rig.broker.as_deref_mut().unwrap().restart().await,
            Target::Database => rig.store.restart().await,
        }
    }
    kills
}

// ---------------------------------------------------------------------------------------
// Reports and checks.

pub struct Report {
    pub path: Run,
    pub seed: u64,
    /// `None`: nothing may be lost. `Some(why)`: losses are expected and only reported.
    pub loss_expected: Option<&'static str>,
    pub shared_store: bool,
    pub sent: usize,
    pub found: Comparison,
    pub kills: BTreeMap<String, u32>,
    /// Whether the fault loop was given the broker / the database to kill.
    pub broker_faulted: bool,
    pub database_faulted: bool,
    pub worker_stats: Vec<String>,
    pub counter_stats: String,
    pub elapsed: Duration,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "== soak: {} (seed {})", self.path.name(), self.seed)?;
        writeln!(
            f,
            "   sent {}, stored {} distinct, missing {}, extra {}, doubled {}, altered {}, hourly totals off {}, in {:.1} s",
            self.sent,
            self.found.stored,
            self.found.missing.len(),
            self.found.extra.len(),
            self.found.doubled,
            self.found.altered,
            self.found
                .bucket_mismatches
                .map_or("n/a (files)".to_string(), |n| n.to_string()),
            self.elapsed.as_secs_f64()
        )?;
        if !self.shared_store {
            writeln!(
                f,
                "   per-worker files: {} events kept by more than one worker (a shared database dedupes these)",
                self.found.in_several_files
            )?;
        }
        let total: u32 = self.kills.values().sum();
        writeln!(f, "   kill -9: {total} ({:?})", self.kills)?;
        writeln!(f, "   counters: {}", self.counter_stats)?;
        for line in &self.worker_stats {
            writeln!(f, "   {line}")?;
        }
        if !self.found.missing.is_empty() {
            writeln!(
                f,
                "   lost {} of {} ({:.2} %); counter:people ids {}",
                self.found.missing.len(),
                self.sent,
                100.0 * self.found.missing.len() as f64 / self.sent.max(1) as f64,
                ranges(&self.found.missing)
            )?;
        }
        if let Some(why) = self.loss_expected {
            writeln!(f, "   losses are reported, not failed: {why}")?;
        }
        Ok(())
    }
}

/// `counter: a-b c-d; ...` for a sorted list of ids.
fn ranges(ids: &[Id]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < ids.len() {
        let (serial, first) = ids[i];
        let mut last = first;
        let mut j = i + 1;
        while j < ids.len() && ids[j].0 == serial && ids[j].1 == last + 1 {
            last = ids[j].1;
            j += 1;
        }
        let counter = serial.as_u64() & 0xffff;
        out.push_str(&format!("{counter}:{first}-{last} "));
        i = j;
    }
    out
}

impl Report {
    pub fn check(&self) {
        let name = self.path.name();
        let found = &self.found;
        assert!(
            self.kills.keys().any(|k| k != "broker" && k != "database"),
            "{name}: no worker was killed: {:?}",
            self.kills
        );
        for (kind, expected) in [
            ("broker", self.broker_faulted),
            ("database", self.database_faulted),
        ] {
            assert_eq!(
                self.kills.contains_key(kind),
                expected,
                "{name}: kills {:?}",
                self.kills
            );
        }
        assert!(
            found.extra.is_empty(),
            "{name}: stored events never sent: {:?}",
            &found.extra[..found.extra.len().min(10)]
        );
        assert_eq!(found.doubled, 0, "{name}: an event stored twice");
        assert_eq!(
            found.altered, 0,
            "{name}: stored events differ from the sent ones"
        );
        assert_eq!(
            found.bucket_mismatches.unwrap_or(0),
            0,
            "{name}: hourly totals differ from the sum of the stored events"
        );
        if self.loss_expected.is_none() {
            assert!(
                found.missing.is_empty(),
                "{name}: {} events lost: {} (seed {})",
                found.missing.len(),
                ranges(&found.missing),
                self.seed
            );
            assert_eq!(found.stored, self.sent, "{name}: stored set differs");
        }
    }
}

/// What the store holds, measured against what was sent.
pub struct Comparison {
    pub stored: usize,
    pub missing: Vec<Id>,
    pub extra: Vec<Id>,
    pub doubled: usize,
    pub in_several_files: usize,
    pub altered: usize,
    /// `None` where the store keeps no totals of its own (files).
    pub bucket_mismatches: Option<usize>,
}

/// Compares what the store holds against what was sent.
pub async fn compare(path: Run, store: &Store, sent: &HashMap<Id, CountEvent>) -> Comparison {
    let groups = store.load(path).await;
    let mut copies: HashMap<Id, usize> = HashMap::new();
    let mut doubled = 0;
    let mut altered = 0;
    let mut extra = Vec::new();
    let mut held: HashMap<Id, CountEvent> = HashMap::new();
    for group in &groups {
        let mut seen = HashSet::new();
        for e in group {
            let key = id(e);
            if !seen.insert(key) {
                doubled += 1;
            }
            match sent.get(&key) {
                None => extra.push(key),
                Some(original) => {
                    if !same_content(original, e) {
                        altered += 1;
                    }
                }
            }
            held.insert(key, *e);
        }
        for key in seen {
            *copies.entry(key).or_default() += 1;
        }
    }
    let in_several_files = copies.values().filter(|&&n| n > 1).count();
    let mut missing: Vec<Id> = sent
        .keys()
        .filter(|k| !held.contains_key(k))
        .copied()
        .collect();
    missing.sort();
    // The store's hourly totals must be exactly the sum of the events it holds: each stored
    // event counted once, a duplicate never.
    let bucket_mismatches = store.buckets(path).await.map(|got| {
        let mut expected: HashMap<Bucket, i64> = HashMap::new();
        for e in held.values() {
            *expected.entry(bucket(e)).or_default() += 1;
        }
        expected
            .iter()
            .filter(|(k, v)| got.get(k) != Some(v))
            .count()
            + got.keys().filter(|k| !expected.contains_key(k)).count()
    });
    Comparison {
        stored: held.len(),
        missing,
        extra,
        doubled,
        in_several_files,
        altered,
        bucket_mismatches,
    }
}

// ---------------------------------------------------------------------------------------
// The WebSocket run.

/// Outbox capacity of a simulated counter; the pacing never lets it overflow.
const OUTBOX: usize = 2048;

/// Spawns every worker, then waits until each one printed its readiness line.
pub async fn start_all(workers: &mut [Worker], ready: &str) {
    for w in workers.iter_mut() {
        w.spawn();
    }
    for w in workers.iter() {
        w.wait_for_line(ready, 1).await;
    }
}

/// Starts `n` `ws_to_postgres` receivers (named `{prefix}-{i}`) writing into `store`, waits until
/// each listens, and puts a round-robin load balancer in front of them.
pub async fn start_ws_receivers(store: &Store, n: usize, prefix: &str) -> (Vec<Worker>, Balancer) {
    let ports: Vec<u16> = (0..n).map(|_| free_port()).collect();
    let mut workers: Vec<Worker> = ports
        .iter()
        .enumerate()
        .map(|(i, port)| {
            let name = format!("{prefix}-{i}");
            let mut args = vec!["--bind".to_string(), format!("127.0.0.1:{port}")];
            args.extend(store.worker_args(&name));
            Worker::new(name, env!("CARGO_BIN_EXE_ws_to_postgres"), args)
        })
        .collect();
    start_all(&mut workers, "listening").await;
    let backends = ports
        .iter()
        .map(|p| SocketAddr::from(([127, 0, 0, 1], *p)))
        .collect();
    (workers, Balancer::start(backends).await)
}

pub async fn ws_run(
    settings: &Settings,
    _peers: &Peers,
    store: &mut Store,
    rng: &mut Rng,
) -> Report {
    let path = Run::Ws;
    let started = Instant::now();
    let (mut workers, balancer) = start_ws_receivers(store, settings.workers, "ws-receiver").await;

    let per_counter = settings.events_per_counter();
    let interval = Duration::from_micros(1_000_000 / settings.rate);
    let mut counters = Vec::new();
    for c in 0..settings.counters {
        let mut config = SenderConfig::new(format!("ws://{}/counter/{c}", balancer.addr));
        config.retry = RetryPolicy::forever(Duration::from_millis(20), Duration::from_millis(500));
        config.ack_timeout = Duration::from_secs(10);
        config.connect_timeout = Duration::from_secs(3);
        if c % 2 == 1 {
            config.form = PayloadForm::Pro2;
        }
        counters.push(tokio::spawn(async move {
            let mut sender: Sender<OUTBOX> = Sender::new(config);
            let start = tokio::time::Instant::now();
            let mut next = 0u64;
            let mut backoff = Duration::from_millis(20);
            loop {
                // Generate what is due (as a counter counts people), never past the outbox.
                let due = ((start.elapsed().as_micros() / interval.as_micros().max(1)) as u64 + 1)
                    .min(per_counter);
                while next < due && sender.outbox().len() < OUTBOX - 1 {
                    sender.push(event(path, c, next)).unwrap();
                    next += 1;
                }
                if sender.outbox().is_empty() {
                    if next == per_counter {
                        break;
                    }
                    tokio::time::sleep_until(start + interval * (next as u32)).await;
                    continue;
                }
                match sender.send_next().await {
                    Ok(_) => backoff = Duration::from_millis(20),
                    Err(_) => {
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(Duration::from_millis(500));
                    }
                }
            }
            sender.stats()
        }));
    }

    let until = Instant::now() + Duration::from_secs(settings.seconds);
    let kills = fault_loop(
        &mut Rig {
            workers: &mut workers,
            broker: None,
            store,
        },
        rng,
        until,
    )
    .await;

    let mut sent_total = 0;
    let mut acknowledged = 0;
    let mut failures = 0;
    for counter in counters {
        let stats = tokio::time::timeout(Duration::from_secs(180), counter)
            .await
            .expect("every counter delivers its outbox once the faults stop")
            .unwrap();
        sent_total += stats.sent;
        acknowledged += stats.acknowledged;
        failures += stats.failures;
    }
    let mut worker_stats = Vec::new();
    for w in &mut workers {
        worker_stats.push(w.stop().await);
    }
    drop(balancer);

    let sent: HashMap<Id, CountEvent> = (0..settings.counters)
        .flat_map(|c| (0..per_counter).map(move |n| event(path, c, n)))
        .map(|e| (id(&e), e))
        .collect();
    let found = compare(path, store, &sent).await;
    Report {
        path,
        seed: settings.seed,
        loss_expected: None,
        shared_store: store.is_shared(),
        sent: sent.len(),
        found,
        kills,
        broker_faulted: false,
        database_faulted: store.killable(),
        worker_stats,
        counter_stats: format!(
            "{acknowledged} acknowledged, {} sent more than once, {failures} failed attempts",
            sent_total - acknowledged
        ),
        elapsed: started.elapsed(),
    }
}

// ---------------------------------------------------------------------------------------
// The MQTT runs.

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Qos1 {
    Yes,
    No,
}

/// `path`: [`Run::MqttQos1`] (workers and database killed, the broker stays up),
/// [`Run::MqttQos1BrokerCrash`] or [`Run::MqttQos0`] (the broker killed too).
pub async fn mqtt_run(
    settings: &Settings,
    peers: &Peers,
    store: &mut Store,
    rng: &mut Rng,
    path: Run,
) -> Report {
    let qos1 = if path == Run::MqttQos0 {
        Qos1::No
    } else {
        Qos1::Yes
    };
    let broker_faults = path != Run::MqttQos1;
    let started = Instant::now();
    let broker = Broker::start(&peers.mosquitto_bin).await;
    let mut workers: Vec<Worker> = (0..settings.workers)
        .map(|i| {
            let name = format!("{}-mqtt-worker-{i}", path.prefix());
            let mut args = vec![
                "--broker".to_string(),
                broker.url(),
                "--client-id".into(),
                name.clone(),
                "--group".into(),
                "soak".into(),
                "--filter".into(),
                "/status/+".into(),
            ];
            if qos1 == Qos1::Yes {
                args.extend(["--qos".into(), "1".into(), "--persistent".into()]);
            } else {
                args.extend(["--qos".into(), "0".into()]);
            }
            args.extend(store.worker_args(&name));
            Worker::new(name, env!("CARGO_BIN_EXE_mqtt_workers"), args)
        })
        .collect();
    start_all(&mut workers, "worker 0 subscribed").await;
    if qos1 == Qos1::Yes {
        // The persistent sessions must be in the broker's persistence file before the
        // first kill -9, or a restarted broker would not know the group.
        broker.save();
        tokio::time::sleep(Duration::from_millis(1500)).await;
    }

    let per_counter = settings.events_per_counter();
    let interval = Duration::from_micros(1_000_000 / settings.rate);
    let mut publishers = Vec::new();
    for c in 0..settings.counters {
        let mut config = PublisherConfig::new(&broker.url(), serial(path, c)).unwrap();
        config.retry = RetryPolicy::forever(Duration::from_millis(20), Duration::from_millis(500));
        if qos1 == Qos1::Yes {
            config.qos = Qos::AtLeastOnce;
            config.clean_session = false;
        }
        let publisher = Publisher::connect(config).await.unwrap();
        publishers.push(tokio::spawn(async move {
            let start = tokio::time::Instant::now();
            let mut published = Vec::new();
            for n in 0..per_counter {
                tokio::time::sleep_until(start + interval * (n as u32)).await;
                let e = event(path, c, n);
                if publisher.publish(&Message::Count(e)).await.is_ok() {
                    published.push(e);
                }
            }
            // At QoS 0 a publish lost with its connection is never written, so `flush` would
            // wait for it forever: wait briefly and move on.
            let patience = Duration::from_secs(if qos1 == Qos1::Yes { 180 } else { 5 });
            let flushed = tokio::time::timeout(patience, publisher.flush()).await;
            publisher.close().await;
            (published, flushed.map(|r| r.is_ok()).unwrap_or(false))
        }));
    }

    let mut broker = broker;
    let until = Instant::now() + Duration::from_secs(settings.seconds);
    let kills = fault_loop(
        &mut Rig {
            workers: &mut workers,
            broker: if broker_faults {
                Some(&mut broker)
            } else {
                None
            },
            store,
        },
        rng,
        until,
    )
    .await;

    let mut sent: HashMap<Id, CountEvent> = HashMap::new();
    let mut unflushed = 0;
    for p in publishers {
        let (published, flushed) = p.await.unwrap();
        if !flushed {
            unflushed += 1;
        }
        // On the exact path every generated event must have been handed to the broker, so
        // `sent` is the whole generated set and a refused publish cannot hide a loss.
        if path == Run::MqttQos1 {
            assert_eq!(
                published.len() as u64,
                per_counter,
                "a QoS 1 publish was refused"
            );
        }
        sent.extend(published.into_iter().map(|e| (id(&e), e)));
    }
    if qos1 == Qos1::Yes {
        assert_eq!(
            unflushed, 0,
            "every QoS 1 publish acknowledged by the broker"
        );
    }
    // Drain: QoS 1 until the store holds everything (bounded); QoS 0 until it stops growing.
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut last = usize::MAX;
    let mut stable_since = Instant::now();
    loop {
        let found = compare(path, store, &sent).await;
        let held = found.stored;
        if found.missing.is_empty() {
            break;
        }
        if held != last {
            last = held;
            stable_since = Instant::now();
        } else if stable_since.elapsed()
            > Duration::from_secs(if path == Run::MqttQos1 { 20 } else { 3 })
        {
            break;
        }
        if Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let mut worker_stats = Vec::new();
    for w in &mut workers {
        worker_stats.push(w.stop().await);
    }
    broker.stop().await;
    let found = compare(path, store, &sent).await;
    Report {
        path,
        seed: settings.seed,
        loss_expected: match path {
            Run::MqttQos0 => Some(
                "QoS 0: what is published while the broker or the worker it was handed to is down is gone",
            ),
            Run::MqttQos1BrokerCrash => Some(
                "mosquitto restores no $share subscription after a restart (messages published before \
                 the workers re-subscribe have no subscriber) and persists by snapshot (a kill -9 loses \
                 what it acknowledged since the last one); use a broker with durable shared sessions",
            ),
            _ => None,
        },
        shared_store: store.is_shared(),
        sent: sent.len(),
        found,
        kills,
        broker_faulted: broker_faults,
        database_faulted: store.killable(),
        worker_stats,
        counter_stats: format!(
            "{} counters published {} events",
            settings.counters,
            sent.len()
        ),
        elapsed: started.elapsed(),
    }
}
