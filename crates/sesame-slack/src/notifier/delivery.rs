//! One notice's delivery: rendering with what is known of people, and the three ways a message
//! reaches Slack: shown (edited in place when this notifier posted it before, else posted and
//! recorded), refreshed (edited only if it exists), and replied once (a thread reply per key).

use super::SlackNotifier;
use crate::api::{ApiError, HistoryMessage, MessageMetadata};
use crate::render::{Message, Person, RenderContext};
use serde_json::{json, Value};
use sesame_core::directory::Directory;
use sesame_core::flow::Flow;
use sesame_core::ids::UserId;
use sesame_core::ports::{content_digest, DeliveryError, MessageLog, PostedMessage};
use sesame_core::request::Request;

/// The message log's recipient for posts to the administrators' channel.
const ADMINS: &str = "admins";

/// The `event_type` of Sesame's message metadata.
pub const EVENT_TYPE: &str = "sesame_request";
/// How far before the request's creation the duplicate check looks, for clocks that disagree.
const CLOCK_SLACK_SECS: i64 = 3600;
/// `conversations.history` pages read by the duplicate check: a DM with the bot is quiet, and the
/// check only reads messages newer than the request.
const HISTORY_PAGES: usize = 2;

pub(super) struct Delivery<'a> {
    pub(super) notifier: &'a SlackNotifier,
    pub(super) request: &'a Request,
    pub(super) directory: &'a Directory,
    pub(super) log: &'a dyn MessageLog,
    pub(super) flow: Option<Flow>,
    /// Whether an earlier attempt of this delivery may have posted without recording it (it
    /// crashed or timed out): only then is the conversation's history read for a lost post.
    pub(super) earlier_attempt_unknown: bool,
}

/// What a message shows, for [`PostedMessage::digest`].
fn digest(message: &Message) -> String {
    let blocks = serde_json::to_vec(&message.blocks).unwrap_or_default();
    let mut rendered = message.text.as_bytes().to_vec();
    rendered.push(0);
    rendered.extend_from_slice(&blocks);
    content_digest(&rendered)
}

fn metadata(request: &Request, purpose: &str) -> MessageMetadata {
    MessageMetadata {
        event_type: String::from(EVENT_TYPE),
        event_payload: json!({ "request": request.number.0, "purpose": purpose }),
    }
}

impl Delivery<'_> {
    pub(super) fn flow(&self) -> Option<&Flow> {
        self.flow.as_ref()
    }

    /// Renders with people as far as they are known without calling Slack.
    pub(super) fn render(&self, render: impl FnOnce(&RenderContext<'_>) -> Message) -> Message {
        self.render_view(render)
    }

    /// Renders anything (a message, a view) with people as far as they are known.
    pub(super) fn render_view<T>(&self, render: impl FnOnce(&RenderContext<'_>) -> T) -> T {
        let identities = &self.notifier.identities;
        let people =
            |id: &UserId| Person::from_directory(self.directory, id, |user| identities.known(user));
        let ctx = RenderContext {
            people: &people,
            portal_base_url: &self.notifier.portal_base_url,
        };
        render(&ctx)
    }

    /// The person's Slack id, or `None` (logged) when they cannot be reached on Slack.
    async fn slack_id(&self, user: &UserId) -> Result<Option<String>, DeliveryError> {
        let Some(entry) = self.directory.user(user) else {
            tracing::info!(user = %user, "not in the directory; no Slack message");
            return Ok(None);
        };
        let found = self
            .notifier
            .identities
            .resolve(&self.notifier.api, entry)
            .await?;
        if found.is_none() {
            tracing::info!(user = %user, request = self.request.number.0, "no Slack account; skipped");
        }
        Ok(found)
    }

    pub(super) async fn recorded(
        &self,
        user: &UserId,
        purpose: &str,
    ) -> Result<Option<PostedMessage>, DeliveryError> {
        self.log
            .find(self.request.number, user.as_str(), purpose)
            .await
    }

    /// Shows `user` the message for `purpose`: edits the one posted before, or posts and records it.
    /// `None` when the person is not on Slack.
    pub(super) async fn show(
        &self,
        user: &UserId,
        purpose: &str,
        render: impl FnOnce(&RenderContext<'_>) -> Message,
    ) -> Result<Option<PostedMessage>, DeliveryError> {
        let Some(slack_id) = self.slack_id(user).await? else {
            return Ok(None);
        };
        let message = self.render(render);
        if let Some(posted) = self.recorded(user, purpose).await? {
            if let Some(kept) = self.update(user, purpose, posted, &message).await? {
                return Ok(Some(kept));
            }
        }
        let posted = self.post_once(&slack_id, purpose, &message).await?;
        self.log
            .record(self.request.number, user.as_str(), purpose, &posted)
            .await?;
        Ok(Some(posted))
    }

    /// Posts a problem to the administrators' channel, once per change of the request that raised
    /// it (the log keeps what was posted, under the recipient `admins`).
    pub(super) async fn alert_admins(
        &self,
        channel: &str,
        problem: &str,
    ) -> Result<(), DeliveryError> {
        let purpose = format!("admin:{}", self.request.version);
        if self
            .log
            .find(self.request.number, ADMINS, &purpose)
            .await?
            .is_some()
        {
            return Ok(());
        }
        let message = self.render(|ctx| crate::render::admin_alert(ctx, self.request, problem));
        let tag = metadata(self.request, &purpose);
        let posted = self
            .notifier
            .api
            .chat_post_message(channel, &message.text, &message.blocks, None, Some(&tag))
            .await?;
        let posted = PostedMessage {
            platform: String::from(super::NAME),
            channel: channel.to_owned(),
            ts: posted.ts,
            digest: None,
        };
        self.log
            .record(self.request.number, ADMINS, &purpose, &posted)
            .await
    }

    /// Posts the message for `purpose` unless one was posted already. For requests to act (approve,
    /// fulfil): a notice retried after a rate limit must not edit every copy it already posted again,
    /// or a large group would spend Slack's whole budget re-editing and never reach its last
    /// members. Later changes refresh those copies through their own notices.
    pub(super) async fn post_if_new(
        &self,
        user: &UserId,
        purpose: &str,
        render: impl FnOnce(&RenderContext<'_>) -> Message,
    ) -> Result<(), DeliveryError> {
        if self.recorded(user, purpose).await?.is_some() {
            return Ok(());
        }
        self.show(user, purpose, render).await.map(drop)
    }

    /// Edits the message for `purpose` if one was posted; people never shown it are left alone.
    pub(super) async fn refresh(
        &self,
        user: &UserId,
        purpose: &str,
        render: impl FnOnce(&RenderContext<'_>) -> Message,
    ) -> Result<(), DeliveryError> {
        if let Some(posted) = self.recorded(user, purpose).await? {
            let message = self.render(render);
            self.update(user, purpose, posted, &message).await?;
        }
        Ok(())
    }

    /// Replies under `parent` unless a reply with this key was recorded. A crash between posting a
    /// reply and recording it can repeat that one reply: replies are not in the history the
    /// duplicate check reads, and a repeated line in a thread is the cheaper failure.
    pub(super) async fn reply_once(
        &self,
        parent: &PostedMessage,
        user: &UserId,
        key: &str,
        render: impl FnOnce(&RenderContext<'_>) -> Message,
    ) -> Result<(), DeliveryError> {
        if self.recorded(user, key).await?.is_some() {
            return Ok(());
        }
        let message = self.render(render);
        let posted = self
            .notifier
            .api
            .chat_post_message(
                &parent.channel,
                &message.text,
                &message.blocks,
                Some(&parent.ts),
                Some(&metadata(self.request, key)),
            )
            .await?;
        let reply = PostedMessage {
            platform: parent.platform.clone(),
            channel: posted.channel,
            ts: posted.ts,
            digest: None,
        };
        self.log
            .record(self.request.number, user.as_str(), key, &reply)
            .await
    }

    /// Edits a message in place and records what it now shows; `None` when Slack no longer has
    /// it, so the caller posts anew. A message that already shows exactly this is left alone: a
    /// delivery tried again after a rate limit, or a change nobody can see in this message, would
    /// otherwise spend a rate-limited edit on nothing.
    async fn update(
        &self,
        user: &UserId,
        purpose: &str,
        posted: PostedMessage,
        message: &Message,
    ) -> Result<Option<PostedMessage>, DeliveryError> {
        let digest = digest(message);
        if posted.digest.as_deref() == Some(digest.as_str()) {
            return Ok(Some(posted));
        }
        let updated = self
            .notifier
            .api
            .chat_update(&posted.channel, &posted.ts, &message.text, &message.blocks)
            .await;
        match updated {
            Ok(_) => self
                .log
                .record_edit(self.request.number, user.as_str(), purpose, posted, digest)
                .await
                .map(Some),
            Err(ApiError::Slack { code, .. })
                if code == "message_not_found" || code == "channel_not_found" =>
            {
                tracing::warn!(request = self.request.number.0, %code, "recorded message is gone; posting again");
                Ok(None)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Posts into the person's DM, unless an earlier attempt of this delivery already did (it
    /// crashed or timed out before recording the post): then that message, found by its metadata
    /// tag, is edited instead. This is what keeps one message per (request, recipient, purpose).
    async fn post_once(
        &self,
        slack_id: &str,
        purpose: &str,
        message: &Message,
    ) -> Result<PostedMessage, DeliveryError> {
        let api = &self.notifier.api;
        let channel = self.notifier.identities.dm_channel(api, slack_id).await?;
        let tag = metadata(self.request, purpose);
        let oldest = format!(
            "{}.000000",
            (self.request.created_at.millis() / 1000 - CLOCK_SLACK_SECS).max(0)
        );
        let is_ours = |payload: &Value| payload == &tag.event_payload;
        // `conversations.history` is a Tier 3 method (about 50 calls a minute): read only when an
        // earlier attempt may have posted. When it cannot be read (a missing scope, an outage),
        // whether that attempt posted stays unknown, and a second message is the cheaper failure
        // than none at all.
        let earlier: Option<HistoryMessage> = if self.earlier_attempt_unknown {
            match api
                .find_tagged_message(&channel, Some(&oldest), EVENT_TYPE, is_ours, HISTORY_PAGES)
                .await
            {
                Ok(found) => found,
                Err(e) => {
                    tracing::warn!(request = self.request.number.0, error = %e, "could not read the conversation for an earlier post; posting");
                    None
                }
            }
        } else {
            None
        };
        let ts = match earlier {
            Some(found) => {
                api.chat_update(&channel, &found.ts, &message.text, &message.blocks)
                    .await?;
                found.ts
            }
            None => {
                api.chat_post_message(&channel, &message.text, &message.blocks, None, Some(&tag))
                    .await?
                    .ts
            }
        };
        Ok(PostedMessage {
            platform: String::from(super::NAME),
            channel,
            ts,
            digest: Some(digest(message)),
        })
    }
}
