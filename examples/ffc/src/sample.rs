//! The shipped sample (`examples/data`): counter events as JSON lines and a branch layout
//! with each counter's online intervals, rolled up into branch series.

use std::collections::BTreeMap;
use std::path::Path;

use ffc_core::aggregate::{Aggregator, Ingested};
use ffc_core::kpi::OperatingHours;
use ffc_core::rollup::{rollup_branch, BranchSeries, BranchSpec};
use ffc_core::{CameraSerial, CountEvent, Resolution, SiteId, UtcOffset, Zone};
use serde::Deserialize;

/// The branch layout file.
#[derive(Debug, Clone, Deserialize)]
pub struct Layout {
    /// The sites' UTC offset in seconds.
    pub zone_offset_seconds: i32,
    /// Start of the reported day, UTC unix seconds.
    pub day_start_utc: i64,
    /// The branches.
    pub branches: Vec<BranchLayout>,
    /// Per counter, the `[from, to)` intervals it was online.
    #[serde(default)]
    pub online: BTreeMap<CameraSerial, Vec<(i64, i64)>>,
}

/// One branch of the layout.
#[derive(Debug, Clone, Deserialize)]
pub struct BranchLayout {
    /// Branch id.
    pub site: u32,
    /// Branch name.
    pub name: String,
    /// Every installed counter.
    pub counters: Vec<CameraSerial>,
    /// Opening time, `HH:MM` local.
    pub open: String,
    /// Closing time, `HH:MM` local.
    pub close: String,
}

impl BranchLayout {
    /// The operating hours.
    pub fn hours(&self) -> Result<OperatingHours, String> {
        Ok(OperatingHours {
            open: hhmm(&self.open)?,
            close: hhmm(&self.close)?,
        })
    }
}

fn hhmm(text: &str) -> Result<u32, String> {
    let (h, m) = text
        .split_once(':')
        .ok_or_else(|| format!("time {text:?} is not HH:MM"))?;
    let h: u32 = h.parse().map_err(|_| format!("hour in {text:?}"))?;
    let m: u32 = m.parse().map_err(|_| format!("minute in {text:?}"))?;
    if h > 24 || m > 59 {
        return Err(format!("time {text:?} out of range"));
    }
    Ok(h * 3600 + m * 60)
}

/// The sample's default paths.
pub fn default_paths() -> (String, String) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../data");
    (
        format!("{dir}/sample-events.jsonl"),
        format!("{dir}/sample-branches.json"),
    )
}

/// Everything a report needs.
#[derive(Debug, Clone)]
pub struct Rolled {
    /// The zone.
    pub zone: Zone,
    /// Per branch: its layout and its series.
    pub branches: Vec<(BranchLayout, BranchSeries)>,
    /// Events counted.
    pub counted: usize,
    /// Resent duplicates dropped.
    pub duplicates: usize,
}

/// Reads events and layout, dedupes, bins hourly, covers online intervals, rolls up.
pub fn roll_up(events_path: &Path, layout_path: &Path) -> Result<Rolled, String> {
    let show = |p: &Path| p.display().to_string();
    let text =
        std::fs::read_to_string(events_path).map_err(|e| format!("{}: {e}", show(events_path)))?;
    let layout: Layout = serde_json::from_str(
        &std::fs::read_to_string(layout_path).map_err(|e| format!("{}: {e}", show(layout_path)))?,
    )
    .map_err(|e| format!("{}: {e}", show(layout_path)))?;
    let offset = UtcOffset::from_seconds(layout.zone_offset_seconds)
        .map_err(|e| format!("{}: zone_offset_seconds: {e}", show(layout_path)))?;
    let zone = Zone::Fixed(offset);
    let mut agg = Aggregator::new(Resolution::Hour, zone);
    let (mut counted, mut duplicates) = (0, 0);
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let event: CountEvent = serde_json::from_str(line)
            .map_err(|e| format!("{}:{}: {e}", show(events_path), i + 1))?;
        match agg.ingest(&event) {
            Ingested::New => counted += 1,
            Ingested::Duplicate => duplicates += 1,
        }
    }
    for (serial, intervals) in &layout.online {
        for (from, to) in intervals {
            agg.cover(*serial, *from, *to);
        }
    }
    let (from, to) = (layout.day_start_utc, layout.day_start_utc + 86_400);
    let mut branches = Vec::new();
    for b in &layout.branches {
        let spec = BranchSpec {
            site: SiteId(b.site),
            counters: b.counters.clone(),
        };
        let series = rollup_branch(&spec, agg.counters(), from, to, Resolution::Hour, zone)
            .map_err(|e| format!("branch {}: {e}", b.site))?;
        branches.push((b.clone(), series));
    }
    Ok(Rolled {
        zone,
        branches,
        counted,
        duplicates,
    })
}
