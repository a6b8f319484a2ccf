//! Provisioning from an identity provider (SCIM): people and groups created, changed, deactivated
//! and deleted by the provider, with their SCIM bookkeeping, and what leaving means for requests.
//!
//! The web layer speaks SCIM's JSON (with the `sesame-scim` crate); here a user is core's `User`
//! plus a [`ScimRecord`]. Every change is read, modified and written under one lock, so two
//! provider calls in this process never lose each other's update. When a person becomes inactive
//! (deactivated or deleted), Sesame cancels the requests still waiting for them (pending, or
//! approved but not yet fulfilled) and ends their active access, each through the engine as
//! `Actor::System`, with its own audit events.

mod departure;
mod groups;
mod users;

use crate::{App, AppError, Principal};
use serde_json::json;
use sesame_core::{AuditEvent, Group, RequestNumber, User, UserId};
use sesame_store::ScimKind;
/// SCIM's bookkeeping for a directory entry, re-exported as `ScimUser` and `ScimGroup` carry it.
pub use sesame_store::ScimRecord;
use std::collections::{BTreeMap, BTreeSet};

/// How the audit trail names provisioning changes.
const SCIM_ACTOR: &str = "scim";

/// Who calls the provisioning use cases: the identity provider (authenticated by the web layer with
/// the configured SCIM token) or an administrator.
#[derive(Debug, Clone)]
pub enum ScimCaller {
    Provisioner,
    Person(Principal),
}

impl ScimCaller {
    fn check(&self) -> Result<(), AppError> {
        match self {
            ScimCaller::Provisioner => Ok(()),
            ScimCaller::Person(p) if p.admin => Ok(()),
            ScimCaller::Person(_) => Err(AppError::Forbidden(String::from(
                "only administrators and the identity provider may provision people",
            ))),
        }
    }
}

/// A user as SCIM shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ScimUser {
    pub user: User,
    pub record: ScimRecord,
}

/// What a provider sets on a user; everything else (chat links, groups) is kept.
#[derive(Debug, Clone, PartialEq)]
pub struct ScimUserFields {
    /// The provider's unique name for the person, kept as sent (often the email).
    pub user_name: String,
    /// The person's email; `None` when the provider sent none (then Sesame stores
    /// [`placeholder_email`]).
    pub email: Option<String>,
    pub display_name: String,
    pub active: bool,
    pub manager: Option<UserId>,
    pub external_id: Option<String>,
    /// Attributes the directory has no place for, kept and shown back.
    pub attributes: serde_json::Value,
}

/// A group as SCIM shows it: its members are every user (active or not) who has it, and the
/// members the provider named that are not users yet (`pending`, as sent).
#[derive(Debug, Clone, PartialEq)]
pub struct ScimGroup {
    pub group: Group,
    pub members: BTreeSet<UserId>,
    pub pending: Vec<serde_json::Value>,
    pub record: ScimRecord,
}

/// What a provider sets on a group. `members` are the member objects as sent (each with a
/// `value`); those naming a user become memberships, the others wait for that user.
#[derive(Debug, Clone, PartialEq)]
pub struct ScimGroupFields {
    pub display_name: String,
    pub external_id: Option<String>,
    pub members: Vec<serde_json::Value>,
    pub attributes: serde_json::Value,
}

/// Where a group's SCIM record keeps the members that name no user yet.
const PENDING_MEMBERS: &str = "members";

/// The reserved domain of the email Sesame gives a person the provider sent no email for: `.invalid`
/// never routes and never matches a Slack account's email.
pub const PLACEHOLDER_EMAIL_DOMAIN: &str = "scim.invalid";

/// The email stored for a person provisioned without one: `<id>@scim.invalid`.
pub fn placeholder_email(id: &UserId) -> String {
    format!(
        "{}@{PLACEHOLDER_EMAIL_DOMAIN}",
        id.as_str().replace('@', ".")
    )
}

/// Whether the email is a placeholder (not shown over SCIM as one of the person's emails).
pub fn is_placeholder_email(email: &str) -> bool {
    email
        .rsplit_once('@')
        .is_some_and(|(_, domain)| domain.eq_ignore_ascii_case(PLACEHOLDER_EMAIL_DOMAIN))
}

fn pending_members(record: &ScimRecord) -> Vec<serde_json::Value> {
    record.attributes[PENDING_MEMBERS]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn member_value(member: &serde_json::Value) -> Option<&str> {
    member["value"].as_str().map(str::trim)
}

/// The user name SCIM shows for a user: as the provider sent it, else the email.
pub fn user_name(user: &ScimUser) -> &str {
    user.record.attributes["userName"]
        .as_str()
        .unwrap_or(&user.user.email)
}

/// What deactivating a person did to their requests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Departure {
    pub canceled: Vec<RequestNumber>,
    pub revoked: Vec<RequestNumber>,
    /// Requests whose current step can no longer reach its quorum without them: administrators
    /// were told.
    pub stuck: Vec<RequestNumber>,
}

fn record(kind: ScimKind, id: &str, at: sesame_core::Timestamp) -> ScimRecord {
    ScimRecord {
        kind,
        id: id.to_owned(),
        external_id: None,
        created_at: at,
        updated_at: at,
        deleted_at: None,
        attributes: json!({}),
    }
}

/// The SCIM record of a directory entry (a default, without times, for one the provider never
/// touched), or `None` when the provider deleted the entry.
fn shown_record(
    records: &BTreeMap<String, ScimRecord>,
    kind: ScimKind,
    id: &str,
) -> Option<ScimRecord> {
    let record = records
        .get(id)
        .cloned()
        .unwrap_or_else(|| record(kind, id, sesame_core::Timestamp(0)));
    record.deleted_at.is_none().then_some(record)
}

fn audit(at: sesame_core::Timestamp, kind: &str, detail: serde_json::Value) -> AuditEvent {
    AuditEvent {
        at,
        actor: String::from(SCIM_ACTOR),
        kind: kind.to_owned(),
        detail,
    }
}

impl App {
    async fn scim_records(&self, kind: ScimKind) -> Result<BTreeMap<String, ScimRecord>, AppError> {
        Ok(self
            .store()
            .scim_records(kind)
            .await?
            .into_iter()
            .map(|r| (r.id.clone(), r))
            .collect())
    }

    /// Starts a provisioning change: checks the caller, takes the provisioning lock (held until the
    /// guard is dropped) and reads the directory afresh.
    async fn begin_scim_change(
        &self,
        who: &ScimCaller,
    ) -> Result<tokio::sync::MutexGuard<'_, ()>, AppError> {
        who.check()?;
        let guard = self.inner.scim_lock.lock().await;
        self.reload_directory().await?;
        Ok(guard)
    }
}
