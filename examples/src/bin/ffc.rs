//! `ffc`: the command-line tool for FootfallCam data.
use std::io::Read as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use ffc_core::{CameraSerial, Zone};
use ffc_device::client::{Credentials, DeviceClient, DeviceClientConfig};
use ffc_device::query::{split_range, DataType, Query};
use ffc_examples::args::{self, RecordFormat};
use ffc_examples::runtime;
use ffc_examples::{decode, demo, report, sample, snippet};
use ffc_protocols::bacnet::client::{
    BacnetClientConfig as BacnetConfig, Client as BacnetClient, DeviceInfo,
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
        /// The zone device bodies' and export files' local times are in (`UTC`, `+08:00`,
        /// `Europe/London`).
        #[arg(long, default_value = "UTC")]
        zone: String,
        /// export-csv: the date format the export was made with, .NET (`dd/MM/yyyy`,
        /// `yyyy-MM-dd`, `M/d/yyyy`) or chrono (`%d.%m.%Y`).
        #[arg(long, default_value = "dd/MM/yyyy")]
        date_format: String,
        /// export-csv: the time format, .NET (`HH:mm:ss`, `h:mm tt`) or chrono (`%H:%M`).
        #[arg(long, default_value = "HH:mm:ss")]
        time_format: String,
    },
    /// Run a receiver that counters push to, and show or store what they send.
    Listen {
        #[command(subcommand)]
        command: ListenCommand,
    },
    /// The Analytic Manager V9 server APIs: token, exportData, the cube API and the sales
    /// import; `--print-curl`/`--print-rust` print the queries instead of sending them.
    Server(ServerArgs),
    /// Sales files (FootfallCam's import layout): validate, and conversion against footfall.
    Sales {
        #[command(subcommand)]
        command: SalesCommand,
    },
    /// The main job on loopback, nothing installed: simulated counters over HTTP, BACnet,
    /// WebSocket and MQTT (embedded broker), one offline for an hour; the V9 server
    /// simulator's export and sales import; a branch report with completeness and
    /// conversion, CSV and an SVG chart.
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
    /// Subscribe to counters' MQTT topics on a broker (ffc-protocols' subscriber:
    /// reconnects and re-subscribes by itself). Prints `subscribed to FILTERS at URL` once
    /// the broker confirmed, then (without --events) every counting event and occupancy
    /// sample as a JSON line with its topic. The password only from env FFC_MQTT_PASSWORD
    /// (never on the command line).
    Mqtt(MqttListenArgs),
}

#[derive(Args)]
struct MqttListenArgs {
    /// The broker, `mqtt://host:1883` (`mqtts://` with TLS builds).
    #[arg(long, env = "FFC_MQTT_URL")]
    url: String,
    /// A topic filter (repeat for several; default `/status/+`, every counter's default
    /// topic).
    #[arg(long = "filter")]
    filters: Vec<String>,
    /// Join a shared subscription: filters become `$share/GROUP/filter`, so the workers
    /// of one group split the stream between them.
    #[arg(long)]
    share: Option<String>,
    /// Subscription QoS: 0 (what counters publish) or 1 (with --events, acknowledged only
    /// after the event is synced to the file).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=1))]
    qos: u8,
    /// Client id (default `ffc-listen-PID`); with --persistent it names the broker's
    /// session, so keep it fixed.
    #[arg(long)]
    client_id: Option<String>,
    /// Ask the broker to keep the session (subscriptions, QoS 1 messages) while away.
    #[arg(long)]
    persistent: bool,
    /// Speak MQTT 5 instead of 3.1.1.
    #[arg(long)]
    mqtt5: bool,
    /// Username; its password comes only from env FFC_MQTT_PASSWORD.
    #[arg(long, env = "FFC_MQTT_USERNAME")]
    username: Option<String>,
    /// Append counting events to this JSON-lines file (durable: a QoS 1 message is
    /// acknowledged only after the write is synced) instead of printing them.
    #[arg(long)]
    events: Option<PathBuf>,
    /// Append undecodable payloads here (JSON lines; default: print them).
    #[arg(long)]
    dead_letters: Option<PathBuf>,
    /// Stop after this many counting events were kept (default: run until Ctrl-C).
    #[arg(long)]
    max_events: Option<u64>,
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
    password: Option<String>,
    /// Print the requests (token, export, cube) as a curl script (password and token as
    /// `$FFC_V9_PASSWORD` and `$FFC_V9_TOKEN`) instead of sending them.
    #[arg(long, global = true)]
    print_curl: bool,
    /// Print the requests as a Rust program using ffc-client instead of sending them.
    #[arg(long, global = true)]
    print_rust: bool,
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
    /// The cube API (`/API/v1/load`): measures by code over a time dimension, in 30-day
    /// chunks; one JSON line (or CSV row) per row.
    Cube {
        /// Which cube: sites or areas (one area per counter).
        #[arg(long, value_enum, default_value_t = CubeName::Site)]
        cube: CubeName,
        /// Measure codes, comma-separated (A01 in, A02 out, A03 occupancy, A05 outside
        /// traffic, A15 transactions, B06 conversion, ...).
        #[arg(long, value_delimiter = ',', required = true)]
        measures: Vec<String>,
        /// Dimensions, comma-separated (`SiteId`, `SiteName`, `AreaId`,
        /// `AggregationStatus`).
        #[arg(long, value_delimiter = ',')]
        dimensions: Vec<String>,
        /// First day, `YYYY-MM-DD`.
        #[arg(long)]
        from: String,
        /// Last day (inclusive), `YYYY-MM-DD`.
        #[arg(long)]
        to: String,
        /// Time bucket.
        #[arg(long, value_enum, default_value_t = CubeGranularity::Day)]
        granularity: CubeGranularity,
        /// Only these site ids (comma-separated).
        #[arg(long, value_delimiter = ',')]
        sites: Vec<String>,
        /// Only these area ids (comma-separated; area cube).
        #[arg(long, value_delimiter = ',')]
        areas: Vec<String>,
        /// Row limit per request.
        #[arg(long)]
        limit: Option<u64>,
        /// How rows are printed.
        #[arg(long, value_enum, default_value_t = RecordFormat::Json)]
        format: RecordFormat,
    },
    /// Validate a sales CSV with ffc-sales, then upload its import rows one (site, day) at
    /// a time (the server replaces a site's whole day on any row of it). An invalid file is
    /// refused whole, nothing sent, unless --valid-rows-only; prints the import report and
    /// what the server took as JSON.
    ImportSales {
        /// The CSV file (spec §8 layout).
        file: PathBuf,
        /// A known store code (repeat); rows of other stores are errors.
        #[arg(long = "store")]
        stores: Vec<String>,
        /// Upload the (site, day)s free of errors instead of refusing the file.
        #[arg(long)]
        valid_rows_only: bool,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum CubeName {
    Site,
    Area,
}

#[derive(Clone, Copy, ValueEnum)]
enum CubeGranularity {
    Hour,
    Day,
    Week,
    Month,
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
    /// Join a sales CSV with footfall into conversion (transactions / footfall in) and
    /// ATV per store, per hour or per day. An hour whose footfall is partial or missing is
    /// flagged and gets no rate; a day gets one only when every open hour is whole.
    Convert {
        /// The sales CSV (spec §8 layout); rows with errors are left out and counted.
        file: PathBuf,
        /// Footfall: records as `ffc device pull`/`server export`/`bacnet read` print them
        /// (CSV or JSON lines), or events as `ffc listen ws|mqtt --events` store them.
        #[arg(long)]
        footfall: PathBuf,
        /// A store and its footfall: `CODE=SERIAL[,SERIAL..]` (counters, rolled up with
        /// completeness) or `CODE=site:ID` (repeat per store).
        #[arg(long = "store", required = true)]
        stores: Vec<String>,
        /// Opening time, local `HH:MM`.
        #[arg(long, default_value = "08:00")]
        open: String,
        /// Closing time, local `HH:MM`.
        #[arg(long, default_value = "20:00")]
        close: String,
        /// The stores' zone.
        #[arg(long, default_value = "UTC")]
        zone: String,
        /// Hourly or daily rows.
        #[arg(long, value_enum, default_value_t = ffc_examples::convert::Per::Hour)]
        per: ffc_examples::convert::Per,
        /// CSV or JSON lines.
        #[arg(long, value_enum, default_value_t = RecordFormat::Csv)]
        format: RecordFormat,
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
        Command::Listen {
            command: ListenCommand::Mqtt(mqtt),
        } => runtime()?.block_on(listen_mqtt(mqtt)),
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
        Command::Sales {
            command:
                SalesCommand::Convert {
                    file,
                    footfall,
                    stores,
                    open,
                    close,
                    zone,
                    per,
                    format,
                },
        } => sales_convert(
            &file,
            &footfall,
            &stores,
            (&open, &close),
            &zone,
            per,
            format,
        ),
        Command::Decode {
            kind,
            file,
            zone,
            date_format,
            time_format,
        } => {
            let options = decode::Options::in_zone(args::parse_zone(&zone)?)
                .with_formats(&date_format, &time_format)?;
            run_decode(kind, &file, &options)
        }
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
            DeviceClientConfig::new(device.url.clone(), zone),
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
                        "    // The client fetches, caches and refreshes the token itself; token() shows it.\n    let token = client.token().await?;\n    println!(\"{}\", token.expose());\n    let _ = (NaiveDate::MIN, NaiveTime::MIN, Resolution::Hour, DataType::Json);\n    let _ = Query::builder();\n    let _: Option<UtcOffset> = None;\n"
                    )
                );
            }
            if printing {
                return Ok(());
            }
            let token = connect(zone)?.token().await.map_err(|e| e.to_string())?;
            println!("{}", token.expose());
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
            let config =
                DeviceClientConfig::new(device.url.clone(), zone).with_concurrency(*concurrency);
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
            let mut client =
                BacnetClient::bind(BacnetConfig::default().with_bind(bind_for(&target)))
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
            let mut client =
                BacnetClient::bind(BacnetConfig::default().with_bind(bind_for(&target)))
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

/// Forwards to the file sink and stops the subscriber once `max` events were stored.
struct StopAfter<S> {
    inner: S,
    stored: std::sync::atomic::AtomicU64,
    max: Option<u64>,
    stopper: ffc_protocols::mqtt::subscriber::Stopper,
}

#[async_trait::async_trait]
impl<S: ffc_protocols::sink::EventSink> ffc_protocols::sink::EventSink for StopAfter<S> {
    async fn accept(
        &self,
        event: &ffc_core::CountEvent,
    ) -> Result<ffc_protocols::sink::Accepted, ffc_protocols::sink::SinkError> {
        use std::sync::atomic::Ordering;
        let accepted = self.inner.accept(event).await?;
        if accepted == ffc_protocols::sink::Accepted::Stored {
            let stored = self.stored.fetch_add(1, Ordering::SeqCst) + 1;
            if self.max.is_some_and(|max| stored >= max) {
                self.stopper.stop();
            }
        }
        Ok(accepted)
    }
}

async fn listen_mqtt(a: MqttListenArgs) -> Result<(), String> {
    use ffc_protocols::mqtt::subscriber::{Received, Subscriber, SubscriberConfig};
    use ffc_protocols::mqtt::{Credentials, Protocol, Qos};
    use ffc_protocols::sink::{DeadLetterSink, FileDeadLetters, FileSink, MemoryDeadLetters};
    use std::io::Write as _;
    let client_id = a
        .client_id
        .clone()
        .unwrap_or_else(|| format!("ffc-listen-{}", std::process::id()));
    let mut config = SubscriberConfig::new(&a.url, client_id).map_err(|e| format!("--url: {e}"))?;
    if !a.filters.is_empty() {
        config.filters = a.filters.clone();
    }
    config.share_group = a.share.clone();
    config.qos = if a.qos == 1 {
        Qos::AtLeastOnce
    } else {
        Qos::AtMostOnce
    };
    config.clean_session = !a.persistent;
    config.protocol = if a.mqtt5 {
        Protocol::V5
    } else {
        Protocol::V311
    };
    let password = std::env::var("FFC_MQTT_PASSWORD").ok();
    config.credentials = match (&a.username, password) {
        (Some(user), password) => Some(Credentials::new(user, password.unwrap_or_default())),
        (None, Some(_)) => return Err("FFC_MQTT_PASSWORD is set but no --username".into()),
        (None, None) => None,
    };
    let filters = config.subscribed_filters().join(" ");
    let url = config.url.to_string();
    // The subscriber retries an unreachable broker with backoff; say what it is doing.
    eprintln!("connecting to {url} as {}", config.client_id);
    let subscriber = Subscriber::new(config).map_err(|e| e.to_string())?;
    let mut status = subscriber.status();
    let stopper = subscriber.stopper();
    tokio::spawn(async move {
        if status.wait_for(|s| s.subacks >= 1).await.is_ok() {
            println!("subscribed to {filters} at {url}");
            let _ = std::io::stdout().flush();
        }
    });
    {
        let stopper = stopper.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                stopper.stop();
            }
        });
    }
    let dead_file = match &a.dead_letters {
        Some(path) => {
            Some(FileDeadLetters::open(path).map_err(|e| format!("{}: {e}", path.display()))?)
        }
        None => None,
    };
    let line = |v: serde_json::Value| {
        println!("{v}");
        let _ = std::io::stdout().flush();
    };
    let with_topic = |v: Result<serde_json::Value, serde_json::Error>, topic: String| {
        v.map(|mut v| {
            v["topic"] = serde_json::json!(topic);
            v
        })
        .map_err(|e| e.to_string())
    };
    let stats = match &a.events {
        None => {
            let (mut rx, task) = subscriber.into_stream();
            let mut kept = 0u64;
            while let Some(item) = rx.recv().await {
                match item {
                    Received::Count { topic, event } => {
                        line(with_topic(serde_json::to_value(event), topic)?);
                        kept += 1;
                    }
                    Received::Occupancy { topic, sample } => {
                        line(with_topic(serde_json::to_value(sample), topic)?);
                    }
                    Received::DeadLetter(letter) => match &dead_file {
                        Some(file) => file.dead_letter(letter).await.map_err(|e| e.to_string())?,
                        None => line(serde_json::json!({ "dead_letter": letter })),
                    },
                }
                if a.max_events.is_some_and(|max| kept >= max) {
                    stopper.stop();
                }
            }
            task.await
                .map_err(|e| format!("subscriber task: {e}"))?
                .map_err(|e| e.to_string())?
        }
        Some(path) => {
            let sink = StopAfter {
                inner: FileSink::open(path).map_err(|e| format!("{}: {e}", path.display()))?,
                stored: std::sync::atomic::AtomicU64::new(0),
                max: a.max_events,
                stopper: stopper.clone(),
            };
            let dead: Box<dyn DeadLetterSink> = match dead_file {
                Some(file) => Box::new(file),
                None => Box::new(MemoryDeadLetters::new()),
            };
            let (occupancy_tx, mut occupancy_rx) = tokio::sync::mpsc::channel(256);
            let run = subscriber.run_into(&sink, dead.as_ref(), Some(&occupancy_tx));
            let mut run = std::pin::pin!(run);
            loop {
                tokio::select! {
                    result = &mut run => break result.map_err(|e| e.to_string())?,
                    Some(sample) = occupancy_rx.recv() => {
                        line(serde_json::to_value(sample).map_err(|e| e.to_string())?);
                    }
                }
            }
        }
    };
    eprintln!(
        "stopped: {} messages, {} events kept, {} duplicates, {} occupancy samples, {} dead-lettered, {} connections",
        stats.messages,
        stats.events,
        stats.duplicates,
        stats.occupancy,
        stats.dead_letters,
        stats.connects
    );
    Ok(())
}

/// The cube query the `server cube` arguments describe, and the same as Rust builder calls.
#[allow(clippy::too_many_arguments)]
fn cube_query(
    cube: CubeName,
    measures: &[String],
    dimensions: &[String],
    from: &str,
    to: &str,
    granularity: CubeGranularity,
    sites: &[String],
    areas: &[String],
    limit: Option<u64>,
) -> Result<(ffc_client::v9::cube::CubeQuery, String), String> {
    use ffc_client::v9::cube::{Cube, CubeQuery, Granularity, Measure, Operator};
    let (cube, cube_rust) = match cube {
        CubeName::Site => (Cube::SiteSummary, "Cube::SiteSummary"),
        CubeName::Area => (Cube::AreaSummary, "Cube::AreaSummary"),
    };
    let (granularity, granularity_rust) = match granularity {
        CubeGranularity::Hour => (Granularity::Hour, "Granularity::Hour"),
        CubeGranularity::Day => (Granularity::Day, "Granularity::Day"),
        CubeGranularity::Week => (Granularity::Week, "Granularity::Week"),
        CubeGranularity::Month => (Granularity::Month, "Granularity::Month"),
    };
    let measures = measures
        .iter()
        .map(|code| {
            Measure::from_code(code.trim()).ok_or_else(|| {
                let known: Vec<&str> = Measure::ALL.iter().map(|m| m.code()).collect();
                format!(
                    "--measures: {code:?} is not a measure code ({})",
                    known.join(", ")
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let (from, to) = (args::parse_date(from)?, args::parse_date(to)?);
    if to < from {
        return Err(format!("--to {to} is before --from {from}"));
    }
    let mut query = CubeQuery::new(cube)
        .measures(measures.iter().copied())
        .time(granularity, from, to);
    let codes: Vec<String> = measures
        .iter()
        .map(|m| format!("Measure::{}", m.code()))
        .collect();
    let mut rust = format!(
        "    let query = CubeQuery::new({cube_rust})\n        .measures([{}])\n        .time({granularity_rust}, {}, {})\n",
        codes.join(", "),
        rust_date(from),
        rust_date(to)
    );
    for d in dimensions {
        query = query.dimension(d.clone());
        rust.push_str(&format!("        .dimension({d:?})\n"));
    }
    for (member, values) in [("SiteId", sites), ("AreaId", areas)] {
        if !values.is_empty() {
            query = query.filter(member, Operator::Equals, values.iter().cloned());
            rust.push_str(&format!(
                "        .filter({member:?}, Operator::Equals, {values:?})\n"
            ));
        }
    }
    if let Some(n) = limit {
        query = query.limit(n);
        rust.push_str(&format!("        .limit({n})\n"));
    }
    rust.push_str("        ;\n    for row in client.load_chunked(&query).await? {\n        println!(\"{row:?}\");\n    }\n");
    Ok((query, rust))
}

/// Cube rows as flat JSON objects (`time`, one key per measure code, the members) or CSV
/// with the query's measures and dimensions as columns.
fn cube_rows(
    query: &ffc_client::v9::cube::CubeQuery,
    rows: &[ffc_client::v9::cube::CubeRow],
    format: RecordFormat,
) -> Result<String, String> {
    let time = |r: &ffc_client::v9::cube::CubeRow| {
        r.time
            .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_default()
    };
    let member_text = |v: Option<&serde_json::Value>| match v {
        None | Some(serde_json::Value::Null) => String::new(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    match format {
        RecordFormat::Json => {
            let mut out = String::new();
            for r in rows {
                let mut v = serde_json::Map::new();
                v.insert("time".into(), time(r).into());
                for m in &query.measures {
                    v.insert(m.code().into(), serde_json::json!(r.get(*m)));
                }
                for (k, value) in &r.members {
                    v.insert(k.clone(), value.clone());
                }
                out.push_str(&serde_json::Value::Object(v).to_string());
                out.push('\n');
            }
            Ok(out)
        }
        RecordFormat::Csv => {
            let mut w = csv::Writer::from_writer(Vec::new());
            let mut header = vec!["time".to_owned()];
            header.extend(query.measures.iter().map(|m| m.code().to_owned()));
            header.extend(query.dimensions.iter().cloned());
            w.write_record(&header).map_err(|e| e.to_string())?;
            for r in rows {
                let mut record = vec![time(r)];
                record.extend(
                    query
                        .measures
                        .iter()
                        .map(|m| r.get(*m).map(|x| x.to_string()).unwrap_or_default()),
                );
                record.extend(
                    query
                        .dimensions
                        .iter()
                        .map(|d| member_text(r.members.get(d))),
                );
                w.write_record(&record).map_err(|e| e.to_string())?;
            }
            String::from_utf8(w.into_inner().map_err(|e| e.to_string())?).map_err(|e| e.to_string())
        }
    }
}

async fn run_server(server: ServerArgs) -> Result<(), String> {
    use ffc_client::v9::export::{InfoJson, Level, Period};
    let printing = server.print_curl || server.print_rust;
    let connect = || -> Result<ffc_client::http::V9Client, String> {
        let password = server
            .password
            .clone()
            .ok_or("no password: set FFC_V9_PASSWORD or pass --password")?;
        ffc_client::http::V9Client::new(
            &server.url,
            &server.email,
            ffc_client::Secret::new(password),
        )
        .map_err(|e| e.to_string())
    };
    let print = |requests: &[snippet::V9Request<'_>], rust_body: &str| {
        if server.print_curl {
            print!(
                "{}",
                snippet::v9_curl_script(&server.url, &server.email, requests)
            );
        }
        if server.print_rust {
            print!(
                "{}",
                snippet::v9_rust_program(&server.url, &server.email, rust_body)
            );
        }
    };
    match server.command {
        ServerCommand::Token => {
            if printing {
                print(
                    &[],
                    "    let token = client.token().await?;\n    println!(\"{}\", token.expose());\n",
                );
                if server.print_curl {
                    println!("echo \"$FFC_V9_TOKEN\"");
                }
                return Ok(());
            }
            let token = connect()?.token().await.map_err(|e| e.to_string())?;
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
            let (from, to) = (args::parse_date(&from)?, args::parse_date(&to)?);
            let info = InfoJson::new(level, ids.clone(), period, from, to, &d, &t);
            if printing {
                let chunks = info
                    .chunks(ffc_client::v9::CHUNK_DAYS)
                    .map_err(|e| e.to_string())?;
                let requests: Vec<snippet::V9Request<'_>> =
                    chunks.iter().map(snippet::V9Request::Export).collect();
                let body = format!(
                    "    let (d, t) = (default_date(), default_time());\n    let info = InfoJson::new(\n        Level::{level:?},\n        {ids:?},\n        Period::{period:?},\n        {},\n        {},\n        &d,\n        &t,\n    );\n    for row in client.export_chunked(&info).await? {{\n        println!(\"{{row:?}}\");\n    }}\n",
                    rust_date(from),
                    rust_date(to)
                );
                print(&requests, &body);
                return Ok(());
            }
            let rows = connect()?
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
        ServerCommand::Cube {
            cube,
            measures,
            dimensions,
            from,
            to,
            granularity,
            sites,
            areas,
            limit,
            format,
        } => {
            let (query, rust) = cube_query(
                cube,
                &measures,
                &dimensions,
                &from,
                &to,
                granularity,
                &sites,
                &areas,
                limit,
            )?;
            if printing {
                let chunks = query.chunks(ffc_client::v9::CHUNK_DAYS);
                let requests: Vec<snippet::V9Request<'_>> =
                    chunks.iter().map(snippet::V9Request::Load).collect();
                print(&requests, &rust);
                return Ok(());
            }
            let rows = connect()?
                .load_chunked(&query)
                .await
                .map_err(|e| e.to_string())?;
            print!("{}", cube_rows(&query, &rows, format)?);
            eprintln!("{} rows", rows.len());
            Ok(())
        }
        ServerCommand::ImportSales {
            file,
            stores,
            valid_rows_only,
        } => {
            if printing {
                return Err(
                    "--print-curl/--print-rust cover token, export and cube; import-sales sends the validated file's rows".into(),
                );
            }
            let import = sales_import(&file, stores, valid_rows_only)?;
            if import.report.outcome == ffc_sales::Outcome::Rejected {
                println!(
                    "{}",
                    serde_json::to_string_pretty(
                        &serde_json::json!({ "report": import.report, "upload": null })
                    )
                    .map_err(|e| e.to_string())?
                );
                return Err(format!(
                    "{}: rejected, {} errors; nothing was sent",
                    file.display(),
                    import.report.error_count
                ));
            }
            let client = connect()?;
            let (uploaded, failure) =
                match ffc_examples::upload::upload_batches(&client, &import.batches).await {
                    Ok(uploaded) => (uploaded, None),
                    Err((uploaded, e)) => (uploaded, Some(e)),
                };
            let mut upload = uploaded.to_json();
            upload["error"] = serde_json::json!(failure);
            let summary = serde_json::json!({ "report": import.report, "upload": upload });
            println!(
                "{}",
                serde_json::to_string_pretty(&summary).map_err(|e| e.to_string())?
            );
            match failure {
                None => {
                    eprintln!(
                        "uploaded {} rows of {} (site, day)s",
                        uploaded.done,
                        import.batches.len()
                    );
                    Ok(())
                }
                Some(e) => Err(format!(
                    "upload stopped at {e}; {} of {} (site, day)s were uploaded whole, run again to send the rest (a day sent twice is replaced, not doubled)",
                    uploaded.days.len(),
                    import.batches.len()
                )),
            }
        }
    }
}

/// Reads and validates a sales CSV into ffc-sales' import (report and batches).
fn sales_import(
    file: &PathBuf,
    stores: Vec<String>,
    valid_rows_only: bool,
) -> Result<ffc_sales::Import, String> {
    let bytes = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let mut config = ffc_sales::ValidationConfig::default();
    if !stores.is_empty() {
        config = config.with_known_stores(stores);
    }
    let mode = if valid_rows_only {
        ffc_sales::ImportMode::ValidRowsOnly
    } else {
        ffc_sales::ImportMode::Atomic
    };
    Ok(ffc_sales::validate_bytes(&bytes, &config).import(&file.display().to_string(), mode))
}

fn sales_validate(
    file: &PathBuf,
    stores: Vec<String>,
    valid_rows_only: bool,
    batches: Option<&PathBuf>,
) -> Result<(), String> {
    let import = sales_import(file, stores, valid_rows_only)?;
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

fn sales_convert(
    file: &PathBuf,
    footfall: &PathBuf,
    stores: &[String],
    (open, close): (&str, &str),
    zone: &str,
    per: ffc_examples::convert::Per,
    format: RecordFormat,
) -> Result<(), String> {
    use ffc_examples::convert;
    let zone = args::parse_zone(zone)?;
    let seconds = |t: &str| -> Result<u32, String> {
        use chrono::Timelike as _;
        Ok(args::parse_time(t)?.num_seconds_from_midnight())
    };
    let hours = ffc_core::kpi::OperatingHours {
        open: seconds(open)?,
        close: seconds(close)?,
    };
    if hours.close <= hours.open {
        return Err(format!("--close {close} is not after --open {open}"));
    }
    let stores = stores
        .iter()
        .map(|s| convert::parse_store(s))
        .collect::<Result<Vec<_>, _>>()?;
    let sales = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let footfall_bytes =
        std::fs::read(footfall).map_err(|e| format!("{}: {e}", footfall.display()))?;
    let footfall = convert::read_footfall(&footfall_bytes)
        .map_err(|e| format!("{}: {e}", footfall.display()))?;
    let (validation, conversion) = convert::convert(&sales, &footfall, &stores, &hours, zone)?;
    print!("{}", convert::render(&conversion, per, format, &zone)?);
    let flagged = conversion.hours.iter().filter(|h| h.flag.is_some()).count();
    eprintln!(
        "{} valid sales rows ({} with errors left out); {} store-hours, {} flagged; {} store-days{}",
        validation.counts.valid,
        validation.error_count,
        conversion.hours.len(),
        flagged,
        conversion.days.len(),
        if conversion.stores_without_footfall.is_empty() {
            String::new()
        } else {
            format!(
                "; no footfall for {}",
                conversion.stores_without_footfall.join(", ")
            )
        }
    );
    Ok(())
}

fn run_decode(kind: decode::Kind, file: &str, options: &decode::Options) -> Result<(), String> {
    let mut bytes = Vec::new();
    let read = if file == "-" {
        std::io::stdin().read_to_end(&mut bytes).map(|_| ())
    } else {
        std::fs::read(file).map(|b| bytes = b)
    };
    read.map_err(|e| format!("{file}: {e}"))?;
    let decoded = decode::decode_with(kind, &bytes, options);
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
