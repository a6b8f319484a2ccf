//! Microsoft Teams' inbound side: `POST /teams/messages`, where Bot Framework delivers every
//! activity (messages, Universal Action invokes, installs).
//!
//! Order: size limit, parse, verify the token (or the loopback-only development mode), check that
//! the activity's `serviceUrl` is one Sesame may call, then take it in. Nothing is read or stored
//! for a call that fails any of these. Messages and installs are taken in (the activity id and the
//! job that answers it, in one transaction, so Bot Framework's retries are dropped) and
//! acknowledged; the answer goes out from the outbox through the Bot Connector, deferred by a 429
//! and never dropped. A Universal Action (`Action.Execute`) is answered in the HTTP response with
//! the card Teams shows in place of the clicked one, after the one database write the click needs.

mod actions;
mod book;
mod http;
mod messages;
mod people;
mod work;

pub use book::AppConversationBook;
pub use http::routes;
pub use work::TeamsWork;

use crate::cards::{Card, RenderContext};
use crate::conversations::ConversationBook;
use crate::people::TeamsPeople;
use crate::{Activity, BotConnector, ConversationReference, InboundAuth};
use sesame_app::App;
use sesame_core::ports::DeliveryError;
use std::net::SocketAddr;
use std::sync::Arc;

/// What the Teams handlers need; one per process.
pub struct TeamsInbound {
    app: App,
    auth: InboundAuth,
    connector: BotConnector,
    book: Arc<dyn ConversationBook>,
    /// Where links to requests point.
    portal_url: String,
    /// The address Sesame listens on: the development mode's callers are on it.
    listen: SocketAddr,
    people: TeamsPeople,
    /// Whether someone Sesame cannot match is offered to confirm the link in the portal (only
    /// when the portal has a sign-in).
    link_offers: bool,
}

impl TeamsInbound {
    pub fn new(
        app: App,
        auth: InboundAuth,
        connector: BotConnector,
        book: Arc<dyn ConversationBook>,
        portal_url: String,
        listen: SocketAddr,
        link_offers: bool,
    ) -> Arc<TeamsInbound> {
        Arc::new(TeamsInbound {
            app,
            auth,
            connector,
            book,
            portal_url,
            listen,
            people: TeamsPeople::default(),
            link_offers,
        })
    }

    /// Renders with names from the directory.
    fn render<T>(&self, render: impl FnOnce(&RenderContext<'_>) -> T) -> T {
        let directory = self.app.directory();
        let name = |id: &sesame_core::UserId| directory.display_name(id);
        let ctx = RenderContext {
            name: &name,
            portal_base_url: &self.portal_url,
        };
        render(&ctx)
    }

    /// Posts `card` as a new message in a conversation.
    async fn send_card(
        &self,
        service_url: &str,
        conversation_id: &str,
        card: &Card,
    ) -> Result<(), DeliveryError> {
        self.connector
            .send_to_conversation(service_url, conversation_id, &card.activity(None))
            .await
            .map(drop)
            .map_err(DeliveryError::from)
    }

    /// Sends `card` into the conversation an activity came from.
    async fn reply_in_place(&self, activity: &Activity, card: &Card) -> Result<(), DeliveryError> {
        self.send_card(&activity.service_url, &activity.conversation.id, card)
            .await
    }

    /// Sends `card` to the person alone, in their 1:1 chat with the bot (created if needed, which
    /// Teams allows once they have the app), and saves that chat for later notices when `save`
    /// (false for people Sesame does not know: their chat is used for the answer only).
    async fn reply_privately(
        &self,
        activity: &Activity,
        card: &Card,
        save: bool,
    ) -> Result<(), DeliveryError> {
        let reference = self.personal_reference(activity).await?;
        if save {
            self.save_reference(activity, &reference).await;
        }
        self.send_card(&reference.service_url, &reference.conversation_id, card)
            .await
    }

    /// The 1:1 conversation with whoever sent `activity`: this one when it is personal, else one
    /// created through the Connector.
    async fn personal_reference(
        &self,
        activity: &Activity,
    ) -> Result<ConversationReference, DeliveryError> {
        let reference = if activity.is_personal() {
            activity.conversation_reference()
        } else {
            let tenant = activity.tenant_id().ok_or_else(|| {
                DeliveryError::Permanent(String::from(
                    "the activity names no tenant, so no 1:1 chat can be created",
                ))
            })?;
            let parameters = crate::ConversationParameters::personal(
                &activity.recipient.id,
                &activity.from.id,
                tenant,
            );
            let created = self
                .connector
                .create_conversation(&activity.service_url, &parameters)
                .await?;
            ConversationReference {
                service_url: activity.service_url.clone(),
                conversation_id: created.id,
                tenant_id: Some(tenant.to_owned()),
                bot: activity.recipient.clone(),
                user: activity.from.clone(),
            }
        };
        Ok(reference)
    }

    /// Saves a 1:1 conversation for later notices; a failure is logged (the person is then only
    /// reached once they write again).
    async fn save_reference(&self, activity: &Activity, reference: &ConversationReference) {
        let Some(object_id) = activity.from.aad_object_id.as_deref() else {
            return;
        };
        if let Err(e) = self.book.remember(object_id, reference).await {
            tracing::warn!(?e, "the Teams conversation was not saved");
        }
    }
}
