//! The sans-IO client: requests in, datagrams out; datagrams in, answers out. Time is
//! passed in as `now_ms` (any monotonic milliseconds), so every path — retries, segment
//! timeouts, late or stray answers — runs in tests without a socket or a clock.

use super::{BacnetClientConfig, BacnetClientError, ClientStats, DeviceInfo};
use crate::bacnet::segmentation::{Reassembly, SegmentStep};
use crate::bacnet::wire::{
    ApduRepr, BvlcFunction, ErrorClass, ErrorCode, Frame, NpduRepr, ObjectType, Segment, Service,
    WhoIs, WireError,
};
use std::net::SocketAddr;

/// A datagram for the loop to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// Where to.
    pub to: SocketAddr,
    /// The whole BACnet/IP datagram.
    pub datagram: Vec<u8>,
}

/// What the core asks of its loop, in order: send datagrams, hand over answers and
/// discovered devices.
#[derive(Debug)]
pub enum ClientEvent {
    /// Send this datagram (a SegmentACK, or a request sent again after a timeout).
    Send(Transmit),
    /// A confirmed request ended: the acknowledgement's service body (reassembled when
    /// segmented; empty for a SimpleACK), or why it failed.
    Answer {
        /// The request's invoke id, as [`ClientCore::request`] returned it.
        invoke_id: u8,
        /// The body, or the error.
        result: Result<Vec<u8>, BacnetClientError>,
    },
    /// An I-Am answering the open Who-Is.
    Found(DeviceInfo),
}

/// A confirmed request waiting for its answer.
#[derive(Debug)]
struct Transaction {
    peer: SocketAddr,
    invoke_id: u8,
    /// The request datagram, kept to resend it.
    request: Vec<u8>,
    /// Requests sent so far.
    attempts: u32,
    deadline_ms: u64,
    reassembly: Option<Reassembly>,
}

/// The sans-IO BACnet client: feed it datagrams and timer ticks, send what it returns.
///
/// ```
/// use ffc_protocols::bacnet::client::{BacnetClientConfig, ClientCore, DeviceInfo};
/// use ffc_protocols::bacnet::wire::{ObjectId, ObjectType, PropertyId, ReadPropertyRequest};
///
/// let mut core = ClientCore::new(BacnetClientConfig::default());
/// let device = DeviceInfo::known(7, "192.0.2.1:47808".parse().unwrap());
/// let body = ReadPropertyRequest {
///     object: ObjectId::new(ObjectType::Device, 7),
///     property: PropertyId::ObjectName,
///     array_index: None,
/// }
/// .to_vec();
/// let (invoke_id, transmit) = core.request(&device, ReadPropertyRequest::SERVICE, &body, 0)?;
/// assert_eq!(transmit.to, device.address);
/// // Nobody answers: after APDU_Timeout (3 s) the request goes again.
/// assert_eq!(core.next_deadline(), Some(3000));
/// assert_eq!(core.on_timer(3000).len(), 1);
/// # let _ = invoke_id;
/// # Ok::<(), ffc_protocols::bacnet::client::BacnetClientError>(())
/// ```
#[derive(Debug)]
pub struct ClientCore {
    config: BacnetClientConfig,
    next_invoke_id: u8,
    transactions: Vec<Transaction>,
    /// The range of the open Who-Is, if one is open (`Some(None)`: all instances).
    discovery: Option<Option<(u32, u32)>>,
    stats: ClientStats,
}

fn datagram(function: BvlcFunction, apdu: &ApduRepr, payload: &[u8]) -> Vec<u8> {
    let expecting_reply = matches!(apdu, ApduRepr::ConfirmedRequest { .. });
    Frame::to_vec(function, &NpduRepr::local(expecting_reply), apdu, payload)
}

impl ClientCore {
    /// A client with these settings (only its timing, retry and segmentation settings
    /// matter here; `bind` and `port` are for the loop).
    pub fn new(config: BacnetClientConfig) -> Self {
        ClientCore {
            config,
            next_invoke_id: 0,
            transactions: Vec::new(),
            discovery: None,
            stats: ClientStats::default(),
        }
    }

    /// The settings.
    pub fn config(&self) -> &BacnetClientConfig {
        &self.config
    }

    /// What happened on the wire so far.
    pub fn stats(&self) -> ClientStats {
        self.stats
    }

    /// Resets [`stats`](Self::stats).
    pub fn reset_stats(&mut self) {
        self.stats = ClientStats::default();
    }

    /// Opens a Who-Is for instances in `range` (inclusive) to `target`, a device's address
    /// or a broadcast address (255.255.255.255 or an address ending in .255, sent as
    /// Original-Broadcast-NPDU; anything else goes as Original-Unicast-NPDU). I-Ams in range
    /// come back as [`ClientEvent::Found`] until [`end_discovery`](Self::end_discovery).
    pub fn who_is(&mut self, target: SocketAddr, range: Option<(u32, u32)>) -> Transmit {
        let broadcast = match target {
            SocketAddr::V4(v4) => v4.ip().is_broadcast() || v4.ip().octets()[3] == 255,
            SocketAddr::V6(_) => false,
        };
        let function = if broadcast {
            BvlcFunction::OriginalBroadcast
        } else {
            BvlcFunction::OriginalUnicast
        };
        let apdu = ApduRepr::UnconfirmedRequest {
            service: WhoIs::SERVICE,
        };
        self.discovery = Some(range);
        Transmit {
            to: target,
            datagram: datagram(function, &apdu, &WhoIs { range }.to_vec()),
        }
    }

    /// Closes the open Who-Is: later I-Ams are ignored.
    pub fn end_discovery(&mut self) {
        self.discovery = None;
    }

    /// Starts a confirmed request to `device` at `now_ms`; returns its invoke id and the
    /// datagram to send. The answer comes back as [`ClientEvent::Answer`] with that id.
    pub fn request(
        &mut self,
        device: &DeviceInfo,
        service: u8,
        body: &[u8],
        now_ms: u64,
    ) -> Result<(u8, Transmit), BacnetClientError> {
        let invoke_id = self.invoke_id().ok_or(BacnetClientError::TooManyPending)?;
        let request = ApduRepr::ConfirmedRequest {
            segmented_response_accepted: self.config.segmented_response_accepted,
            max_segments: self.config.max_segments,
            max_apdu: self.config.max_apdu,
            invoke_id,
            segment: None,
            service,
        };
        let length = request.buffer_len() + body.len();
        // 1476: the largest APDU BACnet/IP carries, whatever the device says it takes.
        let max = device.max_apdu.min(1476);
        if length > max as usize {
            return Err(BacnetClientError::RequestTooLarge { length, max });
        }
        let datagram = datagram(BvlcFunction::OriginalUnicast, &request, body);
        self.stats.requests += 1;
        self.transactions.push(Transaction {
            peer: device.address,
            invoke_id,
            request: datagram.clone(),
            attempts: 1,
            deadline_ms: now_ms + self.config.apdu_timeout.as_millis() as u64,
            reassembly: None,
        });
        let transmit = Transmit {
            to: device.address,
            datagram,
        };
        Ok((invoke_id, transmit))
    }

    /// Forgets a request (its loop gave up on it, e.g. the socket failed).
    pub fn cancel(&mut self, invoke_id: u8) {
        self.transactions.retain(|tx| tx.invoke_id != invoke_id);
    }

    /// Requests waiting for their answer.
    pub fn pending(&self) -> usize {
        self.transactions.len()
    }

    /// The next invoke id not in use by a pending request; `None` when all 256 are.
    fn invoke_id(&mut self) -> Option<u8> {
        for _ in 0..=u8::MAX {
            let id = self.next_invoke_id;
            self.next_invoke_id = id.wrapping_add(1);
            if !self.transactions.iter().any(|tx| tx.invoke_id == id) {
                return Some(id);
            }
        }
        None
    }

    /// The earliest `now_ms` at which [`on_timer`](Self::on_timer) has work.
    pub fn next_deadline(&self) -> Option<u64> {
        self.transactions.iter().map(|tx| tx.deadline_ms).min()
    }

    /// Resends requests whose answer is late (a segmented answer that stopped arriving
    /// counts as late), and fails those out of retries.
    pub fn on_timer(&mut self, now_ms: u64) -> Vec<ClientEvent> {
        let attempts = u32::from(self.config.apdu_retries) + 1;
        let timeout = self.config.apdu_timeout.as_millis() as u64;
        let mut events = Vec::new();
        let mut retries = 0;
        self.transactions.retain_mut(|tx| {
            if tx.deadline_ms > now_ms {
                return true;
            }
            let stalled = tx.reassembly.take();
            if tx.attempts >= attempts {
                let result = Err(match stalled {
                    Some(r) => BacnetClientError::SegmentTimeout {
                        address: tx.peer,
                        received: r.received(),
                    },
                    None => BacnetClientError::Timeout {
                        address: tx.peer,
                        attempts: tx.attempts,
                    },
                });
                tracing::warn!(
                    peer = %tx.peer,
                    invoke_id = tx.invoke_id,
                    attempts = tx.attempts,
                    "BACnet request unanswered; giving up"
                );
                events.push(ClientEvent::Answer {
                    invoke_id: tx.invoke_id,
                    result,
                });
                return false;
            }
            // BACnet's own retransmission (clause 5.4.4): the same request with the same
            // invoke id after a fixed APDU_Timeout, which peers count on; not a backoff.
            tx.attempts += 1;
            tx.deadline_ms = now_ms + timeout;
            tracing::debug!(
                peer = %tx.peer,
                invoke_id = tx.invoke_id,
                attempt = tx.attempts,
                "BACnet request resent: no answer within APDU_Timeout"
            );
            retries += 1;
            events.push(ClientEvent::Send(Transmit {
                to: tx.peer,
                datagram: tx.request.clone(),
            }));
            true
        });
        self.stats.requests += retries;
        self.stats.retries += retries;
        events
    }

    /// Handles one datagram from `from` at `now_ms`.
    pub fn handle(&mut self, from: SocketAddr, datagram: &[u8], now_ms: u64) -> Vec<ClientEvent> {
        let Ok(frame) = Frame::parse(datagram) else {
            self.stats.ignored += 1;
            return Vec::new();
        };
        if let ApduRepr::UnconfirmedRequest { .. } = frame.apdu {
            return self.on_unconfirmed(from, frame.service());
        }
        let position = frame.apdu.invoke_id().and_then(|id| {
            self.transactions
                .iter()
                .position(|tx| tx.peer == from && tx.invoke_id == id)
        });
        let Some(position) = position else {
            self.stats.ignored += 1;
            return Vec::new();
        };
        self.on_answer(position, frame.apdu, frame.payload, now_ms)
    }

    fn on_unconfirmed(
        &mut self,
        from: SocketAddr,
        service: Result<Service, WireError>,
    ) -> Vec<ClientEvent> {
        let (Some(range), Ok(Service::IAm(i_am))) = (self.discovery, service) else {
            self.stats.ignored += 1;
            return Vec::new();
        };
        let in_range = WhoIs { range }.matches(i_am.device.instance);
        // A device outside the asked range answering a broadcast is normal traffic, not a
        // stray datagram: it is not counted as ignored.
        if i_am.device.object_type != ObjectType::Device || !in_range {
            return Vec::new();
        }
        vec![ClientEvent::Found(DeviceInfo {
            instance: i_am.device.instance,
            address: from,
            max_apdu: i_am.max_apdu,
            segmentation: i_am.segmentation,
            vendor_id: i_am.vendor_id,
        })]
    }

    /// An answer to the transaction at `position`.
    fn on_answer(
        &mut self,
        position: usize,
        apdu: ApduRepr,
        payload: &[u8],
        now_ms: u64,
    ) -> Vec<ClientEvent> {
        let Some(tx) = self.transactions.get(position) else {
            return Vec::new();
        };
        let invoke_id = tx.invoke_id;
        let result = match apdu {
            ApduRepr::ComplexAck { segment: None, .. } if tx.reassembly.is_none() => {
                Ok(payload.to_vec())
            }
            ApduRepr::SimpleAck { .. } => Ok(Vec::new()),
            ApduRepr::Error { class, code, .. } => Err(BacnetClientError::Service {
                class: ErrorClass::from_code(class),
                code: ErrorCode::from_code(code),
            }),
            ApduRepr::Reject { reason, .. } => Err(BacnetClientError::Rejected(reason)),
            ApduRepr::Abort { reason, .. } => Err(BacnetClientError::Aborted(reason)),
            ApduRepr::ComplexAck {
                segment: Some(segment),
                ..
            } => return self.on_segment(position, segment, payload, now_ms),
            _ => {
                self.stats.ignored += 1;
                return Vec::new();
            }
        };
        self.transactions.remove(position);
        vec![ClientEvent::Answer { invoke_id, result }]
    }

    /// A segment of a segmented answer to the transaction at `position`.
    fn on_segment(
        &mut self,
        position: usize,
        segment: Segment,
        payload: &[u8],
        now_ms: u64,
    ) -> Vec<ClientEvent> {
        let Some(tx) = self.transactions.get_mut(position) else {
            return Vec::new();
        };
        let (peer, invoke_id) = (tx.peer, tx.invoke_id);
        self.stats.segments_received += 1;
        let window = self.config.window_size;
        let step = match tx.reassembly.as_mut() {
            Some(r) => r.accept(segment, payload),
            None => Reassembly::start(invoke_id, false, segment, payload, window).map(
                |(started, step)| {
                    tx.reassembly = Some(started);
                    step
                },
            ),
        };
        match step {
            Ok(SegmentStep::Continue(ack)) => {
                tx.deadline_ms = now_ms + self.config.segment_timeout.as_millis() as u64;
                let Some(ack) = ack else {
                    return Vec::new();
                };
                self.stats.segment_acks += 1;
                self.stats.segment_round_trips += 1;
                vec![ClientEvent::Send(segment_ack(peer, &ack))]
            }
            Ok(SegmentStep::Done(ack, body)) => {
                self.stats.segment_acks += 1;
                self.transactions.remove(position);
                let answer = ClientEvent::Answer {
                    invoke_id,
                    result: Ok(body),
                };
                vec![ClientEvent::Send(segment_ack(peer, &ack)), answer]
            }
            Err(error) => {
                self.transactions.remove(position);
                let result = Err(error.into());
                vec![ClientEvent::Answer { invoke_id, result }]
            }
        }
    }
}

fn segment_ack(peer: SocketAddr, ack: &ApduRepr) -> Transmit {
    Transmit {
        to: peer,
        datagram: datagram(BvlcFunction::OriginalUnicast, ack, &[]),
    }
}
