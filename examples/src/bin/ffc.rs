//! `ffc`: the command-line tool for FootfallCam data.
use std::io::Read as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use ffc_core::{CameraSerial, Zone};
use ffc_device::client::{ClientConfig, Credentials, DeviceClient};
use ffc_device::query::{split_range, DataType, Query};
use ffc_examples::args::{self, RecordFormat};
use ffc_examples::runtime;
use ffc_examples::{decode, demo, report, sample, snippet};
use ffc_protocols::bacnet::client::{
    Client as BacnetClient, ClientConfig as BacnetConfig, DeviceInfo,
};

/// One typed, reliable way to get FootfallCam data out of every interface.
#[derive(Parser)]
#[command(name = "ffc", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Branch report with completeness per bucket, from events (JSON lines) and a branch layout.
    Report {
        /// Events as JSON lines with FootfallCam's field names (default: the shipped sample).
        #[arg(long)]
        events: Option<PathBuf>,
        /// Branch layout JSON (default: the shipped sample's).
        #[arg(long)]
        layout: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
        format: OutputFormat,
        /// Also write an SVG chart here.
        #[arg(long)]
        svg: Option<PathBuf>,
    },
    /// Talk to one counter over its CGI API: token, counts, long pulls. Replaces
    /// FootfallCam's Windows-only Data Integration Tool: `--print-curl` and `--print-rust`
    /// print the same requests as a shell script and a Rust program instead of sending them.
    Device(DeviceArgs),
    /// Find FFC devices and read their 48 hourly In/Out values over BACnet/IP.
    Bacnet {
        #[command(subcommand)]
        command: BacnetCommand,
    },
    /// Decode a payload (FILE or `-` for stdin) into normalized JSON lines; a payload that
    /// fails gives one JSON error line and exit status 1.
    Decode {
        /// The payload kind.
        #[arg(value_enum)]
        kind: decode::Kind,
        /// The file, or `-` for stdin.
        file: String,
        /// The zone device bodies' local times are in (`UTC`, `+08:00`, `Europe/London`).
        #[arg(long, default_value = "UTC")]
        zone: String,
    },
    /// Run a receiver that counters push to, and show or store what they send.
    Listen {
        #[command(subcommand)]
        command: ListenCommand,
    },
    /// The Analytic Manager V9 server APIs: token and exportData.
    Server(ServerArgs),
    /// Sales files (FootfallCam's import layout).
    Sales {
        #[command(subcommand)]
        command: SalesCommand,
    },
    /// The main job on loopback: simulated counters over HTTP and BACnet, one offline for an
    /// hour, a branch report with completeness, CSV and an SVG chart.
    Demo {
        /// Where the CSV and SVG files go.
        #[arg(long, default_value = "target/ffc-demo")]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum ListenCommand {
    /// The WebSocket receiver: answers `OK` to every event it keeps, dead-letters what it
    /// cannot read. Prints `listening on ws://ADDR/` first, then (without --events) every
    /// event as a JSON line. Token from env FFC_WS_TOKEN, Basic from FFC_WS_BASIC_USER and
    /// FFC_WS_BASIC_PASSWORD (never on the command line).
    Ws {
        /// Where to listen.
        #[arg(long, default_value = "127.0.0.1:8080")]
        bind: SocketAddr,
        /// Append events to this JSON-lines file (durable: `OK` only after the write is
        /// synced) instead of printing them.
        #[arg(long)]
        events: Option<PathBuf>,
        /// Append undecodable messages here (JSON lines).
        #[arg(long)]
        dead_letters: Option<PathBuf>,
        /// Stop after this many events were kept (default: run until Ctrl-C).
        #[arg(long)]
        max_events: Option<u64>,
    },
}

#[derive(Args)]
struct ServerArgs {
    /// The server's base URL, e.g. `https://v9.footfallcam.com`.
    #[arg(long, env = "FFC_V9_URL")]
    url: String,
    /// The account's e-mail.
    #[arg(long, env = "FFC_V9_EMAIL")]
    email: String,
    /// The account's password (better given as env FFC_V9_PASSWORD).
    #[arg(long, env = "FFC_V9_PASSWORD", hide_env_values = true)]
    password: String,
    #[command(subcommand)]
    command: ServerCommand,
}

#[derive(Subcommand)]
enum ServerCommand {
    /// Fetch an access token (`AToken`) and print it (a secret: keep it out of logs).
    Token,
    /// exportData: hourly or daily counts of sites or counters over days, as records.
    Export {
        /// Site ids or counter serials, comma-separated.
        #[arg(long, value_delimiter = ',')]
        ids: Vec<String>,
        /// Counter rows instead of site rows.
        #[arg(long)]
        counters: bool,
        /// First day, `YYYY-MM-DD`.
        #[arg(long)]
        from: String,
        /// Last day (inclusive), `YYYY-MM-DD`.
        #[arg(long)]
        to: String,
        /// Daily rows instead of hourly.
        #[arg(long)]
        daily: bool,
        /// The sites' zone, for the UTC times of the rows.
        #[arg(long, default_value = "UTC")]
        zone: String,
        /// How records are printed.
        #[arg(long, value_enum, default_value_t = RecordFormat::Csv)]
        format: RecordFormat,
    },
}

#[derive(Subcommand)]
enum SalesCommand {
    /// Validate a sales CSV and print its import report as JSON (exit 1 when rejected).
    Validate {
        /// The CSV file.
        file: PathBuf,
        /// A known store code (repeat); rows of other stores are errors.
        #[arg(long = "store")]
        stores: Vec<String>,
        /// Import the (store, day) batches free of errors instead of rejecting the file.
        #[arg(long)]
        valid_rows_only: bool,
        /// Write the import batches (V9 import rows per store and day) here as JSON.
        #[arg(long)]
        batches: Option<PathBuf>,
    },
}

#[derive(Args)]
struct DeviceArgs {
    /// The counter's CGI directory, e.g. `http://192.168.2.123/cgi-bin/`.
    #[arg(long, env = "FFC_DEVICE_URL")]
    url: String,
    /// Username.
    #[arg(long, default_value = "admin")]
    username: String,
    /// The Setup Wizard password (better given as env FFC_PASSWORD).
    #[arg(long, env = "FFC_PASSWORD", hide_env_values = true)]
    password: Option<String>,
    /// The counter's zone: `UTC`, an offset like `+08:00`, or an IANA name.
    #[arg(long, default_value = "UTC")]
    zone: String,
    /// Print the requests as a curl script (password and token as `$FFC_PASSWORD` and
    /// `$FFC_TOKEN`) instead of sending them.
    #[arg(long, global = true)]
    print_curl: bool,
    /// Print the requests as a Rust program using ffc-device instead of sending them.
    #[arg(long, global = true)]
    print_rust: bool,
    #[command(subcommand)]
    command: DeviceCommand,
}

#[derive(Subcommand)]
enum DeviceCommand {
    /// Fetch an access token and print it (it is a secret: keep it out of logs).
    Token,
    /// One `apiCount.cgi` request (a window of at most 24 hours).
    Counts {
        /// First day, `YYYY-MM-DD` (local to the counter).
        #[arg(long)]
        date: String,
        /// Last day (default: the same day, or the next when the window wraps midnight).
        #[arg(long)]
        date_end: Option<String>,
        /// Window start, `HH:MM[:SS]` (default 00:00:00).
        #[arg(long)]
        time_start: Option<String>,
        /// Window end, `HH:MM[:SS]` (default 23:59:59, or an hour after --time-start).
        #[arg(long)]
        time_end: Option<String>,
        #[command(flatten)]
        shape: Shape,
    },
    /// Every bucket of a long range, split into windows the counter accepts, fetched a few
    /// at a time with a progress bar.
    Pull {
        /// Range start, local `YYYY-MM-DD[ HH:MM]`.
        #[arg(long)]
        from: String,
        /// Range end (exclusive), local `YYYY-MM-DD[ HH:MM]`.
        #[arg(long)]
        to: String,
        /// Windows fetched at once.
        #[arg(long, default_value_t = 4)]
        concurrency: usize,
        /// Write the records here instead of stdout.
        #[arg(long)]
        output: Option<PathBuf>,
        /// No progress bar.
        #[arg(long)]
        quiet: bool,
        #[command(flatten)]
        shape: Shape,
    },
}

#[derive(Args)]
struct Shape {
    /// Bucket length: `hour`, `<n>m` or `<n>s` (n = 1, 5, 10, 15, 30, 60).
    #[arg(long, default_value = "hour")]
    resolution: String,
    /// What the counter is asked to answer in.
    #[arg(long, value_enum, default_value_t = WireFormat::Json)]
    data_type: WireFormat,
    /// How records are printed.
    #[arg(long, value_enum, default_value_t = RecordFormat::Csv)]
    format: RecordFormat,
}

#[derive(Clone, Copy, ValueEnum)]
enum WireFormat {
    Json,
    Xml,
}

impl WireFormat {
    fn data_type(self) -> DataType {
        match self {
            WireFormat::Json => DataType::Json,
            WireFormat::Xml => DataType::Xml,
        }
    }
    fn rust(self) -> &'static str {
        match self {
            WireFormat::Json => "DataType::Json",
            WireFormat::Xml => "DataType::Xml",
        }
    }
}

#[derive(Subcommand)]
enum BacnetCommand {
    /// Who-Is to an address (a device's, or a broadcast address such as
    /// 255.255.255.255:47808); prints every I-Am as a JSON line.
    Discover {
        /// Where to send Who-Is.
        #[arg(long)]
        target: SocketAddr,
        /// How long to collect answers, in milliseconds.
        #[arg(long, default_value_t = 1000)]
        wait_ms: u64,
    },
    /// Read a device's 48 hourly In/Out values (`In-C-X`, `Out-C-X`) as count records.
    Read {
        /// The device's address.
        #[arg(long)]
        target: SocketAddr,
        /// The device instance (default: ask with Who-Is).
        #[arg(long)]
        instance: Option<u32>,
        /// The counter's serial to label records with (default: the instance number).
        #[arg(long)]
        serial: Option<CameraSerial>,
        /// How records are printed.
        #[arg(long, value_enum, default_value_t = RecordFormat::Csv)]
        format: RecordFormat,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum OutputFormat {
    Table,
    Csv,
    Json,
}

fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Device(device) => runtime()?.block_on(run_device(device)),
        Command::Bacnet { command } => runtime()?.block_on(run_bacnet(command)),
        Command::Listen {
            command:
                ListenCommand::Ws {
                    bind,
                    events,
                    dead_letters,
                    max_events,
                },
        } => runtime()?.block_on(listen_ws(bind, events, dead_letters, max_events)),
        Command::Server(server) => runtime()?.block_on(run_server(server)),
        Command::Sales {
            command:
                SalesCommand::Validate {
                    file,
                    stores,
                    valid_rows_only,
                    batches,
                },
        } => sales_validate(&file, stores, valid_rows_only, batches.as_ref()),
        Command::Decode { kind, file, zone } => run_decode(kind, &file, &args::parse_zone(&zone)?),
        Command::Demo { out } => {
            let started = std::time::Instant::now();
            let outcome = runtime()?.block_on(demo::run(&out, &mut |line| println!("{line}")))?;
            println!();
            print!("{}", report::table(&outcome.rows));
            let partial = outcome
                .rows
                .iter()
                .filter(|r| r.completeness != "complete")
                .count();
            println!(
                "\n{} hours not complete (flagged above); report {}, chart {}, records {}",
                partial,
                outcome.csv_path.display(),
                outcome.svg_path.display(),
                outcome.records_path.display()
            );
            for (store, rate) in &outcome.day_conversion {
                match rate {
                    Some(rate) => println!("day conversion {store}: {:.1}%", rate * 100.0),
                    None => println!(
                        "day conversion {store}: withheld, footfall not whole in every open hour"
                    ),
                }
            }
            println!("sales joined from {}", outcome.sales_path.display());
            println!("demo finished in {:.1} s", started.elapsed().as_secs_f64());
            Ok(())
        }
        Command::Report {
            events,
            layout,
            format,
            svg,
        } => {
            let (default_events, default_layout) = sample::default_paths();
            let events = events.unwrap_or_else(|| default_events.into());
            let layout = layout.unwrap_or_else(|| default_layout.into());
            let rolled = sample::roll_up(&events, &layout)?;
            let mut rows = Vec::new();
            for (b, series) in &rolled.branches {
                rows.extend(report::rows(&b.name, series, &b.hours()?, rolled.zone));
            }
            match format {
                OutputFormat::Table => print!("{}", report::table(&rows)),
                OutputFormat::Csv => print!("{}", report::csv(&rows).map_err(|e| e.to_string())?),
                OutputFormat::Json => {
                    print!("{}", report::json_lines(&rows).map_err(|e| e.to_string())?)
                }
            }
            if let Some(path) = svg {
                let chart = report::svg(&rows, "Visitors in per hour (red cross: not complete)")?;
                std::fs::write(&path, chart).map_err(|e| format!("{}: {e}", path.display()))?;
                eprintln!("chart written to {}", path.display());
            }
            Ok(())
        }
    }
}

fn rust_date(d: chrono::NaiveDate) -> String {
    use chrono::Datelike as _;
    format!(
        "NaiveDate::from_ymd_opt({}, {}, {}).ok_or(\"date\")?",
        d.year(),
        d.month(),
        d.day()
    )
}

fn rust_time(t: chrono::NaiveTime) -> String {
    use chrono::Timelike as _;
    format!(
        "NaiveTime::from_hms_opt({}, {}, {}).ok_or(\"time\")?",
        t.hour(),
        t.minute(),
        t.second()
    )
}

fn emit(text: &str, output: Option<&PathBuf>) -> Result<(), String> {
    match output {
        Some(path) => std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display())),
        None => {
            print!("{text}");
            Ok(())
        }
    }
}

async fn run_device(device: DeviceArgs) -> Result<(), String> {
    let zone = args::parse_zone(&device.zone)?;
    let zone_rust = args::zone_rust(&device.zone, &zone);
    let connect = |zone: Zone| -> Result<DeviceClient, String> {
        let password = device
            .password
            .clone()
            .ok_or("no password: set FFC_PASSWORD or pass --password")?;
        DeviceClient::new(
            ClientConfig::new(device.url.clone(), zone),
            Credentials::new(device.username.clone(), password),
        )
        .map_err(|e| e.to_string())
    };
    let printing = device.print_curl || device.print_rust;
    match &device.command {
        DeviceCommand::Token => {
            if device.print_curl {
                println!(
                    "{}echo \"$FFC_TOKEN\"",
                    snippet::curl_token(&device.url, &device.username)
                );
            }
            if device.print_rust {
                print!(
                    "{}",
                    snippet::rust_program(
                        &device.url,
                        &device.username,
                        &zone_rust,
                        "    // The client fetches, caches and refreshes the token itself; a first\n    // request shows the credentials work.\n    let _ = (&client, NaiveDate::MIN, NaiveTime::MIN, Resolution::Hour, DataType::Json);\n    let _ = Query::builder();\n    let _: Option<UtcOffset> = None;\n"
                    )
                );
            }
            if printing {
                return Ok(());
            }
            let password = device
                .password
                .clone()
                .ok_or("no password: set FFC_PASSWORD or pass --password")?;
            let url = format!(
                "{}{}",
                snippet::cgi_base(&device.url),
                ffc_device::query::TOKEN_PATH
            );
            let http = reqwest::Client::builder()
                .no_proxy()
                .timeout(Duration::from_secs(30))
                .build()
                .map_err(|e| e.to_string())?;
            let url = reqwest::Url::parse_with_params(
                &url,
                [
                    ("username", device.username.as_str()),
                    ("password", password.as_str()),
                ],
            )
            .map_err(|e| format!("--url: {e}"))?;
            let response = http
                .get(url)
                .send()
                .await
                .map_err(|e| format!("token request failed: {}", e.without_url()))?;
            let status = response.status();
            let body = response
                .bytes()
                .await
                .map_err(|e| format!("token answer: {}", e.without_url()))?;
            if !status.is_success() {
                return Err(format!(
                    "the counter refused the credentials (HTTP {status})"
                ));
            }
            let token = ffc_device::body::decode_token(&body).map_err(|e| e.to_string())?;
            println!("{token}");
            Ok(())
        }
        DeviceCommand::Counts {
            date,
            date_end,
            time_start,
            time_end,
            shape,
        } => {
            let resolution = args::parse_resolution(&shape.resolution)?;
            let mut builder = Query::builder()
                .data_type(shape.data_type.data_type())
                .resolution(resolution)
                .date_start(args::parse_date(date)?);
            let mut rust = format!(
                "    let query = Query::builder()\n        .data_type({})\n        .resolution({})\n        .date_start({})\n",
                shape.data_type.rust(),
                args::resolution_rust(resolution),
                rust_date(args::parse_date(date)?)
            );
            if let Some(d) = date_end {
                let d = args::parse_date(d)?;
                builder = builder.date_end(d);
                rust.push_str(&format!("        .date_end({})\n", rust_date(d)));
            }
            if let Some(t) = time_start {
                let t = args::parse_time(t)?;
                builder = builder.time_start(t);
                rust.push_str(&format!("        .time_start({})\n", rust_time(t)));
            }
            if let Some(t) = time_end {
                let t = args::parse_time(t)?;
                builder = builder.time_end(t);
                rust.push_str(&format!("        .time_end({})\n", rust_time(t)));
            }
            rust.push_str("        .build(&zone)?;\n    let body = client.counts(&query).await?;\n    for record in &body.records {\n        println!(\"{record:?}\");\n    }\n    let _: Option<UtcOffset> = None;\n");
            let query = builder
                .build(&zone)
                .map_err(|e| format!("query refused: {e}"))?;
            if device.print_curl {
                print!(
                    "{}",
                    snippet::curl_script(&device.url, &device.username, &[query])
                );
            }
            if device.print_rust {
                print!(
                    "{}",
                    snippet::rust_program(&device.url, &device.username, &zone_rust, &rust)
                );
            }
            if printing {
                return Ok(());
            }
            let client = connect(zone)?;
            let body = client.counts(&query).await.map_err(|e| e.to_string())?;
            print!("{}", args::records(&body.records, shape.format, &zone)?);
            Ok(())
        }
        DeviceCommand::Pull {
            from,
            to,
            concurrency,
            output,
            quiet,
            shape,
        } => {
            let resolution = args::parse_resolution(&shape.resolution)?;
            let from_utc =
                zone.local_to_utc(ffc_core::time::naive_to_seconds(args::parse_local(from)?));
            let to_utc =
                zone.local_to_utc(ffc_core::time::naive_to_seconds(args::parse_local(to)?));
            if device.print_curl {
                let windows = split_range(
                    from_utc,
                    to_utc,
                    resolution,
                    shape.data_type.data_type(),
                    &zone,
                )
                .map_err(|e| format!("range refused: {e}"))?;
                let queries: Vec<Query> = windows.iter().map(|w| w.query).collect();
                print!(
                    "{}",
                    snippet::curl_script(&device.url, &device.username, &queries)
                );
            }
            if device.print_rust {
                let body = format!(
                    "    // {from} .. {to} (local), split into windows the counter accepts.\n    let records = client\n        .pull({from_utc}, {to_utc}, {}, {}, |p| {{\n            eprintln!(\"{{}}/{{}} windows\", p.windows_done, p.windows_total)\n        }})\n        .await?;\n    for record in &records {{\n        println!(\"{{record:?}}\");\n    }}\n    let _ = (Query::builder(), NaiveDate::MIN, NaiveTime::MIN);\n    let _: Option<UtcOffset> = None;\n",
                    args::resolution_rust(resolution),
                    shape.data_type.rust()
                );
                print!(
                    "{}",
                    snippet::rust_program(&device.url, &device.username, &zone_rust, &body)
                );
            }
            if printing {
                return Ok(());
            }
            let mut config = ClientConfig::new(device.url.clone(), zone);
            config.concurrency = *concurrency;
            let password = device
                .password
                .clone()
                .ok_or("no password: set FFC_PASSWORD or pass --password")?;
            let client =
                DeviceClient::new(config, Credentials::new(device.username.clone(), password))
                    .map_err(|e| e.to_string())?;
            let bar = if *quiet {
                indicatif::ProgressBar::hidden()
            } else {
                indicatif::ProgressBar::new(0)
            };
            bar.set_style(
                indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} windows {msg}")
                    .map_err(|e| e.to_string())?,
            );
            let result = client
                .pull(
                    from_utc,
                    to_utc,
                    resolution,
                    shape.data_type.data_type(),
                    |p| {
                        bar.set_length(p.windows_total as u64);
                        bar.set_position(p.windows_done as u64);
                        bar.set_message(format!("{} records", p.records));
                    },
                )
                .await;
            bar.finish_and_clear();
            match result {
                Ok(records) => {
                    emit(
                        &args::records(&records, shape.format, &zone)?,
                        output.as_ref(),
                    )?;
                    eprintln!("pulled {} records", records.len());
                    Ok(())
                }
                Err(e) => {
                    emit(
                        &args::records(&e.records, shape.format, &zone)?,
                        output.as_ref(),
                    )?;
                    Err(format!(
                        "{e}; {} records written; run again with --from at UTC {}",
                        e.records.len(),
                        e.resume_from
                    ))
                }
            }
        }
    }
}

async fn run_bacnet(command: BacnetCommand) -> Result<(), String> {
    let bind_for = |target: &SocketAddr| -> SocketAddr {
        if target.ip().is_loopback() {
            SocketAddr::from(([127, 0, 0, 1], 0))
        } else {
            BacnetConfig::default().bind
        }
    };
    match command {
        BacnetCommand::Discover { target, wait_ms } => {
            let mut client = BacnetClient::bind(BacnetConfig {
                bind: bind_for(&target),
                ..BacnetConfig::default()
            })
            .await
            .map_err(|e| e.to_string())?;
            let found = client
                .who_is(target, None, Duration::from_millis(wait_ms))
                .await
                .map_err(|e| e.to_string())?;
            for d in &found {
                println!(
                    "{}",
                    serde_json::json!({
                        "instance": d.instance,
                        "address": d.address.to_string(),
                        "max_apdu": d.max_apdu,
                        "segmentation": format!("{:?}", d.segmentation),
                        "vendor_id": d.vendor_id,
                    })
                );
            }
            if found.is_empty() {
                return Err(format!("no device answered Who-Is at {target}"));
            }
            Ok(())
        }
        BacnetCommand::Read {
            target,
            instance,
            serial,
            format,
        } => {
            let mut client = BacnetClient::bind(BacnetConfig {
                bind: bind_for(&target),
                ..BacnetConfig::default()
            })
            .await
            .map_err(|e| e.to_string())?;
            let info = match instance {
                Some(instance) => DeviceInfo::known(instance, target),
                None => client
                    .who_is(target, None, Duration::from_millis(1000))
                    .await
                    .map_err(|e| e.to_string())?
                    .first()
                    .copied()
                    .ok_or_else(|| format!("no device answered Who-Is at {target}"))?,
            };
            let series = client.read_counts(&info).await.map_err(|e| e.to_string())?;
            let serial = serial.unwrap_or(CameraSerial::from_u64(u64::from(info.instance)));
            let records = series.to_records(serial);
            print!("{}", args::records(&records, format, &Zone::UTC)?);
            eprintln!(
                "device {}: {} hours read in {} round trips",
                info.instance,
                records.len(),
                client.stats().round_trips()
            );
            Ok(())
        }
    }
}

async fn listen_ws(
    bind: SocketAddr,
    events: Option<PathBuf>,
    dead_letters: Option<PathBuf>,
    max_events: Option<u64>,
) -> Result<(), String> {
    use ffc_protocols::sink::{
        ChannelSink, DeadLetterSink, EventSink, FileDeadLetters, FileSink, MemoryDeadLetters,
    };
    use ffc_protocols::ws::server::{Auth, Server, ServerConfig};
    use std::sync::Arc;
    let mut auth = Auth::new();
    if let Ok(token) = std::env::var("FFC_WS_TOKEN") {
        auth = auth.with_token(token);
    }
    if let (Ok(user), Ok(password)) = (
        std::env::var("FFC_WS_BASIC_USER"),
        std::env::var("FFC_WS_BASIC_PASSWORD"),
    ) {
        auth = auth.with_basic(user, password);
    }
    let mut config = ServerConfig::new(bind);
    config.auth = auth;
    let (tx, mut rx) = tokio::sync::mpsc::channel(1024);
    let sink: Arc<dyn EventSink> = match &events {
        Some(path) => {
            Arc::new(FileSink::open(path).map_err(|e| format!("{}: {e}", path.display()))?)
        }
        None => Arc::new(ChannelSink::new(tx)),
    };
    let dead: Arc<dyn DeadLetterSink> = match &dead_letters {
        Some(path) => {
            Arc::new(FileDeadLetters::open(path).map_err(|e| format!("{}: {e}", path.display()))?)
        }
        None => Arc::new(MemoryDeadLetters::new()),
    };
    let server = Server::bind(config, sink, dead)
        .await
        .map_err(|e| format!("{bind}: {e}"))?
        .spawn();
    println!("listening on ws://{}/", server.local_addr());
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    let mut ctrl_c = std::pin::pin!(tokio::signal::ctrl_c());
    let mut tick = tokio::time::interval(Duration::from_millis(50));
    loop {
        tokio::select! {
            _ = &mut ctrl_c => break,
            Some(event) = rx.recv() => {
                println!("{}", serde_json::to_string(&event).map_err(|e| e.to_string())?);
                let _ = std::io::stdout().flush();
            }
            _ = tick.tick() => {}
        }
        if let Some(max) = max_events {
            // With a channel sink, print what is queued before stopping.
            if server.stats().accepted >= max && rx.is_empty() {
                break;
            }
        }
    }
    let stats = server.stats();
    server.shutdown().await.map_err(|e| e.to_string())?;
    eprintln!(
        "stopped: {} events kept, {} duplicates, {} test messages, {} dead-lettered",
        stats.accepted, stats.duplicates, stats.tests, stats.dead_lettered
    );
    Ok(())
}

async fn run_server(server: ServerArgs) -> Result<(), String> {
    use ffc_client::v9::export::{InfoJson, Level, Period};
    let client = ffc_client::http::V9Client::new(
        &server.url,
        &server.email,
        ffc_client::Secret::new(server.password),
    )
    .map_err(|e| e.to_string())?;
    match server.command {
        ServerCommand::Token => {
            let token = client.token().await.map_err(|e| e.to_string())?;
            println!("{}", token.expose());
            Ok(())
        }
        ServerCommand::Export {
            ids,
            counters,
            from,
            to,
            daily,
            zone,
            format,
        } => {
            let zone = args::parse_zone(&zone)?;
            let level = if counters {
                Level::Counter
            } else {
                Level::Site
            };
            let period = if daily { Period::Daily } else { Period::Hourly };
            let (d, t) = (
                ffc_client::datefmt::default_date(),
                ffc_client::datefmt::default_time(),
            );
            let info = InfoJson::new(
                level,
                ids,
                period,
                args::parse_date(&from)?,
                args::parse_date(&to)?,
                &d,
                &t,
            );
            let rows = client
                .export_chunked(&info)
                .await
                .map_err(|e| e.to_string())?;
            let mut records = Vec::with_capacity(rows.len());
            for (i, row) in rows.iter().enumerate() {
                records.push(
                    row.to_record(level, period, zone, &d, &t)
                        .map_err(|e| format!("row {}: {e}", i + 1))?,
                );
            }
            print!("{}", args::records(&records, format, &zone)?);
            eprintln!("{} rows exported", records.len());
            Ok(())
        }
    }
}

fn sales_validate(
    file: &PathBuf,
    stores: Vec<String>,
    valid_rows_only: bool,
    batches: Option<&PathBuf>,
) -> Result<(), String> {
    let bytes = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let mut config = ffc_sales::ValidationConfig::default();
    if !stores.is_empty() {
        config = config.known_stores(stores);
    }
    let mode = if valid_rows_only {
        ffc_sales::ImportMode::ValidRowsOnly
    } else {
        ffc_sales::ImportMode::Atomic
    };
    let import =
        ffc_sales::validate_bytes(&bytes, &config).import(&file.display().to_string(), mode);
    println!(
        "{}",
        serde_json::to_string_pretty(&import.report).map_err(|e| e.to_string())?
    );
    if let Some(path) = batches {
        let text = serde_json::to_string_pretty(&import.batches).map_err(|e| e.to_string())?;
        std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    match import.report.outcome {
        ffc_sales::Outcome::Rejected => Err(format!(
            "{}: rejected, {} errors",
            file.display(),
            import.report.error_count
        )),
        _ => Ok(()),
    }
}

fn run_decode(kind: decode::Kind, file: &str, zone: &Zone) -> Result<(), String> {
    let mut bytes = Vec::new();
    let read = if file == "-" {
        std::io::stdin().read_to_end(&mut bytes).map(|_| ())
    } else {
        std::fs::read(file).map(|b| bytes = b)
    };
    read.map_err(|e| format!("{file}: {e}"))?;
    let decoded = decode::decode(kind, &bytes, zone);
    for line in &decoded.lines {
        println!("{line}");
    }
    match decoded.error {
        None => Ok(()),
        Some(error) => {
            println!("{error}");
            Err(format!("{} payload failed to decode", kind.name()))
        }
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
