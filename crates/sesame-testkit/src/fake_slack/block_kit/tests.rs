use super::*;
use serde_json::json;

/// The checker takes the array's items; tests write whole arrays.
fn check_message_blocks(blocks: &Value) -> Vec<String> {
    super::check_message_blocks(blocks.as_array().expect("blocks are an array"))
}

fn section(text: &str) -> Value {
    json!({"type": "section", "text": {"type": "mrkdwn", "text": text}})
}

fn button(action_id: &str, text: &str) -> Value {
    json!({"type": "button", "action_id": action_id, "text": {"type": "plain_text", "text": text}})
}

fn modal(blocks: Value) -> Value {
    json!({
        "type": "modal", "title": {"type": "plain_text", "text": "Request access"},
        "submit": {"type": "plain_text", "text": "Send"}, "blocks": blocks,
    })
}

/// Asserts exactly one problem, at `pointer`, containing `says`.
fn assert_one_problem(problems: &[String], pointer: &str, says: &str) {
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(
        problems[0].contains(&format!("[json-pointer:{pointer}]")) && problems[0].contains(says),
        "{problems:#?} should name {pointer} and say {says:?}"
    );
}

fn view_problems(view: &Value, types: &[&str]) -> Vec<String> {
    match check_view(view, types) {
        Ok(()) => Vec::new(),
        Err(ViewProblem::Invalid(problems)) => problems,
        Err(ViewProblem::TooLarge) => vec!["too large".into()],
    }
}

#[test]
fn a_typical_request_message_passes() {
    let blocks = json!([
        {"type": "header", "text": {"type": "plain_text", "text": "Access request #7"}},
        section("*Alice* asks for *prod-db* for 4h"),
        {"type": "section", "fields": [
            {"type": "mrkdwn", "text": "*Flow*\nDatabase"}, {"type": "mrkdwn", "text": "*Step*\n1 of 2"}
        ]},
        {"type": "divider"},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "Requested 5 min ago"}]},
        {"type": "actions", "block_id": "decide", "elements": [
            {"type": "button", "action_id": "approve", "style": "primary", "value": "7",
             "text": {"type": "plain_text", "text": "Approve"}},
            {"type": "button", "action_id": "deny", "style": "danger", "value": "7",
             "text": {"type": "plain_text", "text": "Deny"},
             "confirm": {"title": {"type": "plain_text", "text": "Deny?"},
                         "text": {"type": "mrkdwn", "text": "Deny request #7?"},
                         "confirm": {"type": "plain_text", "text": "Deny"},
                         "deny": {"type": "plain_text", "text": "Cancel"}}}
        ]}
    ]);
    assert_eq!(check_message_blocks(&blocks), Vec::<String>::new());
}

#[test]
fn messages_hold_at_most_fifty_blocks() {
    let fifty: Vec<Value> = (0..50).map(|_| json!({"type": "divider"})).collect();
    assert!(check_message_blocks(&Value::Array(fifty.clone())).is_empty());
    let mut fifty_one = fifty;
    fifty_one.push(json!({"type": "divider"}));
    assert_one_problem(
        &check_message_blocks(&Value::Array(fifty_one)),
        "/blocks",
        "no more than 50 items",
    );
}

#[test]
fn section_text_is_limited_to_3000_characters_counted_as_characters() {
    // 3000 two-byte characters are 6000 bytes but still within the limit.
    assert!(check_message_blocks(&json!([section(&"é".repeat(3000))])).is_empty());
    assert_one_problem(
        &check_message_blocks(&json!([section(&"x".repeat(3001))])),
        "/blocks/0/text/text",
        "must be less than 3001 characters",
    );
}

#[test]
fn section_fields_are_limited_in_number_and_length() {
    let field = |text: &str| json!({"type": "mrkdwn", "text": text});
    let eleven: Vec<Value> = (0..11).map(|_| field("x")).collect();
    assert_one_problem(
        &check_message_blocks(&json!([{"type": "section", "fields": eleven}])),
        "/blocks/0/fields",
        "no more than 10 items",
    );
    assert_one_problem(
        &check_message_blocks(&json!([{"type": "section", "fields": [field(&"x".repeat(2001))]}])),
        "/blocks/0/fields/0/text",
        "less than 2001",
    );
    assert_one_problem(
        &check_message_blocks(&json!([{"type": "section"}])),
        "/blocks/0",
        "either text or fields",
    );
}

#[test]
fn header_text_must_be_plain_and_short() {
    let header =
        |kind: &str, text: &str| json!([{"type": "header", "text": {"type": kind, "text": text}}]);
    assert_one_problem(
        &check_message_blocks(&header("plain_text", &"h".repeat(151))),
        "/blocks/0/text/text",
        "less than 151",
    );
    assert_one_problem(
        &check_message_blocks(&header("mrkdwn", "*bold*")),
        "/blocks/0/text/type",
        "plain_text",
    );
}

#[test]
fn button_limits_are_enforced() {
    let mut long_text = button("approve", &"a".repeat(76));
    assert_one_problem(
        &check_message_blocks(&json!([{"type": "actions", "elements": [long_text.clone()]}])),
        "/blocks/0/elements/0/text/text",
        "less than 76",
    );
    long_text["text"]["text"] = "Approve".into();
    long_text["value"] = "v".repeat(2001).into();
    assert_one_problem(
        &check_message_blocks(&json!([{"type": "actions", "elements": [long_text.clone()]}])),
        "/blocks/0/elements/0/value",
        "less than 2001",
    );
    long_text["value"] = "7".into();
    long_text["style"] = "green".into();
    assert_one_problem(
        &check_message_blocks(&json!([{"type": "actions", "elements": [long_text]}])),
        "/blocks/0/elements/0/style",
        "primary, danger",
    );
    let long_action_id = button(&"a".repeat(256), "Approve");
    assert_one_problem(
        &check_message_blocks(&json!([{"type": "actions", "elements": [long_action_id]}])),
        "/blocks/0/elements/0/action_id",
        "less than 256",
    );
}

#[test]
fn ids_must_be_unique_and_at_most_255_characters() {
    let blocks = json!([
        {"type": "divider", "block_id": "same"},
        {"type": "divider", "block_id": "same"},
        {"type": "actions", "elements": [button("go", "Go"), button("go", "Go again")]},
        {"type": "divider", "block_id": "b".repeat(256)},
    ]);
    let problems = check_message_blocks(&blocks);
    assert_eq!(problems.len(), 3, "{problems:#?}");
    assert!(problems[0].contains("duplicate block_id: same"));
    assert!(problems[1].contains("duplicate action_id: go"));
    assert!(problems[2].contains("/blocks/3/block_id"));
}

#[test]
fn actions_and_context_blocks_limit_their_elements() {
    let twenty_six: Vec<Value> = (0..26).map(|n| button(&format!("b{n}"), "B")).collect();
    assert_one_problem(
        &check_message_blocks(&json!([{"type": "actions", "elements": twenty_six}])),
        "/blocks/0/elements",
        "no more than 25 items",
    );
    let eleven: Vec<Value> = (0..11)
        .map(|_| json!({"type": "plain_text", "text": "c"}))
        .collect();
    assert_one_problem(
        &check_message_blocks(&json!([{"type": "context", "elements": eleven}])),
        "/blocks/0/elements",
        "no more than 10 items",
    );
}

#[test]
fn select_options_are_limited() {
    let option = |text: &str, value: &str| json!({"text": {"type": "plain_text", "text": text}, "value": value});
    let select = |options: Vec<Value>| {
        json!([{"type": "actions", "elements": [
            {"type": "static_select", "action_id": "pick", "options": options,
             "placeholder": {"type": "plain_text", "text": "Pick one"}}
        ]}])
    };
    assert!(check_message_blocks(&select(vec![option("A", "a")])).is_empty());
    let many: Vec<Value> = (0..101).map(|n| option("o", &n.to_string())).collect();
    assert_one_problem(
        &check_message_blocks(&select(many)),
        "/blocks/0/elements/0/options",
        "no more than 100",
    );
    assert_one_problem(
        &check_message_blocks(&select(vec![option(&"t".repeat(76), "a")])),
        "/blocks/0/elements/0/options/0/text/text",
        "less than 76",
    );
    assert_one_problem(
        &check_message_blocks(&select(vec![option("A", &"v".repeat(151))])),
        "/blocks/0/elements/0/options/0/value",
        "less than 151",
    );
}

#[test]
fn text_inputs_only_live_in_input_blocks() {
    let text_input = json!({"type": "plain_text_input", "action_id": "reason"});
    assert_one_problem(
        &check_message_blocks(&json!([{"type": "actions", "elements": [text_input.clone()]}])),
        "/blocks/0/elements/0/type",
        "not allowed in this block",
    );
    let input = json!({"type": "input", "label": {"type": "plain_text", "text": "Why?"}, "element": text_input});
    assert!(view_problems(&modal(json!([input])), &["modal"]).is_empty());
    let in_input = json!({"type": "input", "label": {"type": "plain_text", "text": "x"}, "element": button("b", "B")});
    assert_one_problem(
        &view_problems(&modal(json!([in_input])), &["modal"]),
        "/view/blocks/0/element/type",
        "not allowed",
    );
}

#[test]
fn unknown_blocks_elements_and_text_types_are_refused() {
    assert_one_problem(
        &check_message_blocks(&json!([{"type": "carousel"}])),
        "/blocks/0/type",
        "unsupported type: carousel",
    );
    assert_one_problem(
        &check_message_blocks(&json!([{"type": "actions", "elements": [{"type": "slider"}]}])),
        "/blocks/0/elements/0/type",
        "unsupported type: slider",
    );
    assert_one_problem(
        &check_message_blocks(
            &json!([{"type": "section", "text": {"type": "html", "text": "<b>"}}]),
        ),
        "/blocks/0/text/type",
        "plain_text, mrkdwn",
    );
    assert_one_problem(
        &check_message_blocks(&json!([section("")])),
        "/blocks/0/text/text",
        "more than 0 characters",
    );
    assert_one_problem(
        &check_message_blocks(&json!(["divider"])),
        "/blocks/0",
        "must provide an object",
    );
}

#[test]
fn markdown_blocks_share_12000_characters_per_message_and_are_message_only() {
    let markdown = |n: usize| json!({"type": "markdown", "text": "m".repeat(n)});
    assert!(check_message_blocks(&json!([markdown(6000), markdown(6000)])).is_empty());
    assert_one_problem(
        &check_message_blocks(&json!([markdown(6000), markdown(6001)])),
        "/blocks/1/text",
        "12000 characters in total",
    );
    assert_one_problem(
        &view_problems(&modal(json!([markdown(10)])), &["modal"]),
        "/view/blocks/0/type",
        "unsupported type: markdown",
    );
}

#[test]
fn modal_titles_buttons_and_metadata_are_limited() {
    let mut view = modal(json!([section("hello")]));
    assert!(view_problems(&view, &["modal"]).is_empty());

    view["title"]["text"] = "t".repeat(25).into();
    assert_one_problem(
        &view_problems(&view, &["modal"]),
        "/view/title/text",
        "less than 25",
    );
    view["title"]["text"] = "Request".into();
    view["submit"]["text"] = "s".repeat(25).into();
    assert_one_problem(
        &view_problems(&view, &["modal"]),
        "/view/submit/text",
        "less than 25",
    );
    view["submit"]["text"] = "Send".into();
    view["private_metadata"] = "p".repeat(3001).into();
    assert_one_problem(
        &view_problems(&view, &["modal"]),
        "/view/private_metadata",
        "less than 3001",
    );
    view["private_metadata"] = "{}".into();
    view["callback_id"] = "c".repeat(256).into();
    assert_one_problem(
        &view_problems(&view, &["modal"]),
        "/view/callback_id",
        "less than 256",
    );
    view.as_object_mut().unwrap().remove("callback_id");
    view.as_object_mut().unwrap().remove("title");
    assert_one_problem(
        &view_problems(&view, &["modal"]),
        "/view/title",
        "missing required field",
    );
}

#[test]
fn views_hold_one_to_a_hundred_blocks() {
    let hundred: Vec<Value> = (0..100).map(|_| json!({"type": "divider"})).collect();
    assert!(view_problems(&modal(Value::Array(hundred.clone())), &["modal"]).is_empty());
    let mut hundred_one = hundred;
    hundred_one.push(json!({"type": "divider"}));
    assert_one_problem(
        &view_problems(&modal(Value::Array(hundred_one)), &["modal"]),
        "/view/blocks",
        "no more than 100 items",
    );
    assert_one_problem(
        &view_problems(&modal(json!([])), &["modal"]),
        "/view/blocks",
        "at least 1 items",
    );
}

#[test]
fn a_modal_with_inputs_needs_a_submit_button() {
    let input = json!({"type": "input", "label": {"type": "plain_text", "text": "Why?"},
                       "element": {"type": "plain_text_input", "action_id": "reason", "max_length": 3000}});
    let mut view = modal(json!([input]));
    view.as_object_mut().unwrap().remove("submit");
    assert_one_problem(
        &view_problems(&view, &["modal"]),
        "/view/submit",
        "submit is required",
    );
}

#[test]
fn text_input_lengths_are_bounded_by_3000() {
    let input = |max: u64| {
        modal(
            json!([{"type": "input", "label": {"type": "plain_text", "text": "Why?"},
                      "element": {"type": "plain_text_input", "action_id": "r", "max_length": max}}]),
        )
    };
    assert!(view_problems(&input(3000), &["modal"]).is_empty());
    assert_one_problem(
        &view_problems(&input(3001), &["modal"]),
        "/view/blocks/0/element/max_length",
        "from 1 to 3000",
    );
}

#[test]
fn home_views_are_not_modals() {
    let home = json!({"type": "home", "blocks": [section("Your requests")]});
    assert!(view_problems(&home, &["home"]).is_empty());
    assert_one_problem(
        &view_problems(&home, &["modal"]),
        "/view/type",
        "must be one of: modal",
    );
    let mut with_submit = home.clone();
    with_submit["submit"] = json!({"type": "plain_text", "text": "Go"});
    assert_one_problem(
        &view_problems(&with_submit, &["home"]),
        "/view/submit",
        "not allowed",
    );
}

#[test]
fn a_view_over_250_kilobytes_is_too_large() {
    let big: Vec<Value> = (0..100).map(|_| section(&"x".repeat(2600))).collect();
    assert_eq!(
        check_view(&modal(Value::Array(big)), &["modal"]),
        Err(ViewProblem::TooLarge)
    );
}
