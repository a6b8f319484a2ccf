//! What a transition produces besides the new request: audit events (what happened), notices (who
//! must be told: the intent, never a rendered message) and timers (what must happen later).

use crate::ids::UserId;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// Who did something: a person, someone at the command line who is not a person in the directory
/// (named by their operating-system account), or Sesame itself (timers, expiry).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Actor {
    User { id: UserId, admin: bool },
    Operator { account: String },
    System,
}

impl Actor {
    pub fn user(id: UserId) -> Self {
        Actor::User { id, admin: false }
    }

    pub fn admin(id: UserId) -> Self {
        Actor::User { id, admin: true }
    }

    pub fn user_id(&self) -> Option<&UserId> {
        match self {
            Actor::User { id, .. } => Some(id),
            Actor::Operator { .. } | Actor::System => None,
        }
    }

    pub fn is_admin(&self) -> bool {
        matches!(self, Actor::User { admin: true, .. })
    }

    /// How the audit trail names the actor.
    pub fn label(&self) -> String {
        match self {
            Actor::User { id, .. } => id.to_string(),
            Actor::Operator { account } => format!("cli:{account}"),
            Actor::System => String::from("sesame"),
        }
    }
}

/// One line of the audit trail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    pub at: Timestamp,
    pub actor: String,
    pub kind: String,
    pub detail: serde_json::Value,
}

impl AuditEvent {
    pub fn new(at: Timestamp, actor: &Actor, kind: &str, detail: serde_json::Value) -> Self {
        AuditEvent {
            at,
            actor: actor.label(),
            kind: kind.to_owned(),
            detail,
        }
    }
}

/// A message owed to someone about a request. Adapters render it from the request's state at delivery
/// time, so a late delivery never shows an old state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "notice", rename_all = "snake_case")]
pub enum Notice {
    /// The request changed: refresh the requester's message and add a step to its thread.
    RequestUpdated,
    /// Ask these approvers to decide a step.
    ApprovalRequested { step: usize, approvers: Vec<UserId> },
    /// A decision was made on a step: refresh every approver's copy.
    StepDecided { step: usize },
    /// Remind the approvers who have not decided yet.
    ApprovalReminder { step: usize },
    /// The step was escalated to these people.
    Escalated { step: usize, to: Vec<UserId> },
    /// Ask the fulfillers to grant the access.
    FulfilmentRequested,
    /// The fulfilment task was done or refused: refresh the fulfillers' copies.
    FulfilmentDecided,
    /// Active access ends soon (a day, then an hour, before its end): tell the requester.
    AccessEndingSoon,
    /// Access ended (expired or revoked) and must be removed by hand.
    RemovalRequested,
    /// A comment was added. The text travels with the notice because comments live outside the
    /// request, and adapters hold no database handle to read them; it is the person's own words,
    /// not rendered output, so adapters still escape it like any user text.
    Commented {
        comment: i64,
        author: UserId,
        text: String,
        /// Where it was written: `api`, `portal`, or a chat thread (`slack:<channel>:<ts>`), so an
        /// adapter does not echo a reply back into the thread it came from.
        #[serde(default)]
        source: String,
    },
    /// Something needs an administrator (a step nobody can approve, say).
    AdminAttention { problem: String },
}

impl Notice {
    pub fn kind(&self) -> &'static str {
        match self {
            Notice::RequestUpdated => "request_updated",
            Notice::ApprovalRequested { .. } => "approval_requested",
            Notice::StepDecided { .. } => "step_decided",
            Notice::ApprovalReminder { .. } => "approval_reminder",
            Notice::Escalated { .. } => "escalated",
            Notice::FulfilmentRequested => "fulfilment_requested",
            Notice::FulfilmentDecided => "fulfilment_decided",
            Notice::AccessEndingSoon => "access_ending_soon",
            Notice::RemovalRequested => "removal_requested",
            Notice::Commented { .. } => "commented",
            Notice::AdminAttention { .. } => "admin_attention",
        }
    }
}

/// Something that must happen later. A timer that fires after the request has moved on does
/// nothing, so timers are never cancelled, only outlived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "timer", rename_all = "snake_case")]
pub enum TimerKind {
    Remind {
        step: usize,
    },
    Escalate {
        step: usize,
    },
    PendingExpiry,
    /// A warning before active access ends; `until` is the end it warns about, so a warning for an
    /// end that has since moved does nothing.
    AccessEndingSoon {
        until: Timestamp,
    },
    AccessExpiry,
    /// The target system accepted a grant at `accepted_at` and has not reported back since: the
    /// request fails, and whatever may have been granted is removed.
    ProvisioningTimeout {
        accepted_at: Timestamp,
    },
}

/// Work for the provisioning worker, which talks to a connector and then records what happened
/// through the engine. Each step checks the target system first, so running one twice (after a
/// crash) never grants or removes twice in effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "provision", rename_all = "snake_case")]
pub enum Provision {
    /// Put the approved access in place.
    Grant,
    /// Take the access away (it expired, was revoked, or the request ended before it began).
    Revoke,
    /// An approved extension: make sure the access is still there, then move the end of the
    /// request it extends.
    Extend,
}

impl Provision {
    pub fn name(self) -> &'static str {
        match self {
            Provision::Grant => "grant",
            Provision::Revoke => "revoke",
            Provision::Extend => "extend",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timer {
    pub at: Timestamp,
    pub kind: TimerKind,
}
