//! Date and time formats chosen by the user in the export settings.
//!
//! FootfallCam writes them .NET style (`dd/MM/yyyy`, `HH:mm:ss`); chrono `strftime`
//! patterns (anything with a `%`) are accepted as they are. Both are checked when built, so
//! formatting and parsing never meet an invalid pattern.

use chrono::format::{Item, Parsed, StrftimeItems};
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

/// Why a format pattern was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FormatError {
    /// A letter that is not a known .NET date/time token; quote literals or use a chrono
    /// pattern instead.
    #[error("unknown format token {token:?} at byte {position} of {pattern:?}")]
    UnknownToken {
        /// The pattern.
        pattern: String,
        /// The token.
        token: String,
        /// Byte offset in the pattern.
        position: usize,
    },
    /// A chrono pattern chrono rejects.
    #[error("invalid strftime pattern {0:?}")]
    Strftime(String),
}

/// A checked date or time pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    original: String,
    strftime: String,
    // Parsed once: re-reading the pattern for every row was most of a file's read time.
    items: Vec<Item<'static>>,
    // The pattern as fixed-width digits and literal bytes, when it is only that (the
    // common `dd/MM/yyyy`, `HH:mm:ss`): read without chrono's general parser.
    fixed: Option<Vec<Fixed>>,
}

/// One piece of a fixed-width pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fixed {
    /// A literal byte.
    Byte(u8),
    /// Zero-padded digits of one field: (field, width).
    Digits(FixedField, usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FixedField {
    Year,
    Month,
    Day,
    Hour,
    Minute,
    Second,
}

/// The fixed-width form of `items`, if every item is a zero-padded numeric field of known
/// width or a literal.
fn fixed_of(items: &[Item<'_>]) -> Option<Vec<Fixed>> {
    use chrono::format::{Numeric, Pad};
    let mut out = Vec::new();
    for item in items {
        match item {
            Item::Literal(l) => out.extend(l.bytes().map(Fixed::Byte)),
            Item::OwnedLiteral(l) => out.extend(l.bytes().map(Fixed::Byte)),
            Item::Numeric(n, Pad::Zero) => {
                let (field, width) = match n {
                    Numeric::Year => (FixedField::Year, 4),
                    Numeric::Month => (FixedField::Month, 2),
                    Numeric::Day => (FixedField::Day, 2),
                    Numeric::Hour => (FixedField::Hour, 2),
                    Numeric::Minute => (FixedField::Minute, 2),
                    Numeric::Second => (FixedField::Second, 2),
                    _ => return None,
                };
                out.push(Fixed::Digits(field, width));
            }
            _ => return None,
        }
    }
    Some(out)
}

/// Reads `text` against a fixed-width pattern: the fields it sets (year, month, day,
/// hour, minute, second; absent ones `None`), or `None` when it does not match exactly
/// (chrono's parser then decides: it accepts more, e.g. one-digit days).
fn read_fixed(fixed: &[Fixed], text: &[u8]) -> Option<[Option<u32>; 6]> {
    let mut fields = [None; 6];
    let mut at = 0usize;
    for piece in fixed {
        match *piece {
            Fixed::Byte(b) => {
                if *text.get(at)? != b {
                    return None;
                }
                at += 1;
            }
            Fixed::Digits(field, width) => {
                let mut v = 0u32;
                for &d in text.get(at..at + width)? {
                    if !d.is_ascii_digit() {
                        return None;
                    }
                    v = v * 10 + u32::from(d - b'0');
                }
                at += width;
                let slot = fields.get_mut(field as usize)?;
                if slot.is_some() {
                    return None;
                }
                *slot = Some(v);
            }
        }
    }
    (at == text.len()).then_some(fields)
}

impl Pattern {
    /// Parses a .NET pattern (`dd/MM/yyyy`) or a chrono pattern (`%d/%m/%Y`).
    pub fn new(pattern: &str) -> Result<Self, FormatError> {
        let strftime = if pattern.contains('%') {
            pattern.to_owned()
        } else {
            dotnet_to_strftime(pattern)?
        };
        let items = StrftimeItems::new(&strftime)
            .parse_to_owned()
            .map_err(|_| FormatError::Strftime(strftime.clone()))?;
        let fixed = fixed_of(&items);
        Ok(Pattern {
            original: pattern.to_owned(),
            strftime,
            items,
            fixed,
        })
    }

    /// The pattern as given.
    pub fn as_str(&self) -> &str {
        &self.original
    }

    /// The chrono equivalent.
    pub fn strftime(&self) -> &str {
        &self.strftime
    }

    /// Formats a date.
    pub fn format_date(&self, date: NaiveDate) -> String {
        date.format_with_items(self.items.iter()).to_string()
    }

    /// Formats a date-time.
    pub fn format_datetime(&self, dt: NaiveDateTime) -> String {
        dt.format_with_items(self.items.iter()).to_string()
    }
}

impl Pattern {
    /// Reads a date.
    pub fn parse_date(&self, text: &str) -> Option<NaiveDate> {
        if let Some(fixed) = &self.fixed {
            if let Some([Some(y), Some(m), Some(d), None, None, None]) =
                read_fixed(fixed, text.as_bytes())
            {
                let year = i32::try_from(y).ok();
                if let Some(date) = year.and_then(|y| NaiveDate::from_ymd_opt(y, m, d)) {
                    return Some(date);
                }
            }
        }
        let mut p = Parsed::new();
        chrono::format::parse(&mut p, text, self.items.iter()).ok()?;
        p.to_naive_date().ok()
    }

    /// Reads a time of day.
    pub fn parse_time(&self, text: &str) -> Option<NaiveTime> {
        if let Some(fixed) = &self.fixed {
            if let Some([None, None, None, Some(h), Some(m), s]) =
                read_fixed(fixed, text.as_bytes())
            {
                // Anything out of range (a leap second too) is chrono's to judge.
                if let Some(time) = NaiveTime::from_hms_opt(h, m, s.unwrap_or(0)) {
                    return Some(time);
                }
            }
        }
        let mut p = Parsed::new();
        chrono::format::parse(&mut p, text, self.items.iter()).ok()?;
        p.to_naive_time().ok()
    }
}

/// Reads `date time` in one text, separated by whitespace.
fn parse_joined(text: &str, date: &Pattern, time: &Pattern) -> Option<NaiveDateTime> {
    let mut p = Parsed::new();
    let gap = [Item::Space("")];
    let items = date.items.iter().chain(gap.iter()).chain(time.items.iter());
    chrono::format::parse(&mut p, text, items).ok()?;
    Some(p.to_naive_date().ok()?.and_time(p.to_naive_time().ok()?))
}

/// The default export date format (`dd/MM/yyyy`, as the published `infoJson`).
pub fn default_date() -> Pattern {
    Pattern::new("dd/MM/yyyy").expect("a constant pattern the unit tests check")
}

/// The default export time format (`HH:mm:ss`).
pub fn default_time() -> Pattern {
    Pattern::new("HH:mm:ss").expect("a constant pattern the unit tests check")
}

fn dotnet_to_strftime(pattern: &str) -> Result<String, FormatError> {
    let mut out = String::with_capacity(pattern.len() + 8);
    let chars: Vec<(usize, char)> = pattern.char_indices().collect();
    let mut i = 0;
    while let Some(&(position, c)) = chars.get(i) {
        let mut run = 1;
        while chars.get(i + run).is_some_and(|&(_, d)| d == c) {
            run += 1;
        }
        let token: Option<&str> = match (c, run) {
            ('y', 4) => Some("%Y"),
            ('y', 2) => Some("%y"),
            ('M', 4) => Some("%B"),
            ('M', 3) => Some("%b"),
            ('M', 1 | 2) => Some("%m"),
            ('d', 1 | 2) => Some("%d"),
            ('H', 1 | 2) => Some("%H"),
            ('h', 1 | 2) => Some("%I"),
            ('m', 1 | 2) => Some("%M"),
            ('s', 1 | 2) => Some("%S"),
            ('t', 2) => Some("%p"),
            ('f', 3) => Some("%3f"),
            _ => None,
        };
        match token {
            Some(t) => out.push_str(t),
            None if c.is_ascii_alphabetic() => {
                return Err(FormatError::UnknownToken {
                    pattern: pattern.to_owned(),
                    token: std::iter::repeat_n(c, run).collect(),
                    position,
                })
            }
            None => {
                for _ in 0..run {
                    if c == '%' {
                        out.push_str("%%");
                    } else {
                        out.push(c);
                    }
                }
            }
        }
        i += run;
    }
    Ok(out)
}

/// Parses `date` (and `time`, when the file has it in its own column) with the patterns.
/// A date-time column that carries both is tried with `date time` first, then as a date
/// alone (daily rows).
pub fn parse_local(
    date_text: &str,
    time_text: Option<&str>,
    date: &Pattern,
    time: &Pattern,
) -> Option<NaiveDateTime> {
    let date_text = date_text.trim();
    match time_text.map(str::trim) {
        Some(t) if !t.is_empty() => Some(date.parse_date(date_text)?.and_time(time.parse_time(t)?)),
        _ => parse_joined(date_text, date, time).or_else(|| {
            date.parse_date(date_text)
                .map(|d| d.and_time(NaiveTime::MIN))
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fixed-width fast path reads what chrono reads, and leaves the rest to it.
    #[test]
    fn fixed_width_fast_path_agrees_with_chrono() {
        let (d, t) = (default_date(), default_time());
        assert!(d.fixed.is_some() && t.fixed.is_some());
        for text in [
            "31/01/2024",
            "29/02/2024",
            "29/02/2023",
            "1/2/2024",
            "31/13/2024",
            "x",
        ] {
            let mut p = Parsed::new();
            let chrono = chrono::format::parse(&mut p, text, d.items.iter())
                .ok()
                .and_then(|()| p.to_naive_date().ok());
            assert_eq!(d.parse_date(text), chrono, "{text}");
        }
        for text in ["13:05:09", "23:59:59", "24:00:00", "7:05:00", "13:05"] {
            let mut p = Parsed::new();
            let chrono = chrono::format::parse(&mut p, text, t.items.iter())
                .ok()
                .and_then(|()| p.to_naive_time().ok());
            assert_eq!(t.parse_time(text), chrono, "{text}");
        }
    }

    #[test]
    fn dotnet_patterns_convert() {
        assert_eq!(Pattern::new("dd/MM/yyyy").unwrap().strftime(), "%d/%m/%Y");
        assert_eq!(Pattern::new("HH:mm:ss").unwrap().strftime(), "%H:%M:%S");
        assert_eq!(Pattern::new("yyyy-MM-dd").unwrap().strftime(), "%Y-%m-%d");
        assert_eq!(Pattern::new("hh:mm tt").unwrap().strftime(), "%I:%M %p");
        assert_eq!(Pattern::new("%Y%m%d").unwrap().strftime(), "%Y%m%d");
        assert!(matches!(
            Pattern::new("dd/QQ/yyyy"),
            Err(FormatError::UnknownToken { position: 3, .. })
        ));
        assert!(Pattern::new("%Q").is_err());
    }

    #[test]
    fn parse_split_and_joined() {
        let (d, t) = (default_date(), default_time());
        let want = NaiveDate::from_ymd_opt(2024, 1, 31)
            .unwrap()
            .and_hms_opt(13, 0, 0)
            .unwrap();
        assert_eq!(
            parse_local("31/01/2024", Some("13:00:00"), &d, &t),
            Some(want)
        );
        assert_eq!(parse_local("31/01/2024 13:00:00", None, &d, &t), Some(want));
        assert_eq!(
            parse_local("31/01/2024", None, &d, &t),
            Some(want.date().and_time(NaiveTime::MIN))
        );
        assert_eq!(parse_local("31/02/2024", None, &d, &t), None);
        assert_eq!(d.format_date(want.date()), "31/01/2024");
        assert_eq!(d, Pattern::new("dd/MM/yyyy").unwrap());
        assert_eq!(t.strftime(), "%H:%M:%S");
        // Chrono's own reading agrees with the compiled patterns.
        let hm = Pattern::new("HH:mm").unwrap();
        assert_eq!(
            parse_local("31/01/2024 13:05", None, &d, &hm),
            NaiveDateTime::parse_from_str("31/01/2024 13:05", "%d/%m/%Y %H:%M").ok()
        );
    }
}
