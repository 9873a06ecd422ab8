//! `ffc server token|export|cube|import-sales`: the Analytic Manager V9 APIs. Token,
//! export and cube build their request once ([`ServerRequest`]) and then send it, or print
//! it as curl or as Rust (rendered from the same value by [`render`]).
use std::path::PathBuf;

use clap::{Args, Subcommand};
use ffc_client::http::V9Client;
use ffc_client::v9::cube::CubeQuery;
use ffc_client::v9::export::{InfoJson, Level, Period};

use crate::args::{self, RecordFormat};
use crate::snippet;

pub mod cube;
mod import;
pub mod render;

/// `ffc server`: which server and which account.
#[derive(Args)]
pub struct ServerArgs {
    /// The server's base URL, e.g. `https://v9.footfallcam.com`.
    #[arg(long, env = "FFC_V9_URL")]
    pub url: String,
    /// The account's e-mail.
    #[arg(long, env = "FFC_V9_EMAIL")]
    pub email: String,
    /// The account's password (better given as env FFC_V9_PASSWORD).
    #[arg(long, env = "FFC_V9_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    /// Print the requests (token, export, cube) as a curl script (password and token as
    /// `$FFC_V9_PASSWORD` and `$FFC_V9_TOKEN`) instead of sending them.
    #[arg(long, global = true)]
    pub print_curl: bool,
    /// Print the requests as a Rust program using ffc-client instead of sending them.
    #[arg(long, global = true)]
    pub print_rust: bool,
    /// What to ask.
    #[command(subcommand)]
    pub command: ServerCommand,
}

/// The server commands.
#[derive(Subcommand)]
pub enum ServerCommand {
    /// Fetch an access token (`AToken`) and print it (a secret: keep it out of logs).
    Token,
    /// exportData: hourly or daily counts of sites or counters over days, as records.
    Export(ExportArgs),
    /// The cube API (`/API/v1/load`): measures by code over a time dimension, in 30-day
    /// chunks; one JSON line (or CSV row) per row.
    Cube(cube::CubeArgs),
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

/// `ffc server export` arguments.
#[derive(Args)]
pub struct ExportArgs {
    /// Site ids or counter serials, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub ids: Vec<String>,
    /// Counter rows instead of site rows.
    #[arg(long)]
    pub counters: bool,
    /// First day, `YYYY-MM-DD`.
    #[arg(long)]
    pub from: String,
    /// Last day (inclusive), `YYYY-MM-DD`.
    #[arg(long)]
    pub to: String,
    /// Daily rows instead of hourly.
    #[arg(long)]
    pub daily: bool,
    /// The sites' zone, for the UTC times of the rows.
    #[arg(long, default_value = "UTC")]
    pub zone: String,
    /// How records are printed.
    #[arg(long, value_enum, default_value_t = RecordFormat::Csv)]
    pub format: RecordFormat,
}

/// The one value token, export and cube send, or print as curl or Rust.
#[derive(Debug, Clone)]
pub enum ServerRequest {
    /// `POST` the account for a token.
    Token,
    /// exportData over the request's days (sent in chunks).
    Export(InfoJson),
    /// The cube API (sent in chunks).
    Cube(CubeQuery),
}

/// Builds the command's request, then prints or sends it.
pub fn run(server: ServerArgs) -> Result<(), String> {
    let printing = server.print_curl || server.print_rust;
    let request = match &server.command {
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
            return crate::block_on(import::run(&server, file, stores, *valid_rows_only));
        }
        ServerCommand::Token => ServerRequest::Token,
        ServerCommand::Export(a) => ServerRequest::Export(export_info(a)?),
        ServerCommand::Cube(a) => ServerRequest::Cube(cube::query(a)?),
    };
    if printing {
        return print(&server, &request);
    }
    crate::block_on(send(&server, request))
}

fn export_info(a: &ExportArgs) -> Result<InfoJson, String> {
    // The zone is only needed for the answer, but a bad one is refused before anything.
    args::parse_zone(&a.zone)?;
    let level = if a.counters {
        Level::Counter
    } else {
        Level::Site
    };
    let period = if a.daily {
        Period::Daily
    } else {
        Period::Hourly
    };
    let (d, t) = (
        ffc_client::datefmt::default_date(),
        ffc_client::datefmt::default_time(),
    );
    let (from, to) = (args::parse_date(&a.from)?, args::parse_date(&a.to)?);
    Ok(InfoJson::new(
        level,
        a.ids.clone(),
        period,
        from,
        to,
        &d,
        &t,
    ))
}

/// `--print-curl` and `--print-rust`: the request as a script and as a program.
fn print(server: &ServerArgs, request: &ServerRequest) -> Result<(), String> {
    if server.print_curl {
        let chunks: Vec<ServerRequest> = match request {
            ServerRequest::Token => Vec::new(),
            ServerRequest::Export(info) => info
                .chunks(ffc_client::v9::CHUNK_DAYS)
                .map_err(|e| e.to_string())?
                .into_iter()
                .map(ServerRequest::Export)
                .collect(),
            ServerRequest::Cube(query) => query
                .chunks(ffc_client::v9::CHUNK_DAYS)
                .into_iter()
                .map(ServerRequest::Cube)
                .collect(),
        };
        let requests: Vec<snippet::V9Request<'_>> = chunks
            .iter()
            .filter_map(|r| match r {
                ServerRequest::Token => None,
                ServerRequest::Export(info) => Some(snippet::V9Request::Export(info)),
                ServerRequest::Cube(query) => Some(snippet::V9Request::Load(query)),
            })
            .collect();
        print!(
            "{}",
            snippet::v9_curl_script(&server.url, &server.email, &requests)
        );
    }
    if server.print_rust {
        let body = render::request_rust(request)?;
        print!(
            "{}",
            snippet::v9_rust_program(&server.url, &server.email, &body)
        );
    }
    if server.print_curl && matches!(request, ServerRequest::Token) {
        println!("echo \"$FFC_V9_TOKEN\"");
    }
    Ok(())
}

/// The V9 client for the account (the password from the flag or env FFC_V9_PASSWORD).
fn connect(server: &ServerArgs) -> Result<V9Client, String> {
    let password = server
        .password
        .clone()
        .ok_or("no password: set FFC_V9_PASSWORD or pass --password")?;
    V9Client::new(
        &server.url,
        &server.email,
        ffc_client::Secret::new(password),
    )
    .map_err(|e| e.to_string())
}

/// Sends the request and prints what the server answered.
async fn send(server: &ServerArgs, request: ServerRequest) -> Result<(), String> {
    let client = connect(server)?;
    match (request, &server.command) {
        (ServerRequest::Token, _) => {
            let token = client.token().await.map_err(|e| e.to_string())?;
            println!("{}", token.expose());
            Ok(())
        }
        (ServerRequest::Export(info), ServerCommand::Export(a)) => {
            export(&client, &info, &args::parse_zone(&a.zone)?, a.format).await
        }
        (ServerRequest::Cube(query), ServerCommand::Cube(a)) => {
            let rows = client
                .load_chunked(&query)
                .await
                .map_err(|e| e.to_string())?;
            print!("{}", cube::rows(&query, &rows, a.format)?);
            eprintln!("{} rows", rows.len());
            Ok(())
        }
        _ => Err("the request does not match its command".into()),
    }
}

/// exportData in chunks, every row turned into a count record.
async fn export(
    client: &V9Client,
    info: &InfoJson,
    zone: &ffc_core::Zone,
    format: RecordFormat,
) -> Result<(), String> {
    let (d, t) = info.patterns().map_err(|e| e.to_string())?;
    let rows = client
        .export_chunked(info)
        .await
        .map_err(|e| e.to_string())?;
    let mut records = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        records.push(
            row.to_record(info.level, info.period, *zone, &d, &t)
                .map_err(|e| format!("row {}: {e}", i + 1))?,
        );
    }
    print!("{}", args::records(&records, format, zone)?);
    eprintln!("{} rows exported", records.len());
    Ok(())
}
