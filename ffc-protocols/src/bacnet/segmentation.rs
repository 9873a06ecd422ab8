//! Reassembly of segmented messages, shared by the client (segmented Complex-ACKs) and the
//! simulated device (segmented confirmed requests). Sans-IO: segments in, SegmentACKs and
//! the reassembled body out.

use super::wire::{ApduRepr, Segment};

/// Largest reassembled message accepted (64 segments of 1476 bytes).
pub const MAX_REASSEMBLED: usize = 64 * 1476;

/// Why a segmented message could not be reassembled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReassemblyError {
    /// The first segment received was not segment 0.
    #[error("first segment is not segment 0")]
    NoFirstSegment,
    /// The message grew over [`MAX_REASSEMBLED`] bytes.
    #[error("message over {MAX_REASSEMBLED} bytes")]
    TooLarge,
}

/// What to do after a segment (the sans-IO half of a segmented answer's reassembly).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SegmentStep {
    /// Wait for more; send this SegmentACK first if present.
    Continue(Option<ApduRepr>),
    /// The answer is complete: send the final SegmentACK, then decode the body.
    Done(ApduRepr, Vec<u8>),
}

/// Reassembles a segmented message (clause 5.4): acknowledges the first segment, then
/// every full window and the last segment; answers an out-of-order segment with a
/// negative SegmentACK for the last one received in order. Used by the client for
/// segmented Complex-ACKs and by the device for segmented requests.
#[derive(Debug, Clone)]
pub struct Reassembly {
    invoke_id: u8,
    from_server: bool,
    window: u8,
    expected: u8,
    since_ack: u8,
    received: u32,
    body: Vec<u8>,
}

impl Reassembly {
    /// Starts with segment 0; `window` is the receiver's largest window; `from_server`
    /// is true when a device reassembles a segmented request.
    pub fn start(
        invoke_id: u8,
        from_server: bool,
        first: Segment,
        part: &[u8],
        window: u8,
    ) -> Result<(Self, SegmentStep), ReassemblyError> {
        if first.sequence_number != 0 {
            return Err(ReassemblyError::NoFirstSegment);
        }
        let mut reassembly = Reassembly {
            invoke_id,
            from_server,
            window: first.proposed_window_size.clamp(1, window.clamp(1, 127)),
            expected: 1,
            since_ack: 0,
            received: 1,
            body: part.to_vec(),
        };
        let ack = reassembly.ack(0, false);
        if !first.more_follows {
            let body = core::mem::take(&mut reassembly.body);
            return Ok((reassembly, SegmentStep::Done(ack, body)));
        }
        Ok((reassembly, SegmentStep::Continue(Some(ack))))
    }

    /// Segments received so far.
    pub fn received(&self) -> u32 {
        self.received
    }

    fn ack(&self, sequence_number: u8, negative: bool) -> ApduRepr {
        ApduRepr::SegmentAck {
            negative,
            from_server: self.from_server,
            invoke_id: self.invoke_id,
            sequence_number,
            actual_window_size: self.window,
        }
    }

    /// Takes the next segment.
    pub fn accept(
        &mut self,
        segment: Segment,
        part: &[u8],
    ) -> Result<SegmentStep, ReassemblyError> {
        if segment.sequence_number != self.expected {
            self.since_ack = 0;
            return Ok(SegmentStep::Continue(Some(
                self.ack(self.expected.wrapping_sub(1), true),
            )));
        }
        if self.body.len() + part.len() > MAX_REASSEMBLED {
            return Err(ReassemblyError::TooLarge);
        }
        self.body.extend_from_slice(part);
        self.received += 1;
        self.expected = self.expected.wrapping_add(1);
        self.since_ack += 1;
        let ack = self.ack(segment.sequence_number, false);
        if !segment.more_follows {
            return Ok(SegmentStep::Done(ack, core::mem::take(&mut self.body)));
        }
        if self.since_ack >= self.window {
            self.since_ack = 0;
            return Ok(SegmentStep::Continue(Some(ack)));
        }
        Ok(SegmentStep::Continue(None))
    }
}
