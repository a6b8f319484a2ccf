use super::*;
use crate::inbound::MAX_BODY;
use serde_json::json;

fn form(payload: &Value) -> Vec<u8> {
    serde_urlencoded::to_string([("payload", payload.to_string())])
        .unwrap()
        .into_bytes()
}

fn user() -> Value {
    json!({"id": "U0001", "username": "alice", "name": "alice", "team_id": "T0001"})
}

/// A button click on a message, shaped like chat-protocols.md §4's capture.
fn button_click() -> Value {
    json!({
        "type": "block_actions", "api_app_id": "A0001", "token": "x", "trigger_id": "1021532.abc",
        "team": {"id": "T0001", "domain": "acme"}, "enterprise": null, "is_enterprise_install": false,
        "user": user(),
        "container": {"type": "message", "message_ts": "1767326126.896109", "channel_id": "C0001",
                      "is_ephemeral": false},
        "channel": {"id": "C0001", "name": "access"},
        "message": {"type": "message", "user": "UBOT", "ts": "1767326126.896109", "text": "x", "blocks": []},
        "state": {"values": {}},
        "response_url": "https://hooks.slack.com/actions/T0001/123/abc",
        "actions": [{"type": "button", "action_id": "sesame_approve", "block_id": "req_42",
                     "value": "42:0", "text": {"type": "plain_text", "text": "Approve"},
                     "action_ts": "1767326130.289415"}]
    })
}

#[test]
fn a_button_click_on_a_message_parses() {
    let Interaction::BlockActions(click) = parse_interaction(&form(&button_click())).unwrap()
    else {
        panic!("expected block_actions");
    };
    assert_eq!(click.user.id, "U0001");
    assert_eq!(click.user.username.as_deref(), Some("alice"));
    assert_eq!(
        click.team,
        Some(Team {
            id: String::from("T0001")
        })
    );
    assert_eq!(click.trigger_id, "1021532.abc");
    assert_eq!(
        click.response_url.as_deref(),
        Some("https://hooks.slack.com/actions/T0001/123/abc")
    );
    assert_eq!(
        click.container,
        Container {
            kind: String::from("message"),
            message_ts: Some(String::from("1767326126.896109")),
            channel_id: Some(String::from("C0001")),
            view_id: None,
            is_ephemeral: false,
        }
    );
    assert_eq!(click.actions.len(), 1);
    let action = &click.actions[0];
    assert_eq!(
        (action.action_id.as_str(), action.block_id.as_str()),
        ("sesame_approve", "req_42")
    );
    assert_eq!(
        (action.kind.as_str(), action.value.as_deref()),
        ("button", Some("42:0"))
    );
    assert_eq!(action.action_ts.as_deref(), Some("1767326130.289415"));
    assert!(click.view.is_none());
    assert_eq!(
        click.raw["channel"]["name"], "access",
        "the raw payload is kept"
    );
}

#[test]
fn select_changes_inside_a_modal_carry_the_view_and_no_response_url() {
    let payload = json!({
        "type": "block_actions", "user": user(), "trigger_id": "t2",
        "container": {"type": "view", "view_id": "V123"},
        "view": {"id": "V123", "type": "modal", "callback_id": "sesame_request", "hash": "h1",
                 "private_metadata": "{\"flow\":\"carpark\"}", "root_view_id": "V123",
                 "state": {"values": {"q_ev": {"sesame_answer": {"type": "radio_buttons",
                     "selected_option": {"text": {"type": "plain_text", "text": "Yes"}, "value": "true"}}}}}},
        "actions": [
            {"type": "radio_buttons", "action_id": "sesame_answer", "block_id": "q_ev",
             "selected_option": {"text": {"type": "plain_text", "text": "Yes"}, "value": "true"},
             "action_ts": "1.1"},
            {"type": "multi_static_select", "action_id": "m", "block_id": "b",
             "selected_options": [{"value": "a"}, {"value": "b", "text": {"type": "plain_text", "text": "B"}}]},
            {"type": "multi_static_select", "action_id": "m2", "block_id": "b2", "selected_options": null},
            {"type": "users_select", "action_id": "u", "block_id": "c", "selected_user": "U9"},
            {"type": "datepicker", "action_id": "d", "block_id": "e", "selected_date": "2026-12-01"}
        ]
    });
    let Interaction::BlockActions(change) = parse_interaction_json(payload).unwrap() else {
        panic!("expected block_actions");
    };
    assert_eq!(change.response_url, None);
    assert_eq!(change.container.view_id.as_deref(), Some("V123"));
    let view = change.view.as_ref().unwrap();
    assert_eq!(
        (
            view.id.as_str(),
            view.hash.as_str(),
            view.callback_id.as_str()
        ),
        ("V123", "h1", "sesame_request")
    );
    assert_eq!(view.private_metadata, "{\"flow\":\"carpark\"}");
    assert_eq!(
        view.state_values()["q_ev"]["sesame_answer"]["selected_option"]["value"],
        "true"
    );
    let selected = change.actions[0].selected_option.as_ref().unwrap();
    assert_eq!(
        (
            selected.value.as_str(),
            selected.text.as_ref().map(|t| t.text.as_str())
        ),
        ("true", Some("Yes"))
    );
    let many: Vec<&str> = change.actions[1]
        .selected_options
        .iter()
        .map(|o| o.value.as_str())
        .collect();
    assert_eq!(many, ["a", "b"]);
    assert!(
        change.actions[2].selected_options.is_empty(),
        "null means none"
    );
    assert_eq!(change.actions[3].selected_user.as_deref(), Some("U9"));
    assert_eq!(
        change.actions[4].selected_date.as_deref(),
        Some("2026-12-01")
    );
}

#[test]
fn a_view_submission_parses_with_its_state() {
    let values = json!({
        "q_plate": {"sesame_answer": {"type": "plain_text_input", "value": "AB12 CDE"}},
        "q_site": {"sesame_answer": {"type": "static_select",
            "selected_option": {"text": {"type": "plain_text", "text": "Berlin", "emoji": true}, "value": "Berlin"}}}
    });
    let payload = json!({
        "type": "view_submission", "team": {"id": "T1", "domain": "acme"}, "user": user(),
        "api_app_id": "A1", "trigger_id": "t3",
        "view": {"id": "V9", "type": "modal", "callback_id": "sesame_request", "private_metadata": "m",
                 "hash": "156772938.1827394", "state": {"values": values}, "blocks": [],
                 "root_view_id": "V9", "previous_view_id": null, "app_id": "A1", "bot_id": "B1"},
        "response_urls": []
    });
    let Interaction::ViewSubmission(submitted) = parse_interaction(&form(&payload)).unwrap() else {
        panic!("expected view_submission");
    };
    assert_eq!(submitted.trigger_id, "t3");
    assert_eq!(submitted.view.id, "V9");
    assert_eq!(submitted.view.hash, "156772938.1827394");
    assert_eq!(submitted.view.callback_id, "sesame_request");
    assert_eq!(submitted.view.private_metadata, "m");
    assert_eq!(submitted.view.state_values(), values);
}

#[test]
fn view_closed_and_block_suggestion_parse() {
    let closed = json!({"type": "view_closed", "user": user(), "team": {"id": "T1"},
        "view": {"id": "V1", "callback_id": "sesame_request", "hash": "h"}, "is_cleared": true});
    let Interaction::ViewClosed(closed) = parse_interaction_json(closed).unwrap() else {
        panic!("expected view_closed");
    };
    assert!(closed.is_cleared);
    assert_eq!(
        closed.view.state_values(),
        json!({}),
        "no state means no values"
    );

    let suggestion = json!({"type": "block_suggestion", "action_id": "sesame_answer",
        "block_id": "q_resource", "value": "prod", "user": user(), "team": {"id": "T1"},
        "container": {"type": "view", "view_id": "V1"}, "view": {"id": "V1"}});
    let Interaction::BlockSuggestion(suggestion) = parse_interaction_json(suggestion).unwrap()
    else {
        panic!("expected block_suggestion");
    };
    assert_eq!(
        (
            suggestion.action_id.as_str(),
            suggestion.block_id.as_str(),
            suggestion.value.as_str()
        ),
        ("sesame_answer", "q_resource", "prod")
    );
    assert_eq!(suggestion.user.id, "U0001");
}

#[test]
fn unknown_payload_types_are_kept_raw() {
    let shortcut = json!({"type": "shortcut", "callback_id": "x", "user": user()});
    assert_eq!(
        parse_interaction_json(shortcut.clone()),
        Ok(Interaction::Other(shortcut))
    );
    assert_eq!(
        parse_interaction_json(json!([])),
        Ok(Interaction::Other(json!([])))
    );
}

#[test]
fn broken_bodies_are_typed_errors() {
    assert_eq!(
        parse_interaction(b"other=1"),
        Err(InboundError::MissingPayload)
    );
    assert!(matches!(
        parse_interaction(b"payload=%7Bnot"),
        Err(InboundError::Json(_))
    ));
    let mut no_user = button_click();
    no_user.as_object_mut().unwrap().remove("user");
    assert!(matches!(
        parse_interaction(&form(&no_user)),
        Err(InboundError::Shape {
            what: "block_actions payload",
            ..
        })
    ));
    let bad_actions =
        json!({"type": "block_actions", "user": user(), "container": {}, "actions": "x"});
    assert!(matches!(
        parse_interaction_json(bad_actions),
        Err(InboundError::Shape { .. })
    ));
    let no_view = json!({"type": "view_submission", "user": user()});
    assert!(matches!(
        parse_interaction_json(no_view),
        Err(InboundError::Shape { .. })
    ));
    let huge = vec![b'a'; MAX_BODY + 1];
    assert_eq!(
        parse_interaction(&huge),
        Err(InboundError::TooLarge {
            size: MAX_BODY + 1,
            max: MAX_BODY
        })
    );
}
