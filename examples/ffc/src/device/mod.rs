//! `ffc device token|counts|pull`: the counter's CGI API. Each command builds its request
//! once ([`DeviceRequest`]) and then sends it, or prints it as curl (`--print-curl`) or
//! as Rust (`--print-rust`, rendered from the same value by [`render`]).
use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use ffc_core::{Resolution, UnixSeconds, Zone};
use ffc_device::client::{Credentials, DeviceClient, DeviceClientConfig};
use ffc_device::query::{split_range, DataType, Query};

use crate::args::{self, RecordFormat};
use crate::snippet;

pub mod render;

/// `ffc device`: where the counter is and who logs in.
#[derive(Args)]
pub struct DeviceArgs {
    /// The counter's CGI directory, e.g. `http://192.168.2.123/cgi-bin/`.
    #[arg(long, env = "FFC_DEVICE_URL")]
    pub url: String,
    /// Username.
    #[arg(long, default_value = "admin")]
    pub username: String,
    /// The Setup Wizard password (better given as env FFC_PASSWORD).
    #[arg(long, env = "FFC_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    /// The counter's zone: `UTC`, an offset like `+08:00`, or an IANA name.
    #[arg(long, default_value = "UTC")]
    pub zone: String,
    /// Print the requests as a curl script (password and token as `$FFC_PASSWORD` and
    /// `$FFC_TOKEN`) instead of sending them.
    #[arg(long, global = true)]
    pub print_curl: bool,
    /// Print the requests as a Rust program using ffc-device instead of sending them.
    #[arg(long, global = true)]
    pub print_rust: bool,
    /// What to ask.
    #[command(subcommand)]
    pub command: DeviceCommand,
}

/// The device commands.
#[derive(Subcommand)]
pub enum DeviceCommand {
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
        /// Bucket, wire format and output format.
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
        /// Bucket, wire format and output format.
        #[command(flatten)]
        shape: Shape,
    },
}

/// What a count request asks for and how its records are printed.
#[derive(Args)]
pub struct Shape {
    /// Bucket length: `hour`, `<n>m` or `<n>s` (n = 1, 5, 10, 15, 30, 60).
    #[arg(long, default_value = "hour")]
    pub resolution: String,
    /// What the counter is asked to answer in.
    #[arg(long, value_enum, default_value_t = WireFormat::Json)]
    pub data_type: WireFormat,
    /// How records are printed.
    #[arg(long, value_enum, default_value_t = RecordFormat::Csv)]
    pub format: RecordFormat,
}

/// The counter's answer format.
#[derive(Clone, Copy, ValueEnum)]
pub enum WireFormat {
    /// JSON.
    Json,
    /// XML.
    Xml,
}

impl WireFormat {
    fn data_type(self) -> DataType {
        match self {
            WireFormat::Json => DataType::Json,
            WireFormat::Xml => DataType::Xml,
        }
    }
}

/// A long pull: the range (UTC, end exclusive) and what each window asks for.
#[derive(Debug, Clone, Copy)]
pub struct Pull {
    /// First instant (UTC).
    pub from: UnixSeconds,
    /// End (UTC, exclusive).
    pub to: UnixSeconds,
    /// The bucket length.
    pub resolution: Resolution,
    /// The wire format.
    pub data_type: DataType,
}

/// The one value a device command sends, or prints as curl or Rust.
#[derive(Debug, Clone, Copy)]
pub enum DeviceRequest {
    /// Fetch a token.
    Token,
    /// One `apiCount.cgi` window.
    Counts(Query),
    /// A long pull, split into windows.
    Pull(Pull),
}

/// Builds the command's request, then prints or sends it.
pub fn run(device: DeviceArgs) -> Result<(), String> {
    let zone = args::parse_zone(&device.zone)?;
    let request = request(&device.command, &zone)?;
    if device.print_curl || device.print_rust {
        return print(&device, &request, &zone);
    }
    crate::block_on(send(&device, request, zone))
}

/// The request the arguments describe, validated by the SDK's builders.
fn request(command: &DeviceCommand, zone: &Zone) -> Result<DeviceRequest, String> {
    match command {
        DeviceCommand::Token => Ok(DeviceRequest::Token),
        DeviceCommand::Counts {
            date,
            date_end,
            time_start,
            time_end,
            shape,
        } => {
            let mut builder = Query::builder()
                .data_type(shape.data_type.data_type())
                .resolution(args::parse_resolution(&shape.resolution)?)
                .date_start(args::parse_date(date)?);
            if let Some(d) = date_end {
                builder = builder.date_end(args::parse_date(d)?);
            }
            if let Some(t) = time_start {
                builder = builder.time_start(args::parse_time(t)?);
            }
            if let Some(t) = time_end {
                builder = builder.time_end(args::parse_time(t)?);
            }
            let query = builder
                .build(zone)
                .map_err(|e| format!("query refused: {e}"))?;
            Ok(DeviceRequest::Counts(query))
        }
        DeviceCommand::Pull {
            from, to, shape, ..
        } => {
            let local = |text: &str| -> Result<UnixSeconds, String> {
                let naive = args::parse_local(text)?;
                Ok(zone.local_to_utc(ffc_core::time::naive_to_seconds(naive)))
            };
            Ok(DeviceRequest::Pull(Pull {
                from: local(from)?,
                to: local(to)?,
                resolution: args::parse_resolution(&shape.resolution)?,
                data_type: shape.data_type.data_type(),
            }))
        }
    }
}

/// `--print-curl` and `--print-rust`: the request as a script and as a program.
fn print(device: &DeviceArgs, request: &DeviceRequest, zone: &Zone) -> Result<(), String> {
    if device.print_curl {
        let queries = match request {
            DeviceRequest::Token => Vec::new(),
            DeviceRequest::Counts(query) => vec![*query],
            DeviceRequest::Pull(p) => split_range(p.from, p.to, p.resolution, p.data_type, zone)
                .map_err(|e| format!("range refused: {e}"))?
                .iter()
                .map(|w| w.query)
                .collect(),
        };
        match request {
            DeviceRequest::Token => println!(
                "{}echo \"$FFC_TOKEN\"",
                snippet::curl_token(&device.url, &device.username)
            ),
            _ => print!(
                "{}",
                snippet::curl_script(&device.url, &device.username, &queries)
            ),
        }
    }
    if device.print_rust {
        let zone_rust = args::zone_rust(&device.zone, zone);
        let body = render::request_rust(request, zone)?;
        print!(
            "{}",
            snippet::rust_program(&device.url, &device.username, &zone_rust, &body)
        );
    }
    Ok(())
}

fn client(device: &DeviceArgs, config: DeviceClientConfig) -> Result<DeviceClient, String> {
    let password = device
        .password
        .clone()
        .ok_or("no password: set FFC_PASSWORD or pass --password")?;
    DeviceClient::new(config, Credentials::new(device.username.clone(), password))
        .map_err(|e| e.to_string())
}

/// Sends the request and prints what the counter answered.
async fn send(device: &DeviceArgs, request: DeviceRequest, zone: Zone) -> Result<(), String> {
    let config = DeviceClientConfig::new(device.url.clone(), zone);
    match (request, &device.command) {
        (DeviceRequest::Token, _) => {
            let token = client(device, config)?
                .token()
                .await
                .map_err(|e| e.to_string())?;
            println!("{}", token.expose());
            Ok(())
        }
        (DeviceRequest::Counts(query), DeviceCommand::Counts { shape, .. }) => {
            let body = client(device, config)?
                .counts(&query)
                .await
                .map_err(|e| e.to_string())?;
            print!("{}", args::records(&body.records, shape.format, &zone)?);
            Ok(())
        }
        (
            DeviceRequest::Pull(range),
            DeviceCommand::Pull {
                concurrency,
                output,
                quiet,
                shape,
                ..
            },
        ) => {
            let client = client(device, config.with_concurrency(*concurrency))?;
            let out = PullOutput {
                zone,
                format: shape.format,
                output: output.as_ref(),
                quiet: *quiet,
            };
            pull(&client, range, &out).await
        }
        _ => Err("the request does not match its command".into()),
    }
}

/// Where and how a pull's records go.
struct PullOutput<'a> {
    zone: Zone,
    format: RecordFormat,
    output: Option<&'a PathBuf>,
    quiet: bool,
}

/// A long pull with a progress bar; what arrived before a failure is still written.
async fn pull(client: &DeviceClient, p: Pull, out: &PullOutput<'_>) -> Result<(), String> {
    let bar = if out.quiet {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::new(0)
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} windows {msg}")
            .map_err(|e| e.to_string())?,
    );
    let result = client
        .pull(p.from, p.to, p.resolution, p.data_type, |progress| {
            bar.set_length(progress.windows_total as u64);
            bar.set_position(progress.windows_done as u64);
            bar.set_message(format!("{} records", progress.records));
        })
        .await;
    bar.finish_and_clear();
    match result {
        Ok(records) => {
            let text = args::records(&records, out.format, &out.zone)?;
            crate::emit(&text, out.output)?;
            eprintln!("pulled {} records", records.len());
            Ok(())
        }
        Err(e) => {
            let text = args::records(&e.records, out.format, &out.zone)?;
            crate::emit(&text, out.output)?;
            Err(format!(
                "{e}; {} records written; run again with --from at UTC {}",
                e.records.len(),
                e.resume_from
            ))
        }
    }
}
