//! Who a Slack user is in Sesame's directory, for everything people do in Slack.
//!
//! An explicit link (`chat.slack` on the directory entry) always wins. Otherwise the account's
//! email, as Slack verified it (`users.info`, which needs the `users:read.email` scope), is looked up
//! in the directory, but only when that person is not explicitly linked to a *different* Slack
//! account: an admin's mapping overrides what the email suggests. Accounts Slack marks deleted, bots
//! and accounts without an email are never mapped. The email is cached per Slack account (found for
//! a day, missing for fifteen minutes), so a click costs no Slack call after the first.

use crate::api::{ApiError, SlackApi};
use sesame_core::directory::{Directory, User};
use sesame_core::ids::UserId;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const EMAIL_KNOWN_FOR: Duration = Duration::from_secs(24 * 3600);
const EMAIL_MISSING_FOR: Duration = Duration::from_secs(15 * 60);

/// What Sesame knows of a Slack user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlackPerson {
    /// An active person in the directory.
    Known(UserId),
    /// A directory entry that was deactivated.
    Inactive(UserId),
    /// Nobody in the directory: `email` is what Slack knows, if anything, so the person can be told
    /// what to ask an administrator to link.
    Unlinked { email: Option<String> },
}

impl SlackPerson {
    /// A sentence for the person when they cannot act in Sesame, `None` when they can.
    pub fn refusal(&self) -> Option<String> {
        match self {
            SlackPerson::Known(_) => None,
            SlackPerson::Inactive(_) => Some(String::from(
                "Your Sesame account is deactivated, so you cannot request or approve access. \
                 If this is a mistake, ask your IT administrators.",
            )),
            SlackPerson::Unlinked { email: Some(email) } => Some(format!(
                "Sesame cannot find you: nobody in its directory has the email {email} of your \
                 Slack account, or that person is linked to another Slack account. Nothing was \
                 created. Ask your IT administrators to link your Slack account to your person in \
                 Sesame."
            )),
            SlackPerson::Unlinked { email: None } => Some(String::from(
                "Sesame cannot find you: your Slack account shows no email and is not linked to a \
                 person in Sesame's directory. Nothing was created. Ask your IT administrators to \
                 link your Slack account.",
            )),
        }
    }
}

struct CachedEmail {
    email: Option<String>,
    until: Instant,
}

/// Maps Slack accounts to directory people, remembering Slack's answers.
#[derive(Default)]
pub struct SlackPeople {
    emails: Mutex<HashMap<String, CachedEmail>>,
}

impl SlackPeople {
    /// Who `slack_user_id` is, asking Slack for the account's email when there is no explicit link
    /// and the email is not cached.
    pub async fn lookup(
        &self,
        api: &SlackApi,
        directory: &Directory,
        slack_user_id: &str,
    ) -> Result<SlackPerson, ApiError> {
        if let Some(linked) = directory.user_by_slack_id(slack_user_id) {
            return Ok(status(linked));
        }
        let email = match self.cached(slack_user_id) {
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
                self.remember(slack_user_id, email.clone());
                email
            }
        };
        Ok(Self::by_email(directory, slack_user_id, email))
    }

    /// Who `slack_user_id` is without calling Slack: linked, or found by a cached email. `None`
    /// when Slack would have to be asked.
    pub fn lookup_cached(&self, directory: &Directory, slack_user_id: &str) -> Option<SlackPerson> {
        if let Some(linked) = directory.user_by_slack_id(slack_user_id) {
            return Some(status(linked));
        }
        let email = self.cached(slack_user_id)?;
        Some(Self::by_email(directory, slack_user_id, email))
    }

    fn by_email(directory: &Directory, slack_user_id: &str, email: Option<String>) -> SlackPerson {
        let Some(email) = email else {
            return SlackPerson::Unlinked { email: None };
        };
        match directory.user_by_email(&email) {
            Some(user)
                if user
                    .chat
                    .slack
                    .as_deref()
                    .is_none_or(|s| s == slack_user_id) =>
            {
                status(user)
            }
            _ => SlackPerson::Unlinked { email: Some(email) },
        }
    }

    fn cached(&self, slack_user_id: &str) -> Option<Option<String>> {
        let cache = self.emails.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .get(slack_user_id)
            .filter(|c| c.until > Instant::now())
            .map(|c| c.email.clone())
    }

    fn remember(&self, slack_user_id: &str, email: Option<String>) {
        let ttl = if email.is_some() {
            EMAIL_KNOWN_FOR
        } else {
            EMAIL_MISSING_FOR
        };
        let mut cache = self.emails.lock().unwrap_or_else(|e| e.into_inner());
        cache.insert(
            slack_user_id.to_owned(),
            CachedEmail {
                email,
                until: Instant::now() + ttl,
            },
        );
    }
}

fn status(user: &User) -> SlackPerson {
    if user.active {
        SlackPerson::Known(user.id.clone())
    } else {
        SlackPerson::Inactive(user.id.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sesame_core::directory::DirectoryFile;

    fn directory() -> Directory {
        DirectoryFile::parse(
            "users:
  - { id: alice, email: alice@example.com, display_name: Alice }
  - { id: bob, email: bob@example.com, display_name: Bob, chat: { slack: U0BOB } }
  - { id: gone, email: gone@example.com, display_name: Gone, active: false }
",
        )
        .unwrap()
        .into_directory()
    }

    fn people_with(emails: &[(&str, Option<&str>)]) -> SlackPeople {
        let people = SlackPeople::default();
        for (id, email) in emails {
            people.remember(id, email.map(str::to_owned));
        }
        people
    }

    #[test]
    fn links_win_then_emails_map_unless_the_person_is_linked_elsewhere() {
        let directory = directory();
        let people = people_with(&[
            ("U0ALICE", Some("alice@example.com")),
            ("U0FAKEBOB", Some("bob@example.com")),
            ("U0GONE", Some("gone@example.com")),
            ("U0NOMAIL", None),
        ]);
        let find = |id| people.lookup_cached(&directory, id).unwrap();
        assert_eq!(
            find("U0BOB"),
            SlackPerson::Known(UserId::new("bob").unwrap())
        );
        assert_eq!(
            find("U0ALICE"),
            SlackPerson::Known(UserId::new("alice").unwrap())
        );
        // Bob is linked to U0BOB; another account with his email is not him.
        assert!(matches!(find("U0FAKEBOB"), SlackPerson::Unlinked { .. }));
        assert!(matches!(find("U0GONE"), SlackPerson::Inactive(_)));
        assert_eq!(find("U0NOMAIL"), SlackPerson::Unlinked { email: None });
        assert!(find("U0NOMAIL")
            .refusal()
            .unwrap()
            .contains("Nothing was created"));
        assert_eq!(people.lookup_cached(&directory, "U0UNSEEN"), None);
    }
}
