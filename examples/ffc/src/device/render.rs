//! `--print-rust` for device requests: Rust statements rendered from the very
//! [`DeviceRequest`] the command would send, reading its fields, so the printed program
//! and the sent request cannot drift apart.
use ffc_core::time::{parse_compact_date, parse_compact_time};
use ffc_core::Zone;
use ffc_device::query::{DataType, Query};

use super::{DeviceRequest, Pull};
use crate::args;
use crate::snippet::{rust_date, rust_time};

/// The statements that build and send `request` with a `client` in scope.
pub fn request_rust(request: &DeviceRequest, zone: &Zone) -> Result<String, String> {
    Ok(match request {
        DeviceRequest::Token => token_rust(),
        DeviceRequest::Counts(query) => counts_rust(query)?,
        DeviceRequest::Pull(pull) => pull_rust(pull, zone),
    })
}

/// How the wire format is written in Rust.
pub fn data_type_rust(data_type: DataType) -> &'static str {
    match data_type {
        DataType::Xml => "DataType::Xml",
        _ => "DataType::Json",
    }
}

fn token_rust() -> String {
    "    // The client fetches, caches and refreshes the token itself; token() shows it.\n    let token = client.token().await?;\n    println!(\"{}\", token.expose());\n    let _ = (NaiveDate::MIN, NaiveTime::MIN, Resolution::Hour, DataType::Json);\n    let _ = Query::builder();\n    let _: Option<UtcOffset> = None;\n".to_owned()
}

/// The builder calls that make `query` again: its wire format, its resolution and its
/// window's local ends, read from the parameters it sends.
pub fn query_rust(query: &Query) -> Result<String, String> {
    let params = query.params();
    let param = |name: &str| {
        params
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
            .ok_or_else(|| format!("the query has no {name}"))
    };
    let date = |name: &str| -> Result<String, String> {
        let value = param(name)?;
        let d = parse_compact_date(value).map_err(|e| format!("{name} {value:?}: {e:?}"))?;
        Ok(rust_date(d))
    };
    let time = |name: &str| -> Result<String, String> {
        let value = param(name)?;
        let t = parse_compact_time(value).map_err(|e| format!("{name} {value:?}: {e:?}"))?;
        Ok(rust_time(t))
    };
    Ok(format!(
        "Query::builder()\n        .data_type({})\n        .resolution({})\n        .date_start({})\n        .time_start({})\n        .date_end({})\n        .time_end({})\n        .build(&zone)?",
        data_type_rust(query.data_type()),
        args::resolution_rust(query.resolution()),
        date("date_start")?,
        time("time_start")?,
        date("date_end")?,
        time("time_end")?,
    ))
}

fn counts_rust(query: &Query) -> Result<String, String> {
    Ok(format!(
        "    let query = {};\n    let body = client.counts(&query).await?;\n    for record in &body.records {{\n        println!(\"{{record:?}}\");\n    }}\n    let _: Option<UtcOffset> = None;\n",
        query_rust(query)?
    ))
}

fn pull_rust(pull: &Pull, zone: &Zone) -> String {
    let local = |t| {
        ffc_core::time::seconds_to_naive(zone.local_seconds(t))
            .map(|t| ffc_core::time::Format::DateTime.display(t).to_string())
            .unwrap_or_default()
    };
    format!(
        "    // {} .. {} (local), split into windows the counter accepts.\n    let records = client\n        .pull({}, {}, {}, {}, |p| {{\n            eprintln!(\"{{}}/{{}} windows\", p.windows_done, p.windows_total)\n        }})\n        .await?;\n    for record in &records {{\n        println!(\"{{record:?}}\");\n    }}\n    let _ = (Query::builder(), NaiveDate::MIN, NaiveTime::MIN);\n    let _: Option<UtcOffset> = None;\n",
        local(pull.from),
        local(pull.to),
        pull.from,
        pull.to,
        args::resolution_rust(pull.resolution),
        data_type_rust(pull.data_type),
    )
}
