//! Reading the two inputs of `ffc reconcile` and `ffc health`: the events file `ffc listen
//! --events` writes (with `received_utc` when recorded), its sessions file, and the record
//! CSV `ffc device pull --format csv` writes (or a merged file, with its `state` column).
//! Every error names the file and the line (the CSV header is line 1).

use std::fmt;
use std::path::{Path, PathBuf};

use ffc_core::availability::{ReceivedEvent, SessionRecord};
use ffc_core::reconcile::BucketState;
use ffc_core::time::{naive_to_seconds, parse_datetime};
use ffc_core::{CountRecord, UtcOffset};

use crate::args::{record_from_row, RECORD_HEADER};

/// A line of an input that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadInput {
    /// The file.
    pub file: PathBuf,
    /// The line (1-based; a CSV header is line 1); 0 when the file itself failed.
    pub line: usize,
    /// Why.
    pub reason: String,
}

impl fmt::Display for BadInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            0 => write!(f, "{}: {}", self.file.display(), self.reason),
            n => write!(f, "{}: line {n}: {}", self.file.display(), self.reason),
        }
    }
}

fn bad(file: &Path, line: usize, reason: impl Into<String>) -> BadInput {
    BadInput {
        file: file.to_path_buf(),
        line,
        reason: reason.into(),
    }
}

fn read_text(path: &Path) -> Result<String, BadInput> {
    std::fs::read_to_string(path).map_err(|e| bad(path, 0, e.to_string()))
}

/// JSON lines of `T`; blank lines skipped, any other line that is not a `T` is bad.
fn json_lines<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Vec<T>, BadInput> {
    let text = read_text(path)?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        out.push(serde_json::from_str(line).map_err(|e| bad(path, i + 1, e.to_string()))?);
    }
    Ok(out)
}

/// The events file: each event with its receive time when the receiver recorded one.
pub fn read_events(path: &Path) -> Result<Vec<ReceivedEvent>, BadInput> {
    json_lines(path)
}

/// The sessions file (`EVENTS.sessions`); a missing file reads as no sessions.
pub fn read_sessions(path: &Path) -> Result<Vec<SessionRecord>, BadInput> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    json_lines(path)
}

/// The pulled records; from a merged file also the rows a backfill already restored
/// (state `live-short` or `conflict`), which the pipeline holds.
#[derive(Debug, Clone, Default)]
pub struct Pulled {
    /// Every row, its UTC offset read from `local_start`.
    pub records: Vec<CountRecord>,
    /// Rows of a merged file whose counts came from a pull.
    pub held: Vec<CountRecord>,
}

/// The record CSV (header [`RECORD_HEADER`], optionally followed by `state`).
pub fn read_pulled(path: &Path) -> Result<Pulled, BadInput> {
    let text = read_text(path)?;
    let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    let header = reader
        .headers()
        .map_err(|e| bad(path, 1, e.to_string()))?
        .iter()
        .collect::<Vec<_>>()
        .join(",");
    let with_state = header == format!("{RECORD_HEADER},state");
    if header != RECORD_HEADER && !with_state {
        return Err(bad(
            path,
            1,
            format!("header {header:?} is not {RECORD_HEADER:?} (optionally with ,state)"),
        ));
    }
    let mut out = Pulled::default();
    for row in reader.records() {
        let row = row.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line() as usize);
            bad(path, line, e.to_string())
        })?;
        let line = row.position().map_or(0, |p| p.line() as usize);
        let mut record = record_from_row(&row, line).map_err(|e| {
            let reason = e.split_once(": ").map_or(e.as_str(), |(_, r)| r).to_owned();
            bad(path, line, reason)
        })?;
        record.offset = offset_of(&row, record.start).map_err(|r| bad(path, line, r))?;
        if with_state {
            let label = row.get(7).unwrap_or("").trim();
            let state = BucketState::from_label(label)
                .ok_or_else(|| bad(path, line, format!("state {label:?} is not known")))?;
            if matches!(state, BucketState::LiveShort | BucketState::Conflict) {
                out.held.push(record);
            }
        }
        out.records.push(record);
    }
    Ok(out)
}

/// The offset `local_start` implies (UTC when the column is empty).
fn offset_of(row: &csv::StringRecord, start: i64) -> Result<UtcOffset, String> {
    let text = row.get(2).unwrap_or("").trim();
    if text.is_empty() {
        return Ok(UtcOffset::UTC);
    }
    let local = parse_datetime(text).map_err(|e| format!("local_start {text:?}: {e}"))?;
    let seconds = naive_to_seconds(local) - start;
    i32::try_from(seconds)
        .ok()
        .and_then(|s| UtcOffset::from_seconds(s).ok())
        .ok_or_else(|| format!("local_start {text:?} is {seconds} s from start_utc"))
}
