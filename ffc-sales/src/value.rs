//! The field rules of the sales file, one function per field, on raw bytes.
//!
//! Each function takes a field exactly as the CSV reader gave it (quotes removed, nothing
//! trimmed) and returns the value or the one [`Reason`] that names the rule it breaks.
//!
//! ```
//! use ffc_sales::value::{parse_amount_cents, parse_quantity};
//! use ffc_sales::Reason;
//! assert_eq!(parse_amount_cents(b"1234.5"), Ok(123_450));
//! assert_eq!(parse_amount_cents(b"1,234.50"), Err(Reason::ThousandsSeparator));
//! assert_eq!(parse_amount_cents(b"$12"), Err(Reason::CurrencySymbol));
//! assert_eq!(parse_amount_cents(b"12.345"), Err(Reason::TooManyDecimals));
//! assert_eq!(parse_amount_cents(b"-"), Err(Reason::NoDigits));
//! assert_eq!(parse_quantity(b"3.0"), Err(Reason::NotWholeNumber));
//! ```

use chrono::NaiveDateTime;
use ffc_core::ParseError;

use crate::error::Reason;

/// Quantities have at most this many digits (below 10^12).
pub const MAX_QUANTITY_DIGITS: usize = 12;
/// Amounts have at most this many digits before the decimal point (below 10^13).
pub const MAX_AMOUNT_WHOLE_DIGITS: usize = 13;

/// Currency symbols recognised so `$12` gets its own reason: ASCII `$`, and the UTF-8
/// lead bytes of `£`, `¥`, `€`, `₹` and the other currency signs in U+20A0..U+20CF.
fn is_currency_start(rest: &[u8]) -> bool {
    match rest {
        [b'$', ..] => true,
        // U+00A2 cent, U+00A3 pound, U+00A4 currency sign, U+00A5 yen.
        [0xC2, 0xA2..=0xA5, ..] => true,
        // U+20A0..U+20CF currency symbols block (€ is E2 82 AC).
        [0xE2, 0x82, 0xA0..=0xBF, ..] | [0xE2, 0x83, 0x80..=0x8F, ..] => true,
        _ => false,
    }
}

/// What a slow-path scan of a number found; the first rule broken decides the reason.
fn classify(b: &[u8]) -> Reason {
    if b.is_empty() {
        return Reason::Empty;
    }
    if matches!(b.first(), Some(b' ' | b'\t')) || matches!(b.last(), Some(b' ' | b'\t')) {
        return Reason::SurroundingWhitespace;
    }
    let mut digits = false;
    let mut comma = false;
    let mut currency = false;
    let mut minus = false;
    let mut other: Option<usize> = None;
    for (i, &c) in b.iter().enumerate() {
        match c {
            b'0'..=b'9' => digits = true,
            b',' => comma = true,
            b'-' => minus = true,
            b'.' => {}
            _ => {
                if is_currency_start(b.get(i..).unwrap_or_default()) {
                    currency = true;
                } else if other.is_none() {
                    other = Some(i);
                }
            }
        }
    }
    if currency {
        Reason::CurrencySymbol
    } else if !digits {
        Reason::NoDigits
    } else if comma {
        Reason::ThousandsSeparator
    } else if minus {
        Reason::Negative
    } else if core::str::from_utf8(b).is_err() {
        // Usually a Latin-1 export (`£` as 0xA3): name the encoding, not the byte.
        Reason::InvalidUtf8
    } else if let Some(position) = other {
        Reason::SpecialCharacter {
            position: u32::try_from(position).unwrap_or(u32::MAX),
        }
    } else {
        Reason::MalformedNumber
    }
}

/// `TotalTransactionQty`: a whole number of digits only.
pub fn parse_quantity(b: &[u8]) -> Result<u64, Reason> {
    if b.is_empty() {
        return Err(Reason::Empty);
    }
    let mut v: u64 = 0;
    for &c in b {
        match c {
            b'0'..=b'9' => v = v.saturating_mul(10).saturating_add(u64::from(c - b'0')),
            _ => {
                return Err(match classify(b) {
                    // Digits, one point, digits: a fine number, but not a whole one.
                    Reason::MalformedNumber if is_decimal(b) => Reason::NotWholeNumber,
                    other => other,
                });
            }
        }
    }
    if b.len() > MAX_QUANTITY_DIGITS {
        return Err(Reason::TooLarge);
    }
    Ok(v)
}

/// Digits, one decimal point, digits.
fn is_decimal(b: &[u8]) -> bool {
    let mut parts = b.split(|c| *c == b'.');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(w), Some(f), None) => {
            !w.is_empty()
                && !f.is_empty()
                && w.iter().all(u8::is_ascii_digit)
                && f.iter().all(u8::is_ascii_digit)
        }
        _ => false,
    }
}

/// `TotalTransactionValue`: digits, optionally one point and one or two decimals; in cents.
#[inline]
pub fn parse_amount_cents(b: &[u8]) -> Result<u64, Reason> {
    match amount_common(b) {
        Some(cents) => Ok(cents),
        None => parse_amount_any(b),
    }
}

/// The shape of nearly every amount, `d.dd` with one to eight whole digits, in cents (as
/// [`parse_amount_any`] reads it); `None` for anything else.
#[inline]
fn amount_common(b: &[u8]) -> Option<u64> {
    let (whole, decimals) = b.split_at(b.len().checked_sub(3)?);
    let &[b'.', d1, d2] = decimals else {
        return None;
    };
    if whole.is_empty() || whole.len() > 8 {
        return None;
    }
    let digit = |c: u8| Some(u64::from(c.wrapping_sub(b'0'))).filter(|d| *d < 10);
    let mut cents = 0u64;
    for &c in whole {
        cents = cents * 10 + digit(c)?;
    }
    Some(cents * 100 + digit(d1)? * 10 + digit(d2)?)
}

/// [`parse_amount_cents`] for any field: every rule, every reason.
fn parse_amount_any(b: &[u8]) -> Result<u64, Reason> {
    let mut whole: u64 = 0;
    let mut whole_digits = 0usize;
    let mut iter = b.iter();
    let mut point = false;
    for &c in iter.by_ref() {
        match c {
            b'0'..=b'9' => {
                whole_digits += 1;
                if whole_digits > MAX_AMOUNT_WHOLE_DIGITS {
                    return Err(well_formed_or(b, Reason::TooLarge));
                }
                whole = whole * 10 + u64::from(c - b'0');
            }
            b'.' => {
                point = true;
                break;
            }
            _ => return Err(classify(b)),
        }
    }
    if whole_digits == 0 {
        return Err(classify(b));
    }
    let mut cents: u64 = 0;
    let mut decimals = 0usize;
    if point {
        for &c in iter {
            match c {
                b'0'..=b'9' => {
                    decimals += 1;
                    if decimals <= 2 {
                        cents = cents * 10 + u64::from(c - b'0');
                    }
                }
                _ => return Err(classify(b)),
            }
        }
        if decimals == 0 {
            return Err(Reason::MalformedNumber);
        }
        if decimals > 2 {
            return Err(Reason::TooManyDecimals);
        }
        if decimals == 1 {
            cents *= 10;
        }
    }
    Ok(whole * 100 + cents)
}

/// `reason` when the rest of the field is only digits and points, else the reason the
/// other characters give (so `1,234,567,890,123,456` is a separator problem, not a size one).
fn well_formed_or(b: &[u8], reason: Reason) -> Reason {
    if b.iter().all(|c| c.is_ascii_digit() || *c == b'.') {
        reason
    } else {
        classify(b)
    }
}

/// `DateTime`: `DD-MM-YYYY hh:mm`, a real calendar date and time (site-local wall clock).
pub fn parse_datetime(b: &[u8]) -> Result<NaiveDateTime, Reason> {
    if b.is_empty() {
        return Err(Reason::Empty);
    }
    let text = core::str::from_utf8(b).map_err(|_| Reason::InvalidUtf8)?;
    ffc_core::time::parse_sales_datetime(text).map_err(|e| match e {
        ParseError::OutOfRange { field } => Reason::DateTimeNotReal { part: field },
        ParseError::Character { position } => {
            if matches!(b.first(), Some(b' ' | b'\t')) || matches!(b.last(), Some(b' ' | b'\t')) {
                Reason::SurroundingWhitespace
            } else {
                Reason::DateTimeLayout {
                    position: Some(position),
                }
            }
        }
        _ => {
            if matches!(b.first(), Some(b' ' | b'\t')) || matches!(b.last(), Some(b' ' | b'\t')) {
                Reason::SurroundingWhitespace
            } else {
                Reason::DateTimeLayout { position: None }
            }
        }
    })
}

/// `DateTime` as wall-clock seconds since 1970-01-01 00:00 (as if UTC): the same rules and
/// the same errors as [`parse_datetime`], without building a chrono date for every row.
///
/// A well-formed field (`DD-MM-YYYY hh:mm`, all ASCII digits, a real date in the years
/// 1..=9999, hour below 24, minute below 60) is computed directly; anything else goes
/// through [`parse_datetime`], which names the reason.
///
/// ```
/// use ffc_sales::value::parse_datetime_seconds;
/// assert_eq!(parse_datetime_seconds(b"01-06-2024 10:05"), Ok(1_717_236_300));
/// assert!(parse_datetime_seconds(b"31-06-2024 10:05").is_err());
/// ```
pub fn parse_datetime_seconds(b: &[u8]) -> Result<i64, Reason> {
    match well_formed_datetime_seconds(b) {
        Some(s) => Ok(s),
        None => parse_datetime(b).map(ffc_core::time::naive_to_seconds),
    }
}

/// [`parse_datetime_seconds`] for a run of rows: remembers the date and hour of the last
/// field the strict shape accepted, so the next field with the same `DD-MM-YYYY hh` only
/// has its minutes read (rows of one store and hour repeat them). The answers, errors
/// included, are those of [`parse_datetime_seconds`].
///
/// Exact because whether a `DD-MM-YYYY hh:mm` field is a real date and time depends on its
/// minutes only through `mm` < 60: once a prefix has been accepted, any field with the same
/// prefix, a `:` and two digits below 60 is accepted too, at the prefix's hour plus the
/// minutes.
///
/// Rows out of order repeat a few dates in any order: the days of recently accepted
/// `DD-MM-YYYY` prefixes are kept in a small direct-mapped table, so such a field only has
/// its `hh:mm` read. Exact for the same reason: whether the date is real does not depend on
/// the time.
#[derive(Debug, Clone, Default)]
pub struct DateTimeParser {
    /// The `DD-MM-YYYY hh` of the last strictly shaped, real date and time, and its hour
    /// start in wall-clock seconds; `None` before the first.
    last_hour: Option<([u8; 13], i64)>,
    /// Accepted dates: the `DD-MM-YYYY` as a word and two bytes, and its day number (days
    /// since 1970-01-01), at a slot picked from the date; empty until first used.
    dates: Vec<Option<(u64, u16, i64)>>,
}

/// Slots in [`DateTimeParser`]'s date table (a power of two).
const DATE_SLOTS: usize = 64;

impl DateTimeParser {
    /// A parser with nothing remembered.
    pub fn new() -> Self {
        DateTimeParser::default()
    }

    /// `DateTime` as wall-clock seconds, exactly as [`parse_datetime_seconds`].
    ///
    /// ```
    /// use ffc_sales::value::{parse_datetime_seconds, DateTimeParser};
    /// let mut p = DateTimeParser::new();
    /// for field in [&b"01-06-2024 10:05"[..], b"01-06-2024 10:59", b"01-06-2024 10:60"] {
    ///     assert_eq!(p.parse(field), parse_datetime_seconds(field));
    /// }
    /// ```
    #[inline]
    pub fn parse(&mut self, b: &[u8]) -> Result<i64, Reason> {
        if let (Some((prefix, hour)), Some(&[b':', m1, m2])) = (&self.last_hour, b.get(13..)) {
            // As arrays, compared inline rather than by a call.
            if b.get(..13).and_then(|p| <&[u8; 13]>::try_from(p).ok()) == Some(prefix) {
                if let Some(minute) = two_digits(m1, m2).filter(|m| *m < 60) {
                    return Ok(hour + i64::from(minute) * 60);
                }
            }
        }
        let date = date_key(b);
        let slot = date.map(|(word, tail)| date_slot(word, tail));
        if let (Some((word, tail)), Some(slot)) = (date, slot) {
            if let Some(Some((w, t, days))) = self.dates.get(slot) {
                if (*w, *t) == (word, tail) {
                    if let Some(seconds) = time_of_day_seconds(b) {
                        return Ok(days * 86_400 + seconds);
                    }
                }
            }
        }
        match well_formed_datetime_seconds(b) {
            Some(seconds) => {
                if let Some(prefix) = b.get(..13).and_then(|p| <[u8; 13]>::try_from(p).ok()) {
                    self.last_hour = Some((prefix, seconds - seconds.rem_euclid(3600)));
                }
                if let (Some((word, tail)), Some(slot)) = (date, slot) {
                    if self.dates.is_empty() {
                        self.dates = vec![None; DATE_SLOTS];
                    }
                    if let Some(entry) = self.dates.get_mut(slot) {
                        *entry = Some((word, tail, seconds.div_euclid(86_400)));
                    }
                }
                Ok(seconds)
            }
            None => parse_datetime(b).map(ffc_core::time::naive_to_seconds),
        }
    }
}

/// The `DD-MM-YYYY` of a 16-byte field as a word and two bytes (unchecked).
#[inline]
fn date_key(b: &[u8]) -> Option<(u64, u16)> {
    if b.len() != 16 {
        return None;
    }
    let word = u64::from_le_bytes(b.get(..8)?.try_into().ok()?);
    let tail = u16::from_le_bytes(b.get(8..10)?.try_into().ok()?);
    Some((word, tail))
}

/// The table slot of a date key.
#[inline]
fn date_slot(word: u64, tail: u16) -> usize {
    let h = (word ^ u64::from(tail).rotate_left(40)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    (h >> 58) as usize & (DATE_SLOTS - 1)
}

/// The ` hh:mm` after a date, as seconds into the day, when it is well formed (as
/// [`well_formed_datetime_seconds`] requires: the space, the colon, two-digit hour below 24
/// and minute below 60, and nothing after).
#[inline]
fn time_of_day_seconds(b: &[u8]) -> Option<i64> {
    let &[b' ', h1, h2, b':', m1, m2] = b.get(10..)? else {
        return None;
    };
    let hour = two_digits(h1, h2).filter(|h| *h < 24)?;
    let minute = two_digits(m1, m2).filter(|m| *m < 60)?;
    Some(i64::from(hour) * 3_600 + i64::from(minute) * 60)
}

/// The fast path of [`parse_datetime_seconds`]: `None` for anything it does not accept.
#[inline]
fn well_formed_datetime_seconds(b: &[u8]) -> Option<i64> {
    let &[d1, d2, b'-', mo1, mo2, b'-', y1, y2, y3, y4, b' ', h1, h2, b':', mi1, mi2] = b else {
        return None;
    };
    let day = two_digits(d1, d2)?;
    let month = two_digits(mo1, mo2)?;
    let year = two_digits(y1, y2)? * 100 + two_digits(y3, y4)?;
    let hour = two_digits(h1, h2)?;
    let minute = two_digits(mi1, mi2)?;
    if year == 0 || !(1..=12).contains(&month) || hour > 23 || minute > 59 {
        return None;
    }
    if day == 0 || day > days_in_month(year, month) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(days * 86_400 + i64::from(hour) * 3_600 + i64::from(minute) * 60)
}

fn two_digits(a: u8, b: u8) -> Option<u32> {
    if a.is_ascii_digit() && b.is_ascii_digit() {
        Some(u32::from(a - b'0') * 10 + u32::from(b - b'0'))
    } else {
        None
    }
}

/// Days in a month of the proleptic Gregorian calendar (`month` in 1..=12).
fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's `days_from_civil`;
/// `year` at least 1, `month` in 1..=12).
#[inline]
fn days_from_civil(year: u32, month: u32, day: u32) -> i64 {
    // Years start in March, so the leap day is the last day of its year.
    let y = i64::from(if month <= 2 { year - 1 } else { year });
    let (m, d) = (i64::from(month), i64::from(day));
    let era = y / 400;
    let year_of_era = y - era * 400;
    let day_of_year = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// `StoreCode`: non-empty UTF-8 without surrounding whitespace. Whether it is a known site is
/// for the caller's list to say.
pub fn parse_store(b: &[u8]) -> Result<&str, Reason> {
    if b.is_empty() {
        return Err(Reason::Empty);
    }
    let text = core::str::from_utf8(b).map_err(|_| Reason::InvalidUtf8)?;
    if text.trim() != text {
        return Err(Reason::SurroundingWhitespace);
    }
    Ok(text)
}

#[cfg(test)]
mod tests;
