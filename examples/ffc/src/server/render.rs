//! `--print-rust` for V9 requests: the statements rendered from the very
//! [`ServerRequest`] the command would send, field by field.
use ffc_client::v9::cube::CubeQuery;
use ffc_client::v9::export::InfoJson;

use super::ServerRequest;
use crate::snippet::rust_date;

/// The statements that build and send `request` with a `client` in scope.
pub fn request_rust(request: &ServerRequest) -> Result<String, String> {
    match request {
        ServerRequest::Token => Ok(
            "    let token = client.token().await?;\n    println!(\"{}\", token.expose());\n"
                .to_owned(),
        ),
        ServerRequest::Export(info) => export_rust(info),
        ServerRequest::Cube(query) => Ok(cube_rust(query)),
    }
}

/// A date or time pattern as Rust: the SDK's default by name, any other by its text.
fn pattern_rust(text: &str, default: &ffc_client::datefmt::Pattern, name: &str) -> String {
    if text == default.as_str() {
        format!("{name}()")
    } else {
        format!("Pattern::new({text:?})?")
    }
}

/// `InfoJson::new(..)` with the request's level, ids, period, days and patterns.
pub fn export_rust(info: &InfoJson) -> Result<String, String> {
    let (from, to) = info.range().map_err(|e| e.to_string())?;
    let d = pattern_rust(
        &info.date_format,
        &ffc_client::datefmt::default_date(),
        "default_date",
    );
    let t = pattern_rust(
        &info.time_format,
        &ffc_client::datefmt::default_time(),
        "default_time",
    );
    Ok(format!(
        "    let (d, t) = ({d}, {t});\n    let info = InfoJson::new(\n        Level::{:?},\n        {:?},\n        Period::{:?},\n        {},\n        {},\n        &d,\n        &t,\n    );\n    for row in client.export_chunked(&info).await? {{\n        println!(\"{{row:?}}\");\n    }}\n",
        info.level,
        info.ids,
        info.period,
        rust_date(from),
        rust_date(to)
    ))
}

/// `CubeQuery::new(..)` and one builder call per part the query holds.
pub fn cube_rust(query: &CubeQuery) -> String {
    let codes: Vec<String> = query
        .measures
        .iter()
        .map(|m| format!("Measure::{}", m.code()))
        .collect();
    let mut rust = format!(
        "    let query = CubeQuery::new(Cube::{:?})\n        .measures([{}])\n",
        query.cube,
        codes.join(", ")
    );
    if let Some(time) = &query.time {
        rust.push_str(&format!(
            "        .time(Granularity::{:?}, {}, {})\n",
            time.granularity,
            rust_date(time.from),
            rust_date(time.to)
        ));
    }
    for d in &query.dimensions {
        rust.push_str(&format!("        .dimension({d:?})\n"));
    }
    for f in &query.filters {
        rust.push_str(&format!(
            "        .filter({:?}, Operator::{:?}, {:?})\n",
            f.member, f.operator, f.values
        ));
    }
    if let Some(n) = query.limit {
        rust.push_str(&format!("        .limit({n})\n"));
    }
    rust.push_str("        ;\n    for row in client.load_chunked(&query).await? {\n        println!(\"{row:?}\");\n    }\n");
    rust
}
