//! Date and time formats chosen by the user in the export settings.
//!
//! FootfallCam writes them .NET style (`dd/MM/yyyy`, `HH:mm:ss`); chrono `strftime`
//! patterns (anything with a `%`) are accepted as they are. Both are checked when built, so
//! formatting and parsing never meet an invalid pattern.

use chrono::format::{Item, StrftimeItems};
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

/// Why a format pattern was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
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
}

impl Pattern {
    /// Parses a .NET pattern (`dd/MM/yyyy`) or a chrono pattern (`%d/%m/%Y`).
    pub fn new(pattern: &str) -> Result<Self, FormatError> {
        let strftime = if pattern.contains('%') {
            pattern.to_owned()
        } else {
            dotnet_to_strftime(pattern)?
        };
        if StrftimeItems::new(&strftime).any(|item| matches!(item, Item::Error)) {
            return Err(FormatError::Strftime(strftime));
        }
        Ok(Pattern {
            original: pattern.to_owned(),
            strftime,
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
        date.format_with_items(StrftimeItems::new(&self.strftime))
            .to_string()
    }

    /// Formats a date-time.
    pub fn format_datetime(&self, dt: NaiveDateTime) -> String {
        dt.format_with_items(StrftimeItems::new(&self.strftime))
            .to_string()
    }
}

/// The default export date format (`dd/MM/yyyy`, as the published `infoJson`).
pub fn default_date() -> Pattern {
    Pattern {
        original: "dd/MM/yyyy".into(),
        strftime: "%d/%m/%Y".into(),
    }
}

/// The default export time format (`HH:mm:ss`).
pub fn default_time() -> Pattern {
    Pattern {
        original: "HH:mm:ss".into(),
        strftime: "%H:%M:%S".into(),
    }
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
        Some(t) if !t.is_empty() => {
            let d = NaiveDate::parse_from_str(date_text, date.strftime()).ok()?;
            let t = NaiveTime::parse_from_str(t, time.strftime()).ok()?;
            Some(d.and_time(t))
        }
        _ => {
            let both = format!("{} {}", date.strftime(), time.strftime());
            NaiveDateTime::parse_from_str(date_text, &both)
                .ok()
                .or_else(|| {
                    NaiveDate::parse_from_str(date_text, date.strftime())
                        .ok()
                        .map(|d| d.and_time(NaiveTime::MIN))
                })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }
}
