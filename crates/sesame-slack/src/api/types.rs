//! What the client hands back, and the metadata it tags posts with.

use serde::{Deserialize, Serialize};

/// Where a message lives. Updates and thread replies need both parts, so the outbox stores them
/// together.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Posted {
    /// For a post to a user id, Slack answers with the id of the direct-message channel.
    pub channel: String,
    pub ts: String,
}

/// Slack message metadata: an invisible, machine-readable tag on a message. Sesame tags each post
/// with the request and purpose it is for, so that after a crash between posting and recording
/// the post, the worker can find the message instead of posting it twice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageMetadata {
    pub event_type: String,
    pub event_payload: serde_json::Value,
}

/// An open or published view, with the hash `views.update` needs to refuse a stale overwrite.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ViewHandle {
    pub id: String,
    #[serde(default)]
    pub hash: String,
}

/// Who the bot token belongs to, from `auth.test`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AuthIdentity {
    pub team_id: String,
    pub user_id: String,
    #[serde(default)]
    pub bot_id: Option<String>,
}

/// A Slack user as `users.info` and `users.lookupByEmail` describe them.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SlackUser {
    pub id: String,
    #[serde(default)]
    pub name: String,
    /// Deactivated accounts stay visible with `deleted: true`; they must not be asked to approve.
    #[serde(default)]
    pub deleted: bool,
    #[serde(default)]
    pub is_bot: bool,
    #[serde(default)]
    pub real_name: Option<String>,
    #[serde(default)]
    pub tz: Option<String>,
    #[serde(default)]
    pub profile: SlackProfile,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct SlackProfile {
    /// Present only when the token has the `users:read.email` scope (and the user has an email);
    /// without the scope Slack leaves the field out rather than failing the call.
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub real_name: Option<String>,
}

/// Which slice of a conversation's history to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryQuery<'a> {
    /// Only messages after this ts (exclusive), e.g. the time a job was first attempted.
    pub oldest: Option<&'a str>,
    /// Page size; Slack allows up to 999 and recommends no more than 200.
    pub limit: u16,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<&'a str>,
}

/// One page of `conversations.history`, newest message first.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryPage {
    pub messages: Vec<HistoryMessage>,
    /// `None` on the last page.
    pub next_cursor: Option<String>,
}

/// A message as `conversations.history` returns it (thread replies are not included).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct HistoryMessage {
    pub ts: String,
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub thread_ts: Option<String>,
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub bot_id: Option<String>,
    /// Only returned when asked for with `include_all_metadata`, which the client always does.
    #[serde(default)]
    pub metadata: Option<MessageMetadata>,
}
