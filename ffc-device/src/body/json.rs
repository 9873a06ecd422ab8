//! The JSON count body decoder: serde with borrowing visitors, so serde_json can name the
//! line and column of a bad field.

use core::fmt;
use std::borrow::Cow;

use chrono::NaiveDateTime;
use ffc_core::time::{naive_to_seconds, parse_datetime};
use ffc_core::{CameraSerial, Zone};
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

use super::{
    into_records, parse_number, resolution_of, BodyError, CountBody, Location, Problem, RawSet,
    Tally, MAX_RECORDS,
};
use crate::query::DataType;

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
