//! What `--print-curl` and `--print-rust` print: the same request as a shell script and as
//! Rust. Secrets never appear: the password is `$FFC_PASSWORD` and the token `$FFC_TOKEN`,
//! read from the environment when the script runs.

use ffc_device::query::{Query, DEFAULT_COUNT_PATH, TOKEN_PATH};

/// The CGI directory with exactly one trailing slash.
pub fn cgi_base(base_url: &str) -> String {
    format!("{}/", base_url.trim_end_matches('/'))
}

/// Single-quotes `text` for POSIX sh.
fn sh_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// The shell lines that fetch the token into `FFC_TOKEN` (the password comes from
/// `$FFC_PASSWORD`).
pub fn curl_token(base_url: &str, username: &str) -> String {
    format!(
        "FFC_TOKEN=$(curl -sS -G {url} --data-urlencode {user} --data-urlencode \"password=$FFC_PASSWORD\" \\\n  | sed -E 's/.*\"(access_token|token|AccessToken)\" *: *\"([^\"]*)\".*/\\2/')\n",
        url = sh_quote(&format!("{}{TOKEN_PATH}", cgi_base(base_url))),
        user = sh_quote(&format!("username={username}")),
    )
}

/// A whole script: token, then one count request per query (with `$FFC_TOKEN`).
pub fn curl_script(base_url: &str, username: &str, queries: &[Query]) -> String {
    let mut out = String::from(
        "#!/bin/sh\n# Set FFC_PASSWORD first; the token is fetched into FFC_TOKEN.\nset -e\n",
    );
    out.push_str(&curl_token(base_url, username));
    for query in queries {
        let params: Vec<String> = query
            .params()
            .iter()
            .map(|(name, value)| format!("-d {}", sh_quote(&format!("{name}={value}"))))
            .collect();
        out.push_str(&format!(
            "curl -sS -G {} {} --data-urlencode \"access_token=$FFC_TOKEN\"\necho\n",
            sh_quote(&format!("{}{DEFAULT_COUNT_PATH}", cgi_base(base_url))),
            params.join(" ")
        ));
    }
    out
}

/// The Rust program that sends the same request through ffc-device. `zone` and
/// `resolution` are Rust expressions; `body` the statements that build and send.
pub fn rust_program(base_url: &str, username: &str, zone: &str, body: &str) -> String {
    format!(
        r#"// Cargo.toml: ffc-device = "0.1", ffc-core = "0.1", chrono = "0.4",
//             tokio = {{ version = "1", features = ["rt", "macros"] }}
use chrono::{{NaiveDate, NaiveTime}};
use ffc_core::{{Resolution, UtcOffset, Zone}};
use ffc_device::client::{{Credentials, DeviceClient, DeviceClientConfig}};
use ffc_device::query::{{DataType, Query}};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {{
    let zone = {zone};
    let password = std::env::var("FFC_PASSWORD")?;
    let client = DeviceClient::new(
        DeviceClientConfig::new({base_url:?}, zone),
        Credentials::new({username:?}, password),
    )?;
{body}    Ok(())
}}
"#
    )
}

/// One V9 server request for [`v9_curl_script`].
#[derive(Debug, Clone, Copy)]
pub enum V9Request<'a> {
    /// `GET exportData?infoJson=..`.
    Export(&'a ffc_client::v9::export::InfoJson),
    /// `POST /API/v1/load` with the query's body.
    Load(&'a ffc_client::v9::cube::CubeQuery),
}

/// The server's base URL without a trailing slash.
fn v9_base(base_url: &str) -> &str {
    base_url.trim_end_matches('/')
}

/// A script that fetches a V9 access token into `FFC_V9_TOKEN` (password from
/// `$FFC_V9_PASSWORD`; it must not contain `"` or `\`, which the JSON body would need
/// escaped) and then sends each request with it.
pub fn v9_curl_script(base_url: &str, email: &str, requests: &[V9Request<'_>]) -> String {
    use ffc_client::v9::{EXPORT_PATH, LOAD_PATH, TOKEN_HEADER, TOKEN_PATH};
    let base = v9_base(base_url);
    let mut out = String::from(
        "#!/bin/sh\n# Set FFC_V9_PASSWORD first; the token is fetched into FFC_V9_TOKEN.\nset -e\n",
    );
    out.push_str(&format!(
        "FFC_V9_TOKEN=$(curl -sS -X POST {url} -H 'Content-Type: application/json' \\\n  --data \"$(printf '{{\"email\":\"%s\",\"password\":\"%s\"}}' {email} \"$FFC_V9_PASSWORD\")\" \\\n  | sed -E 's/.*\"AToken\" *: *\"([^\"]*)\".*/\\1/')\n",
        url = sh_quote(&format!("{base}{TOKEN_PATH}")),
        email = sh_quote(email),
    ));
    for request in requests {
        match request {
            V9Request::Export(info) => out.push_str(&format!(
                "curl -sS -G {} --data-urlencode {} --data-urlencode \"access_token=$FFC_V9_TOKEN\" -H \"{TOKEN_HEADER}: $FFC_V9_TOKEN\"\necho\n",
                sh_quote(&format!("{base}{EXPORT_PATH}")),
                sh_quote(&format!("infoJson={}", info.to_json())),
            )),
            V9Request::Load(query) => out.push_str(&format!(
                "curl -sS -X POST {} -H \"Authorization: Bearer $FFC_V9_TOKEN\" -H 'Content-Type: application/json' --data {}\necho\n",
                sh_quote(&format!("{base}{LOAD_PATH}")),
                sh_quote(&query.to_body().to_string()),
            )),
        }
    }
    out
}

/// The Rust program that sends the same V9 requests through ffc-client; `body` holds the
/// statements after the client is made.
pub fn v9_rust_program(base_url: &str, email: &str, body: &str) -> String {
    format!(
        r#"// Cargo.toml: ffc-client = "0.1", chrono = "0.4",
//             tokio = {{ version = "1", features = ["rt", "macros"] }}
#![allow(unused_imports)]
use chrono::NaiveDate;
use ffc_client::datefmt::{{default_date, default_time}};
use ffc_client::http::V9Client;
use ffc_client::v9::cube::{{Cube, CubeQuery, Granularity, Measure, Operator}};
use ffc_client::v9::export::{{InfoJson, Level, Period}};
use ffc_client::Secret;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {{
    let password = Secret::new(std::env::var("FFC_V9_PASSWORD")?);
    let client = V9Client::new({base_url:?}, {email:?}, password)?;
{body}    Ok(())
}}
"#
    )
}
