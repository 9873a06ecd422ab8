//! Deduplication on [`EventKey`]: a resent message or a second worker never counts twice.
//!
//! * [`DedupeWindow`] remembers the last `N` keys in a fixed array (no allocator); the
//!   oldest is forgotten first. Lookup is a linear scan, which for the few hundred keys a
//!   firmware window holds beats hashing on a microcontroller.
//! * [`KeySet`] (feature `alloc`) remembers every key until told to forget keys older than
//!   a horizon.

use crate::model::EventKey;
#[cfg(feature = "alloc")]
use crate::time::UnixSeconds;

/// The last `N` keys seen, without an allocator.
///
/// ```
/// use ffc_core::dedupe::DedupeWindow;
/// use ffc_core::EventKey;
/// let key = EventKey::Uuid(ffc_core::MessageId::from_u128(7));
/// let mut window = DedupeWindow::<4>::new();
/// assert!(window.insert(key));
/// assert!(!window.insert(key));
/// ```
#[derive(Debug, Clone)]
pub struct DedupeWindow<const N: usize> {
    /// `keys[..filled]` are remembered; the rest are [`EMPTY_KEY`] (all zero bytes, so a
    /// `static` window lands in `.bss`).
    keys: [EventKey; N],
    filled: usize,
    next: usize,
}

/// What an unused slot holds: the nil UUID, all zero bytes.
const EMPTY_KEY: EventKey = EventKey::Uuid(uuid::Uuid::nil());

impl<const N: usize> Default for DedupeWindow<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> DedupeWindow<N> {
    /// An empty window.
    pub const fn new() -> Self {
        DedupeWindow {
            keys: [EMPTY_KEY; N],
            filled: 0,
            next: 0,
        }
    }

    /// Whether `key` is among the last `N` remembered.
    pub fn contains(&self, key: &EventKey) -> bool {
        self.keys.get(..self.filled).unwrap_or(&[]).contains(key)
    }

    /// Remembers `key`; `true` when it was new. When full, forgets the oldest key.
    pub fn insert(&mut self, key: EventKey) -> bool {
        if N == 0 {
            return true;
        }
        if self.contains(&key) {
            return false;
        }
        if let Some(slot) = self.keys.get_mut(self.next) {
            *slot = key;
        }
        self.filled = (self.filled + 1).min(N);
        self.next = (self.next + 1) % N;
        true
    }
}

#[cfg(feature = "alloc")]
pub use set::KeySet;

#[cfg(feature = "alloc")]
mod set {
    use alloc::collections::{BTreeMap, BTreeSet};

    use super::{EventKey, UnixSeconds};

    /// Every key seen, each with the instant its event ended, so old keys can be forgotten.
    #[derive(Debug, Clone, Default)]
    pub struct KeySet {
        keys: BTreeMap<EventKey, UnixSeconds>,
        by_time: BTreeSet<(UnixSeconds, EventKey)>,
    }

    impl KeySet {
        /// An empty set.
        pub fn new() -> Self {
            Self::default()
        }

        /// Remembers `key` of an event that ended at `at`; `true` when it was new.
        pub fn insert(&mut self, key: EventKey, at: UnixSeconds) -> bool {
            if self.keys.contains_key(&key) {
                return false;
            }
            self.keys.insert(key, at);
            self.by_time.insert((at, key));
            true
        }

        /// Whether `key` was seen.
        pub fn contains(&self, key: &EventKey) -> bool {
            self.keys.contains_key(key)
        }

        /// Keys remembered.
        pub fn len(&self) -> usize {
            self.keys.len()
        }

        /// Whether none are remembered.
        pub fn is_empty(&self) -> bool {
            self.keys.is_empty()
        }

        /// Forgets keys of events that ended before `before`.
        pub fn prune_before(&mut self, before: UnixSeconds) {
            let keep = self
                .by_time
                .split_off(&(before, EventKey::Uuid(uuid::Uuid::nil())));
            for (_, key) in core::mem::replace(&mut self.by_time, keep) {
                self.keys.remove(&key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::MessageId;
    use proptest::prelude::*;

    fn key(n: u128) -> EventKey {
        EventKey::Uuid(MessageId::from_u128(n))
    }

    #[test]
    fn window_forgets_oldest_first() {
        let mut w = DedupeWindow::<3>::new();
        for n in 0..3 {
            assert!(w.insert(key(n)));
        }
        assert!(!w.insert(key(0)));
        assert!(w.insert(key(3))); // evicts 0
        assert!(!w.contains(&key(0)));
        assert!(w.contains(&key(1)) && w.contains(&key(3)));
    }

    #[cfg(feature = "alloc")]
    #[test]
    fn set_prunes_by_time() {
        let mut s = KeySet::new();
        assert!(s.insert(key(1), 100));
        assert!(s.insert(key(2), 200));
        assert!(!s.insert(key(1), 300));
        s.prune_before(150);
        assert!(!s.contains(&key(1)));
        assert!(s.contains(&key(2)));
        assert_eq!(s.len(), 1);
    }

    proptest! {
        /// Within the window, the fixed window answers as an unbounded set does.
        #[test]
        fn window_matches_set_on_recent_keys(stream in proptest::collection::vec(0u128..20, 0..200)) {
            let mut w = DedupeWindow::<32>::new();
            let mut distinct: std::vec::Vec<u128> = std::vec::Vec::new();
            for n in stream {
                let new = w.insert(key(n));
                let seen_recently = distinct.iter().rev().take(32).any(|d| *d == n);
                prop_assert_eq!(new, !seen_recently);
                if new { distinct.push(n); }
            }
        }
    }
}
