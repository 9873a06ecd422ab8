//! The NATS soak (issue 18): simulated WebSocket counters (through `ffc listen ws --nats`
//! receivers) and MQTT counters (QoS 0 on `/status/<serial>` to a node's MQTT listener,
//! through `ffc listen mqtt --nats` bridges) push a known set while `kill -9` hits each
//! NATS node in turn (the stream's leader first, then the node the MQTT counters use), a
//! receiver, a bridge, a worker (`ffc work --postgres`) and PostgreSQL. At the end
//! PostgreSQL holds exactly the WebSocket set; of the MQTT set nothing is doubled, and what
//! QoS 0 lost in flight is counted. The MQTT counters are also counters with a CGI API
//! (the device simulator on loopback HTTP, whose crossings are exactly what they publish),
//! and one of them has its link cut for a quarter hour; after the soak a backfill pass
//! (`ffc backfill-worker`'s) restores what the MQTT path lost, and the merged records then
//! hold every MQTT event. Then events/s of 1, 2 and 4 workers on one stream.
//!
//! Short form in the test suite; `scripts/soak.sh --nats [SECONDS] [COUNTERS]` runs the
//! long form. Settings (environment): FFC_NATS_SOAK_SECONDS (push phase, default 30),
//! FFC_NATS_SOAK_COUNTERS (per path, default 6), FFC_NATS_SOAK_RATE (events per counter
//! per second, default 4), FFC_NATS_SOAK_THROUGHPUT (events for the worker measurement,
//! default 4000). Needs FFC_NATS_URLS and FFC_PG_START (scripts/services.sh).
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ffc_cli::backfill_worker::pass;
use ffc_core::{
    CameraSerial, CountEvent, Metric, PeopleId, PeopleType, Resolution, RoiId, Source, UtcOffset,
    Zone,
};
use ffc_device::client::{Credentials as DeviceCredentials, DeviceClient, DeviceClientConfig};
use ffc_device::secret::Secret;
use ffc_device::sim::{DeviceSimConfig, Simulator};
use ffc_protocols::mqtt::codec::Message;
use ffc_protocols::mqtt::publisher::{Publisher, PublisherConfig};
use ffc_protocols::mqtt::{Credentials, Qos};
use ffc_protocols::nats::{
    event_subject, message_id, publish_until_acked, NatsConfig, NatsCredentials,
};
use ffc_protocols::sink::postgres::{PgSink, PgSinkConfig};
use ffc_protocols::ws::sender::{Sender, SenderConfig};

/// Where the MQTT counters' crossings start: 2025-10-09 10:00 UTC, within opening hours.
const MQTT_FROM: i64 = 1_760_004_000;
/// The reconciled bucket: a quarter hour.
const QUARTER: i64 = 900;
/// The MQTT counters' password on their CGI API.
const DEVICE_PASSWORD: &str = "pw-soak-device";

/// The MQTT counters as counters with a CGI API: what each publishes is exactly its
/// simulator's crossings over `[MQTT_FROM, to)`, but counter 0's link is cut for its second
/// quarter hour (`withheld`, never published).
struct MqttCounters {
    sims: Vec<Simulator>,
    sets: Vec<Vec<CountEvent>>,
    to: i64,
    withheld: u64,
}

impl MqttCounters {
    /// `counters` simulators, over whole quarter hours until they hold `counters * each`
    /// crossings together.
    async fn start(counters: u64, each: u64) -> MqttCounters {
        let mut sims = Vec::new();
        for c in 0..counters {
            let config = DeviceSimConfig::default()
                .with_serial(CameraSerial::from_u64(0x6000_0000_0000_0000 + c))
                .with_password(Secret::new(DEVICE_PASSWORD))
                .with_seed(c + 1)
                .with_peak_per_hour((each * 2).clamp(200, 10_000) as u32);
            sims.push(Simulator::start(config).await.unwrap());
        }
        let total = |to: i64| -> u64 {
            sims.iter()
                .map(|s| s.events(MQTT_FROM, to).len() as u64)
                .sum()
        };
        let mut to = MQTT_FROM + 2 * QUARTER;
        while total(to) < counters * each && to < MQTT_FROM + 86_400 {
            to += QUARTER;
        }
        let sets: Vec<Vec<CountEvent>> = sims
            .iter()
            .map(|s| {
                let mut set = s.events(MQTT_FROM, to);
                for e in &mut set {
                    e.source = Source::Mqtt;
                }
                set
            })
            .collect();
        let withheld = sets.first().map_or(0, |set| {
            set.iter().filter(|e| Self::cut(0, e)).count() as u64
        });
        MqttCounters {
            sims,
            sets,
            to,
            withheld,
        }
    }

    /// Whether counter `c`'s link is down when `e` would be published.
    fn cut(c: usize, e: &CountEvent) -> bool {
        c == 0 && (MQTT_FROM + QUARTER..MQTT_FROM + 2 * QUARTER).contains(&e.end)
    }

    fn sent(&self) -> u64 {
        self.sets.iter().map(|s| s.len() as u64).sum()
    }

    /// Visitors in and out of every counter's whole set: what the counters counted.
    fn visitors(&self) -> Vec<(String, u64, u64)> {
        self.sets
            .iter()
            .zip(&self.sims)
            .map(|(set, sim)| {
                let visitors = set.iter().filter(|e| e.people_type == PeopleType::Visitor);
                let ins = visitors.clone().filter(|e| e.metric == Metric::In).count();
                let outs = visitors.filter(|e| e.metric == Metric::Out).count();
                (sim.config().serial.to_string(), ins as u64, outs as u64)
            })
            .collect()
    }
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn event(serial: u64, i: u64, source: Source) -> CountEvent {
    CountEvent {
        serial: CameraSerial::from_u64(serial),
        roi: RoiId(1),
        metric: if i.is_multiple_of(2) {
            Metric::In
        } else {
            Metric::Out
        },
        people_type: PeopleType::Visitor,
        people_id: PeopleId(i),
        start: 1_760_000_000 + i as i64,
        end: 1_760_000_001 + i as i64,
        offset: UtcOffset::UTC,
        uuid: None,
        source,
    }
}

/// One `ffc` process that can be killed and started again with the same arguments.
struct Proc {
    name: String,
    args: Vec<String>,
    log: PathBuf,
    child: Option<Child>,
    ready: &'static str,
}

impl Proc {
    fn start(dir: &Path, name: &str, args: Vec<String>, ready: &'static str) -> Proc {
        let mut p = Proc {
            name: name.to_owned(),
            args,
            log: dir.join(format!("{name}.out")),
            child: None,
            ready,
        };
        p.spawn();
        p
    }

    fn spawn(&mut self) {
        let out = std::fs::File::create(&self.log).unwrap();
        let err = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log.with_extension("err"))
            .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_ffc"))
            .args(&self.args)
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .spawn()
            .unwrap();
        self.child = Some(child);
        let started = Instant::now();
        while !std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .contains(self.ready)
        {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                let err =
                    std::fs::read_to_string(self.log.with_extension("err")).unwrap_or_default();
                panic!("{} exited ({status}): {err}", self.name);
            }
            assert!(
                started.elapsed() < Duration::from_secs(90),
                "{} did not start: see {:?}",
                self.name,
                self.log
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().unwrap(); // SIGKILL
            let _ = child.wait();
        }
        eprintln!("soak: kill -9 {}", self.name);
    }

    fn term(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let _ = child.wait();
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn psql(url: &str, sql: &str) -> String {
    let out = Command::new("psql")
        .args([url, "-Atc", sql])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// (rows, distinct events) of the serials starting with `hex` (one hex digit).
fn counts(url: &str, hex: char) -> (u64, u64) {
    let row = psql(
        url,
        &format!("select count(*) || ',' || count(distinct (serial, people_id)) from ffc_events where serial like '{hex}%'"),
    );
    let (a, b) = row.split_once(',').unwrap_or(("0", "0"));
    (a.parse().unwrap_or(0), b.parse().unwrap_or(0))
}

struct Pg {
    dir: PathBuf,
    port: u16,
    start: String,
    pid: String,
}

impl Pg {
    fn start(dir: PathBuf, start: String) -> Pg {
        let port = free_port();
        let mut pg = Pg {
            dir,
            port,
            start,
            pid: String::new(),
        };
        pg.restart();
        pg
    }
    fn restart(&mut self) {
        // After a kill -9 the old backends need a moment to release the shared memory.
        for _ in 0..150 {
            let out = Command::new(&self.start)
                .args([self.dir.to_str().unwrap(), &self.port.to_string()])
                .output()
                .unwrap();
            if out.status.success() {
                self.pid = String::from_utf8_lossy(&out.stdout).trim().to_owned();
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!("PostgreSQL did not restart on port {}", self.port);
    }
    fn kill9(&mut self) {
        let _ = Command::new("kill").args(["-9", &self.pid]).status();
        eprintln!("soak: kill -9 postgres");
    }
    fn url(&self, db: &str) -> String {
        format!("postgresql://ffc@127.0.0.1:{}/{db}", self.port)
    }
}

impl Drop for Pg {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-9", &self.pid]).status();
    }
}

struct Nodes {
    dir: String,
    start: String,
}

impl Nodes {
    fn kill9(&self, n: usize) {
        let pid = std::fs::read_to_string(format!("{}/n{n}.pid", self.dir)).unwrap();
        let _ = Command::new("kill").args(["-9", pid.trim()]).status();
        eprintln!("soak: kill -9 NATS node n{n}");
    }
    fn restart(&self, n: usize) {
        let out = Command::new(&self.start)
            .arg(n.to_string())
            .output()
            .unwrap();
        assert!(out.status.success(), "restart n{n}");
    }
}

fn ffc(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_ffc"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "ffc {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// What scripts/services.sh exports for the NATS runs.
struct Env {
    urls: String,
    pg_start: String,
    dir: String,
    start: String,
    mqtt_ports: String,
    user: String,
    password: String,
}

fn env() -> Option<Env> {
    let var = |name: &str| std::env::var(name).ok();
    let found = (|| {
        Some(Env {
            urls: var("FFC_NATS_URLS")?,
            pg_start: var("FFC_PG_START")?,
            dir: var("FFC_NATS_DIR")?,
            start: var("FFC_NATS_START")?,
            mqtt_ports: var("FFC_NATS_MQTT_PORTS")?,
            user: var("FFC_NATS_USER")?,
            password: var("FFC_NATS_PASSWORD")?,
        })
    })();
    if found.is_none() {
        eprintln!("FFC_NATS_URLS / FFC_PG_START not set (source scripts/services.sh): skipped");
    }
    found
}

impl Env {
    fn jetstream(
        &self,
        rt: &tokio::runtime::Runtime,
    ) -> ffc_protocols::nats::async_nats::jetstream::Context {
        rt.block_on(async {
            NatsConfig::new(&self.urls)
                .with_credentials(NatsCredentials::UserPassword {
                    user: self.user.clone(),
                    password: self.password.clone().into(),
                })
                .jetstream()
                .await
                .unwrap()
        })
    }
}

#[test]
fn nats_soak() {
    let Some(e) = env() else { return };
    let (urls, pg_start, mqtt_ports) = (e.urls.clone(), e.pg_start.clone(), e.mqtt_ports.clone());
    let (dir, start, user, password) = (
        e.dir.clone(),
        e.start.clone(),
        e.user.clone(),
        e.password.clone(),
    );
    let seconds = env_u64("FFC_NATS_SOAK_SECONDS", 30);
    let counters = env_u64("FFC_NATS_SOAK_COUNTERS", 6);
    let rate = env_u64("FFC_NATS_SOAK_RATE", 4).max(1);
    let throughput = env_u64("FFC_NATS_SOAK_THROUGHPUT", 4000);
    let each = seconds * rate;
    let tmp = tempfile::tempdir().unwrap();
    let id = format!("soak{}", std::process::id());
    let stream = id.to_uppercase();
    let nodes = Nodes { dir, start };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();

    // The stream, PostgreSQL, 2 receivers, 2 bridges, 2 workers.
    ffc(&[
        "nats", "init", "--nats", &urls, "--stream", &stream, "--prefix", &id,
    ]);
    let mut pg = Pg::start(tmp.path().join("pg"), pg_start);
    let db = pg.url("postgres");
    let stream_args = |v: &mut Vec<String>| {
        v.extend([
            "--stream".into(),
            stream.clone(),
            "--prefix".into(),
            id.clone(),
        ])
    };
    let ws_ports = [free_port(), free_port()];
    let mut receivers: Vec<Proc> = ws_ports
        .iter()
        .enumerate()
        .map(|(i, port)| {
            let mut args = vec![
                "listen".into(),
                "ws".into(),
                "--bind".into(),
                format!("127.0.0.1:{port}"),
                "--nats".into(),
                urls.clone(),
            ];
            stream_args(&mut args);
            Proc::start(tmp.path(), &format!("receiver{i}"), args, "listening on")
        })
        .collect();
    let mut bridges: Vec<Proc> = (0..2)
        .map(|i| {
            let mut args = vec![
                "listen".into(),
                "mqtt".into(),
                "--nats".into(),
                urls.clone(),
                "--queue".into(),
                format!("{id}-bridge"),
            ];
            stream_args(&mut args);
            Proc::start(tmp.path(), &format!("bridge{i}"), args, "listening on")
        })
        .collect();
    let work_args = |durable: &str, url: &str| {
        let mut args = vec![
            "work".into(),
            "--nats".into(),
            urls.clone(),
            "--durable".into(),
            durable.to_owned(),
            "--postgres".into(),
            url.to_owned(),
            "--ack-wait".into(),
            "5".into(),
        ];
        stream_args(&mut args);
        args
    };
    let mut workers: Vec<Proc> = (0..2)
        .map(|i| {
            Proc::start(
                tmp.path(),
                &format!("worker{i}"),
                work_args("soak", &db),
                "working on",
            )
        })
        .collect();

    // The stream's leader, and the MQTT counters on another node.
    let js = e.jetstream(&rt);
    let leader: usize = rt.block_on(async {
        let mut s = js.get_stream(&stream).await.unwrap();
        let info = s.info().await.unwrap();
        info.cluster
            .as_ref()
            .and_then(|c| c.leader.clone())
            .unwrap_or_default()[1..]
            .parse()
            .unwrap()
    });
    let mqtt_node = if leader == 1 { 2 } else { 1 };
    let mqtt_port = mqtt_ports.split(',').nth(mqtt_node - 1).unwrap().to_owned();
    let third = 6 - leader - mqtt_node;
    eprintln!("soak: {seconds} s, {counters}+{counters} counters at {rate}/s; stream leader n{leader}, MQTT counters on n{mqtt_node}");

    // The counters.
    let mqtt_counters = rt.block_on(MqttCounters::start(counters, each));
    let mqtt_sets = mqtt_counters.sets.clone();
    let push = rt.spawn({
        let (user, password) = (user.clone(), password.clone());
        async move {
            let mut tasks = Vec::new();
            for c in 0..counters {
                let url = format!("ws://127.0.0.1:{}/", ws_ports[(c % 2) as usize]);
                tasks.push(tokio::spawn(async move {
                    let mut sender: Sender = Sender::new(
                        SenderConfig::new(url).with_ack_timeout(Duration::from_secs(90)),
                    );
                    let mut tick = tokio::time::interval(Duration::from_millis(1000 / rate));
                    for i in 0..each {
                        tick.tick().await;
                        sender
                            .push(event(0x5000_0000_0000_0000 + c, i, Source::WebSocket))
                            .unwrap();
                        while sender.send_next().await.unwrap_or(false) {}
                    }
                    sender
                        .deliver_all(Duration::from_secs(300))
                        .await
                        .map(|_| ())
                }));
            }
            let mut mqtt = Vec::new();
            for (c, set) in mqtt_sets.into_iter().enumerate() {
                let serial = CameraSerial::from_u64(0x6000_0000_0000_0000 + c as u64);
                let port = mqtt_port.clone();
                let creds = Credentials::new(&user, password.clone());
                mqtt.push(tokio::spawn(async move {
                    let publisher = Publisher::connect(
                        PublisherConfig::new(&format!("mqtt://127.0.0.1:{port}"), serial)
                            .unwrap()
                            .with_qos(Qos::AtMostOnce)
                            .with_credentials(Some(creds)),
                    )
                    .await
                    .unwrap();
                    let mut tick = tokio::time::interval(Duration::from_millis(1000 / rate));
                    for e in set {
                        tick.tick().await;
                        if !MqttCounters::cut(c, &e) {
                            let _ = publisher.publish(&Message::Count(e)).await;
                        }
                    }
                    let _ = publisher.flush().await;
                    publisher.close().await;
                }));
            }
            for t in mqtt {
                t.await.unwrap();
            }
            let mut ws_ok = true;
            for t in tasks {
                ws_ok &= t.await.unwrap().is_ok();
            }
            ws_ok
        }
    });

    // The faults, evenly over the push phase.
    let faults = 7u64;
    let gap = Duration::from_millis(seconds * 1000 / (faults + 1));
    let mut kills = 0;
    for fault in 0..faults {
        std::thread::sleep(gap);
        match fault {
            0 => {
                nodes.kill9(leader);
                std::thread::sleep(Duration::from_secs(2));
                nodes.restart(leader);
            }
            1 => {
                nodes.kill9(mqtt_node);
                std::thread::sleep(Duration::from_secs(2));
                nodes.restart(mqtt_node);
            }
            2 => {
                nodes.kill9(third);
                std::thread::sleep(Duration::from_secs(2));
                nodes.restart(third);
            }
            3 => {
                receivers[0].kill9();
                receivers[0].spawn();
            }
            4 => {
                bridges[0].kill9();
                bridges[0].spawn();
            }
            5 => {
                workers[0].kill9();
                workers[0].spawn();
            }
            _ => {
                pg.kill9();
                pg.restart();
            }
        }
        kills += 1;
    }
    let ws_ok = rt.block_on(push).unwrap();
    assert!(ws_ok, "every WebSocket event answered OK");
    let sent = counters * each;

    // PostgreSQL catches up: the WS set exactly, the MQTT set settles.
    let started = Instant::now();
    while counts(&db, '5').0 < sent && started.elapsed() < Duration::from_secs(180) {
        std::thread::sleep(Duration::from_millis(200));
    }
    let mut mqtt = counts(&db, '6');
    loop {
        std::thread::sleep(Duration::from_secs(3));
        let now = counts(&db, '6');
        if now == mqtt {
            break;
        }
        mqtt = now;
    }
    let ws = counts(&db, '5');
    let bridge_lost: u64 = bridges
        .iter_mut()
        .map(|b| {
            b.term();
            lost_of(&b.log.with_extension("err"))
        })
        .sum();
    for r in &mut receivers {
        r.term();
    }
    for w in &mut workers {
        w.term();
    }
    eprintln!("soak NATS: kills survived {kills} (3 NATS nodes incl. stream leader n{leader} and MQTT node n{mqtt_node}, a receiver, a bridge, a worker, PostgreSQL)");
    eprintln!(
        "soak NATS ws:   sent {sent}, kept {}, lost {}, doubled {}",
        ws.1,
        sent - ws.1.min(sent),
        ws.0 - ws.1
    );
    let (mqtt_sent, withheld) = (mqtt_counters.sent(), mqtt_counters.withheld);
    let published = mqtt_sent - withheld;
    eprintln!("soak NATS mqtt: sent {published} (and {withheld} withheld by a cut link), kept {}, lost in flight {} (QoS 0), doubled {}, given up by bridges {bridge_lost}", mqtt.1, published - mqtt.1.min(published), mqtt.0 - mqtt.1);
    assert_eq!(
        ws,
        (sent, sent),
        "PostgreSQL holds exactly the WebSocket set"
    );
    assert_eq!(mqtt.0, mqtt.1, "no MQTT event doubled");
    assert!(mqtt.1 <= published);
    assert!(withheld > 0, "the cut link withheld something to restore");
    rt.block_on(backfill_restores_the_mqtt_loss(&db, &mqtt_counters));

    // Events/s with 1, 2 and 4 workers, each on its own durable and database.
    let tp_stream = format!("{stream}TP");
    let tp_prefix = format!("{id}tp");
    ffc(&[
        "nats", "init", "--nats", &urls, "--stream", &tp_stream, "--prefix", &tp_prefix,
    ]);
    rt.block_on(async {
        let mut tasks = tokio::task::JoinSet::new();
        let sem = Arc::new(tokio::sync::Semaphore::new(256));
        for i in 0..throughput {
            let (js, prefix, permit) = (
                js.clone(),
                tp_prefix.clone(),
                sem.clone().acquire_owned().await.unwrap(),
            );
            tasks.spawn(async move {
                let e = event(0x7000_0000_0000_0000 + i % 100, i, Source::WebSocket);
                let payload = serde_json::to_vec(&e).unwrap();
                publish_until_acked(
                    &js,
                    &event_subject(&prefix, &e),
                    &message_id(&e),
                    payload.into(),
                    ffc_core::backoff::RetryPolicy::forever(
                        Duration::from_millis(50),
                        Duration::from_secs(1),
                    ),
                    Duration::from_secs(60),
                )
                .await
                .unwrap();
                drop(permit);
            });
        }
        while tasks.join_next().await.is_some() {}
    });
    let mut rates = Vec::new();
    for n in [1usize, 2, 4] {
        psql(&db, &format!("create database tp{n}"));
        let url = pg.url(&format!("tp{n}"));
        let started = Instant::now();
        let mut ws: Vec<Proc> = (0..n)
            .map(|i| {
                let mut args = vec![
                    "work".into(),
                    "--nats".into(),
                    urls.clone(),
                    "--durable".into(),
                    format!("tp{n}"),
                    "--postgres".into(),
                    url.clone(),
                    "--stream".into(),
                    tp_stream.clone(),
                    "--prefix".into(),
                    tp_prefix.clone(),
                ];
                args.push("--batch".into());
                args.push("512".into());
                Proc::start(tmp.path(), &format!("tp{n}-{i}"), args, "working on")
            })
            .collect();
        while counts(&url, '7').0 < throughput && started.elapsed() < Duration::from_secs(600) {
            std::thread::sleep(Duration::from_millis(50));
        }
        let elapsed = started.elapsed().as_secs_f64();
        assert_eq!(counts(&url, '7'), (throughput, throughput));
        for w in &mut ws {
            w.term();
        }
        rates.push(format!(
            "{n} worker(s) {:.0} events/s",
            throughput as f64 / elapsed
        ));
    }
    eprintln!(
        "soak NATS workers ({throughput} events, PostgreSQL, process start included): {}",
        rates.join(", ")
    );
    rt.block_on(async {
        let _ = js.delete_stream(&stream).await;
        let _ = js.delete_stream(&tp_stream).await;
    });
}

/// After the soak: one backfill pass over the MQTT counters' CGI APIs restores every quarter
/// hour the MQTT path was short of (the cut link's, and any QoS 0 loss in flight), and the
/// merged records then hold exactly what the counters counted.
async fn backfill_restores_the_mqtt_loss(db: &str, m: &MqttCounters) {
    let sink = PgSink::connect(PgSinkConfig::new(db).unwrap())
        .await
        .unwrap();
    let devices: Vec<DeviceClient> = m
        .sims
        .iter()
        .map(|s| {
            DeviceClient::new(
                DeviceClientConfig::new(s.base_url(), Zone::UTC),
                DeviceCredentials::new("admin", DEVICE_PASSWORD),
            )
            .unwrap()
        })
        .collect();
    let quarter = Resolution::Minutes(15);
    let first = pass(&sink, &devices, MQTT_FROM, m.to, quarter)
        .await
        .unwrap();
    let merged = |sql: &str| -> Vec<(String, u64, u64)> {
        psql(db, sql)
            .lines()
            .map(|l| {
                let f: Vec<&str> = l.split('|').collect();
                (
                    f[0].to_owned(),
                    f[1].parse().unwrap(),
                    f[2].parse().unwrap(),
                )
            })
            .collect()
    };
    let totals = merged(
        "select counter, sum(count_in), sum(count_out) from ffc_merged_records \
         where counter like '6%' group by counter order by counter",
    );
    let restored_events: u64 = psql(
        db,
        "select coalesce(sum(count_in + count_out - live_in - live_out), 0) \
         from ffc_merged_records where counter like '6%' and state = 'backfilled'",
    )
    .parse()
    .unwrap();
    eprintln!(
        "soak NATS mqtt backfill: {} quarter hour(s) restored ({restored_events} visitor crossings) in {} request(s); states {:?} (match, backfilled, live-over, conflict, unverified)",
        first.restored, first.requests, first.states
    );
    assert_eq!(
        totals,
        m.visitors(),
        "the merged records hold every MQTT event"
    );
    assert!(first.restored >= 1, "the cut link's quarter hour restored");
    assert_eq!(
        first.states[2..],
        [0, 0, 0],
        "nothing over, in conflict or unverified"
    );
    let second = pass(&sink, &devices, MQTT_FROM, m.to, quarter)
        .await
        .unwrap();
    assert_eq!(second.restored, 0, "a second pass restores nothing more");
    sink.close().await;
}

/// The `lost` figure of a bridge's closing line.
fn lost_of(err_log: &Path) -> u64 {
    let text = std::fs::read_to_string(err_log).unwrap_or_default();
    text.lines()
        .filter_map(|l| l.strip_prefix("stopped: "))
        .filter_map(|l| l.rsplit(", ").next())
        .filter_map(|l| l.strip_suffix(" lost"))
        .filter_map(|n| n.parse::<u64>().ok())
        .sum()
}

/// Resident memory of a process, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// CPU time (user + system) of a process, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let get = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    get(11) + get(12)
}

/// The load run of `scripts/load-nats.sh` (not part of the test suite: `--ignored`):
/// FFC_NATS_LOAD_COUNTERS simulated WebSocket counters (default 10,000) sending
/// FFC_NATS_LOAD_PER_MINUTE events each per minute (default 10, a busy hour) through 2
/// receivers, the cluster and 2 workers into PostgreSQL for FFC_NATS_LOAD_SECONDS (default
/// 180). Prints events/s, p50/p99 time to `OK`, the consumer's lag at the end, memory per
/// connection and each process's CPU share (the first bottleneck).
#[test]
#[ignore = "a load run, minutes long: scripts/load-nats.sh"]
fn nats_load() {
    let Some(e) = env() else { return };
    let (urls, pg_start, dir) = (e.urls.clone(), e.pg_start.clone(), e.dir.clone());
    let counters = env_u64("FFC_NATS_LOAD_COUNTERS", 10_000);
    let per_minute = env_u64("FFC_NATS_LOAD_PER_MINUTE", 10).max(1);
    let seconds = env_u64("FFC_NATS_LOAD_SECONDS", 180);
    let tmp = tempfile::tempdir().unwrap();
    let id = format!("load{}", std::process::id());
    let stream = id.to_uppercase();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    ffc(&[
        "nats", "init", "--nats", &urls, "--stream", &stream, "--prefix", &id,
    ]);
    let pg = Pg::start(tmp.path().join("pg"), pg_start);
    let db = pg.url("postgres");
    let ports = [free_port(), free_port()];
    let receivers: Vec<Proc> = ports
        .iter()
        .enumerate()
        .map(|(i, port)| {
            let args = vec![
                "listen".into(),
                "ws".into(),
                "--bind".into(),
                format!("127.0.0.1:{port}"),
                "--nats".into(),
                urls.clone(),
                "--stream".into(),
                stream.clone(),
                "--prefix".into(),
                id.clone(),
            ];
            Proc::start(tmp.path(), &format!("receiver{i}"), args, "listening on")
        })
        .collect();
    let workers: Vec<Proc> = (0..2)
        .map(|i| {
            let args = vec![
                "work".into(),
                "--nats".into(),
                urls.clone(),
                "--durable".into(),
                "load".into(),
                "--postgres".into(),
                db.clone(),
                "--stream".into(),
                stream.clone(),
                "--prefix".into(),
                id.clone(),
            ];
            Proc::start(tmp.path(), &format!("worker{i}"), args, "working on")
        })
        .collect();
    let mut pids: Vec<(String, u32)> = receivers
        .iter()
        .chain(workers.iter())
        .map(|p| (p.name.clone(), p.child.as_ref().unwrap().id()))
        .collect();
    for n in 1..=3 {
        let pid = std::fs::read_to_string(format!("{dir}/n{n}.pid")).unwrap_or_default();
        if let Ok(pid) = pid.trim().parse() {
            pids.push((format!("nats n{n}"), pid));
        }
    }
    pids.push(("postgres".into(), pg.pid.parse().unwrap_or(0)));
    pids.push(("load generator (counters)".into(), std::process::id()));
    let rss_before: Vec<u64> = receivers
        .iter()
        .map(|p| rss_kib(p.child.as_ref().unwrap().id()))
        .collect();

    let latencies = Arc::new(std::sync::Mutex::new(Vec::<u32>::new()));
    let connected = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let interval = Duration::from_millis(60_000 / per_minute);
    let handle = rt.spawn({
        let (latencies, connected) = (latencies.clone(), connected.clone());
        async move {
            let mut tasks = Vec::new();
            for c in 0..counters {
                let url = format!("ws://127.0.0.1:{}/", ports[(c % 2) as usize]);
                let (latencies, connected) = (latencies.clone(), connected.clone());
                tasks.push(tokio::spawn(async move {
                    let mut sender: Sender = Sender::new(
                        SenderConfig::new(url).with_ack_timeout(Duration::from_secs(60)),
                    );
                    if sender.check_connection().await.is_ok() {
                        connected.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                    // A random phase, so the counters do not send in step.
                    let phase = interval.mul_f64((c * 7919 % 1000) as f64 / 1000.0);
                    tokio::time::sleep(phase).await;
                    let mut tick = tokio::time::interval(interval);
                    let mut i = 0;
                    while Instant::now() < deadline {
                        tick.tick().await;
                        sender
                            .push(event(0x8000_0000_0000_0000 + c, i, Source::WebSocket))
                            .unwrap();
                        i += 1;
                        let sent = tokio::time::Instant::now();
                        if let Ok(true) = sender.send_next().await {
                            let us = sent.elapsed().as_micros().min(u32::MAX as u128) as u32;
                            latencies.lock().unwrap().push(us);
                        }
                    }
                }));
                // Ramp up: 500 connections a second.
                if c % 50 == 49 {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
            for t in tasks {
                let _ = t.await;
            }
        }
    });
    // Measure once every counter connected (or the ramp ended).
    let ramp_end = Instant::now() + Duration::from_secs(counters / 500 + 30);
    while connected.load(std::sync::atomic::Ordering::Relaxed) < counters
        && Instant::now() < ramp_end
    {
        std::thread::sleep(Duration::from_millis(200));
    }
    let open = connected.load(std::sync::atomic::Ordering::Relaxed);
    let rss_after: Vec<u64> = receivers
        .iter()
        .map(|p| rss_kib(p.child.as_ref().unwrap().id()))
        .collect();
    let gen_rss = rss_kib(std::process::id());
    let cpu_start: Vec<u64> = pids.iter().map(|(_, pid)| cpu_ticks(*pid)).collect();
    let measured_from = Instant::now();
    let acked_from = latencies.lock().unwrap().len();
    rt.block_on(handle).unwrap();
    let measured = measured_from.elapsed().as_secs_f64();
    let cpu_end: Vec<u64> = pids.iter().map(|(_, pid)| cpu_ticks(*pid)).collect();
    let mut lat = latencies.lock().unwrap().clone();
    let acked = lat.len() - acked_from;
    lat.sort_unstable();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0) as f64
            / 1000.0
    };
    // The consumer's lag right at the end, then how long PostgreSQL takes to catch up.
    let js = e.jetstream(&rt);
    let lag = rt.block_on(async {
        let s = js.get_stream(&stream).await.unwrap();
        s.consumer_info("load")
            .await
            .map(|i| i.num_pending + i.num_ack_pending as u64)
            .unwrap_or(0)
    });
    let total = lat.len() as u64;
    let caught_up = Instant::now();
    while counts(&db, '8').1 < total && caught_up.elapsed() < Duration::from_secs(300) {
        std::thread::sleep(Duration::from_millis(200));
    }
    let stored = counts(&db, '8').1;
    let ticks = 100.0; // USER_HZ
    let shares: Vec<String> = pids
        .iter()
        .zip(cpu_start.iter().zip(&cpu_end))
        .map(|((name, _), (a, b))| (name, (b - a) as f64 / ticks / measured * 100.0))
        .map(|(name, pct)| format!("{name} {pct:.0}%"))
        .collect();
    eprintln!("load NATS: {counters} WebSocket counters ({open} connected) at {per_minute}/min each, 2 receivers, 3 NATS nodes, 2 workers, PostgreSQL; debug build, 2 shared cores");
    eprintln!("load NATS: {acked} events acknowledged in {measured:.0} s = {:.0} events/s (offered {:.0}/s)", acked as f64 / measured, counters as f64 * per_minute as f64 / 60.0);
    eprintln!(
        "load NATS: time to OK p50 {:.1} ms, p99 {:.1} ms",
        pct(0.50),
        pct(0.99)
    );
    eprintln!("load NATS: consumer lag at the end {lag}; PostgreSQL holds {stored} of {total} acknowledged {:.0} s after the end", caught_up.elapsed().as_secs_f64());
    let per_conn: Vec<String> = rss_before
        .iter()
        .zip(&rss_after)
        .map(|(a, b)| {
            format!(
                "{:.1}",
                (b.saturating_sub(*a)) as f64 * 2.0 / open.max(1) as f64
            )
        })
        .collect();
    eprintln!("load NATS: memory per connection in the receivers {} KiB (RSS growth / connections); the counters' process {} KiB in all", per_conn.join(" and "), gen_rss);
    eprintln!(
        "load NATS: CPU share over the run (100% = one core): {}",
        shares.join(", ")
    );
    drop(workers);
    drop(receivers);
    rt.block_on(async {
        let _ = js.delete_stream(&stream).await;
    });
}

#[test]
fn a_wrong_nats_password_is_refused_clearly_and_never_printed_and_a_missing_stream_names_init() {
    let Ok(urls) = std::env::var("FFC_NATS_URLS") else {
        eprintln!("FFC_NATS_URLS not set (source scripts/services.sh): skipped");
        return;
    };
    let wrong = "wrong-password-1234";
    let out = Command::new(env!("CARGO_BIN_EXE_ffc"))
        .args([
            "nats", "init", "--nats", &urls, "--stream", "NEVER", "--prefix", "never",
        ])
        .env("FFC_NATS_PASSWORD", wrong)
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(!out.status.success());
    assert!(
        stderr.contains("refused the user/password credentials"),
        "{stderr}"
    );
    assert!(
        !stderr.contains(wrong) && !stdout.contains(wrong),
        "{stderr}"
    );

    let dir = tempfile::tempdir().unwrap();
    let events = dir.path().join("events.jsonl");
    let out = Command::new(env!("CARGO_BIN_EXE_ffc"))
        .args([
            "work",
            "--nats",
            &urls,
            "--stream",
            "NO_SUCH_STREAM",
            "--events",
            events.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("does not exist") && stderr.contains("ffc nats init"),
        "{stderr}"
    );
}
