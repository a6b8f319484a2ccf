//! Who a Teams user is in Sesame's directory.
//!
//! An explicit link wins: a directory entry whose `chat.teams` is the account's Entra object id
//! (`aadObjectId` on every activity). Otherwise the account's email, as Teams reports it for the
//! conversation member, is looked up in the directory, but only when that person is not linked to
//! a *different* Teams account, so an administrator's mapping overrides what the email suggests.
//! The email is cached per account (found for a day, missing for fifteen minutes), so a click costs
//! no Connector call after the first. Nobody is ever created from a Teams account.

use crate::activity::Activity;
use crate::connector::{BotConnector, ConnectorError};
use sesame_core::directory::{Directory, User};
use sesame_core::ids::UserId;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const EMAIL_KNOWN_FOR: Duration = Duration::from_secs(24 * 3600);
const EMAIL_MISSING_FOR: Duration = Duration::from_secs(15 * 60);

/// What Sesame knows of a Teams user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TeamsPerson {
    /// An active person in the directory; `linked` says whether by `chat.teams` (else by email).
    Known { user: UserId, linked: bool },
    /// A directory entry that was deactivated.
    Inactive(UserId),
    /// Nobody in the directory; `email` is what Teams reported, if anything.
    Unlinked { email: Option<String> },
}

impl TeamsPerson {
    /// The sentence for a person who cannot act in Sesame, `None` when they can.
    pub fn refusal(&self) -> Option<String> {
        match self {
            TeamsPerson::Known { .. } => None,
            TeamsPerson::Inactive(_) => Some(String::from(
                "Your Sesame account is deactivated, so you cannot request or approve access. \
                 If this is a mistake, ask your IT administrators.",
            )),
            TeamsPerson::Unlinked { email: Some(email) } => Some(format!(
                "Sesame cannot find you: nobody in its directory has the email {email} of your \
                 Teams account, or that person is linked to another Teams account. Nothing was \
                 created. Ask your IT administrators to link your Teams account to your person \
                 in Sesame."
            )),
            TeamsPerson::Unlinked { email: None } => Some(String::from(
                "Sesame cannot find you: Teams shows no email for your account and it is not \
                 linked to a person in Sesame's directory. Nothing was created. Ask your IT \
                 administrators to link your Teams account.",
            )),
        }
    }
}

/// The person whose directory entry links this Entra object id, active or not.
pub fn linked_user<'d>(directory: &'d Directory, object_id: &str) -> Option<&'d User> {
    directory
        .users()
        .find(|user| user.chat.teams.as_deref() == Some(object_id))
}

fn status(user: &User, linked: bool) -> TeamsPerson {
    if user.active {
        TeamsPerson::Known {
            user: user.id.clone(),
            linked,
        }
    } else {
        TeamsPerson::Inactive(user.id.clone())
    }
}

/// Who a person is, given what is known: the explicit link first, then the email.
pub fn resolve(directory: &Directory, object_id: Option<&str>, email: Option<&str>) -> TeamsPerson {
    if let Some(user) = object_id.and_then(|id| linked_user(directory, id)) {
        return status(user, true);
    }
    let Some(email) = email else {
        return TeamsPerson::Unlinked { email: None };
    };
    match directory.user_by_email(email) {
        Some(user)
            if user
                .chat
                .teams
                .as_deref()
                .is_none_or(|linked| Some(linked) == object_id) =>
        {
            status(user, false)
        }
        _ => TeamsPerson::Unlinked {
            email: Some(email.to_owned()),
        },
    }
}

struct CachedEmail {
    email: Option<String>,
    until: Instant,
}

/// Maps Teams accounts to directory people, remembering the emails Teams reported.
#[derive(Default)]
pub struct TeamsPeople {
    emails: Mutex<HashMap<String, CachedEmail>>,
}

impl TeamsPeople {
    /// Who sent `activity`, asking the Connector for their email when there is no explicit link
    /// and the email is not cached.
    pub async fn lookup(
        &self,
        connector: &BotConnector,
        directory: &Directory,
        activity: &Activity,
    ) -> Result<TeamsPerson, ConnectorError> {
        let object_id = activity.from.aad_object_id.as_deref();
        if let Some(user) = object_id.and_then(|id| linked_user(directory, id)) {
            return Ok(status(user, true));
        }
        let key = object_id.unwrap_or(&activity.from.id).to_owned();
        let email = match self.cached(&key) {
            Some(email) => email,
            None => {
                let email = match connector
                    .get_member(
                        &activity.service_url,
                        &activity.conversation.id,
                        &activity.from.id,
                    )
                    .await
                {
                    Ok(member) => member.email_address(),
                    Err(ConnectorError::Rejected { status: 404, .. }) => None,
                    Err(error) => return Err(error),
                };
                self.remember(&key, email.clone());
                email
            }
        };
        Ok(resolve(directory, object_id, email.as_deref()))
    }

    fn cached(&self, key: &str) -> Option<Option<String>> {
        let cache = self.emails.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .get(key)
            .filter(|c| c.until > Instant::now())
            .map(|c| c.email.clone())
    }

    fn remember(&self, key: &str, email: Option<String>) {
        let ttl = if email.is_some() {
            EMAIL_KNOWN_FOR
        } else {
            EMAIL_MISSING_FOR
        };
        let mut cache = self.emails.lock().unwrap_or_else(|e| e.into_inner());
        cache.insert(
            key.to_owned(),
            CachedEmail {
                email,
                until: Instant::now() + ttl,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sesame_core::directory::ChatIdentities;

    fn user(id: &str, email: &str, teams: Option<&str>, active: bool) -> User {
        User {
            id: UserId::new(id).unwrap(),
            email: email.into(),
            display_name: id.into(),
            manager: None,
            groups: Default::default(),
            chat: ChatIdentities {
                slack: None,
                teams: teams.map(str::to_owned),
            },
            active,
        }
    }

    #[test]
    fn explicit_links_win_over_emails() {
        let directory = Directory::new(
            [
                user("alice", "alice@example.com", None, true),
                user("carol", "carol@example.com", Some("oid-carol"), true),
                user("olga", "olga@example.com", None, false),
            ],
            [],
        );
        let known = |id: &str, linked| TeamsPerson::Known {
            user: UserId::new(id).unwrap(),
            linked,
        };
        // Carol's link wins even when the email says Alice.
        assert_eq!(
            resolve(&directory, Some("oid-carol"), Some("alice@example.com")),
            known("carol", true)
        );
        assert_eq!(
            resolve(&directory, Some("oid-a"), Some("alice@example.com")),
            known("alice", false)
        );
        // Carol's email on another account does not reach Carol: she is linked elsewhere.
        assert_eq!(
            resolve(&directory, Some("oid-x"), Some("carol@example.com")),
            TeamsPerson::Unlinked {
                email: Some("carol@example.com".into())
            }
        );
        assert_eq!(
            resolve(&directory, Some("oid-o"), Some("olga@example.com")),
            TeamsPerson::Inactive(UserId::new("olga").unwrap())
        );
        let nobody = resolve(&directory, None, None);
        assert_eq!(nobody, TeamsPerson::Unlinked { email: None });
        assert!(nobody.refusal().unwrap().contains("Nothing was created"));
    }
}
