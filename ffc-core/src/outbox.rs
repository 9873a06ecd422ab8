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
//! The capacity is the type's second parameter, always written where an outbox is declared:
//! `Outbox<CountEvent, 10_000>` ([`DEFAULT_CAPACITY`], what a counter holds). The items live
//! inline, so that one is 10,000 × `size_of::<CountEvent>()` (64 bytes on 64-bit targets,
//! 56 on Cortex-M) plus a few words. On firmware put it in a `static` (its constructors are
//! `const fn`): a new outbox is all zero bytes (empty slots hold [`Blank::BLANK`], which is
//! all zeros for [`CountEvent`] and the integers), so the `static` lands in `.bss` and costs
//! no flash. On std put it in a `Box` or a long-lived task's state rather than on a small
//! thread stack. Tests and simulators can use a small `N`.
//!
//! ```
//! use ffc_core::{CountEvent, Outbox};
//! // In `.bss` on firmware (wrap it in a `critical_section::Mutex<RefCell<_>>` to use it).
//! static OUTBOX: Outbox<CountEvent, 10_000> = Outbox::new();
//! assert_eq!(OUTBOX.capacity(), 10_000);
//! ```

use core::fmt;

use crate::model::CountEvent;
use crate::time::UnixSeconds;

/// The value an empty slot holds. For a `static` [`Outbox`] (or other fixed buffer) to
/// land in `.bss` it must be all zero bytes, as it is for every implementation here.
pub trait Blank: Sized {
    /// The empty value.
    const BLANK: Self;
}

macro_rules! blank_zero {
    ($($t:ty),*) => {$(
        impl Blank for $t {
            const BLANK: Self = 0;
        }
    )*};
}
blank_zero!(u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize);

impl Blank for () {
    const BLANK: Self = ();
}

impl Blank for bool {
    const BLANK: Self = false;
}

impl Blank for CountEvent {
    const BLANK: Self = CountEvent::EMPTY;
}

impl<T: Blank, const M: usize> Blank for [T; M] {
    const BLANK: Self = [const { T::BLANK }; M];
}

/// The capacity FootfallCam documents for a counter's push queue: 10,000 events.
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
#[non_exhaustive]
pub enum RejectReason {
    /// The outbox already held its capacity; this push turned it off. Deliver or drain what
    /// it holds, then [`Outbox::enable`] it.
    Overflow,
    /// The outbox is turned off (after an earlier overflow); call [`Outbox::enable`] first.
    Disabled,
}

/// A refused push: the item comes back to the caller untouched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
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

/// A bounded FIFO of up to `N` items waiting for the server's acknowledgement (a counter
/// holds [`DEFAULT_CAPACITY`] = 10,000); see the [module docs](self).
pub struct Outbox<T, const N: usize> {
    /// Ring storage; `slots[(head + i) % N]` for `i < len` are held, the others
    /// [`Blank::BLANK`].
    slots: [T; N],
    head: usize,
    len: usize,
    state: OutboxState,
    /// When the oldest item was last sent, while no answer has come.
    in_flight_since: Option<UnixSeconds>,
    /// `None`: the [`DEFAULT_RESEND_TIMEOUT`] (so a new outbox is all zero bytes).
    resend_timeout: Option<u32>,
    overflows: u32,
}

impl<T: Blank, const N: usize> Outbox<T, N> {
    /// An empty, enabled outbox with the [`DEFAULT_RESEND_TIMEOUT`]; all zero bytes.
    pub const fn new() -> Self {
        const { assert!(N > 0, "an outbox needs room for at least one item") };
        Outbox {
            slots: [const { T::BLANK }; N],
            head: 0,
            len: 0,
            state: OutboxState::Enabled,
            in_flight_since: None,
            resend_timeout: None,
            overflows: 0,
        }
    }

    /// An empty, enabled outbox that resends an unanswered item after `seconds`.
    pub const fn with_resend_timeout(seconds: u32) -> Self {
        let mut outbox = Self::new();
        outbox.resend_timeout = Some(seconds);
        outbox
    }
}

impl<T, const N: usize> Outbox<T, N> {
    /// Changes the resend timeout; an item already in flight uses the new value.
    pub fn set_resend_timeout(&mut self, seconds: u32) {
        self.resend_timeout = Some(seconds);
    }

    /// The resend timeout in seconds.
    pub const fn resend_timeout(&self) -> u32 {
        match self.resend_timeout {
            Some(seconds) => seconds,
            None => DEFAULT_RESEND_TIMEOUT,
        }
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
            *slot = item;
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
            if now.saturating_sub(sent) < i64::from(self.resend_timeout()) {
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
    pub fn ack(&mut self) -> Option<T>
    where
        T: Blank,
    {
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
        self.slots.get(self.head)
    }

    /// Everything held, oldest first.
    pub fn iter(&self) -> Iter<'_, T, N> {
        Iter {
            outbox: self,
            front: 0,
            back: self.len,
        }
    }
}

impl<T: Blank, const N: usize> Outbox<T, N> {
    /// Removes and returns the oldest item without an acknowledgement (to move it
    /// elsewhere, for example to persistent storage); clears any in-flight mark.
    pub fn pop_front(&mut self) -> Option<T> {
        if self.len == 0 {
            return None;
        }
        let item = self
            .slots
            .get_mut(self.head)
            .map(|slot| core::mem::replace(slot, T::BLANK));
        self.head = (self.head + 1) % N;
        self.len -= 1;
        self.in_flight_since = None;
        item
    }
}

impl<T: Blank, const N: usize> Default for Outbox<T, N> {
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
            .field("resend_timeout", &self.resend_timeout())
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
        outbox.slots.get((outbox.head + position) % N)
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
mod tests;
