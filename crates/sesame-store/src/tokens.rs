//! API tokens. The store keeps a hash of each token and never sees the secret itself.

use crate::error::StoreError;
use serde::Serialize;
use sesame_core::{Timestamp, UserId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewToken {
    pub name: String,
    pub user: UserId,
    /// A hash of the secret (the caller chooses the hash; the store only compares it).
    pub hash: String,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    /// Who made it, as the audit trail names them.
    pub created_by: String,
}

/// A stored token. `token_by_hash` returns revoked and expired tokens too: the caller decides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenRecord {
    pub id: i64,
    pub name: String,
    pub user: UserId,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
    /// Who made it; unknown for tokens made before this was recorded.
    pub created_by: Option<String>,
}

impl TokenRecord {
    /// Whether the token may be used at `now`: not revoked and not expired.
    pub fn is_usable(&self, now: Timestamp) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|at| now < at)
    }
}

pub(crate) const TOKEN_COLUMNS: &str =
    "id, name, user_id, created_at, expires_at, revoked_at, created_by";

#[derive(sqlx::FromRow)]
pub(crate) struct TokenRow {
    pub id: i64,
    pub name: String,
    pub user_id: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub created_by: Option<String>,
}

impl TokenRow {
    pub fn into_record(self) -> Result<TokenRecord, StoreError> {
        let user = UserId::new(self.user_id)
            .map_err(|e| StoreError::Corrupt(format!("token {}: {e}", self.id)))?;
        Ok(TokenRecord {
            id: self.id,
            name: self.name,
            user,
            created_at: Timestamp(self.created_at),
            expires_at: self.expires_at.map(Timestamp),
            revoked_at: self.revoked_at.map(Timestamp),
            created_by: self.created_by,
        })
    }
}
