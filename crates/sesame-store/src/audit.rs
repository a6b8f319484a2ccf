//! The audit trail's public types. The trail is append-only: there is no API to change or delete a
//! row, and triggers in both databases refuse UPDATE and DELETE.

use crate::error::{encode_error, StoreError};
use serde::Serialize;
use sesame_core::{AuditEvent, RequestNumber, Timestamp};

/// Which audit rows to read, oldest first. Every condition given must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub request: Option<RequestNumber>,
    pub actor: Option<String>,
    pub kind: Option<String>,
    /// Rows at or after this time.
    pub since: Option<Timestamp>,
    /// Rows before this time.
    pub until: Option<Timestamp>,
    /// Keyset pagination: only rows with a greater id.
    pub after_id: Option<i64>,
    /// At most this many (capped at 500; zero means 100).
    pub limit: u32,
}

/// One stored audit row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditRecord {
    pub id: i64,
    pub request: Option<RequestNumber>,
    pub at: Timestamp,
    pub actor: String,
    pub kind: String,
    pub detail: serde_json::Value,
}

/// An audit event ready to insert. It owns its text so that a write can move to a task of its own.
pub(crate) struct EncodedAudit {
    pub at: i64,
    pub actor: String,
    pub kind: String,
    pub detail: String,
}

impl EncodedAudit {
    pub fn new(event: &AuditEvent) -> Result<Self, StoreError> {
        Ok(EncodedAudit {
            at: event.at.millis(),
            actor: event.actor.clone(),
            kind: event.kind.clone(),
            detail: serde_json::to_string(&event.detail)
                .map_err(|e| encode_error("an audit event", e))?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct AuditRow {
    pub id: i64,
    pub request_number: Option<i64>,
    pub at: i64,
    pub actor: String,
    pub kind: String,
    pub detail: String,
}

impl AuditRow {
    /// A row whose detail is not JSON (which the store never writes) is shown with its raw text, so
    /// that one bad row cannot hide the rest of the trail.
    pub fn into_record(self) -> AuditRecord {
        let detail = serde_json::from_str(&self.detail).unwrap_or_else(|e| {
            tracing::warn!(audit_id = self.id, error = %e, "audit detail is not JSON; returning it as text");
            serde_json::Value::String(self.detail)
        });
        AuditRecord {
            id: self.id,
            request: self.request_number.map(RequestNumber),
            at: Timestamp(self.at),
            actor: self.actor,
            kind: self.kind,
            detail,
        }
    }
}
