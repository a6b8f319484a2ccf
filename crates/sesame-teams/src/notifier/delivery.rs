//! One notice's delivery: rendering with what the directory knows of people, and the three ways a
//! card reaches Teams: shown (edited in place when this notifier posted it before, else posted and
//! recorded), refreshed (edited only if it exists), and replied once (a reply per key).

use super::NAME;
use crate::activity::ConversationReference;
use crate::cards::{
    admin_alert_card, approver_card, fulfiller_card, removal_card, requester_card, update_card,
    Card, RenderContext, Update,
};
use crate::connector::{BotConnector, ConnectorError};
use crate::conversations::ConversationBook;
use sesame_core::directory::Directory;
use sesame_core::flow::Flow;
use sesame_core::ids::{GroupId, UserId};
use sesame_core::ports::{content_digest, DeliveryError, MessageLog, PostedMessage};
use sesame_core::request::Request;

pub(super) struct Delivery<'a> {
    pub(super) connector: &'a BotConnector,
    pub(super) book: &'a dyn ConversationBook,
    pub(super) portal_base_url: &'a str,
    pub(super) request: &'a Request,
    pub(super) directory: &'a Directory,
    pub(super) log: &'a dyn MessageLog,
    pub(super) flow: Option<Flow>,
    pub(super) admin_groups: &'a [GroupId],
}

impl Delivery<'_> {
    fn render(&self, render: impl FnOnce(&RenderContext<'_>) -> Card) -> Card {
        let directory = self.directory;
        let name = move |id: &UserId| directory.display_name(id);
        let ctx = RenderContext {
            name: &name,
            portal_base_url: self.portal_base_url,
        };
        render(&ctx)
    }

    fn more(&self) -> String {
        crate::cards::request_url(self.portal_base_url, self.request.number)
    }

    pub(super) fn requester_card(&self) -> Card {
        self.render(|ctx| requester_card(ctx, self.request, self.flow.as_ref()))
    }

    pub(super) fn approver_card(
        &self,
        step: usize,
        viewer: &UserId,
        colleagues: &[String],
    ) -> Card {
        self.render(|ctx| {
            approver_card(
                ctx,
                self.request,
                self.flow.as_ref(),
                step,
                viewer,
                colleagues,
                None,
            )
        })
    }

    pub(super) fn fulfiller_card(&self, viewer: &UserId, colleagues: &[String]) -> Card {
        self.render(|ctx| {
            fulfiller_card(
                ctx,
                self.request,
                self.flow.as_ref(),
                viewer,
                colleagues,
                None,
            )
        })
    }

    pub(super) fn admin_alert_card(&self, problem: &str) -> Card {
        self.render(|ctx| admin_alert_card(ctx, self.request, problem))
    }

    pub(super) fn removal_card(&self) -> Card {
        self.render(|ctx| removal_card(ctx, self.request))
    }

    /// The person's saved 1:1 conversation, or `None` (logged) when they cannot be reached on
    /// Teams: not in the directory, deactivated, not linked, or the app never installed.
    async fn reference(
        &self,
        user: &UserId,
    ) -> Result<Option<ConversationReference>, DeliveryError> {
        let Some(object_id) = self
            .directory
            .user(user)
            .filter(|u| u.active)
            .and_then(|u| u.chat.teams.as_deref())
        else {
            tracing::debug!(user = %user, "no Teams account linked; no Teams message");
            return Ok(None);
        };
        let found = self.book.find(object_id).await?;
        if found.is_none() {
            tracing::info!(user = %user, request = self.request.number.0, "has not installed the Teams app; skipped");
        }
        Ok(found)
    }

    /// The Teams ids (`29:…`) of those of `people` who can be reached, for a card's refresh.
    pub(super) async fn teams_ids(&self, people: &[UserId]) -> Result<Vec<String>, DeliveryError> {
        let mut ids = Vec::new();
        for person in people {
            if let Some(reference) = self.reference(person).await? {
                ids.push(reference.user.id);
            }
        }
        Ok(ids)
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

    /// [`Delivery::show_to`] for a card without colleagues to refresh.
    pub(super) async fn show(
        &self,
        user: &UserId,
        purpose: &str,
        render: impl FnOnce(&Delivery<'_>, &UserId, &[String]) -> Card,
    ) -> Result<Option<PostedMessage>, DeliveryError> {
        self.show_to(user, purpose, &[], render).await
    }

    /// Shows `user` the card for `purpose`: edits the one posted before, or posts and records it.
    /// `None` when the person cannot be reached on Teams.
    pub(super) async fn show_to(
        &self,
        user: &UserId,
        purpose: &str,
        colleagues: &[String],
        render: impl FnOnce(&Delivery<'_>, &UserId, &[String]) -> Card,
    ) -> Result<Option<PostedMessage>, DeliveryError> {
        let Some(reference) = self.reference(user).await? else {
            return Ok(None);
        };
        let card = render(self, user, colleagues);
        if let Some(posted) = self.recorded(user, purpose).await? {
            if let Some(kept) = self
                .update(&reference, user, purpose, posted, &card)
                .await?
            {
                return Ok(Some(kept));
            }
        }
        let sent = self
            .connector
            .send_to_conversation(
                &reference.service_url,
                &reference.conversation_id,
                &card.activity(Some(&self.more())),
            )
            .await?;
        let posted = PostedMessage {
            platform: String::from(NAME),
            channel: reference.conversation_id.clone(),
            ts: sent.id,
            digest: Some(self.digest(&card)),
        };
        self.log
            .record(self.request.number, user.as_str(), purpose, &posted)
            .await?;
        Ok(Some(posted))
    }

    /// Edits the card for `purpose` if one was posted; people never shown it are left alone.
    pub(super) async fn refresh(
        &self,
        user: &UserId,
        purpose: &str,
        colleagues: &[String],
        render: impl FnOnce(&Delivery<'_>, &UserId, &[String]) -> Card,
    ) -> Result<(), DeliveryError> {
        let Some(posted) = self.recorded(user, purpose).await? else {
            return Ok(());
        };
        let Some(reference) = self.reference(user).await? else {
            return Ok(());
        };
        let card = render(self, user, colleagues);
        self.update(&reference, user, purpose, posted, &card)
            .await
            .map(drop)
    }

    /// Replies under `parent` unless a reply with this key was recorded. A crash between posting
    /// and recording can repeat that one reply; a repeated line is the cheaper failure.
    pub(super) async fn reply_once(
        &self,
        parent: &PostedMessage,
        user: &UserId,
        key: &str,
        update: &Update<'_>,
    ) -> Result<(), DeliveryError> {
        if self.recorded(user, key).await?.is_some() {
            return Ok(());
        }
        let Some(reference) = self.reference(user).await? else {
            return Ok(());
        };
        let card = self.render(|ctx| update_card(ctx, self.request, self.flow.as_ref(), update));
        let sent = self
            .connector
            .reply_to_activity(
                &reference.service_url,
                &parent.channel,
                &parent.ts,
                &card.activity(None),
            )
            .await?;
        let reply = PostedMessage {
            platform: String::from(NAME),
            channel: parent.channel.clone(),
            ts: sent.id,
            digest: None,
        };
        self.log
            .record(self.request.number, user.as_str(), key, &reply)
            .await
    }

    /// What a card shows, with the "more" of this delivery, for [`PostedMessage::digest`].
    fn digest(&self, card: &Card) -> String {
        let activity = card.activity(Some(&self.more()));
        content_digest(&serde_json::to_vec(&activity).unwrap_or_default())
    }

    /// Edits a card in place and records what it now shows; `None` when Teams no longer has it,
    /// so the caller posts anew. A card that already shows exactly this is left alone, so a
    /// delivery tried again after a rate limit does not spend a call on nothing.
    async fn update(
        &self,
        reference: &ConversationReference,
        user: &UserId,
        purpose: &str,
        posted: PostedMessage,
        card: &Card,
    ) -> Result<Option<PostedMessage>, DeliveryError> {
        let digest = self.digest(card);
        if posted.digest.as_deref() == Some(digest.as_str()) {
            return Ok(Some(posted));
        }
        let mut activity = card.activity(Some(&self.more()));
        activity["id"] = serde_json::Value::String(posted.ts.clone());
        match self
            .connector
            .update_activity(
                &reference.service_url,
                &posted.channel,
                &posted.ts,
                &activity,
            )
            .await
        {
            Ok(_) => self
                .log
                .record_edit(self.request.number, user.as_str(), purpose, posted, digest)
                .await
                .map(Some),
            Err(ConnectorError::Rejected { status: 404, .. }) => {
                tracing::warn!(
                    request = self.request.number.0,
                    "recorded Teams card is gone; posting again"
                );
                Ok(None)
            }
            Err(error) => Err(error.into()),
        }
    }
}
