//! The requester's message: one DM per request, edited in place at every state change.

use super::facts::{facts_blocks, status_line, steps_summary};
use super::{request_action_value, Message, RenderContext, CANCEL_ACTION};
use crate::blocks::{
    actions, button_with_confirm, confirm_dialog, context, fit_blocks, section, ButtonStyle, Text,
    MAX_MESSAGE_BLOCKS,
};
use crate::text::{Mrkdwn, PlainText};
use serde_json::Value;
use sesame_core::flow::Flow;
use sesame_core::request::{Request, State};

/// The requester's message: the request's title linking to its page, where it stands, what was
/// asked, the approval steps, and a Cancel button while approval is pending. `flow` labels the
/// answers; without it (the flow was removed) question ids stand in.
pub fn requester_message(
    ctx: &RenderContext<'_>,
    request: &Request,
    flow: Option<&Flow>,
) -> Message {
    let title = Mrkdwn::bold(ctx.title_link(request));
    let status = status_line(ctx, request);
    let mut body: Vec<Value> = vec![section(
        &title.clone().then_literal("\n").then(status.clone()),
    )];
    body.extend(facts_blocks(ctx, request, flow));
    if !request.steps.is_empty() {
        body.push(context(&[Text::Mrkdwn(steps_summary(ctx, request))]));
    }
    let mut footer = Vec::new();
    if matches!(request.state, State::PendingApproval { .. }) {
        footer.push(cancel_actions(request));
    }
    let blocks = fit_blocks(body, footer, MAX_MESSAGE_BLOCKS, |_| {
        ctx.details_on_portal(request.number)
    });
    let text = Mrkdwn::escaped(&request.title())
        .then_literal(": ")
        .then(status);
    Message::new(&text, blocks)
}

fn cancel_actions(request: &Request) -> Value {
    let confirm = confirm_dialog(
        &PlainText::new(&format!("Cancel {}?", request.title())),
        &Mrkdwn::literal("Approvers will no longer be asked, and you can request it again later."),
        &PlainText::new("Cancel request"),
        &PlainText::new("Keep it"),
    );
    actions(
        &format!("sesame_requester_{}", request.number.0),
        vec![button_with_confirm(
            CANCEL_ACTION,
            &PlainText::new("Cancel request"),
            &request_action_value(request.number),
            Some(ButtonStyle::Danger),
            confirm,
        )],
    )
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::*;
    use crate::blocks::check_limits;
    use serde_json::json;

    #[test]
    fn a_pending_request_shows_its_status_answers_steps_and_cancel_button() {
        let request = submitted_carpark();
        let message = requester_message(&render_context(), &request, Some(&carpark()));
        assert_eq!(
            message.text,
            "Carpark access #117: Waiting for approval from <@U0MARK> (step 1 of 2: Manager approval)"
        );
        assert_eq!(
            message.to_json(),
            json!({
                "text": message.text,
                "blocks": [
                    {"type": "section", "text": {"type": "mrkdwn", "text":
                        "*<https://sesame.example/requests/117|Carpark access #117>*\nWaiting for approval from <@U0MARK> (step 1 of 2: Manager approval)"}},
                    {"type": "section", "fields": [
                        {"type": "mrkdwn", "text": "*Vehicle registration*"}, {"type": "plain_text", "text": "AB12 CDE"},
                        {"type": "mrkdwn", "text": "*Site*"}, {"type": "plain_text", "text": "Berlin"},
                        {"type": "mrkdwn", "text": "*Why do you need it?*"}, {"type": "plain_text", "text": "<!channel> I park @\u{2060}here"},
                        {"type": "mrkdwn", "text": "*Electric vehicle?*"}, {"type": "plain_text", "text": "Yes"},
                        {"type": "mrkdwn", "text": "*Charging bay*"}, {"type": "plain_text", "text": "A"}
                    ]},
                    {"type": "section", "fields": [
                        {"type": "mrkdwn", "text": "*Duration*"}, {"type": "plain_text", "text": "30 days"},
                        {"type": "mrkdwn", "text": "*Justification*"}, {"type": "plain_text", "text": "New job <@U0BOSS>"}
                    ]},
                    {"type": "context", "elements": [{"type": "mrkdwn", "text":
                        ":hourglass_flowing_sand: 1. Manager approval waiting for <@U0MARK>\n:white_small_square: 2. Approval by facilities"}]},
                    {"type": "actions", "block_id": "sesame_requester_117", "elements": [{
                        "type": "button", "action_id": "sesame_cancel", "value": "117", "style": "danger",
                        "text": {"type": "plain_text", "text": "Cancel request"},
                        "confirm": {
                            "title": {"type": "plain_text", "text": "Cancel Carpark access #117?"},
                            "text": {"type": "mrkdwn", "text": "Approvers will no longer be asked, and you can request it again later."},
                            "confirm": {"type": "plain_text", "text": "Cancel request"},
                            "deny": {"type": "plain_text", "text": "Keep it"}
                        }
                    }]}
                ]
            })
        );
        assert_eq!(check_limits(&message.to_json()), Ok(()));
    }

    #[test]
    fn every_state_has_its_status_line_and_only_pending_requests_can_be_canceled() {
        let ctx = render_context();
        let flow = carpark();
        for (request, status) in [
            (
                approved_by_manager(),
                "Waiting for approval from <@U0FAY>, Fred (step 2 of 2",
            ),
            (
                fulfilling(),
                "Approved; waiting for <@U0FAY>, Fred to grant access",
            ),
            (active(), "Active until <!date^"),
            (
                denied(),
                "Denied by <@U0MARK>: Not this quarter &lt;sorry&gt;",
            ),
            (canceled(), "Canceled by <@U0RITA>: changed my mind"),
            (failed(), "Could not be granted (<@U0FAY>): no bays left"),
            (expired(), "Expired <!date^"),
            (revoked(), "Revoked by <@U0RITA>"),
            (closed_unanswered(), "Closed: nobody decided in time"),
        ] {
            let message = requester_message(&ctx, &request, Some(&flow));
            let first = message.blocks[0]["text"]["text"].as_str().unwrap();
            assert!(first.contains(status), "{first} should contain {status}");
            let cancelable = message.blocks.iter().any(|b| b["type"] == "actions");
            assert_eq!(
                cancelable,
                matches!(request.state, State::PendingApproval { .. }),
                "{status}"
            );
            assert_eq!(check_limits(&message.to_json()), Ok(()), "{status}");
        }
    }

    #[test]
    fn without_the_flow_question_ids_label_the_answers() {
        let message = requester_message(&render_context(), &submitted_carpark(), None);
        assert_eq!(message.blocks[1]["fields"][0]["text"], "*bay*");
        assert_eq!(message.blocks[1]["fields"][1]["text"], "A");
    }

    #[test]
    fn too_many_answers_for_one_message_are_cut_with_a_link_and_the_button_kept() {
        let mut yaml = String::from("id: wide\nname: Wide\nrequesters: everyone\nquestions:\n");
        for i in 0..300 {
            yaml.push_str(&format!("  - {{ id: q{i}, label: Q{i}, type: text }}\n"));
        }
        yaml.push_str(
            "approval: [{ approvers: manager }]\nfulfillment: { manual: { group: facilities } }\n",
        );
        let wide = flow(&yaml);
        let raw = sesame_core::answers::RawSubmission {
            answers: (0..300)
                .map(|i| (format!("q{i}"), json!(format!("a{i}"))))
                .collect(),
            ..Default::default()
        };
        let request = submit(&wide, "rita", raw, 8);
        let message = requester_message(&render_context(), &request, Some(&wide));
        assert_eq!(message.blocks.len(), MAX_MESSAGE_BLOCKS);
        assert_eq!(
            message.blocks[48]["elements"][0]["text"],
            "More details are on <https://sesame.example/requests/8|the request's page>"
        );
        assert_eq!(
            message.blocks[49]["elements"][0]["action_id"],
            CANCEL_ACTION
        );
        assert_eq!(check_limits(&message.to_json()), Ok(()));
    }

    #[test]
    fn huge_answers_and_sixty_long_steps_stay_within_limits() {
        let request = huge_request();
        let message = requester_message(&render_context(), &request, Some(&huge_flow()));
        assert_eq!(check_limits(&message.to_json()), Ok(()));
        assert!(message.blocks.len() <= MAX_MESSAGE_BLOCKS);
        assert!(message.text.chars().count() <= 300);
        let last = message.blocks.last().unwrap();
        assert_eq!(
            last["elements"][0]["action_id"], CANCEL_ACTION,
            "the button survives the cut"
        );
    }
}
