//! Who a Slack user is in Sesame's directory: the platform-neutral rules of
//! [`sesame_core::chat_person`], with the account's email as Slack verified it (`users.info`,
//! which needs the `users:read.email` scope). Accounts Slack marks deleted, bots and accounts
//! without an email are never mapped by email.

use crate::api::{ApiError, SlackApi};
use sesame_app::chat::EmailCache;
use sesame_core::chat_person::{self, ChatPerson, ChatPlatform};
use sesame_core::directory::Directory;

/// Maps Slack accounts to directory people, remembering Slack's answers.
#[derive(Default)]
pub struct SlackPeople {
    emails: EmailCache,
}

impl SlackPeople {
    /// Who `slack_user_id` is, asking Slack for the account's email when there is no explicit link
    /// and the email is not cached.
    pub async fn lookup(
        &self,
        api: &SlackApi,
        directory: &Directory,
        slack_user_id: &str,
    ) -> Result<ChatPerson, ApiError> {
        if let Some(found) = chat_person::by_link(directory, ChatPlatform::Slack, slack_user_id) {
            return Ok(found);
        }
        let email = match self.emails.get(slack_user_id) {
            Some(email) => email,
            None => {
                let email = match api.users_info(slack_user_id).await {
                    Ok(account) if !account.deleted && !account.is_bot => account
                        .profile
                        .email
                        .map(|e| e.trim().to_lowercase())
                        .filter(|e| !e.is_empty()),
                    Ok(_) => None,
                    Err(ApiError::Slack { code, .. }) if code == "user_not_found" => None,
                    Err(e) => return Err(e),
                };
                self.emails.remember(slack_user_id, email.clone());
                email
            }
        };
        Ok(resolve(directory, slack_user_id, email.as_deref()))
    }

    /// Who `slack_user_id` is without calling Slack: linked, or found by a cached email. `None`
    /// when Slack would have to be asked.
    pub fn lookup_cached(&self, directory: &Directory, slack_user_id: &str) -> Option<ChatPerson> {
        if let Some(found) = chat_person::by_link(directory, ChatPlatform::Slack, slack_user_id) {
            return Some(found);
        }
        let email = self.emails.get(slack_user_id)?;
        Some(resolve(directory, slack_user_id, email.as_deref()))
    }
}

fn resolve(directory: &Directory, slack_user_id: &str, email: Option<&str>) -> ChatPerson {
    chat_person::resolve(directory, ChatPlatform::Slack, Some(slack_user_id), email)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sesame_core::directory::DirectoryFile;
    use sesame_core::ids::UserId;

    #[test]
    fn cached_emails_answer_without_asking_slack() {
        let directory = DirectoryFile::parse(
            "users:\n  - { id: alice, email: alice@example.com, display_name: Alice }\n  - { id: bob, email: bob@example.com, display_name: Bob, chat: { slack: U0BOB } }\n",
        )
        .unwrap()
        .into_directory();
        let people = SlackPeople::default();
        people
            .emails
            .remember("U0ALICE", Some(String::from("alice@example.com")));
        people.emails.remember("U0NOMAIL", None);
        let known = |id: &str, linked| ChatPerson::Known {
            user: UserId::new(id).unwrap(),
            linked,
        };
        assert_eq!(
            people.lookup_cached(&directory, "U0BOB"),
            Some(known("bob", true))
        );
        assert_eq!(
            people.lookup_cached(&directory, "U0ALICE"),
            Some(known("alice", false))
        );
        assert_eq!(
            people.lookup_cached(&directory, "U0NOMAIL"),
            Some(ChatPerson::Unlinked { email: None })
        );
        assert_eq!(people.lookup_cached(&directory, "U0UNSEEN"), None);
    }
}
