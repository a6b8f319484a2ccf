//! The approver's and fulfiller's messages, with their buttons while a decision is open, and the
//! modals that ask for a reason.

use super::facts::{approvers, facts_blocks, status_line, step_position, NAMED_PEOPLE};
use super::{
    request_action_value, step_action_value, Message, RenderContext, APPROVE_ACTION,
    COMPLETE_ACTION, DENY_ACTION, FAIL_ACTION,
};
use crate::blocks::{
    actions, button, context, fit_blocks, plain_text_input, section, ButtonStyle, Input, Modal,
    PrivateMetadata, Text, MAX_MESSAGE_BLOCKS,
};
use crate::text::{Mrkdwn, PlainText};
use serde_json::Value;
use sesame_core::engine::MAX_REASON;
use sesame_core::flow::Flow;
use sesame_core::ids::{RequestNumber, UserId};
use sesame_core::request::{Request, State, StepProgress, StepStatus};

pub const DENY_CALLBACK_ID: &str = "sesame_deny_reason";
pub const FAIL_CALLBACK_ID: &str = "sesame_fail_reason";
pub const REASON_BLOCK: &str = "sesame_reason";
pub const REASON_ACTION: &str = "sesame_reason";

/// The message asking `approver` to decide step `step` (from zero), or, once the step is decided,
/// the same message saying how ("Approved by @x", "Denied by @x: reason", "Canceled by @x"), without
/// buttons. Every approver's copy is rendered the same way, so a decision updates them all.
pub fn approver_message(
    ctx: &RenderContext<'_>,
    request: &Request,
    flow: Option<&Flow>,
    step: usize,
    approver: &UserId,
) -> Message {
    let asks = ctx
        .person(&request.requester)
        .then_literal(" asks for ")
        .then(Mrkdwn::bold(ctx.title_link(request)));
    let Some(progress) = request.steps.get(step) else {
        let gone = Mrkdwn::literal("This approval step no longer exists.");
        return Message::new(&gone, vec![section(&asks), section(&gone)]);
    };
    let mut body = vec![section(&asks)];
    body.extend(facts_blocks(ctx, request, flow));
    let mut why = vec![Text::Mrkdwn(
        Mrkdwn::literal("Step: ").then(step_position(request, step, progress)),
    )];
    if !progress.why.is_empty() {
        why.push(Text::Mrkdwn(
            Mrkdwn::literal("Why you: ").then_escaped(&progress.why),
        ));
    }
    body.push(context(&why));
    let (outcome, footer) = decision_state(ctx, request, step, progress, approver);
    body.push(section(&outcome));
    let blocks = fit_blocks(body, footer, MAX_MESSAGE_BLOCKS, |_| {
        ctx.details_on_portal(request.number)
    });
    let text = if progress.status == StepStatus::Pending {
        Mrkdwn::escaped(&ctx.name(&request.requester))
            .then_literal(" asks for ")
            .then_escaped(&request.title())
    } else {
        Mrkdwn::escaped(&request.title())
            .then_literal(": ")
            .then(outcome)
    };
    Message::new(&text, blocks)
}

/// What the approver sees about the decision, and the buttons when it is theirs to make.
fn decision_state(
    ctx: &RenderContext<'_>,
    request: &Request,
    step: usize,
    progress: &StepProgress,
    approver: &UserId,
) -> (Mrkdwn, Vec<Value>) {
    let needed = (progress.spec.required as usize).saturating_sub(progress.approvals.len());
    match progress.status {
        StepStatus::Pending if progress.approved_by(approver) => (
            Mrkdwn::escaped(&format!(
                "You approved. Waiting for {needed} more approval(s)."
            )),
            Vec::new(),
        ),
        StepStatus::Pending if progress.eligible.contains(approver) => {
            let value = step_action_value(request.number, step);
            let buttons = actions(
                &format!("sesame_decide_{}_{step}", request.number.0),
                vec![
                    button(
                        APPROVE_ACTION,
                        &PlainText::new("Approve"),
                        &value,
                        Some(ButtonStyle::Primary),
                    ),
                    button(
                        DENY_ACTION,
                        &PlainText::new("Deny"),
                        &value,
                        Some(ButtonStyle::Danger),
                    ),
                ],
            );
            (Mrkdwn::literal("Waiting for your decision."), vec![buttons])
        }
        StepStatus::Pending => (
            Mrkdwn::literal("You are no longer asked to decide this step."),
            Vec::new(),
        ),
        StepStatus::Approved => (
            Mrkdwn::literal(":white_check_mark: Approved by ")
                .then(ctx.people_list(&approvers(progress), NAMED_PEOPLE)),
            Vec::new(),
        ),
        StepStatus::Denied => {
            let line = match &progress.denial {
                Some(denial) => {
                    let line = Mrkdwn::literal(":x: Denied by ").then(ctx.person(&denial.by));
                    match denial.comment.as_deref() {
                        Some(reason) => line.then_literal(": ").then_escaped(reason),
                        None => line,
                    }
                }
                None => Mrkdwn::literal(":x: Denied"),
            };
            (line, Vec::new())
        }
        StepStatus::Skipped => (
            Mrkdwn::literal("Skipped: ").then_escaped(&progress.why),
            Vec::new(),
        ),
        StepStatus::Closed => (status_line(ctx, request), Vec::new()),
        StepStatus::Waiting => (
            Mrkdwn::literal("This step has not started yet."),
            Vec::new(),
        ),
    }
}

/// The task for the people who grant access by hand, with Done and Can't-do-it buttons while it is
/// open, and who did it (or why it could not be done) afterwards.
pub fn fulfiller_message(
    ctx: &RenderContext<'_>,
    request: &Request,
    flow: Option<&Flow>,
) -> Message {
    let mut ask = Mrkdwn::literal("Please grant ")
        .then(ctx.person(&request.requester))
        .then_literal(" ")
        .then(Mrkdwn::bold(ctx.title_link(request)));
    if let Some(duration) = request.duration {
        ask = ask.then_escaped(&format!(" for {}", duration.in_words()));
    }
    let mut body = vec![section(&ask)];
    body.extend(facts_blocks(ctx, request, flow));
    if let Some(why) = request
        .fulfilment
        .as_ref()
        .map(|f| f.why.as_str())
        .filter(|w| !w.is_empty())
    {
        body.push(context(&[Text::Mrkdwn(
            Mrkdwn::literal("Why you: ").then_escaped(why),
        )]));
    }
    let mut footer = Vec::new();
    let outcome = if request.state == State::Fulfilling {
        let value = request_action_value(request.number);
        footer.push(actions(
            &format!("sesame_fulfil_{}", request.number.0),
            vec![
                button(
                    COMPLETE_ACTION,
                    &PlainText::new("Done"),
                    &value,
                    Some(ButtonStyle::Primary),
                ),
                button(
                    FAIL_ACTION,
                    &PlainText::new("Can't do it"),
                    &value,
                    Some(ButtonStyle::Danger),
                ),
            ],
        ));
        Mrkdwn::literal("Press Done once access is granted.")
    } else {
        fulfilment_outcome(ctx, request)
    };
    body.push(section(&outcome));
    let blocks = fit_blocks(body, footer, MAX_MESSAGE_BLOCKS, |_| {
        ctx.details_on_portal(request.number)
    });
    let text = Mrkdwn::literal("Please grant ")
        .then_escaped(&ctx.name(&request.requester))
        .then_literal(" ")
        .then_escaped(&request.title());
    Message::new(&text, blocks)
}

fn fulfilment_outcome(ctx: &RenderContext<'_>, request: &Request) -> Mrkdwn {
    let fulfilment = request.fulfilment.as_ref();
    let by = fulfilment.and_then(|f| f.by.as_ref());
    let note = fulfilment.and_then(|f| f.note.as_deref());
    match (request.state, by) {
        (State::Active { .. } | State::Fulfilled | State::Expired | State::Revoked, Some(by)) => {
            let line = Mrkdwn::literal(":white_check_mark: Done by ").then(ctx.person(by));
            let line = match note {
                Some(note) => line.then_literal(": ").then_escaped(note),
                None => line,
            };
            line.then_literal("\n").then(status_line(ctx, request))
        }
        (State::Failed, Some(by)) => Mrkdwn::literal(":x: Could not be done, said ")
            .then(ctx.person(by))
            .then_literal(": ")
            .then_escaped(note.unwrap_or("no reason given")),
        _ => status_line(ctx, request),
    }
}

fn reason_input(label: &str, placeholder: &str) -> Value {
    Input {
        block_id: String::from(REASON_BLOCK),
        label: PlainText::new(label),
        element: plain_text_input(
            REASON_ACTION,
            true,
            MAX_REASON,
            None,
            Some(&PlainText::new(placeholder)),
        ),
        optional: false,
        hint: Some(PlainText::new("The requester sees this.")),
        dispatch_action: false,
    }
    .block()
}

/// The modal that asks an approver why they deny. Its `private_metadata` is the Deny button's value,
/// so the submission says which request and step it is about.
pub fn deny_modal(number: RequestNumber, step: usize) -> Value {
    Modal {
        callback_id: String::from(DENY_CALLBACK_ID),
        title: PlainText::new(&format!("Deny request {number}")),
        submit: Some(PlainText::new("Deny")),
        close: PlainText::new("Back"),
        blocks: vec![reason_input(
            "Why do you deny it?",
            "For example: use the staging database instead.",
        )],
        private_metadata: PrivateMetadata::new(step_action_value(number, step)).unwrap_or_default(),
        notify_on_close: false,
    }
    .view()
}

/// The modal that asks a fulfiller why access cannot be granted.
pub fn fail_modal(number: RequestNumber) -> Value {
    Modal {
        callback_id: String::from(FAIL_CALLBACK_ID),
        title: PlainText::new(&format!("Can't grant {number}")),
        submit: Some(PlainText::new("Send")),
        close: PlainText::new("Back"),
        blocks: vec![reason_input(
            "Why can't it be done?",
            "For example: no licences left until March.",
        )],
        private_metadata: PrivateMetadata::new(request_action_value(number)).unwrap_or_default(),
        notify_on_close: false,
    }
    .view()
}

/// The reason typed into a deny or fail modal, from `view.state.values`.
pub fn reason_from_state(state_values: &Value) -> Option<String> {
    state_values
        .get(REASON_BLOCK)?
        .get(REASON_ACTION)?
        .get("value")?
        .as_str()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests;
