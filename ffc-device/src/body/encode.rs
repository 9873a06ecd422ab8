//! The encoders (the simulator's side): records to the XML or JSON count body.

use std::borrow::Cow;
use std::fmt::Write as _;

use ffc_core::time::{seconds_to_naive, Format};
use ffc_core::{CameraSerial, CountRecord, Resolution};

use crate::query::{DataFormat, DataType};

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
