//! The parts every request message shares: the status line, the answers, and the approval steps.

use super::RenderContext;
use crate::blocks::{fields_sections, Text};
use crate::text::{format_number, Mrkdwn, PlainText};
use serde_json::Value;
use sesame_core::flow::{Flow, QuestionKind};
use sesame_core::ids::UserId;
use sesame_core::request::{Request, State, StepProgress, StepStatus};
use sesame_core::time::Span;

/// How many people a line names before it says "and N others".
pub(crate) const NAMED_PEOPLE: usize = 5;

/// Where the request stands, in one line: "Waiting for approval from @mark (step 1 of 2: Manager
/// approval)", "Active until …", "Denied by @mark: not this quarter".
pub(crate) fn status_line(ctx: &RenderContext<'_>, request: &Request) -> Mrkdwn {
    let outcome_by = || {
        request
            .outcome
            .as_ref()
            .map_or_else(|| Mrkdwn::literal("someone"), |o| ctx.actor(&o.by))
    };
    let with_reason =
        |line: Mrkdwn| match request.outcome.as_ref().and_then(|o| o.reason.as_deref()) {
            Some(reason) => line.then_literal(": ").then_escaped(reason),
            None => line,
        };
    match request.state {
        State::Submitted => Mrkdwn::literal("Submitted"),
        State::PendingApproval { step } => match request.steps.get(step) {
            Some(progress) => waiting_line(ctx, request, step, progress),
            None => Mrkdwn::literal("Waiting for approval"),
        },
        State::Approved => Mrkdwn::literal("Approved"),
        State::Fulfilling if request.extends.is_some() => {
            Mrkdwn::literal("Approved; Sesame is extending the access")
        }
        State::Fulfilling if request.provisioning.is_some() => {
            let line = Mrkdwn::literal("Approved; Sesame is granting the access");
            match request
                .provisioning
                .as_ref()
                .and_then(|p| p.last_error.as_deref())
            {
                Some(error) => line
                    .then_literal(" and keeps trying; the target system answered: ")
                    .then_escaped(error),
                None => line,
            }
        }
        State::Fulfilling => {
            let fulfillers = request
                .fulfilment
                .as_ref()
                .map(|f| f.fulfillers.as_slice())
                .unwrap_or_default();
            if fulfillers.is_empty() {
                Mrkdwn::literal(
                    "Approved; nobody can grant it right now, and an administrator has been told",
                )
            } else {
                Mrkdwn::literal("Approved; waiting for ")
                    .then(ctx.people_list(fulfillers, NAMED_PEOPLE))
                    .then_literal(" to grant access")
            }
        }
        State::Active { until } => Mrkdwn::literal("Active until ").then(Mrkdwn::date(until)),
        State::Fulfilled => match request.fulfilment.as_ref().and_then(|f| f.by.as_ref()) {
            Some(by) => Mrkdwn::literal("Done by ").then(ctx.person(by)),
            None => Mrkdwn::literal("Done"),
        },
        State::Expired => match request.access_ends_at {
            Some(at) => Mrkdwn::literal("Expired ").then(Mrkdwn::date(at)),
            None => Mrkdwn::literal("Expired"),
        },
        State::Revoked => with_reason(Mrkdwn::literal("Revoked by ").then(outcome_by())),
        State::Denied => with_reason(Mrkdwn::literal("Denied by ").then(outcome_by())),
        State::Canceled => with_reason(Mrkdwn::literal("Canceled by ").then(outcome_by())),
        State::Failed => with_reason(
            Mrkdwn::literal("Could not be granted (")
                .then(outcome_by())
                .then_literal(")"),
        ),
        State::ClosedUnanswered => Mrkdwn::literal("Closed: nobody decided in time"),
    }
}

/// "Waiting for approval from @a, @b (step 2 of 3: Security review)", with the quorum when a step
/// needs more than one approval.
pub(crate) fn waiting_line(
    ctx: &RenderContext<'_>,
    request: &Request,
    step: usize,
    progress: &StepProgress,
) -> Mrkdwn {
    let undecided: Vec<UserId> = progress.undecided().cloned().collect();
    let position = step_position(request, step, progress);
    if progress.eligible.is_empty() {
        return Mrkdwn::literal("Waiting: nobody can approve ")
            .then(position)
            .then_literal(" right now, and an administrator has been told");
    }
    let mut line = Mrkdwn::literal("Waiting for approval from ")
        .then(ctx.people_list(&undecided, NAMED_PEOPLE))
        .then_literal(" (")
        .then(position)
        .then_literal(")");
    let need = progress.spec.required as usize;
    if need > 1 {
        line = line.then_escaped(&format!(
            ", {} of {need} approvals so far",
            progress.approvals.len()
        ));
    }
    line
}

/// "step 2 of 3: Security review".
pub(crate) fn step_position(request: &Request, step: usize, progress: &StepProgress) -> Mrkdwn {
    Mrkdwn::escaped(&format!(
        "step {} of {}: {}",
        step + 1,
        request.steps.len(),
        progress.spec.name
    ))
}

/// One line per step: done, waiting, or still to come.
pub(crate) fn steps_summary(ctx: &RenderContext<'_>, request: &Request) -> Mrkdwn {
    let lines = request.steps.iter().enumerate().map(|(index, step)| {
        let (icon, detail) = match step.status {
            StepStatus::Approved => (
                ":white_check_mark:",
                Mrkdwn::literal(" approved by ")
                    .then(ctx.people_list(&approvers(step), NAMED_PEOPLE)),
            ),
            StepStatus::Denied => (
                ":x:",
                Mrkdwn::literal(" denied by ").then(
                    step.denial
                        .as_ref()
                        .map_or_else(|| Mrkdwn::literal("someone"), |d| ctx.person(&d.by)),
                ),
            ),
            StepStatus::Pending => (
                ":hourglass_flowing_sand:",
                Mrkdwn::literal(" waiting for ")
                    .then(ctx.people_list(&step.eligible, NAMED_PEOPLE)),
            ),
            StepStatus::Skipped => (":fast_forward:", Mrkdwn::literal(" skipped")),
            StepStatus::Closed => (":heavy_minus_sign:", Mrkdwn::literal(" closed undecided")),
            StepStatus::Waiting => (":white_small_square:", Mrkdwn::new()),
        };
        Mrkdwn::literal(icon)
            .then_escaped(&format!(" {}. {}", index + 1, step.spec.name))
            .then(detail)
    });
    Mrkdwn::join(lines, "\n")
}

pub(crate) fn approvers(step: &StepProgress) -> Vec<UserId> {
    step.approvals.iter().map(|a| a.by.clone()).collect()
}

/// Label/value pairs for the answers, the duration, who the request is for and the justification,
/// as field sections (labels bold, values plain text so nothing a person typed is formatted).
pub(crate) fn facts_blocks(
    ctx: &RenderContext<'_>,
    request: &Request,
    flow: Option<&Flow>,
) -> Vec<Value> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    if request.submitted_by != request.requester {
        pairs.push((String::from("Requested for"), ctx.name(&request.requester)));
        pairs.push((String::from("Filed by"), ctx.name(&request.submitted_by)));
    }
    pairs.extend(answer_pairs(ctx, request, flow));
    if let Some(duration) = request.duration {
        pairs.push((String::from("Duration"), duration.in_words()));
    }
    if let Some(justification) = &request.justification {
        pairs.push((String::from("Justification"), justification.clone()));
    }
    let fields: Vec<Text> = pairs
        .iter()
        .flat_map(|(label, value)| {
            [
                Text::Mrkdwn(Mrkdwn::bold(Mrkdwn::escaped(label))),
                Text::Plain(PlainText::new(value)),
            ]
        })
        .collect();
    fields_sections(&fields)
}

/// The answers in the flow's question order, labelled from the flow when it is at hand (it may have
/// been edited or removed since; then question ids stand in for labels).
fn answer_pairs(
    ctx: &RenderContext<'_>,
    request: &Request,
    flow: Option<&Flow>,
) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    if let Some(flow) = flow {
        for question in &flow.questions {
            if let Some(value) = request.answers.get(&question.id) {
                pairs.push((
                    question.label.clone(),
                    answer_text(ctx, value, Some(&question.kind)),
                ));
            }
        }
    }
    for (id, value) in &request.answers {
        let labelled = flow.is_some_and(|f| f.question(id.as_str()).is_some());
        if !labelled {
            pairs.push((id.to_string(), answer_text(ctx, value, None)));
        }
    }
    pairs
}

/// An answer as people read it: Yes/No, 8 not 8.0, "4 hours", a person's name.
pub(crate) fn answer_text(
    ctx: &RenderContext<'_>,
    value: &Value,
    kind: Option<&QuestionKind>,
) -> String {
    match (value, kind) {
        (Value::Bool(true), _) => String::from("Yes"),
        (Value::Bool(false), _) => String::from("No"),
        (Value::Number(n), _) => n.as_f64().map_or_else(|| n.to_string(), format_number),
        (Value::String(s), Some(QuestionKind::User)) => match UserId::new(s.as_str()) {
            Ok(id) => ctx.name(&id),
            Err(_) => s.clone(),
        },
        (Value::String(s), Some(QuestionKind::Duration { .. })) => {
            Span::parse(s).map_or_else(|_| s.clone(), Span::in_words)
        }
        (Value::String(s), _) => s.clone(),
        (Value::Array(items), _) => items
            .iter()
            .map(|item| answer_text(ctx, item, kind))
            .collect::<Vec<_>>()
            .join(", "),
        (Value::Null, _) => String::from("-"),
        (other, _) => other.to_string(),
    }
}
