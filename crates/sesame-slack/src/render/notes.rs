//! Short direct messages that are not the request's own cards: the reminder under an approver's
//! message, and the note asking fulfillers to take access away again.

use super::facts::{status_line, step_position};
use super::{Message, RenderContext};
use crate::blocks::section;
use crate::text::Mrkdwn;
use sesame_core::request::Request;

/// A reply under an approver's message: the step is still waiting for them.
pub fn reminder_reply(ctx: &RenderContext<'_>, request: &Request, step: usize) -> Message {
    let mut line = Mrkdwn::literal(":bell: Reminder: ")
        .then(ctx.title_link(request))
        .then_literal(" is still waiting for your decision");
    if let Some(progress) = request.steps.get(step) {
        line = line
            .then_literal(" (")
            .then(step_position(request, step, progress))
            .then_literal(")");
    }
    let line = line.then_literal(".");
    Message::new(&line, vec![section(&line)])
}

/// Access ended (it expired or was revoked) and was granted by hand, so it must be removed by hand.
pub fn removal_message(ctx: &RenderContext<'_>, request: &Request) -> Message {
    let ask = Mrkdwn::literal("Please remove the access of ")
        .then(ctx.person(&request.requester))
        .then_literal(" for ")
        .then(Mrkdwn::bold(ctx.title_link(request)))
        .then_literal(".");
    let status = status_line(ctx, request);
    let text = Mrkdwn::literal("Please remove access: ")
        .then_escaped(&request.title())
        .then_literal(" (")
        .then(status.clone())
        .then_literal(")");
    Message::new(&text, vec![section(&ask), section(&status)])
}

/// A post for the administrators' channel: which request, and what needs them.
pub fn admin_alert(ctx: &RenderContext<'_>, request: &Request, problem: &str) -> Message {
    let line = Mrkdwn::literal(":warning: ")
        .then(Mrkdwn::bold(ctx.title_link(request)))
        .then_literal(" needs an administrator: ")
        .then_escaped(problem);
    Message::new(&line, vec![section(&line)])
}

/// A modal that only says something (a refusal, a problem), to replace a modal in a
/// `response_action: update` or to open where a form cannot be offered.
pub fn info_modal(title: &str, text: &str) -> serde_json::Value {
    crate::blocks::Modal {
        callback_id: String::from(INFO_CALLBACK_ID),
        title: crate::text::PlainText::new(title),
        submit: None,
        close: crate::text::PlainText::new("Close"),
        blocks: vec![section(&Mrkdwn::escaped(text))],
        private_metadata: crate::blocks::PrivateMetadata::default(),
        notify_on_close: false,
    }
    .view()
}

/// The `callback_id` of [`info_modal`], which has nothing to submit.
pub const INFO_CALLBACK_ID: &str = "sesame_info";

/// A sentence for one person (a refusal, a problem, a confirmation), escaped like any text that may
/// carry user input, in a section so that it is shown in full.
pub fn plain_notice(text: &str) -> Message {
    let escaped = Mrkdwn::escaped(text);
    Message::new(&escaped, vec![section(&escaped)])
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::*;
    use crate::blocks::check_limits;

    #[test]
    fn a_reminder_names_the_request_and_the_step() {
        let message = reminder_reply(&render_context(), &submitted_carpark(), 0);
        assert_eq!(
            message.text,
            ":bell: Reminder: <https://sesame.example/requests/117|Carpark access #117> is still waiting for your decision (step 1 of 2: Manager approval)."
        );
        assert_eq!(check_limits(&message.to_json()), Ok(()));
    }

    #[test]
    fn a_removal_note_says_whose_access_and_why_it_ended() {
        let message = removal_message(&render_context(), &revoked());
        assert_eq!(
            message.blocks[0]["text"]["text"],
            "Please remove the access of <@U0RITA> for *<https://sesame.example/requests/117|Carpark access #117>*."
        );
        assert!(message.text.contains("Revoked by"), "{}", message.text);
        assert_eq!(check_limits(&message.to_json()), Ok(()));
    }
}
