//! Segmentation on the device side: segmented requests reassembled, answers that do not
//! fit the requester's max APDU cut into segments (clause 5.4).

use super::core::{unicast, Incoming, Outgoing, Reply, MAX_TRANSACTIONS};
use super::{DeviceCore, HourlyValues};
use crate::bacnet::segmentation::{Reassembly, ReassemblyError, SegmentStep};
use crate::bacnet::wire::{
    decode_service, AbortReason, ApduRepr, MaxSegments, Segment, Service, WireError,
};

/// At most this many segments in one answer (sequence numbers are 8 bits).
const MAX_SEGMENTS: usize = 255;

/// An Abort from the device.
fn abort(invoke_id: u8, reason: AbortReason) -> Vec<Reply> {
    let apdu = ApduRepr::Abort {
        from_server: true,
        invoke_id,
        reason,
    };
    vec![unicast(&apdu, &[])]
}

/// The header of a segmented request as if it had come in one piece.
fn unsegmented(header: ApduRepr) -> ApduRepr {
    match header {
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
    }
}

impl<A: Copy + Eq> DeviceCore<A> {
    /// Reassembles a segmented confirmed request, acknowledging its segments, and answers
    /// it once complete.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn on_request_segment(
        &mut self,
        values: &impl HourlyValues,
        peer: A,
        header: ApduRepr,
        invoke_id: u8,
        segment: Segment,
        part: &[u8],
        now_ms: u64,
    ) -> Vec<Reply> {
        let (header, step) = self.take_request_segment(peer, header, segment, part, now_ms);
        let drop_incoming = |incoming: &mut Vec<Incoming<A>>| {
            incoming.retain(|rx| !(rx.peer == peer && rx.invoke_id == invoke_id));
        };
        match step {
            Ok(SegmentStep::Continue(ack)) => {
                ack.map(|ack| vec![unicast(&ack, &[])]).unwrap_or_default()
            }
            Ok(SegmentStep::Done(ack, body)) => {
                drop_incoming(&mut self.incoming);
                let unsegmented = unsegmented(header);
                let service = decode_service(&unsegmented, &body, 0);
                let mut replies = vec![unicast(&ack, &[])];
                replies.extend(self.answer(values, peer, unsegmented, service, now_ms));
                replies
            }
            Err(ReassemblyError::NoFirstSegment) => {
                drop_incoming(&mut self.incoming);
                abort(invoke_id, AbortReason::InvalidApduInThisState)
            }
            Err(ReassemblyError::TooLarge) => {
                drop_incoming(&mut self.incoming);
                abort(invoke_id, AbortReason::BufferOverflow)
            }
        }
    }

    /// Adds one segment to its request's reassembly (started by segment 0); returns the
    /// header of the request's first segment, which holds its parameters, and the step.
    fn take_request_segment(
        &mut self,
        peer: A,
        header: ApduRepr,
        segment: Segment,
        part: &[u8],
        now_ms: u64,
    ) -> (ApduRepr, Result<SegmentStep, ReassemblyError>) {
        let invoke_id = header.invoke_id().unwrap_or(0);
        // A quiet sender gets all of its retries before the request is forgotten.
        let deadline_ms = now_ms
            + self.config.segment_timeout.as_millis() as u64
                * (u64::from(self.config.segment_retries) + 1);
        let started = self
            .incoming
            .iter_mut()
            .find(|rx| rx.peer == peer && rx.invoke_id == invoke_id);
        if let Some(rx) = started {
            rx.deadline_ms = deadline_ms;
            return (rx.header, rx.reassembly.accept(segment, part));
        }
        let window = self.config.proposed_window_size;
        let (reassembly, step) = match Reassembly::start(invoke_id, true, segment, part, window) {
            Ok(started) => started,
            Err(error) => return (header, Err(error)),
        };
        if self.incoming.len() >= MAX_TRANSACTIONS {
            self.incoming.remove(0);
        }
        self.incoming.push(Incoming {
            peer,
            invoke_id,
            header,
            reassembly,
            deadline_ms,
        });
        (header, Ok(step))
    }

    /// Answers an unsegmented (or reassembled) confirmed request: an acknowledgement,
    /// segmented when it does not fit the requester's max APDU, or Error, Reject, Abort.
    pub(super) fn answer(
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
        let body = match self.service_answer(values, invoke_id, service, service_body) {
            Ok(body) => body,
            Err(reply) => return vec![reply],
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
            return abort(invoke_id, AbortReason::SegmentationNotSupported);
        }
        match self.cut_segments(invoke_id, service, &body, limit, max_segments) {
            Some(segments) => self.start_sending(peer, invoke_id, segments, now_ms),
            None => abort(invoke_id, AbortReason::BufferOverflow),
        }
    }

    /// The Complex-ACK segments of `body` within `limit` bytes each; `None` when they are
    /// more than the requester (or BACnet's 8-bit sequence numbers) accepts.
    fn cut_segments(
        &self,
        invoke_id: u8,
        service: u8,
        body: &[u8],
        limit: usize,
        max_segments: MaxSegments,
    ) -> Option<Vec<Reply>> {
        // Five header bytes per segment: type, invoke id, sequence, window, service.
        let chunk = limit.saturating_sub(5).max(1);
        let count = body.len().div_ceil(chunk);
        let accepted = max_segments.count().map_or(MAX_SEGMENTS, |n| n as usize);
        if count > accepted.min(MAX_SEGMENTS) {
            return None;
        }
        let segments = body
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
        Some(segments)
    }

    /// Keeps `segments` to send window by window as SegmentACKs come; returns the first.
    fn start_sending(
        &mut self,
        peer: A,
        invoke_id: u8,
        segments: Vec<Reply>,
        now_ms: u64,
    ) -> Vec<Reply> {
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
}
