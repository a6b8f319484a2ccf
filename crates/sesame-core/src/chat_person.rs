//! Who a chat account is in the directory, the same way on every platform.
//!
//! An explicit link (`chat.slack`, `chat.teams` on the directory entry) always wins. Otherwise the
//! account's email, as the platform verified it, is looked up, but only when that person is not
//! explicitly linked to a *different* account on the platform: an administrator's mapping
//! overrides what an email suggests. Nobody is ever created from a chat account. Pure: the
//! adapter asks its platform for the email and hands it in.

use crate::directory::{Directory, User};
use crate::ids::UserId;

/// A chat platform that people are linked to in the directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatPlatform {
    Slack,
    Teams,
}

impl ChatPlatform {
    /// The platform's name in people's words.
    pub fn label(self) -> &'static str {
        match self {
            ChatPlatform::Slack => "Slack",
            ChatPlatform::Teams => "Teams",
        }
    }

    /// The account a directory entry is linked to on this platform.
    pub fn linked_account(self, user: &User) -> Option<&str> {
        match self {
            ChatPlatform::Slack => user.chat.slack.as_deref(),
            ChatPlatform::Teams => user.chat.teams.as_deref(),
        }
    }

    /// The person whose directory entry links `account`, active or not.
    pub fn linked_user<'d>(self, directory: &'d Directory, account: &str) -> Option<&'d User> {
        match self {
            ChatPlatform::Slack => directory.user_by_slack_id(account),
            ChatPlatform::Teams => directory
                .users()
                .find(|user| user.chat.teams.as_deref() == Some(account)),
        }
    }
}

/// What Sesame knows of a chat account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChatPerson {
    /// An active person in the directory; `linked` says whether by an explicit link (else by
    /// email, which the caller then records as a link).
    Known { user: UserId, linked: bool },
    /// A directory entry that was deactivated.
    Inactive(UserId),
    /// Nobody in the directory: `email` is what the platform knows, if anything, so the person
    /// can be told what to ask an administrator to link.
    Unlinked { email: Option<String> },
}

impl ChatPerson {
    /// The active person, if any.
    pub fn known(&self) -> Option<&UserId> {
        match self {
            ChatPerson::Known { user, .. } => Some(user),
            _ => None,
        }
    }

    /// A sentence for the person when they cannot act in Sesame, `None` when they can.
    pub fn refusal(&self, platform: ChatPlatform) -> Option<String> {
        let name = platform.label();
        match self {
            ChatPerson::Known { .. } => None,
            ChatPerson::Inactive(_) => Some(String::from(
                "Your Sesame account is deactivated, so you cannot request or approve access. \
                 If this is a mistake, ask your IT administrators.",
            )),
            ChatPerson::Unlinked { email: Some(email) } => Some(format!(
                "Sesame cannot find you: nobody in its directory has the email {email} of your \
                 {name} account, or that person is linked to another {name} account. Nothing \
                 was created. Ask your IT administrators to link your {name} account to your \
                 person in Sesame."
            )),
            ChatPerson::Unlinked { email: None } => Some(format!(
                "Sesame cannot find you: your {name} account shows no email and is not linked \
                 to a person in Sesame's directory. Nothing was created. Ask your IT \
                 administrators to link your {name} account.",
            )),
        }
    }
}

fn status(user: &User, linked: bool) -> ChatPerson {
    if user.active {
        ChatPerson::Known {
            user: user.id.clone(),
            linked,
        }
    } else {
        ChatPerson::Inactive(user.id.clone())
    }
}

/// The person behind an explicit link, if the account has one.
pub fn by_link(directory: &Directory, platform: ChatPlatform, account: &str) -> Option<ChatPerson> {
    platform
        .linked_user(directory, account)
        .map(|user| status(user, true))
}

/// Who an account is, given what is known: the explicit link first, then the email.
pub fn resolve(
    directory: &Directory,
    platform: ChatPlatform,
    account: Option<&str>,
    email: Option<&str>,
) -> ChatPerson {
    if let Some(found) = account.and_then(|a| by_link(directory, platform, a)) {
        return found;
    }
    let Some(email) = email else {
        return ChatPerson::Unlinked { email: None };
    };
    match directory.user_by_email(email) {
        Some(user)
            if platform
                .linked_account(user)
                .is_none_or(|linked| Some(linked) == account) =>
        {
            status(user, false)
        }
        _ => ChatPerson::Unlinked {
            email: Some(email.to_owned()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::DirectoryFile;

    fn directory() -> Directory {
        DirectoryFile::parse(
            "users:
  - { id: alice, email: alice@example.com, display_name: Alice }
  - { id: bob, email: bob@example.com, display_name: Bob, chat: { slack: U0BOB, teams: oid-bob } }
  - { id: gone, email: gone@example.com, display_name: Gone, active: false }
",
        )
        .unwrap()
        .into_directory()
    }

    fn known(id: &str, linked: bool) -> ChatPerson {
        ChatPerson::Known {
            user: UserId::new(id).unwrap(),
            linked,
        }
    }

    #[test]
    fn links_win_then_emails_map_unless_the_person_is_linked_elsewhere() {
        let directory = directory();
        for (platform, bobs) in [
            (ChatPlatform::Slack, "U0BOB"),
            (ChatPlatform::Teams, "oid-bob"),
        ] {
            let find = |account: &str, email: Option<&str>| {
                resolve(&directory, platform, Some(account), email)
            };
            // Bob's link wins even when the email says Alice.
            assert_eq!(find(bobs, Some("alice@example.com")), known("bob", true));
            assert_eq!(find("X1", Some("alice@example.com")), known("alice", false));
            // Bob's email on another account does not reach Bob: he is linked elsewhere.
            assert!(matches!(
                find("X2", Some("bob@example.com")),
                ChatPerson::Unlinked { email: Some(_) }
            ));
            assert!(matches!(
                find("X3", Some("gone@example.com")),
                ChatPerson::Inactive(_)
            ));
            let nobody = find("X4", None);
            assert_eq!(nobody, ChatPerson::Unlinked { email: None });
            let refusal = nobody.refusal(platform).unwrap();
            assert!(refusal.contains("Nothing was created"), "{refusal}");
            assert!(refusal.contains(platform.label()), "{refusal}");
        }
    }
}
