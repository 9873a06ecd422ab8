//! `ffc decode`: any payload kind the SDK reads → normalized JSON lines. A payload that
//! fails gives one JSON error line naming the kind, where (line, byte offset) and why.

use ffc_core::Zone;
use ffc_device::body::{decode_json, decode_xml};
use ffc_protocols::bacnet::wire::Frame;
use ffc_protocols::ws::codec::PayloadError;
use serde_json::{json, Value};

pub mod ws;

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
    /// Pro2 flat form), each on one line or across several (pretty JSON), `#` comment lines
    /// allowed; a bad message gives its error line and the next one is still read.
    Ws,
    /// A sales import CSV (spec §8): valid rows summed per store and local hour.
    SalesCsv,
    /// A server export file, CSV or TXT (spec §7): any column order, dates `dd/MM/yyyy`
    /// and times `HH:mm:ss` unless `--date-format`/`--time-format` say otherwise; local
    /// times placed on UTC in the zone.
    ExportCsv,
    /// MQTT payloads (spec §5): occupancy samples and counting events, `#` comments
    /// allowed; one or more JSON objects, each on one line or across several.
    Mqtt,
    /// A V9 `exportData` response body `{"Data":[..]}` (spec §2): one line per row.
    V9Export,
    /// A V9 cube `load` response (spec §2), either shape: one line per row.
    V9Cube,
    /// A V9 sales import request body (spec §2): the JSON array of rows.
    V9Sales,
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
            Kind::Mqtt => "mqtt",
            Kind::V9Export => "v9-export",
            Kind::V9Cube => "v9-cube",
            Kind::V9Sales => "v9-sales",
        }
    }
}

/// The outcome of decoding one input: the normalized lines, and the error line when part
/// of it failed.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// Normalized JSON objects, one per record, event or datagram.
    pub lines: Vec<Value>,
    /// One JSON error object, when the payload (or one of its datagrams) failed: the first
    /// error when the input went on after it (ws).
    pub error: Option<Value>,
    /// The error lines after the first, for kinds that read on after a bad message (ws:
    /// every message is read, and each bad one has its line).
    pub more_errors: Vec<Value>,
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

/// How `ffc decode` reads its input beyond the payload kind.
#[derive(Debug, Clone)]
pub struct Options {
    /// The zone local times are in (device bodies, export files).
    pub zone: Zone,
    /// Export files: the date and time formats (.NET `dd/MM/yyyy` or chrono `%d/%m/%Y`).
    pub export: ffc_client::files::ExportFileOptions,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            zone: Zone::UTC,
            export: ffc_client::files::ExportFileOptions::default(),
        }
    }
}

impl Options {
    /// The export defaults in `zone`.
    pub fn in_zone(zone: Zone) -> Self {
        Options {
            zone,
            ..Options::default()
        }
    }

    /// Export files with these date and time formats; a format the reader cannot use is
    /// refused with the reason.
    pub fn with_formats(mut self, date: &str, time: &str) -> Result<Self, String> {
        let date = ffc_client::datefmt::Pattern::new(date)
            .map_err(|e| format!("--date-format {date:?}: {e}"))?;
        let time = ffc_client::datefmt::Pattern::new(time)
            .map_err(|e| format!("--time-format {time:?}: {e}"))?;
        self.export = ffc_client::files::ExportFileOptions::new(date, time);
        Ok(self)
    }
}

/// Decodes `bytes` as `kind`; device bodies' local times are read in `zone`, export files
/// with the default formats.
pub fn decode(kind: Kind, bytes: &[u8], zone: &Zone) -> Decoded {
    decode_with(kind, bytes, &Options::in_zone(*zone))
}

/// Decodes `bytes` as `kind` with `options`.
pub fn decode_with(kind: Kind, bytes: &[u8], options: &Options) -> Decoded {
    let zone = &options.zone;
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
                    more_errors: Vec::new(),
                },
                Err(e) => Decoded {
                    lines: Vec::new(),
                    error: Some(error_line(kind, e.to_string(), None, None)),
                    more_errors: Vec::new(),
                },
            }
        }
        Kind::Bacnet => decode_bacnet_hex(bytes),
        Kind::Ws => ws::decode_ws(bytes),
        Kind::SalesCsv => decode_sales(bytes),
        Kind::ExportCsv => decode_export(bytes, zone, &options.export),
        Kind::Mqtt => decode_mqtt(bytes),
        Kind::V9Export | Kind::V9Cube | Kind::V9Sales => decode_v9(kind, bytes),
    }
}

fn v9_error(kind: Kind, e: &ffc_client::v9::DecodeError) -> Value {
    let mut v = error_line(kind, e.to_string(), None, None);
    if let ffc_client::v9::DecodeError::Row { row, .. } = e {
        v["row"] = json!(row);
    }
    v
}

fn decode_v9(kind: Kind, bytes: &[u8]) -> Decoded {
    use ffc_client::v9::cube::{decode_load, Cube};
    let with_kind = |mut v: Value, row: usize| {
        v["kind"] = json!(kind.name());
        v["row"] = json!(row);
        v
    };
    let lines: Result<Vec<Value>, ffc_client::v9::DecodeError> = match kind {
        Kind::V9Export => ffc_client::v9::export::decode_export(bytes).map(|rows| {
            rows.iter()
                .enumerate()
                .map(|(i, r)| with_kind(serde_json::to_value(r).unwrap_or(Value::Null), i))
                .collect()
        }),
        Kind::V9Cube => {
            // The members name their cube; the area cube's prefix decides it.
            let cube = if bytes
                .windows(Cube::AreaSummary.name().len())
                .any(|w| w == Cube::AreaSummary.name().as_bytes())
            {
                Cube::AreaSummary
            } else {
                Cube::SiteSummary
            };
            decode_load(cube, bytes).map(|rows| {
                rows.iter()
                    .enumerate()
                    .map(|(i, r)| {
                        let measures: serde_json::Map<String, Value> = r
                            .measures
                            .iter()
                            .map(|(m, v)| (m.code().to_owned(), json!(v)))
                            .collect();
                        with_kind(
                            json!({
                                "cube": cube.name(),
                                "time": r.time.map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string()),
                                "measures": measures,
                                "members": r.members,
                            }),
                            i,
                        )
                    })
                    .collect()
            })
        }
        _ => ffc_client::v9::sales::decode_rows(bytes).map(|rows| {
            rows.iter()
                .enumerate()
                .map(|(i, r)| with_kind(ffc_client::v9::sales::row_to_json(r), i))
                .collect()
        }),
    };
    match lines {
        Ok(lines) => Decoded {
            lines,
            error: None,
            more_errors: Vec::new(),
        },
        Err(e) => Decoded {
            lines: Vec::new(),
            error: Some(v9_error(kind, &e)),
            more_errors: Vec::new(),
        },
    }
}

fn decode_mqtt(bytes: &[u8]) -> Decoded {
    use ffc_protocols::mqtt::codec::{self, Message};
    let kind = Kind::Mqtt;
    let mut lines = Vec::new();
    for (offset, line, payload) in codec::split_payloads(bytes) {
        match codec::decode(payload) {
            Ok(Message::Count(event)) => {
                let mut v = serde_json::to_value(event).unwrap_or(Value::Null);
                v["kind"] = json!(kind.name());
                v["payload"] = json!("count");
                lines.push(v);
            }
            Ok(Message::Occupancy(sample)) => {
                let mut v = serde_json::to_value(sample).unwrap_or(Value::Null);
                v["kind"] = json!(kind.name());
                v["payload"] = json!("occupancy");
                lines.push(v);
            }
            Err(e) => {
                // Place the codec's position (within the payload) in the input.
                let (at_line, at_byte) = place(&e, offset, line, payload);
                return Decoded {
                    lines,
                    error: Some(error_line(kind, e.to_string(), Some(at_line), at_byte)),
                    more_errors: Vec::new(),
                };
            }
        }
    }
    if lines.is_empty() {
        return Decoded {
            lines,
            error: Some(error_line(
                kind,
                "no payload in the input".to_owned(),
                None,
                None,
            )),
            more_errors: Vec::new(),
        };
    }
    Decoded {
        lines,
        error: None,
        more_errors: Vec::new(),
    }
}

/// Where a codec error is in the input: its line, and its byte offset when the codec gave
/// one. `offset` and `line` are the payload's own.
fn place<S>(
    e: &PayloadError<S>,
    offset: usize,
    line: usize,
    payload: &[u8],
) -> (usize, Option<usize>) {
    match e {
        PayloadError::Syntax { line: l, .. } => (line + l.saturating_sub(1), None),
        PayloadError::Utf8 { offset: o }
        | PayloadError::UnterminatedString { offset: o }
        | PayloadError::NotAnObject { offset: o } => {
            let before = payload.get(..*o).unwrap_or(payload);
            let nl = before.iter().filter(|b| **b == b'\n').count();
            (line + nl, Some(offset + o))
        }
        _ => (line, Some(offset)),
    }
}

fn decode_export(
    bytes: &[u8],
    zone: &Zone,
    options: &ffc_client::files::ExportFileOptions,
) -> Decoded {
    use ffc_client::files::read_export;
    let kind = Kind::ExportCsv;
    let file = match read_export("input", bytes, options) {
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
                more_errors: Vec::new(),
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
                "Site": r.site.as_deref(),
                "SiteId": r.site_id,
                "Counter": r.counter.as_deref(),
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
    Decoded {
        lines,
        error,
        more_errors: Vec::new(),
    }
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
    Decoded {
        lines,
        error,
        more_errors: Vec::new(),
    }
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
                more_errors: Vec::new(),
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
                    more_errors: Vec::new(),
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
                    more_errors: Vec::new(),
                }
            }
        }
    }
    Decoded {
        lines,
        error: None,
        more_errors: Vec::new(),
    }
}

/// `ffc decode` arguments.
#[derive(clap::Args)]
pub struct DecodeArgs {
    /// The payload kind.
    #[arg(value_enum)]
    pub kind: Kind,
    /// The file, or `-` for stdin.
    pub file: String,
    /// The zone device bodies' and export files' local times are in (`UTC`, `+08:00`,
    /// `Europe/London`).
    #[arg(long, default_value = "UTC")]
    pub zone: String,
    /// export-csv: the date format the export was made with, .NET (`dd/MM/yyyy`,
    /// `yyyy-MM-dd`, `M/d/yyyy`) or chrono (`%d.%m.%Y`).
    #[arg(long, default_value = "dd/MM/yyyy")]
    pub date_format: String,
    /// export-csv: the time format, .NET (`HH:mm:ss`, `h:mm tt`) or chrono (`%H:%M`).
    #[arg(long, default_value = "HH:mm:ss")]
    pub time_format: String,
}

/// Decodes the file (or stdin) and prints its JSON lines; a payload that fails prints its
/// error line and fails the command.
pub fn run(a: DecodeArgs) -> Result<(), String> {
    use std::io::Read as _;
    let options = Options::in_zone(crate::args::parse_zone(&a.zone)?)
        .with_formats(&a.date_format, &a.time_format)?;
    let mut bytes = Vec::new();
    let read = if a.file == "-" {
        std::io::stdin().read_to_end(&mut bytes).map(|_| ())
    } else {
        std::fs::read(&a.file).map(|b| bytes = b)
    };
    read.map_err(|e| format!("{}: {e}", a.file))?;
    let decoded = decode_with(a.kind, &bytes, &options);
    for line in &decoded.lines {
        println!("{line}");
    }
    match decoded.error {
        None => Ok(()),
        Some(error) => {
            println!("{error}");
            for more in &decoded.more_errors {
                println!("{more}");
            }
            let failed = 1 + decoded.more_errors.len();
            Err(format!(
                "{} payload failed to decode ({failed} error line(s))",
                a.kind.name()
            ))
        }
    }
}
