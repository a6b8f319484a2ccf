//! The web portal's rows: signed-in sessions, OpenID Connect sign-ins under way, and the offers
//! that link a chat account to a person. Secrets (session ids, `state`, link tokens) are stored as
//! hashes chosen by the caller; the store only compares them.

use crate::error::StoreError;
use crate::{Inner, Store};
use sesame_core::{Timestamp, UserId};

/// A signed-in browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalSession {
    pub id_hash: String,
    pub user: UserId,
    pub csrf_token: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// An OpenID Connect sign-in between the redirect to the provider and the provider's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalLogin {
    pub state_hash: String,
    pub nonce: String,
    pub pkce_verifier: String,
    /// The portal path to show after signing in.
    pub return_to: String,
    pub expires_at: Timestamp,
}

/// An offer to link a chat account (`platform` is `slack` or `teams`) to whoever confirms it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatLinkOffer {
    pub token_hash: String,
    pub platform: String,
    pub account: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub used_at: Option<Timestamp>,
    pub used_by: Option<UserId>,
}

#[derive(sqlx::FromRow)]
pub(crate) struct PortalSessionRow {
    pub id_hash: String,
    pub user_id: String,
    pub csrf_token: String,
    pub created_at: i64,
    pub expires_at: i64,
}

impl PortalSessionRow {
    pub(crate) fn into_record(self) -> Result<PortalSession, StoreError> {
        let user = UserId::new(self.user_id)
            .map_err(|e| StoreError::Corrupt(format!("portal session: {e}")))?;
        Ok(PortalSession {
            id_hash: self.id_hash,
            user,
            csrf_token: self.csrf_token,
            created_at: Timestamp(self.created_at),
            expires_at: Timestamp(self.expires_at),
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct PortalLoginRow {
    pub state_hash: String,
    pub nonce: String,
    pub pkce_verifier: String,
    pub return_to: String,
    pub expires_at: i64,
}

impl PortalLoginRow {
    pub(crate) fn into_record(self) -> PortalLogin {
        PortalLogin {
            state_hash: self.state_hash,
            nonce: self.nonce,
            pkce_verifier: self.pkce_verifier,
            return_to: self.return_to,
            expires_at: Timestamp(self.expires_at),
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ChatLinkOfferRow {
    pub token_hash: String,
    pub platform: String,
    pub account: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    pub used_by: Option<String>,
}

impl ChatLinkOfferRow {
    pub(crate) fn into_record(self) -> Result<ChatLinkOffer, StoreError> {
        let used_by = self
            .used_by
            .map(UserId::new)
            .transpose()
            .map_err(|e| StoreError::Corrupt(format!("chat link offer: {e}")))?;
        Ok(ChatLinkOffer {
            token_hash: self.token_hash,
            platform: self.platform,
            account: self.account,
            created_at: Timestamp(self.created_at),
            expires_at: Timestamp(self.expires_at),
            used_at: self.used_at.map(Timestamp),
            used_by,
        })
    }
}

/// Runs the same call on whichever backend the store holds.
macro_rules! on_either {
    ($store:expr, $pools:ident => $call:expr) => {
        match &$store.inner {
            Inner::Sqlite($pools) => $call,
            Inner::Postgres($pools) => $call,
        }
    };
}

impl Store {
    pub async fn create_portal_session(&self, session: &PortalSession) -> Result<(), StoreError> {
        on_either!(self, pools => pools.create_portal_session(session).await)
    }

    /// The session with this id hash, expired or not: the caller compares `expires_at`.
    pub async fn portal_session(&self, id_hash: &str) -> Result<Option<PortalSession>, StoreError> {
        on_either!(self, pools => pools.portal_session(id_hash).await)
    }

    /// Ends a session; false when there was none.
    pub async fn delete_portal_session(&self, id_hash: &str) -> Result<bool, StoreError> {
        on_either!(self, pools => pools.delete_portal_session(id_hash).await)
    }

    /// Forgets sessions and sign-ins that ended before `now`; returns how many rows went.
    pub async fn delete_expired_portal_rows(&self, now: Timestamp) -> Result<u64, StoreError> {
        on_either!(self, pools => pools.delete_expired_portal_rows(now).await)
    }

    pub async fn create_portal_login(&self, login: &PortalLogin) -> Result<(), StoreError> {
        on_either!(self, pools => pools.create_portal_login(login).await)
    }

    /// Removes and returns the sign-in with this state hash, so that each can finish only once.
    pub async fn take_portal_login(
        &self,
        state_hash: &str,
    ) -> Result<Option<PortalLogin>, StoreError> {
        on_either!(self, pools => pools.take_portal_login(state_hash).await)
    }

    pub async fn create_chat_link_offer(&self, offer: &ChatLinkOffer) -> Result<(), StoreError> {
        on_either!(self, pools => pools.create_chat_link_offer(offer).await)
    }

    pub async fn chat_link_offer(
        &self,
        token_hash: &str,
    ) -> Result<Option<ChatLinkOffer>, StoreError> {
        on_either!(self, pools => pools.chat_link_offer(token_hash).await)
    }

    /// Marks the offer used by `user` if it is unused and unexpired at `now`; false otherwise, so
    /// two confirmations of one offer cannot both succeed.
    pub async fn use_chat_link_offer(
        &self,
        token_hash: &str,
        user: &UserId,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        on_either!(self, pools => pools.use_chat_link_offer(token_hash, user, now).await)
    }
}
