//! What the fake Okta holds: users, groups and memberships, the API token it accepts, its rate
//! limit window, injected failures and the calls it answered.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

/// A user as Okta's Users API shows one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeUser {
    pub id: String,
    pub login: String,
    pub email: String,
}

/// A group as Okta's Groups API shows one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeGroup {
    pub id: String,
    pub name: String,
}

/// One call, as answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedCall {
    pub method: String,
    /// Path and query, as sent.
    pub uri: String,
    pub status: u16,
}

/// The rate limit: `limit` calls per `window`, counted from the first call of a window.
#[derive(Debug, Clone)]
pub(super) struct RateWindow {
    pub(super) limit: u64,
    pub(super) window: Duration,
    pub(super) used: u64,
    pub(super) resets_at: Option<SystemTime>,
}

impl RateWindow {
    /// Counts a call; returns (remaining, reset in epoch seconds, allowed).
    pub(super) fn take(&mut self, now: SystemTime) -> (u64, u64, bool) {
        let resets_at = match self.resets_at {
            Some(at) if at > now => at,
            _ => {
                self.used = 0;
                let at = now + self.window;
                self.resets_at = Some(at);
                at
            }
        };
        let allowed = self.used < self.limit;
        if allowed {
            self.used += 1;
        }
        // Okta reports the reset as whole epoch seconds, rounded up so it is never early.
        let reset = resets_at
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs() + u64::from(d.subsec_nanos() > 0))
            .unwrap_or_default();
        (self.limit - self.used, reset, allowed)
    }
}

#[derive(Debug)]
pub(super) struct FakeState {
    pub(super) base_url: String,
    pub(super) token: String,
    pub(super) users: BTreeMap<String, FakeUser>,
    pub(super) groups: BTreeMap<String, FakeGroup>,
    /// group id -> member user ids, in id order (the order pages follow).
    pub(super) members: BTreeMap<String, BTreeSet<String>>,
    pub(super) page_size: usize,
    pub(super) rate: RateWindow,
    /// Statuses the next calls answer with (after authentication and the rate limit).
    pub(super) injected: VecDeque<u16>,
    pub(super) calls: Vec<RecordedCall>,
    next_id: u64,
}

impl FakeState {
    pub(super) fn new(base_url: &str, token: &str) -> FakeState {
        FakeState {
            base_url: base_url.to_owned(),
            token: token.to_owned(),
            users: BTreeMap::new(),
            groups: BTreeMap::new(),
            members: BTreeMap::new(),
            page_size: 200,
            rate: RateWindow {
                limit: 600,
                window: Duration::from_secs(60),
                used: 0,
                resets_at: None,
            },
            injected: VecDeque::new(),
            calls: Vec::new(),
            next_id: 0,
        }
    }

    /// An id in Okta's shape: a three-character prefix (`00u` users, `00g` groups) and 17
    /// alphanumerics.
    pub(super) fn new_id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}{:0>17}", format!("fake{}", self.next_id))
    }

    /// A user by id or login (Okta's `GET /users/{idOrLogin}` accepts both).
    pub(super) fn user(&self, id_or_login: &str) -> Option<&FakeUser> {
        self.users.get(id_or_login).or_else(|| {
            self.users
                .values()
                .find(|u| u.login.eq_ignore_ascii_case(id_or_login))
        })
    }
}

pub(super) struct Shared(Mutex<FakeState>);

impl Shared {
    pub(super) fn new(state: FakeState) -> Shared {
        Shared(Mutex::new(state))
    }

    /// The state; a test that panicked while holding it leaves it usable.
    pub(super) fn lock(&self) -> MutexGuard<'_, FakeState> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
