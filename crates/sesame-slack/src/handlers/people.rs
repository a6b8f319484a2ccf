//! From a Slack user to the person acting in Sesame.

use super::SlackInbound;
use crate::people::SlackPerson;
use sesame_app::directory::LinkedBy;
use sesame_app::Principal;

impl SlackInbound {
    /// The principal behind a Slack account, or the sentence to show them when there is none (not
    /// linked, deactivated, or Slack could not be asked). Nothing is created for someone unknown.
    pub(super) async fn principal(&self, slack_user: &str) -> Result<Principal, String> {
        let directory = self.app.directory();
        let person = self
            .people
            .lookup(&self.api, &directory, slack_user)
            .await
            .map_err(|e| {
                tracing::warn!(slack_user, error = %e, "could not look the Slack user up");
                String::from(
                    "Sesame could not ask Slack who you are just now. Nothing was changed; \
                     please try again in a minute.",
                )
            })?;
        match person {
            SlackPerson::Known(user) => {
                if directory.user_by_slack_id(slack_user).is_none() {
                    // Found by verified email: from now on the link is explicit.
                    if let Err(e) = self
                        .app
                        .link_chat_account(&user, "slack", slack_user, LinkedBy::VerifiedEmail)
                        .await
                    {
                        tracing::warn!(error = %e, %user, "the Slack link was not recorded");
                    }
                }
                self.app.principal(&user).map_err(|_| {
                    String::from("Your Sesame account is not active, so you cannot act here.")
                })
            }
            other => {
                let refusal = other
                    .refusal()
                    .unwrap_or_else(|| String::from("Sesame cannot find you."));
                match other {
                    SlackPerson::Unlinked { .. } => {
                        Err(self.with_link_offer(refusal, slack_user).await)
                    }
                    _ => Err(refusal),
                }
            }
        }
    }

    /// Adds to the refusal a link where the owner of `slack_user` can confirm, after signing in
    /// to the portal, that the account is theirs. Only the Slack account itself is told the link
    /// (in its DM, an ephemeral reply or its own modal), and the person who signs in must confirm
    /// it, so the link proves both sides. Without a portal sign-in the refusal stays as it is.
    async fn with_link_offer(&self, refusal: String, slack_user: &str) -> String {
        if !self.link_offers {
            return refusal;
        }
        match self
            .app
            .offer_chat_link("slack", slack_user, &self.portal_url)
            .await
        {
            Ok(url) => format!(
                "{refusal}\n\nIf this Slack account is yours, you can link it yourself: open {url} \
                 within an hour, sign in to Sesame and confirm. Only open a link Sesame sent to you."
            ),
            Err(e) => {
                tracing::warn!(error = %e, "could not offer a chat link");
                refusal
            }
        }
    }

    /// The directory id for a Slack user picked in a form (a `user` question), when known.
    pub(super) async fn directory_id_of(&self, slack_user: &str) -> Option<String> {
        let directory = self.app.directory();
        match self.people.lookup(&self.api, &directory, slack_user).await {
            Ok(SlackPerson::Known(user)) => Some(user.to_string()),
            _ => None,
        }
    }
}
