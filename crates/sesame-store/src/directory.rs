//! The durable copy of the directory. Users and groups are stored as JSON documents keyed by id; the
//! application rebuilds its in-memory `Directory` from them and watches `directory_version` to learn
//! that another replica changed something.

use crate::error::{encode_error, StoreError};
use sesame_core::{Group, User};

pub(crate) fn encode_user(user: &User) -> Result<String, StoreError> {
    serde_json::to_string(user).map_err(|e| encode_error("a user", e))
}

pub(crate) fn encode_group(group: &Group) -> Result<String, StoreError> {
    serde_json::to_string(group).map_err(|e| encode_error("a group", e))
}

pub(crate) fn decode_user(id: &str, body: &str) -> Result<User, StoreError> {
    serde_json::from_str(body).map_err(|e| StoreError::Corrupt(format!("user {id}: {e}")))
}

pub(crate) fn decode_group(id: &str, body: &str) -> Result<Group, StoreError> {
    serde_json::from_str(body).map_err(|e| StoreError::Corrupt(format!("group {id}: {e}")))
}
