//! Instants, offsets, zones, the text formats of the interfaces, and bucket alignment.
//!
//! Instants are UTC unix seconds ([`UnixSeconds`]). Buckets align in the site's local time:
//! operating hours and days are local, so a day with a DST change has 23 or 25 hourly
//! buckets (with feature `std`, through IANA zones from chrono-tz).
//!
//! The parsers take fixed-width text and say which byte or field is wrong:
//!
//! ```
//! use ffc_core::time::{parse_compact_date, parse_datetime, parse_sales_datetime, Format};
//! let d = parse_compact_date("20181231")?;
//! let t = parse_datetime("2020-06-17 11:16:41")?;
//! let s = parse_sales_datetime("31-12-2018 23:59")?;
//! assert_eq!(Format::CompactDate.display(t).to_string(), "20200617");
//! assert!(parse_compact_date("20190229").is_err()); // not a real date
//! # let _ = (d, s);
//! # Ok::<(), ffc_core::ParseError>(())
//! ```

use core::fmt;

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike};

use crate::error::{CodeError, Field, ParseError};

/// An instant as UTC unix seconds.
pub type UnixSeconds = i64;

/// Seconds in a day without DST.
pub const SECONDS_PER_DAY: i64 = 86_400;

/// A fixed offset from UTC in seconds, within ±18 hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "i32", into = "i32"))]
pub struct UtcOffset(i32);

impl UtcOffset {
    /// UTC itself.
    pub const UTC: UtcOffset = UtcOffset(0);
    const MAX: i32 = 18 * 3600;

    /// An offset of `seconds` east of UTC.
    pub const fn from_seconds(seconds: i32) -> Result<Self, ParseError> {
        if seconds > Self::MAX || seconds < -Self::MAX {
            Err(ParseError::OutOfRange {
                field: Field::Offset,
            })
        } else {
            Ok(UtcOffset(seconds))
        }
    }

    /// Seconds east of UTC.
    pub const fn seconds(self) -> i32 {
        self.0
    }

    /// The offset a payload implies by giving the same instant in UTC and local text.
    pub fn between(utc: NaiveDateTime, local: NaiveDateTime) -> Result<Self, ParseError> {
        let diff = local.signed_duration_since(utc).num_seconds();
        i32::try_from(diff)
            .map_err(|_| ParseError::OutOfRange {
                field: Field::Offset,
            })
            .and_then(UtcOffset::from_seconds)
    }
}

impl TryFrom<i32> for UtcOffset {
    type Error = ParseError;
    fn try_from(s: i32) -> Result<Self, ParseError> {
        UtcOffset::from_seconds(s)
    }
}

impl From<UtcOffset> for i32 {
    fn from(o: UtcOffset) -> i32 {
        o.0
    }
}

/// A site's time zone: a fixed offset, or (feature `std`) an IANA zone with DST.
///
/// With feature `serde` it is written as text: `UTC`, an offset such as `+08:00`, or an
/// IANA name such as `Europe/London`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Zone {
    /// The same offset all year.
    Fixed(UtcOffset),
    /// An IANA zone such as `Europe/London`.
    #[cfg(feature = "std")]
    Iana(chrono_tz::Tz),
}

impl Default for Zone {
    fn default() -> Self {
        Zone::Fixed(UtcOffset::UTC)
    }
}

impl Zone {
    /// UTC.
    pub const UTC: Zone = Zone::Fixed(UtcOffset::UTC);

    /// An IANA zone by name, such as `Europe/London`.
    #[cfg(feature = "std")]
    pub fn iana(name: &str) -> Option<Zone> {
        name.parse::<chrono_tz::Tz>().ok().map(Zone::Iana)
    }

    /// The offset in force at a UTC instant.
    pub fn offset_at(&self, utc: UnixSeconds) -> UtcOffset {
        // Only IANA zones (feature `std`) look at the instant.
        #[cfg(not(feature = "std"))]
        let _ = utc;
        match self {
            Zone::Fixed(o) => *o,
            #[cfg(feature = "std")]
            Zone::Iana(tz) => {
                use chrono::{Offset, TimeZone};
                let Some(at) = chrono::DateTime::from_timestamp(utc, 0) else {
                    return UtcOffset::UTC;
                };
                let secs = tz
                    .offset_from_utc_datetime(&at.naive_utc())
                    .fix()
                    .local_minus_utc();
                UtcOffset(secs)
            }
        }
    }

    /// The local wall-clock time at a UTC instant (`None` beyond chrono's range).
    pub fn local_datetime(&self, utc: UnixSeconds) -> Option<NaiveDateTime> {
        seconds_to_naive(self.local_seconds(utc))
    }

    /// The UTC span `[start, end)` of the local day `date`: 24 hours long, or 23 or 25 on
    /// a DST change. What to pull, roll up or join sales over for "that day in the shop".
    ///
    /// ```
    /// use ffc_core::{NaiveDate, Zone};
    /// let london = Zone::iana("Europe/London").unwrap();
    /// let day = NaiveDate::from_ymd_opt(2024, 3, 31).unwrap(); // clocks go forward
    /// let (start, end) = london.day_span(day);
    /// assert_eq!((start, end - start), (1_711_843_200, 23 * 3600));
    /// ```
    pub fn day_span(&self, date: NaiveDate) -> (UnixSeconds, UnixSeconds) {
        let midnight = naive_to_seconds(date.and_time(NaiveTime::MIN));
        let start = self.local_to_utc(midnight);
        let end = self.local_to_utc(midnight + SECONDS_PER_DAY);
        (start, end)
    }

    /// Local wall-clock seconds (UTC seconds shifted by the offset in force).
    pub fn local_seconds(&self, utc: UnixSeconds) -> i64 {
        utc + i64::from(self.offset_at(utc).seconds())
    }

    /// The UTC instant of a local wall-clock time. In a gap (spring forward) the time after
    /// the gap; when the local time occurs twice (fall back), the earlier one.
    pub fn local_to_utc(&self, local_seconds: i64) -> UnixSeconds {
        match self {
            Zone::Fixed(o) => local_seconds - i64::from(o.seconds()),
            #[cfg(feature = "std")]
            Zone::Iana(_) => {
                // Try the offsets in force a day either side; keep the earliest that maps back.
                let before = self.offset_at(local_seconds - SECONDS_PER_DAY).seconds();
                let after = self.offset_at(local_seconds + SECONDS_PER_DAY).seconds();
                let mut best: Option<UnixSeconds> = None;
                for off in [before, after] {
                    let utc = local_seconds - i64::from(off);
                    if self.local_seconds(utc) == local_seconds {
                        best = Some(best.map_or(utc, |b: i64| b.min(utc)));
                    }
                }
                // In a gap no offset maps back: the wall clock jumps, so the instant is where
                // the earlier offset would have put it, which lies after the gap.
                best.unwrap_or(local_seconds - i64::from(before))
            }
        }
    }
}

/// How long a bucket is: seconds and minutes 1/5/10/15/30/60, an hour, or a local day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Resolution {
    /// 1, 5, 10, 15, 30 or 60 seconds (`resolution_sec`).
    Seconds(u8),
    /// 1, 5, 10, 15, 30 or 60 minutes (`resolution_min`).
    Minutes(u8),
    /// One hour.
    Hour,
    /// One local day (23, 24 or 25 hours).
    Day,
}

const STEPS: [u8; 6] = [1, 5, 10, 15, 30, 60];

impl Resolution {
    /// Seconds resolution; only the documented steps.
    pub fn seconds(step: u8) -> Result<Self, CodeError> {
        if STEPS.contains(&step) {
            Ok(Resolution::Seconds(step))
        } else {
            Err(CodeError::Resolution(u64::from(step)))
        }
    }

    /// Minutes resolution; only the documented steps.
    pub fn minutes(step: u8) -> Result<Self, CodeError> {
        if STEPS.contains(&step) {
            Ok(Resolution::Minutes(step))
        } else {
            Err(CodeError::Resolution(u64::from(step)))
        }
    }

    /// Every resolution, finest first.
    pub fn all() -> impl Iterator<Item = Resolution> {
        STEPS
            .iter()
            .map(|s| Resolution::Seconds(*s))
            .chain(STEPS.iter().map(|s| Resolution::Minutes(*s)))
            .chain([Resolution::Hour, Resolution::Day])
    }

    /// The fixed length in seconds; `None` for a local day, whose length varies with DST.
    pub const fn fixed_seconds(self) -> Option<u32> {
        match self {
            Resolution::Seconds(s) => Some(s as u32),
            Resolution::Minutes(m) => Some(m as u32 * 60),
            Resolution::Hour => Some(3600),
            Resolution::Day => None,
        }
    }

    /// Nominal length in seconds (a day counts 86 400).
    pub const fn nominal_seconds(self) -> u32 {
        match self.fixed_seconds() {
            Some(s) => s,
            None => 86_400,
        }
    }

    /// Whether every bucket of `self` lies inside one bucket of `coarser`.
    pub fn divides(self, coarser: Resolution) -> bool {
        match (self.fixed_seconds(), coarser.fixed_seconds()) {
            (_, None) => true,
            (None, Some(_)) => false,
            (Some(f), Some(c)) => c % f == 0,
        }
    }

    /// The start (UTC) of the bucket holding `utc`, aligned in the zone's local time.
    pub fn bucket_start(self, utc: UnixSeconds, zone: &Zone) -> UnixSeconds {
        match self.fixed_seconds() {
            // Every fixed length divides an hour, and zone offsets move by whole multiples
            // of it in practice, so aligning the local clock aligns the bucket.
            Some(len) => utc - zone.local_seconds(utc).rem_euclid(i64::from(len)),
            None => {
                let local = zone.local_seconds(utc);
                let midnight = local - local.rem_euclid(SECONDS_PER_DAY);
                let start = zone.local_to_utc(midnight);
                // A zone whose midnight falls in a gap can map it past `utc`.
                if start > utc {
                    zone.local_to_utc(midnight - SECONDS_PER_DAY)
                } else {
                    start
                }
            }
        }
    }

    /// The start of the bucket after the one starting at `start`.
    pub fn next_start(self, start: UnixSeconds, zone: &Zone) -> UnixSeconds {
        match self.fixed_seconds() {
            Some(len) => start + i64::from(len),
            None => {
                let local = zone.local_seconds(start);
                let midnight = local - local.rem_euclid(SECONDS_PER_DAY);
                zone.local_to_utc(midnight + SECONDS_PER_DAY)
            }
        }
    }

    /// The bucket starts from the bucket holding `from` up to (not including) `to`.
    pub fn buckets(self, from: UnixSeconds, to: UnixSeconds, zone: Zone) -> Buckets {
        Buckets {
            resolution: self,
            zone,
            next: self.bucket_start(from, &zone),
            to,
        }
    }
}

/// Iterator over bucket starts; see [`Resolution::buckets`].
#[derive(Debug, Clone)]
pub struct Buckets {
    resolution: Resolution,
    zone: Zone,
    next: UnixSeconds,
    to: UnixSeconds,
}

impl Iterator for Buckets {
    type Item = UnixSeconds;
    fn next(&mut self) -> Option<UnixSeconds> {
        if self.next >= self.to {
            return None;
        }
        let start = self.next;
        self.next = self.resolution.next_start(start, &self.zone);
        Some(start)
    }
}

// ---- text formats ----------------------------------------------------------------------

fn digits(bytes: &[u8], at: usize, len: usize) -> Result<u32, ParseError> {
    let mut v = 0u32;
    for i in at..at + len {
        match bytes.get(i) {
            Some(b @ b'0'..=b'9') => v = v * 10 + u32::from(b - b'0'),
            _ => return Err(ParseError::Character { position: i as u8 }),
        }
    }
    Ok(v)
}

fn literal(bytes: &[u8], at: usize, want: u8) -> Result<(), ParseError> {
    if bytes.get(at) == Some(&want) {
        Ok(())
    } else {
        Err(ParseError::Character { position: at as u8 })
    }
}

fn length(bytes: &[u8], expected: u8) -> Result<(), ParseError> {
    if bytes.len() == usize::from(expected) {
        Ok(())
    } else {
        Err(ParseError::Length {
            expected,
            found: bytes.len(),
        })
    }
}

fn date(y: u32, m: u32, d: u32) -> Result<NaiveDate, ParseError> {
    check_date(y, m, d)?;
    NaiveDate::from_ymd_opt(y as i32, m, d).ok_or(ParseError::OutOfRange { field: Field::Day })
}

/// The checks of [`date`], without building the date (`parse_datetime_seconds`).
fn check_date(y: u32, m: u32, d: u32) -> Result<(), ParseError> {
    if !(1..=12).contains(&m) {
        return Err(ParseError::OutOfRange {
            field: Field::Month,
        });
    }
    if y == 0 {
        return Err(ParseError::OutOfRange { field: Field::Year });
    }
    // `is_multiple_of` needs Rust 1.87; ffc-core's own code builds on 1.85.
    #[allow(clippy::manual_is_multiple_of)]
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let days = match m {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if d == 0 || d > days {
        return Err(ParseError::OutOfRange { field: Field::Day });
    }
    Ok(())
}

fn time(h: u32, mi: u32, s: u32) -> Result<NaiveTime, ParseError> {
    check_time(h, mi, s)?;
    NaiveTime::from_hms_opt(h, mi, s).ok_or(ParseError::OutOfRange { field: Field::Hour })
}

/// The checks of [`time`], without building the time.
fn check_time(h: u32, mi: u32, s: u32) -> Result<(), ParseError> {
    if h > 23 {
        return Err(ParseError::OutOfRange { field: Field::Hour });
    }
    if mi > 59 {
        return Err(ParseError::OutOfRange {
            field: Field::Minute,
        });
    }
    if s > 59 {
        return Err(ParseError::OutOfRange {
            field: Field::Second,
        });
    }
    Ok(())
}

/// `YYYYMMDD` (device `date_start` / `date_end`).
pub fn parse_compact_date(text: &str) -> Result<NaiveDate, ParseError> {
    let b = text.as_bytes();
    length(b, 8)?;
    date(digits(b, 0, 4)?, digits(b, 4, 2)?, digits(b, 6, 2)?)
}

/// `HHmmss` (device `time_start` / `time_end`).
pub fn parse_compact_time(text: &str) -> Result<NaiveTime, ParseError> {
    let b = text.as_bytes();
    length(b, 6)?;
    time(digits(b, 0, 2)?, digits(b, 2, 2)?, digits(b, 4, 2)?)
}

/// `YYYY-MM-DD HH:MM:SS` (WebSocket and MQTT times, device `starttime`).
pub fn parse_datetime(text: &str) -> Result<NaiveDateTime, ParseError> {
    let b = text.as_bytes();
    length(b, 19)?;
    literal(b, 4, b'-')?;
    literal(b, 7, b'-')?;
    literal(b, 10, b' ')?;
    literal(b, 13, b':')?;
    literal(b, 16, b':')?;
    let d = date(digits(b, 0, 4)?, digits(b, 5, 2)?, digits(b, 8, 2)?)?;
    let t = time(digits(b, 11, 2)?, digits(b, 14, 2)?, digits(b, 17, 2)?)?;
    Ok(d.and_time(t))
}

/// `YYYY-MM-DD HH:MM:SS` as seconds since the epoch, reading the wall clock as if it were
/// UTC: [`parse_datetime`] followed by [`naive_to_seconds`] (the same checks and errors),
/// without building chrono values (the payload decoders read four of these per event).
///
/// ```
/// use ffc_core::time::{naive_to_seconds, parse_datetime, parse_datetime_seconds};
/// let text = "2020-06-17 11:16:41";
/// assert_eq!(parse_datetime_seconds(text)?, naive_to_seconds(parse_datetime(text)?));
/// assert!(parse_datetime_seconds("2019-02-29 00:00:00").is_err()); // not a real date
/// # Ok::<(), ffc_core::ParseError>(())
/// ```
pub fn parse_datetime_seconds(text: &str) -> Result<i64, ParseError> {
    // The fixed layout read at fixed places. Anything else is refused by `parse_datetime`
    // itself, so the error is always its own.
    if let Ok(b) = <&[u8; 19]>::try_from(text.as_bytes()) {
        let two = |i: usize| {
            let (hi, lo) = (b[i].wrapping_sub(b'0'), b[i + 1].wrapping_sub(b'0'));
            (hi < 10 && lo < 10).then_some(u32::from(hi) * 10 + u32::from(lo))
        };
        let separators = b[4] == b'-' && b[7] == b'-' && b[10] == b' ' && b[13] == b':';
        let fields = (two(0), two(2), two(5), two(8), two(11), two(14), two(17));
        if let (Some(c), Some(yy), Some(m), Some(d), Some(h), Some(mi), Some(s)) = fields {
            let y = c * 100 + yy;
            let valid = check_date(y, m, d).is_ok() && check_time(h, mi, s).is_ok();
            if separators && b[16] == b':' && valid {
                let day_seconds = i64::from(h * 3600 + mi * 60 + s);
                let days = days_from_civil(i64::from(y), i64::from(m), i64::from(d));
                return Ok(days * SECONDS_PER_DAY + day_seconds);
            }
        }
    }
    parse_datetime(text).map(naive_to_seconds)
}

/// Days from 1970-01-01 to a valid proleptic Gregorian date with `y >= 1` (H. Hinnant's
/// `days_from_civil`: years start in March, so the leap day ends one).
#[inline(always)]
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let month_from_march = (m + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + d - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// `DD-MM-YYYY hh:mm` (the sales CSV `DateTime`).
pub fn parse_sales_datetime(text: &str) -> Result<NaiveDateTime, ParseError> {
    let b = text.as_bytes();
    length(b, 16)?;
    literal(b, 2, b'-')?;
    literal(b, 5, b'-')?;
    literal(b, 10, b' ')?;
    literal(b, 13, b':')?;
    let d = date(digits(b, 6, 4)?, digits(b, 3, 2)?, digits(b, 0, 2)?)?;
    let t = time(digits(b, 11, 2)?, digits(b, 14, 2)?, 0)?;
    Ok(d.and_time(t))
}

/// Unix seconds as decimal text, within the years 1970..=9999.
pub fn parse_unix_seconds(text: &str) -> Result<UnixSeconds, ParseError> {
    let b = text.as_bytes();
    if b.is_empty() || b.len() > 12 {
        return Err(ParseError::Length {
            expected: 10,
            found: b.len(),
        });
    }
    let mut v: i64 = 0;
    for (i, c) in b.iter().enumerate() {
        match c {
            b'0'..=b'9' => v = v * 10 + i64::from(c - b'0'),
            _ => return Err(ParseError::Character { position: i as u8 }),
        }
    }
    check_unix(v)
}

/// Checks an instant is within the years 1970..=9999.
pub fn check_unix(v: i64) -> Result<UnixSeconds, ParseError> {
    if (0..=253_402_300_799).contains(&v) {
        Ok(v)
    } else {
        Err(ParseError::OutOfRange {
            field: Field::Timestamp,
        })
    }
}

/// A wall-clock date-time as seconds since the epoch, as if it were UTC.
pub fn naive_to_seconds(dt: NaiveDateTime) -> i64 {
    dt.and_utc().timestamp()
}

/// The wall-clock date-time of seconds since the epoch, as if they were UTC.
pub fn seconds_to_naive(seconds: i64) -> Option<NaiveDateTime> {
    chrono::DateTime::from_timestamp(seconds, 0).map(|d| d.naive_utc())
}

/// The text formats of the interfaces, for writing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// `YYYYMMDD`.
    CompactDate,
    /// `HHmmss`.
    CompactTime,
    /// `YYYY-MM-DD HH:MM:SS`.
    DateTime,
    /// `DD-MM-YYYY hh:mm`.
    SalesDateTime,
}

impl Format {
    /// Formats a wall-clock date-time without allocating.
    pub fn display(self, dt: NaiveDateTime) -> impl fmt::Display {
        Formatted { format: self, dt }
    }
}

struct Formatted {
    format: Format,
    dt: NaiveDateTime,
}

impl fmt::Display for Formatted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.dt;
        let (y, mo, da, h, mi, s) = (
            d.year(),
            d.month(),
            d.day(),
            d.hour(),
            d.minute(),
            d.second(),
        );
        match self.format {
            Format::CompactDate => write!(f, "{y:04}{mo:02}{da:02}"),
            Format::CompactTime => write!(f, "{h:02}{mi:02}{s:02}"),
            Format::DateTime => write!(f, "{y:04}-{mo:02}-{da:02} {h:02}:{mi:02}:{s:02}"),
            Format::SalesDateTime => write!(f, "{da:02}-{mo:02}-{y:04} {h:02}:{mi:02}"),
        }
    }
}

mod zone_text;

#[cfg(test)]
mod tests;
