//! The request state machine. Pure: it takes a request (or a flow and a submission), a command, the
//! actor, the directory and the time, and returns the new request with its audit events, notices and
//! timers, or a [`DomainError`]. The store saves all of a [`Transition`] in one transaction.
//!
//! Every permission check happens here, against the request's own record of who may decide, so no
//! surface (Slack button, portal form, API call) can be trusted to have checked.

use crate::answers::{check_submission, text, FieldError, RawSubmission};
use crate::directory::Directory;
use crate::events::{Actor, AuditEvent, Notice, Provision, Timer, TimerKind};
use crate::flow::{Flow, Fulfillment};
use crate::ids::{RequestNumber, UserId};
use crate::policy::{self, condition_holds, resolve_approvers, resolve_fulfillers, ConditionInput};
use crate::request::{
    Decision, FulfilmentProgress, Outcome, ProvisioningProgress, Request, State, StepProgress,
    StepStatus,
};
use crate::time::{Span, Timestamp};
use serde_json::json;

mod access;
mod extension;
mod provisioning;

pub use extension::{extend, ExtensionAsk};
pub use provisioning::ConnectorReport;

/// How many reminders a step sends before it leaves the rest to escalation and pending expiry.
pub const MAX_REMINDERS: u32 = 3;
/// The longest reason or comment a decision may carry.
pub const MAX_REASON: usize = 3000;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DomainError {
    #[error("the request has {} problem(s): {}", .0.len(), describe_fields(.0))]
    InvalidSubmission(Vec<FieldError>),
    /// The actor may not do this (not an approver, self-approval, not the requester).
    #[error("{0}")]
    NotAllowed(String),
    /// The request's state does not allow this command.
    #[error("{0}")]
    IllegalTransition(String),
    /// The command was already carried out (a second click, a late approver).
    #[error("{0}")]
    AlreadyDone(String),
    /// The request cannot go ahead as the flow and directory stand (nobody can approve a step).
    #[error("{0}")]
    CannotProceed(String),
    /// A timer fired after the request moved on; nothing to do.
    #[error("the timer no longer applies to the request")]
    Outlived,
}

fn describe_fields(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| {
            if e.field.is_empty() {
                e.message.clone()
            } else {
                format!("{}: {}", e.field, e.message)
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// A request's change, ready to be stored in one transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    pub request: Request,
    pub audit: Vec<AuditEvent>,
    pub notices: Vec<Notice>,
    pub timers: Vec<Timer>,
    /// Work for the provisioning worker (connector grants and removals, extensions), stored in the
    /// outbox with the change.
    pub provisioning: Vec<Provision>,
}

/// A new request as someone filed it.
#[derive(Debug, Clone)]
pub struct Submission {
    /// Who gets the access; the actor files it, for themselves or (where the flow allows) for them.
    pub requester: UserId,
    pub answers: RawSubmission,
}

/// What someone (or a timer) does to an existing request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Approve {
        step: Option<usize>,
        comment: Option<String>,
    },
    Deny {
        step: Option<usize>,
        reason: String,
    },
    Cancel {
        reason: Option<String>,
    },
    CompleteFulfilment {
        note: Option<String>,
    },
    FailFulfilment {
        reason: String,
    },
    /// End access early: the requester relinquishing it, or an administrator removing it.
    Revoke {
        reason: Option<String>,
    },
    Fire(TimerKind),
    /// What the provisioning worker learned from a connector (Sesame itself only).
    Connector(ConnectorReport),
    /// An approved extension moves the end of this request's access by `by` (Sesame itself only,
    /// from the extension's provisioning job).
    ExtendAccess {
        extension: RequestNumber,
        by: Span,
    },
    /// Sesame looks at the current approval step again after the directory changed (someone
    /// left): when the people still able to decide cannot reach the step's quorum, administrators
    /// are told. Nothing else changes.
    Recheck,
}

impl Command {
    pub fn name(&self) -> &'static str {
        match self {
            Command::Approve { .. } => "approve",
            Command::Deny { .. } => "deny",
            Command::Cancel { .. } => "cancel",
            Command::CompleteFulfilment { .. } => "complete",
            Command::FailFulfilment { .. } => "fail",
            Command::Revoke { .. } => "revoke",
            Command::Fire(_) => "timer",
            Command::Connector(report) => report.name(),
            Command::ExtendAccess { .. } => "extend_access",
            Command::Recheck => "recheck",
        }
    }
}

/// Events that change nothing the requester's view of the request shows, so they owe no
/// `RequestUpdated` (a comment travels in its own notice; a reminder goes to approvers; a warning
/// that access ends soon is its own notice).
const UNSEEN_BY_THE_REQUESTER: [&str; 6] = [
    "comment_added",
    "reminder_sent",
    "access_ending_soon",
    "step_stuck",
    "provisioning_error",
    "access_removed",
];

struct Change<'a> {
    request: Request,
    audit: Vec<AuditEvent>,
    notices: Vec<Notice>,
    timers: Vec<Timer>,
    provisioning: Vec<Provision>,
    actor: &'a Actor,
    directory: &'a Directory,
    now: Timestamp,
    /// True while a new request is being filed: a step or fulfilment nobody can do refuses the
    /// request then, but only flags it for administrators later.
    submitting: bool,
}

impl<'a> Change<'a> {
    fn new(
        request: Request,
        actor: &'a Actor,
        directory: &'a Directory,
        now: Timestamp,
        submitting: bool,
    ) -> Self {
        Change {
            request,
            audit: Vec::new(),
            notices: Vec::new(),
            timers: Vec::new(),
            provisioning: Vec::new(),
            actor,
            directory,
            now,
            submitting,
        }
    }

    fn event(&mut self, kind: &str, detail: serde_json::Value) {
        self.audit
            .push(AuditEvent::new(self.now, self.actor, kind, detail));
    }

    fn system_event(&mut self, kind: &str, detail: serde_json::Value) {
        self.audit
            .push(AuditEvent::new(self.now, &Actor::System, kind, detail));
    }

    fn finish(mut self) -> Transition {
        self.request.updated_at = self.now;
        if !self.notices.contains(&Notice::RequestUpdated)
            && self
                .audit
                .iter()
                .any(|e| !UNSEEN_BY_THE_REQUESTER.contains(&e.kind.as_str()))
        {
            self.notices.push(Notice::RequestUpdated);
        }
        Transition {
            request: self.request,
            audit: self.audit,
            notices: self.notices,
            timers: self.timers,
            provisioning: self.provisioning,
        }
    }

    /// Moves on from the current point: skips steps whose condition holds, starts the next step that
    /// needs people, or, when no step is left, approves and starts fulfilment.
    fn advance(&mut self, from_step: usize) -> Result<(), DomainError> {
        for index in from_step..self.request.steps.len() {
            let spec = self.request.steps[index].spec.clone();
            if let Some(condition) = &spec.skip_if {
                let input = ConditionInput {
                    answers: &self.request.answers,
                    requester: &self.request.requester,
                    duration: self.request.duration,
                    directory: self.directory,
                };
                let (holds, why) = condition_holds(condition, &input);
                if holds {
                    let step = &mut self.request.steps[index];
                    step.status = StepStatus::Skipped;
                    step.why = format!("skipped because {why}");
                    step.started_at = Some(self.now);
                    step.finished_at = Some(self.now);
                    self.system_event(
                        "step_skipped",
                        json!({ "step": index, "name": spec.name, "because": why }),
                    );
                    continue;
                }
            }
            let (eligible, why) = match eligible_approvers(&self.request, index, self.directory) {
                Ok(found) => found,
                // At submission the request is refused outright. Later (the directory changed since),
                // the decision that got it here stands, and the step waits with nobody able to
                // decide it until an administrator fixes the directory or cancels the request.
                Err(e) if self.submitting => return Err(e),
                Err(DomainError::CannotProceed(problem)) => (Vec::new(), problem),
                Err(e) => return Err(e),
            };
            if eligible.is_empty() {
                self.system_event(
                    "step_stuck",
                    json!({ "step": index, "name": spec.name, "problem": why }),
                );
                self.notices.push(Notice::AdminAttention {
                    problem: format!("{}: {why}", self.request.title()),
                });
            }
            let step = &mut self.request.steps[index];
            step.status = StepStatus::Pending;
            step.eligible = eligible.clone();
            step.why = why.clone();
            step.started_at = Some(self.now);
            self.request.state = State::PendingApproval { step: index };
            self.system_event(
                "step_started",
                json!({ "step": index, "name": spec.name, "approvers": eligible, "required": spec.required, "why": why }),
            );
            self.notices.push(Notice::ApprovalRequested {
                step: index,
                approvers: eligible,
            });
            if let Some(after) = spec.remind_after {
                self.timers.push(Timer {
                    at: self.now.plus(after),
                    kind: TimerKind::Remind { step: index },
                });
            }
            if let Some(after) = spec.escalate_after {
                self.timers.push(Timer {
                    at: self.now.plus(after),
                    kind: TimerKind::Escalate { step: index },
                });
            }
            return Ok(());
        }
        self.request.state = State::Approved;
        self.system_event("approved", json!({ "steps": self.request.steps.len() }));
        self.start_fulfilment()
    }

    fn start_fulfilment(&mut self) -> Result<(), DomainError> {
        if self.request.extends.is_some() {
            self.start_extension();
            return Ok(());
        }
        match &self.request.flow.fulfillment {
            Fulfillment::Connector(target) => {
                let connector = target.connector.clone();
                self.request.fulfilment = Some(FulfilmentProgress {
                    fulfillers: Vec::new(),
                    why: format!("granted by the `{connector}` connector"),
                    started_at: self.now,
                    finished_at: None,
                    by: None,
                    note: None,
                });
                self.request.provisioning = Some(ProvisioningProgress::new(&connector));
                self.request.state = State::Fulfilling;
                self.system_event(
                    "fulfilment_started",
                    json!({ "kind": "connector", "connector": connector }),
                );
                self.provisioning.push(Provision::Grant);
            }
            Fulfillment::Manual(fulfillers) => {
                let resolved = resolve_fulfillers(fulfillers, self.directory)
                    .and_then(|r| exclude_self_fulfilment(&self.request, r));
                let resolved = match resolved {
                    Ok(resolved) => resolved,
                    Err(problem) if self.submitting => {
                        return Err(DomainError::CannotProceed(problem))
                    }
                    // Approved, but nobody can fulfil it now: administrators can, and are told.
                    Err(problem) => {
                        self.system_event("fulfilment_stuck", json!({ "problem": problem }));
                        self.notices.push(Notice::AdminAttention {
                            problem: format!("{}: {problem}", self.request.title()),
                        });
                        crate::policy::Resolved {
                            people: Vec::new(),
                            why: problem,
                        }
                    }
                };
                self.request.fulfilment = Some(FulfilmentProgress {
                    fulfillers: resolved.people.clone(),
                    why: resolved.why,
                    started_at: self.now,
                    finished_at: None,
                    by: None,
                    note: None,
                });
                self.request.state = State::Fulfilling;
                self.system_event(
                    "fulfilment_started",
                    json!({ "kind": "manual", "fulfillers": resolved.people }),
                );
                self.notices.push(Notice::FulfilmentRequested);
            }
        }
        Ok(())
    }
}

/// Who may decide step `index`: the rule's people less the requester and filer when the flow forbids
/// self-approval. Fails when fewer people remain than the step requires.
fn eligible_approvers(
    request: &Request,
    index: usize,
    directory: &Directory,
) -> Result<(Vec<UserId>, String), DomainError> {
    let step = &request.steps[index];
    let resolved = resolve_approvers(
        &step.spec.approvers,
        &request.flow.owners,
        &request.requester,
        directory,
    )
    .map_err(|e| {
        DomainError::CannotProceed(format!(
            "step {} ({}) cannot be approved: {e}",
            index + 1,
            step.spec.name
        ))
    })?;
    let (eligible, why) = exclude_conflicts(request, index, resolved.people, resolved.why);
    if eligible.len() < step.spec.required as usize {
        return Err(DomainError::CannotProceed(format!(
            "step {} ({}) needs {} approver(s) but only {} can approve ({why})",
            index + 1,
            step.spec.name,
            step.spec.required,
            eligible.len()
        )));
    }
    Ok((eligible, why))
}

/// Separation of duties among approvers of step `index`: the requester (and whoever filed the
/// request) does not approve their own request, and someone who already decided an earlier step
/// does not decide another, unless the flow allows it.
fn exclude_conflicts(
    request: &Request,
    index: usize,
    mut people: Vec<UserId>,
    mut why: String,
) -> (Vec<UserId>, String) {
    if !request.flow.allow_self_approval {
        let before = people.len();
        people.retain(|p| !is_requester_side(request, p));
        if people.len() < before {
            why.push_str("; the requester may not approve their own request");
        }
    }
    if !request.flow.allow_same_approver_for_several_steps {
        let before = people.len();
        people.retain(|p| earlier_step_decided_by(request, index, p).is_none());
        if people.len() < before {
            why.push_str("; whoever approved an earlier step does not approve this one too");
        }
    }
    (people, why)
}

/// The requester, or whoever filed the request for them.
fn is_requester_side(request: &Request, who: &UserId) -> bool {
    who == &request.requester || who == &request.submitted_by
}

/// The fulfillers left once the requester (and whoever filed the request) is taken out, unless the
/// flow allows self-fulfilment. Nobody left is a problem, as when the group is empty.
fn exclude_self_fulfilment(
    request: &Request,
    mut resolved: crate::policy::Resolved,
) -> Result<crate::policy::Resolved, String> {
    if request.flow.allow_self_fulfilment {
        return Ok(resolved);
    }
    let before = resolved.people.len();
    resolved.people.retain(|p| !is_requester_side(request, p));
    if resolved.people.len() == before {
        return Ok(resolved);
    }
    if resolved.people.is_empty() {
        return Err(format!(
            "nobody but the requester can fulfil it ({}); the requester may not fulfil their own request",
            resolved.why
        ));
    }
    resolved
        .why
        .push_str("; the requester may not fulfil their own request");
    Ok(resolved)
}

/// The earlier step (index) `who` approved, if any.
fn earlier_step_decided_by(request: &Request, index: usize, who: &UserId) -> Option<usize> {
    request
        .steps
        .iter()
        .take(index)
        .position(|s| s.approved_by(who))
}

/// Files a new request. The result has number zero until the store assigns one.
pub fn submit(
    flow: &Flow,
    submission: Submission,
    actor: &Actor,
    directory: &Directory,
    now: Timestamp,
) -> Result<Transition, DomainError> {
    let filer = actor
        .user_id()
        .ok_or_else(|| DomainError::NotAllowed(String::from("requests are filed by people")))?
        .clone();
    if directory.user(&filer).is_none_or(|u| !u.active) {
        return Err(DomainError::NotAllowed(format!(
            "{filer} is not an active person in the directory"
        )));
    }
    let requester = submission.requester;
    if requester != filer && !flow.allow_requests_for_others {
        return Err(DomainError::NotAllowed(format!(
            "{} cannot be requested on someone else's behalf",
            flow.name
        )));
    }
    policy::may_request(flow, &requester, directory).map_err(DomainError::NotAllowed)?;
    let checked = check_submission(flow, &submission.answers, directory)
        .map_err(DomainError::InvalidSubmission)?;
    let request = Request::filed(
        flow,
        requester.clone(),
        filer.clone(),
        checked.answers,
        checked.justification,
        checked.duration,
        now,
    );
    file(request, flow, actor, directory, now, json!({}))
}

/// What the `submitted` event records, so that the trail alone shows what was asked for and why:
/// the flow (id and name), for whom and by whom, the answers, the justification and the duration
/// asked for; `extra` adds what a kind of filing knows besides (an extension's original).
fn submitted_detail(request: &Request, extra: serde_json::Value) -> serde_json::Value {
    let mut detail = json!({
        "flow": request.flow.id,
        "flow_name": request.flow.name,
        "requester": request.requester,
        "submitted_by": request.submitted_by,
        "on_behalf": request.requester != request.submitted_by,
        "answers": request.answers,
        "justification": request.justification,
        "duration": request.duration.map(|d| d.to_string()),
    });
    if let (Some(detail), serde_json::Value::Object(extra)) = (detail.as_object_mut(), extra) {
        detail.extend(extra);
    }
    detail
}

/// Starts a new request: checks that every step can be approved, records the submission (with
/// `extra` in its detail), and moves on to the first step that needs people (or straight to
/// fulfilment).
fn file(
    request: Request,
    flow: &Flow,
    actor: &Actor,
    directory: &Directory,
    now: Timestamp,
    extra: serde_json::Value,
) -> Result<Transition, DomainError> {
    // Every step must be approvable as the directory stands now: refusing the request at once is
    // better than leaving it stuck at step 3 next week. A step its skip condition would skip needs
    // nobody (`approvers: manager` skipped for people who have no manager, say).
    for (index, step) in request.steps.iter().enumerate() {
        let skipped = step.spec.skip_if.as_ref().is_some_and(|condition| {
            let input = ConditionInput {
                answers: &request.answers,
                requester: &request.requester,
                duration: request.duration,
                directory,
            };
            condition_holds(condition, &input).0
        });
        if !skipped {
            eligible_approvers(&request, index, directory)?;
        }
    }
    let submitted = submitted_detail(&request, extra);
    let mut change = Change::new(request, actor, directory, now, true);
    change.event("submitted", submitted);
    if let Some(after) = flow.pending_expires_after {
        change.timers.push(Timer {
            at: now.plus(after),
            kind: TimerKind::PendingExpiry,
        });
    }
    change.advance(0)?;
    Ok(change.finish())
}

/// Applies a command to a stored request.
pub fn decide(
    request: &Request,
    command: Command,
    actor: &Actor,
    directory: &Directory,
    now: Timestamp,
) -> Result<Transition, DomainError> {
    // People who have left keep no rights on requests, even where the request names them (an
    // approver chosen before they left).
    if let Some(id) = actor.user_id() {
        if directory.user(id).is_some_and(|u| !u.active) {
            return Err(DomainError::NotAllowed(format!(
                "{id} is not an active person in the directory"
            )));
        }
    }
    let mut change = Change::new(request.clone(), actor, directory, now, false);
    match command {
        Command::Approve { step, comment } => {
            approve(&mut change, step, clean_text("comment", comment)?)?
        }
        Command::Deny { step, reason } => deny(
            &mut change,
            step,
            required_text("reason", reason, "a reason for the denial")?,
        )?,
        Command::Cancel { reason } => cancel(&mut change, clean_text("reason", reason)?)?,
        Command::CompleteFulfilment { note } => complete(&mut change, clean_text("note", note)?)?,
        Command::FailFulfilment { reason } => {
            fail(&mut change, required_text("reason", reason, "a reason")?)?
        }
        Command::Revoke { reason } => revoke(&mut change, clean_text("reason", reason)?)?,
        Command::Fire(timer) => fire(&mut change, timer)?,
        Command::Connector(report) => provisioning::record(&mut change, report)?,
        Command::ExtendAccess { extension, by } => {
            extension::extend_access(&mut change, extension, by)?
        }
        Command::Recheck => recheck(&mut change)?,
    }
    Ok(change.finish())
}

/// An optional comment, note or reason, checked as all free text is (`answers::text`); `field`
/// names it in the error, as the caller's form or body calls it.
fn clean_text(field: &str, text: Option<String>) -> Result<Option<String>, DomainError> {
    text::optional(field, text.as_deref(), MAX_REASON)
        .map_err(|e| DomainError::InvalidSubmission(vec![e]))
}

fn required_text(field: &str, text: String, what: &str) -> Result<String, DomainError> {
    text::required(field, &text, MAX_REASON, what)
        .map_err(|e| DomainError::InvalidSubmission(vec![e]))
}

fn person(actor: &Actor) -> Result<&UserId, DomainError> {
    actor
        .user_id()
        .ok_or_else(|| DomainError::NotAllowed(String::from("only a person can do this")))
}

fn not_in_state(request: &Request, action: &str) -> DomainError {
    DomainError::IllegalTransition(format!(
        "{} is {}; it can no longer be {action}",
        request.title(),
        request.state.name().replace('_', " ")
    ))
}

/// Checks that `who` may decide the current step, and returns its index. `seen_step` is the step the
/// person was looking at (a button carries it); it only serves to explain a late click, never to
/// decide who may act.
fn check_approver(
    change: &Change<'_>,
    who: &UserId,
    seen_step: Option<usize>,
    action: &str,
) -> Result<usize, DomainError> {
    let request = &change.request;
    let current = request.current_step();
    let looked_at = seen_step.or(current.map(|(i, _)| i));
    if current.map(|(i, _)| i) != looked_at || current.is_none() {
        return Err(late_decision(request, looked_at, action, change.directory));
    }
    let Some((index, step)) = current else {
        return Err(not_in_state(request, participle(action)));
    };
    if step.eligible.contains(who) {
        return Ok(index);
    }
    if !request.flow.allow_same_approver_for_several_steps {
        if let Some(earlier) = earlier_step_decided_by(request, index, who) {
            return Err(DomainError::NotAllowed(format!(
                "you approved step {} ({}) of {}; one person approves at most one step of a request",
                earlier + 1,
                request.steps[earlier].spec.name,
                request.title()
            )));
        }
    }
    let is_self = is_requester_side(request, who);
    if is_self && !request.flow.allow_self_approval {
        return Err(DomainError::NotAllowed(format!(
            "you cannot {action} your own request"
        )));
    }
    Err(DomainError::NotAllowed(format!(
        "you are not an approver of step {} ({}) of {}",
        index + 1,
        step.spec.name,
        request.title()
    )))
}

/// "approve" -> "approved", for "it can no longer be approved".
fn participle(action: &str) -> &'static str {
    if action == "approve" {
        "approved"
    } else {
        "denied"
    }
}

/// The answer to a decision on a step that is no longer waiting: who decided it, or where the
/// request stands now.
fn late_decision(
    request: &Request,
    step: Option<usize>,
    action: &str,
    directory: &Directory,
) -> DomainError {
    let is_decided =
        |s: &&StepProgress| matches!(s.status, StepStatus::Approved | StepStatus::Denied);
    // The step the person saw, if it was decided; otherwise the last decision, unless the request
    // ended without one (canceled, closed unanswered), which is then what they are told.
    let decided = step
        .and_then(|i| request.steps.get(i))
        .filter(is_decided)
        .or_else(|| {
            if matches!(request.state, State::Canceled | State::ClosedUnanswered) {
                None
            } else {
                request.steps.iter().rev().find(is_decided)
            }
        });
    match decided {
        Some(s) if s.status == StepStatus::Denied => {
            let by = s
                .denial
                .as_ref()
                .map(|d| directory.display_name(&d.by))
                .unwrap_or_default();
            DomainError::AlreadyDone(format!("{} was already denied by {by}", request.title()))
        }
        Some(s) if s.status == StepStatus::Approved => {
            let by: Vec<String> = s
                .approvals
                .iter()
                .map(|a| directory.display_name(&a.by))
                .collect();
            DomainError::AlreadyDone(format!(
                "{} ({}) was already approved by {}",
                request.title(),
                s.spec.name,
                by.join(", ")
            ))
        }
        _ => not_in_state(request, participle(action)),
    }
}

fn approve(
    change: &mut Change<'_>,
    seen_step: Option<usize>,
    comment: Option<String>,
) -> Result<(), DomainError> {
    let who = person(change.actor)?.clone();
    let index = check_approver(change, &who, seen_step, "approve")?;
    let now = change.now;
    let step = &mut change.request.steps[index];
    if step.approved_by(&who) {
        return Err(DomainError::AlreadyDone(format!(
            "you already approved step {} ({})",
            index + 1,
            step.spec.name
        )));
    }
    step.approvals.push(Decision {
        by: who.clone(),
        at: now,
        comment: comment.clone(),
    });
    let (have, need, name) = (
        step.approvals.len(),
        step.spec.required as usize,
        step.spec.name.clone(),
    );
    change.event(
        "approval_given",
        json!({ "step": index, "name": name, "comment": comment, "count": have, "required": need }),
    );
    change.notices.push(Notice::StepDecided { step: index });
    if have >= need {
        let step = &mut change.request.steps[index];
        step.status = StepStatus::Approved;
        step.finished_at = Some(now);
        change.event("step_approved", json!({ "step": index, "name": name }));
        change.advance(index + 1)?;
    }
    Ok(())
}

fn deny(
    change: &mut Change<'_>,
    seen_step: Option<usize>,
    reason: String,
) -> Result<(), DomainError> {
    let who = person(change.actor)?.clone();
    let index = check_approver(change, &who, seen_step, "deny")?;
    let now = change.now;
    let step = &mut change.request.steps[index];
    step.status = StepStatus::Denied;
    step.denial = Some(Decision {
        by: who.clone(),
        at: now,
        comment: Some(reason.clone()),
    });
    step.finished_at = Some(now);
    let name = step.spec.name.clone();
    change.request.state = State::Denied;
    change.request.outcome = Some(Outcome {
        by: who.to_string(),
        at: now,
        reason: Some(reason.clone()),
    });
    change.event(
        "denied",
        json!({ "step": index, "name": name, "reason": reason }),
    );
    change.notices.push(Notice::StepDecided { step: index });
    Ok(())
}

/// Marks the step that was waiting as closed without a decision, when the request ends early.
fn close_pending_step(change: &mut Change<'_>, step: usize) {
    if let Some(progress) = change.request.steps.get_mut(step) {
        if progress.status == StepStatus::Pending {
            progress.status = StepStatus::Closed;
            progress.finished_at = Some(change.now);
        }
    }
}

/// Cancels a request that is still waiting for a decision. Sesame itself (`Actor::System`) may also
/// cancel one whose requester left the directory, and then a fulfilment that has not been done yet
/// is closed too, so nobody grants access to someone who is gone.
fn cancel(change: &mut Change<'_>, reason: Option<String>) -> Result<(), DomainError> {
    let system = change.actor == &Actor::System;
    let (by, own) = if system {
        (change.actor.label(), false)
    } else {
        let who = person(change.actor)?;
        let request = &change.request;
        (
            who.to_string(),
            *who == request.requester || *who == request.submitted_by,
        )
    };
    let request = &change.request;
    if !own && !system && !change.actor.is_admin() {
        return Err(DomainError::NotAllowed(String::from(
            "only the requester (or an administrator) can cancel a request",
        )));
    }
    let requester_left = change
        .directory
        .user(&request.requester)
        .is_some_and(|u| !u.active);
    if system && !requester_left {
        return Err(DomainError::NotAllowed(String::from(
            "Sesame cancels a request by itself only when its requester has left",
        )));
    }
    let (step, fulfilling) = match request.state {
        State::Submitted => (None, false),
        State::PendingApproval { step } => (Some(step), false),
        State::Fulfilling if system => (None, true),
        _ => return Err(not_in_state(request, "canceled")),
    };
    change.request.state = State::Canceled;
    change.request.outcome = Some(Outcome {
        by,
        at: change.now,
        reason: reason.clone(),
    });
    if fulfilling {
        let now = change.now;
        if let Some(f) = change.request.fulfilment.as_mut() {
            f.finished_at = Some(now);
            f.note = reason.clone();
        }
    }
    change.event(
        "canceled",
        json!({ "reason": reason, "by_admin": !own && !system, "requester_left": system }),
    );
    if let Some(step) = step {
        close_pending_step(change, step);
        change.notices.push(Notice::StepDecided { step });
    }
    if fulfilling {
        change.notices.push(Notice::FulfilmentDecided);
        // A connector may have granted the access already: take away whatever is there.
        if change.request.provisioning.is_some() {
            change.provisioning.push(Provision::Revoke);
        }
    }
    Ok(())
}

fn check_fulfiller(change: &Change<'_>, who: &UserId) -> Result<(), DomainError> {
    let request = &change.request;
    if request.extends.is_some() {
        return Err(DomainError::IllegalTransition(format!(
            "{} is an extension; Sesame applies it by itself once approved",
            request.title()
        )));
    }
    if request.state != State::Fulfilling {
        return Err(match &request.fulfilment {
            Some(FulfilmentProgress { by: Some(by), .. }) => DomainError::AlreadyDone(format!(
                "{} was already handled by {}",
                request.title(),
                change.directory.display_name(by)
            )),
            _ => not_in_state(request, "fulfilled"),
        });
    }
    // Separation of duties: not even an administrator closes the task of their own request.
    if is_requester_side(request, who) && !request.flow.allow_self_fulfilment {
        return Err(DomainError::NotAllowed(String::from(
            "you cannot fulfil your own request; another fulfiller or an administrator must",
        )));
    }
    let is_fulfiller = request
        .fulfilment
        .as_ref()
        .is_some_and(|f| f.fulfillers.contains(who));
    if !is_fulfiller && !change.actor.is_admin() {
        return Err(DomainError::NotAllowed(format!(
            "you are not a fulfiller of {}",
            request.title()
        )));
    }
    Ok(())
}

/// Checks that the actor may close the fulfilment task and records who closed it, when and why.
fn finish_fulfilment(change: &mut Change<'_>, note: Option<String>) -> Result<UserId, DomainError> {
    let who = person(change.actor)?.clone();
    check_fulfiller(change, &who)?;
    let now = change.now;
    if let Some(f) = change.request.fulfilment.as_mut() {
        f.finished_at = Some(now);
        f.by = Some(who.clone());
        f.note = note;
    }
    Ok(who)
}

/// How long before the end of active access the requester is warned, in milliseconds.
const ACCESS_WARNING_DAY: i64 = 24 * 3_600_000;
const ACCESS_WARNING_HOUR: i64 = 3_600_000;

fn complete(change: &mut Change<'_>, note: Option<String>) -> Result<(), DomainError> {
    finish_fulfilment(change, note.clone())?;
    match change.start_access() {
        Some(until) => change.event(
            "access_granted",
            json!({ "until": until.to_rfc3339(), "note": note }),
        ),
        None => change.event("fulfilled", json!({ "note": note })),
    }
    change.notices.push(Notice::FulfilmentDecided);
    Ok(())
}

fn fail(change: &mut Change<'_>, reason: String) -> Result<(), DomainError> {
    let who = finish_fulfilment(change, Some(reason.clone()))?;
    let now = change.now;
    change.request.state = State::Failed;
    change.request.outcome = Some(Outcome {
        by: who.to_string(),
        at: now,
        reason: Some(reason.clone()),
    });
    change.event("fulfilment_failed", json!({ "reason": reason }));
    change.notices.push(Notice::FulfilmentDecided);
    Ok(())
}

/// Ends access early. Sesame itself (`Actor::System`) ends the access of a requester who left the
/// directory.
fn revoke(change: &mut Change<'_>, reason: Option<String>) -> Result<(), DomainError> {
    let request = &change.request;
    let (by, relinquished) = if change.actor == &Actor::System {
        let left = change
            .directory
            .user(&request.requester)
            .is_some_and(|u| !u.active);
        if !left {
            return Err(DomainError::NotAllowed(String::from(
                "Sesame ends access by itself only when its holder has left",
            )));
        }
        (change.actor.label(), false)
    } else {
        let who = person(change.actor)?;
        if *who != request.requester && !change.actor.is_admin() {
            return Err(DomainError::NotAllowed(String::from(
                "only the requester or an administrator can end this access",
            )));
        }
        (who.to_string(), *who == request.requester)
    };
    if !matches!(request.state, State::Active { .. } | State::Fulfilled) {
        return Err(not_in_state(request, "revoked"));
    }
    if let Some(original) = request.extends {
        return Err(DomainError::IllegalTransition(format!(
            "{} extended the access of {original}; end the access there",
            request.title()
        )));
    }
    change.request.state = State::Revoked;
    change.request.access_ends_at = Some(change.now);
    change.request.outcome = Some(Outcome {
        by,
        at: change.now,
        reason: reason.clone(),
    });
    change.event(
        "revoked",
        json!({ "reason": reason, "relinquished": relinquished }),
    );
    change.remove_access();
    Ok(())
}

fn recheck(change: &mut Change<'_>) -> Result<(), DomainError> {
    if change.actor != &Actor::System {
        return Err(DomainError::NotAllowed(String::from(
            "only Sesame itself re-checks a step",
        )));
    }
    let State::PendingApproval { step } = change.request.state else {
        return Err(DomainError::Outlived);
    };
    let progress = &change.request.steps[step];
    let able = progress
        .undecided()
        .filter(|u| change.directory.user(u).is_some_and(|p| p.active))
        .count();
    let required = usize::try_from(progress.spec.required).unwrap_or(usize::MAX);
    let needed = required.saturating_sub(progress.approvals.len());
    if able >= needed {
        return Err(DomainError::Outlived);
    }
    let problem = format!(
        "step {} ({}) needs {needed} more approval(s), but only {able} of the people asked can \
         still decide; add approvers to the directory or cancel the request",
        step + 1,
        progress.spec.name
    );
    change.system_event("step_stuck", json!({ "step": step, "problem": problem }));
    change.notices.push(Notice::AdminAttention {
        problem: format!("{}: {problem}", change.request.title()),
    });
    Ok(())
}

fn fire(change: &mut Change<'_>, timer: TimerKind) -> Result<(), DomainError> {
    // Timers close, escalate and expire requests: no person may fire one through a surface.
    if change.actor != &Actor::System {
        return Err(DomainError::NotAllowed(String::from(
            "only Sesame's own timers can fire",
        )));
    }
    let state = change.request.state;
    match timer {
        TimerKind::Remind { step } => {
            if state != (State::PendingApproval { step }) {
                return Err(DomainError::Outlived);
            }
            let progress = &mut change.request.steps[step];
            if progress.reminders_sent >= MAX_REMINDERS {
                return Err(DomainError::Outlived);
            }
            progress.reminders_sent += 1;
            let (sent, every) = (progress.reminders_sent, progress.spec.remind_after);
            change.system_event("reminder_sent", json!({ "step": step, "round": sent }));
            change.notices.push(Notice::ApprovalReminder { step });
            if let (Some(every), true) = (every, sent < MAX_REMINDERS) {
                change.timers.push(Timer {
                    at: change.now.plus(every),
                    kind: TimerKind::Remind { step },
                });
            }
        }
        TimerKind::Escalate { step } => {
            if state != (State::PendingApproval { step }) || change.request.steps[step].escalated {
                return Err(DomainError::Outlived);
            }
            let Some(to) = change.request.steps[step].spec.escalate_to.clone() else {
                return Err(DomainError::Outlived);
            };
            change.request.steps[step].escalated = true;
            let resolved = resolve_approvers(
                &to,
                &change.request.flow.owners,
                &change.request.requester,
                change.directory,
            );
            match resolved {
                Ok(r) => {
                    let (people, why) = exclude_conflicts(&change.request, step, r.people, r.why);
                    let progress = &mut change.request.steps[step];
                    let added: Vec<UserId> = people
                        .into_iter()
                        .filter(|p| !progress.eligible.contains(p))
                        .collect();
                    progress.eligible.extend(added.iter().cloned());
                    let names: Vec<String> = added
                        .iter()
                        .map(|p| change.directory.display_name(p))
                        .collect();
                    progress.why.push_str(&format!(
                        "; escalated to {} because nobody decided in time ({why})",
                        names.join(", ")
                    ));
                    change.system_event("escalated", json!({ "step": step, "to": added }));
                    change.notices.push(Notice::Escalated { step, to: added });
                }
                Err(problem) => {
                    change.system_event(
                        "escalation_failed",
                        json!({ "step": step, "problem": problem }),
                    );
                    change.notices.push(Notice::AdminAttention {
                        problem: format!(
                            "{}: escalation failed: {problem}",
                            change.request.title()
                        ),
                    });
                }
            }
        }
        TimerKind::PendingExpiry => {
            let State::PendingApproval { step } = state else {
                return Err(DomainError::Outlived);
            };
            change.request.state = State::ClosedUnanswered;
            change.request.outcome = Some(Outcome {
                by: Actor::System.label(),
                at: change.now,
                reason: Some(String::from("nobody decided before the request expired")),
            });
            change.system_event("closed_unanswered", json!({ "step": step }));
            close_pending_step(change, step);
            change.notices.push(Notice::StepDecided { step });
        }
        TimerKind::AccessEndingSoon { until } => {
            if state != (State::Active { until }) {
                return Err(DomainError::Outlived);
            }
            change.system_event("access_ending_soon", json!({ "until": until.to_rfc3339() }));
            change.notices.push(Notice::AccessEndingSoon);
        }
        TimerKind::AccessExpiry => {
            let State::Active { until } = state else {
                return Err(DomainError::Outlived);
            };
            if change.now < until {
                // Fired early (another replica's clock runs ahead): look again at the end time
                // rather than drop the only timer that ends this access.
                change.timers.push(Timer {
                    at: until,
                    kind: TimerKind::AccessExpiry,
                });
                return Ok(());
            }
            change.request.state = State::Expired;
            change.system_event("expired", json!({ "until": until.to_rfc3339() }));
            change.remove_access();
        }
        TimerKind::ProvisioningTimeout { accepted_at } => {
            provisioning::time_out(change, accepted_at)?;
        }
    }
    Ok(())
}

/// Checks a comment and returns its audit event. Anyone involved in the request, or an
/// administrator, may comment at any time, including after it ends.
pub fn comment(
    request: &Request,
    actor: &Actor,
    text: &str,
    now: Timestamp,
) -> Result<(String, AuditEvent), DomainError> {
    let who = person(actor)?;
    if !request.involves(who) && !actor.is_admin() {
        return Err(DomainError::NotAllowed(format!(
            "{who} is not part of {}",
            request.title()
        )));
    }
    let text = required_text("text", text.to_owned(), "the comment's text")?;
    let event = AuditEvent::new(now, actor, "comment_added", json!({ "text": text }));
    Ok((text, event))
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod provisioning_tests;
