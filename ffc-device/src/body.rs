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

use core::fmt;
use std::borrow::Cow;
use std::fmt::Write as _;

use chrono::NaiveDateTime;
use ffc_core::time::{naive_to_seconds, parse_datetime, seconds_to_naive, Format};
use ffc_core::{
    CameraSerial, CountRecord, ParseError, Resolution, Source, Subject, UnixSeconds, Zone,
};
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

use crate::query::{DataFormat, DataType};

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

/// Where in a body a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Location {
    /// A JSON text position (1-based line and column, as serde_json counts them).
    Line {
        /// Line.
        line: usize,
        /// Column.
        column: usize,
    },
    /// A byte offset into the body.
    Byte {
        /// Offset from the first byte.
        offset: u64,
    },
    /// The n-th `cntset` (0-based), where the problem is the set as a whole.
    Cntset {
        /// Index in body order.
        index: usize,
    },
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Line { line, column } => write!(f, "line {line}, column {column}"),
            Location::Byte { offset } => write!(f, "byte {offset}"),
            Location::Cntset { index } => write!(f, "cntset #{index}"),
        }
    }
}

/// What is wrong at a [`Location`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// Not well-formed JSON or XML (the parser's words).
    Syntax(String),
    /// The body is not UTF-8.
    Utf8,
    /// The root is not the count body (`countdata`, or a JSON object).
    Root(String),
    /// A required field or attribute is missing.
    Missing(&'static str),
    /// A field that must be a non-negative whole number is not.
    Number(&'static str),
    /// `serial` is not 16 hex digits.
    Serial(ParseError),
    /// `starttime` is not `YYYY-MM-DD HH:MM:SS`.
    Time(ParseError),
    /// `data_format` or `resolution` names no device resolution.
    Resolution,
    /// `delta` is zero.
    ZeroDelta,
    /// A `cntset` gives the same `typeid` twice.
    DuplicateType(u64),
    /// A `cntset` lacks the In (3) or Out (4) count.
    MissingType(u64),
    /// The body holds more `cntset`s than [`MAX_RECORDS`].
    TooManyRecords,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Syntax(s) => write!(f, "syntax: {s}"),
            Problem::Utf8 => f.write_str("not UTF-8"),
            Problem::Root(s) => write!(f, "not a count body: {s}"),
            Problem::Missing(name) => write!(f, "`{name}` is missing"),
            Problem::Number(name) => write!(f, "`{name}` is not a non-negative whole number"),
            Problem::Serial(e) => write!(f, "`serial`: {e}"),
            Problem::Time(e) => write!(f, "`starttime`: {e}"),
            Problem::Resolution => f.write_str("`data_format`/`resolution` name no resolution"),
            Problem::ZeroDelta => f.write_str("`delta` is 0"),
            Problem::DuplicateType(t) => write!(f, "typeid {t} given twice"),
            Problem::MissingType(t) => write!(f, "no count for typeid {t}"),
            Problem::TooManyRecords => write!(f, "more than {MAX_RECORDS} cntsets"),
        }
    }
}

/// A count body that does not decode. The device (or something in front of it) answered
/// something other than the documented format: keep the bytes and report it; retrying
/// will not help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{format} count body, {location}: {problem}")]
pub struct BodyError {
    /// JSON or XML.
    pub format: DataType,
    /// Where.
    pub location: Location,
    /// Why.
    pub problem: Problem,
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
    let text = text.trim();
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

// ---- JSON ------------------------------------------------------------------------------

/// A non-negative whole number given as a JSON number or a digit string.
struct Num(u64);

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Num;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a non-negative whole number")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Num, E> {
                Ok(Num(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Num, E> {
                parse_number(v)
                    .map(Num)
                    .ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &self))
            }
        }
        d.deserialize_any(V)
    }
}

/// `starttime`, parsed where it stands so serde_json can name its line and column.
struct LocalTime(NaiveDateTime);

impl<'de> Deserialize<'de> for LocalTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = LocalTime;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a local time YYYY-MM-DD HH:MM:SS")
            }
            // Borrowed or not, the text is parsed in place: no allocation per record.
            fn visit_str<E: de::Error>(self, v: &str) -> Result<LocalTime, E> {
                parse_datetime(v)
                    .map(LocalTime)
                    .map_err(|e| E::custom(format_args!("starttime {e}")))
            }
        }
        d.deserialize_str(V)
    }
}

struct Serial(CameraSerial);

impl<'de> Deserialize<'de> for Serial {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Serial;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("16 hexadecimal digits")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Serial, E> {
                CameraSerial::parse(v)
                    .map(Serial)
                    .map_err(|e| E::custom(format_args!("serial {e}")))
            }
        }
        d.deserialize_str(V)
    }
}

#[derive(Deserialize)]
struct JsonBody<'a> {
    serial: Serial,
    #[serde(default, borrow)]
    data_format: Option<Cow<'a, str>>,
    #[serde(default)]
    resolution: Option<Num>,
    cntset: Vec<JsonSet>,
}

#[derive(Deserialize)]
struct JsonSet {
    starttime: LocalTime,
    delta: Num,
    counts: Vec<JsonCount>,
}

#[derive(Deserialize)]
struct JsonCount {
    typeid: Num,
    value: Num,
}

fn json_error(e: &serde_json::Error) -> BodyError {
    // serde_json's message ends with " at line L column C"; the location says it once.
    let text = e.to_string();
    let reason = match text.rfind(" at line ") {
        Some(cut) => text.get(..cut).unwrap_or(&text).to_owned(),
        None => text,
    };
    BodyError {
        format: DataType::Json,
        location: Location::Line {
            line: e.line(),
            column: e.column(),
        },
        problem: Problem::Syntax(reason),
    }
}

/// Decodes a JSON count body; `zone` is the counter's, which its local `starttime`s are in.
pub fn decode_json(bytes: &[u8], zone: &Zone) -> Result<CountBody, BodyError> {
    let body: JsonBody<'_> = serde_json::from_slice(bytes).map_err(|e| json_error(&e))?;
    let err = |location, problem| BodyError {
        format: DataType::Json,
        location,
        problem,
    };
    let root = Location::Line { line: 1, column: 1 };
    let resolution = match &body.data_format {
        Some(f) => Some(
            resolution_of(f, body.resolution.as_ref().map(|n| n.0))
                .ok_or_else(|| err(root, Problem::Resolution))?,
        ),
        None => None,
    };
    if body.cntset.len() > MAX_RECORDS {
        return Err(err(root, Problem::TooManyRecords));
    }
    let mut sets = Vec::with_capacity(body.cntset.len());
    for (index, set) in body.cntset.into_iter().enumerate() {
        let at = Location::Cntset { index };
        let delta = u32::try_from(set.delta.0).map_err(|_| err(at, Problem::Number("delta")))?;
        if delta == 0 {
            return Err(err(at, Problem::ZeroDelta));
        }
        let mut tally = Tally::default();
        for c in &set.counts {
            tally.add(c.typeid.0, c.value.0).map_err(|p| err(at, p))?;
        }
        let (count_in, count_out) = tally.finish().map_err(|p| err(at, p))?;
        sets.push(RawSet {
            local: naive_to_seconds(set.starttime.0),
            delta,
            count_in,
            count_out,
        });
    }
    let serial = body.serial.0;
    Ok(CountBody {
        serial,
        resolution,
        records: into_records(serial, sets, zone),
    })
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

// ---- XML -------------------------------------------------------------------------------

fn xml_err(offset: u64, problem: Problem) -> BodyError {
    BodyError {
        format: DataType::Xml,
        location: Location::Byte { offset },
        problem,
    }
}

/// The attributes of one start tag the decoder cares about, by name.
fn attrs<'a, const N: usize>(
    e: &'a BytesStart<'_>,
    names: [&str; N],
    at: u64,
) -> Result<[Option<Cow<'a, str>>; N], BodyError> {
    let mut out: [Option<Cow<'a, str>>; N] = std::array::from_fn(|_| None);
    for a in e.attributes() {
        let a = a.map_err(|e| xml_err(at, Problem::Syntax(e.to_string())))?;
        let key = a.key.as_ref();
        if let Some(i) = names.iter().position(|n| *n == key) {
            let value = a
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(|e| xml_err(at, Problem::Syntax(e.to_string())))?;
            if let Some(slot) = out.get_mut(i) {
                *slot = Some(value);
            }
        }
    }
    Ok(out)
}

fn number_attr(v: Option<&Cow<'_, str>>, name: &'static str, at: u64) -> Result<u64, BodyError> {
    let text = v.ok_or_else(|| xml_err(at, Problem::Missing(name)))?;
    parse_number(text).ok_or_else(|| xml_err(at, Problem::Number(name)))
}

/// Decodes an XML count body; `zone` is the counter's, which its local `starttime`s are in.
pub fn decode_xml(bytes: &[u8], zone: &Zone) -> Result<CountBody, BodyError> {
    let text =
        std::str::from_utf8(bytes).map_err(|e| xml_err(e.valid_up_to() as u64, Problem::Utf8))?;
    let mut reader = Reader::from_str(text);
    reader.config_mut().trim_text(true);
    let syntax = |reader: &Reader<&[u8]>, e: quick_xml::Error| {
        xml_err(reader.error_position(), Problem::Syntax(e.to_string()))
    };

    // The root element.
    let (root, root_empty, root_at) = loop {
        let at = reader.buffer_position();
        match reader.read_event().map_err(|e| syntax(&reader, e))? {
            Event::Start(e) => break (e, false, at),
            Event::Empty(e) => break (e, true, at),
            Event::Eof => return Err(xml_err(at, Problem::Root("no root element".into()))),
            Event::Text(t) if !t.trim().is_empty() => {
                return Err(xml_err(
                    at,
                    Problem::Root("text before the root element".into()),
                ))
            }
            _ => {}
        }
    };
    if root.name().as_ref() != "countdata" {
        return Err(xml_err(
            root_at,
            Problem::Root(format!(
                "root element is <{}>, not <countdata>",
                root.name().as_ref()
            )),
        ));
    }
    let [serial, data_format, resolution] =
        attrs(&root, ["serial", "data_format", "resolution"], root_at)?;
    let serial = serial.ok_or_else(|| xml_err(root_at, Problem::Missing("serial")))?;
    let serial = CameraSerial::parse(&serial).map_err(|e| xml_err(root_at, Problem::Serial(e)))?;
    let resolution = match data_format {
        Some(f) => {
            let step = match &resolution {
                Some(_) => Some(number_attr(resolution.as_ref(), "resolution", root_at)?),
                None => None,
            };
            Some(resolution_of(&f, step).ok_or_else(|| xml_err(root_at, Problem::Resolution))?)
        }
        None => None,
    };

    let mut sets = Vec::new();
    if !root_empty {
        loop {
            let at = reader.buffer_position();
            match reader.read_event().map_err(|e| syntax(&reader, e))? {
                Event::Start(e) if e.name().as_ref() == "cntset" => {
                    sets.push(read_cntset(&mut reader, &e, false, at)?);
                }
                Event::Empty(e) if e.name().as_ref() == "cntset" => {
                    sets.push(read_cntset(&mut reader, &e, true, at)?);
                }
                Event::Start(e) => {
                    // typedesc and anything unknown: skipped whole.
                    reader
                        .read_to_end(e.name())
                        .map_err(|e| syntax(&reader, e))?;
                }
                Event::End(_) => break,
                Event::Eof => {
                    return Err(xml_err(
                        at,
                        Problem::Syntax("</countdata> is missing".into()),
                    ))
                }
                _ => {}
            }
            if sets.len() > MAX_RECORDS {
                return Err(xml_err(at, Problem::TooManyRecords));
            }
        }
    }
    // Nothing but comments and whitespace may follow the root.
    loop {
        let at = reader.buffer_position();
        match reader.read_event().map_err(|e| syntax(&reader, e))? {
            Event::Eof => break,
            Event::Comment(_) | Event::PI(_) => {}
            Event::Text(t) if t.trim().is_empty() => {}
            _ => {
                return Err(xml_err(
                    at,
                    Problem::Syntax("content after </countdata>".into()),
                ))
            }
        }
    }
    Ok(CountBody {
        serial,
        resolution,
        records: into_records(serial, sets, zone),
    })
}

fn read_cntset(
    reader: &mut Reader<&[u8]>,
    start: &BytesStart<'_>,
    empty: bool,
    at: u64,
) -> Result<RawSet, BodyError> {
    let [starttime, delta] = attrs(start, ["starttime", "delta"], at)?;
    let starttime = starttime.ok_or_else(|| xml_err(at, Problem::Missing("starttime")))?;
    let local = parse_datetime(&starttime).map_err(|e| xml_err(at, Problem::Time(e)))?;
    let delta = number_attr(delta.as_ref(), "delta", at)?;
    let delta = u32::try_from(delta).map_err(|_| xml_err(at, Problem::Number("delta")))?;
    if delta == 0 {
        return Err(xml_err(at, Problem::ZeroDelta));
    }
    let mut tally = Tally::default();
    if !empty {
        loop {
            let cnt_at = reader.buffer_position();
            let event = reader
                .read_event()
                .map_err(|e| xml_err(reader.error_position(), Problem::Syntax(e.to_string())))?;
            let cnt = match event {
                Event::Empty(e) if e.name().as_ref() == "cnt" => e,
                Event::Start(e) => {
                    let name = e.name();
                    reader.read_to_end(name).map_err(|err| {
                        xml_err(reader.error_position(), Problem::Syntax(err.to_string()))
                    })?;
                    if e.name().as_ref() != "cnt" {
                        continue;
                    }
                    e
                }
                Event::End(_) => break,
                Event::Eof => {
                    return Err(xml_err(
                        cnt_at,
                        Problem::Syntax("</cntset> is missing".into()),
                    ))
                }
                _ => continue,
            };
            let [typeid, value] = attrs(&cnt, ["typeid", "value"], cnt_at)?;
            let typeid = number_attr(typeid.as_ref(), "typeid", cnt_at)?;
            let value = number_attr(value.as_ref(), "value", cnt_at)?;
            tally.add(typeid, value).map_err(|p| xml_err(cnt_at, p))?;
        }
    }
    let (count_in, count_out) = tally.finish().map_err(|p| xml_err(at, p))?;
    Ok(RawSet {
        local: naive_to_seconds(local),
        delta,
        count_in,
        count_out,
    })
}

/// Decodes a count body of either format.
pub fn decode(data_type: DataType, bytes: &[u8], zone: &Zone) -> Result<CountBody, BodyError> {
    match data_type {
        DataType::Json => decode_json(bytes, zone),
        DataType::Xml => decode_xml(bytes, zone),
    }
}

// ---- encoding (the simulator's side) ---------------------------------------------------

fn local_text(r: &CountRecord) -> String {
    let local = r.start + i64::from(r.offset.seconds());
    match seconds_to_naive(local) {
        Some(dt) => Format::DateTime.display(dt).to_string(),
        None => String::from("1970-01-01 00:00:00"),
    }
}

fn format_and_step(resolution: Resolution) -> (&'static str, u8) {
    match DataFormat::of(resolution) {
        Some((f, step)) => (f.as_str(), step),
        None => ("hour", 1),
    }
}

fn xml_escape(text: &str) -> Cow<'_, str> {
    quick_xml::escape::escape(text)
}

/// Renders records as the XML count body; `starttime`s are each record's local time
/// (start plus its offset). Every record is written; the caller chooses which.
pub fn encode_xml(
    serial: CameraSerial,
    name: &str,
    resolution: Resolution,
    records: &[CountRecord],
) -> String {
    let (format, step) = format_and_step(resolution);
    let name = xml_escape(name);
    let mut out = String::with_capacity(160 + records.len() * 120);
    let _ = write!(
        out,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<countdata serial=\"{serial}\" \
         data_format=\"{format}\" resolution=\"{step}\">\n<typedesc>\
         <type typeid=\"3\" desc=\"Pedestrian coming in\"/>\
         <type typeid=\"4\" desc=\"Pedestrian going out\"/></typedesc>\n"
    );
    for r in records {
        let _ = writeln!(
            out,
            "<cntset name=\"{name}\" starttime=\"{}\" delta=\"{}\">\
             <cnt typeid=\"3\" value=\"{}\"/><cnt typeid=\"4\" value=\"{}\"/></cntset>",
            local_text(r),
            r.length,
            r.count_in,
            r.count_out
        );
    }
    out.push_str("</countdata>\n");
    out
}

/// Renders records as the JSON count body (see [`encode_xml`]).
pub fn encode_json(
    serial: CameraSerial,
    name: &str,
    resolution: Resolution,
    records: &[CountRecord],
) -> String {
    let (format, step) = format_and_step(resolution);
    let name = serde_json::Value::String(name.to_owned()).to_string();
    let mut out = String::with_capacity(200 + records.len() * 130);
    let _ = write!(
        out,
        "{{\"serial\":\"{serial}\",\"data_format\":\"{format}\",\"resolution\":{step},\
         \"typedesc\":[{{\"typeid\":3,\"desc\":\"Pedestrian coming in\"}},\
         {{\"typeid\":4,\"desc\":\"Pedestrian going out\"}}],\"cntset\":["
    );
    for (i, r) in records.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(
            out,
            "\n{{\"name\":{name},\"starttime\":\"{}\",\"delta\":{},\"counts\":\
             [{{\"typeid\":3,\"value\":{}}},{{\"typeid\":4,\"value\":{}}}]}}",
            local_text(r),
            r.length,
            r.count_in,
            r.count_out
        );
    }
    out.push_str("]}\n");
    out
}

/// Renders records in the format asked for.
pub fn encode(
    data_type: DataType,
    serial: CameraSerial,
    name: &str,
    resolution: Resolution,
    records: &[CountRecord],
) -> String {
    match data_type {
        DataType::Json => encode_json(serial, name, resolution, records),
        DataType::Xml => encode_xml(serial, name, resolution, records),
    }
}

// ---- token body ------------------------------------------------------------------------

/// Why a token body was refused: the device answered something that holds no token.
/// Check the URL points at a counter; retrying will not help.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenBodyError {
    /// An empty body.
    #[error("the token body is empty")]
    Empty,
    /// JSON without `access_token`, `token` or `AccessToken` as a string.
    #[error("the JSON token body has no access_token, token or AccessToken string")]
    NoTokenField,
    /// Plain text that cannot be a token (not UTF-8, or holding spaces or controls), at a
    /// byte offset.
    #[error("the plain-text token has a character no token holds at byte {offset}")]
    BadCharacter {
        /// Byte offset.
        offset: usize,
    },
}

/// Decodes the `access_token.cgi` body: JSON `{"access_token": ".."}` (also `token` or
/// `AccessToken`), or the bare token as plain text. The token text is returned as is; the
/// caller wraps it in a redacting type.
pub fn decode_token(bytes: &[u8]) -> Result<String, TokenBodyError> {
    let trimmed = bytes.trim_ascii();
    if trimmed.is_empty() {
        return Err(TokenBodyError::Empty);
    }
    if trimmed.first() == Some(&b'{') {
        #[derive(Deserialize)]
        struct TokenJson {
            access_token: Option<String>,
            token: Option<String>,
            #[serde(rename = "AccessToken")]
            access_token_pascal: Option<String>,
        }
        let t: TokenJson =
            serde_json::from_slice(trimmed).map_err(|_| TokenBodyError::NoTokenField)?;
        return t
            .access_token
            .or(t.token)
            .or(t.access_token_pascal)
            .filter(|t| !t.is_empty())
            .ok_or(TokenBodyError::NoTokenField);
    }
    let lead = bytes.len() - bytes.trim_ascii_start().len();
    let text = std::str::from_utf8(trimmed).map_err(|e| TokenBodyError::BadCharacter {
        offset: lead + e.valid_up_to(),
    })?;
    if let Some(i) = text
        .bytes()
        .position(|b| b.is_ascii_whitespace() || b.is_ascii_control())
    {
        return Err(TokenBodyError::BadCharacter { offset: lead + i });
    }
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ffc_core::UtcOffset;

    const SERIAL: &str = "000000006afce315";

    fn rec(start: i64, length: u32, count_in: u64, count_out: u64, zone: &Zone) -> CountRecord {
        CountRecord {
            subject: Subject::Counter(SERIAL.parse().unwrap()),
            start,
            length,
            offset: zone.offset_at(start),
            count_in,
            count_out,
            outside: None,
            source: Source::DevicePull,
        }
    }

    const XML: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<countdata serial="000000006AFCE315" data_format="minute" resolution="15" firmware="3.2.1">
  <!-- a comment -->
  <typedesc><type typeid="3" desc="Pedestrian coming in"/><type typeid="4" desc="Pedestrian going out"/></typedesc>
  <cntset name="ACME &amp; Co - Door 1" starttime="2024-01-31 08:00:00" delta="900">
    <cnt typeid="3" value="12"/><cnt typeid="4" value="9"/><cnt typeid="7" value="1"/>
  </cntset>
  <extra><nested/></extra>
  <cntset name="ACME &amp; Co - Door 1" starttime="2024-01-31 08:15:00" delta="900" unknown="x">
    <cnt typeid="4" value="0"></cnt><cnt typeid="3" value=" 5 "/>
  </cntset>
</countdata>
"#;

    const JSON: &str = r#"{"serial":"000000006AFCE315","data_format":"minute","resolution":"15",
 "typedesc":[{"typeid":3,"desc":"Pedestrian coming in"},{"typeid":4,"desc":"Pedestrian going out"}],
 "firmware":"3.2.1",
 "cntset":[
  {"name":"ACME & Co - Door 1","starttime":"2024-01-31 08:00:00","delta":900,
   "counts":[{"typeid":3,"value":12},{"typeid":4,"value":9},{"typeid":7,"value":1}]},
  {"name":"ACME & Co - Door 1","starttime":"2024-01-31 08:15:00","delta":"900","extra":[1,2],
   "counts":[{"typeid":4,"value":"0"},{"typeid":3,"value":5}]}]}"#;

    #[test]
    fn decodes_the_documented_shapes_equal() {
        let zone = Zone::Fixed(UtcOffset::from_seconds(8 * 3600).unwrap());
        let x = decode_xml(XML.as_bytes(), &zone).unwrap();
        let j = decode_json(JSON.as_bytes(), &zone).unwrap();
        assert_eq!(x, j);
        assert_eq!(x.serial.to_string(), SERIAL);
        assert_eq!(x.resolution, Some(Resolution::Minutes(15)));
        // 08:00 at +08:00 is 00:00 UTC.
        let t0 = 1_706_659_200;
        assert_eq!(
            x.records,
            vec![rec(t0, 900, 12, 9, &zone), rec(t0 + 900, 900, 5, 0, &zone)]
        );
    }

    #[test]
    fn round_trips_through_both_encoders() {
        let zone = Zone::iana("Europe/London").unwrap();
        // Hours across the fall-back: local 01:00 occurs twice.
        let start = 1_729_983_600; // 2024-10-26 23:00 UTC = 27 Oct 00:00 BST
        let records: Vec<_> = (0..5)
            .map(|i| rec(start + i * 3600, 3600, i as u64, 2, &zone))
            .collect();
        let serial = SERIAL.parse().unwrap();
        let j = encode_json(serial, "A \"quoted\" <name>", Resolution::Hour, &records);
        let x = encode_xml(serial, "A \"quoted\" <name>", Resolution::Hour, &records);
        assert_eq!(j.matches("2024-10-27 01:00:00").count(), 2);
        let dj = decode_json(j.as_bytes(), &zone).unwrap();
        let dx = decode_xml(x.as_bytes(), &zone).unwrap();
        assert_eq!(dj.records, records);
        assert_eq!(dx.records, records);
        assert_eq!(dj.resolution, Some(Resolution::Hour));
        let empty = encode_xml(serial, "n", Resolution::Seconds(1), &[]);
        assert_eq!(decode_xml(empty.as_bytes(), &zone).unwrap().records, vec![]);
        let empty = encode_json(serial, "n", Resolution::Seconds(1), &[]);
        assert_eq!(
            decode_json(empty.as_bytes(), &zone).unwrap().resolution,
            Some(Resolution::Seconds(1))
        );
    }

    fn xml_problem(body: &str) -> (u64, Problem) {
        match decode_xml(body.as_bytes(), &Zone::UTC) {
            Err(BodyError {
                location: Location::Byte { offset },
                problem,
                ..
            }) => (offset, problem),
            other => panic!("expected an XML error, got {other:?}"),
        }
    }

    #[test]
    fn xml_errors_name_the_byte_and_reason() {
        let head = r#"<countdata serial="000000006afce315">"#;
        let set = |attrs: &str, inner: &str| {
            format!("{head}<cntset {attrs}>{inner}</cntset></countdata>")
        };
        let good_cnts = r#"<cnt typeid="3" value="1"/><cnt typeid="4" value="2"/>"#;
        let at = head.len() as u64;
        assert_eq!(
            xml_problem(&set(
                r#"starttime="2024-01-31 25:00:00" delta="60""#,
                good_cnts
            )),
            (
                at,
                Problem::Time(ParseError::OutOfRange {
                    field: ffc_core::Field::Hour
                })
            )
        );
        assert_eq!(
            xml_problem(&set(r#"starttime="2024-01-31 08:00:00""#, good_cnts)),
            (at, Problem::Missing("delta"))
        );
        assert_eq!(
            xml_problem(&set(
                r#"starttime="2024-01-31 08:00:00" delta="-5""#,
                good_cnts
            )),
            (at, Problem::Number("delta"))
        );
        assert_eq!(
            xml_problem(&set(
                r#"starttime="2024-01-31 08:00:00" delta="0""#,
                good_cnts
            )),
            (at, Problem::ZeroDelta)
        );
        let cnt_at = at + r#"<cntset starttime="2024-01-31 08:00:00" delta="60">"#.len() as u64;
        assert_eq!(
            xml_problem(&set(
                r#"starttime="2024-01-31 08:00:00" delta="60""#,
                r#"<cnt typeid="3" value="x1"/>"#
            )),
            (cnt_at, Problem::Number("value"))
        );
        assert_eq!(
            xml_problem(&set(
                r#"starttime="2024-01-31 08:00:00" delta="60""#,
                r#"<cnt typeid="3" value="1"/><cnt typeid="3" value="1"/>"#
            ))
            .1,
            Problem::DuplicateType(3)
        );
        assert_eq!(
            xml_problem(&set(
                r#"starttime="2024-01-31 08:00:00" delta="60""#,
                r#"<cnt typeid="3" value="1"/>"#
            )),
            (at, Problem::MissingType(4))
        );
        assert_eq!(
            xml_problem("<other/>").1,
            Problem::Root("root element is <other>, not <countdata>".into())
        );
        assert_eq!(xml_problem("<countdata/>").1, Problem::Missing("serial"));
        assert!(matches!(
            xml_problem(r#"<countdata serial="xyz"/>"#).1,
            Problem::Serial(_)
        ));
        assert!(matches!(
            xml_problem(&format!("{head}<cntset")).1,
            Problem::Syntax(_)
        ));
        assert!(matches!(
            xml_problem(&format!("{head}</wrong>")).1,
            Problem::Syntax(_)
        ));
        assert!(matches!(xml_problem(head).1, Problem::Syntax(_)));
        assert!(matches!(
            xml_problem(&format!("{head}</countdata><x/>")).1,
            Problem::Syntax(_)
        ));
        assert_eq!(
            decode_xml(b"<countdata>\xff", &Zone::UTC)
                .unwrap_err()
                .location,
            Location::Byte { offset: 11 }
        );
        assert_eq!(
            xml_problem(
                r#"<countdata serial="000000006afce315" data_format="minute" resolution="7"/>"#
            )
            .1,
            Problem::Resolution
        );
    }

    #[test]
    fn json_errors_name_the_line_or_set() {
        let err = decode_json(
            b"{\"serial\":\"000000006afce315\",\n\"cntset\":[{\"starttime\":\"2024-01-31 8:00:00\"",
            &Zone::UTC,
        )
        .unwrap_err();
        assert!(
            matches!(err.location, Location::Line { line: 2, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("starttime"), "{err}");
        let err = decode_json(br#"{"serial":"000000006afce315"}"#, &Zone::UTC).unwrap_err();
        assert!(err.to_string().contains("cntset"), "{err}");
        let err = decode_json(br#"{"serial":"00000000","cntset":[]}"#, &Zone::UTC).unwrap_err();
        assert!(err.to_string().contains("serial"), "{err}");
        let body = br#"{"serial":"000000006afce315","cntset":[
            {"starttime":"2024-01-31 08:00:00","delta":60,"counts":[{"typeid":3,"value":1},{"typeid":4,"value":1}]},
            {"starttime":"2024-01-31 08:01:00","delta":60,"counts":[{"typeid":3,"value":1}]}]}"#;
        let err = decode_json(body, &Zone::UTC).unwrap_err();
        assert_eq!(
            (err.location, err.problem),
            (Location::Cntset { index: 1 }, Problem::MissingType(4))
        );
        let neg = br#"{"serial":"000000006afce315","cntset":[{"starttime":"2024-01-31 08:00:00","delta":60,"counts":[{"typeid":3,"value":-1}]}]}"#;
        assert!(matches!(
            decode_json(neg, &Zone::UTC).unwrap_err().location,
            Location::Line { line: 1, .. }
        ));
        let float = br#"{"serial":"000000006afce315","cntset":[{"starttime":"2024-01-31 08:00:00","delta":60.5,"counts":[]}]}"#;
        assert!(decode_json(float, &Zone::UTC).is_err());
        let big = br#"{"serial":"000000006afce315","cntset":[{"starttime":"2024-01-31 08:00:00","delta":5000000000,"counts":[]}]}"#;
        assert_eq!(
            decode_json(big, &Zone::UTC).unwrap_err().problem,
            Problem::Number("delta")
        );
        assert!(decode_json(b"", &Zone::UTC).is_err());
        assert!(decode_json(b"[1,2]", &Zone::UTC).is_err());
    }

    #[test]
    fn token_bodies() {
        assert_eq!(
            decode_token(br#" {"access_token":"eyJ.abc"} "#).as_deref(),
            Ok("eyJ.abc")
        );
        assert_eq!(decode_token(br#"{"token":"t1"}"#).as_deref(), Ok("t1"));
        assert_eq!(
            decode_token(br#"{"AccessToken":"t2","x":1}"#).as_deref(),
            Ok("t2")
        );
        assert_eq!(
            decode_token(b"eyJhbGci.x.y\n").as_deref(),
            Ok("eyJhbGci.x.y")
        );
        assert_eq!(decode_token(b"  \n"), Err(TokenBodyError::Empty));
        assert_eq!(
            decode_token(br#"{"error":"denied"}"#),
            Err(TokenBodyError::NoTokenField)
        );
        assert_eq!(
            decode_token(b"two words"),
            Err(TokenBodyError::BadCharacter { offset: 3 })
        );
        assert_eq!(
            decode_token(b" a\xffb"),
            Err(TokenBodyError::BadCharacter { offset: 2 })
        );
    }
}
