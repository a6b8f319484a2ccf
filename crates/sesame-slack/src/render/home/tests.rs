use super::super::fixtures::*;
use super::*;
use crate::blocks::check_limits;
use serde_json::json;

fn numbered_flow(i: usize) -> Flow {
    flow(&format!(
        "id: flow-{i}\nname: Flow number {i}\ncategory: Cat {}\nkeywords: [kw{i}]\nrequesters: everyone\n\
         approval: [{{ approvers: manager }}]\nfulfillment: {{ manual: {{ group: facilities }} }}\n",
        i % 7
    ))
}

#[test]
fn the_home_tab_lists_flows_my_requests_and_what_waits_for_me() {
    let carpark = carpark();
    let view = home_view(
        &render_context(),
        &[&carpark],
        &[submitted_carpark()],
        &[
            (approved_by_manager(), Duty::Approve),
            (fulfilling(), Duty::Fulfil),
        ],
    );
    assert_eq!(
        view,
        json!({"type": "home", "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": "Request access"}},
            {"type": "section", "text": {"type": "mrkdwn", "text": "What do you need access to?"},
             "accessory": {"type": "static_select", "action_id": "sesame_pick_flow",
                "placeholder": {"type": "plain_text", "text": "Choose what to request"},
                "options": [{"text": {"type": "plain_text", "text": "Carpark access"}, "value": "carpark"}]}},
            {"type": "divider"},
            {"type": "header", "text": {"type": "plain_text", "text": "Your requests"}},
            {"type": "section", "text": {"type": "mrkdwn", "text":
                "*<https://sesame.example/requests/117|Carpark access #117>*\nWaiting for approval from <@U0MARK> (step 1 of 2: Manager approval)"}},
            {"type": "header", "text": {"type": "plain_text", "text": "Waiting for you"}},
            {"type": "section", "text": {"type": "mrkdwn", "text":
                "*<https://sesame.example/requests/117|Carpark access #117>* from <@U0RITA>: approve or deny"}},
            {"type": "section", "text": {"type": "mrkdwn", "text":
                "*<https://sesame.example/requests/117|Carpark access #117>* from <@U0RITA>: grant access"}}
        ]})
    );
    assert_eq!(check_limits(&view), Ok(()));
}

#[test]
fn an_empty_home_tab_says_so() {
    let view = home_view(&render_context(), &[], &[], &[]);
    let texts: Vec<&str> = view["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|b| {
            b["text"]["text"]
                .as_str()
                .or(b["elements"][0]["text"].as_str())
        })
        .collect();
    assert_eq!(
        texts,
        [
            "Request access",
            "There is nothing you can request here yet.",
            "Your requests",
            "You have no requests yet.",
            "Waiting for you",
            "Nothing is waiting for you."
        ]
    );
}

#[test]
fn many_flows_become_a_search_and_long_lists_link_to_the_portal() {
    let flows: Vec<Flow> = (0..150).map(numbered_flow).collect();
    let refs: Vec<&Flow> = flows.iter().collect();
    let mine: Vec<Request> = (0..45).map(|_| submitted_carpark()).collect();
    let waiting: Vec<(Request, Duty)> = (0..45)
        .map(|_| (submitted_carpark(), Duty::Approve))
        .collect();
    let view = home_view(&render_context(), &refs, &mine, &waiting);
    assert_eq!(view["blocks"][1]["accessory"]["type"], "external_select");
    assert_eq!(
        view["blocks"][1]["accessory"]["action_id"],
        PICK_FLOW_ACTION
    );
    let blocks = view["blocks"].as_array().unwrap();
    assert_eq!(blocks.len(), 4 + 21 + 1 + 21);
    assert_eq!(
        blocks[24]["elements"][0]["text"],
        "And 25 more on <https://sesame.example/requests|the portal>"
    );
    assert_eq!(check_limits(&view), Ok(()));

    let found = flow_suggestions(&refs, " KW99");
    let values: Vec<&str> = found["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["value"].as_str().unwrap())
        .collect();
    assert_eq!(values, ["flow-99"]);
    assert_eq!(
        flow_suggestions(&refs, "cat 3")["options"]
            .as_array()
            .unwrap()
            .len(),
        21
    );
    assert_eq!(
        flow_suggestions(&refs, "")["options"]
            .as_array()
            .unwrap()
            .len(),
        MAX_OPTIONS
    );
    assert_eq!(check_limits(&flow_suggestions(&refs, "")), Ok(()));
}

#[test]
fn the_flow_picker_lists_flows_to_choose_from() {
    let carpark = carpark();
    let other = numbered_flow(1);
    let message = flow_picker(&[&carpark, &other], None);
    assert_eq!(
        message.to_json(),
        json!({"text": "Which access do you need?", "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": "Which access do you need?"},
             "accessory": {"type": "static_select", "action_id": "sesame_pick_flow",
                "placeholder": {"type": "plain_text", "text": "Choose what to request"},
                "options": [
                    {"text": {"type": "plain_text", "text": "Carpark access"}, "value": "carpark"},
                    {"text": {"type": "plain_text", "text": "Flow number 1"}, "value": "flow-1"}
                ]}}
        ]})
    );
    assert_eq!(
        flow_picker(&[], None).text,
        "There is nothing you can request here yet."
    );
    // After a message Sesame could not match, the picker carries the text for the modal.
    let unsure = flow_picker(&[&carpark], Some("a spot for my car"));
    let block_id = unsure.blocks[0]["block_id"].as_str().unwrap();
    assert_eq!(typed_text_of_block(block_id), Some("a spot for my car"));
}

#[test]
fn typed_text_is_cut_to_fit_a_block_id() {
    let carpark = carpark();
    let long = "é".repeat(400);
    let message = match_reply(&carpark, "why", &[&carpark], &long);
    let block_id = message.blocks[2]["block_id"].as_str().unwrap();
    assert_eq!(block_id.chars().count(), 255);
    assert!(typed_text_of_block(block_id).unwrap().starts_with("éé"));
    assert_eq!(typed_text_of_block("sesame_other"), None);
    assert_eq!(check_limits(&message.to_json()), Ok(()));
}

#[test]
fn a_match_proposes_the_flow_says_why_and_offers_something_else() {
    let carpark = carpark();
    let other = numbered_flow(1);
    let message = match_reply(
        &carpark,
        "you wrote \"parking\" <@U1>",
        &[&carpark, &other],
        "I need parking",
    );
    assert_eq!(
        message.to_json(),
        json!({"text": "It looks like you need *Carpark access*.", "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": "It looks like you need *Carpark access*."}},
            {"type": "context", "elements": [
                {"type": "mrkdwn", "text": "Why: you wrote \"parking\" &lt;@U1&gt;"},
                {"type": "plain_text", "text": "A parking permit for the HQ carpark, valid on weekdays."}
            ]},
            {"type": "actions", "block_id": "sesame_typed:I need parking", "elements": [
                {"type": "button", "action_id": "sesame_start_flow", "value": "carpark", "style": "primary",
                 "text": {"type": "plain_text", "text": "Continue"}},
                {"type": "static_select", "action_id": "sesame_pick_flow",
                 "placeholder": {"type": "plain_text", "text": "Something else"},
                 "options": [{"text": {"type": "plain_text", "text": "Flow number 1"}, "value": "flow-1"}]}
            ]}
        ]})
    );
    let alone = match_reply(&carpark, "only one", &[&carpark], "parking");
    assert_eq!(alone.blocks[2]["elements"].as_array().unwrap().len(), 1);
    assert_eq!(check_limits(&message.to_json()), Ok(()));
}
