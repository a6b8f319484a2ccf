//! From a Teams user to the person acting in Sesame.

use super::TeamsInbound;
use crate::cards::{link_offer_card, notice_card, Card};
use crate::people::TeamsPerson;
use crate::Activity;
use sesame_app::directory::LinkedBy;
use sesame_app::Principal;

impl TeamsInbound {
    /// The principal behind the sender of `activity`, or the card to show them when there is
    /// none (not linked, deactivated, or Teams could not be asked). Nothing is created for someone
    /// unknown. A person found by email is linked explicitly from then on.
    pub(super) async fn principal(&self, activity: &Activity) -> Result<Principal, Card> {
        self.person(activity)
            .await
            .map_err(|refusal| match refusal {
                Refusal::Text(text) => notice_card(&text),
                Refusal::Linkable(text, url) => link_offer_card(&text, &url),
            })
    }

    async fn person(&self, activity: &Activity) -> Result<Principal, Refusal> {
        let directory = self.app.directory();
        let person = self
            .people
            .lookup(&self.connector, &directory, activity)
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "could not look the Teams user up");
                Refusal::Text(String::from(
                    "Sesame could not ask Teams who you are just now. Nothing was changed; \
                     please try again in a minute.",
                ))
            })?;
        match person {
            TeamsPerson::Known { user, linked } => {
                if let (false, Some(object_id)) = (linked, activity.from.aad_object_id.as_deref()) {
                    if let Err(e) = self
                        .app
                        .link_chat_account(&user, "teams", object_id, LinkedBy::VerifiedEmail)
                        .await
                    {
                        tracing::warn!(error = %e, %user, "the Teams link was not recorded");
                    }
                }
                self.app.principal(&user).map_err(|_| {
                    Refusal::Text(String::from(
                        "Your Sesame account is not active, so you cannot act here.",
                    ))
                })
            }
            other => {
                let text = other
                    .refusal()
                    .unwrap_or_else(|| String::from("Sesame cannot find you."));
                let account = activity.from.aad_object_id.as_deref();
                match (other, account) {
                    (TeamsPerson::Unlinked { .. }, Some(account)) if self.link_offers => {
                        Err(self.offer_link(text, account).await)
                    }
                    _ => Err(Refusal::Text(text)),
                }
            }
        }
    }

    /// Offers the owner of the Entra account `account` to confirm in the portal that it is
    /// theirs. Only that account sees the card (a reply in its own chat or to its own click), and
    /// the person who signs in must confirm, so both sides agree.
    async fn offer_link(&self, text: String, account: &str) -> Refusal {
        match self
            .app
            .offer_chat_link("teams", account, &self.portal_url)
            .await
        {
            Ok(url) => Refusal::Linkable(text, url),
            Err(e) => {
                tracing::warn!(error = %e, "could not offer a chat link");
                Refusal::Text(text)
            }
        }
    }
}

/// Why someone cannot act, and whether they can fix it themselves in the portal.
enum Refusal {
    Text(String),
    /// The sentence and the URL of the link offer.
    Linkable(String, String),
}
