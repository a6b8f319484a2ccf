//! The Slack calls handlers owe, as outbox jobs: what each is ([`SlackWork`], stored as JSON in a
//! `ChatJob`) and the handlers as their worker ([`ChatHandlers`]).
//!
//! A job makes its call and nothing else, so running it again after a rate limit repeats nothing
//! but that call. An event's job is the exception by nature: it works out the answer (who wrote,
//! what they need) when it runs and then sends it; everything it does before the call is a read
//! or idempotent, and a comment from a thread reply is written before any call.

use super::SlackInbound;
use crate::inbound::parse_events_json;
use crate::render::{info_modal, plain_notice};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sesame_app::chat::{ChatHandlers, ChatJob};
use sesame_core::ports::DeliveryError;
use std::sync::Arc;

/// The platform name chat jobs carry.
pub(crate) const PLATFORM: &str = "slack";

/// One person's calls run in the order they were owed.
pub(super) fn order(slack_user: &str) -> String {
    format!("{PLATFORM}:{slack_user}")
}

/// A call (or, for events, the handling) Sesame owes Slack.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SlackWork {
    /// An Events API callback that was taken in: a DM to answer, a mention, a thread reply, the
    /// Home tab. `body` is the callback as Slack sent it.
    Event { body: Value },
    /// A sentence for one person: ephemeral in `channel`, else (or when the app cannot post there)
    /// in their DM with the app.
    Tell {
        channel: Option<String>,
        user: String,
        text: String,
    },
    /// A modal opened with a click's trigger id. Should the trigger have expired, the person is
    /// told in `channel` to click again.
    OpenView {
        trigger_id: String,
        view: Value,
        channel: Option<String>,
        user: String,
    },
    /// The questions modal rebuilt for the answers so far.
    UpdateView {
        view_id: String,
        hash: String,
        view: Value,
    },
}

impl SlackWork {
    pub(super) fn job(&self) -> ChatJob {
        ChatJob {
            platform: String::from(PLATFORM),
            work: serde_json::to_value(self).unwrap_or_default(),
        }
    }
}

#[async_trait::async_trait]
impl ChatHandlers for SlackInbound {
    const PLATFORM: &'static str = PLATFORM;
    type Work = SlackWork;

    async fn perform(self: Arc<Self>, work: SlackWork, _attempt: u32) -> Result<(), DeliveryError> {
        self.run(work).await
    }
}

impl SlackInbound {
    async fn run(self: Arc<Self>, work: SlackWork) -> Result<(), DeliveryError> {
        match work {
            SlackWork::Event { body } => match parse_events_json(body) {
                Ok(crate::inbound::EventsRequest::EventCallback(callback)) => {
                    self.event(*callback).await
                }
                Ok(_) => Ok(()),
                Err(e) => Err(DeliveryError::Permanent(format!(
                    "an event that no longer parses: {e}"
                ))),
            },
            SlackWork::Tell {
                channel,
                user,
                text,
            } => self.send_tell(channel.as_deref(), &user, &text).await,
            SlackWork::OpenView {
                trigger_id,
                view,
                channel,
                user,
            } => match self.api.views_open(&trigger_id, &view).await {
                Ok(_) => Ok(()),
                Err(e) if e.slack_code() == Some("expired_trigger_id") => {
                    // The trigger lives three seconds; a modal asked for later cannot open. Say so
                    // where the person clicked, or in their DM.
                    self.tell(
                        channel,
                        &user,
                        String::from("Slack took too long to open the form; please click again."),
                    )
                    .await
                    .map_err(|reason| DeliveryError::Retry {
                        after: None,
                        reason,
                    })
                }
                Err(e) => Err(e.into()),
            },
            SlackWork::UpdateView {
                view_id,
                hash,
                view,
            } => match self.api.views_update(&view_id, Some(&hash), &view).await {
                Ok(_) => Ok(()),
                // A newer update won; it already shows the latest answers. A closed modal needs
                // no update.
                Err(e) if matches!(e.slack_code(), Some("hash_conflict" | "not_found")) => Ok(()),
                Err(e) => Err(e.into()),
            },
        }
    }

    /// Shows `text` to one person: ephemeral in the channel, else in their DM with the app.
    async fn send_tell(
        &self,
        channel: Option<&str>,
        user: &str,
        text: &str,
    ) -> Result<(), DeliveryError> {
        let message = plain_notice(text);
        if let Some(channel) = channel {
            match self
                .api
                .chat_post_ephemeral(channel, user, &message.text, &message.blocks)
                .await
            {
                Ok(_) => return Ok(()),
                Err(e)
                    if matches!(
                        e.slack_code(),
                        Some("not_in_channel" | "channel_not_found" | "is_archived")
                    ) => {}
                Err(e) => return Err(e.into()),
            }
        }
        let dm = self.api.conversations_open(&[user]).await?;
        self.api
            .chat_post_message(&dm, &message.text, &message.blocks, None, None)
            .await
            .map(drop)
            .map_err(DeliveryError::from)
    }

    /// Opens `view` with the click's trigger id, committed first and run at once: the trigger
    /// expires three seconds after the click.
    pub(super) async fn open_view(
        &self,
        trigger_id: &str,
        view: Value,
        channel: Option<String>,
        user: &str,
    ) -> Result<(), String> {
        let work = SlackWork::OpenView {
            trigger_id: trigger_id.to_owned(),
            view,
            channel,
            user: user.to_owned(),
        };
        self.app
            .owe_now(work.job())
            .await
            .map_err(|e| e.to_string())
    }

    /// A modal with one sentence, opened from a click.
    pub(super) async fn open_info(
        &self,
        trigger_id: &str,
        text: &str,
        user: &str,
    ) -> Result<(), String> {
        self.open_view(trigger_id, info_modal("Sesame", text), None, user)
            .await
    }
}
