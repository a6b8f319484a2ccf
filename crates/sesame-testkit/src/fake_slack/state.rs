//! The fake workspace: its people, channels, messages and views, its clock, and what tests asked
//! it to do wrong.

use super::model::{FakeEphemeral, FakeMessage, FakeUser, FakeView, InjectedFailure, RecordedCall};
use super::socket::hub::SocketHub;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Slack's documented lifetime of a trigger id.
pub(super) const TRIGGER_LIFETIME: Duration = Duration::from_secs(3);

#[derive(Debug, Clone, Default)]
pub(super) struct Channel {
    pub(super) archived: bool,
    pub(super) bot_is_member: bool,
}

#[derive(Debug, Clone)]
pub(super) struct Trigger {
    pub(super) issued_at: Instant,
    pub(super) used: bool,
}

#[derive(Debug)]
pub(super) struct FakeState {
    pub(super) bot_token: String,
    /// Added to the real clock; tests move it forward to expire trigger ids or pass rate windows.
    pub(super) clock_offset: Duration,
    pub(super) trigger_lifetime: Duration,
    pub(super) channels: HashMap<String, Channel>,
    pub(super) users: BTreeMap<String, FakeUser>,
    /// False as if the app lacked the `users:read.email` scope.
    pub(super) emails_visible: bool,
    /// Per channel, in posting order (which is ts order), thread replies included.
    pub(super) messages: HashMap<String, Vec<FakeMessage>>,
    pub(super) ephemerals: Vec<FakeEphemeral>,
    pub(super) views: BTreeMap<String, FakeView>,
    pub(super) triggers: HashMap<String, Trigger>,
    pub(super) calls: Vec<RecordedCall>,
    pub(super) injected: HashMap<String, VecDeque<InjectedFailure>>,
    /// Whether `chat.postMessage` enforces Slack's one message per second per channel.
    pub(super) post_rate_enforced: bool,
    pub(super) last_post_at: HashMap<String, Instant>,
    /// Socket Mode: the app-level token, tickets, connections, envelopes and acknowledgements.
    pub(super) socket: SocketHub,
    last_ts_micros: u64,
    last_id: u64,
}

impl FakeState {
    pub(super) fn new(bot_token: &str) -> FakeState {
        FakeState {
            bot_token: bot_token.to_owned(),
            clock_offset: Duration::ZERO,
            trigger_lifetime: TRIGGER_LIFETIME,
            channels: HashMap::new(),
            users: BTreeMap::new(),
            emails_visible: true,
            messages: HashMap::new(),
            ephemerals: Vec::new(),
            views: BTreeMap::new(),
            triggers: HashMap::new(),
            calls: Vec::new(),
            injected: HashMap::new(),
            post_rate_enforced: false,
            last_post_at: HashMap::new(),
            socket: SocketHub::default(),
            last_ts_micros: 0,
            last_id: 0,
        }
    }

    /// The fake's monotonic clock.
    pub(super) fn now(&self) -> Instant {
        let real = Instant::now();
        real.checked_add(self.clock_offset).unwrap_or(real)
    }

    /// The fake's wall clock, moved by the same offset.
    pub(super) fn wall_now(&self) -> SystemTime {
        let real = SystemTime::now();
        real.checked_add(self.clock_offset).unwrap_or(real)
    }

    /// A new message ts: the wall clock in Slack's "seconds.microseconds" form, strictly greater
    /// than every ts before it, so two posts in the same microsecond still differ and sort.
    pub(super) fn next_ts(&mut self) -> String {
        let wall = self
            .wall_now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_micros();
        let wall = u64::try_from(wall).unwrap_or(u64::MAX / 2);
        self.last_ts_micros = wall.max(self.last_ts_micros + 1);
        format!(
            "{}.{:06}",
            self.last_ts_micros / 1_000_000,
            self.last_ts_micros % 1_000_000
        )
    }

    /// A new Slack-looking id with this prefix ("V" for views).
    pub(super) fn next_id(&mut self, prefix: char) -> String {
        self.last_id += 1;
        format!("{prefix}{:010}", self.last_id)
    }

    /// A trigger id shaped like Slack's ("<n>.<team>.<hex>"), valid from now.
    pub(super) fn issue_trigger(&mut self) -> String {
        self.last_id += 1;
        let scrambled = self.last_id.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let trigger = format!(
            "{}.4242424242.{scrambled:016x}{:016x}",
            self.last_id, !scrambled
        );
        let issued_at = self.now();
        self.triggers.insert(
            trigger.clone(),
            Trigger {
                issued_at,
                used: false,
            },
        );
        trigger
    }

    pub(super) fn take_injected(&mut self, method: &str) -> Option<InjectedFailure> {
        let queue = self.injected.get_mut(method)?;
        let failure = queue.pop_front();
        if queue.is_empty() {
            self.injected.remove(method);
        }
        failure
    }

    /// The DM channel with a user, created (as Slack does) the first time it is needed. The id
    /// is stable, "D" + the user id, so tests can predict it.
    pub(super) fn dm_channel(&mut self, user: &str) -> String {
        let id = format!("D{user}");
        self.channels.entry(id.clone()).or_insert(Channel {
            archived: false,
            bot_is_member: true,
        });
        id
    }

    pub(super) fn message_mut(&mut self, channel: &str, ts: &str) -> Option<&mut FakeMessage> {
        self.messages
            .get_mut(channel)?
            .iter_mut()
            .find(|message| message.ts == ts)
    }

    pub(super) fn message(&self, channel: &str, ts: &str) -> Option<&FakeMessage> {
        self.messages
            .get(channel)?
            .iter()
            .find(|message| message.ts == ts)
    }

    /// Forgets what happened (calls, messages, views, triggers, injected failures), keeping the
    /// workspace (people, channels, token, settings).
    pub(super) fn clear(&mut self) {
        self.messages.clear();
        self.ephemerals.clear();
        self.views.clear();
        self.triggers.clear();
        self.calls.clear();
        self.injected.clear();
        self.last_post_at.clear();
        self.socket.clear_records();
    }
}

/// The state behind a lock shared by the server task and the test.
#[derive(Debug)]
pub(super) struct Shared {
    state: Mutex<FakeState>,
}

impl Shared {
    pub(super) fn new(state: FakeState) -> Shared {
        Shared {
            state: Mutex::new(state),
        }
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, FakeState> {
        // A test that panicked while holding the lock leaves consistent data behind: every
        // mutation here completes before the guard drops.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
