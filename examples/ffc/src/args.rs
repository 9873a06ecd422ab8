//! Parsing of the command line's values (zones, resolutions, dates) and printing of count
//! records as CSV or JSON lines, shared by every `ffc` subcommand that prints counts.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use ffc_core::time::{seconds_to_naive, Format};
use ffc_core::{CountRecord, Resolution, Source, Subject, UtcOffset, Zone};

/// A zone as typed: `UTC`, an IANA name (`Europe/London`) or a fixed offset (`+08:00`).
pub fn parse_zone(text: &str) -> Result<Zone, String> {
    if text.eq_ignore_ascii_case("utc") || text == "Z" {
        return Ok(Zone::UTC);
    }
    if let Some(rest) = text.strip_prefix('+').or_else(|| text.strip_prefix('-')) {
        let sign = if text.starts_with('-') { -1 } else { 1 };
        let (h, m) = rest.split_once(':').unwrap_or((rest, "0"));
        let h: i32 = h
            .parse()
            .map_err(|_| format!("zone {text:?}: hours are not a number"))?;
        let m: i32 = m
            .parse()
            .map_err(|_| format!("zone {text:?}: minutes are not a number"))?;
        if !(0..=99).contains(&h) || !(0..=59).contains(&m) {
            return Err(format!("zone {text:?}: offset out of range"));
        }
        let offset = UtcOffset::from_seconds(sign * (h * 3600 + m * 60))
            .map_err(|e| format!("zone {text:?}: {e}"))?;
        return Ok(Zone::Fixed(offset));
    }
    Zone::iana(text).ok_or_else(|| {
        format!(
            "zone {text:?} is not UTC, an offset like +08:00 or an IANA name like Europe/London"
        )
    })
}

/// How the zone is written in Rust (for `--print-rust`).
pub fn zone_rust(text: &str, zone: &Zone) -> String {
    match zone {
        Zone::Fixed(offset) if *offset == UtcOffset::UTC => "Zone::UTC".to_owned(),
        Zone::Fixed(offset) => format!(
            "Zone::Fixed(UtcOffset::from_seconds({})?)",
            offset.seconds()
        ),
        _ => format!("Zone::iana({text:?}).ok_or(\"unknown zone\")?"),
    }
}

/// A resolution as typed: `hour`, `15m` (1, 5, 10, 15, 30, 60) or `10s` (same steps).
pub fn parse_resolution(text: &str) -> Result<Resolution, String> {
    let bad = || {
        format!("resolution {text:?} is not `hour`, `<n>m` or `<n>s` (n = 1, 5, 10, 15, 30, 60)")
    };
    if text == "hour" || text == "h" {
        return Ok(Resolution::Hour);
    }
    if let Some(number) = text.strip_suffix('m') {
        let step: u8 = number.parse().map_err(|_| bad())?;
        return Resolution::minutes(step).map_err(|_| bad());
    }
    if let Some(number) = text.strip_suffix('s') {
        let step: u8 = number.parse().map_err(|_| bad())?;
        return Resolution::seconds(step).map_err(|_| bad());
    }
    Err(bad())
}

/// How the resolution is written in Rust.
pub fn resolution_rust(resolution: Resolution) -> String {
    match resolution {
        Resolution::Hour => "Resolution::Hour".to_owned(),
        Resolution::Minutes(n) => format!("Resolution::Minutes({n})"),
        Resolution::Seconds(n) => format!("Resolution::Seconds({n})"),
        Resolution::Day => "Resolution::Day".to_owned(),
    }
}

/// A date `YYYY-MM-DD` (or the device's `YYYYMMDD`).
pub fn parse_date(text: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(text, "%Y%m%d"))
        .map_err(|_| format!("date {text:?} is not YYYY-MM-DD"))
}

/// A time of day `HH:MM[:SS]` (or the device's `HHMMSS`).
pub fn parse_time(text: &str) -> Result<NaiveTime, String> {
    NaiveTime::parse_from_str(text, "%H:%M:%S")
        .or_else(|_| NaiveTime::parse_from_str(text, "%H:%M"))
        .or_else(|_| NaiveTime::parse_from_str(text, "%H%M%S"))
        .map_err(|_| format!("time {text:?} is not HH:MM[:SS]"))
}

/// A local date and time `YYYY-MM-DD[ HH:MM[:SS]]` (`T` also accepted), midnight when
/// the time is left out.
pub fn parse_local(text: &str) -> Result<NaiveDateTime, String> {
    let text = text.trim();
    match text.split_once([' ', 'T']) {
        Some((date, time)) => Ok(parse_date(date)?.and_time(parse_time(time)?)),
        None => Ok(parse_date(text)?.and_time(NaiveTime::MIN)),
    }
}

/// Output format of count records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RecordFormat {
    /// CSV with a header row.
    Csv,
    /// One JSON object per line, with FootfallCam's field names.
    Json,
}

/// The CSV header of [`records`].
pub const RECORD_HEADER: &str = "subject,start_utc,local_start,length_seconds,in,out,source";

/// Count records as CSV (local times in `zone`) or JSON lines.
pub fn records(rows: &[CountRecord], format: RecordFormat, zone: &Zone) -> Result<String, String> {
    let mut out = String::new();
    match format {
        RecordFormat::Csv => {
            out.push_str(RECORD_HEADER);
            out.push('\n');
            for r in rows {
                out.push_str(&record_csv_line(r, zone));
                out.push('\n');
            }
        }
        RecordFormat::Json => {
            for r in rows {
                out.push_str(&serde_json::to_string(r).map_err(|e| e.to_string())?);
                out.push('\n');
            }
        }
    }
    Ok(out)
}

/// One record as a CSV line of [`RECORD_HEADER`] (no newline), local time in `zone`.
pub fn record_csv_line(r: &CountRecord, zone: &Zone) -> String {
    let subject = match r.subject {
        Subject::Counter(serial) => serial.to_string(),
        Subject::Site(site) => format!("site {}", site.0),
    };
    let local = seconds_to_naive(zone.local_seconds(r.start))
        .map(|t| Format::DateTime.display(t).to_string())
        .unwrap_or_default();
    format!(
        "{subject},{},{local},{},{},{},{:?}",
        r.start, r.length, r.count_in, r.count_out, r.source
    )
}

/// One record CSV row (the columns of [`RECORD_HEADER`]; `local_start` is not read);
/// errors start `line N:`.
pub fn record_from_row(row: &csv::StringRecord, line: usize) -> Result<CountRecord, String> {
    let field = |i: usize, name: &str| row.get(i).ok_or_else(|| format!("line {line}: no {name}"));
    let number = |i: usize, name: &str| -> Result<i64, String> {
        field(i, name)?
            .trim()
            .parse::<i64>()
            .map_err(|_| format!("line {line}: {name} is not a whole number"))
    };
    let count = |i: usize, name: &str| -> Result<u64, String> {
        u64::try_from(number(i, name)?).map_err(|_| format!("line {line}: {name} is negative"))
    };
    let subject = crate::sales::convert::parse_subject(field(0, "subject")?)
        .map_err(|e| format!("line {line}: {e}"))?;
    let length = u32::try_from(number(3, "length_seconds")?)
        .map_err(|_| format!("line {line}: length_seconds out of range"))?;
    let source_text = field(6, "source")?.trim();
    let source =
        serde_json::from_value::<Source>(serde_json::Value::String(source_text.to_owned()))
            .map_err(|_| format!("line {line}: source {source_text:?} is not known"))?;
    let start = ffc_core::time::check_unix(number(1, "start_utc")?)
        .map_err(|e| format!("line {line}: start_utc: {e}"))?;
    Ok(CountRecord {
        subject,
        start,
        length,
        offset: UtcOffset::UTC,
        count_in: count(4, "in")?,
        count_out: count(5, "out")?,
        outside: None,
        source,
    })
}
