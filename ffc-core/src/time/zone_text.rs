//! [`Zone`] as text: `UTC`, `+08:00` / `-05:30` (seconds when not whole minutes), or an IANA
//! name (feature `std`); serde through the same text (feature `serde`).

use core::fmt;

#[cfg(feature = "serde")]
use serde::de::{self, Visitor};
#[cfg(feature = "serde")]
use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[cfg(feature = "serde")]
use super::UtcOffset;
use super::Zone;

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Zone::Fixed(o) if o.seconds() == 0 => f.write_str("UTC"),
            Zone::Fixed(o) => {
                let s = o.seconds();
                let sign = if s < 0 { '-' } else { '+' };
                let a = s.unsigned_abs();
                write!(f, "{sign}{:02}:{:02}", a / 3600, a / 60 % 60)?;
                if a % 60 != 0 {
                    write!(f, ":{:02}", a % 60)?;
                }
                Ok(())
            }
            #[cfg(feature = "std")]
            Zone::Iana(tz) => f.write_str(tz.name()),
        }
    }
}

#[cfg(feature = "serde")]
impl Serialize for Zone {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// `+HH:MM` or `+HH:MM:SS` (or `-`).
#[cfg(feature = "serde")]
fn parse_offset(text: &str) -> Option<UtcOffset> {
    let (sign, rest) = match text.as_bytes().first()? {
        b'+' => (1, text.get(1..)?),
        b'-' => (-1, text.get(1..)?),
        _ => return None,
    };
    let mut seconds = 0i32;
    let mut parts = 0;
    for (i, part) in rest.split(':').enumerate() {
        if i > 2 || part.len() != 2 || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let v: i32 = part.parse().ok()?;
        seconds += v * [3600, 60, 1].get(i)?;
        parts += 1;
    }
    if parts < 2 {
        return None;
    }
    UtcOffset::from_seconds(sign * seconds).ok()
}

#[cfg(feature = "serde")]
struct ZoneVisitor;

#[cfg(feature = "serde")]
impl Visitor<'_> for ZoneVisitor {
    type Value = Zone;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a zone: UTC, an offset such as +08:00, or an IANA name")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Zone, E> {
        if text == "UTC" {
            return Ok(Zone::UTC);
        }
        if let Some(offset) = parse_offset(text) {
            return Ok(Zone::Fixed(offset));
        }
        #[cfg(feature = "std")]
        if let Some(zone) = Zone::iana(text) {
            return Ok(zone);
        }
        Err(E::invalid_value(de::Unexpected::Str(text), &self))
    }
}

#[cfg(feature = "serde")]
impl<'de> Deserialize<'de> for Zone {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Zone, D::Error> {
        deserializer.deserialize_str(ZoneVisitor)
    }
}

#[cfg(all(test, feature = "serde"))]
mod tests {
    use super::*;

    #[test]
    fn zones_round_trip_as_text() {
        for (zone, text) in [
            (Zone::UTC, "\"UTC\""),
            (
                Zone::Fixed(UtcOffset::from_seconds(8 * 3600).unwrap()),
                "\"+08:00\"",
            ),
            (
                Zone::Fixed(UtcOffset::from_seconds(-(5 * 3600 + 1800)).unwrap()),
                "\"-05:30\"",
            ),
            (Zone::iana("Europe/London").unwrap(), "\"Europe/London\""),
        ] {
            assert_eq!(serde_json::to_string(&zone).unwrap(), text);
            assert_eq!(serde_json::from_str::<Zone>(text).unwrap(), zone);
        }
        assert!(serde_json::from_str::<Zone>("\"+8\"").is_err());
        assert!(serde_json::from_str::<Zone>("\"Mars/Olympus\"").is_err());
    }
}
