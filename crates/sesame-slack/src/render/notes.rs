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
