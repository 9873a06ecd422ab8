//! `ffc server cube`: the cube API's query from the arguments, and its rows as JSON lines
//! or CSV.
use clap::{Args, ValueEnum};
use ffc_client::v9::cube::{Cube, CubeQuery, CubeRow, Granularity, Measure, Operator};

use crate::args::{self, RecordFormat};

/// `ffc server cube` arguments.
#[derive(Args)]
pub struct CubeArgs {
    /// Which cube: sites or areas (one area per counter).
    #[arg(long, value_enum, default_value_t = CubeName::Site)]
    pub cube: CubeName,
    /// Measure codes, comma-separated (A01 in, A02 out, A03 occupancy, A05 outside
    /// traffic, A15 transactions, B06 conversion, ...).
    #[arg(long, value_delimiter = ',', required = true)]
    pub measures: Vec<String>,
    /// Dimensions, comma-separated (`SiteId`, `SiteName`, `AreaId`,
    /// `AggregationStatus`).
    #[arg(long, value_delimiter = ',')]
    pub dimensions: Vec<String>,
    /// First day, `YYYY-MM-DD`.
    #[arg(long)]
    pub from: String,
    /// Last day (inclusive), `YYYY-MM-DD`.
    #[arg(long)]
    pub to: String,
    /// Time bucket.
    #[arg(long, value_enum, default_value_t = CubeGranularity::Day)]
    pub granularity: CubeGranularity,
    /// Only these site ids (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub sites: Vec<String>,
    /// Only these area ids (comma-separated; area cube).
    #[arg(long, value_delimiter = ',')]
    pub areas: Vec<String>,
    /// Row limit per request.
    #[arg(long)]
    pub limit: Option<u64>,
    /// How rows are printed.
    #[arg(long, value_enum, default_value_t = RecordFormat::Json)]
    pub format: RecordFormat,
}

/// The two cubes, as typed.
#[derive(Clone, Copy, ValueEnum)]
pub enum CubeName {
    /// `ffc_site_summary`.
    Site,
    /// `ffc_area_summary`.
    Area,
}

/// The time bucket, as typed.
#[derive(Clone, Copy, ValueEnum)]
pub enum CubeGranularity {
    /// Hourly.
    Hour,
    /// Daily.
    Day,
    /// Weekly.
    Week,
    /// Monthly.
    Month,
}

/// The cube query the arguments describe.
pub fn query(a: &CubeArgs) -> Result<CubeQuery, String> {
    let cube = match a.cube {
        CubeName::Site => Cube::SiteSummary,
        CubeName::Area => Cube::AreaSummary,
    };
    let granularity = match a.granularity {
        CubeGranularity::Hour => Granularity::Hour,
        CubeGranularity::Day => Granularity::Day,
        CubeGranularity::Week => Granularity::Week,
        CubeGranularity::Month => Granularity::Month,
    };
    let measures = a
        .measures
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
    let (from, to) = (args::parse_date(&a.from)?, args::parse_date(&a.to)?);
    if to < from {
        return Err(format!("--to {to} is before --from {from}"));
    }
    let mut query = CubeQuery::new(cube)
        .measures(measures)
        .time(granularity, from, to);
    for d in &a.dimensions {
        query = query.dimension(d.clone());
    }
    for (member, values) in [("SiteId", &a.sites), ("AreaId", &a.areas)] {
        if !values.is_empty() {
            query = query.filter(member, Operator::Equals, values.iter().cloned());
        }
    }
    if let Some(n) = a.limit {
        query = query.limit(n);
    }
    Ok(query)
}

fn time(r: &CubeRow) -> String {
    r.time
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default()
}

/// Cube rows as flat JSON objects (`time`, one key per measure code, the members) or CSV
/// with the query's measures and dimensions as columns.
pub fn rows(query: &CubeQuery, rows: &[CubeRow], format: RecordFormat) -> Result<String, String> {
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
        RecordFormat::Csv => csv_rows(query, rows).map_err(|e| e.to_string()),
    }
}

fn csv_rows(query: &CubeQuery, rows: &[CubeRow]) -> Result<String, Box<dyn std::error::Error>> {
    let member_text = |v: Option<&serde_json::Value>| match v {
        None | Some(serde_json::Value::Null) => String::new(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["time".to_owned()];
    header.extend(query.measures.iter().map(|m| m.code().to_owned()));
    header.extend(query.dimensions.iter().cloned());
    w.write_record(&header)?;
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
        w.write_record(&record)?;
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}
