//! Legacy per-counter daily FTP files, combined into a branch series through ffc-core's
//! roll-up (a counter whose file for a day is missing makes the day partial, naming it).

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveTime};
use ffc_core::aggregate::Series;
use ffc_core::rollup::{rollup_branch, BranchSeries, BranchSpec};
use ffc_core::time::naive_to_seconds;
use ffc_core::{CameraSerial, CountRecord, Resolution, Source, Subject, UnixSeconds, Zone};

use super::{read_export, ExportFileOptions, FileError, Reason};

/// One legacy FTP file: one counter, one local day.
#[derive(Debug, Clone, Copy)]
pub struct CounterDayFile<'a> {
    /// The file's name, for errors.
    pub name: &'a str,
    /// The counter.
    pub serial: CameraSerial,
    /// The local day the file covers.
    pub day: NaiveDate,
    /// The bytes.
    pub bytes: &'a [u8],
}

/// Reads a legacy FTP file name `{CameraSerial}_{YYYYMMDD}.{csv|txt}`.
///
/// DECISION: the public record does not give the name pattern (the user picks "File
/// name" in the FTP settings); this is the SDK's default, and callers with another pattern
/// build [`CounterDayFile`] themselves.
pub fn parse_ftp_name(name: &str) -> Option<(CameraSerial, NaiveDate)> {
    let base = name.rsplit(['/', '\\']).next()?;
    let stem = base.rsplit_once('.').map_or(base, |(s, _)| s);
    let (serial, day) = stem.split_once('_')?;
    Some((
        CameraSerial::parse(serial).ok()?,
        ffc_core::time::parse_compact_date(day).ok()?,
    ))
}

/// A branch's series from per-counter files, and the rows that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BranchFromFiles {
    /// The roll-up; a day without a counter's file is `Partial` naming that counter.
    pub series: BranchSeries,
    /// Rows that could not be read, every file.
    pub errors: Vec<FileError>,
}

fn local_midnight(zone: Zone, day: NaiveDate) -> UnixSeconds {
    zone.local_to_utc(naive_to_seconds(day.and_time(NaiveTime::MIN)))
}

/// Reads one counter's day file into `series` (at the series' resolution). The file's
/// presence marks every bucket of its day as reported (a counter that was up and saw no
/// one writes no rows for those minutes).
///
/// DECISION: a file is taken to cover its whole day; the legacy FTP format does not say
/// otherwise.
pub fn read_counter_day(
    file: &CounterDayFile<'_>,
    opts: &ExportFileOptions,
    series: &mut Series,
    errors: &mut Vec<FileError>,
) -> Result<(), FileError> {
    let zone = series.zone();
    let resolution = series.resolution();
    let parsed = read_export(file.name, file.bytes, opts)?;
    errors.extend(parsed.errors);
    let day_start = local_midnight(zone, file.day);
    let day_end = file
        .day
        .succ_opt()
        .map_or(UnixSeconds::MAX / 2, |d| local_midnight(zone, d));
    let mut buckets: BTreeMap<UnixSeconds, (u64, u64, Option<u64>)> = BTreeMap::new();
    for row in parsed.rows {
        let at = zone.local_to_utc(naive_to_seconds(row.local));
        if at < day_start || at >= day_end {
            errors.push(FileError {
                file: file.name.to_owned(),
                line: row.line,
                byte: 0,
                reason: Reason::OutsideDay { at: row.local },
            });
            continue;
        }
        let b = buckets
            .entry(resolution.bucket_start(at, &zone))
            .or_default();
        b.0 = b.0.saturating_add(row.count_in);
        b.1 = b.1.saturating_add(row.count_out);
        if let Some(o) = row.outside {
            b.2 = Some(b.2.unwrap_or(0).saturating_add(o));
        }
    }
    series.cover(day_start, day_end);
    for (start, (count_in, count_out, outside)) in buckets {
        let length = resolution.next_start(start, &zone) - start;
        let record = CountRecord {
            subject: Subject::Counter(file.serial),
            start,
            length: u32::try_from(length).unwrap_or(u32::MAX),
            offset: zone.offset_at(start),
            count_in,
            count_out,
            outside,
            source: Source::File,
        };
        // Bucket starts come from the series' own alignment, so this cannot mismatch.
        let _ = series.put_record(&record);
    }
    Ok(())
}

/// Combines per-counter day files into the branch's series over the local days
/// `[from, to]`, at `resolution`, through ffc-core's roll-up.
pub fn combine_branch(
    spec: &BranchSpec,
    files: &[CounterDayFile<'_>],
    from: NaiveDate,
    to: NaiveDate,
    resolution: Resolution,
    zone: Zone,
    opts: &ExportFileOptions,
) -> Result<BranchFromFiles, FileError> {
    let mut series: BTreeMap<CameraSerial, Series> = BTreeMap::new();
    let mut errors = Vec::new();
    for f in files {
        let s = series
            .entry(f.serial)
            .or_insert_with(|| Series::new(resolution, zone));
        read_counter_day(f, opts, s, &mut errors)?;
    }
    let start = local_midnight(zone, from);
    let end = to
        .succ_opt()
        .map_or(UnixSeconds::MAX / 2, |d| local_midnight(zone, d));
    let series =
        rollup_branch(spec, &series, start, end, resolution, zone).map_err(|e| FileError {
            file: String::new(),
            line: 0,
            byte: 0,
            reason: Reason::Csv(e.to_string()),
        })?;
    Ok(BranchFromFiles { series, errors })
}
