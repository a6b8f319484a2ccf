//! The ports adapters implement, declared here so that adapters depend on the domain only. The
//! application calls them only from its outbox worker, never from a request handler, so a slow or
//! failing chat platform never slows down or fails a decision.

use crate::{Directory, Duty, Flow, Notice, Request, RequestNumber, UserId};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Why a delivery failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryError {
    /// Try again later (rate limited, platform down); `after` is the platform's own hint.
    Retry {
        after: Option<Duration>,
        reason: String,
    },
    /// The platform asked to wait (a rate limit, or Sesame pacing itself to one): not a failure,
    /// so it does not count towards giving up, however often it happens.
    Deferred { after: Duration, reason: String },
    /// Trying again will not help (a revoked token, a deleted channel).
    Permanent(String),
}

/// Tells people about requests: a chat adapter (Slack, Teams) or any other channel.
#[async_trait::async_trait]
pub trait Notifier: Send + Sync {
    /// A short name for logs and the dead-letter view.
    fn name(&self) -> &'static str;

    /// Delivers one notice about `request`, rendered from its current state.
    async fn deliver(
        &self,
        request: &Request,
        notice: &Notice,
        context: &DeliveryContext<'_>,
    ) -> Result<(), DeliveryError>;
}

/// Delivers to every person in turn, for notices addressed to several people (approvers,
/// fulfillers). Stops at the first failure worth retrying, so the whole notice is tried again
/// later; a permanent failure for one person (a deactivated account, a blocked bot) does not keep
/// the others from their message and is reported, for every person it hit, after they were
/// served.
pub async fn deliver_to_each<'p, F, Fut>(
    people: impl IntoIterator<Item = &'p UserId>,
    mut each: F,
) -> Result<(), DeliveryError>
where
    F: FnMut(&'p UserId) -> Fut,
    Fut: std::future::Future<Output = Result<(), DeliveryError>>,
{
    let mut refused: Vec<String> = Vec::new();
    for person in people {
        match each(person).await {
            Ok(()) => {}
            Err(later @ (DeliveryError::Retry { .. } | DeliveryError::Deferred { .. })) => {
                return Err(later)
            }
            Err(DeliveryError::Permanent(reason)) => refused.push(format!("{person}: {reason}")),
        }
    }
    if refused.is_empty() {
        Ok(())
    } else {
        Err(DeliveryError::Permanent(refused.join("; ")))
    }
}

/// What a delivery may read besides the request: the directory, the messages this notifier posted
/// before (so a repeated delivery edits its message instead of posting again), and people's
/// overviews (for a chat app's home tab, refreshed when a request it shows changes).
#[derive(Clone, Copy)]
pub struct DeliveryContext<'a> {
    pub directory: &'a Directory,
    pub log: &'a dyn MessageLog,
    pub overviews: &'a dyn Overviews,
    /// Which attempt this is (1 for the first). Attempts held back by a rate limit or pacing are
    /// not counted, so above 1 an earlier attempt got as far as calling the platform and its
    /// outcome may be unknown (a crash or a timeout before the post was recorded).
    pub attempt: u32,
}

/// What one person's overview shows: what they may request, their requests, and what waits for
/// them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overview {
    pub requestable: Vec<Flow>,
    /// Their requests (filed by or for them), newest first.
    pub requests: Vec<Request>,
    /// Requests waiting on them, with what they are asked to do.
    pub waiting: Vec<(Request, Duty)>,
}

/// Reads people's overviews, for adapters that hold no database handle.
#[async_trait::async_trait]
pub trait Overviews: Send + Sync {
    async fn overview(&self, user: &UserId) -> Result<Overview, DeliveryError>;
}

/// Where a chat platform put a message, so that it can be edited in place or replied to later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostedMessage {
    /// The notifier's name ("slack"); the application fills it in when recording.
    pub platform: String,
    pub channel: String,
    /// The platform's message id (Slack's `ts`).
    pub ts: String,
    /// A digest of what the message last showed ([`content_digest`]), so that an edit that would
    /// change nothing is not sent: every edit spends a rate-limited call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

/// A short digest of rendered content, for [`PostedMessage::digest`]. FNV-1a over the bytes: not
/// for security, only to tell "the same as last time" cheaply and stably across restarts.
pub fn content_digest(rendered: &[u8]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in rendered {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// The messages a notifier posted, one per (request, recipient, purpose). The application keeps it
/// in its database and hands each notifier a log scoped to that notifier's platform, so adapters
/// remember what they posted without holding a database handle.
///
/// `recipient` is the directory user id; `purpose` is the adapter's own key ("requester",
/// "approve:0", ...).
#[async_trait::async_trait]
pub trait MessageLog: Send + Sync {
    async fn find(
        &self,
        request: RequestNumber,
        recipient: &str,
        purpose: &str,
    ) -> Result<Option<PostedMessage>, DeliveryError>;

    /// Remembers a message, replacing what was recorded for the same key before.
    async fn record(
        &self,
        request: RequestNumber,
        recipient: &str,
        purpose: &str,
        message: &PostedMessage,
    ) -> Result<(), DeliveryError>;

    /// Remembers that an edited message now shows what `digest` describes.
    async fn record_edit(
        &self,
        request: RequestNumber,
        recipient: &str,
        purpose: &str,
        edited: PostedMessage,
        digest: String,
    ) -> Result<PostedMessage, DeliveryError> {
        let edited = PostedMessage {
            digest: Some(digest),
            ..edited
        };
        self.record(request, recipient, purpose, &edited).await?;
        Ok(edited)
    }
}

/// An embeddings model outside the process, the matcher's second retrieval path
/// ([`Matcher::rank_with_model`](crate::matcher::Matcher::rank_with_model)). Optional and off by
/// default: no text leaves the server without it.
#[async_trait::async_trait]
pub trait MatchModel: Send + Sync {
    /// The cosine similarity between `text` and each of `flows` (the flows the person may
    /// request), for every flow the model could judge.
    async fn similarities(
        &self,
        text: &str,
        flows: &[Flow],
    ) -> Result<Vec<(crate::FlowId, f64)>, String>;

    /// Embeds `flows` ahead of the first message (at start and when the catalog changes), so
    /// that a message waits for its own embedding only.
    async fn prepare(&self, flows: &[Flow]) -> Result<(), String>;
}

/// One piece of access in a target system: who gets it, and what, in the words of the flow's
/// `fulfillment` block (for example `group: "cn=vpn,ou=groups,dc=example,dc=com"`). The connector
/// reads the keys it knows and refuses the rest when the flows are loaded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    /// The request the access comes from, for the target system's logs and webhooks.
    pub request: RequestNumber,
    /// The person who gets the access, as the directory knows them.
    pub person: GrantPerson,
    /// The flow's connector settings (everything but `connector:` itself).
    pub target: std::collections::BTreeMap<String, String>,
}

/// The parts of a person a connector may use to find them in the target system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantPerson {
    pub id: UserId,
    pub email: String,
    pub display_name: String,
}

/// Whether the target system shows the access right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    Present,
    Absent,
}

/// What a grant or revoke achieved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectorOutcome {
    /// The target system now shows the access (grant) or no longer does (revoke).
    Done,
    /// The target system accepted the work and reports the outcome later (a webhook receiver with
    /// a callback); `reference` identifies the work in that report.
    Accepted { reference: String },
}

/// Why a connector operation failed, with the target system's own words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectorError {
    /// Worth trying again (the server is down, a rate limit, a timeout); `after` is the target
    /// system's own hint.
    #[error("{reason}")]
    Retry {
        after: Option<Duration>,
        reason: String,
    },
    /// Trying again will not help (the person or group does not exist there, access denied).
    #[error("{0}")]
    Permanent(String),
}

/// A provisioning connector: makes access real in a target system and removes it again. Every
/// operation is idempotent, so the worker can always check, then act, then record, and repeat any
/// step after a crash without granting or removing twice in effect.
#[async_trait::async_trait]
pub trait Connector: Send + Sync {
    /// The connector's kind (`ldap`, `scim`, `postgres`, `webhook`, `okta`), for logs.
    fn kind(&self) -> &'static str;

    /// Checks flow settings when flows are loaded, so that a typo fails `sesame check`, not a
    /// grant at three in the morning. Returns what is wrong, in words.
    fn validate_target(
        &self,
        target: &std::collections::BTreeMap<String, String>,
    ) -> Result<(), String>;

    /// Whether the access is in place now.
    async fn check(&self, grant: &Grant) -> Result<Presence, ConnectorError>;

    /// Adds the access; adding what is already there succeeds.
    async fn grant(&self, grant: &Grant) -> Result<ConnectorOutcome, ConnectorError>;

    /// Removes the access; removing what is not there succeeds.
    async fn revoke(&self, grant: &Grant) -> Result<ConnectorOutcome, ConnectorError>;
}
