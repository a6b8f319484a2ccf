//! SCIM bookkeeping beside the directory: the identity provider's `externalId`, creation and change
//! times, and deletion. Written together with the directory entries it describes, in one
//! transaction ([`DirectoryChange`]).

use crate::error::StoreError;
use sesame_core::{AuditEvent, Group, Timestamp, User};

/// Which kind of SCIM resource a record describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScimKind {
    User,
    Group,
}

impl ScimKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ScimKind::User => "User",
            ScimKind::Group => "Group",
        }
    }

    pub(crate) fn parse(text: &str) -> Result<Self, StoreError> {
        match text {
            "User" => Ok(ScimKind::User),
            "Group" => Ok(ScimKind::Group),
            other => Err(StoreError::Corrupt(format!("unknown SCIM kind {other:?}"))),
        }
    }
}

/// SCIM's view of one directory entry (a user or group id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimRecord {
    pub kind: ScimKind,
    pub id: String,
    pub external_id: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Set when the provider deleted the resource; SCIM then no longer shows it.
    pub deleted_at: Option<Timestamp>,
    /// What the provider sent that the directory has no place for: a JSON object.
    pub attributes: serde_json::Value,
}

/// Directory writes that belong together (a group and the users whose membership changed, say),
/// stored in one transaction that also bumps the directory version once.
#[derive(Debug, Clone, Default)]
pub struct DirectoryChange {
    pub users: Vec<User>,
    pub groups: Vec<Group>,
    pub scim: Vec<ScimRecord>,
    pub audit: Vec<AuditEvent>,
}

#[derive(sqlx::FromRow)]
pub(crate) struct ScimRow {
    kind: String,
    id: String,
    external_id: Option<String>,
    created_at: i64,
    updated_at: i64,
    deleted_at: Option<i64>,
    attributes: String,
}

impl ScimRow {
    pub(crate) fn into_record(self) -> Result<ScimRecord, StoreError> {
        let attributes = serde_json::from_str(&self.attributes)
            .map_err(|e| StoreError::Corrupt(format!("SCIM attributes of {}: {e}", self.id)))?;
        Ok(ScimRecord {
            kind: ScimKind::parse(&self.kind)?,
            id: self.id,
            external_id: self.external_id,
            created_at: Timestamp::from_millis(self.created_at),
            updated_at: Timestamp::from_millis(self.updated_at),
            deleted_at: self.deleted_at.map(Timestamp::from_millis),
            attributes,
        })
    }
}
