//! Reading submissions back, and problems shown inline.

use super::*;

/// `view.state.values` as Slack sends it for the everything flow (chat-protocols.md §4 shapes).
fn everything_state() -> Value {
    let option =
        |v: &str| json!({"text": {"type": "plain_text", "text": v, "emoji": true}, "value": v});
    json!({
        "q_host": {"sesame_answer": {"type": "plain_text_input", "value": "  db-1  "}},
        "q_notes": {"sesame_answer": {"type": "plain_text_input", "value": null}},
        "q_env": {"sesame_answer": {"type": "static_select", "selected_option": option("prod")}},
        "q_roles": {"sesame_answer": {"type": "multi_static_select", "selected_options": [option("admin"), option("read")]}},
        "q_start": {"sesame_answer": {"type": "datepicker", "selected_date": "2026-12-01"}},
        "q_window": {"sesame_answer": {"type": "static_select", "selected_option": option("4h")}},
        "q_pager": {"sesame_answer": {"type": "plain_text_input", "value": "90m"}},
        "q_buddy": {"sesame_answer": {"type": "users_select", "selected_user": "U0FAY"}},
        "q_hours": {"sesame_answer": {"type": "number_input", "value": "8"}},
        "q_ratio": {"sesame_answer": {"type": "number_input", "value": null}},
        "q_oncall": {"sesame_answer": {"type": "radio_buttons", "selected_option": option("true")}},
        "sesame_justification": {"sesame_justification": {"type": "plain_text_input", "value": "INC-42"}}
    })
}

fn slack_to_directory(slack_id: &str) -> Option<String> {
    (slack_id == "U0FAY").then(|| String::from("fay"))
}

#[test]
fn a_realistic_submission_round_trips_and_passes_the_shared_checks() {
    let flow = everything();
    let raw = parse_submission(&flow, &everything_state(), slack_to_directory);
    let expected: std::collections::BTreeMap<String, Value> = [
        ("host", json!("  db-1  ")),
        ("env", json!("prod")),
        ("roles", json!(["admin", "read"])),
        ("start", json!("2026-12-01")),
        ("window", json!("4h")),
        ("pager", json!("90m")),
        ("buddy", json!("fay")),
        ("hours", json!(8.0)),
        ("oncall", json!(true)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    assert_eq!(raw.answers, expected);
    assert_eq!(raw.justification.as_deref(), Some("INC-42"));
    assert_eq!(raw.duration, None);
    let checked = check_submission(&flow, &raw, directory()).expect("the submission is accepted");
    assert_eq!(
        checked.answers[&QuestionId::new("roles").unwrap()],
        json!(["read", "admin"])
    );
    assert_eq!(
        checked.answers[&QuestionId::new("buddy").unwrap()],
        json!("fay")
    );
    assert_eq!(
        checked.answers[&QuestionId::new("hours").unwrap()],
        json!(8.0)
    );
    assert_eq!(checked.duration, Some(Span::parse("8h").unwrap()));
}

#[test]
fn the_carpark_submission_round_trips_with_its_duration() {
    let carpark = carpark();
    let state = json!({
        "q_plate": {"sesame_answer": {"type": "plain_text_input", "value": "AB12 CDE"}},
        "q_site": {"sesame_answer": {"type": "static_select", "selected_option": {"value": "London"}}},
        "q_ev": {"sesame_answer": {"type": "radio_buttons", "selected_option": {"value": "true"}}},
        "q_bay": {"sesame_answer": {"type": "static_select", "selected_option": {"value": "B"}}},
        "sesame_duration": {"sesame_duration": {"type": "static_select", "selected_option": {"value": "60d"}}},
        "sesame_justification": {"sesame_justification": {"type": "plain_text_input", "value": "New job"}}
    });
    let raw = parse_submission(&carpark, &state, |_| None);
    assert_eq!(raw.duration.as_deref(), Some("60d"));
    let checked = check_submission(&carpark, &raw, directory()).expect("accepted");
    assert_eq!(
        checked.answers[&QuestionId::new("bay").unwrap()],
        json!("B")
    );
    assert_eq!(checked.duration, Some(Span::parse("60d").unwrap()));
}

#[test]
fn an_unlinked_slack_user_is_refused_with_a_clear_message() {
    let flow = everything();
    let mut state = everything_state();
    state["q_buddy"]["sesame_answer"]["selected_user"] = json!("U0STRANGER");
    let raw = parse_submission(&flow, &state, slack_to_directory);
    let errors = check_submission(&flow, &raw, directory()).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].field, "buddy");
    assert!(
        errors[0]
            .message
            .contains("Slack user U0STRANGER (no Sesame account is linked to it)"),
        "{}",
        errors[0].message
    );
}

#[test]
fn errors_go_on_their_blocks_and_strays_on_the_first() {
    let flow = everything();
    let raw = parse_submission(&flow, &everything_state(), slack_to_directory);
    let error = |field: &str, message: &str| FieldError {
        field: field.to_owned(),
        message: message.to_owned(),
    };
    let response = errors_response(
        &flow,
        &raw,
        &[
            error("host", "must be a single line"),
            error("host", "must be at most 64 characters"),
            error("justification", "a justification is required"),
            error(
                "duration",
                "this flow always grants 8h; the duration cannot be chosen",
            ),
            error("", "something about the whole request <!channel>"),
            error("ghost", "Everything has no question `ghost`"),
        ],
    );
    assert_eq!(
        response,
        json!({"response_action": "errors", "errors": {
            "q_host": "must be a single line; must be at most 64 characters; Duration: this flow always grants 8h; the duration cannot be chosen; something about the whole request <!channel>; ghost: Everything has no question `ghost`",
            "sesame_justification": "a justification is required"
        }})
    );
    let long = "x".repeat(5000);
    let cut = errors_response(&flow, &raw, &[error("host", &long)]);
    assert_eq!(
        cut["errors"]["q_host"].as_str().unwrap().chars().count(),
        2000
    );
}

#[test]
fn a_hidden_questions_error_is_labelled_on_the_first_block() {
    let carpark = carpark();
    let raw = RawSubmission::default();
    let response = errors_response(
        &carpark,
        &raw,
        &[FieldError {
            field: String::from("bay"),
            message: String::from("pick one"),
        }],
    );
    assert_eq!(
        response["errors"],
        json!({"q_plate": "Charging bay: pick one"})
    );
}

#[test]
fn a_modal_without_inputs_shows_problems_in_an_updated_view() {
    let bare = flow(
        "id: bare\nname: Bare\nrequesters: everyone\njustification: none\n\
         approval: [{ approvers: manager }]\nfulfillment: { manual: { group: facilities } }\n",
    );
    let response = errors_response(
        &bare,
        &RawSubmission::default(),
        &[FieldError {
            field: String::new(),
            message: String::from("no <b>"),
        }],
    );
    assert_eq!(response["response_action"], "update");
    assert_eq!(
        response["view"]["blocks"][0]["text"]["text"],
        "no &lt;b&gt;"
    );
    assert_eq!(check_limits(&response), Ok(()));
}

#[test]
fn odd_state_values_become_absent_or_pass_through_for_the_checks_to_refuse() {
    let flow = everything();
    let state = json!({
        "q_host": {"sesame_answer": {"type": "plain_text_input", "value": 42}},
        "q_roles": {"sesame_answer": {"type": "multi_static_select", "selected_options": []}},
        "q_env": {"sesame_answer": {"type": "static_select", "selected_option": null}},
        "q_oncall": {"sesame_answer": {"type": "radio_buttons", "selected_option": {"value": "maybe"}}},
        "q_buddy": "not an object",
        "sesame_justification": {"wrong_action": {"value": "x"}}
    });
    let raw = parse_submission(&flow, &state, slack_to_directory);
    assert_eq!(raw.answers.get("host"), Some(&json!(42)));
    assert_eq!(raw.answers.get("oncall"), Some(&json!("maybe")));
    assert!(!raw.answers.contains_key("roles"));
    assert!(!raw.answers.contains_key("env"));
    assert!(!raw.answers.contains_key("buddy"));
    assert_eq!(raw.justification, None);
    let errors = check_submission(&flow, &raw, directory()).unwrap_err();
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["host", "env", "buddy", "oncall"]);
    assert_eq!(
        parse_submission(&flow, &json!(null), slack_to_directory)
            .answers
            .len(),
        0
    );
}
