//! What the fake remembers, as tests see it: copies, never live references into the fake's state.

use serde_json::Value;
use std::time::{Duration, SystemTime};

/// One call as the fake received and answered it, whether it succeeded or not.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedCall {
    pub method: String,
    /// The arguments as one JSON object, whatever the encoding: form fields that carry JSON
    /// (`blocks`, `view`, `metadata`, `attachments`) are decoded, and a `token` argument is left
    /// out.
    pub body: Value,
    /// When the call arrived, on the fake's clock.
    pub at: SystemTime,
    /// The HTTP status the fake answered with (429 for rate limits, 200 for `ok: false`).
    pub status: u16,
    /// The JSON the fake answered with.
    pub response: Value,
}

impl RecordedCall {
    /// Slack's error code, for an `ok: false` answer.
    pub fn error(&self) -> Option<&str> {
        self.response.get("error").and_then(Value::as_str)
    }
}

/// A message as it is now, after any `chat.update`.
#[derive(Debug, Clone, PartialEq)]
pub struct FakeMessage {
    pub channel: String,
    pub ts: String,
    pub text: String,
    pub blocks: Vec<Value>,
    /// The parent's ts, for a thread reply.
    pub thread_ts: Option<String>,
    /// The `metadata` argument as posted (`event_type`, `event_payload`).
    pub metadata: Option<Value>,
    /// How many times `chat.update` changed it.
    pub updates: u32,
}

/// A message only one user saw.
#[derive(Debug, Clone, PartialEq)]
pub struct FakeEphemeral {
    pub channel: String,
    pub user: String,
    pub message_ts: String,
    pub text: String,
    pub blocks: Vec<Value>,
    pub thread_ts: Option<String>,
}

/// A modal or a Home tab.
#[derive(Debug, Clone, PartialEq)]
pub struct FakeView {
    pub id: String,
    /// Changes with every update; `views.update` with an older hash fails with `hash_conflict`.
    pub hash: String,
    /// The view as last sent (`type`, `title`, `blocks`, `private_metadata`, ...).
    pub view: Value,
    /// For a Home tab, whose it is.
    pub home_of: Option<String>,
    /// How many times `views.update` or a later `views.publish` replaced it.
    pub updates: u32,
}

impl FakeView {
    pub fn kind(&self) -> &str {
        self.view.get("type").and_then(Value::as_str).unwrap_or("")
    }
}

/// A person (or bot) in the fake workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeUser {
    pub id: String,
    pub name: String,
    pub real_name: String,
    pub email: Option<String>,
    pub deleted: bool,
    pub is_bot: bool,
}

/// A failure the test asks the fake to give instead of (or besides) its normal answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InjectedFailure {
    /// HTTP 429 with `Retry-After: secs` and `{"ok":false,"error":"ratelimited"}`.
    RateLimited { retry_after_secs: u64 },
    /// HTTP 200 with `{"ok":false,"error":code}`, e.g. `internal_error` or `account_inactive`.
    SlackError(String),
    /// This HTTP status with a non-JSON body, as a load balancer in trouble would answer.
    HttpStatus(u16),
    /// The call takes effect, but the answer comes only after this long: a client with a shorter
    /// timeout sees a failure although the message was posted, which is the duplicate-post window
    /// the metadata tag exists to close.
    AnswerLate(Duration),
}
