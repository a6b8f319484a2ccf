//! From a Slack user to the person acting in Sesame.

use super::SlackInbound;
use sesame_app::Principal;
use sesame_slack::people::SlackPerson;

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
                    if let Err(e) = self.app.link_chat_account(&user, "slack", slack_user).await {
                        tracing::warn!(error = %e, %user, "the Slack link was not recorded");
                    }
                }
                self.app.principal(&user).map_err(|_| {
                    String::from("Your Sesame account is not active, so you cannot act here.")
                })
            }
            other => Err(other
                .refusal()
                .unwrap_or_else(|| String::from("Sesame cannot find you."))),
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
