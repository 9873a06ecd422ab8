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
use ffc_device::client::{{ClientConfig, Credentials, DeviceClient}};
use ffc_device::query::{{DataType, Query}};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {{
    let zone = {zone};
    let password = std::env::var("FFC_PASSWORD")?;
    let client = DeviceClient::new(
        ClientConfig::new({base_url:?}, zone),
        Credentials::new({username:?}, password),
    )?;
{body}    Ok(())
}}
"#
    )
}
