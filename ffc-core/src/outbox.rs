//! A store-and-forward queue for a push transport (WebSocket, MQTT): what a counter keeps
//! while its server is away.
//!
//! FootfallCam counters answer each pushed message's `OK`, resend what was not answered,
//! hold up to 10,000 IN/OUT events while the server is down, and then turn the push module
//! off "as to not bloat the counter's storage". [`Outbox`] is that behaviour as a sans-IO
//! state machine: the transport asks it what to send, tells it when it sent and when the
//! server answered, and nothing it holds is ever dropped by the outbox itself.
//!
//! Delivery is stop-and-wait, as the counter's is: only the oldest unacknowledged item is
//! ever in flight, so an `OK` always belongs to it and the server sees items in order.
//!
//! ```
//! use ffc_core::outbox::{Outbox, OutboxState, RejectReason};
//!
//! let mut outbox: Outbox<u32, 2> = Outbox::with_resend_timeout(10);
//! outbox.push(1).unwrap();
//! outbox.push(2).unwrap();
//! // The third does not fit: it comes back and the module turns off, keeping 1 and 2.
//! let rejected = outbox.push(3).unwrap_err();
//! assert_eq!((rejected.item, rejected.reason), (3, RejectReason::Overflow));
//! assert_eq!(outbox.state(), OutboxState::Disabled);
//! assert_eq!(outbox.next_to_send(100), None); // turned off: nothing goes out
//!
//! outbox.enable();
//! assert_eq!(outbox.next_to_send(100), Some(&1));
//! outbox.mark_sent(100);
//! assert_eq!(outbox.next_to_send(105), None); // in flight, not timed out yet
//! assert_eq!(outbox.next_to_send(110), Some(&1)); // no OK within 10 s: resend
//! outbox.mark_sent(110);
//! assert_eq!(outbox.ack(), Some(1)); // the server answered OK
//! assert_eq!(outbox.next_to_send(111), Some(&2));
//! ```
//!
//! # Memory
//!
//! The items live inline: an `Outbox<CountEvent>` (the default capacity, 10,000) is about
//! 10,000 × `size_of::<Option<CountEvent>>()` ≈ 560–640 KB. On firmware put it in a
//! `static` (its constructor is `const`); on std put it in a `Box` or a long-lived task's
//! state rather than on a small thread stack. Tests and simulators can use a small `N`.

use core::fmt;

use crate::time::UnixSeconds;

/// The capacity FootfallCam documents for a counter's push queue.
pub const DEFAULT_CAPACITY: usize = 10_000;

/// Seconds to wait for the server's `OK` before sending the same item again, unless the
/// caller chooses otherwise. The vendor does not publish its value; 30 s is long enough for
/// a slow server and short enough that a lost answer costs little.
pub const DEFAULT_RESEND_TIMEOUT: u32 = 30;

/// Whether the outbox delivers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutboxState {
    /// Accepting and delivering.
    Enabled,
    /// Turned off after an overflow: nothing is accepted or offered for sending until
    /// [`Outbox::enable`]; everything held is kept.
    Disabled,
}

/// Why a push was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RejectReason {
    /// The outbox already held its capacity; this push turned it off. Deliver or drain what
    /// it holds, then [`Outbox::enable`] it.
    Overflow,
    /// The outbox is turned off (after an earlier overflow); call [`Outbox::enable`] first.
    Disabled,
}

/// A refused push: the item comes back to the caller untouched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rejected<T> {
    /// The item that was not stored.
    pub item: T,
    /// Why.
    pub reason: RejectReason,
}

impl<T> Rejected<T> {
    /// The item that was not stored.
    pub fn into_inner(self) -> T {
        self.item
    }
}

impl<T> fmt::Display for Rejected<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.reason {
            RejectReason::Overflow => {
                f.write_str("outbox full: push module turned off; deliver, then enable it")
            }
            RejectReason::Disabled => f.write_str("outbox turned off: enable it before pushing"),
        }
    }
}

impl<T: fmt::Debug> core::error::Error for Rejected<T> {}

/// A bounded FIFO of items waiting for the server's acknowledgement; see the
/// [module docs](self).
pub struct Outbox<T, const N: usize = DEFAULT_CAPACITY> {
    /// Ring storage; `slots[(head + i) % N]` for `i < len` are `Some`.
    slots: [Option<T>; N],
    head: usize,
    len: usize,
    state: OutboxState,
    /// When the oldest item was last sent, while no answer has come.
    in_flight_since: Option<UnixSeconds>,
    resend_timeout: u32,
    overflows: u32,
}

impl<T, const N: usize> Outbox<T, N> {
    /// An empty, enabled outbox with the [`DEFAULT_RESEND_TIMEOUT`].
    pub const fn new() -> Self {
        Self::with_resend_timeout(DEFAULT_RESEND_TIMEOUT)
    }

    /// An empty, enabled outbox that resends an unanswered item after `seconds`.
    pub const fn with_resend_timeout(seconds: u32) -> Self {
        const { assert!(N > 0, "an outbox needs room for at least one item") };
        Outbox {
            slots: [const { None }; N],
            head: 0,
            len: 0,
            state: OutboxState::Enabled,
            in_flight_since: None,
            resend_timeout: seconds,
            overflows: 0,
        }
    }

    /// Changes the resend timeout; an item already in flight uses the new value.
    pub fn set_resend_timeout(&mut self, seconds: u32) {
        self.resend_timeout = seconds;
    }

    /// The resend timeout in seconds.
    pub const fn resend_timeout(&self) -> u32 {
        self.resend_timeout
    }

    /// Appends an item to be delivered after everything already held.
    ///
    /// Refused, with the item handed back, when the outbox is turned off
    /// ([`RejectReason::Disabled`]) or already holds `N` items
    /// ([`RejectReason::Overflow`]; the outbox then turns off, keeping everything it holds).
    pub fn push(&mut self, item: T) -> Result<(), Rejected<T>> {
        if self.state == OutboxState::Disabled {
            return Err(Rejected {
                item,
                reason: RejectReason::Disabled,
            });
        }
        if self.len >= N {
            self.state = OutboxState::Disabled;
            self.overflows = self.overflows.saturating_add(1);
            return Err(Rejected {
                item,
                reason: RejectReason::Overflow,
            });
        }
        let tail = (self.head + self.len) % N;
        if let Some(slot) = self.slots.get_mut(tail) {
            *slot = Some(item);
            self.len += 1;
            Ok(())
        } else {
            // Unreachable: `tail < N`. Hand the item back rather than lose it.
            Err(Rejected {
                item,
                reason: RejectReason::Overflow,
            })
        }
    }

    /// The oldest unacknowledged item, when it should be sent now: it has not been sent
    /// since the last [`on_reconnect`](Self::on_reconnect) / [`enable`](Self::enable), or
    /// its last send got no answer within the resend timeout. `None` when empty, turned
    /// off, or waiting for the answer.
    pub fn next_to_send(&mut self, now: UnixSeconds) -> Option<&T> {
        if self.state == OutboxState::Disabled {
            return None;
        }
        if let Some(sent) = self.in_flight_since {
            if now.saturating_sub(sent) < i64::from(self.resend_timeout) {
                return None;
            }
        }
        self.front()
    }

    /// Records that the oldest item was just sent (first time or again) at `now`.
    pub fn mark_sent(&mut self, now: UnixSeconds) {
        if self.len > 0 {
            self.in_flight_since = Some(now);
        }
    }

    /// The server answered `OK` for the item in flight: removes and returns the oldest item.
    ///
    /// `None` (and nothing removed) when no item is in flight: an `OK` that answers nothing
    /// we sent (say, a late answer to a send we already retried and that was acknowledged)
    /// must not remove an item the server has not seen. Works while turned off, so answers
    /// to sends made before the overflow still count.
    pub fn ack(&mut self) -> Option<T> {
        self.in_flight_since?;
        self.in_flight_since = None;
        self.pop_front()
    }

    /// The connection was re-established: whatever was in flight is due again at once.
    pub fn on_reconnect(&mut self) {
        self.in_flight_since = None;
    }

    /// Turns the outbox back on after an overflow. Delivery resumes with the oldest item
    /// (due at once); pushes are accepted again while there is room.
    pub fn enable(&mut self) {
        self.state = OutboxState::Enabled;
        self.in_flight_since = None;
    }

    /// Enabled or turned off.
    pub const fn state(&self) -> OutboxState {
        self.state
    }

    /// How many pushes found the outbox full (each turned it off).
    pub const fn overflows(&self) -> u32 {
        self.overflows
    }

    /// When the oldest item was last sent without an answer yet.
    pub const fn in_flight_since(&self) -> Option<UnixSeconds> {
        self.in_flight_since
    }

    /// Items held (unacknowledged).
    pub const fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is held.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether a push would overflow.
    pub const fn is_full(&self) -> bool {
        self.len >= N
    }

    /// `N`.
    pub const fn capacity(&self) -> usize {
        N
    }

    /// The oldest item held, whether or not it is due.
    pub fn front(&self) -> Option<&T> {
        if self.len == 0 {
            return None;
        }
        self.slots.get(self.head).and_then(Option::as_ref)
    }

    /// Everything held, oldest first.
    pub fn iter(&self) -> Iter<'_, T, N> {
        Iter {
            outbox: self,
            front: 0,
            back: self.len,
        }
    }

    /// Removes and returns the oldest item without an acknowledgement (to move it
    /// elsewhere, for example to persistent storage); clears any in-flight mark.
    pub fn pop_front(&mut self) -> Option<T> {
        if self.len == 0 {
            return None;
        }
        let item = self.slots.get_mut(self.head).and_then(Option::take);
        self.head = (self.head + 1) % N;
        self.len -= 1;
        self.in_flight_since = None;
        item
    }
}

impl<T, const N: usize> Default for Outbox<T, N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: fmt::Debug, const N: usize> fmt::Debug for Outbox<T, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Outbox")
            .field("capacity", &N)
            .field("len", &self.len)
            .field("state", &self.state)
            .field("in_flight_since", &self.in_flight_since)
            .field("resend_timeout", &self.resend_timeout)
            .field("oldest", &self.front())
            .finish()
    }
}

impl<'a, T, const N: usize> IntoIterator for &'a Outbox<T, N> {
    type Item = &'a T;
    type IntoIter = Iter<'a, T, N>;
    fn into_iter(self) -> Iter<'a, T, N> {
        self.iter()
    }
}

/// The items of an [`Outbox`], oldest first; see [`Outbox::iter`].
#[derive(Debug)]
pub struct Iter<'a, T, const N: usize> {
    outbox: &'a Outbox<T, N>,
    /// Positions `front..back` (counted from the oldest) are still to come.
    front: usize,
    back: usize,
}

impl<'a, T, const N: usize> Iter<'a, T, N> {
    fn at(&self, position: usize) -> Option<&'a T> {
        let outbox: &'a Outbox<T, N> = self.outbox;
        outbox
            .slots
            .get((outbox.head + position) % N)
            .and_then(Option::as_ref)
    }
}

impl<'a, T, const N: usize> Iterator for Iter<'a, T, N> {
    type Item = &'a T;
    fn next(&mut self) -> Option<&'a T> {
        if self.front >= self.back {
            return None;
        }
        let item = self.at(self.front);
        self.front += 1;
        item
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.back - self.front;
        (left, Some(left))
    }
}

impl<'a, T, const N: usize> DoubleEndedIterator for Iter<'a, T, N> {
    fn next_back(&mut self) -> Option<&'a T> {
        if self.front >= self.back {
            return None;
        }
        self.back -= 1;
        self.at(self.back)
    }
}

impl<T, const N: usize> ExactSizeIterator for Iter<'_, T, N> {}
impl<T, const N: usize> core::iter::FusedIterator for Iter<'_, T, N> {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CameraSerial, CountEvent, Metric, PeopleId, PeopleType, RoiId, Source, UtcOffset};
    use proptest::prelude::*;
    use std::collections::VecDeque;
    use std::vec::Vec;

    #[test]
    fn delivers_in_order_with_stop_and_wait() {
        let mut o: Outbox<u8, 4> = Outbox::with_resend_timeout(5);
        assert_eq!(o.next_to_send(0), None);
        for i in 0..3 {
            o.push(i).unwrap();
        }
        assert_eq!(o.next_to_send(0), Some(&0));
        o.mark_sent(0);
        assert_eq!(o.next_to_send(4), None, "answer still awaited");
        assert_eq!(o.in_flight_since(), Some(0));
        assert_eq!(
            o.next_to_send(5),
            Some(&0),
            "timed out: resend the same item"
        );
        o.mark_sent(5);
        assert_eq!(o.ack(), Some(0));
        assert_eq!(o.ack(), None, "a stray OK removes nothing");
        assert_eq!(o.len(), 2);
        assert_eq!(o.next_to_send(6), Some(&1));
        o.mark_sent(6);
        o.on_reconnect();
        assert_eq!(
            o.next_to_send(6),
            Some(&1),
            "reconnect makes it due at once"
        );
        assert_eq!(o.iter().copied().collect::<Vec<_>>(), [1, 2]);
        assert_eq!(o.iter().rev().copied().collect::<Vec<_>>(), [2, 1]);
        assert_eq!(o.iter().len(), 2);
    }

    #[test]
    fn overflow_disables_keeps_everything_and_enable_resumes_in_order() {
        let mut o: Outbox<u32, 3> = Outbox::new();
        assert_eq!(o.capacity(), 3);
        for i in 0..3 {
            o.push(i).unwrap();
        }
        assert!(o.is_full());
        let r = o.push(3).unwrap_err();
        assert_eq!(
            r,
            Rejected {
                item: 3,
                reason: RejectReason::Overflow
            }
        );
        assert_eq!(o.state(), OutboxState::Disabled);
        assert_eq!(o.overflows(), 1);
        let r = o.push(4).unwrap_err();
        assert_eq!(r.reason, RejectReason::Disabled);
        assert_eq!(r.into_inner(), 4);
        assert_eq!(o.next_to_send(1_000), None, "turned off: nothing offered");
        assert_eq!(o.iter().copied().collect::<Vec<_>>(), [0, 1, 2]);
        o.enable();
        assert_eq!(o.state(), OutboxState::Enabled);
        let mut delivered = Vec::new();
        let mut now = 0;
        while let Some(&item) = o.next_to_send(now) {
            o.mark_sent(now);
            delivered.push(item);
            assert_eq!(o.ack(), Some(item));
            now += 1;
        }
        assert_eq!(delivered, [0, 1, 2]);
        assert!(o.is_empty());
        o.push(9).unwrap();
    }

    #[test]
    fn ack_while_disabled_answers_the_send_made_before() {
        let mut o: Outbox<u8, 1> = Outbox::new();
        o.push(1).unwrap();
        assert_eq!(o.next_to_send(0), Some(&1));
        o.mark_sent(0);
        assert!(o.push(2).is_err());
        assert_eq!(o.ack(), Some(1));
        assert_eq!(
            o.state(),
            OutboxState::Disabled,
            "only enable() turns it back on"
        );
    }

    #[test]
    fn rejected_displays_what_to_do() {
        let r = Rejected {
            item: (),
            reason: RejectReason::Overflow,
        };
        assert!(r.to_string().contains("enable"));
        let r = Rejected {
            item: (),
            reason: RejectReason::Disabled,
        };
        assert!(r.to_string().contains("enable"));
    }

    #[test]
    fn default_capacity_holds_count_events_in_a_static() {
        static OUTBOX: Outbox<CountEvent> = Outbox::new();
        assert_eq!(OUTBOX.capacity(), DEFAULT_CAPACITY);
        // Documented size: about 10,000 events of roughly 56-64 bytes each.
        let size = core::mem::size_of::<Outbox<CountEvent>>();
        assert!(
            size >= 10_000 * core::mem::size_of::<CountEvent>(),
            "{size}"
        );
        let mut boxed: std::boxed::Box<Outbox<CountEvent, 16>> = std::boxed::Box::default();
        let e = CountEvent {
            serial: CameraSerial::from_u64(1),
            roi: RoiId(1),
            metric: Metric::In,
            people_type: PeopleType::Visitor,
            people_id: PeopleId(7),
            start: 10,
            end: 11,
            offset: UtcOffset::UTC,
            uuid: None,
            source: Source::Counting,
        };
        boxed.push(e).unwrap();
        assert_eq!(boxed.front(), Some(&e));
    }

    #[derive(Debug, Clone)]
    enum Op {
        Push,
        Send,
        Ack,
        Reconnect,
        Enable,
        Wait(u8),
        Drain,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => Just(Op::Push),
            3 => Just(Op::Send),
            3 => Just(Op::Ack),
            1 => Just(Op::Reconnect),
            1 => Just(Op::Enable),
            2 => (0u8..20).prop_map(Op::Wait),
            1 => Just(Op::Drain),
        ]
    }

    fn check<const N: usize>(ops: &[Op]) -> Result<(), TestCaseError> {
        let mut o: Outbox<u32, N> = Outbox::with_resend_timeout(7);
        let mut model: VecDeque<u32> = VecDeque::new();
        let mut enabled = true;
        let mut in_flight: Option<i64> = None;
        let mut next_id = 0u32;
        let mut now = 0i64;
        let mut acked: Vec<u32> = Vec::new();
        let mut accepted: Vec<u32> = Vec::new();
        for op in ops {
            match op {
                Op::Push => {
                    let id = next_id;
                    next_id += 1;
                    match o.push(id) {
                        Ok(()) => {
                            prop_assert!(enabled && model.len() < N);
                            model.push_back(id);
                            accepted.push(id);
                        }
                        Err(r) => {
                            prop_assert_eq!(r.item, id, "a refused push hands the item back");
                            if enabled {
                                prop_assert_eq!(r.reason, RejectReason::Overflow);
                                prop_assert_eq!(
                                    model.len(),
                                    N,
                                    "holds exactly N before it disables"
                                );
                                enabled = false;
                            } else {
                                prop_assert_eq!(r.reason, RejectReason::Disabled);
                            }
                        }
                    }
                }
                Op::Send => {
                    let due =
                        enabled && !model.is_empty() && in_flight.is_none_or(|t| now - t >= 7);
                    let offered = o.next_to_send(now).copied();
                    prop_assert_eq!(offered, if due { model.front().copied() } else { None });
                    if offered.is_some() {
                        o.mark_sent(now);
                        in_flight = Some(now);
                    }
                }
                Op::Ack => {
                    let got = o.ack();
                    if in_flight.take().is_some() {
                        let expect = model.pop_front();
                        prop_assert_eq!(got, expect);
                        acked.extend(got);
                    } else {
                        prop_assert_eq!(got, None);
                    }
                }
                Op::Reconnect => {
                    o.on_reconnect();
                    in_flight = None;
                }
                Op::Enable => {
                    o.enable();
                    enabled = true;
                    in_flight = None;
                }
                Op::Wait(s) => now += i64::from(*s),
                Op::Drain => {
                    let got = o.pop_front();
                    prop_assert_eq!(got, model.pop_front());
                    acked.extend(got);
                    in_flight = None;
                }
            }
            prop_assert_eq!(o.state() == OutboxState::Enabled, enabled);
            prop_assert_eq!(o.len(), model.len());
            prop_assert!(o.len() <= N);
            prop_assert!(
                o.iter().copied().eq(model.iter().copied()),
                "no loss, duplicate or reorder"
            );
        }
        // Everything accepted was either delivered (in order) or is still held (in order).
        let mut all = acked.clone();
        all.extend(o.iter().copied());
        prop_assert_eq!(all, accepted);
        Ok(())
    }

    proptest! {
        #[test]
        fn outbox_matches_a_fifo_model_n1(ops in proptest::collection::vec(op(), 0..60)) {
            check::<1>(&ops)?;
        }
        #[test]
        fn outbox_matches_a_fifo_model_n3(ops in proptest::collection::vec(op(), 0..200)) {
            check::<3>(&ops)?;
        }
        #[test]
        fn outbox_matches_a_fifo_model_n16(ops in proptest::collection::vec(op(), 0..400)) {
            check::<16>(&ops)?;
        }
    }
}
