use super::*;
use crate::blocks::check_limits;
use crate::render::fixtures::{carpark, directory, flow};
use serde_json::json;
use sesame_core::answers::{check_submission, FieldError, RawSubmission};

fn no_metadata() -> PrivateMetadata {
    PrivateMetadata::default()
}

fn block_ids(view: &Value) -> Vec<String> {
    view["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|b| b["block_id"].as_str().map(str::to_owned))
        .collect()
}

fn block<'v>(view: &'v Value, id: &str) -> &'v Value {
    view["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["block_id"] == id)
        .unwrap_or_else(|| panic!("no block {id}"))
}

fn duration_option(text: &str, value: &str) -> Value {
    json!({"text": {"type": "plain_text", "text": text}, "value": value})
}

#[test]
fn the_carpark_modal_has_its_exact_shape_with_the_bay_hidden() {
    let metadata = PrivateMetadata::new("{\"flow\":\"carpark\",\"channel\":\"D1\"}").unwrap();
    let view = request_modal(&carpark(), &Prefill::default(), &Answers::new(), &metadata);
    let durations: Vec<Value> = [
        ("15 minutes", "15m"),
        ("30 minutes", "30m"),
        ("1 hour", "1h"),
        ("2 hours", "2h"),
        ("4 hours", "4h"),
        ("8 hours", "8h"),
        ("12 hours", "12h"),
        ("1 day", "1d"),
        ("2 days", "2d"),
        ("3 days", "3d"),
        ("1 week", "1w"),
        ("2 weeks", "2w"),
        ("30 days", "30d"),
        ("60 days", "60d"),
        ("90 days", "90d"),
    ]
    .iter()
    .map(|(text, value)| duration_option(text, value))
    .collect();
    let yes = json!({"text": {"type": "plain_text", "text": "Yes"}, "value": "true"});
    let no = json!({"text": {"type": "plain_text", "text": "No"}, "value": "false"});
    assert_eq!(
        view,
        json!({
            "type": "modal", "callback_id": "sesame_request",
            "title": {"type": "plain_text", "text": "Carpark access"},
            "submit": {"type": "plain_text", "text": "Submit"},
            "close": {"type": "plain_text", "text": "Cancel"},
            "private_metadata": "{\"flow\":\"carpark\",\"channel\":\"D1\"}",
            "blocks": [
                {"type": "section", "text": {"type": "mrkdwn", "text": "A parking permit for the HQ carpark, valid on weekdays."}},
                {"type": "input", "block_id": "q_plate", "optional": false,
                 "label": {"type": "plain_text", "text": "Vehicle registration"},
                 "element": {"type": "plain_text_input", "action_id": "sesame_answer", "multiline": false, "max_length": 12}},
                {"type": "input", "block_id": "q_site", "optional": false,
                 "label": {"type": "plain_text", "text": "Site"},
                 "element": {"type": "static_select", "action_id": "sesame_answer",
                    "placeholder": {"type": "plain_text", "text": "Choose"},
                    "options": [
                        {"text": {"type": "plain_text", "text": "London"}, "value": "London"},
                        {"text": {"type": "plain_text", "text": "Berlin"}, "value": "Berlin"}
                    ]}},
                {"type": "input", "block_id": "q_reason", "optional": true,
                 "label": {"type": "plain_text", "text": "Why do you need it?"},
                 "element": {"type": "plain_text_input", "action_id": "sesame_answer", "multiline": true, "max_length": 3000}},
                {"type": "input", "block_id": "q_ev", "optional": true, "dispatch_action": true,
                 "label": {"type": "plain_text", "text": "Electric vehicle?"},
                 "element": {"type": "radio_buttons", "action_id": "sesame_answer", "options": [yes, no]}},
                {"type": "input", "block_id": "sesame_duration", "optional": false,
                 "label": {"type": "plain_text", "text": "For how long?"},
                 "hint": {"type": "plain_text", "text": "At most 90 days."},
                 "element": {"type": "static_select", "action_id": "sesame_duration",
                    "placeholder": {"type": "plain_text", "text": "How long?"},
                    "initial_option": duration_option("30 days", "30d"),
                    "options": durations}},
                {"type": "input", "block_id": "sesame_justification", "optional": false,
                 "label": {"type": "plain_text", "text": "Justification"},
                 "element": {"type": "plain_text_input", "action_id": "sesame_justification", "multiline": true,
                    "max_length": 3000,
                    "placeholder": {"type": "plain_text", "text": "Why do you need it? A ticket number helps."}}}
            ]
        })
    );
    assert_eq!(check_limits(&view), Ok(()));
}

#[test]
fn the_bay_appears_once_the_car_is_electric() {
    let carpark = carpark();
    let state = |ev: &str| {
        json!({"q_ev": {"sesame_answer": {"type": "radio_buttons",
            "selected_option": {"text": {"type": "plain_text", "text": "x"}, "value": ev}}}})
    };
    for (ev, bay_shown) in [("true", true), ("false", false)] {
        let answers = visible_answers(&carpark, &parse_submission(&carpark, &state(ev), |_| None));
        let view = request_modal(&carpark, &Prefill::default(), &answers, &no_metadata());
        assert_eq!(
            block_ids(&view).contains(&String::from("q_bay")),
            bay_shown,
            "ev={ev}"
        );
    }
}

#[test]
fn an_answer_to_a_hidden_question_never_reveals_another() {
    let chained = flow(
        "id: chain\nname: Chain\nrequesters: everyone\nquestions:\n\
         - { id: a, label: A, type: boolean }\n\
         - { id: b, label: B, type: select, options: [x, y], shown_if: { a: true } }\n\
         - { id: c, label: C, type: text, shown_if: { b: x } }\n\
         approval: [{ approvers: manager }]\nfulfillment: { manual: { group: facilities } }\n",
    );
    let stale: Answers = [
        (QuestionId::new("a").unwrap(), json!(false)),
        (QuestionId::new("b").unwrap(), json!("x")),
    ]
    .into_iter()
    .collect();
    let shown: Vec<&str> = shown_questions(&chained, &stale)
        .iter()
        .map(|q| q.id.as_str())
        .collect();
    assert_eq!(shown, ["a"]);
    let view = request_modal(&chained, &Prefill::default(), &stale, &no_metadata());
    assert_eq!(block_ids(&view), ["q_a", "sesame_justification"]);
    assert_eq!(block(&view, "q_a")["dispatch_action"], true);
}

/// A flow with every question type.
fn everything() -> Flow {
    flow(
        "id: everything\nname: Everything at once, with a long name\ndescription: \"Every type. <!channel>\"\n\
         requesters: everyone\njustification: optional\n\
         duration: { default: 8h, max: 1d, requester_chooses: false }\nquestions:\n\
         - { id: host, label: Host name, type: text, required: true, max_length: 64, help: As in the inventory }\n\
         - { id: notes, label: Notes, type: textarea, max_length: 500 }\n\
         - { id: env, label: Environment, type: select, options: [staging, prod], required: true }\n\
         - { id: roles, label: Roles, type: multi_select, options: [read, write, admin] }\n\
         - { id: start, label: Start date, type: date }\n\
         - { id: window, label: Maintenance window, type: duration, max: 8h }\n\
         - { id: pager, label: Pager shift, type: duration }\n\
         - { id: buddy, label: Buddy, type: user, required: true }\n\
         - { id: hours, label: Hours, type: number, min: 1, max: 24, integer: true }\n\
         - { id: ratio, label: Ratio, type: number }\n\
         - { id: oncall, label: On call?, type: boolean, required: true }\n\
         approval: [{ approvers: manager }]\nfulfillment: { manual: { group: facilities } }\n",
    )
}

#[test]
fn every_question_type_maps_to_its_element() {
    let flow = everything();
    let prefill = Prefill {
        answers: [
            ("host", json!("db-1")),
            ("env", json!("prod")),
            ("roles", json!(["write", "nonsense"])),
            ("start", json!("2026-12-01")),
            ("window", json!("2h")),
            ("buddy", json!("U0FAY")),
            ("hours", json!(8.0)),
            ("oncall", json!(false)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect(),
        justification: Some(String::from("INC-1")),
        duration: None,
    };
    let view = request_modal(&flow, &prefill, &Answers::new(), &no_metadata());
    assert_eq!(view["title"]["text"], "Everything at once, wit…");
    assert_eq!(
        view["blocks"][0]["text"]["text"],
        "Every type. &lt;!channel&gt;"
    );
    assert_eq!(
        view["blocks"][1]["elements"][0]["text"],
        "Access lasts 8 hours."
    );
    let element = |id: &str| block(&view, id)["element"].clone();
    assert_eq!(
        block(&view, "q_host"),
        &json!({"type": "input", "block_id": "q_host", "optional": false,
            "label": {"type": "plain_text", "text": "Host name"},
            "hint": {"type": "plain_text", "text": "As in the inventory"},
            "element": {"type": "plain_text_input", "action_id": "sesame_answer", "multiline": false,
                "max_length": 64, "initial_value": "db-1"}})
    );
    assert_eq!(element("q_notes")["multiline"], true);
    assert_eq!(element("q_notes")["max_length"], 500);
    assert_eq!(element("q_env")["initial_option"]["value"], "prod");
    assert_eq!(element("q_roles")["type"], "multi_static_select");
    assert_eq!(
        element("q_roles")["initial_options"],
        json!([{"text": {"type": "plain_text", "text": "write"}, "value": "write"}])
    );
    assert_eq!(
        element("q_start"),
        json!({"type": "datepicker", "action_id": "sesame_answer", "initial_date": "2026-12-01"})
    );
    let window_element = element("q_window");
    let window: Vec<&str> = window_element["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["value"].as_str().unwrap())
        .collect();
    assert_eq!(
        window,
        ["15m", "30m", "1h", "2h", "4h", "8h"],
        "capped at the question's max"
    );
    assert_eq!(element("q_window")["initial_option"]["value"], "2h");
    assert_eq!(
        element("q_pager"),
        json!({"type": "plain_text_input", "action_id": "sesame_answer", "multiline": false, "max_length": 20,
               "placeholder": {"type": "plain_text", "text": "For example 8h, 3d or 2w"}})
    );
    assert_eq!(
        element("q_buddy"),
        json!({"type": "users_select", "action_id": "sesame_answer", "initial_user": "U0FAY",
               "placeholder": {"type": "plain_text", "text": "Choose a person"}})
    );
    assert_eq!(
        element("q_hours"),
        json!({"type": "number_input", "action_id": "sesame_answer", "is_decimal_allowed": false,
               "min_value": "1", "max_value": "24", "initial_value": "8"})
    );
    assert_eq!(
        element("q_ratio"),
        json!({"type": "number_input", "action_id": "sesame_answer", "is_decimal_allowed": true})
    );
    assert_eq!(element("q_oncall")["type"], "radio_buttons");
    assert_eq!(element("q_oncall")["initial_option"]["value"], "false");
    assert_eq!(block(&view, "sesame_justification")["optional"], true);
    assert_eq!(element("sesame_justification")["initial_value"], "INC-1");
    assert!(
        !block_ids(&view).contains(&String::from("sesame_duration")),
        "the flow fixes the duration"
    );
    assert_eq!(check_limits(&view), Ok(()));
}

#[test]
fn more_than_a_hundred_options_use_a_search_answered_from_the_flow() {
    let mut big = everything();
    let many: Vec<String> = (0..150).map(|i| format!("server-{i:03}")).collect();
    big.questions[2].kind = QuestionKind::Select {
        options: many.clone(),
    };
    big.questions[3].kind = QuestionKind::MultiSelect { options: many };
    let mut prefill = Prefill::default();
    prefill
        .answers
        .insert(String::from("env"), json!("server-120"));
    let view = request_modal(&big, &prefill, &Answers::new(), &no_metadata());
    assert_eq!(
        block(&view, "q_env")["element"],
        json!({"type": "external_select", "action_id": "sesame_answer", "min_query_length": 1,
               "placeholder": {"type": "plain_text", "text": "Type to search"},
               "initial_option": {"text": {"type": "plain_text", "text": "server-120"}, "value": "server-120"}})
    );
    assert_eq!(
        block(&view, "q_roles")["element"]["type"],
        "multi_external_select"
    );
    let found = suggest_options(&big, "q_env", " SERVER-12");
    let values: Vec<&str> = found["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["value"].as_str().unwrap())
        .collect();
    assert_eq!(values.len(), 10);
    assert_eq!(values[0], "server-120");
    assert_eq!(
        suggest_options(&big, "q_env", "")["options"]
            .as_array()
            .unwrap()
            .len(),
        100
    );
    assert_eq!(suggest_options(&big, "q_host", "x"), json!({"options": []}));
    assert_eq!(
        suggest_options(&big, "nonsense", "x"),
        json!({"options": []})
    );
    assert_eq!(check_limits(&view), Ok(()));
}

#[test]
fn a_flow_with_too_many_questions_for_slack_keeps_duration_and_justification() {
    let mut yaml = String::from(
        "id: long\nname: Long\nrequesters: everyone\njustification: required\n\
        duration: { default: 1d, max: 2d, requester_chooses: true }\nquestions:\n",
    );
    for i in 0..120 {
        yaml.push_str(&format!(
            "  - {{ id: q{i}, label: Question {i}, type: text }}\n"
        ));
    }
    yaml.push_str(
        "approval: [{ approvers: manager }]\nfulfillment: { manual: { group: facilities } }\n",
    );
    let long = flow(&yaml);
    let view = request_modal(&long, &Prefill::default(), &Answers::new(), &no_metadata());
    let blocks = view["blocks"].as_array().unwrap();
    assert_eq!(blocks.len(), 100);
    assert_eq!(blocks[97]["type"], "context");
    assert!(blocks[97]["elements"][0]["text"]
        .as_str()
        .unwrap()
        .starts_with("23 more question(s)"));
    assert_eq!(
        block_ids(&view)[97..],
        ["sesame_duration", "sesame_justification"]
    );
    assert_eq!(check_limits(&view), Ok(()));
    let raw = RawSubmission::default();
    let response = errors_response(
        &long,
        &raw,
        &[FieldError {
            field: String::from("q110"),
            message: String::from("needed"),
        }],
    );
    assert_eq!(response["errors"], json!({"q_q0": "Question 110: needed"}));
}

mod submission;
