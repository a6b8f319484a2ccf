//! From a Slack user to the person acting in Sesame (the rules are the application's, the same
//! for every platform; Slack is only asked for the account's email).

use super::SlackInbound;
use sesame_app::chat::PLATFORM_UNREACHABLE;
use sesame_app::Principal;
use sesame_core::chat_person::{ChatPerson, ChatPlatform};

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
                String::from(PLATFORM_UNREACHABLE)
            })?;
        let offer_to = self.link_offers.then_some(self.portal_url.as_str());
        self.app
            .chat_principal(ChatPlatform::Slack, Some(slack_user), person, offer_to)
            .await
            .map_err(|refusal| refusal.into_text())
    }

    /// The directory id for a Slack user picked in a form (a `user` question), when known.
    pub(super) async fn directory_id_of(&self, slack_user: &str) -> Option<String> {
        let directory = self.app.directory();
        match self.people.lookup(&self.api, &directory, slack_user).await {
            Ok(ChatPerson::Known { user, .. }) => Some(user.to_string()),
            _ => None,
        }
    }
}
