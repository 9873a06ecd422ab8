//! The sans-IO device's transactions: datagrams in, replies out, SegmentACKs and timers
//! for segmented answers. What it answers is in `objects`; segmenting in `segments`.

use super::{BacnetDeviceConfig, DeviceStats, HourlyValues};
use crate::bacnet::segmentation::Reassembly;
use crate::bacnet::wire::{
    ApduRepr, BvlcFunction, Frame, IAm, NpduRepr, ObjectId, ObjectType, Segmentation, Service,
};

/// At most this many transactions segmenting at once; the oldest is dropped past it.
pub(super) const MAX_TRANSACTIONS: usize = 64;

#[derive(Debug)]
pub(super) struct Outgoing<A> {
    pub(super) peer: A,
    pub(super) invoke_id: u8,
    pub(super) segments: Vec<Vec<u8>>,
    /// Index of the first segment not yet acknowledged.
    pub(super) next: usize,
    /// Index after the last segment sent.
    pub(super) sent_until: usize,
    pub(super) deadline_ms: u64,
    pub(super) retries_left: u8,
}

/// A segmented request being received.
#[derive(Debug)]
pub(super) struct Incoming<A> {
    pub(super) peer: A,
    pub(super) invoke_id: u8,
    pub(super) header: ApduRepr,
    pub(super) reassembly: Reassembly,
    pub(super) deadline_ms: u64,
}

/// The sans-IO device: feed it datagrams and timer ticks, send what it returns.
#[derive(Debug)]
pub struct DeviceCore<A> {
    pub(super) config: BacnetDeviceConfig,
    pub(super) outgoing: Vec<Outgoing<A>>,
    pub(super) incoming: Vec<Incoming<A>>,
    pub(super) stats: DeviceStats,
}

/// One datagram to send.
pub(super) type Reply = Vec<u8>;

pub(super) fn unicast(apdu: &ApduRepr, payload: &[u8]) -> Reply {
    Frame::to_vec(
        BvlcFunction::OriginalUnicast,
        &NpduRepr::local(false),
        apdu,
        payload,
    )
}

impl<A: Copy + Eq> DeviceCore<A> {
    /// A device with these settings.
    pub fn new(config: BacnetDeviceConfig) -> Self {
        DeviceCore {
            config,
            outgoing: Vec::new(),
            incoming: Vec::new(),
            stats: DeviceStats::default(),
        }
    }

    /// The settings.
    pub fn config(&self) -> &BacnetDeviceConfig {
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
}
