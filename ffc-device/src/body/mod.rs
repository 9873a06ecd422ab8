//! The response bodies of `access_token.cgi` and `apiCount.cgi`: sans-IO decoders and
//! encoders, shared by the client, the simulator, the fuzz targets and the benchmarks.
//!
//! The bodies are not public; their shape is the DECISION of spec §1:
//!
//! ```text
//! <countdata serial=".." data_format="minute" resolution="15">
//!   <typedesc><type typeid="3" desc="Pedestrian coming in"/>..</typedesc>
//!   <cntset name="{CompanyCode} - {CounterName}" starttime="2024-01-31 08:00:00" delta="900">
//!     <cnt typeid="3" value="12"/><cnt typeid="4" value="9"/>
//!   </cntset>
//! </countdata>
//! ```
//!
//! and the same tree in JSON:
//! `{"serial","data_format","resolution","typedesc":[{"typeid","desc"}],
//! "cntset":[{"name","starttime","delta","counts":[{"typeid","value"}]}]}`.
//! `typeid` 3 is In and 4 is Out; `starttime` is the device's local time and `delta` the
//! bucket length in seconds. Unknown elements, attributes, fields and type ids are ignored;
//! numbers may be JSON numbers or digit strings.
//!
//! ```
//! use ffc_device::body::{decode_json, decode_xml, encode_json, encode_xml};
//! use ffc_core::{CameraSerial, CountRecord, Resolution, Source, Subject, UtcOffset, Zone};
//!
//! let serial: CameraSerial = "000000006afce315".parse()?;
//! let record = CountRecord {
//!     subject: Subject::Counter(serial), start: 1_706_688_000, length: 900,
//!     offset: UtcOffset::UTC, count_in: 12, count_out: 9, outside: None,
//!     source: Source::DevicePull,
//! };
//! let json = encode_json(serial, "ACME - Door 1", Resolution::Minutes(15), &[record]);
//! let xml = encode_xml(serial, "ACME - Door 1", Resolution::Minutes(15), &[record]);
//! let a = decode_json(json.as_bytes(), &Zone::UTC)?;
//! let b = decode_xml(xml.as_bytes(), &Zone::UTC)?;
//! assert_eq!(a, b);
//! assert_eq!(a.records, vec![record]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use ffc_core::{CameraSerial, CountRecord, Resolution, Source, Subject, UnixSeconds, Zone};

use crate::query::DataType;

mod attrs;
mod encode;
mod error;
mod json;
mod layout;
mod token;
mod xml;

pub use encode::{encode, encode_json, encode_xml};
pub use error::{BodyError, Location, Problem};
pub use json::decode_json;
pub use token::{decode_token, TokenBodyError};
pub use xml::decode_xml;

/// `typeid` of people coming in.
pub const TYPEID_IN: u64 = 3;
/// `typeid` of people going out.
pub const TYPEID_OUT: u64 = 4;

/// A decoded count body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountBody {
    /// The counter that answered.
    pub serial: CameraSerial,
    /// The resolution the body declares (`data_format` and `resolution`), when it does.
    pub resolution: Option<Resolution>,
    /// One record per `cntset`, in body order.
    pub records: Vec<CountRecord>,
}

/// The most `cntset`s one body may hold: a day of 1-second buckets, with room for a
/// 25-hour DST day.
pub const MAX_RECORDS: usize = 25 * 3600;

/// The counts of one `cntset`, before its local start time is placed on the UTC line.
struct RawSet {
    local: i64,
    delta: u32,
    count_in: u64,
    count_out: u64,
}

/// Places local start times on the UTC line. A local time that occurs twice (the repeated
/// hour of a DST fall-back) is taken as the first occurrence not before the end of the
/// previous record, since a device lists its buckets in time order.
fn resolve_local(zone: &Zone, local: i64, not_before: Option<UnixSeconds>) -> UnixSeconds {
    let day = ffc_core::time::SECONDS_PER_DAY;
    let mut candidates = [zone.offset_at(local - day), zone.offset_at(local + day)]
        .map(|off| local - i64::from(off.seconds()));
    candidates.sort_unstable();
    let valid = candidates
        .iter()
        .copied()
        .filter(|utc| zone.local_seconds(*utc) == local);
    let mut first = None;
    for utc in valid {
        first.get_or_insert(utc);
        if not_before.is_none_or(|nb| utc >= nb) {
            return utc;
        }
    }
    first.unwrap_or_else(|| zone.local_to_utc(local))
}

fn into_records(serial: CameraSerial, sets: Vec<RawSet>, zone: &Zone) -> Vec<CountRecord> {
    let mut out = Vec::with_capacity(sets.len());
    let mut not_before = None;
    for s in sets {
        let start = resolve_local(zone, s.local, not_before);
        not_before = Some(start + i64::from(s.delta));
        out.push(CountRecord {
            subject: Subject::Counter(serial),
            start,
            length: s.delta,
            offset: zone.offset_at(start),
            count_in: s.count_in,
            count_out: s.count_out,
            outside: None,
            source: Source::DevicePull,
        });
    }
    out
}

fn resolution_of(format: &str, step: Option<u64>) -> Option<Resolution> {
    let step = step.map(u8::try_from);
    match (format, step) {
        ("hour", None | Some(Ok(1 | 60))) => Some(Resolution::Hour),
        ("minute", None) => Some(Resolution::Minutes(1)),
        ("minute", Some(Ok(s))) => Resolution::minutes(s).ok(),
        ("second", None) => Some(Resolution::Seconds(10)),
        ("second", Some(Ok(s))) => Resolution::seconds(s).ok(),
        _ => None,
    }
}

fn parse_number(text: &str) -> Option<u64> {
    // Up to 19 digits cannot overflow a u64: read in one pass, the common case (the sum
    // of a text with other bytes is dropped).
    let b = text.as_bytes();
    if (1..=19).contains(&b.len()) {
        let (v, digits) = b.iter().fold((0u64, true), |(v, digits), d| {
            let digit = d.wrapping_sub(b'0');
            (
                v.wrapping_mul(10).wrapping_add(u64::from(digit)),
                digits & (digit < 10),
            )
        });
        if digits {
            return Some(v);
        }
    }
    let text = text.trim();
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// The In and Out counts of one `cntset`, checked for duplicates and gaps.
#[derive(Default)]
struct Tally {
    count_in: Option<u64>,
    count_out: Option<u64>,
}

impl Tally {
    fn add(&mut self, typeid: u64, value: u64) -> Result<(), Problem> {
        let slot = match typeid {
            TYPEID_IN => &mut self.count_in,
            TYPEID_OUT => &mut self.count_out,
            // Other count types (future firmware) are ignored.
            _ => return Ok(()),
        };
        if slot.replace(value).is_some() {
            return Err(Problem::DuplicateType(typeid));
        }
        Ok(())
    }

    fn finish(self) -> Result<(u64, u64), Problem> {
        Ok((
            self.count_in.ok_or(Problem::MissingType(TYPEID_IN))?,
            self.count_out.ok_or(Problem::MissingType(TYPEID_OUT))?,
        ))
    }
}

/// Decodes a count body of either format.
pub fn decode(data_type: DataType, bytes: &[u8], zone: &Zone) -> Result<CountBody, BodyError> {
    match data_type {
        DataType::Json => decode_json(bytes, zone),
        DataType::Xml => decode_xml(bytes, zone),
    }
}

#[cfg(test)]
mod tests;
