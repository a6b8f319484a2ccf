//! Flows: the request types people choose from, written as YAML files ("flows as code").
//!
//! `parse` turns one file's text into a [`Flow`] or a list of [`FlowError`]s that name the line and
//! column; nothing half-valid ever comes out of it.

mod parse;
mod positions;

pub use parse::{parse_flow, parse_flow_checked, FlowError};
pub use positions::Position;

use crate::ids::{FlowId, GroupId, QuestionId, UserId};
use crate::time::Span;
use serde::Serialize;
use std::collections::BTreeMap;

/// A validated flow.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Flow {
    pub id: FlowId,
    pub name: String,
    pub description: String,
    pub category: String,
    pub keywords: Vec<String>,
    pub requesters: Requesters,
    pub questions: Vec<Question>,
    pub justification: Justification,
    pub duration: Option<DurationPolicy>,
    pub approval: Vec<ApprovalStep>,
    /// The people who own the resource this flow grants, for `approvers: owners`.
    pub owners: Vec<UserId>,
    pub allow_self_approval: bool,
    /// Whether the requester (or whoever filed the request) may close its fulfilment task.
    pub allow_self_fulfilment: bool,
    /// Whether one person may decide more than one approval step of the same request.
    pub allow_same_approver_for_several_steps: bool,
    /// Whether someone may file this request for another person.
    pub allow_requests_for_others: bool,
    pub fulfillment: Fulfillment,
    pub pending_expires_after: Option<Span>,
}

/// Who may ask for a flow.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Requesters {
    Everyone,
    /// Members of any of the groups, and the named users.
    Some {
        groups: Vec<GroupId>,
        users: Vec<UserId>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Question {
    pub id: QuestionId,
    pub label: String,
    pub help: Option<String>,
    pub required: bool,
    pub kind: QuestionKind,
    /// Asked only when every listed earlier answer matches (a list means any of its values).
    pub shown_if: BTreeMap<QuestionId, Vec<serde_json::Value>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum QuestionKind {
    Text {
        max_length: usize,
    },
    Textarea {
        max_length: usize,
    },
    Select {
        options: Vec<String>,
    },
    MultiSelect {
        options: Vec<String>,
    },
    Date,
    Duration {
        max: Option<Span>,
    },
    User,
    Number {
        min: Option<f64>,
        max: Option<f64>,
        integer: bool,
    },
    Boolean,
}

impl QuestionKind {
    /// Every `type_name`, in the order flows document them, for documentation and schemas.
    pub const TYPE_NAMES: [&'static str; 9] = [
        "text",
        "textarea",
        "select",
        "multi_select",
        "date",
        "duration",
        "user",
        "number",
        "boolean",
    ];

    pub fn type_name(&self) -> &'static str {
        match self {
            QuestionKind::Text { .. } => "text",
            QuestionKind::Textarea { .. } => "textarea",
            QuestionKind::Select { .. } => "select",
            QuestionKind::MultiSelect { .. } => "multi_select",
            QuestionKind::Date => "date",
            QuestionKind::Duration { .. } => "duration",
            QuestionKind::User => "user",
            QuestionKind::Number { .. } => "number",
            QuestionKind::Boolean => "boolean",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Justification {
    Required,
    #[default]
    Optional,
    None,
}

/// How long granted access lasts. A flow without one grants one-off or permanent access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DurationPolicy {
    pub default: Span,
    pub max: Span,
    pub requester_chooses: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct ApprovalStep {
    pub name: String,
    pub approvers: Approvers,
    /// How many different people must approve (a quorum when more than one).
    pub required: u32,
    pub remind_after: Option<Span>,
    pub escalate_after: Option<Span>,
    pub escalate_to: Option<Approvers>,
    /// The step is skipped (auto-approved) when this holds.
    pub skip_if: Option<Condition>,
}

/// Who may decide a step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Approvers {
    /// The requester's manager in the directory.
    Manager,
    /// The flow's `owners`.
    Owners,
    Users(Vec<UserId>),
    Group(GroupId),
}

/// A condition on the request, for skipping a step. Every part that is present must hold.
#[derive(Debug, Clone, PartialEq, Default, Serialize, serde::Deserialize)]
pub struct Condition {
    /// Each named answer must equal the value (or one of the listed values).
    pub answers: BTreeMap<QuestionId, Vec<serde_json::Value>>,
    /// The requester must belong to at least one of these groups.
    pub requester_in: Vec<GroupId>,
    /// The requested duration must be at most this long.
    pub duration_at_most: Option<Span>,
    /// At least one of these conditions must hold.
    pub any: Vec<Condition>,
}

/// How approved access becomes real: a task for a group or list of people (`manual`), or a
/// connector that grants and removes it in the target system without anyone in the loop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fulfillment {
    Manual(Fulfillers),
    Connector(ConnectorTarget),
}

/// `fulfillment: { connector: ldap, group: "cn=vpn,..." }`: the connector's name in the
/// configuration (`[connectors.<name>]`) and the settings it reads, every other key of the block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ConnectorTarget {
    pub connector: String,
    pub target: BTreeMap<String, String>,
}

/// Checks a flow's connector settings against the connectors configured, when flows are loaded
/// where a registry is available (`sesame serve`, `sesame check` with a configuration). Without
/// one, flows are checked for shape only and a missing connector is reported when access is
/// granted.
pub trait ConnectorCheck {
    /// What is wrong with `target` for the connector called `connector` (including that no
    /// connector has that name), in words.
    fn check_target(
        &self,
        connector: &str,
        target: &BTreeMap<String, String>,
    ) -> Result<(), String>;
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fulfillers {
    Group(GroupId),
    Users(Vec<UserId>),
}

impl Flow {
    pub fn question(&self, id: &str) -> Option<&Question> {
        self.questions.iter().find(|q| q.id.as_str() == id)
    }
}
