//! From a chat account to the person acting in Sesame, the same way on every platform: the
//! directory decides ([`sesame_core::chat_person`]); the adapter only asks its platform for the
//! account's verified email, which is cached here so that a click costs no platform call after the
//! first.

use crate::directory::LinkedBy;
use crate::{App, Principal};
use sesame_core::chat_person::{ChatPerson, ChatPlatform};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a verified email is trusted before the platform is asked again.
const EMAIL_KNOWN_FOR: Duration = Duration::from_secs(24 * 3600);
/// How long "this account shows no email" is remembered: short, so a fixed profile is seen soon.
const EMAIL_MISSING_FOR: Duration = Duration::from_secs(15 * 60);

struct CachedEmail {
    email: Option<String>,
    until: Instant,
}

/// The emails a platform reported for its accounts, each kept for a while.
#[derive(Default)]
pub struct EmailCache {
    emails: Mutex<HashMap<String, CachedEmail>>,
}

impl EmailCache {
    /// What was reported for `account`, if it is still fresh: `Some(None)` means "no email".
    pub fn get(&self, account: &str) -> Option<Option<String>> {
        let cache = self.emails.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .get(account)
            .filter(|c| c.until > Instant::now())
            .map(|c| c.email.clone())
    }

    pub fn remember(&self, account: &str, email: Option<String>) {
        let ttl = if email.is_some() {
            EMAIL_KNOWN_FOR
        } else {
            EMAIL_MISSING_FOR
        };
        let mut cache = self.emails.lock().unwrap_or_else(|e| e.into_inner());
        cache.insert(
            account.to_owned(),
            CachedEmail {
                email,
                until: Instant::now() + ttl,
            },
        );
    }
}

/// Why someone in chat cannot act, and whether they can fix it themselves in the portal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChatRefusal {
    Text(String),
    /// The sentence, and the URL where the account's owner confirms the link after signing in.
    Linkable {
        text: String,
        url: String,
    },
}

impl ChatRefusal {
    /// The refusal as one sentence (with the link, when there is one).
    pub fn into_text(self) -> String {
        match self {
            ChatRefusal::Text(text) => text,
            ChatRefusal::Linkable { text, url } => format!(
                "{text}\n\nIf this account is yours, you can link it yourself: open {url} within \
                 an hour, sign in to Sesame and confirm. Only open a link Sesame sent to you."
            ),
        }
    }
}

fn platform_key(platform: ChatPlatform) -> &'static str {
    match platform {
        ChatPlatform::Slack => "slack",
        ChatPlatform::Teams => "teams",
    }
}

impl App {
    /// The principal behind a chat account the adapter looked up. A person found by verified
    /// email is linked explicitly from then on (audited). Someone Sesame cannot match is told why
    /// and, when `link_offer_to` names the portal (it has a sign-in), offered a link to confirm
    /// there that the account is theirs; only that account is ever shown the link, and the person
    /// who signs in must confirm, so the link proves both sides. Nothing is created for anyone.
    pub async fn chat_principal(
        &self,
        platform: ChatPlatform,
        account: Option<&str>,
        person: ChatPerson,
        link_offer_to: Option<&str>,
    ) -> Result<Principal, ChatRefusal> {
        let key = platform_key(platform);
        match person {
            ChatPerson::Known { user, linked } => {
                if let (false, Some(account)) = (linked, account) {
                    if let Err(e) = self
                        .link_chat_account(&user, key, account, LinkedBy::VerifiedEmail)
                        .await
                    {
                        tracing::warn!(error = %e, %user, platform = key, "the chat link was not recorded");
                    }
                }
                self.principal(&user).map_err(|_| {
                    ChatRefusal::Text(String::from(
                        "Your Sesame account is not active, so you cannot act here.",
                    ))
                })
            }
            other => {
                let text = other
                    .refusal(platform)
                    .unwrap_or_else(|| String::from("Sesame cannot find you."));
                let offer = match (&other, account, link_offer_to) {
                    (ChatPerson::Unlinked { .. }, Some(account), Some(portal)) => {
                        match self.offer_chat_link(key, account, portal).await {
                            Ok(url) => Some(url),
                            Err(e) => {
                                tracing::warn!(error = %e, "could not offer a chat link");
                                None
                            }
                        }
                    }
                    _ => None,
                };
                Err(match offer {
                    Some(url) => ChatRefusal::Linkable { text, url },
                    None => ChatRefusal::Text(text),
                })
            }
        }
    }
}

/// What a person is told when their platform could not be asked who they are.
pub const PLATFORM_UNREACHABLE: &str =
    "Sesame could not ask your chat platform who you are just now. Nothing was changed; please \
     try again in a minute.";
