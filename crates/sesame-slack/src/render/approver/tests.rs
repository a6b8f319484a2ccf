use super::super::fixtures::*;
use super::super::parse_step_action_value;
use super::*;
use crate::blocks::check_limits;
use serde_json::json;
use sesame_core::answers::RawSubmission;
use sesame_core::engine::Command;
use sesame_core::events::Actor;

fn buttons(message: &Message) -> Vec<(String, String)> {
    message
        .blocks
        .iter()
        .filter(|b| b["type"] == "actions")
        .flat_map(|b| b["elements"].as_array().cloned().unwrap_or_default())
        .map(|e| {
            (
                e["action_id"].as_str().unwrap().to_owned(),
                e["value"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn outcome_text(message: &Message) -> String {
    let outcome = message
        .blocks
        .iter()
        .rev()
        .find(|b| b["type"] == "section" && b.get("text").is_some());
    outcome.unwrap()["text"]["text"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn an_open_step_asks_with_approve_and_deny_buttons() {
    let message = approver_message(
        &render_context(),
        &submitted_carpark(),
        Some(&carpark()),
        0,
        &uid("mark"),
    );
    assert_eq!(
        message.text,
        "Rita &lt;!here&gt; asks for Carpark access #117"
    );
    assert_eq!(
        message.blocks[0],
        json!({"type": "section", "text": {"type": "mrkdwn", "text":
            "<@U0RITA> asks for *<https://sesame.example/requests/117|Carpark access #117>*"}})
    );
    assert_eq!(
        message.blocks[3],
        json!({"type": "context", "elements": [
            {"type": "mrkdwn", "text": "Step: step 1 of 2: Manager approval"},
            {"type": "mrkdwn", "text": "Why you: Mark is Rita &lt;!here&gt;'s manager"}
        ]})
    );
    assert_eq!(
        message.blocks[5],
        json!({"type": "actions", "block_id": "sesame_decide_117_0", "elements": [
            {"type": "button", "action_id": "sesame_approve", "value": "117:0", "style": "primary",
             "text": {"type": "plain_text", "text": "Approve"}},
            {"type": "button", "action_id": "sesame_deny", "value": "117:0", "style": "danger",
             "text": {"type": "plain_text", "text": "Deny"}}
        ]})
    );
    assert_eq!(
        parse_step_action_value("117:0"),
        Ok((RequestNumber(117), 0))
    );
    assert_eq!(check_limits(&message.to_json()), Ok(()));
}

#[test]
fn every_copy_shows_the_decision_once_made_and_loses_its_buttons() {
    let ctx = render_context();
    let flow = carpark();
    let after = approved_by_manager();
    let marks = approver_message(&ctx, &after, Some(&flow), 0, &uid("mark"));
    assert!(buttons(&marks).is_empty());
    assert_eq!(
        outcome_text(&marks),
        ":white_check_mark: Approved by <@U0MARK>"
    );
    assert_eq!(
        marks.text,
        "Carpark access #117: :white_check_mark: Approved by <@U0MARK>"
    );

    for facilities in ["fay", "fred"] {
        let copy = approver_message(&ctx, &after, Some(&flow), 1, &uid(facilities));
        let values: Vec<String> = buttons(&copy).into_iter().map(|(_, v)| v).collect();
        assert_eq!(values, ["117:1", "117:1"], "{facilities}");
    }
    let not_marks = approver_message(&ctx, &after, Some(&flow), 1, &uid("mark"));
    assert!(buttons(&not_marks).is_empty());

    let denied_copy = approver_message(&ctx, &denied(), Some(&flow), 0, &uid("mark"));
    assert_eq!(
        outcome_text(&denied_copy),
        ":x: Denied by <@U0MARK>: Not this quarter &lt;sorry&gt;"
    );
    let canceled_copy = approver_message(&ctx, &canceled(), Some(&flow), 1, &uid("fay"));
    assert_eq!(
        outcome_text(&canceled_copy),
        "Canceled by <@U0RITA>: changed my mind"
    );
    assert!(buttons(&canceled_copy).is_empty());
    let closed_copy = approver_message(&ctx, &closed_unanswered(), Some(&flow), 0, &uid("mark"));
    assert_eq!(outcome_text(&closed_copy), "Closed: nobody decided in time");
    let later_step = approver_message(&ctx, &submitted_carpark(), Some(&flow), 1, &uid("fay"));
    assert_eq!(outcome_text(&later_step), "This step has not started yet.");
    let missing = approver_message(&ctx, &submitted_carpark(), Some(&flow), 7, &uid("fay"));
    assert_eq!(missing.text, "This approval step no longer exists.");
}

#[test]
fn a_quorum_step_tells_who_approved_to_wait_and_keeps_asking_the_others() {
    let flow = flow(
        "id: quorum\nname: Quorum\nrequesters: everyone\napproval:\n  - { name: Two of three, approvers: { users: [mark, fay, fred] }, required: 2 }\nfulfillment: { manual: { group: facilities } }\n",
    );
    let request = submit(&flow, "rita", RawSubmission::default(), 5);
    let request = act(
        &request,
        Command::Approve {
            step: Some(0),
            comment: None,
        },
        Actor::user(uid("mark")),
        1,
    );
    let ctx = render_context();
    let marks = approver_message(&ctx, &request, Some(&flow), 0, &uid("mark"));
    assert_eq!(
        outcome_text(&marks),
        "You approved. Waiting for 1 more approval(s)."
    );
    assert!(buttons(&marks).is_empty());
    let fays = approver_message(&ctx, &request, Some(&flow), 0, &uid("fay"));
    assert_eq!(buttons(&fays).len(), 2);
    let status = requester_status(&request);
    assert!(
        status.ends_with("(step 1 of 1: Two of three), 1 of 2 approvals so far"),
        "{status}"
    );
}

fn requester_status(request: &Request) -> String {
    let message = super::super::requester_message(&render_context(), request, None);
    message.blocks[0]["text"]["text"]
        .as_str()
        .unwrap()
        .lines()
        .nth(1)
        .unwrap()
        .to_owned()
}

#[test]
fn fulfillers_get_done_and_cant_do_it_buttons_then_the_outcome() {
    let ctx = render_context();
    let flow = carpark();
    let open = fulfiller_message(&ctx, &fulfilling(), Some(&flow));
    assert_eq!(
        open.text,
        "Please grant Rita &lt;!here&gt; Carpark access #117"
    );
    assert_eq!(
        open.blocks[0]["text"]["text"],
        "Please grant <@U0RITA> *<https://sesame.example/requests/117|Carpark access #117>* for 30 days"
    );
    assert_eq!(
        buttons(&open),
        [
            (String::from(COMPLETE_ACTION), String::from("117")),
            (String::from(FAIL_ACTION), String::from("117"))
        ]
    );
    let done = fulfiller_message(&ctx, &active(), Some(&flow));
    assert!(buttons(&done).is_empty());
    assert!(outcome_text(&done)
        .starts_with(":white_check_mark: Done by <@U0FAY>: Bay A, pass #4\nActive until <!date^"));
    let refused = fulfiller_message(&ctx, &failed(), Some(&flow));
    assert_eq!(
        outcome_text(&refused),
        ":x: Could not be done, said <@U0FAY>: no bays left"
    );
    for message in [open, done, refused] {
        assert_eq!(check_limits(&message.to_json()), Ok(()));
    }
}

#[test]
fn reason_modals_have_slacks_shape_and_read_back() {
    let modal = deny_modal(RequestNumber(117), 1);
    assert_eq!(
        modal,
        json!({
            "type": "modal", "callback_id": "sesame_deny_reason", "private_metadata": "117:1",
            "title": {"type": "plain_text", "text": "Deny request #117"},
            "submit": {"type": "plain_text", "text": "Deny"},
            "close": {"type": "plain_text", "text": "Back"},
            "blocks": [{
                "type": "input", "block_id": "sesame_reason", "optional": false,
                "label": {"type": "plain_text", "text": "Why do you deny it?"},
                "hint": {"type": "plain_text", "text": "The requester sees this."},
                "element": {"type": "plain_text_input", "action_id": "sesame_reason", "multiline": true,
                    "max_length": 3000,
                    "placeholder": {"type": "plain_text", "text": "For example: use the staging database instead."}}
            }]
        })
    );
    let fail = fail_modal(RequestNumber(117));
    assert_eq!(fail["callback_id"], FAIL_CALLBACK_ID);
    assert_eq!(fail["private_metadata"], "117");
    assert_eq!(fail["title"]["text"], "Can't grant #117");
    for view in [modal, fail, deny_modal(RequestNumber(i64::MAX), usize::MAX)] {
        assert_eq!(check_limits(&view), Ok(()));
    }
    let state = json!({"sesame_reason": {"sesame_reason": {"type": "plain_text_input", "value": "  too risky  "}}});
    assert_eq!(reason_from_state(&state).as_deref(), Some("too risky"));
    let blank =
        json!({"sesame_reason": {"sesame_reason": {"type": "plain_text_input", "value": "  "}}});
    assert_eq!(reason_from_state(&blank), None);
    assert_eq!(reason_from_state(&json!({})), None);
}

#[test]
fn huge_requests_stay_within_limits_for_approvers_and_fulfillers() {
    let ctx = render_context();
    let flow = huge_flow();
    let mut request = huge_request();
    let approver = approver_message(&ctx, &request, Some(&flow), 0, &uid("mark"));
    assert_eq!(check_limits(&approver.to_json()), Ok(()));
    assert_eq!(buttons(&approver).len(), 2, "the buttons survive the cut");
    // Jump to the last step, as if 59 approvals had happened.
    request.state = State::PendingApproval { step: 59 };
    request.steps[59].status = StepStatus::Pending;
    request.steps[59].eligible = vec![uid("mark"), uid("fay")];
    let last = approver_message(&ctx, &request, Some(&flow), 59, &uid("fay"));
    assert_eq!(check_limits(&last.to_json()), Ok(()));
    assert_eq!(buttons(&last)[0].1, "99999:59");
    let fulfiller = fulfiller_message(&ctx, &request, Some(&flow));
    assert_eq!(check_limits(&fulfiller.to_json()), Ok(()));
}
