//! The Events API: the Home tab, direct messages to the app (free text, or a reply in a request's
//! thread, which becomes a comment) and @mentions in channels (answered to the person alone).
//!
//! An event is taken in before it is acknowledged: its id and the job that handles it are committed
//! in one transaction, so Slack's retries (`X-Slack-Retry-Num`) are acknowledged and dropped, and
//! the handling runs in the outbox afterwards: a reply held back by a rate limit goes out later,
//! and a crash after the acknowledgement loses nothing.

use super::work::{order, SlackWork};
use super::{Ack, SlackInbound};
use crate::inbound::{
    strip_leading_mention, AppMention, DirectMessage, Event, EventCallback, EventsRequest,
};
use crate::notifier::thread_source;
use crate::render::{home_view, plain_notice, Person, RenderContext};
use serde_json::json;
use sesame_core::ports::DeliveryError;
use std::sync::Arc;

/// The source under which event ids are remembered.
const EVENT_SOURCE: &str = "slack-event";

impl SlackInbound {
    /// Takes in an event: the job that handles it keeps the callback as Slack sent it.
    pub(crate) async fn events(&self, request: EventsRequest) -> Result<Ack, String> {
        match request {
            EventsRequest::UrlVerification { challenge } => {
                Ok(Ack::Json(json!({ "challenge": challenge })))
            }
            EventsRequest::EventCallback(callback) => {
                if !callback.needs_handling() {
                    return Ok(Ack::Empty);
                }
                // Ordered per person, so two messages in a row are answered in that order.
                let person = callback.author().unwrap_or_default();
                let first_time = self
                    .app
                    .take_in(
                        EVENT_SOURCE,
                        &callback.event_id,
                        Some(&order(person)),
                        SlackWork::Event {
                            body: callback.raw.clone(),
                        }
                        .job(),
                    )
                    .await
                    .map_err(|e| e.to_string())?;
                if !first_time {
                    tracing::debug!(event = %callback.event_id, "a repeated event; dropped");
                }
                Ok(Ack::Empty)
            }
            EventsRequest::Other(_) => Ok(Ack::Empty),
        }
    }

    pub(super) async fn event(
        self: Arc<Self>,
        callback: EventCallback,
    ) -> Result<(), DeliveryError> {
        let bot = callback.bot_user_id().map(str::to_owned);
        match callback.event {
            Event::AppHomeOpened(opened) if opened.tab == "home" => {
                self.publish_home(&opened.user).await
            }
            Event::DirectMessage(message) if message.is_from_a_person(bot.as_deref()) => {
                self.direct_message(message).await
            }
            Event::AppMention(mention) if mention.bot_id.is_none() => {
                self.mention(mention, bot.as_deref()).await
            }
            _ => Ok(()),
        }
    }

    /// Publishes the person's Home tab from their current overview.
    pub(super) async fn publish_home(&self, slack_user: &str) -> Result<(), DeliveryError> {
        let view = match self.principal(slack_user).await {
            Ok(who) => {
                let overview = self
                    .app
                    .overview(&who)
                    .await
                    .map_err(|e| DeliveryError::Retry {
                        after: None,
                        reason: e.to_string(),
                    })?;
                let directory = self.app.directory();
                let people = |id: &sesame_core::UserId| {
                    Person::from_directory(&directory, id, |user| user.chat.slack.clone())
                };
                let ctx = RenderContext {
                    people: &people,
                    portal_base_url: &self.portal_url,
                };
                let flows: Vec<_> = overview.requestable.iter().collect();
                home_view(&ctx, &flows, &overview.requests, &overview.waiting)
            }
            Err(refusal) => crate::blocks::home_tab(plain_notice(&refusal).blocks),
        };
        self.api
            .views_publish(slack_user, &view)
            .await
            .map(drop)
            .map_err(DeliveryError::from)
    }

    async fn direct_message(&self, message: DirectMessage) -> Result<(), DeliveryError> {
        let Some(slack_user) = message.user.clone() else {
            return Ok(());
        };
        let in_thread = message
            .thread_ts
            .as_deref()
            .filter(|thread| *thread != message.ts);
        if let Some(thread) = in_thread {
            return self.thread_reply(&message, &slack_user, thread).await;
        }
        let reply = match self.principal(&slack_user).await {
            Ok(who) => self.match_message(&who, message.text.trim()).await,
            Err(refusal) => plain_notice(&refusal),
        };
        self.api
            .chat_post_message(&message.channel, &reply.text, &reply.blocks, None, None)
            .await
            .map(drop)
            .map_err(DeliveryError::from)
    }

    /// A reply under one of Sesame's messages becomes a comment on that message's request.
    async fn thread_reply(
        &self,
        message: &DirectMessage,
        slack_user: &str,
        thread: &str,
    ) -> Result<(), DeliveryError> {
        let parent = self
            .app
            .chat_message_at(super::work::PLATFORM, &message.channel, thread)
            .await
            .map_err(|e| DeliveryError::Retry {
                after: None,
                reason: e.to_string(),
            })?;
        let Some(parent) = parent else {
            // A thread Sesame did not start: nothing to attach the reply to.
            return Ok(());
        };
        let outcome = match self.principal(slack_user).await {
            Ok(who) => self
                .app
                .comment(
                    &who,
                    parent.request,
                    &message.text,
                    &thread_source(&message.channel, thread),
                )
                .await
                .map(|_| ())
                .map_err(|e| format!("Your reply was not added to the request: {e}")),
            Err(refusal) => Err(refusal),
        };
        if let Err(text) = outcome {
            let notice = plain_notice(&text);
            self.api
                .chat_post_message(
                    &message.channel,
                    &notice.text,
                    &notice.blocks,
                    Some(thread),
                    None,
                )
                .await?;
        }
        Ok(())
    }

    /// An @mention in a channel: answered to the person alone, never to the channel.
    async fn mention(&self, mention: AppMention, bot: Option<&str>) -> Result<(), DeliveryError> {
        let typed = match bot {
            Some(bot) => strip_leading_mention(&mention.text, bot),
            None => mention.text.as_str(),
        }
        .trim()
        .to_owned();
        let reply = match self.principal(&mention.user).await {
            Ok(who) if typed.is_empty() => self.picker(&who),
            Ok(who) => self.match_message(&who, &typed).await,
            Err(refusal) => plain_notice(&refusal),
        };
        self.api
            .chat_post_ephemeral(&mention.channel, &mention.user, &reply.text, &reply.blocks)
            .await
            .map(drop)
            .map_err(DeliveryError::from)
    }
}
