//! A BACnet/IP client on a tokio UDP socket: Who-Is discovery, ReadProperty,
//! ReadPropertyMultiple (batched to the peer's max APDU, segmented answers reassembled
//! with SegmentACKs), invoke ids, retries and timeouts; and [`Client::read_counts`], which
//! reads the 48-hour In/Out series of an FFC device.

use super::device::HOURS;
use super::segmentation::{Reassembly, ReassemblyError, SegmentStep};
use super::wire::{
    AbortReason, ApduRepr, BvlcFunction, ErrorClass, ErrorCode, Frame, MaxApdu, MaxSegments,
    NpduRepr, ObjectId, ObjectType, PropertyId, PropertyReference, ReadAccessResult,
    ReadAccessSpec, ReadPropertyAck, ReadPropertyRequest, RejectReason, RpmAck, RpmRequest,
    Segmentation, Service, ServiceError, Value, WhoIs, WireError,
};
use ffc_core::{CameraSerial, CountRecord, Metric, Source, Subject, UnixSeconds, UtcOffset};
use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::net::UdpSocket;
use tokio::time::{timeout_at, Instant};

/// BACnet/IP's UDP port (0xBAC0).
pub const DEFAULT_PORT: u16 = 47808;

/// Client settings, with BACnet's usual defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientConfig {
    /// The local address to bind (default `0.0.0.0:0`).
    pub bind: SocketAddr,
    /// The UDP port of devices, used by [`Client::who_is_broadcast`] (default 47808).
    pub port: u16,
    /// Wait for an answer before resending a request (APDU_Timeout, default 3 s).
    pub apdu_timeout: Duration,
    /// Resends of a request (Number_Of_APDU_Retries, default 3).
    pub apdu_retries: u8,
    /// Wait for the next segment of an answer (APDU_Segment_Timeout, default 2 s).
    pub segment_timeout: Duration,
    /// The largest APDU this client accepts (default 1476).
    pub max_apdu: MaxApdu,
    /// How many segments this client accepts (default 64).
    pub max_segments: MaxSegments,
    /// The window size this client accepts for segmented answers (default 16).
    pub window_size: u8,
    /// Ask for segmented answers when they do not fit one APDU (default true). Without
    /// it the client batches reads so that each answer fits.
    pub segmented_response_accepted: bool,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            bind: SocketAddr::from(([0, 0, 0, 0], 0)),
            port: DEFAULT_PORT,
            apdu_timeout: Duration::from_secs(3),
            apdu_retries: 3,
            segment_timeout: Duration::from_secs(2),
            max_apdu: MaxApdu::Up1476,
            max_segments: MaxSegments::SixtyFour,
            window_size: 16,
            segmented_response_accepted: true,
        }
    }
}

/// A device found by Who-Is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DeviceInfo {
    /// The device instance.
    pub instance: u32,
    /// Where it answered from.
    pub address: SocketAddr,
    /// The largest APDU it accepts.
    pub max_apdu: u32,
    /// Whether it segments.
    pub segmentation: Segmentation,
    /// Its vendor identifier.
    pub vendor_id: u32,
}

impl DeviceInfo {
    /// A device known without discovery (BACnet/IP's 1476 bytes, segmentation assumed).
    pub const fn known(instance: u32, address: SocketAddr) -> Self {
        DeviceInfo {
            instance,
            address,
            max_apdu: 1476,
            segmentation: Segmentation::Both,
            vendor_id: 0,
        }
    }
}

/// Why a BACnet read failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The socket failed: check the bind address and the network.
    #[error("BACnet socket: {0}")]
    Io(#[from] std::io::Error),
    /// No answer after all retries: check the device's address, port and that it runs.
    #[error("no answer from {address} after {attempts} attempts")]
    Timeout {
        /// The device.
        address: SocketAddr,
        /// Requests sent.
        attempts: u32,
    },
    /// A segmented answer stopped arriving: retry later.
    #[error("segmented answer from {address} stopped after {received} segments")]
    SegmentTimeout {
        /// The device.
        address: SocketAddr,
        /// Segments received.
        received: u32,
    },
    /// The device answered with an Error: the object or property does not exist there.
    #[error("device error: class {class:?}, code {code:?}")]
    Service {
        /// Error class.
        class: ErrorClass,
        /// Error code.
        code: ErrorCode,
    },
    /// The device rejected the request: it does not support the service.
    #[error("request rejected: {0:?}")]
    Rejected(RejectReason),
    /// The device aborted the transaction (e.g. the answer needs segmentation it cannot
    /// do): read less at a time.
    #[error("transaction aborted: {0:?}")]
    Aborted(AbortReason),
    /// The request does not fit the device's max APDU: read fewer properties at a time.
    #[error("request of {length} bytes exceeds the device's max APDU {max}")]
    RequestTooLarge {
        /// Request APDU length.
        length: usize,
        /// Device's max APDU.
        max: u32,
    },
    /// The answer could not be decoded: the device speaks a BACnet dialect this codec does
    /// not read.
    #[error("undecodable answer: {0}")]
    Wire(#[from] WireError),
    /// The answer was well-formed but not what was asked for.
    #[error("unexpected answer: {0}")]
    Unexpected(&'static str),
    /// A segmented answer could not be reassembled: the device broke the segmentation
    /// protocol. Retry; if it persists, read less at a time.
    #[error("segmented answer: {0}")]
    Segmentation(#[from] ReassemblyError),
    /// The device does not serve all 96 `In-C-X`/`Out-C-X` values: it is not an FFC
    /// counter, or its BACnet export is misconfigured.
    #[error("device does not serve {name}")]
    MissingValue {
        /// The first missing object name.
        name: String,
    },
    /// A value is not a count (negative, fractional or not a number).
    #[error("{name} holds {value}, not a count")]
    NotACount {
        /// The object name.
        name: String,
        /// The value read.
        value: f64,
    },
}

/// What happened on the wire, for diagnostics and benchmarks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// Confirmed requests sent, retries included.
    pub requests: u64,
    /// Retries among them.
    pub retries: u64,
    /// SegmentACKs sent.
    pub segment_acks: u64,
    /// SegmentACKs after which more segments came (each one a round trip).
    pub segment_round_trips: u64,
    /// Segments of segmented answers received.
    pub segments_received: u64,
    /// Datagrams ignored (undecodable, from elsewhere, or for another transaction).
    pub ignored: u64,
}

impl ClientStats {
    /// Round trips: requests plus the SegmentACKs that had to wait for more segments.
    pub fn round_trips(&self) -> u64 {
        self.requests + self.segment_round_trips
    }
}

/// The 48-hour hourly series read from an FFC device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HourlySeries {
    /// The device instance.
    pub device_instance: u32,
    /// Start of the hour in which it was read (UTC unix seconds): `In-C-0` is this hour.
    pub hour_read: UnixSeconds,
    /// In counts: `inbound[x]` is `In-C-x`, the hour x hours before `hour_read`'s.
    pub inbound: [u64; HOURS as usize],
    /// Out counts, likewise.
    pub outbound: [u64; HOURS as usize],
}

impl HourlySeries {
    /// The series as hourly [`CountRecord`]s of `serial`, oldest first.
    pub fn to_records(&self, serial: CameraSerial) -> Vec<CountRecord> {
        (0..usize::from(HOURS))
            .rev()
            .map(|x| CountRecord {
                subject: Subject::Counter(serial),
                start: self.hour_read - 3600 * x as i64,
                length: 3600,
                offset: UtcOffset::UTC,
                count_in: self.inbound.get(x).copied().unwrap_or(0),
                count_out: self.outbound.get(x).copied().unwrap_or(0),
                outside: None,
                source: Source::Bacnet,
            })
            .collect()
    }
}

/// Parses `In-C-X` / `Out-C-X` (X = 0..47).
pub fn parse_object_name(name: &str) -> Option<(Metric, u8)> {
    let (metric, rest) = if let Some(rest) = name.strip_prefix("In-C-") {
        (Metric::In, rest)
    } else {
        (Metric::Out, name.strip_prefix("Out-C-")?)
    };
    if rest.is_empty() || rest.len() > 2 || !rest.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hours: u8 = rest.parse().ok()?;
    (hours < HOURS && (rest.len() == 1 || !rest.starts_with('0'))).then_some((metric, hours))
}

/// A BACnet/IP client.
#[derive(Debug)]
pub struct Client {
    socket: UdpSocket,
    config: ClientConfig,
    next_invoke_id: u8,
    stats: ClientStats,
    buf: Vec<u8>,
}

/// Bytes of a ReadPropertyMultiple answer per object for object-name and present-value,
/// assumed when batching for a device that does not segment: object id (5), list
/// brackets (2), two property ids and brackets (6), a 32-character name (35), a double (10).
const ANSWER_BYTES_PER_OBJECT: usize = 58;

impl Client {
    /// Binds a client.
    pub async fn bind(config: ClientConfig) -> Result<Self, ClientError> {
        let socket = UdpSocket::bind(config.bind).await?;
        socket.set_broadcast(true)?;
        Ok(Client {
            socket,
            config,
            next_invoke_id: 0,
            stats: ClientStats::default(),
            buf: vec![0u8; 2048],
        })
    }

    /// The local address.
    pub fn local_addr(&self) -> Result<SocketAddr, ClientError> {
        Ok(self.socket.local_addr()?)
    }

    /// What happened on the wire so far.
    pub fn stats(&self) -> ClientStats {
        self.stats
    }

    /// Resets [`stats`](Self::stats).
    pub fn reset_stats(&mut self) {
        self.stats = ClientStats::default();
    }

    /// Sends Who-Is (for instances in `range`, inclusive) to `target` and collects the
    /// I-Am answers that arrive within `wait`. `target` is a device's address or a
    /// broadcast address (255.255.255.255 or an address ending in .255, sent as
    /// Original-Broadcast-NPDU; anything else goes as Original-Unicast-NPDU).
    pub async fn who_is(
        &mut self,
        target: SocketAddr,
        range: Option<(u32, u32)>,
        wait: Duration,
    ) -> Result<Vec<DeviceInfo>, ClientError> {
        let broadcast = match target {
            SocketAddr::V4(v4) => v4.ip().is_broadcast() || v4.ip().octets()[3] == 255,
            SocketAddr::V6(_) => false,
        };
        let datagram = Frame::to_vec(
            if broadcast {
                BvlcFunction::OriginalBroadcast
            } else {
                BvlcFunction::OriginalUnicast
            },
            &NpduRepr::local(false),
            &ApduRepr::UnconfirmedRequest {
                service: WhoIs::SERVICE,
            },
            &WhoIs { range }.to_vec(),
        );
        self.socket.send_to(&datagram, target).await?;
        let deadline = Instant::now() + wait;
        let mut found: Vec<DeviceInfo> = Vec::new();
        while let Ok(received) = timeout_at(deadline, self.socket.recv_from(&mut self.buf)).await {
            let (len, from) = received?;
            let i_am = match Frame::parse(self.buf.get(..len).unwrap_or(&[]))
                .and_then(|frame| frame.service())
            {
                Ok(Service::IAm(i_am)) => i_am,
                _ => {
                    self.stats.ignored += 1;
                    continue;
                }
            };
            let in_range = WhoIs { range }.matches(i_am.device.instance);
            if i_am.device.object_type != ObjectType::Device || !in_range {
                continue;
            }
            let info = DeviceInfo {
                instance: i_am.device.instance,
                address: from,
                max_apdu: i_am.max_apdu,
                segmentation: i_am.segmentation,
                vendor_id: i_am.vendor_id,
            };
            if !found.contains(&info) {
                found.push(info);
            }
        }
        Ok(found)
    }

    /// Who-Is to the broadcast address 255.255.255.255 on the configured port.
    pub async fn who_is_broadcast(
        &mut self,
        range: Option<(u32, u32)>,
        wait: Duration,
    ) -> Result<Vec<DeviceInfo>, ClientError> {
        let target = SocketAddr::from(([255, 255, 255, 255], self.config.port));
        self.who_is(target, range, wait).await
    }

    /// Reads one property.
    pub async fn read_property(
        &mut self,
        device: &DeviceInfo,
        object: ObjectId,
        property: PropertyId,
        array_index: Option<u32>,
    ) -> Result<Vec<Value>, ClientError> {
        let request = ReadPropertyRequest {
            object,
            property,
            array_index,
        };
        let body = self
            .confirmed(device, ReadPropertyRequest::SERVICE, &request.to_vec())
            .await?;
        let ack = ReadPropertyAck::parse(&body, 0)?;
        if ack.object != object || ack.property != property {
            return Err(ClientError::Unexpected(
                "ReadProperty-ACK for another property",
            ));
        }
        Ok(ack.values)
    }

    /// Reads several properties of several objects in one ReadPropertyMultiple.
    pub async fn read_property_multiple(
        &mut self,
        device: &DeviceInfo,
        specs: Vec<ReadAccessSpec>,
    ) -> Result<Vec<ReadAccessResult>, ClientError> {
        let body = self
            .confirmed(device, RpmRequest::SERVICE, &RpmRequest { specs }.to_vec())
            .await?;
        Ok(RpmAck::parse(&body, 0)?.results)
    }

    /// Reads the device's object-list: whole, or element by element when the device
    /// cannot send it in one answer.
    pub async fn read_object_list(
        &mut self,
        device: &DeviceInfo,
    ) -> Result<Vec<ObjectId>, ClientError> {
        let device_id = ObjectId::new(ObjectType::Device, device.instance);
        let whole = self
            .read_property(device, device_id, PropertyId::ObjectList, None)
            .await;
        let values = match whole {
            Ok(values) => values,
            Err(ClientError::Aborted(_) | ClientError::Rejected(_)) => {
                self.read_object_list_by_index(device, device_id).await?
            }
            Err(other) => return Err(other),
        };
        values
            .into_iter()
            .map(|value| match value {
                Value::ObjectId(id) => Ok(id),
                _ => Err(ClientError::Unexpected(
                    "object-list holds a non-identifier",
                )),
            })
            .collect()
    }

    async fn read_object_list_by_index(
        &mut self,
        device: &DeviceInfo,
        device_id: ObjectId,
    ) -> Result<Vec<Value>, ClientError> {
        let count = match self
            .read_property(device, device_id, PropertyId::ObjectList, Some(0))
            .await?
            .first()
        {
            Some(Value::Unsigned(n)) => *n,
            _ => {
                return Err(ClientError::Unexpected(
                    "object-list length is not unsigned",
                ))
            }
        };
        let mut values = Vec::new();
        // One index per request is 9 bytes of request and at most 16 of answer.
        let per_batch = (usize::try_from(device.max_apdu).unwrap_or(1476).min(1476) / 16).max(1);
        let indices: Vec<u32> = (1..=count.min(u64::from(u32::MAX)) as u32).collect();
        for batch in indices.chunks(per_batch) {
            let spec = ReadAccessSpec {
                object: device_id,
                properties: batch
                    .iter()
                    .map(|i| PropertyReference {
                        property: PropertyId::ObjectList,
                        array_index: Some(*i),
                    })
                    .collect(),
            };
            for result in self.read_property_multiple(device, vec![spec]).await? {
                for property in result.results {
                    let found = property.result.map_err(|e| ClientError::Service {
                        class: e.class,
                        code: e.code,
                    })?;
                    values.extend(found);
                }
            }
        }
        Ok(values)
    }

    /// Reads the 96 `In-C-X`/`Out-C-X` values of an FFC device: object-list, then
    /// object-name and present-value of every object with ReadPropertyMultiple, batched to
    /// what the device accepts.
    pub async fn read_counts(&mut self, device: &DeviceInfo) -> Result<HourlySeries, ClientError> {
        let objects: Vec<ObjectId> = self
            .read_object_list(device)
            .await?
            .into_iter()
            .filter(|id| id.object_type != ObjectType::Device)
            .collect();
        let max_apdu = usize::try_from(device.max_apdu)
            .unwrap_or(1476)
            .min(usize::from(MaxApdu::Up1476.octets()));
        // A request carries 4 header bytes and 11 per object (id, brackets, two property ids).
        let mut per_request = (max_apdu.saturating_sub(4) / 11).max(1);
        if !device.segmentation.transmits() || !self.config.segmented_response_accepted {
            let answer_limit = max_apdu.min(usize::from(self.config.max_apdu.octets()));
            per_request =
                per_request.min((answer_limit.saturating_sub(3) / ANSWER_BYTES_PER_OBJECT).max(1));
        }
        let mut inbound: [Option<u64>; HOURS as usize] = [None; HOURS as usize];
        let mut outbound = inbound;
        for batch in objects.chunks(per_request) {
            let specs = batch
                .iter()
                .map(|object| ReadAccessSpec {
                    object: *object,
                    properties: vec![
                        PropertyReference::new(PropertyId::ObjectName),
                        PropertyReference::new(PropertyId::PresentValue),
                    ],
                })
                .collect();
            for result in self.read_property_multiple(device, specs).await? {
                let mut name = None;
                let mut value = None;
                for property in result.results {
                    match (property.property, property.result.as_deref()) {
                        (PropertyId::ObjectName, Ok([Value::CharacterString(text)])) => {
                            name = Some(text.clone())
                        }
                        (PropertyId::PresentValue, Ok([found])) => value = Some(found.clone()),
                        _ => {}
                    }
                }
                let (Some(name), Some(value)) = (name, value) else {
                    continue;
                };
                let Some((metric, x)) = parse_object_name(&name) else {
                    continue;
                };
                let count = to_count(&name, &value)?;
                let slot = match metric {
                    Metric::In => inbound.get_mut(usize::from(x)),
                    Metric::Out => outbound.get_mut(usize::from(x)),
                };
                if let Some(slot) = slot {
                    *slot = Some(count);
                }
            }
        }
        let hour_read = current_hour();
        let fill = |series: [Option<u64>; HOURS as usize], metric| {
            let mut out = [0u64; HOURS as usize];
            for (x, (slot, value)) in out.iter_mut().zip(series).enumerate() {
                *slot = value.ok_or_else(|| ClientError::MissingValue {
                    name: super::device::object_name(metric, x as u8),
                })?;
            }
            Ok::<_, ClientError>(out)
        };
        Ok(HourlySeries {
            device_instance: device.instance,
            hour_read,
            inbound: fill(inbound, Metric::In)?,
            outbound: fill(outbound, Metric::Out)?,
        })
    }

    fn invoke_id(&mut self) -> u8 {
        let id = self.next_invoke_id;
        self.next_invoke_id = id.wrapping_add(1);
        id
    }

    async fn send(
        &self,
        to: SocketAddr,
        apdu: &ApduRepr,
        payload: &[u8],
    ) -> Result<(), ClientError> {
        let expecting_reply = matches!(apdu, ApduRepr::ConfirmedRequest { .. });
        let datagram = Frame::to_vec(
            BvlcFunction::OriginalUnicast,
            &NpduRepr::local(expecting_reply),
            apdu,
            payload,
        );
        self.socket.send_to(&datagram, to).await?;
        Ok(())
    }

    /// Sends a confirmed request and returns the acknowledgement's service body
    /// (reassembled when segmented; empty for a SimpleACK).
    pub async fn confirmed(
        &mut self,
        device: &DeviceInfo,
        service: u8,
        body: &[u8],
    ) -> Result<Vec<u8>, ClientError> {
        let invoke_id = self.invoke_id();
        let request = ApduRepr::ConfirmedRequest {
            segmented_response_accepted: self.config.segmented_response_accepted,
            max_segments: self.config.max_segments,
            max_apdu: self.config.max_apdu,
            invoke_id,
            segment: None,
            service,
        };
        let length = request.buffer_len() + body.len();
        if length > device.max_apdu.min(1476) as usize {
            return Err(ClientError::RequestTooLarge {
                length,
                max: device.max_apdu,
            });
        }
        let attempts = u32::from(self.config.apdu_retries) + 1;
        for attempt in 0..attempts {
            self.stats.requests += 1;
            if attempt > 0 {
                self.stats.retries += 1;
            }
            self.send(device.address, &request, body).await?;
            let deadline = Instant::now() + self.config.apdu_timeout;
            match self.await_answer(device.address, invoke_id, deadline).await {
                Ok(Some(answer)) => return Ok(answer),
                Ok(None) => continue,
                Err(ClientError::SegmentTimeout { .. }) if attempt + 1 < attempts => continue,
                Err(error) => return Err(error),
            }
        }
        Err(ClientError::Timeout {
            address: device.address,
            attempts,
        })
    }

    /// Waits for the answer to `invoke_id`; `None` on timeout.
    async fn await_answer(
        &mut self,
        peer: SocketAddr,
        invoke_id: u8,
        deadline: Instant,
    ) -> Result<Option<Vec<u8>>, ClientError> {
        let mut reassembly: Option<Reassembly> = None;
        let mut deadline = deadline;
        loop {
            let Ok(received) = timeout_at(deadline, self.socket.recv_from(&mut self.buf)).await
            else {
                return match reassembly {
                    Some(r) => Err(ClientError::SegmentTimeout {
                        address: peer,
                        received: r.received(),
                    }),
                    None => Ok(None),
                };
            };
            let (len, from) = received?;
            if from != peer {
                self.stats.ignored += 1;
                continue;
            }
            let Ok(frame) = Frame::parse(self.buf.get(..len).unwrap_or(&[])) else {
                self.stats.ignored += 1;
                continue;
            };
            if frame.apdu.invoke_id() != Some(invoke_id) {
                self.stats.ignored += 1;
                continue;
            }
            let step = match frame.apdu {
                ApduRepr::ComplexAck { segment: None, .. } if reassembly.is_none() => {
                    return Ok(Some(frame.payload.to_vec()))
                }
                ApduRepr::SimpleAck { .. } => return Ok(Some(Vec::new())),
                ApduRepr::Error { class, code, .. } => {
                    let error = ServiceError {
                        class: ErrorClass::from_code(class),
                        code: ErrorCode::from_code(code),
                    };
                    return Err(ClientError::Service {
                        class: error.class,
                        code: error.code,
                    });
                }
                ApduRepr::Reject { reason, .. } => return Err(ClientError::Rejected(reason)),
                ApduRepr::Abort { reason, .. } => return Err(ClientError::Aborted(reason)),
                ApduRepr::ComplexAck {
                    segment: Some(segment),
                    ..
                } => {
                    self.stats.segments_received += 1;
                    match reassembly.as_mut() {
                        None => {
                            let (started, step) = Reassembly::start(
                                invoke_id,
                                false,
                                segment,
                                frame.payload,
                                self.config.window_size,
                            )?;
                            reassembly = Some(started);
                            step
                        }
                        Some(r) => r.accept(segment, frame.payload)?,
                    }
                }
                _ => {
                    self.stats.ignored += 1;
                    continue;
                }
            };
            match step {
                SegmentStep::Continue(ack) => {
                    if let Some(ack) = ack {
                        self.stats.segment_acks += 1;
                        self.stats.segment_round_trips += 1;
                        self.send(peer, &ack, &[]).await?;
                    }
                    deadline = Instant::now() + self.config.segment_timeout;
                }
                SegmentStep::Done(ack, body) => {
                    self.stats.segment_acks += 1;
                    self.send(peer, &ack, &[]).await?;
                    return Ok(Some(body));
                }
            }
        }
    }
}

/// A present value as a count. Devices serve REAL (exact up to 2^24, far above any hourly
/// count), but a whole unsigned, signed or double is accepted too.
fn to_count(name: &str, value: &Value) -> Result<u64, ClientError> {
    let number = match *value {
        Value::Unsigned(n) => return Ok(n),
        Value::Signed(n) if n >= 0 => return Ok(n as u64),
        Value::Signed(n) => n as f64,
        Value::Real(x) => f64::from(x),
        Value::Double(x) => x,
        _ => f64::NAN,
    };
    if number.is_finite() && number >= 0.0 && number.fract() == 0.0 && number < 2f64.powi(53) {
        Ok(number as u64)
    } else {
        Err(ClientError::NotACount {
            name: name.to_owned(),
            value: number,
        })
    }
}

fn current_hour() -> UnixSeconds {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    now - now.rem_euclid(3600)
}
