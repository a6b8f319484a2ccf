//! From a Teams user to the person acting in Sesame (the rules are the application's, the same
//! for every platform; Teams is only asked for the account's email).

use super::TeamsInbound;
use crate::cards::{link_offer_card, notice_card, Card};
use crate::Activity;
use sesame_app::chat::{ChatRefusal, PLATFORM_UNREACHABLE};
use sesame_app::Principal;
use sesame_core::chat_person::ChatPlatform;

impl TeamsInbound {
    /// The principal behind the sender of `activity`, or the card to show them when there is
    /// none (not linked, deactivated, or Teams could not be asked). Nothing is created for someone
    /// unknown. A person found by email is linked explicitly from then on.
    pub(super) async fn principal(&self, activity: &Activity) -> Result<Principal, Card> {
        let directory = self.app.directory();
        let person = self
            .people
            .lookup(&self.connector, &directory, activity)
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "could not look the Teams user up");
                notice_card(PLATFORM_UNREACHABLE)
            })?;
        let account = activity.from.aad_object_id.as_deref();
        let offer_to = self.link_offers.then_some(self.portal_url.as_str());
        self.app
            .chat_principal(ChatPlatform::Teams, account, person, offer_to)
            .await
            .map_err(|refusal| match refusal {
                ChatRefusal::Text(text) => notice_card(&text),
                ChatRefusal::Linkable { text, url } => link_offer_card(&text, &url),
            })
    }
}
