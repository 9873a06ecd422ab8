//! The XML count body decoder: quick-xml events, errors at byte offsets; a `cntset` written
//! as devices write it is read whole by [`device_cntset`] instead, with the same answer.

use std::borrow::Cow;
use std::io::BufRead;

use super::attrs::attrs;
use super::layout::device_cntset;
use ffc_core::time::parse_datetime_seconds;
use ffc_core::{CameraSerial, Resolution, Zone};
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::{
    into_records, parse_number, resolution_of, BodyError, CountBody, Location, Problem, RawSet,
    Tally, MAX_RECORDS,
};
use crate::query::DataType;

/// An XML error at a byte offset.
pub(super) fn xml_err(offset: u64, problem: Problem) -> BodyError {
    BodyError {
        format: DataType::Xml,
        location: Location::Byte { offset },
        problem,
    }
}

fn number_attr(v: Option<&Cow<'_, str>>, name: &'static str, at: u64) -> Result<u64, BodyError> {
    let text = v.ok_or_else(|| xml_err(at, Problem::Missing(name)))?;
    parse_number(text).ok_or_else(|| xml_err(at, Problem::Number(name)))
}

/// The error of a reader that failed, at the position it failed.
fn syntax(reader: &Reader<&[u8]>, e: quick_xml::Error) -> BodyError {
    xml_err(reader.error_position(), Problem::Syntax(e.to_string()))
}

/// Decodes an XML count body; `zone` is the counter's, which its local `starttime`s are in.
pub fn decode_xml(bytes: &[u8], zone: &Zone) -> Result<CountBody, BodyError> {
    decode_xml_with(bytes, zone, true)
}

/// [`decode_xml`], with `cntset`s in the device layout read whole by [`device_cntset`] when
/// `whole_sets`, or every element as quick-xml events (the tests compare the two).
pub(super) fn decode_xml_with(
    bytes: &[u8],
    zone: &Zone,
    whole_sets: bool,
) -> Result<CountBody, BodyError> {
    let text =
        std::str::from_utf8(bytes).map_err(|e| xml_err(e.valid_up_to() as u64, Problem::Utf8))?;
    let mut reader = Reader::from_str(text);
    reader.config_mut().trim_text(true);
    let (root, root_empty, root_at) = read_root(&mut reader)?;
    let (serial, resolution) = root_header(&root, root_at)?;
    let sets = if root_empty {
        Vec::new()
    } else {
        read_sets(&mut reader, whole_sets)?
    };
    expect_end(&mut reader)?;
    Ok(CountBody {
        serial,
        resolution,
        records: into_records(serial, sets, zone),
    })
}

/// The root element, `<countdata>`: its start tag, whether it is empty, and its offset.
fn read_root<'x>(reader: &mut Reader<&'x [u8]>) -> Result<(BytesStart<'x>, bool, u64), BodyError> {
    let (root, root_empty, root_at) = loop {
        let at = reader.buffer_position();
        match reader.read_event().map_err(|e| syntax(reader, e))? {
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
    Ok((root, root_empty, root_at))
}

/// The serial and declared resolution from the root's attributes.
fn root_header(
    root: &BytesStart<'_>,
    root_at: u64,
) -> Result<(CameraSerial, Option<Resolution>), BodyError> {
    let [serial, data_format, resolution] =
        attrs(root, ["serial", "data_format", "resolution"], root_at)?;
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
    Ok((serial, resolution))
}

/// A `cntset` the decoder accepts takes more than this many bytes (its start tag, two
/// `cnt`s and its end tag): the body's length over it bounds the number of sets.
const MIN_SET_BYTES: usize = 100;

/// The `cntset`s inside the root, up to its end tag; other elements are skipped whole.
///
/// With `whole_sets`, a `cntset` in the device layout is read whole by [`device_cntset`]
/// and stepped over, which quick-xml would read as events with the same result. Only where
/// the reader stands between tags: after a start or empty tag has been handled (a start
/// tag's element read to its end), since whitespace-only text is trimmed away; not after
/// text, a comment or anything else (the reader may stand inside markup then).
fn read_sets(reader: &mut Reader<&[u8]>, whole_sets: bool) -> Result<Vec<RawSet>, BodyError> {
    let bound = reader.get_ref().len() / MIN_SET_BYTES;
    let mut sets = Vec::with_capacity(bound.min(MAX_RECORDS + 1));
    let mut between_tags = whole_sets;
    loop {
        let at = reader.buffer_position();
        if between_tags {
            if let Some((set, used)) = device_cntset(reader.get_ref()) {
                reader.stream().consume(used);
                sets.push(set);
                if sets.len() > MAX_RECORDS {
                    return Err(xml_err(at, Problem::TooManyRecords));
                }
                continue;
            }
        }
        let event = reader.read_event().map_err(|e| syntax(reader, e))?;
        between_tags = whole_sets && matches!(event, Event::Start(_) | Event::Empty(_));
        match event {
            Event::Start(e) if e.name().as_ref() == "cntset" => {
                sets.push(read_cntset(reader, &e, false, at)?);
            }
            Event::Empty(e) if e.name().as_ref() == "cntset" => {
                sets.push(read_cntset(reader, &e, true, at)?);
            }
            Event::Start(e) => {
                // typedesc and anything unknown: skipped whole.
                reader
                    .read_to_end(e.name())
                    .map_err(|e| syntax(reader, e))?;
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
    Ok(sets)
}

/// Nothing but comments and whitespace may follow the root.
fn expect_end(reader: &mut Reader<&[u8]>) -> Result<(), BodyError> {
    loop {
        let at = reader.buffer_position();
        match reader.read_event().map_err(|e| syntax(reader, e))? {
            Event::Eof => return Ok(()),
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
}

fn read_cntset(
    reader: &mut Reader<&[u8]>,
    start: &BytesStart<'_>,
    empty: bool,
    at: u64,
) -> Result<RawSet, BodyError> {
    // `name` is asked for only as the first of the device's attributes, in their order.
    let [_, starttime, delta] = attrs(start, ["name", "starttime", "delta"], at)?;
    let starttime = starttime.ok_or_else(|| xml_err(at, Problem::Missing("starttime")))?;
    let local = parse_datetime_seconds(&starttime).map_err(|e| xml_err(at, Problem::Time(e)))?;
    let delta = number_attr(delta.as_ref(), "delta", at)?;
    let delta = u32::try_from(delta).map_err(|_| xml_err(at, Problem::Number("delta")))?;
    if delta == 0 {
        return Err(xml_err(at, Problem::ZeroDelta));
    }
    let mut tally = Tally::default();
    if !empty {
        loop {
            let cnt_at = reader.buffer_position();
            let event = reader.read_event().map_err(|e| syntax(reader, e))?;
            let cnt = match event {
                Event::Empty(e) if e.name().as_ref() == "cnt" => e,
                Event::Start(e) => {
                    let name = e.name();
                    reader
                        .read_to_end(name)
                        .map_err(|err| syntax(reader, err))?;
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
        local,
        delta,
        count_in,
        count_out,
    })
}
