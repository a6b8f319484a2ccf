use super::*;
use serde_json::json;

fn plain(text: &str) -> PlainText {
    PlainText::new(text)
}

#[test]
fn basic_blocks_have_slacks_shape() {
    assert_eq!(
        section(&Mrkdwn::escaped("a <b>")),
        json!({"type": "section", "text": {"type": "mrkdwn", "text": "a &lt;b&gt;"}})
    );
    assert_eq!(
        header(&plain("Carpark access")),
        json!({"type": "header", "text": {"type": "plain_text", "text": "Carpark access"}})
    );
    assert_eq!(divider(), json!({"type": "divider"}));
    assert_eq!(
        context(&[
            Text::Plain(plain("x")),
            Text::Mrkdwn(Mrkdwn::literal("*y*"))
        ]),
        json!({"type": "context", "elements": [
            {"type": "plain_text", "text": "x"}, {"type": "mrkdwn", "text": "*y*"}]})
    );
    assert_eq!(
        fields_section(&[
            Text::Mrkdwn(Mrkdwn::literal("*Site*")),
            Text::Plain(plain("Berlin"))
        ]),
        json!({"type": "section", "fields": [
            {"type": "mrkdwn", "text": "*Site*"}, {"type": "plain_text", "text": "Berlin"}]})
    );
}

#[test]
fn buttons_and_confirm_dialogs_have_slacks_shape() {
    let confirm = confirm_dialog(
        &plain("Cancel #117?"),
        &Mrkdwn::literal("Sure?"),
        &plain("Yes"),
        &plain("No"),
    );
    assert_eq!(
        button_with_confirm(
            "sesame_cancel",
            &plain("Cancel request"),
            "117",
            Some(ButtonStyle::Danger),
            confirm
        ),
        json!({
            "type": "button", "action_id": "sesame_cancel",
            "text": {"type": "plain_text", "text": "Cancel request"}, "value": "117", "style": "danger",
            "confirm": {
                "title": {"type": "plain_text", "text": "Cancel #117?"},
                "text": {"type": "mrkdwn", "text": "Sure?"},
                "confirm": {"type": "plain_text", "text": "Yes"},
                "deny": {"type": "plain_text", "text": "No"}
            }
        })
    );
    assert_eq!(
        button("a", &plain("Go"), "v", Some(ButtonStyle::Primary))["style"],
        "primary"
    );
    assert!(button("a", &plain("Go"), "v", None).get("style").is_none());
}

#[test]
fn builders_cut_texts_values_and_ids_to_slacks_limits() {
    let long = "x".repeat(5000);
    let b = button(&long, &plain(&long), &long, None);
    assert_eq!(b["action_id"].as_str().unwrap().len(), MAX_ID);
    assert_eq!(
        b["text"]["text"].as_str().unwrap().chars().count(),
        MAX_BUTTON_TEXT
    );
    assert_eq!(b["value"].as_str().unwrap().len(), MAX_BUTTON_VALUE);
    assert_eq!(
        header(&plain(&long))["text"]["text"]
            .as_str()
            .unwrap()
            .chars()
            .count(),
        MAX_HEADER_TEXT
    );
    assert_eq!(
        section(&Mrkdwn::escaped(&long))["text"]["text"]
            .as_str()
            .unwrap()
            .chars()
            .count(),
        3000
    );
    let o = option(&plain(&long), &long);
    assert_eq!(
        o["text"]["text"].as_str().unwrap().chars().count(),
        MAX_OPTION_TEXT
    );
    assert_eq!(o["value"].as_str().unwrap().len(), MAX_OPTION_VALUE);
    let fields: Vec<Text> = (0..25).map(|_| Text::Plain(plain(&long))).collect();
    let s = fields_section(&fields);
    assert_eq!(s["fields"].as_array().unwrap().len(), MAX_FIELDS);
    assert_eq!(
        s["fields"][0]["text"].as_str().unwrap().chars().count(),
        MAX_FIELD_TEXT
    );
    assert_eq!(fields_sections(&fields).len(), 3);
    let many: Vec<Text> = (0..30)
        .map(|i| Text::Plain(plain(&i.to_string())))
        .collect();
    assert_eq!(
        context(&many)["elements"].as_array().unwrap().len(),
        MAX_CONTEXT_ELEMENTS
    );
    let buttons: Vec<Value> = (0..30)
        .map(|i| button("a", &plain("b"), &i.to_string(), None))
        .collect();
    assert_eq!(
        actions("x", buttons)["elements"].as_array().unwrap().len(),
        MAX_ACTIONS_ELEMENTS
    );
    assert_eq!(
        header(&plain("   "))["text"]["text"],
        "-",
        "Slack refuses empty text"
    );
    for block in [
        b,
        s,
        header(&plain(&long)),
        section(&Mrkdwn::escaped(&long)),
    ] {
        assert_eq!(check_limits(&json!([block])), Ok(()));
    }
}

#[test]
fn selects_cap_options_and_drop_unknown_initial_options() {
    let options: Vec<Value> = (0..150)
        .map(|i| option(&plain(&format!("o{i}")), &format!("o{i}")))
        .collect();
    let select = static_select(
        "s",
        &plain("Pick"),
        options.clone(),
        Some(options[120].clone()),
    );
    assert_eq!(select["options"].as_array().unwrap().len(), MAX_OPTIONS);
    assert!(
        select.get("initial_option").is_none(),
        "the 121st option was cut, so it cannot be initial"
    );
    let select = static_select(
        "s",
        &plain("Pick"),
        options[..3].to_vec(),
        Some(options[1].clone()),
    );
    assert_eq!(
        select,
        json!({
            "type": "static_select", "action_id": "s",
            "placeholder": {"type": "plain_text", "text": "Pick"},
            "initial_option": {"text": {"type": "plain_text", "text": "o1"}, "value": "o1"},
            "options": [
                {"text": {"type": "plain_text", "text": "o0"}, "value": "o0"},
                {"text": {"type": "plain_text", "text": "o1"}, "value": "o1"},
                {"text": {"type": "plain_text", "text": "o2"}, "value": "o2"}
            ]
        })
    );
    let multi = multi_static_select(
        "m",
        &plain("Pick"),
        options[..3].to_vec(),
        vec![options[2].clone(), options[99].clone()],
    );
    assert_eq!(multi["initial_options"], json!([options[2]]));
    let radio = radio_buttons("r", options.clone(), Some(options[0].clone()));
    assert_eq!(
        radio["options"].as_array().unwrap().len(),
        MAX_RADIO_OPTIONS
    );
    assert_eq!(radio["initial_option"], options[0]);
    let boxes = checkboxes("c", options[..2].to_vec(), vec![options[1].clone()]);
    assert_eq!(boxes["initial_options"], json!([options[1]]));
    assert_eq!(
        options_response(options)["options"]
            .as_array()
            .unwrap()
            .len(),
        MAX_OPTIONS
    );
    assert_eq!(
        external_select("e", &plain("Search"), 1, None),
        json!({"type": "external_select", "action_id": "e",
               "placeholder": {"type": "plain_text", "text": "Search"}, "min_query_length": 1})
    );
    assert_eq!(
        multi_external_select("e", &plain("Search"), 0, vec![])["type"],
        "multi_external_select"
    );
}

#[test]
fn inputs_validate_their_initial_values() {
    assert_eq!(
        plain_text_input("t", true, 9000, Some("abcdef"), Some(&plain("Why?"))),
        json!({"type": "plain_text_input", "action_id": "t", "multiline": true, "max_length": 3000,
               "initial_value": "abcdef", "placeholder": {"type": "plain_text", "text": "Why?"}})
    );
    assert_eq!(
        plain_text_input("t", false, 3, Some("abcdef"), None)["initial_value"],
        "abc"
    );
    assert_eq!(plain_text_input("t", false, 0, None, None)["max_length"], 1);
    assert_eq!(
        datepicker("d", Some("2026-12-01"))["initial_date"],
        "2026-12-01"
    );
    assert!(datepicker("d", Some("tomorrow"))
        .get("initial_date")
        .is_none());
    assert_eq!(
        users_select("u", &plain("Who"), Some("U123ABC"))["initial_user"],
        "U123ABC"
    );
    assert!(users_select("u", &plain("Who"), Some("alice"))
        .get("initial_user")
        .is_none());
    assert_eq!(
        number_input("n", false, Some(1.0), Some(24.0), Some(8.0)),
        json!({"type": "number_input", "action_id": "n", "is_decimal_allowed": false,
               "min_value": "1", "max_value": "24", "initial_value": "8"})
    );
    let contradictory = number_input("n", true, Some(5.0), Some(1.0), Some(f64::NAN));
    assert_eq!(
        contradictory,
        json!({"type": "number_input", "action_id": "n", "is_decimal_allowed": true})
    );
}

#[test]
fn inputs_and_modals_have_slacks_shape() {
    let input = Input {
        block_id: String::from("q_plate"),
        label: plain("Plate"),
        element: plain_text_input("sesame_answer", false, 12, None, None),
        optional: false,
        hint: Some(plain("As on the car")),
        dispatch_action: true,
    };
    let modal = Modal {
        callback_id: String::from("cb"),
        title: plain("A very long title that cannot fit"),
        submit: Some(plain("Submit")),
        close: plain("Cancel"),
        blocks: vec![input.block()],
        private_metadata: PrivateMetadata::new("meta").unwrap(),
        notify_on_close: true,
    }
    .view();
    assert_eq!(
        modal,
        json!({
            "type": "modal", "callback_id": "cb",
            "title": {"type": "plain_text", "text": "A very long title that …"},
            "submit": {"type": "plain_text", "text": "Submit"},
            "close": {"type": "plain_text", "text": "Cancel"},
            "private_metadata": "meta", "notify_on_close": true,
            "blocks": [{
                "type": "input", "block_id": "q_plate", "optional": false, "dispatch_action": true,
                "label": {"type": "plain_text", "text": "Plate"},
                "hint": {"type": "plain_text", "text": "As on the car"},
                "element": {"type": "plain_text_input", "action_id": "sesame_answer",
                            "multiline": false, "max_length": 12}
            }]
        })
    );
    assert_eq!(check_limits(&modal), Ok(()));
    assert!(PrivateMetadata::new("x".repeat(3001)).is_err());
    assert_eq!(
        PrivateMetadata::new("x".repeat(3000))
            .unwrap()
            .as_str()
            .len(),
        3000
    );
    let home = home_tab((0..150).map(|_| divider()).collect());
    assert_eq!(home["blocks"].as_array().unwrap().len(), MAX_VIEW_BLOCKS);
    assert_eq!(check_limits(&home), Ok(()));
}

#[test]
fn fitting_keeps_the_footer_and_notes_what_was_left_out() {
    let body: Vec<Value> = (0..60)
        .map(|i| section(&Mrkdwn::escaped(&i.to_string())))
        .collect();
    let footer = vec![actions("a", vec![button("b", &plain("Go"), "1", None)])];
    let note = |n: usize| Mrkdwn::escaped(&format!("{n} more on the portal"));
    let fitted = fit_blocks(body.clone(), footer.clone(), MAX_MESSAGE_BLOCKS, note);
    assert_eq!(fitted.len(), MAX_MESSAGE_BLOCKS);
    assert_eq!(fitted[48]["elements"][0]["text"], "12 more on the portal");
    assert_eq!(fitted[49], footer[0]);
    assert_eq!(
        fit_blocks(body[..3].to_vec(), footer.clone(), 50, note).len(),
        4
    );
    assert_eq!(fit_blocks(vec![], vec![divider(); 60], 50, note).len(), 50);
}

#[test]
fn the_checker_finds_every_kind_of_broken_limit() {
    let long = "x".repeat(3001);
    let cases = [
        (
            json!((0..51).map(|_| divider()).collect::<Vec<_>>()),
            "blocks",
            "51 items",
        ),
        (
            json!([{"type": "section", "text": {"type": "mrkdwn", "text": long}}]),
            "blocks/0/text/text",
            "3001 characters",
        ),
        (json!([{"type": "section"}]), "blocks/0", "text or fields"),
        (
            json!([{"type": "header", "text": {"type": "mrkdwn", "text": "x"}}]),
            "blocks/0/text/type",
            "plain_text",
        ),
        (
            json!([{"type": "section", "text": {"type": "mrkdwn", "text": ""}}]),
            "blocks/0/text/text",
            "empty",
        ),
        (
            json!([{"type": "divider", "block_id": "x".repeat(256)}]),
            "blocks/0/block_id",
            "256",
        ),
        (
            json!([{"type": "actions", "elements": [{"type": "button", "text": {"type": "plain_text", "text": "x"}, "value": "x".repeat(2001)}]}]),
            "blocks/0/elements/0/value",
            "2001",
        ),
        (
            json!([{"type": "input", "label": {"type": "plain_text", "text": "l"}, "element": {"type": "plain_text_input", "max_length": 5000}}]),
            "blocks/0/element/max_length",
            "5000",
        ),
        (
            json!([{"type": "input", "label": {"type": "plain_text", "text": "l"}, "element": {"type": "static_select", "options": [{"text": {"type": "plain_text", "text": "a"}, "value": "a"}], "initial_option": {"text": {"type": "plain_text", "text": "b"}, "value": "b"}}}]),
            "blocks/0/element/options",
            "initial option",
        ),
        (
            json!({"type": "modal", "title": {"type": "plain_text", "text": "x".repeat(25)}, "blocks": []}),
            "title/text",
            "25",
        ),
        (
            json!({"type": "modal", "title": {"type": "plain_text", "text": "t"}, "private_metadata": long, "blocks": []}),
            "private_metadata",
            "3001",
        ),
        (
            json!({"response_action": "update", "view": {"type": "modal", "blocks": (0..101).map(|_| divider()).collect::<Vec<_>>()}}),
            "view/blocks",
            "101 items",
        ),
        (
            json!({"options": (0..101).map(|i| json!({"text": {"type": "plain_text", "text": "a"}, "value": i.to_string()})).collect::<Vec<_>>()}),
            "options",
            "101 items",
        ),
        (
            json!({"text": "x", "blocks": "nope"}),
            "blocks",
            "expected a list",
        ),
        (json!(42), "", "expected blocks"),
    ];
    for (payload, path, problem) in cases {
        let error = check_limits(&payload).unwrap_err();
        assert_eq!(error.path, path, "{payload}");
        assert!(
            error.problem.contains(problem),
            "{error} should mention {problem}"
        );
    }
    assert_eq!(
        check_limits(&json!({"response_action": "errors", "errors": {"b": "bad"}})),
        Ok(())
    );
    assert_eq!(
        limit_problems(&json!([{"type": "section", "text": {"type": "mrkdwn", "text": ""}, "block_id": "x".repeat(300)}])).len(),
        2
    );
}
