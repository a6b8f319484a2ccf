//! A process-wide limiter for Slack Web API calls, so that Sesame slows itself down before Slack
//! has to.
//!
//! Slack counts calls per method, per workspace, per app, in tiers (Tier 2: 20+ a minute, Tier 3:
//! 50+, Tier 4: 100+), and `chat.postMessage` has its own rule: about one message a second in each
//! channel. Bursts above that are not guaranteed to be stored or shown, so this limiter allows no
//! burst per channel. When Slack answers 429 anyway, [`RateLimiter::note_retry_after`] blocks the
//! key for every caller until `Retry-After` has passed.
//!
//! The limiter never sleeps: [`RateLimiter::check`] answers "go" or "wait this long", and the outbox
//! reschedules the job. Time is passed in, so tests are deterministic.
//!
//! Each budget is a GCRA (generic cell rate algorithm) cell: one `Instant` per key, the
//! "theoretical arrival time" of the next call. It is equivalent to a token bucket without floating
//! point and with nothing to refill.

use crate::api::SlackMethod;
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Slack's rate-limit tiers, as its method documentation names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RateTier {
    Tier1,
    Tier2,
    Tier3,
    Tier4,
    /// `chat.postMessage`: about one message a second per channel, plus an undocumented
    /// workspace-wide limit that only Slack's 429 can tell us about.
    PostMessage,
}

/// How many calls a budget allows and how many of them may come at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// The time one call "costs": the budget's period divided by its number of calls.
    pub spacing: Duration,
    /// How many calls may go back to back before the spacing applies.
    pub burst: u32,
}

impl Budget {
    /// `calls` per minute, a quarter of which may come at once. Slack documents each tier as a
    /// floor ("20+ per minute") and tolerates "occasional bursts"; a quarter-minute's worth keeps a
    /// fan-out (ten approvers at once) fast without leaning on that tolerance.
    pub const fn per_minute(calls: u32) -> Budget {
        let calls = if calls == 0 { 1 } else { calls };
        let burst = if calls / 4 == 0 { 1 } else { calls / 4 };
        Budget {
            spacing: Duration::from_millis(60_000 / calls as u64),
            burst,
        }
    }

    /// Exactly one call per `spacing`, with no burst.
    pub const fn one_per(spacing: Duration) -> Budget {
        Budget { spacing, burst: 1 }
    }
}

impl RateTier {
    /// The budget Sesame allows itself for one method of this tier, across all channels. `None`
    /// for `chat.postMessage`, whose only documented limit is per channel.
    pub const fn method_budget(self) -> Option<Budget> {
        match self {
            RateTier::Tier1 => Some(Budget::per_minute(1)),
            RateTier::Tier2 => Some(Budget::per_minute(20)),
            RateTier::Tier3 => Some(Budget::per_minute(50)),
            RateTier::Tier4 => Some(Budget::per_minute(100)),
            RateTier::PostMessage => None,
        }
    }

    /// The budget per channel, for the methods Slack limits per channel.
    pub const fn channel_budget(self) -> Option<Budget> {
        match self {
            RateTier::PostMessage => Some(Budget::one_per(Duration::from_secs(1))),
            _ => None,
        }
    }
}

/// What one budget or block applies to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct LimitKey {
    method: SlackMethod,
    /// `None` for limits on the whole method.
    channel: Option<String>,
}

impl LimitKey {
    fn method(method: SlackMethod) -> LimitKey {
        LimitKey {
            method,
            channel: None,
        }
    }

    fn channel(method: SlackMethod, channel: &str) -> LimitKey {
        LimitKey {
            method,
            channel: Some(channel.to_owned()),
        }
    }
}

/// Below this many entries the maps are never pruned; above it, entries that no longer limit
/// anything are dropped, so channels seen once do not stay in memory forever.
const PRUNE_THRESHOLD: usize = 1024;

#[derive(Debug, Default)]
struct LimiterState {
    /// The theoretical arrival time of the next call per budget; a key whose time has passed is
    /// the same as an absent one.
    next_call_at: HashMap<LimitKey, Instant>,
    /// Keys Slack told us to leave alone (429 + `Retry-After`), until when.
    blocked_until: HashMap<LimitKey, Instant>,
    prune_above: usize,
}

/// One per process, shared (in an `Arc`) by everything that calls Slack with the same token. With
/// several replicas each has its own; the database decides which worker owns a conversation.
#[derive(Debug, Default)]
pub struct RateLimiter {
    state: Mutex<LimiterState>,
}

impl RateLimiter {
    pub fn new() -> RateLimiter {
        RateLimiter::default()
    }

    /// Takes a slot for one call of `method` (to `channel`, for methods limited per channel) at
    /// `now`, or says how long to wait. A refused call uses nothing up, so asking again later is
    /// always safe.
    pub fn check(
        &self,
        method: SlackMethod,
        channel: Option<&str>,
        now: Instant,
    ) -> Result<(), Duration> {
        let tier = method.rate_tier();
        let budgets = [
            tier.method_budget().map(|b| (LimitKey::method(method), b)),
            tier.channel_budget()
                .zip(channel)
                .map(|(b, ch)| (LimitKey::channel(method, ch), b)),
        ];
        let mut state = self.lock();
        state.prune_if_large(now);

        let mut wait = state.blocked_wait(method, channel, now);
        let mut admitted = Vec::with_capacity(2);
        for (key, budget) in budgets.into_iter().flatten() {
            let arrival = state.next_call_at.get(&key).copied();
            match admit(arrival, budget, now) {
                Ok(next) => admitted.push((key, next)),
                Err(budget_wait) => wait = wait.max(budget_wait),
            }
        }
        if !wait.is_zero() {
            return Err(wait);
        }
        // Only now, with every budget agreeing, is the call counted against them.
        state.next_call_at.extend(admitted);
        Ok(())
    }

    /// Blocks calls until `until` after Slack answered 429. For methods Slack limits per channel
    /// the block covers that channel; otherwise the whole method, since tier limits are counted
    /// per method.
    pub fn note_retry_after(&self, method: SlackMethod, channel: Option<&str>, until: Instant) {
        let key = match channel {
            Some(ch) if method.rate_tier().channel_budget().is_some() => {
                LimitKey::channel(method, ch)
            }
            _ => LimitKey::method(method),
        };
        let mut state = self.lock();
        let entry = state.blocked_until.entry(key).or_insert(until);
        *entry = (*entry).max(until);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LimiterState> {
        // The state is a set of independent timestamps, valid after any panic elsewhere.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl LimiterState {
    fn blocked_wait(&self, method: SlackMethod, channel: Option<&str>, now: Instant) -> Duration {
        let whole_method = self.blocked_until.get(&LimitKey::method(method));
        let this_channel =
            channel.and_then(|ch| self.blocked_until.get(&LimitKey::channel(method, ch)));
        [whole_method, this_channel]
            .into_iter()
            .flatten()
            .map(|until| until.saturating_duration_since(now))
            .max()
            .unwrap_or(Duration::ZERO)
    }

    fn prune_if_large(&mut self, now: Instant) {
        let size = self.next_call_at.len() + self.blocked_until.len();
        if size <= self.prune_above.max(PRUNE_THRESHOLD) {
            return;
        }
        self.next_call_at.retain(|_, at| *at > now);
        self.blocked_until.retain(|_, until| *until > now);
        // If most entries are still live, pruning again on the next call would be wasted work.
        self.prune_above = 2 * (self.next_call_at.len() + self.blocked_until.len());
    }
}

/// The GCRA decision: given when the next call was due, admit a call at `now` (returning the new
/// due time) or say how long until it would be admitted.
fn admit(next_call_at: Option<Instant>, budget: Budget, now: Instant) -> Result<Instant, Duration> {
    let due = next_call_at.map_or(now, |at| at.max(now));
    let tolerance = budget
        .spacing
        .saturating_mul(budget.burst.saturating_sub(1));
    let ahead = due.saturating_duration_since(now);
    if ahead > tolerance {
        return Err(ahead - tolerance);
    }
    // An `Instant` that cannot move forward by a second is not one a real clock hands out; refuse
    // rather than panic.
    due.checked_add(budget.spacing).ok_or(budget.spacing)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    #[test]
    fn post_message_allows_one_message_per_second_per_channel() {
        let limiter = RateLimiter::new();
        let start = Instant::now();
        let post = SlackMethod::ChatPostMessage;

        assert_eq!(limiter.check(post, Some("C1"), start), Ok(()));
        assert_eq!(limiter.check(post, Some("C1"), start), Err(SECOND));
        let later = start + Duration::from_millis(400);
        assert_eq!(
            limiter.check(post, Some("C1"), later),
            Err(Duration::from_millis(600))
        );
        assert_eq!(limiter.check(post, Some("C1"), start + SECOND), Ok(()));
    }

    #[test]
    fn channels_do_not_share_the_post_message_limit() {
        let limiter = RateLimiter::new();
        let start = Instant::now();
        let post = SlackMethod::ChatPostMessage;

        assert_eq!(limiter.check(post, Some("C1"), start), Ok(()));
        assert_eq!(limiter.check(post, Some("C2"), start), Ok(()));
        assert_eq!(limiter.check(post, Some("D3"), start), Ok(()));
        assert!(limiter.check(post, Some("C1"), start).is_err());
    }

    #[test]
    fn a_refused_call_does_not_use_up_the_budget() {
        let limiter = RateLimiter::new();
        let start = Instant::now();
        let post = SlackMethod::ChatPostMessage;

        assert_eq!(limiter.check(post, Some("C1"), start), Ok(()));
        for _ in 0..10 {
            assert!(limiter.check(post, Some("C1"), start).is_err());
        }
        assert_eq!(limiter.check(post, Some("C1"), start + SECOND), Ok(()));
    }

    #[test]
    fn tier_three_allows_a_burst_then_spaces_calls_across_every_channel() {
        let limiter = RateLimiter::new();
        let start = Instant::now();
        let update = SlackMethod::ChatUpdate;
        assert_eq!(update.rate_tier(), RateTier::Tier3);
        let budget = Budget::per_minute(50);
        assert_eq!(budget.spacing, Duration::from_millis(1200));
        assert_eq!(budget.burst, 12);

        for n in 0..12 {
            let channel = format!("C{n}");
            assert_eq!(
                limiter.check(update, Some(&channel), start),
                Ok(()),
                "call {n}"
            );
        }
        assert_eq!(
            limiter.check(update, Some("C99"), start),
            Err(budget.spacing)
        );
        assert_eq!(limiter.check(update, None, start + budget.spacing), Ok(()));
        assert!(limiter.check(update, None, start + budget.spacing).is_err());
    }

    #[test]
    fn a_full_minute_stays_within_the_tier_budget_plus_its_burst() {
        let limiter = RateLimiter::new();
        let start = Instant::now();
        let method = SlackMethod::UsersInfo;
        assert_eq!(method.rate_tier(), RateTier::Tier4);

        let admitted = (0..600)
            .map(|tenth| start + Duration::from_millis(100 * tenth))
            .filter(|at| limiter.check(method, None, *at).is_ok())
            .count();
        // 100 a minute plus the 25 that may come at once.
        assert!((100..=125).contains(&admitted), "admitted {admitted}");
    }

    #[test]
    fn methods_have_separate_budgets() {
        let limiter = RateLimiter::new();
        let start = Instant::now();
        for _ in 0..Budget::per_minute(50).burst {
            assert!(limiter
                .check(SlackMethod::ConversationsOpen, None, start)
                .is_ok());
        }
        assert!(limiter
            .check(SlackMethod::ConversationsOpen, None, start)
            .is_err());
        assert_eq!(limiter.check(SlackMethod::ChatUpdate, None, start), Ok(()));
    }

    #[test]
    fn retry_after_on_a_channel_blocks_only_that_channel_for_post_message() {
        let limiter = RateLimiter::new();
        let start = Instant::now();
        let post = SlackMethod::ChatPostMessage;
        limiter.note_retry_after(post, Some("C1"), start + 30 * SECOND);

        assert_eq!(limiter.check(post, Some("C1"), start), Err(30 * SECOND));
        assert_eq!(
            limiter.check(post, Some("C1"), start + 29 * SECOND),
            Err(SECOND)
        );
        assert_eq!(limiter.check(post, Some("C2"), start), Ok(()));
        assert_eq!(limiter.check(post, Some("C1"), start + 30 * SECOND), Ok(()));
    }

    #[test]
    fn retry_after_on_a_tier_method_blocks_the_whole_method() {
        let limiter = RateLimiter::new();
        let start = Instant::now();
        let update = SlackMethod::ChatUpdate;
        limiter.note_retry_after(update, Some("C1"), start + 5 * SECOND);

        assert_eq!(limiter.check(update, Some("C2"), start), Err(5 * SECOND));
        assert_eq!(limiter.check(update, None, start), Err(5 * SECOND));
        assert_eq!(
            limiter.check(SlackMethod::ViewsOpen, None, start),
            Ok(()),
            "other methods are not affected"
        );
        assert_eq!(
            limiter.check(update, Some("C2"), start + 5 * SECOND),
            Ok(())
        );
    }

    #[test]
    fn a_shorter_retry_after_does_not_shorten_an_earlier_block() {
        let limiter = RateLimiter::new();
        let start = Instant::now();
        let method = SlackMethod::ViewsPublish;
        limiter.note_retry_after(method, None, start + 10 * SECOND);
        limiter.note_retry_after(method, None, start + 2 * SECOND);

        assert_eq!(
            limiter.check(method, None, start + 5 * SECOND),
            Err(5 * SECOND)
        );
    }

    #[test]
    fn the_longer_of_a_block_and_a_budget_wait_is_reported() {
        let limiter = RateLimiter::new();
        let start = Instant::now();
        let post = SlackMethod::ChatPostMessage;
        assert_eq!(limiter.check(post, Some("C1"), start), Ok(()));
        limiter.note_retry_after(post, Some("C1"), start + Duration::from_millis(300));

        assert_eq!(limiter.check(post, Some("C1"), start), Err(SECOND));
    }

    #[test]
    fn idle_entries_are_pruned_once_the_maps_grow() {
        let limiter = RateLimiter::new();
        let start = Instant::now();
        let post = SlackMethod::ChatPostMessage;
        for n in 0..=PRUNE_THRESHOLD {
            assert!(limiter.check(post, Some(&format!("C{n}")), start).is_ok());
        }
        assert!(limiter.lock().next_call_at.len() > PRUNE_THRESHOLD);

        assert!(limiter.check(post, Some("Cnew"), start + SECOND).is_ok());
        assert_eq!(limiter.lock().next_call_at.len(), 1);
        // Pruning forgot nothing that still limits: "Cnew" is still spaced.
        assert!(limiter.check(post, Some("Cnew"), start + SECOND).is_err());
    }

    #[test]
    fn a_zero_per_minute_budget_is_treated_as_one() {
        let budget = Budget::per_minute(0);
        assert_eq!(budget.spacing, Duration::from_secs(60));
        assert_eq!(budget.burst, 1);
    }
}
