//! Branch reports: rolled-up buckets with completeness, as a table, CSV, JSON lines and an
//! SVG chart. One row type feeds every output, so they never disagree.

use std::fmt::Write as _;
use std::path::PathBuf;

use ffc_core::kpi::{OccupancyTracker, OperatingHours};
use ffc_core::rollup::{BranchSeries, Completeness};
use ffc_core::time::{seconds_to_naive, Format};
use ffc_core::Zone;
use plotters::prelude::*;
use serde::Serialize;

/// One bucket of one branch, as every report output shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportRow {
    /// Branch name.
    pub branch: String,
    /// Branch id.
    pub site: u32,
    /// Bucket start, UTC unix seconds.
    pub start_utc: i64,
    /// Bucket start in the site's local time, `YYYY-MM-DD HH:MM:SS`.
    pub local_start: String,
    /// Visitors in (A01 for the bucket).
    pub visitors_in: u64,
    /// Visitors out.
    pub visitors_out: u64,
    /// Staff crossings, in and out, kept apart from footfall.
    pub staff: u64,
    /// Running occupancy (A03) at the bucket's end.
    pub occupancy: u64,
    /// Whether occupancy was clamped at zero in this bucket.
    pub occupancy_clamped: bool,
    /// `complete`, `partial`, `no-data` or `revised`.
    pub completeness: String,
    /// Counters that did not report the bucket.
    pub missing: Vec<String>,
    /// Counters that reported.
    pub reported: u32,
    /// Counters expected.
    pub expected: u32,
    /// Sales transactions in the bucket, when sales were joined.
    pub transactions: Option<u64>,
    /// Conversion (transactions / visitors in), when defined and the bucket is whole.
    pub conversion: Option<f64>,
}

/// Rows of one branch series within operating hours.
pub fn rows(
    name: &str,
    series: &BranchSeries,
    hours: &OperatingHours,
    zone: Zone,
) -> Vec<ReportRow> {
    let mut occupancy = OccupancyTracker::new(zone);
    let mut out = Vec::new();
    for b in &series.buckets {
        if !hours.is_open(b.start, &zone) {
            continue;
        }
        let occ = occupancy.push(b.start, &b.counts);
        let local_start = seconds_to_naive(zone.local_seconds(b.start))
            .map(|t| Format::DateTime.display(t).to_string())
            .unwrap_or_default();
        let missing = match &b.completeness {
            Completeness::Partial { missing } => missing.iter().map(|m| m.to_string()).collect(),
            _ => Vec::new(),
        };
        out.push(ReportRow {
            branch: name.to_string(),
            site: series.site.0,
            start_utc: b.start,
            local_start,
            visitors_in: b.counts.visitors_in,
            visitors_out: b.counts.visitors_out,
            staff: b.counts.staff_in.saturating_add(b.counts.staff_out),
            occupancy: occ.value,
            occupancy_clamped: occ.clamped,
            completeness: b.completeness.label().to_string(),
            missing,
            reported: b.reported,
            expected: b.expected,
            transactions: None,
            conversion: None,
        });
    }
    out
}

/// A plain-text table, one block per branch, with a footer that says whether the branch's
/// total is whole.
pub fn table(rows: &[ReportRow]) -> String {
    let mut out = String::new();
    let mut current: Option<&str> = None;
    let with_sales = rows.iter().any(|r| r.transactions.is_some());
    for (i, r) in rows.iter().enumerate() {
        if current != Some(r.branch.as_str()) {
            current = Some(r.branch.as_str());
            let _ = writeln!(out, "{} (site {})", r.branch, r.site);
            let _ = write!(
                out,
                "  {:<16} {:>5} {:>5} {:>6} {:>9}",
                "hour", "in", "out", "staff", "occupancy"
            );
            if with_sales {
                let _ = write!(out, " {:>6} {:>10}", "sales", "conversion");
            }
            let _ = writeln!(out, "  completeness");
        }
        let flag = if r.missing.is_empty() {
            r.completeness.clone()
        } else {
            format!(
                "partial: {} of {} counters, missing {}",
                r.reported,
                r.expected,
                r.missing.join(", ")
            )
        };
        let _ = write!(
            out,
            "  {:<16} {:>5} {:>5} {:>6} {:>8}{}",
            r.local_start.get(..16).unwrap_or(&r.local_start),
            r.visitors_in,
            r.visitors_out,
            r.staff,
            r.occupancy,
            if r.occupancy_clamped { "*" } else { " " },
        );
        if with_sales {
            let sales = r
                .transactions
                .map(|t| t.to_string())
                .unwrap_or_else(|| "-".into());
            let conv = match (r.conversion, r.completeness.as_str()) {
                (Some(c), _) => format!("{:.1}%", c * 100.0),
                (None, "partial" | "no-data") if r.transactions.is_some() => "not whole".into(),
                _ => "undefined".into(),
            };
            let _ = write!(out, " {sales:>6} {conv:>10}");
        }
        let _ = writeln!(out, "  {flag}");
        let last_of_branch = rows.get(i + 1).is_none_or(|n| n.branch != r.branch);
        if last_of_branch {
            let branch_rows = rows.iter().filter(|x| x.branch == r.branch);
            let (mut a01, mut not_whole) = (0u64, 0usize);
            for x in branch_rows {
                a01 += x.visitors_in;
                not_whole +=
                    usize::from(x.completeness == "partial" || x.completeness == "no-data");
            }
            if not_whole > 0 {
                let _ = writeln!(out, "  A01 footfall in: {a01} — NOT complete: {not_whole} open hour(s) partial or without data\n");
            } else {
                let _ = writeln!(out, "  A01 footfall in: {a01} — complete\n");
            }
        }
    }
    out
}

/// CSV with a header row; `missing` counters joined by spaces.
pub fn csv(rows: &[ReportRow]) -> Result<String, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "branch",
        "site",
        "start_utc",
        "local_start",
        "visitors_in",
        "visitors_out",
        "staff",
        "occupancy",
        "occupancy_clamped",
        "completeness",
        "missing",
        "reported",
        "expected",
        "transactions",
        "conversion",
    ])?;
    for r in rows {
        w.write_record([
            r.branch.clone(),
            r.site.to_string(),
            r.start_utc.to_string(),
            r.local_start.clone(),
            r.visitors_in.to_string(),
            r.visitors_out.to_string(),
            r.staff.to_string(),
            r.occupancy.to_string(),
            r.occupancy_clamped.to_string(),
            r.completeness.clone(),
            r.missing.join(" "),
            r.reported.to_string(),
            r.expected.to_string(),
            r.transactions.map(|t| t.to_string()).unwrap_or_default(),
            r.conversion.map(|c| format!("{c:.4}")).unwrap_or_default(),
        ])?;
    }
    let bytes = w.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// JSON lines, one row a line.
pub fn json_lines(rows: &[ReportRow]) -> Result<String, serde_json::Error> {
    let mut out = String::new();
    for r in rows {
        out.push_str(&serde_json::to_string(r)?);
        out.push('\n');
    }
    Ok(out)
}

/// An SVG line chart of visitors in per bucket, one line per branch, with every bucket that
/// is not whole marked by a red cross so a partial hour cannot pass for a quiet one. Every
/// bucket's local hour is labelled on the x axis, the caption states the local date(s), the
/// y axis is in whole people per bucket, and the legend sits right of the plot, off the lines.
pub fn svg(rows: &[ReportRow], title: &str) -> Result<String, String> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (1000, 440)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let (plot, side) = root.split_horizontally(820);
        let mut branches: Vec<&str> = rows.iter().map(|r| r.branch.as_str()).collect();
        branches.dedup();
        // One x position per bucket, labelled with its local start.
        let buckets: std::collections::BTreeMap<i64, String> = rows
            .iter()
            .map(|r| (r.start_utc, r.local_start.clone()))
            .collect();
        let index: std::collections::BTreeMap<i64, i64> =
            buckets.keys().zip(0i64..).map(|(k, i)| (*k, i)).collect();
        let labels: Vec<String> = buckets
            .values()
            .map(|l| l.get(11..16).unwrap_or("").to_owned())
            .collect();
        let n = i64::try_from(labels.len()).unwrap_or(1).max(1);
        let dates: Vec<&str> = buckets.values().filter_map(|l| l.get(..10)).collect();
        let date = match (dates.first(), dates.last()) {
            (Some(a), Some(b)) if a != b => format!("{a} to {b}"),
            (Some(a), _) => (*a).to_owned(),
            _ => String::new(),
        };
        let top = rows.iter().map(|r| r.visitors_in).max().unwrap_or(0);
        let y1 = (top + top / 8 + 1).max(4);
        let mut chart = ChartBuilder::on(&plot)
            .caption(format!("{title}, {date} (local time)"), ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(56)
            .build_cartesian_2d(-1i64..n, 0u64..y1)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_labels(usize::try_from(n + 2).unwrap_or(2))
            .y_labels(10)
            .x_desc(format!("local hour starting ({date})"))
            .y_desc("visitors in (people per hour)")
            .x_label_formatter(&|x| {
                usize::try_from(*x)
                    .ok()
                    .and_then(|i| labels.get(i).cloned())
                    .unwrap_or_default()
            })
            .y_label_formatter(&|y| format!("{y}"))
            .x_label_style(("sans-serif", 11))
            .draw()
            .map_err(|e| e.to_string())?;
        let palette = [BLUE, GREEN, MAGENTA, CYAN, BLACK];
        let at = |r: &ReportRow| index.get(&r.start_utc).copied().unwrap_or(0);
        for (i, branch) in branches.iter().enumerate() {
            let color = palette[i % palette.len()];
            let points = rows
                .iter()
                .filter(|r| r.branch == *branch)
                .map(|r| (at(r), r.visitors_in));
            chart
                .draw_series(LineSeries::new(points, color.stroke_width(2)))
                .map_err(|e| e.to_string())?;
            let flagged = rows
                .iter()
                .filter(|r| {
                    r.branch == *branch
                        && (r.completeness == "partial" || r.completeness == "no-data")
                })
                .map(|r| Cross::new((at(r), r.visitors_in), 7, RED.stroke_width(3)));
            chart.draw_series(flagged).map_err(|e| e.to_string())?;
        }
        legend(&side, &branches, &palette)?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(out)
}

/// The chart's legend in its own area right of the plot: a line sample per branch, and the
/// red cross.
fn legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    branches: &[&str],
    palette: &[RGBColor],
) -> Result<(), String> {
    let font = ("sans-serif", 14).into_font();
    let text = |s: &str, y: i32| Text::new(s.to_owned(), (34, y - 7), font.clone());
    let mut y = 60;
    for (i, branch) in branches.iter().enumerate() {
        let color = palette[i % palette.len()];
        area.draw(&PathElement::new(
            vec![(6, y), (28, y)],
            color.stroke_width(2),
        ))
        .map_err(|e| e.to_string())?;
        area.draw(&text(branch, y)).map_err(|e| e.to_string())?;
        y += 24;
    }
    area.draw(&Cross::new((17, y), 7, RED.stroke_width(3)))
        .map_err(|e| e.to_string())?;
    area.draw(&text("not complete", y))
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// `ffc report` arguments.
#[derive(clap::Args)]
pub struct ReportArgs {
    /// Events as JSON lines with FootfallCam's field names (default: the shipped sample).
    #[arg(long)]
    pub events: Option<PathBuf>,
    /// Branch layout JSON (default: the shipped sample's).
    #[arg(long)]
    pub layout: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
    /// Also write an SVG chart here.
    #[arg(long)]
    pub svg: Option<PathBuf>,
}

/// How `ffc report` prints.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum OutputFormat {
    /// An aligned table per branch.
    Table,
    /// CSV.
    Csv,
    /// JSON lines.
    Json,
}

/// Rolls the events up per branch and prints the report (and the chart, when asked).
pub fn run(a: ReportArgs) -> Result<(), String> {
    let (default_events, default_layout) = crate::sample::default_paths();
    let events = a.events.unwrap_or_else(|| default_events.into());
    let layout = a.layout.unwrap_or_else(|| default_layout.into());
    let rolled = crate::sample::roll_up(&events, &layout)?;
    let mut out = Vec::new();
    for (b, series) in &rolled.branches {
        out.extend(rows(&b.name, series, &b.hours()?, rolled.zone));
    }
    match a.format {
        OutputFormat::Table => print!("{}", table(&out)),
        OutputFormat::Csv => print!("{}", csv(&out).map_err(|e| e.to_string())?),
        OutputFormat::Json => print!("{}", json_lines(&out).map_err(|e| e.to_string())?),
    }
    if let Some(path) = a.svg {
        let chart = svg(&out, "Visitors in per hour (red cross: not complete)")?;
        std::fs::write(&path, chart).map_err(|e| format!("{}: {e}", path.display()))?;
        eprintln!("chart written to {}", path.display());
    }
    Ok(())
}
