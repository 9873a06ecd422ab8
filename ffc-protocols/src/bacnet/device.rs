//! A simulated FFC device: the BACnet face of a FootfallCam counter.
//!
//! [`DeviceCore`] is the sans-IO device (datagram in, datagrams out, time passed in);
//! [`SimulatedDevice`] runs it on a tokio UDP socket. The device object is named `FFC`,
//! its instance is the last six digits of the company serial, and it serves 96
//! analog-value objects: `In-C-X` (instance X) and `Out-C-X` (instance 48 + X) for
//! X = 0..47, whose present value is the In or Out count of the hour X hours before the
//! current one. Answers longer than the requester's max APDU are segmented; unknown
//! objects and properties get an Error, unknown confirmed services a Reject.

use super::segmentation::{Reassembly, ReassemblyError, SegmentStep};
use super::wire::decode_service;
use super::wire::{
    AbortReason, ApduRepr, BvlcFunction, ErrorClass, ErrorCode, Frame, IAm, MaxApdu, NpduRepr,
    ObjectId, ObjectType, PropertyId, PropertyResult, ReadAccessResult, ReadPropertyAck,
    ReadPropertyRequest, RejectReason, RpmAck, Segment, Segmentation, Service, ServiceError, Value,
    WireError, WireErrorKind,
};
use ffc_core::{HourlyRing48, Metric, UnixSeconds};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::UdpSocket;
use tokio::sync::oneshot;

/// Hours of history served (`In-C-0` .. `In-C-47`).
pub const HOURS: u8 = 48;

/// Where the device's 96 values come from: the In or Out count of the hour `hours_back`
/// hours before the current one (0..48). [`HourlyRing48`] is the real source; a closure
/// `Fn(Metric, u8) -> u64` serves fixed values.
pub trait HourlyValues {
    /// The count.
    fn count(&self, metric: Metric, hours_back: u8) -> u64;

    /// Moves "the current hour" to the one holding `now` (UTC unix seconds). The device
    /// calls it before answering a read, so `In-C-0` is always the hour of the read.
    fn advance_to(&mut self, now: UnixSeconds) {
        let _ = now;
    }
}

impl<F: Fn(Metric, u8) -> u64> HourlyValues for F {
    fn count(&self, metric: Metric, hours_back: u8) -> u64 {
        self(metric, hours_back)
    }
}

impl HourlyValues for HourlyRing48 {
    fn count(&self, metric: Metric, hours_back: u8) -> u64 {
        u64::from(self.value(metric, usize::from(hours_back)).unwrap_or(0))
    }

    fn advance_to(&mut self, now: UnixSeconds) {
        HourlyRing48::advance_to(self, now);
    }
}

/// Why a device could not be set up. Fix the configuration and try again.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    /// The company serial does not end in six decimal digits.
    #[error("company serial must end in six decimal digits (the device instance)")]
    BadCompanySerial,
    /// The UDP socket could not be bound or used.
    #[error("BACnet device socket: {0}")]
    Io(#[from] std::io::Error),
}

/// The device instance for a company serial: its last six characters, which must be
/// decimal digits (so the instance is at most 999999, inside BACnet's 22-bit range).
///
/// ```
/// use ffc_protocols::bacnet::device::instance_from_company_serial;
/// assert_eq!(instance_from_company_serial("FFC-2023-000123456").unwrap(), 123456);
/// assert!(instance_from_company_serial("12345").is_err());
/// ```
pub fn instance_from_company_serial(serial: &str) -> Result<u32, DeviceError> {
    let bytes = serial.as_bytes();
    let tail = bytes
        .len()
        .checked_sub(6)
        .and_then(|start| bytes.get(start..))
        .ok_or(DeviceError::BadCompanySerial)?;
    tail.iter().try_fold(0u32, |acc, b| {
        if b.is_ascii_digit() {
            Ok(acc * 10 + u32::from(b - b'0'))
        } else {
            Err(DeviceError::BadCompanySerial)
        }
    })
}

/// The name of the value object for (metric, hours back): `In-C-X` or `Out-C-X`.
pub fn object_name(metric: Metric, hours_back: u8) -> String {
    match metric {
        Metric::In => format!("In-C-{hours_back}"),
        Metric::Out => format!("Out-C-{hours_back}"),
    }
}

/// Settings of the simulated device, with BACnet's usual defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceConfig {
    /// Device instance (see [`instance_from_company_serial`]).
    pub instance: u32,
    /// Largest APDU the device accepts and sends (default 1476).
    pub max_apdu: MaxApdu,
    /// Window size proposed for segmented answers (default 4).
    pub proposed_window_size: u8,
    /// Wait for a SegmentACK before resending a window (default 2000 ms).
    pub segment_timeout: Duration,
    /// Resends of a window before giving up the transaction (default 3).
    pub segment_retries: u8,
    /// Vendor identifier announced in I-Am (default 0).
    pub vendor_id: u32,
}

impl DeviceConfig {
    /// The defaults for a device instance.
    pub const fn new(instance: u32) -> Self {
        DeviceConfig {
            instance,
            max_apdu: MaxApdu::Up1476,
            proposed_window_size: 4,
            segment_timeout: Duration::from_millis(2000),
            segment_retries: 3,
            vendor_id: 0,
        }
    }
}

/// At most this many transactions segmenting at once; the oldest is dropped past it.
const MAX_TRANSACTIONS: usize = 64;
/// At most this many segments in one answer (sequence numbers are 8 bits).
const MAX_SEGMENTS: usize = 255;

#[derive(Debug)]
struct Outgoing<A> {
    peer: A,
    invoke_id: u8,
    segments: Vec<Vec<u8>>,
    /// Index of the first segment not yet acknowledged.
    next: usize,
    /// Index after the last segment sent.
    sent_until: usize,
    deadline_ms: u64,
    retries_left: u8,
}

/// A segmented request being received.
#[derive(Debug)]
struct Incoming<A> {
    peer: A,
    invoke_id: u8,
    header: ApduRepr,
    reassembly: Reassembly,
    deadline_ms: u64,
}

/// What a device has seen, for diagnostics and benchmarks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeviceStats {
    /// Datagrams received.
    pub received: u64,
    /// Datagrams received that were answered: each one a round trip for the requester.
    pub round_trips: u64,
    /// Datagrams sent, retransmissions included.
    pub sent: u64,
    /// Segments of segmented answers sent, retransmissions included.
    pub segments_sent: u64,
}

/// The sans-IO device: feed it datagrams and timer ticks, send what it returns.
#[derive(Debug)]
pub struct DeviceCore<A> {
    config: DeviceConfig,
    outgoing: Vec<Outgoing<A>>,
    incoming: Vec<Incoming<A>>,
    stats: DeviceStats,
}

type Reply = Vec<u8>;

fn unicast(apdu: &ApduRepr, payload: &[u8]) -> Reply {
    Frame::to_vec(
        BvlcFunction::OriginalUnicast,
        &NpduRepr::local(false),
        apdu,
        payload,
    )
}

impl<A: Copy + Eq> DeviceCore<A> {
    /// A device with these settings.
    pub fn new(config: DeviceConfig) -> Self {
        DeviceCore {
            config,
            outgoing: Vec::new(),
            incoming: Vec::new(),
            stats: DeviceStats::default(),
        }
    }

    /// The settings.
    pub fn config(&self) -> &DeviceConfig {
        &self.config
    }

    /// The device object's identifier.
    pub fn device_id(&self) -> ObjectId {
        ObjectId::new(ObjectType::Device, self.config.instance)
    }

    /// What the device has seen so far.
    pub fn stats(&self) -> DeviceStats {
        self.stats
    }

    /// Handles one datagram from `peer` at `now_ms` (any monotonic milliseconds); returns
    /// the datagrams to send back to `peer`.
    pub fn handle(
        &mut self,
        values: &impl HourlyValues,
        peer: A,
        datagram: &[u8],
        now_ms: u64,
    ) -> Vec<Reply> {
        let replies = self.handle_inner(values, peer, datagram, now_ms);
        self.stats.received += 1;
        if !replies.is_empty() {
            self.stats.round_trips += 1;
        }
        self.count_sent(&replies);
        replies
    }

    fn count_sent(&mut self, replies: &[Reply]) {
        self.stats.sent += replies.len() as u64;
        self.stats.segments_sent += replies
            .iter()
            .filter(|reply| {
                matches!(
                    Frame::parse(reply).map(|frame| frame.apdu),
                    Ok(ApduRepr::ComplexAck {
                        segment: Some(_),
                        ..
                    })
                )
            })
            .count() as u64;
    }

    fn handle_inner(
        &mut self,
        values: &impl HourlyValues,
        peer: A,
        datagram: &[u8],
        now_ms: u64,
    ) -> Vec<Reply> {
        let Ok(frame) = Frame::parse(datagram) else {
            return Vec::new();
        };
        match frame.apdu {
            ApduRepr::UnconfirmedRequest { .. } => match frame.service() {
                Ok(Service::WhoIs(who_is)) if who_is.matches(self.config.instance) => {
                    let i_am = IAm {
                        device: self.device_id(),
                        max_apdu: u32::from(self.config.max_apdu.octets()),
                        segmentation: Segmentation::Transmit,
                        vendor_id: self.config.vendor_id,
                    };
                    vec![unicast(
                        &ApduRepr::UnconfirmedRequest {
                            service: IAm::SERVICE,
                        },
                        &i_am.to_vec(),
                    )]
                }
                _ => Vec::new(),
            },
            ApduRepr::SegmentAck {
                from_server: false,
                invoke_id,
                sequence_number,
                actual_window_size,
                ..
            } => self.on_segment_ack(peer, invoke_id, sequence_number, actual_window_size, now_ms),
            ApduRepr::Abort {
                from_server: false,
                invoke_id,
                ..
            } => {
                self.outgoing
                    .retain(|tx| !(tx.peer == peer && tx.invoke_id == invoke_id));
                Vec::new()
            }
            ApduRepr::ConfirmedRequest {
                segment: Some(segment),
                invoke_id,
                ..
            } => {
                let header = frame.apdu;
                self.on_request_segment(
                    values,
                    peer,
                    header,
                    invoke_id,
                    segment,
                    frame.payload,
                    now_ms,
                )
            }
            ApduRepr::ConfirmedRequest { .. } => {
                let service = frame.service();
                self.answer(values, peer, frame.apdu, service, now_ms)
            }
            _ => Vec::new(),
        }
    }

    /// Reassembles a segmented confirmed request, acknowledging its segments, and answers
    /// it once complete.
    #[allow(clippy::too_many_arguments)]
    fn on_request_segment(
        &mut self,
        values: &impl HourlyValues,
        peer: A,
        header: ApduRepr,
        invoke_id: u8,
        segment: Segment,
        part: &[u8],
        now_ms: u64,
    ) -> Vec<Reply> {
        let timeout = self.config.segment_timeout.as_millis() as u64
            * (u64::from(self.config.segment_retries) + 1);
        let abort = |reason| {
            vec![unicast(
                &ApduRepr::Abort {
                    from_server: true,
                    invoke_id,
                    reason,
                },
                &[],
            )]
        };
        let position = self
            .incoming
            .iter()
            .position(|rx| rx.peer == peer && rx.invoke_id == invoke_id);
        // The first segment's header holds the request's parameters.
        let header = position
            .and_then(|p| self.incoming.get(p))
            .map_or(header, |rx| rx.header);
        let step = match position.and_then(|p| self.incoming.get_mut(p)) {
            Some(rx) => {
                rx.deadline_ms = now_ms + timeout;
                rx.reassembly.accept(segment, part)
            }
            None => match Reassembly::start(
                invoke_id,
                true,
                segment,
                part,
                self.config.proposed_window_size,
            ) {
                Ok((reassembly, step)) => {
                    if self.incoming.len() >= MAX_TRANSACTIONS {
                        self.incoming.remove(0);
                    }
                    self.incoming.push(Incoming {
                        peer,
                        invoke_id,
                        header,
                        reassembly,
                        deadline_ms: now_ms + timeout,
                    });
                    Ok(step)
                }
                Err(error) => Err(error),
            },
        };
        let drop_incoming = |incoming: &mut Vec<Incoming<A>>| {
            incoming.retain(|rx| !(rx.peer == peer && rx.invoke_id == invoke_id));
        };
        match step {
            Ok(SegmentStep::Continue(ack)) => {
                ack.map(|ack| vec![unicast(&ack, &[])]).unwrap_or_default()
            }
            Ok(SegmentStep::Done(ack, body)) => {
                drop_incoming(&mut self.incoming);
                let unsegmented = match header {
                    ApduRepr::ConfirmedRequest {
                        segmented_response_accepted,
                        max_segments,
                        max_apdu,
                        invoke_id,
                        service,
                        ..
                    } => ApduRepr::ConfirmedRequest {
                        segmented_response_accepted,
                        max_segments,
                        max_apdu,
                        invoke_id,
                        segment: None,
                        service,
                    },
                    other => other,
                };
                let service = decode_service(&unsegmented, &body, 0);
                let mut replies = vec![unicast(&ack, &[])];
                replies.extend(self.answer(values, peer, unsegmented, service, now_ms));
                replies
            }
            Err(ReassemblyError::NoFirstSegment) => {
                drop_incoming(&mut self.incoming);
                abort(AbortReason::InvalidApduInThisState)
            }
            Err(ReassemblyError::TooLarge) => {
                drop_incoming(&mut self.incoming);
                abort(AbortReason::BufferOverflow)
            }
        }
    }

    /// Answers an unsegmented (or reassembled) confirmed request: an acknowledgement,
    /// segmented when it does not fit the requester's max APDU, or Error, Reject, Abort.
    fn answer(
        &mut self,
        values: &impl HourlyValues,
        peer: A,
        header: ApduRepr,
        service_body: Result<Service, WireError>,
        now_ms: u64,
    ) -> Vec<Reply> {
        let ApduRepr::ConfirmedRequest {
            segmented_response_accepted,
            max_segments,
            max_apdu,
            invoke_id,
            service,
            ..
        } = header
        else {
            return Vec::new();
        };
        let abort = |reason| {
            vec![unicast(
                &ApduRepr::Abort {
                    from_server: true,
                    invoke_id,
                    reason,
                },
                &[],
            )]
        };
        let body = match service_body {
            Ok(Service::ReadProperty(request)) => self.read_property(values, &request),
            Ok(Service::ReadPropertyMultiple(request)) => {
                Ok(self.read_property_multiple(values, &request.specs).to_vec())
            }
            Ok(_) => Err(ApduRepr::Reject {
                invoke_id,
                reason: RejectReason::UnrecognizedService,
            }),
            Err(error) => Err(ApduRepr::Reject {
                invoke_id,
                reason: reject_reason(error.kind),
            }),
        };
        let body = match body {
            Ok(body) => body,
            Err(ApduRepr::Error { class, code, .. }) => {
                return vec![unicast(
                    &ApduRepr::Error {
                        invoke_id,
                        service,
                        class,
                        code,
                    },
                    &[],
                )]
            }
            Err(other) => return vec![unicast(&other, &[])],
        };
        let limit = usize::from(max_apdu.octets().min(self.config.max_apdu.octets()));
        let unsegmented = ApduRepr::ComplexAck {
            invoke_id,
            segment: None,
            service,
        };
        if unsegmented.buffer_len() + body.len() <= limit {
            return vec![unicast(&unsegmented, &body)];
        }
        if !segmented_response_accepted {
            return abort(AbortReason::SegmentationNotSupported);
        }
        // Five header bytes per segment: type, invoke id, sequence, window, service.
        let chunk = limit.saturating_sub(5).max(1);
        let count = body.len().div_ceil(chunk);
        let accepted = max_segments.count().map_or(MAX_SEGMENTS, |n| n as usize);
        if count > accepted.min(MAX_SEGMENTS) {
            return abort(AbortReason::BufferOverflow);
        }
        let segments: Vec<Reply> = body
            .chunks(chunk)
            .enumerate()
            .map(|(i, part)| {
                let apdu = ApduRepr::ComplexAck {
                    invoke_id,
                    segment: Some(Segment {
                        sequence_number: i as u8,
                        proposed_window_size: self.config.proposed_window_size,
                        more_follows: i + 1 < count,
                    }),
                    service,
                };
                unicast(&apdu, part)
            })
            .collect();
        let first = segments.first().cloned().into_iter().collect();
        self.outgoing
            .retain(|tx| !(tx.peer == peer && tx.invoke_id == invoke_id));
        if self.outgoing.len() >= MAX_TRANSACTIONS {
            self.outgoing.remove(0);
        }
        self.outgoing.push(Outgoing {
            peer,
            invoke_id,
            segments,
            next: 0,
            sent_until: 1,
            deadline_ms: now_ms + self.config.segment_timeout.as_millis() as u64,
            retries_left: self.config.segment_retries,
        });
        first
    }

    fn on_segment_ack(
        &mut self,
        peer: A,
        invoke_id: u8,
        sequence_number: u8,
        window: u8,
        now_ms: u64,
    ) -> Vec<Reply> {
        let timeout = self.config.segment_timeout.as_millis() as u64;
        let retries = self.config.segment_retries;
        let Some(position) = self
            .outgoing
            .iter()
            .position(|tx| tx.peer == peer && tx.invoke_id == invoke_id)
        else {
            return Vec::new();
        };
        let Some(tx) = self.outgoing.get_mut(position) else {
            return Vec::new();
        };
        let acked = usize::from(sequence_number);
        if acked >= tx.sent_until || acked + 1 < tx.next {
            // Not a segment we have sent, or an old acknowledgement: ignore.
            return Vec::new();
        }
        tx.next = acked + 1;
        if tx.next >= tx.segments.len() {
            self.outgoing.remove(position);
            return Vec::new();
        }
        let end = (tx.next + usize::from(window.clamp(1, 127))).min(tx.segments.len());
        tx.sent_until = end;
        tx.deadline_ms = now_ms + timeout;
        tx.retries_left = retries;
        tx.segments
            .get(tx.next..end)
            .map(<[Reply]>::to_vec)
            .unwrap_or_default()
    }

    /// The earliest instant (in `now_ms` units) at which [`on_timer`](Self::on_timer)
    /// has work.
    pub fn next_deadline(&self) -> Option<u64> {
        let outgoing = self.outgoing.iter().map(|tx| tx.deadline_ms);
        let incoming = self.incoming.iter().map(|rx| rx.deadline_ms);
        outgoing.chain(incoming).min()
    }

    /// Resends unacknowledged windows whose SegmentACK is late, and drops transactions
    /// out of retries. Returns (peer, datagram) pairs to send.
    pub fn on_timer(&mut self, now_ms: u64) -> Vec<(A, Reply)> {
        let timeout = self.config.segment_timeout.as_millis() as u64;
        let mut out = Vec::new();
        // A segmented request whose sender went quiet is forgotten.
        self.incoming.retain(|rx| rx.deadline_ms > now_ms);
        self.outgoing.retain_mut(|tx| {
            if tx.deadline_ms > now_ms {
                return true;
            }
            if tx.retries_left == 0 {
                return false;
            }
            tx.retries_left -= 1;
            tx.deadline_ms = now_ms + timeout;
            for segment in tx.segments.get(tx.next..tx.sent_until).unwrap_or(&[]) {
                out.push((tx.peer, segment.clone()));
            }
            true
        });
        let replies: Vec<Reply> = out.iter().map(|(_, reply)| reply.clone()).collect();
        self.count_sent(&replies);
        out
    }

    /// Transactions still segmenting (answers being sent, requests being received).
    pub fn pending_transactions(&self) -> usize {
        self.outgoing.len() + self.incoming.len()
    }

    fn read_property(
        &self,
        values: &impl HourlyValues,
        request: &ReadPropertyRequest,
    ) -> Result<Vec<u8>, ApduRepr> {
        let object = self.resolve(request.object);
        match self.property(values, object, request.property, request.array_index) {
            Ok(values) => Ok(ReadPropertyAck {
                object,
                property: request.property,
                array_index: request.array_index,
                values,
            }
            .to_vec()),
            Err(error) => Err(ApduRepr::Error {
                invoke_id: 0,
                service: ReadPropertyRequest::SERVICE,
                class: error.class.code(),
                code: error.code.code(),
            }),
        }
    }

    /// Answers a ReadPropertyMultiple: unknown objects and properties become access
    /// errors inside the acknowledgement, as clause 15.7 asks.
    pub fn read_property_multiple(
        &self,
        values: &impl HourlyValues,
        specs: &[super::wire::ReadAccessSpec],
    ) -> RpmAck {
        let results = specs
            .iter()
            .map(|spec| {
                let object = self.resolve(spec.object);
                let mut results = Vec::new();
                for reference in &spec.properties {
                    let expand = matches!(
                        reference.property,
                        PropertyId::All | PropertyId::Required | PropertyId::Optional
                    );
                    match (expand, self.properties_of(object)) {
                        (true, Some(list)) => {
                            for property in list {
                                results.push(PropertyResult {
                                    property: *property,
                                    array_index: None,
                                    result: self.property(values, object, *property, None),
                                });
                            }
                        }
                        _ => results.push(PropertyResult {
                            property: reference.property,
                            array_index: reference.array_index,
                            result: self.property(
                                values,
                                object,
                                reference.property,
                                reference.array_index,
                            ),
                        }),
                    }
                }
                ReadAccessResult { object, results }
            })
            .collect();
        RpmAck { results }
    }

    /// Device instance 4194303 means "this device".
    fn resolve(&self, object: ObjectId) -> ObjectId {
        if object.object_type == ObjectType::Device && object.instance == 0x3f_ffff {
            self.device_id()
        } else {
            object
        }
    }

    fn value_object(&self, object: ObjectId) -> Option<(Metric, u8)> {
        if object.object_type != ObjectType::AnalogValue {
            return None;
        }
        let hours = u32::from(HOURS);
        match object.instance {
            x if x < hours => Some((Metric::In, x as u8)),
            x if x < 2 * hours => Some((Metric::Out, (x - hours) as u8)),
            _ => None,
        }
    }

    fn object_list(&self) -> Vec<ObjectId> {
        let mut list = vec![self.device_id()];
        list.extend((0..2 * u32::from(HOURS)).map(|i| ObjectId::new(ObjectType::AnalogValue, i)));
        list
    }

    fn properties_of(&self, object: ObjectId) -> Option<&'static [PropertyId]> {
        const DEVICE: &[PropertyId] = &[
            PropertyId::ObjectIdentifier,
            PropertyId::ObjectName,
            PropertyId::ObjectType,
            PropertyId::SystemStatus,
            PropertyId::VendorName,
            PropertyId::VendorIdentifier,
            PropertyId::ModelName,
            PropertyId::FirmwareRevision,
            PropertyId::ApplicationSoftwareVersion,
            PropertyId::ProtocolVersion,
            PropertyId::ProtocolRevision,
            PropertyId::ProtocolServicesSupported,
            PropertyId::ProtocolObjectTypesSupported,
            PropertyId::ObjectList,
            PropertyId::MaxApduLengthAccepted,
            PropertyId::SegmentationSupported,
            PropertyId::ApduTimeout,
            PropertyId::NumberOfApduRetries,
            PropertyId::DeviceAddressBinding,
            PropertyId::DatabaseRevision,
            PropertyId::Description,
        ];
        const VALUE: &[PropertyId] = &[
            PropertyId::ObjectIdentifier,
            PropertyId::ObjectName,
            PropertyId::ObjectType,
            PropertyId::PresentValue,
            PropertyId::Description,
            PropertyId::StatusFlags,
            PropertyId::EventState,
            PropertyId::OutOfService,
            PropertyId::Units,
        ];
        if object == self.device_id() {
            Some(DEVICE)
        } else if self.value_object(object).is_some() {
            Some(VALUE)
        } else {
            None
        }
    }

    /// One property's value(s), or the error a device answers.
    fn property(
        &self,
        values: &impl HourlyValues,
        object: ObjectId,
        property: PropertyId,
        index: Option<u32>,
    ) -> Result<Vec<Value>, ServiceError> {
        let error = |class, code| ServiceError { class, code };
        let known = self
            .properties_of(object)
            .ok_or(error(ErrorClass::Object, ErrorCode::UnknownObject))?;
        if !known.contains(&property) {
            return Err(error(ErrorClass::Property, ErrorCode::UnknownProperty));
        }
        if property == PropertyId::ObjectList {
            let list = self.object_list();
            return match index {
                None => Ok(list.into_iter().map(Value::ObjectId).collect()),
                Some(0) => Ok(vec![Value::Unsigned(list.len() as u64)]),
                Some(i) => list
                    .get(i as usize - 1)
                    .map(|id| vec![Value::ObjectId(*id)])
                    .ok_or(error(ErrorClass::Property, ErrorCode::InvalidArrayIndex)),
            };
        }
        if index.is_some() {
            return Err(error(ErrorClass::Property, ErrorCode::PropertyIsNotAnArray));
        }
        let text = |s: &str| Value::CharacterString(s.to_owned());
        let value = match (self.value_object(object), property) {
            (_, PropertyId::ObjectIdentifier) => Value::ObjectId(object),
            (_, PropertyId::ObjectType) => Value::Enumerated(u32::from(object.object_type.code())),
            (None, PropertyId::ObjectName) => text("FFC"),
            (None, PropertyId::SystemStatus) => Value::Enumerated(0),
            (None, PropertyId::VendorName) => text("ffc"),
            (None, PropertyId::VendorIdentifier) => {
                Value::Unsigned(u64::from(self.config.vendor_id))
            }
            (None, PropertyId::ModelName) => text("FFC simulated counter"),
            (None, PropertyId::FirmwareRevision) => text(env!("CARGO_PKG_VERSION")),
            (None, PropertyId::ApplicationSoftwareVersion) => text(env!("CARGO_PKG_VERSION")),
            (None, PropertyId::ProtocolVersion) => Value::Unsigned(1),
            (None, PropertyId::ProtocolRevision) => Value::Unsigned(14),
            (None, PropertyId::ProtocolServicesSupported) => {
                // who-Is 34, i-Am 26, readProperty 12, readPropertyMultiple 14.
                Value::BitString((0..41).map(|i| [12, 14, 26, 34].contains(&i)).collect())
            }
            (None, PropertyId::ProtocolObjectTypesSupported) => {
                Value::BitString((0..60).map(|i| i == 2 || i == 8).collect())
            }
            (None, PropertyId::MaxApduLengthAccepted) => {
                Value::Unsigned(u64::from(self.config.max_apdu.octets()))
            }
            (None, PropertyId::SegmentationSupported) => {
                Value::Enumerated(Segmentation::Transmit.code())
            }
            (None, PropertyId::ApduTimeout) => Value::Unsigned(3000),
            (None, PropertyId::NumberOfApduRetries) => Value::Unsigned(3),
            (None, PropertyId::DeviceAddressBinding) => return Ok(Vec::new()),
            (None, PropertyId::DatabaseRevision) => Value::Unsigned(1),
            (None, PropertyId::Description) => text("FootfallCam people counter (simulated)"),
            (Some((metric, x)), PropertyId::ObjectName) => {
                Value::CharacterString(object_name(metric, x))
            }
            (Some((metric, x)), PropertyId::PresentValue) => {
                Value::Real(values.count(metric, x) as f32)
            }
            (Some((metric, x)), PropertyId::Description) => Value::CharacterString(format!(
                "{} count of the hour {x} hours before the current hour",
                match metric {
                    Metric::In => "In",
                    Metric::Out => "Out",
                }
            )),
            (Some(_), PropertyId::StatusFlags) => Value::BitString(vec![false; 4]),
            (Some(_), PropertyId::EventState) => Value::Enumerated(0),
            (Some(_), PropertyId::OutOfService) => Value::Boolean(false),
            // no-units
            (Some(_), PropertyId::Units) => Value::Enumerated(95),
            _ => return Err(error(ErrorClass::Property, ErrorCode::UnknownProperty)),
        };
        Ok(vec![value])
    }
}

fn unix_now() -> UnixSeconds {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn reject_reason(kind: WireErrorKind) -> RejectReason {
    match kind {
        WireErrorKind::Truncated { .. } => RejectReason::MissingRequiredParameter,
        WireErrorKind::TrailingBytes { .. } => RejectReason::TooManyArguments,
        WireErrorKind::OutOfRange => RejectReason::ParameterOutOfRange,
        WireErrorKind::BadLength { .. } | WireErrorKind::WrongTagClass => {
            RejectReason::InvalidParameterDataType
        }
        _ => RejectReason::InvalidTag,
    }
}

/// A simulated FFC device on a tokio UDP socket. Dropping it (or [`shutdown`](Self::shutdown))
/// stops it.
#[derive(Debug)]
pub struct SimulatedDevice {
    local_addr: SocketAddr,
    stats: Arc<Mutex<DeviceStats>>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl SimulatedDevice {
    /// Binds `bind` (e.g. `127.0.0.1:47808`) and serves the device until dropped.
    /// `values` (usually an [`HourlyRing48`] the counting side records into) is advanced to
    /// the system clock and read on every request, so changes show at once.
    pub async fn spawn<V>(
        bind: SocketAddr,
        config: DeviceConfig,
        values: Arc<Mutex<V>>,
    ) -> Result<Self, DeviceError>
    where
        V: HourlyValues + Send + 'static,
    {
        let socket = UdpSocket::bind(bind).await?;
        let local_addr = socket.local_addr()?;
        let (stop, mut stopped) = oneshot::channel();
        let stats = Arc::new(Mutex::new(DeviceStats::default()));
        let shared_stats = stats.clone();
        let task = tokio::spawn(async move {
            let mut core = DeviceCore::<SocketAddr>::new(config);
            let started = tokio::time::Instant::now();
            let mut buf = vec![0u8; 2048];
            loop {
                let now_ms = started.elapsed().as_millis() as u64;
                let wake = core
                    .next_deadline()
                    .map(|at| Duration::from_millis(at.saturating_sub(now_ms)))
                    .unwrap_or(Duration::from_secs(3600));
                tokio::select! {
                    _ = &mut stopped => return,
                    _ = tokio::time::sleep(wake) => {
                        let now_ms = started.elapsed().as_millis() as u64;
                        let resends = core.on_timer(now_ms);
                        if let Ok(mut shared) = shared_stats.lock() {
                            *shared = core.stats();
                        }
                        for (peer, datagram) in resends {
                            let _ = socket.send_to(&datagram, peer).await;
                        }
                    }
                    received = socket.recv_from(&mut buf) => {
                        let Ok((len, peer)) = received else { continue };
                        let now_ms = started.elapsed().as_millis() as u64;
                        let replies = {
                            let Ok(mut values) = values.lock() else { return };
                            values.advance_to(unix_now());
                            core.handle(&*values, peer, buf.get(..len).unwrap_or(&[]), now_ms)
                        };
                        if let Ok(mut shared) = shared_stats.lock() {
                            *shared = core.stats();
                        }
                        for reply in replies {
                            let _ = socket.send_to(&reply, peer).await;
                        }
                    }
                }
            }
        });
        Ok(SimulatedDevice {
            local_addr,
            stats,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// What the device has seen so far.
    pub fn stats(&self) -> DeviceStats {
        self.stats.lock().map(|stats| *stats).unwrap_or_default()
    }

    /// The bound address (useful after binding port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops the device and waits for its task to end.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for SimulatedDevice {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
