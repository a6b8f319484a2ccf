//! What the fake holds: its app's credentials, the tokens it issued, its keys' endorsements, the
//! people who installed the app, conversations and their activities, and injected failures.

use serde_json::Value;
use std::collections::{BTreeMap, HashSet, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// A failure the next Bot Connector call answers with instead of doing its work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InjectedFailure {
    /// 429 with `Retry-After` in seconds.
    RateLimited { retry_after_secs: u64 },
    /// This HTTP status with a Bot Framework error body.
    Status(u16),
}

/// An activity in a fake conversation, as it is now.
#[derive(Debug, Clone, PartialEq)]
pub struct FakeActivity {
    pub id: String,
    pub conversation_id: String,
    /// The body the bot sent last (after updates).
    pub body: Value,
    /// The activity it replies to, for replies.
    pub reply_to: Option<String>,
    /// How many times it was updated.
    pub updates: u32,
    pub deleted: bool,
}

/// A conversation the fake knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeConversation {
    pub id: String,
    pub tenant_id: Option<String>,
    /// The person's id for a 1:1 chat created by the bot.
    pub member: Option<String>,
}

/// One Bot Connector or token call, as answered.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedCall {
    pub method: String,
    /// The path after the service URL (`v3/conversations/...`), percent-decoded per segment.
    pub path: String,
    pub status: u16,
    pub body: Value,
}

#[derive(Debug)]
pub(super) struct FakeState {
    /// `http://127.0.0.1:PORT/`.
    pub(super) base_url: String,
    pub(super) app_id: String,
    pub(super) app_secret: String,
    pub(super) token_lifetime_secs: u64,
    pub(super) issued_tokens: HashSet<String>,
    pub(super) tokens_issued: u64,
    pub(super) jwks_fetches: u64,
    pub(super) metadata_fetches: u64,
    pub(super) endorsements: Vec<String>,
    pub(super) rotated: bool,
    /// `user id -> tenant id` for people who installed the app.
    pub(super) installed: BTreeMap<String, String>,
    pub(super) conversations: BTreeMap<String, FakeConversation>,
    /// Teams accounts by user id (`29:…`), as `GET .../members/{id}` answers.
    pub(super) members: BTreeMap<String, Value>,
    /// Per conversation, in posting order.
    pub(super) activities: BTreeMap<String, Vec<FakeActivity>>,
    pub(super) injected: VecDeque<InjectedFailure>,
    pub(super) calls: Vec<RecordedCall>,
    next_id: u64,
}

impl FakeState {
    pub(super) fn new(base_url: &str, app_id: &str, app_secret: &str) -> FakeState {
        FakeState {
            base_url: base_url.to_owned(),
            app_id: app_id.to_owned(),
            app_secret: app_secret.to_owned(),
            token_lifetime_secs: 3599,
            issued_tokens: HashSet::new(),
            tokens_issued: 0,
            jwks_fetches: 0,
            metadata_fetches: 0,
            endorsements: vec!["msteams".to_owned()],
            rotated: false,
            installed: BTreeMap::new(),
            conversations: BTreeMap::new(),
            members: BTreeMap::new(),
            activities: BTreeMap::new(),
            injected: VecDeque::new(),
            calls: Vec::new(),
            next_id: 1_700_000_000_000,
        }
    }

    pub(super) fn next_id(&mut self) -> String {
        self.next_id += 1;
        self.next_id.to_string()
    }
}

#[derive(Debug)]
pub(super) struct Shared(Mutex<FakeState>);

impl Shared {
    pub(super) fn new(state: FakeState) -> Shared {
        Shared(Mutex::new(state))
    }

    /// A test that panicked while holding the lock must not hide later assertions behind a poison
    /// error, so poisoning is ignored.
    pub(super) fn lock(&self) -> MutexGuard<'_, FakeState> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
