//! The audit trail's public types. The trail is append-only: there is no API to change or delete a
//! row, and triggers in both databases refuse UPDATE and DELETE. Every row is chained to the one
//! before it (see `chain`).

use crate::chain::canonical_json;
use crate::error::StoreError;
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
/// `detail` is canonical JSON (keys sorted, no whitespace), as the chain hashes it.
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
            detail: canonical_json(&event.detail),
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

/// A stored detail as JSON. A row whose detail is not JSON (which the store never writes) is shown
/// with its raw text, so that one bad row cannot hide the rest of the trail.
pub(crate) fn parse_detail(id: i64, detail: String) -> serde_json::Value {
    serde_json::from_str(&detail).unwrap_or_else(|e| {
        tracing::warn!(audit_id = id, error = %e, "audit detail is not JSON; returning it as text");
        serde_json::Value::String(detail)
    })
}

impl AuditRow {
    pub fn into_record(self) -> AuditRecord {
        let detail = parse_detail(self.id, self.detail);
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

/// An audit row with its chain hashes.
#[derive(sqlx::FromRow)]
pub(crate) struct ChainedRow {
    pub id: i64,
    pub request_number: Option<i64>,
    pub at: i64,
    pub actor: String,
    pub kind: String,
    pub detail: String,
    pub prev_hash: Option<String>,
    pub hash: Option<String>,
}

impl ChainedRow {
    pub fn into_event(self) -> crate::chain::ChainedEvent {
        crate::chain::ChainedEvent {
            id: self.id,
            request: self.request_number.map(RequestNumber),
            at: Timestamp(self.at),
            actor: self.actor,
            kind: self.kind,
            detail: parse_detail(self.id, self.detail),
            prev_hash: self.prev_hash,
            hash: self.hash,
        }
    }
}
