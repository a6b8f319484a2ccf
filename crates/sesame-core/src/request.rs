//! A request and everything that has happened to it. The whole value is stored as one JSON document
//! beside a few indexed columns, so the engine always works on a complete, consistent picture.

use crate::answers::Answers;
use crate::flow::{ApprovalStep, Flow, Fulfillment};
use crate::ids::{FlowId, RequestNumber, UserId};
use crate::time::{Span, Timestamp};
use serde::{Deserialize, Serialize};

/// Where a request stands. `Submitted` and `Approved` are passed through within one transition when
/// nothing has to wait (an auto-approved step, manual fulfilment); they are recorded in the audit
/// trail either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum State {
    Submitted,
    PendingApproval {
        step: usize,
    },
    Approved,
    Fulfilling,
    /// Access is granted until the end time.
    Active {
        until: Timestamp,
    },
    /// Done, with no end time (one-off tasks, permanent access).
    Fulfilled,
    Expired,
    Revoked,
    Denied,
    Canceled,
    Failed,
    ClosedUnanswered,
}

impl State {
    pub fn name(&self) -> &'static str {
        match self {
            State::Submitted => "submitted",
            State::PendingApproval { .. } => "pending_approval",
            State::Approved => "approved",
            State::Fulfilling => "fulfilling",
            State::Active { .. } => "active",
            State::Fulfilled => "fulfilled",
            State::Expired => "expired",
            State::Revoked => "revoked",
            State::Denied => "denied",
            State::Canceled => "canceled",
            State::Failed => "failed",
            State::ClosedUnanswered => "closed_unanswered",
        }
    }

    /// Every state name, for filters and documentation.
    pub const NAMES: [&'static str; 12] = [
        "submitted",
        "pending_approval",
        "approved",
        "fulfilling",
        "active",
        "fulfilled",
        "expired",
        "revoked",
        "denied",
        "canceled",
        "failed",
        "closed_unanswered",
    ];

    /// No command moves a request out of a final state, except that `Fulfilled` (access with no end
    /// time) can still be revoked.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            State::Fulfilled
                | State::Expired
                | State::Revoked
                | State::Denied
                | State::Canceled
                | State::Failed
                | State::ClosedUnanswered
        )
    }
}

/// The parts of the flow a request keeps for its whole life, so that editing or removing a flow
/// never changes the rules for requests already under way.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlowSnapshot {
    pub id: FlowId,
    pub name: String,
    pub owners: Vec<UserId>,
    pub allow_self_approval: bool,
    /// Absent in requests filed before these rules existed: separation of duties applies to them.
    #[serde(default)]
    pub allow_self_fulfilment: bool,
    #[serde(default)]
    pub allow_same_approver_for_several_steps: bool,
    pub fulfillment: Fulfillment,
    pub pending_expires_after: Option<Span>,
}

impl From<&Flow> for FlowSnapshot {
    fn from(flow: &Flow) -> Self {
        FlowSnapshot {
            id: flow.id.clone(),
            name: flow.name.clone(),
            owners: flow.owners.clone(),
            allow_self_approval: flow.allow_self_approval,
            allow_self_fulfilment: flow.allow_self_fulfilment,
            allow_same_approver_for_several_steps: flow.allow_same_approver_for_several_steps,
            fulfillment: flow.fulfillment.clone(),
            pending_expires_after: flow.pending_expires_after,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    Waiting,
    Pending,
    Approved,
    Denied,
    Skipped,
    /// The request ended (canceled, closed unanswered) before anyone decided this step.
    Closed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub by: UserId,
    pub at: Timestamp,
    pub comment: Option<String>,
}

/// One approval step as it ran: who was asked and why, and who decided.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepProgress {
    pub spec: ApprovalStep,
    pub status: StepStatus,
    /// The people whose decision counts, fixed when the step starts (and widened by escalation).
    pub eligible: Vec<UserId>,
    /// Why those people, and who was left out and why.
    pub why: String,
    pub approvals: Vec<Decision>,
    pub denial: Option<Decision>,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
    pub escalated: bool,
    pub reminders_sent: u32,
}

impl StepProgress {
    /// Whether `user` has approved this step.
    pub fn approved_by(&self, user: &UserId) -> bool {
        self.approvals.iter().any(|a| &a.by == user)
    }

    /// The eligible approvers who have not approved yet: the people a quorum step still waits on.
    pub fn undecided(&self) -> impl Iterator<Item = &UserId> {
        self.eligible.iter().filter(|u| !self.approved_by(u))
    }

    pub fn new(spec: ApprovalStep) -> Self {
        StepProgress {
            spec,
            status: StepStatus::Waiting,
            eligible: Vec::new(),
            why: String::new(),
            approvals: Vec::new(),
            denial: None,
            started_at: None,
            finished_at: None,
            escalated: false,
            reminders_sent: 0,
        }
    }
}

/// Manual fulfilment as it ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FulfilmentProgress {
    pub fulfillers: Vec<UserId>,
    pub why: String,
    pub started_at: Timestamp,
    pub finished_at: Option<Timestamp>,
    pub by: Option<UserId>,
    pub note: Option<String>,
}

/// Fulfilment by a connector as it ran: what the target system answered, and when the access was
/// put in place and taken away again. Kept on the request so that its page shows a target system
/// that keeps failing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvisioningProgress {
    /// The connector's name in the configuration.
    pub connector: String,
    /// The work the target system accepted and will report on (a webhook with a callback).
    pub reference: Option<String>,
    pub accepted_at: Option<Timestamp>,
    pub granted_at: Option<Timestamp>,
    pub removed_at: Option<Timestamp>,
    /// The target system's last error, until an attempt succeeds.
    pub last_error: Option<String>,
    /// Failed attempts since the last success.
    pub failures: u32,
}

impl ProvisioningProgress {
    pub fn new(connector: &str) -> Self {
        ProvisioningProgress {
            connector: connector.to_owned(),
            reference: None,
            accepted_at: None,
            granted_at: None,
            removed_at: None,
            last_error: None,
            failures: 0,
        }
    }
}

/// Who ended a request, when, and why (denial reason, cancel reason, failure).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    pub by: String,
    pub at: Timestamp,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    /// Assigned by the store when the request is first saved; zero before that.
    pub number: RequestNumber,
    pub flow: FlowSnapshot,
    /// The person who gets the access.
    pub requester: UserId,
    /// The person who filed the request: the requester, or someone filing on their behalf.
    pub submitted_by: UserId,
    pub answers: Answers,
    pub justification: Option<String>,
    pub duration: Option<Span>,
    pub state: State,
    pub steps: Vec<StepProgress>,
    pub fulfilment: Option<FulfilmentProgress>,
    pub access_starts_at: Option<Timestamp>,
    pub access_ends_at: Option<Timestamp>,
    pub outcome: Option<Outcome>,
    /// Connector fulfilment, for flows fulfilled by a connector.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioning: Option<ProvisioningProgress>,
    /// The request whose access this one extends (an extension request).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extends: Option<RequestNumber>,
    /// The extension requests that moved this request's end, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extended_by: Vec<RequestNumber>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Incremented by every stored change; the store refuses a write based on an older version.
    pub version: i64,
}

/// What a person is asked to do on a request now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Duty {
    Approve,
    Fulfil,
}

impl Duty {
    pub fn name(self) -> &'static str {
        match self {
            Duty::Approve => "approve",
            Duty::Fulfil => "fulfil",
        }
    }
}

impl Request {
    /// A request just filed, before it is numbered and stored: no step started, nothing decided.
    /// Every way of filing one (a submission, an extension) starts here, so a new field has one
    /// place to get its starting value.
    pub fn filed(
        flow: &Flow,
        requester: UserId,
        submitted_by: UserId,
        answers: Answers,
        justification: Option<String>,
        duration: Option<Span>,
        now: Timestamp,
    ) -> Request {
        Request {
            number: RequestNumber(0),
            flow: FlowSnapshot::from(flow),
            requester,
            submitted_by,
            answers,
            justification,
            duration,
            state: State::Submitted,
            steps: flow
                .approval
                .iter()
                .cloned()
                .map(StepProgress::new)
                .collect(),
            fulfilment: None,
            access_starts_at: None,
            access_ends_at: None,
            outcome: None,
            provisioning: None,
            extends: None,
            extended_by: Vec::new(),
            created_at: now,
            updated_at: now,
            version: 0,
        }
    }

    /// "Carpark access #117".
    pub fn title(&self) -> String {
        format!("{} {}", self.flow.name, self.number)
    }

    pub fn current_step(&self) -> Option<(usize, &StepProgress)> {
        match self.state {
            State::PendingApproval { step } => self.steps.get(step).map(|s| (step, s)),
            _ => None,
        }
    }

    /// The people who must act now, and what they must do. The store indexes these so that "waiting
    /// for me" is one query; people who already approved a quorum step are not waited on.
    pub fn duties(&self) -> Vec<(UserId, Duty)> {
        match self.state {
            State::PendingApproval { .. } => self
                .current_step()
                .map(|(_, s)| s.undecided().map(|u| (u.clone(), Duty::Approve)).collect())
                .unwrap_or_default(),
            State::Fulfilling => self
                .fulfilment
                .iter()
                .flat_map(|f| f.fulfillers.iter().map(|u| (u.clone(), Duty::Fulfil)))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Whether `user` takes part in the request: requester, filer, anyone asked to approve, or a
    /// fulfiller. Such people may see it and comment on it.
    pub fn involves(&self, user: &UserId) -> bool {
        &self.requester == user
            || &self.submitted_by == user
            || self.steps.iter().any(|s| s.eligible.contains(user))
            || self
                .fulfilment
                .as_ref()
                .is_some_and(|f| f.fulfillers.contains(user))
    }
}
