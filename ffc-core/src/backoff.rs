//! The one retry backoff of the family: exponential, full jitter, capped.
//!
//! Every retry loop in ffc (device client, server client, WebSocket sender, MQTT reconnects,
//! the PostgreSQL sink waiting for its database) takes a [`RetryPolicy`] and draws its waits
//! from a [`Backoff`]. Sans-IO like the rest of the core: it computes waits, the caller
//! sleeps. "Full jitter" means each wait is drawn uniformly from `0..=ceiling`, where the
//! ceiling doubles from [`RetryPolicy::initial`] up to [`RetryPolicy::cap`]; many clients that
//! failed together (a server restart) then come back spread out instead of in lock step.
//!
//! ```
//! use core::time::Duration;
//! use ffc_core::backoff::RetryPolicy;
//!
//! let policy = RetryPolicy::default()
//!     .with_initial(Duration::from_millis(100))
//!     .with_cap(Duration::from_secs(2))
//!     .with_max_attempts(Some(3));
//! let mut backoff = policy.backoff_seeded(7);
//! // Attempt 1 failed: wait at most 100 ms. Attempt 2 failed: at most 200 ms.
//! assert!(backoff.next_delay().unwrap() <= Duration::from_millis(100));
//! assert!(backoff.next_delay().unwrap() <= Duration::from_millis(200));
//! // Attempt 3 was the last one allowed.
//! assert_eq!(backoff.next_delay(), None);
//! ```

use core::time::Duration;

use crate::rng::SplitMix64;

/// How often and how patiently to retry something that failed for a reason that may pass.
///
/// Built with `Default` and the `with_*` setters, like every configuration in ffc.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// The ceiling of the first wait (default 200 ms); it doubles after each failure.
    pub initial: Duration,
    /// The largest ceiling a wait can have (default 5 s).
    pub cap: Duration,
    /// How many attempts in all, the first included (default `Some(4)`); `None` retries for
    /// as long as the caller keeps asking (reconnect loops).
    pub max_attempts: Option<u32>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy::new()
    }
}

impl RetryPolicy {
    /// The default policy: 200 ms doubling up to 5 s, 4 attempts.
    pub const fn new() -> Self {
        RetryPolicy {
            initial: Duration::from_millis(200),
            cap: Duration::from_secs(5),
            max_attempts: Some(4),
        }
    }

    /// A policy that never gives up: for reconnect loops that run until shutdown.
    pub const fn forever(initial: Duration, cap: Duration) -> Self {
        RetryPolicy {
            initial,
            cap,
            max_attempts: None,
        }
    }

    /// Sets the ceiling of the first wait.
    pub const fn with_initial(mut self, initial: Duration) -> Self {
        self.initial = initial;
        self
    }

    /// Sets the largest ceiling a wait can have.
    pub const fn with_cap(mut self, cap: Duration) -> Self {
        self.cap = cap;
        self
    }

    /// Sets how many attempts in all (`None`: no limit). `Some(0)` is taken as `Some(1)`:
    /// the first attempt always happens.
    pub const fn with_max_attempts(mut self, max_attempts: Option<u32>) -> Self {
        self.max_attempts = max_attempts;
        self
    }

    /// How many attempts in all, at least 1 (`None`: no limit).
    pub const fn attempts(&self) -> Option<u32> {
        match self.max_attempts {
            Some(0) => Some(1),
            other => other,
        }
    }

    /// A backoff whose jitter comes from `seed` (tests and firmware, where the sequence must
    /// be repeatable).
    pub const fn backoff_seeded(&self, seed: u64) -> Backoff {
        Backoff {
            policy: *self,
            failures: 0,
            rng: SplitMix64::new(seed),
        }
    }

    /// A backoff seeded from the process's random hasher keys, so two clients started at
    /// once do not draw the same waits.
    #[cfg(feature = "std")]
    pub fn backoff(&self) -> Backoff {
        use core::hash::{BuildHasher, Hasher};
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u64(0x9e37_79b9_7f4a_7c15);
        self.backoff_seeded(hasher.finish())
    }
}

/// The state of one retry loop: how many attempts failed so far, and the jitter source.
///
/// Call [`Backoff::next_delay`] after each failed attempt; sleep for what it returns, or give
/// up on `None`. Call [`Backoff::reset`] after a success in a long-lived loop (a reconnect
/// that held), so the next outage starts again from the shortest wait.
#[derive(Debug, Clone)]
pub struct Backoff {
    policy: RetryPolicy,
    failures: u32,
    rng: SplitMix64,
}

impl Backoff {
    /// Records a failed attempt and returns how long to wait before the next one, or `None`
    /// when the policy allows no more attempts.
    pub fn next_delay(&mut self) -> Option<Duration> {
        self.failures = self.failures.saturating_add(1);
        if let Some(max) = self.policy.attempts() {
            if self.failures >= max {
                return None;
            }
        }
        let ceiling = self.ceiling_after(self.failures);
        Some(self.jitter(ceiling))
    }

    /// Forgets the failures so far: the next wait starts again from the initial ceiling.
    pub fn reset(&mut self) {
        self.failures = 0;
    }

    /// How many attempts have failed since the start or the last reset.
    pub const fn failures(&self) -> u32 {
        self.failures
    }

    /// The policy this backoff follows.
    pub const fn policy(&self) -> &RetryPolicy {
        &self.policy
    }

    /// The ceiling of the wait after the `failures`-th failure: `initial · 2^(failures-1)`,
    /// at most the cap.
    fn ceiling_after(&self, failures: u32) -> Duration {
        let cap = self.policy.cap.max(self.policy.initial);
        let shift = failures.saturating_sub(1).min(31);
        self.policy
            .initial
            .checked_mul(1u32 << shift)
            .map_or(cap, |d| d.min(cap))
    }

    /// A wait drawn uniformly from `0..=ceiling`, at nanosecond resolution.
    fn jitter(&mut self, ceiling: Duration) -> Duration {
        let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(self.rng.below(nanos.saturating_add(1)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ceilings_double_then_cap() {
        let policy = RetryPolicy::forever(Duration::from_millis(100), Duration::from_millis(700));
        let b = policy.backoff_seeded(1);
        let ceilings: Vec<_> = (1..=6).map(|n| b.ceiling_after(n).as_millis()).collect();
        assert_eq!(ceilings, [100, 200, 400, 700, 700, 700]);
    }

    #[test]
    fn attempts_are_counted_with_the_first_one() {
        let mut b = RetryPolicy::default()
            .with_max_attempts(Some(3))
            .backoff_seeded(9);
        assert!(b.next_delay().is_some());
        assert!(b.next_delay().is_some());
        assert_eq!(b.next_delay(), None);
        assert_eq!(b.failures(), 3);
        b.reset();
        assert!(b.next_delay().is_some());
    }

    #[test]
    fn zero_attempts_means_one_try() {
        let mut b = RetryPolicy::default()
            .with_max_attempts(Some(0))
            .backoff_seeded(0);
        assert_eq!(b.next_delay(), None);
    }

    #[test]
    fn jitter_spreads_waits() {
        let policy = RetryPolicy::forever(Duration::from_secs(1), Duration::from_secs(1));
        let mut b = policy.backoff_seeded(42);
        let waits: Vec<_> = (0..64).map(|_| b.next_delay().unwrap()).collect();
        let distinct: std::collections::BTreeSet<_> = waits.iter().collect();
        assert!(distinct.len() > 60, "full jitter draws distinct waits");
        assert!(waits.iter().any(|w| *w < Duration::from_millis(500)));
        assert!(waits.iter().any(|w| *w > Duration::from_millis(500)));
    }

    #[test]
    fn huge_policies_do_not_overflow() {
        let policy = RetryPolicy::forever(Duration::MAX, Duration::MAX);
        let mut b = policy.backoff_seeded(3);
        for _ in 0..100 {
            assert!(b.next_delay().is_some());
        }
    }

    proptest! {
        #[test]
        fn every_wait_is_within_its_ceiling(
            initial_ms in 0u64..10_000,
            cap_ms in 0u64..100_000,
            seed: u64,
            tries in 1usize..80,
        ) {
            let policy = RetryPolicy::forever(
                Duration::from_millis(initial_ms),
                Duration::from_millis(cap_ms),
            );
            let mut b = policy.backoff_seeded(seed);
            for n in 1..=tries {
                let wait = b.next_delay().unwrap();
                let ceiling = b.ceiling_after(u32::try_from(n).unwrap());
                prop_assert!(wait <= ceiling);
                prop_assert!(ceiling <= Duration::from_millis(cap_ms.max(initial_ms)));
            }
        }
    }
}
