//! The API's request and response bodies. Kept apart from the core types so the wire format is a
//! deliberate, documented contract (and unknown fields are refused).

use serde::{Deserialize, Serialize};
use sesame_core::flow::{Flow, QuestionKind};
use sesame_core::request::{State, StepStatus};
use sesame_core::{Request, Timestamp};
use std::collections::BTreeMap;
use utoipa::ToSchema;

fn time(t: Timestamp) -> String {
    t.to_rfc3339()
}

#[derive(Serialize, ToSchema)]
pub struct MeView {
    pub user: String,
    pub display_name: String,
    pub email: String,
    pub admin: bool,
    pub auditor: bool,
}

#[derive(Serialize, ToSchema)]
pub struct FlowSummary {
    pub id: String,
    pub name: String,
    pub description: String,
    pub category: String,
    pub keywords: Vec<String>,
}

impl From<&Flow> for FlowSummary {
    fn from(f: &Flow) -> Self {
        FlowSummary {
            id: f.id.to_string(),
            name: f.name.clone(),
            description: f.description.clone(),
            category: f.category.clone(),
            keywords: f.keywords.clone(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct QuestionView {
    pub id: String,
    pub label: String,
    pub help: Option<String>,
    /// text, textarea, select, multi_select, date, duration, user, number or boolean.
    #[serde(rename = "type")]
    #[schema(schema_with = super::schema::question_type)]
    pub kind: String,
    pub required: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub options: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_length: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// A number for number questions, a duration such as `8h` for duration questions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<Limit>,
    /// Asked only when every listed answer matches one of its values.
    #[schema(value_type = Object)]
    pub shown_if: BTreeMap<String, Vec<serde_json::Value>>,
}

/// A question's upper limit: a number for number questions, a duration for duration questions.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum Limit {
    Number(f64),
    Duration(String),
}

/// How long access lasts, for flows whose access ends.
#[derive(Serialize, ToSchema)]
pub struct DurationView {
    /// Such as `30d`, when the requester does not choose.
    pub default: String,
    /// The longest a requester may choose.
    pub max: String,
    pub requester_chooses: bool,
}

#[derive(Serialize, ToSchema)]
pub struct FlowView {
    #[serde(flatten)]
    pub summary: FlowSummary,
    pub questions: Vec<QuestionView>,
    /// required, optional or none.
    #[schema(schema_with = super::schema::justification_rule)]
    pub justification: String,
    /// Null for access without an end.
    pub duration: Option<DurationView>,
    pub approval_steps: Vec<String>,
    pub allow_requests_for_others: bool,
}

impl From<&Flow> for FlowView {
    fn from(f: &Flow) -> Self {
        let questions = f
            .questions
            .iter()
            .map(|q| {
                let mut v = QuestionView {
                    id: q.id.to_string(),
                    label: q.label.clone(),
                    help: q.help.clone(),
                    kind: q.kind.type_name().to_owned(),
                    required: q.required,
                    options: None,
                    max_length: None,
                    min: None,
                    max: None,
                    shown_if: q
                        .shown_if
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.clone()))
                        .collect(),
                };
                match &q.kind {
                    QuestionKind::Text { max_length } | QuestionKind::Textarea { max_length } => {
                        v.max_length = Some(*max_length)
                    }
                    QuestionKind::Select { options } | QuestionKind::MultiSelect { options } => {
                        v.options = Some(options.clone())
                    }
                    QuestionKind::Duration { max } => {
                        v.max = max.map(|m| Limit::Duration(m.to_string()))
                    }
                    QuestionKind::Number { min, max, .. } => {
                        v.min = *min;
                        v.max = max.map(Limit::Number);
                    }
                    QuestionKind::Date | QuestionKind::User | QuestionKind::Boolean => {}
                }
                v
            })
            .collect();
        FlowView {
            summary: f.into(),
            questions,
            justification: serde_json::to_value(f.justification)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            duration: f.duration.map(|d| DurationView {
                default: d.default.to_string(),
                max: d.max.to_string(),
                requester_chooses: d.requester_chooses,
            }),
            approval_steps: f.approval.iter().map(|s| s.name.clone()).collect(),
            allow_requests_for_others: f.allow_requests_for_others,
        }
    }
}

/// A new request.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRequest {
    /// The flow's id, such as `carpark`.
    pub flow: String,
    /// Answers by question id.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub answers: BTreeMap<String, serde_json::Value>,
    pub justification: Option<String>,
    /// Such as `8h` or `30d`, where the flow lets the requester choose.
    pub duration: Option<String>,
    /// File the request for this person (id or email), where the flow allows it.
    pub on_behalf_of: Option<String>,
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ApproveBody {
    pub comment: Option<String>,
    /// The step the approver saw; used only to explain a late decision.
    pub step: Option<usize>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DenyBody {
    pub reason: String,
    pub step: Option<usize>,
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ReasonBody {
    pub reason: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequiredReasonBody {
    pub reason: String,
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct NoteBody {
    pub note: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentBody {
    pub text: String,
}

#[derive(Serialize, ToSchema)]
pub struct DecisionView {
    pub by: String,
    pub at: String,
    pub comment: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct StepView {
    pub name: String,
    /// waiting, pending, approved, denied, skipped or closed (the request ended first).
    #[schema(schema_with = super::schema::step_status)]
    pub status: String,
    pub required: u32,
    pub approvers: Vec<String>,
    pub why: String,
    pub approvals: Vec<DecisionView>,
    pub denial: Option<DecisionView>,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct FulfilmentView {
    pub fulfillers: Vec<String>,
    pub why: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub by: Option<String>,
    pub note: Option<String>,
}

/// Fulfilment by a connector: what the target system last said, and when access was put in place
/// and removed.
#[derive(Serialize, ToSchema)]
pub struct ProvisioningView {
    /// The connector's name in the configuration.
    pub connector: String,
    /// The work the target system accepted and reports on later, if any.
    pub reference: Option<String>,
    pub granted_at: Option<String>,
    pub removed_at: Option<String>,
    /// The target system's last error while an attempt keeps failing; null once one succeeds.
    pub last_error: Option<String>,
    /// Failed attempts since the last success.
    pub failures: u32,
}

/// Extend active access: a new request through the flow's approvals.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ExtendBody {
    /// How much longer, such as `7d`; the flow's default when absent, at most its maximum.
    pub duration: Option<String>,
    /// Why, shown to the approvers.
    pub reason: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct OutcomeView {
    pub by: String,
    pub at: String,
    pub reason: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct RequestView {
    pub number: i64,
    /// "Carpark access #117".
    pub title: String,
    pub flow: String,
    pub flow_name: String,
    pub requester: String,
    pub submitted_by: String,
    /// One of submitted, pending_approval, approved, fulfilling, active, fulfilled, expired, revoked,
    /// denied, canceled, failed, closed_unanswered.
    #[schema(schema_with = super::schema::request_state)]
    pub state: String,
    /// While pending approval: the index of the step waiting.
    pub current_step: Option<usize>,
    #[schema(value_type = Object)]
    pub answers: BTreeMap<String, serde_json::Value>,
    pub justification: Option<String>,
    pub duration: Option<String>,
    pub steps: Vec<StepView>,
    pub fulfilment: Option<FulfilmentView>,
    pub access_starts_at: Option<String>,
    pub access_ends_at: Option<String>,
    pub outcome: Option<OutcomeView>,
    /// For flows fulfilled by a connector.
    pub provisioning: Option<ProvisioningView>,
    /// The request whose access this one extends, for an extension.
    pub extends: Option<i64>,
    /// The extensions that moved this request's end.
    pub extended_by: Vec<i64>,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
    /// What the caller is asked to do now: approve, fulfil, or nothing.
    #[schema(schema_with = super::schema::duty)]
    pub your_duty: Option<String>,
    /// The request's page in the portal.
    pub url: String,
}

fn decision(d: &sesame_core::request::Decision) -> DecisionView {
    DecisionView {
        by: d.by.to_string(),
        at: time(d.at),
        comment: d.comment.clone(),
    }
}

impl RequestView {
    pub fn new(r: &Request, viewer: &sesame_core::UserId, public_url: &str) -> Self {
        let steps = r
            .steps
            .iter()
            .map(|s| StepView {
                name: s.spec.name.clone(),
                status: match s.status {
                    StepStatus::Waiting => "waiting",
                    StepStatus::Pending => "pending",
                    StepStatus::Approved => "approved",
                    StepStatus::Denied => "denied",
                    StepStatus::Skipped => "skipped",
                    StepStatus::Closed => "closed",
                }
                .to_owned(),
                required: s.spec.required,
                approvers: s.eligible.iter().map(ToString::to_string).collect(),
                why: s.why.clone(),
                approvals: s.approvals.iter().map(decision).collect(),
                denial: s.denial.as_ref().map(decision),
                started_at: s.started_at.map(time),
                finished_at: s.finished_at.map(time),
            })
            .collect();
        RequestView {
            number: r.number.0,
            title: r.title(),
            flow: r.flow.id.to_string(),
            flow_name: r.flow.name.clone(),
            requester: r.requester.to_string(),
            submitted_by: r.submitted_by.to_string(),
            state: r.state.name().to_owned(),
            current_step: match r.state {
                State::PendingApproval { step } => Some(step),
                _ => None,
            },
            answers: r
                .answers
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
            justification: r.justification.clone(),
            duration: r.duration.map(|d| d.to_string()),
            steps,
            fulfilment: r.fulfilment.as_ref().map(|f| FulfilmentView {
                fulfillers: f.fulfillers.iter().map(ToString::to_string).collect(),
                why: f.why.clone(),
                started_at: time(f.started_at),
                finished_at: f.finished_at.map(time),
                by: f.by.as_ref().map(ToString::to_string),
                note: f.note.clone(),
            }),
            access_starts_at: r.access_starts_at.map(time),
            access_ends_at: r.access_ends_at.map(time),
            outcome: r.outcome.as_ref().map(|o| OutcomeView {
                by: o.by.clone(),
                at: time(o.at),
                reason: o.reason.clone(),
            }),
            provisioning: r.provisioning.as_ref().map(|p| ProvisioningView {
                connector: p.connector.clone(),
                reference: p.reference.clone(),
                granted_at: p.granted_at.map(time),
                removed_at: p.removed_at.map(time),
                last_error: p.last_error.clone(),
                failures: p.failures,
            }),
            extends: r.extends.map(|n| n.0),
            extended_by: r.extended_by.iter().map(|n| n.0).collect(),
            created_at: time(r.created_at),
            updated_at: time(r.updated_at),
            version: r.version,
            your_duty: r
                .duties()
                .into_iter()
                .find(|(u, _)| u == viewer)
                .map(|(_, d)| d.name().to_owned()),
            url: format!(
                "{}/requests/{}",
                public_url.trim_end_matches('/'),
                r.number.0
            ),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct RequestList {
    pub requests: Vec<RequestView>,
    /// Pass as `before` to get the next page; absent on the last page.
    pub next_before: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct CommentView {
    pub id: i64,
    pub author: String,
    pub text: String,
    pub source: String,
    pub created_at: String,
}

impl From<&sesame_app::Comment> for CommentView {
    fn from(c: &sesame_app::Comment) -> Self {
        CommentView {
            id: c.id,
            author: c.author.to_string(),
            text: c.text.clone(),
            source: c.source.clone(),
            created_at: time(c.created_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct AuditView {
    pub id: i64,
    pub request: Option<i64>,
    pub at: String,
    pub actor: String,
    pub kind: String,
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

impl From<&sesame_app::AuditRecord> for AuditView {
    fn from(a: &sesame_app::AuditRecord) -> Self {
        AuditView {
            id: a.id,
            request: a.request.map(|r| r.0),
            at: time(a.at),
            actor: a.actor.clone(),
            kind: a.kind.clone(),
            detail: a.detail.clone(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct JobView {
    pub id: i64,
    pub request: Option<i64>,
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    pub run_at: String,
    pub attempts: u32,
    #[schema(schema_with = super::schema::job_status)]
    pub status: String,
    pub last_error: Option<String>,
}
