//! API tokens: random secrets shown once, stored only as SHA-256 hashes. A token acts as the person
//! it was created for, with that person's current roles.

use crate::{read_lock, write_lock, App, AppError, Principal};
use rand::RngCore;
use serde_json::json;
use sesame_core::{Actor, AuditEvent, Timestamp, UserId};
use sesame_store::{NewToken, TokenRecord};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::RwLock;

/// Every token starts with this, so secret scanners and people can recognise one.
pub const TOKEN_PREFIX: &str = "sesame_";

/// How long a token lookup is trusted before the store is asked again. A revoked token (by hand,
/// or because its person left) stops working within this time on every replica; one lookup per
/// token and second is nothing next to the request it authenticates.
const CACHE_MILLIS: i64 = 1_000;

/// How long a token lives unless its maker says otherwise.
pub const DEFAULT_TOKEN_LIFETIME: &str = "90d";

/// What a token hash stood for when it was last looked up.
#[derive(Clone)]
struct CachedToken {
    user: UserId,
    expires_at: Option<Timestamp>,
    looked_up_at: Timestamp,
}

#[derive(Default)]
pub(crate) struct TokenCache {
    entries: RwLock<HashMap<String, CachedToken>>,
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A token that was just created: the only time its secret exists outside the caller's hands.
pub struct CreatedToken {
    pub secret: String,
    pub record: TokenRecord,
}

impl App {
    /// Creates a token for `user`. `by` is who asked (an admin on the CLI, or the system).
    pub async fn create_token(
        &self,
        user: &UserId,
        name: &str,
        expires_at: Option<Timestamp>,
        by: &Actor,
    ) -> Result<CreatedToken, AppError> {
        if self.directory().user(user).is_none_or(|u| !u.active) {
            return Err(AppError::Invalid(format!(
                "{user} is not an active person in the directory"
            )));
        }
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(AppError::Invalid(String::from(
                "a token needs a name of 1 to 100 characters",
            )));
        }
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let secret = format!("{TOKEN_PREFIX}{}", hex::encode(bytes));
        let now = self.now();
        let token = NewToken {
            name: name.to_owned(),
            user: user.clone(),
            hash: hash_token(&secret),
            created_at: now,
            expires_at,
            created_by: by.label(),
        };
        let audit = AuditEvent::new(
            now,
            by,
            "token_created",
            json!({
                "user": user,
                "name": name,
                "expires_at": expires_at.map(sesame_core::Timestamp::to_rfc3339),
                "never_expires": expires_at.is_none(),
            }),
        );
        let record = self.store().create_token(&token, &audit).await?;
        Ok(CreatedToken { secret, record })
    }

    /// The principal a bearer token stands for.
    pub async fn authenticate(&self, secret: &str) -> Result<Principal, AppError> {
        if !secret.starts_with(TOKEN_PREFIX) || secret.len() > 200 {
            return Err(AppError::Unauthenticated);
        }
        let hash = hash_token(secret);
        let now = self.now();
        let cached = read_lock(&self.inner.token_cache.entries)
            .get(&hash)
            .cloned();
        let (user, expires_at) = match cached {
            Some(c) if now.0 - c.looked_up_at.0 < CACHE_MILLIS => (c.user, c.expires_at),
            _ => {
                let record = self
                    .store()
                    .token_by_hash(&hash)
                    .await?
                    .ok_or(AppError::Unauthenticated)?;
                if record.revoked_at.is_some() {
                    write_lock(&self.inner.token_cache.entries).remove(&hash);
                    return Err(AppError::Unauthenticated);
                }
                let mut entries = write_lock(&self.inner.token_cache.entries);
                if entries.len() > 10_000 {
                    entries.clear();
                }
                entries.insert(
                    hash,
                    CachedToken {
                        user: record.user.clone(),
                        expires_at: record.expires_at,
                        looked_up_at: now,
                    },
                );
                (record.user, record.expires_at)
            }
        };
        if expires_at.is_some_and(|e| e <= now) {
            return Err(AppError::Unauthenticated);
        }
        self.principal(&user)
    }

    /// Every API token, active or not, without secrets.
    pub async fn list_tokens(&self) -> Result<Vec<TokenRecord>, AppError> {
        Ok(self.store().list_tokens().await?)
    }

    pub async fn revoke_token(&self, id: i64, by: &Actor) -> Result<bool, AppError> {
        let now = self.now();
        let audit = AuditEvent::new(now, by, "token_revoked", json!({ "token": id }));
        let revoked = self.store().revoke_token(id, now, &audit).await?;
        self.forget_cached_tokens();
        Ok(revoked)
    }

    pub(crate) fn forget_cached_tokens(&self) {
        write_lock(&self.inner.token_cache.entries).clear();
    }
}
