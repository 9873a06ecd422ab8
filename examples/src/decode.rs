//! `ffc decode`: any payload kind the SDK reads → normalized JSON lines. A payload that
//! fails gives one JSON error line naming the kind, where (line, byte offset) and why.

use ffc_core::Zone;
use ffc_device::body::{decode_json, decode_xml};
use ffc_protocols::bacnet::wire::Frame;
use serde_json::{json, Value};

/// The payload kinds `ffc decode` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// A counter's `apiCount.cgi` answer in JSON (spec §1).
    DeviceJson,
    /// A counter's `apiCount.cgi` answer in XML (spec §1).
    DeviceXml,
    /// BACnet/IP datagrams as hex, one per line (spaces and `:` between bytes allowed).
    Bacnet,
    /// WebSocket messages (spec §4: classic envelope, Python-literal form, test topic, 3D
    /// Pro2 flat form), one per line.
    Ws,
    /// A sales import CSV (spec §8): valid rows summed per store and local hour.
    SalesCsv,
    /// A server export file, CSV or TXT (spec §7): any column order, dates `dd/MM/yyyy`
    /// and times `HH:mm:ss` (the export defaults); local times placed on UTC in the zone.
    ExportCsv,
}

impl Kind {
    /// The name used on the command line and in output.
    pub fn name(self) -> &'static str {
        match self {
            Kind::DeviceJson => "device-json",
            Kind::DeviceXml => "device-xml",
            Kind::Bacnet => "bacnet",
            Kind::Ws => "ws",
            Kind::SalesCsv => "sales-csv",
            Kind::ExportCsv => "export-csv",
        }
    }
}

/// The outcome of decoding one input: the normalized lines, and the error line when part
/// of it failed.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// Normalized JSON objects, one per record, event or datagram.
    pub lines: Vec<Value>,
    /// One JSON error object, when the payload (or one of its datagrams) failed.
    pub error: Option<Value>,
}

fn error_line(kind: Kind, reason: String, line: Option<usize>, offset: Option<usize>) -> Value {
    let mut v = json!({ "kind": kind.name(), "error": reason });
    if let Some(line) = line {
        v["line"] = json!(line);
    }
    if let Some(offset) = offset {
        v["byte_offset"] = json!(offset);
    }
    v
}

/// Decodes `bytes` as `kind`; device bodies' local times are read in `zone`.
pub fn decode(kind: Kind, bytes: &[u8], zone: &Zone) -> Decoded {
    match kind {
        Kind::DeviceJson | Kind::DeviceXml => {
            let body = if kind == Kind::DeviceJson {
                decode_json(bytes, zone)
            } else {
                decode_xml(bytes, zone)
            };
            match body {
                Ok(body) => Decoded {
                    lines: body
                        .records
                        .iter()
                        .map(|r| {
                            let mut v = serde_json::to_value(r).unwrap_or(Value::Null);
                            v["kind"] = json!(kind.name());
                            v
                        })
                        .collect(),
                    error: None,
                },
                Err(e) => Decoded {
                    lines: Vec::new(),
                    error: Some(error_line(kind, e.to_string(), None, None)),
                },
            }
        }
        Kind::Bacnet => decode_bacnet_hex(bytes),
        Kind::Ws => decode_ws_lines(bytes),
        Kind::SalesCsv => decode_sales(bytes),
        Kind::ExportCsv => decode_export(bytes, zone),
    }
}

fn decode_export(bytes: &[u8], zone: &Zone) -> Decoded {
    use ffc_client::files::{read_export, ExportFileOptions};
    let kind = Kind::ExportCsv;
    let file = match read_export("input", bytes, &ExportFileOptions::default()) {
        Ok(file) => file,
        Err(e) => {
            return Decoded {
                lines: Vec::new(),
                error: Some(error_line(
                    kind,
                    e.reason.to_string(),
                    usize::try_from(e.line).ok(),
                    usize::try_from(e.byte).ok(),
                )),
            }
        }
    };
    let lines = file
        .rows
        .iter()
        .map(|r| {
            json!({
                "kind": kind.name(),
                "line": r.line,
                "LocalTime": r.local.format("%Y-%m-%d %H:%M:%S").to_string(),
                "ValueDateTime": zone.local_to_utc(ffc_core::time::naive_to_seconds(r.local)),
                "ValueIn": r.count_in,
                "ValueOut": r.count_out,
                "OutsideTraffic": r.outside,
                "Site": r.site,
                "SiteId": r.site_id,
                "Counter": r.counter,
                "CameraSerial": r.serial.map(|s| s.to_string()),
            })
        })
        .collect();
    let error = file.errors.first().map(|first| {
        let mut v = error_line(
            kind,
            first.reason.to_string(),
            usize::try_from(first.line).ok(),
            usize::try_from(first.byte).ok(),
        );
        v["error_count"] = json!(file.errors.len());
        v
    });
    Decoded { lines, error }
}

fn decode_ws_lines(bytes: &[u8]) -> Decoded {
    let kind = Kind::Ws;
    let mut lines = Vec::new();
    for (n, line) in bytes.split(|b| *b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match ffc_protocols::ws::codec::decode(line) {
            Ok(ffc_protocols::ws::codec::Message::Event(event)) => {
                let mut v = serde_json::to_value(event).unwrap_or(Value::Null);
                v["kind"] = json!(kind.name());
                lines.push(v);
            }
            Ok(ffc_protocols::ws::codec::Message::Test) => {
                lines.push(json!({ "kind": kind.name(), "test": true }));
            }
            Ok(ffc_protocols::ws::codec::Message::UnknownTopic(topic)) => {
                lines.push(json!({ "kind": kind.name(), "unknown_topic": topic }));
            }
            Err(e) => {
                return Decoded {
                    lines,
                    error: Some(error_line(kind, e.to_string(), Some(n + 1), None)),
                }
            }
        }
    }
    Decoded { lines, error: None }
}

fn decode_sales(bytes: &[u8]) -> Decoded {
    let kind = Kind::SalesCsv;
    let validation = ffc_sales::validate_bytes(bytes, &ffc_sales::ValidationConfig::default());
    let lines = validation
        .sales
        .iter()
        .map(|h| {
            json!({
                "kind": kind.name(),
                "StoreCode": h.store,
                "LocalHour": h.hour.format("%Y-%m-%d %H:%M:%S").to_string(),
                "TransactionCount": h.transactions,
                "SalesAmountCents": h.amount_cents,
                "Rows": h.rows,
            })
        })
        .collect();
    let error = if let Some(problem) = validation.header_problems.first() {
        Some(error_line(
            kind,
            format!("header: {problem}"),
            Some(1),
            None,
        ))
    } else {
        validation.errors.first().map(|first| {
            let mut v = error_line(
                kind,
                first.to_string(),
                usize::try_from(first.line).ok(),
                usize::try_from(first.byte).ok(),
            );
            v["error_count"] = json!(validation.error_count);
            v["errors"] = serde_json::to_value(&validation.errors).unwrap_or(Value::Null);
            v
        })
    };
    Decoded { lines, error }
}

/// Hex text to bytes; the error is the byte offset in the line and why.
fn unhex(line: &str) -> Result<Vec<u8>, (usize, String)> {
    let mut out = Vec::new();
    let mut high: Option<u8> = None;
    for (i, c) in line.char_indices() {
        if c.is_whitespace() || c == ':' {
            if high.is_some() {
                return Err((i, "a byte is cut in half".to_owned()));
            }
            continue;
        }
        let nibble = c
            .to_digit(16)
            .ok_or_else(|| (i, format!("{c:?} is not a hex digit")))?;
        let nibble = u8::try_from(nibble).map_err(|_| (i, "nibble".to_owned()))?;
        match high.take() {
            None => high = Some(nibble),
            Some(h) => out.push(h << 4 | nibble),
        }
    }
    if high.is_some() {
        return Err((line.len(), "odd number of hex digits".to_owned()));
    }
    Ok(out)
}

fn decode_bacnet_hex(bytes: &[u8]) -> Decoded {
    let kind = Kind::Bacnet;
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            return Decoded {
                lines: Vec::new(),
                error: Some(error_line(
                    kind,
                    "hex input is not UTF-8 text".to_owned(),
                    None,
                    Some(e.valid_up_to()),
                )),
            }
        }
    };
    let mut lines = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let datagram = match unhex(line) {
            Ok(d) => d,
            Err((at, why)) => {
                return Decoded {
                    lines,
                    error: Some(error_line(
                        kind,
                        format!("hex: {why} (character {at})"),
                        Some(n + 1),
                        None,
                    )),
                }
            }
        };
        let decoded = Frame::parse(&datagram).and_then(|frame| {
            let service = frame.service()?;
            Ok(json!({
                "kind": kind.name(),
                "bvlc": format!("{:?}", frame.bvlc.function),
                "apdu": format!("{:?}", frame.apdu),
                "service": format!("{service:?}"),
                "length": datagram.len(),
            }))
        });
        match decoded {
            Ok(v) => lines.push(v),
            Err(e) => {
                return Decoded {
                    lines,
                    error: Some(error_line(
                        kind,
                        format!("{:?} layer: {}", e.layer, e.kind),
                        Some(n + 1),
                        Some(e.offset),
                    )),
                }
            }
        }
    }
    Decoded { lines, error: None }
}
