//! Linking a chat account to a person by their own confirmation: the chat side offers a link (a
//! URL with a random token, valid for an hour) to someone Sesame cannot match, they sign in to the
//! portal and confirm, and the link is stored through [`App::link_chat_account`]. Only the token's
//! hash is stored, and an offer is used at most once.

use crate::tokens::hash_token;
use crate::{App, AppError, Principal};
use serde_json::json;
use sesame_core::{AuditEvent, Span, Timestamp, UserId};
use sesame_store::portal::ChatLinkOffer;

/// How long a link offer can be confirmed, in seconds.
pub const LINK_OFFER_SECONDS: i64 = 60 * 60;

/// The chat platforms a person can link an account on.
pub const LINK_PLATFORMS: [&str; 2] = ["slack", "teams"];

/// Where a link offer stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkOfferStatus {
    /// Waiting for confirmation.
    Open {
        platform: String,
        account: String,
    },
    /// Already confirmed (by `by`).
    Used {
        by: Option<UserId>,
    },
    Expired,
}

impl App {
    /// Offers to link `account` on `platform` (`slack` or `teams`) to whoever confirms it within
    /// an hour, and returns the URL to send its owner: `{public_url}/link/{token}`.
    pub async fn offer_chat_link(
        &self,
        platform: &str,
        account: &str,
        public_url: &str,
    ) -> Result<String, AppError> {
        if !LINK_PLATFORMS.contains(&platform) {
            return Err(AppError::Invalid(format!(
                "unknown chat platform {platform:?}; expected slack or teams"
            )));
        }
        let account = account.trim();
        if account.is_empty()
            || account.len() > 200
            || account.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(AppError::Invalid(String::from(
                "a chat account id is 1 to 200 characters without spaces",
            )));
        }
        let token = crate::sessions::random_secret();
        let now = self.now();
        self.store()
            .create_chat_link_offer(&ChatLinkOffer {
                token_hash: hash_token(&token),
                platform: platform.to_owned(),
                account: account.to_owned(),
                created_at: now,
                expires_at: now.plus(Span::from_seconds(LINK_OFFER_SECONDS)),
                used_at: None,
                used_by: None,
            })
            .await?;
        Ok(format!("{}/link/{token}", public_url.trim_end_matches('/')))
    }

    /// Where the offer behind `token` stands; `NotFound` for a token that was never offered.
    pub async fn chat_link_offer(&self, token: &str) -> Result<LinkOfferStatus, AppError> {
        let offer = self.find_offer(token).await?;
        Ok(status_of(&offer, self.now()))
    }

    /// Links the offer's account to `who` and uses the offer up. Refused (and nothing changes)
    /// when the offer is not open, when `who` already has an account on that platform, or when
    /// the account is already someone else's.
    pub async fn confirm_chat_link(
        &self,
        who: &Principal,
        token: &str,
    ) -> Result<(String, String), AppError> {
        let offer = self.find_offer(token).await?;
        let now = self.now();
        let LinkOfferStatus::Open { platform, account } = status_of(&offer, now) else {
            return Err(AppError::Conflict(String::from(
                "this link was already used or has expired; ask for a new one in chat",
            )));
        };
        let directory = self.directory();
        let linked = |user: &sesame_core::User| match platform.as_str() {
            "slack" => user.chat.slack.clone(),
            _ => user.chat.teams.clone(),
        };
        if let Some(me) = directory.user(&who.user) {
            if let Some(existing) = linked(me).filter(|existing| existing != &account) {
                return Err(AppError::Conflict(format!(
                    "you already have the {platform} account {existing}; an administrator can \
                     change it in the directory"
                )));
            }
        }
        if let Some(other) = directory
            .users()
            .find(|u| u.id != who.user && linked(u).as_deref() == Some(account.as_str()))
        {
            return Err(AppError::Conflict(format!(
                "the {platform} account {account} is already linked to {}; ask an administrator",
                other.id
            )));
        }
        if !self
            .store()
            .use_chat_link_offer(&offer.token_hash, &who.user, now)
            .await?
        {
            return Err(AppError::Conflict(String::from(
                "this link was already used or has expired; ask for a new one in chat",
            )));
        }
        self.link_chat_account(
            &who.user,
            &platform,
            &account,
            crate::directory::LinkedBy::ConfirmedInPortal,
        )
        .await?;
        let event = AuditEvent::new(
            now,
            &who.actor(),
            "chat_link_confirmed",
            json!({ "user": who.user, "platform": platform, "account": account, "how": "confirmed in the portal" }),
        );
        self.store().append_audit(None, &event).await?;
        Ok((platform, account))
    }

    async fn find_offer(&self, token: &str) -> Result<ChatLinkOffer, AppError> {
        let unknown = || AppError::NotFound(String::from("this link is not known"));
        if token.is_empty() || token.len() > 128 {
            return Err(unknown());
        }
        self.store()
            .chat_link_offer(&hash_token(token))
            .await?
            .ok_or_else(unknown)
    }
}

fn status_of(offer: &ChatLinkOffer, now: Timestamp) -> LinkOfferStatus {
    if offer.used_at.is_some() {
        LinkOfferStatus::Used {
            by: offer.used_by.clone(),
        }
    } else if offer.expires_at <= now {
        LinkOfferStatus::Expired
    } else {
        LinkOfferStatus::Open {
            platform: offer.platform.clone(),
            account: offer.account.clone(),
        }
    }
}
