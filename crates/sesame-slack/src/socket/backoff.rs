//! Capped exponential backoff with jitter, for reconnecting after failures.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::time::Duration;

#[derive(Debug, Clone)]
pub(super) struct Backoff {
    initial: Duration,
    max: Duration,
    attempt: u32,
}

impl Backoff {
    pub(super) fn new(initial: Duration, max: Duration) -> Backoff {
        Backoff {
            initial,
            max: max.max(initial),
            attempt: 0,
        }
    }

    /// The wait before the next attempt: `initial * 2^n`, capped at `max`, then drawn at random
    /// from its upper half so that several replicas cut off together do not return together.
    pub(super) fn next_delay(&mut self) -> Duration {
        let ceiling = self
            .initial
            .saturating_mul(1u32 << self.attempt.min(20))
            .min(self.max);
        self.attempt = self.attempt.saturating_add(1);
        let half = ceiling / 2;
        half + jitter(ceiling - half)
    }

    /// After a connection that stayed up: the next failure waits `initial` again.
    pub(super) fn reset(&mut self) {
        self.attempt = 0;
    }
}

/// A random duration in `[0, up_to]`. `RandomState` is seeded randomly per process and per
/// instance, which is plenty for spreading reconnects; no cryptographic quality is needed.
fn jitter(up_to: Duration) -> Duration {
    let nanos = u64::try_from(up_to.as_nanos()).unwrap_or(u64::MAX);
    if nanos == 0 {
        return Duration::ZERO;
    }
    let random = RandomState::new().hash_one(nanos);
    Duration::from_nanos(random % nanos.saturating_add(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_backoff_grows_to_its_cap_and_resets() {
        let initial = Duration::from_millis(100);
        let max = Duration::from_secs(2);
        let mut backoff = Backoff::new(initial, max);
        let mut ceilings = Vec::new();
        for attempt in 0..10u32 {
            let delay = backoff.next_delay();
            let ceiling = initial.saturating_mul(1 << attempt).min(max);
            assert!(delay >= ceiling / 2, "attempt {attempt}: {delay:?}");
            assert!(delay <= ceiling, "attempt {attempt}: {delay:?}");
            ceilings.push(ceiling);
        }
        assert_eq!(ceilings.last(), Some(&max));
        backoff.reset();
        assert!(backoff.next_delay() <= initial);
    }

    #[test]
    fn socket_backoff_survives_many_attempts_and_zero_durations() {
        let mut backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(60));
        for _ in 0..1000 {
            assert!(backoff.next_delay() <= Duration::from_secs(60));
        }
        let mut zero = Backoff::new(Duration::ZERO, Duration::ZERO);
        assert_eq!(zero.next_delay(), Duration::ZERO);
        // A cap below the first wait is raised to it rather than inverted.
        let mut odd = Backoff::new(Duration::from_secs(5), Duration::from_secs(1));
        assert!(odd.next_delay() <= Duration::from_secs(5));
    }
}
