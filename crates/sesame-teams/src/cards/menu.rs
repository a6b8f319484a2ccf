//! Cards that are not about one request: help, the welcome, the flow picker, the matcher's answer
//! to free text, a person's requests, and plain notices.

use super::request::RenderContext;
use super::text::{heading, note, rich, truncate, Run, MAX_NAME_CHARS};
use super::{execute, verbs, Card};
use serde_json::{json, Value};
use sesame_core::flow::Flow;
use sesame_core::ports::Overview;

/// How many flows a picker lists; a catalog larger than this is better browsed on the portal.
const MAX_PICKER_FLOWS: usize = 100;
/// How many requests and duties "my requests" lists.
const MAX_LISTED: usize = 15;

/// A refusal to someone Sesame cannot match, with a button to the portal page where, signed in,
/// they confirm that this Teams account is theirs.
pub fn link_offer_card(refusal: &str, url: &str) -> Card {
    let mut card = Card::new(refusal);
    card.body.push(rich(&[Run::plain(refusal)]));
    card.body.push(note(
        "If this Teams account is yours, you can link it yourself within an hour: sign in to \
         Sesame and confirm. Only open a link Sesame sent to you.",
    ));
    card.actions = vec![json!({
        "type": "Action.OpenUrl",
        "title": "Link my account",
        "url": url,
    })];
    card
}

/// A sentence in a card, for refusals and confirmations. The text may quote people.
pub fn notice_card(text: &str) -> Card {
    let mut card = Card::new(text);
    card.body.push(rich(&[Run::plain(text)]));
    card
}

const COMMANDS: &str = "Write what you need in your own words (\"prod database for 4 hours\"), or \
use a command: \"request\" lists what you can ask for, \"my requests\" shows your requests and \
what waits for you, \"help\" shows this. In a channel, mention Sesame: the answer comes to you \
in this chat, never to the channel.";

pub fn help_card() -> Card {
    let mut card = Card::new("How to use Sesame");
    card.body.push(heading("Sesame: access requests"));
    card.body.push(note(COMMANDS));
    card.actions = vec![
        execute("Request access", verbs::PICK, json!({})),
        execute("My requests", verbs::MY_REQUESTS, json!({})),
    ];
    card
}

pub fn welcome_card() -> Card {
    let mut card = help_card();
    card.summary = String::from("Welcome to Sesame");
    card.body[0] = heading("Welcome to Sesame");
    card
}

fn flow_choices(flows: &[&Flow]) -> Value {
    let choices: Vec<Value> = flows
        .iter()
        .take(MAX_PICKER_FLOWS)
        .map(|f| json!({ "title": truncate(&f.name, MAX_NAME_CHARS), "value": f.id.as_str() }))
        .collect();
    json!({
        "type": "Input.ChoiceSet",
        "id": "flow",
        "label": "What do you need?",
        "style": "compact",
        "isRequired": true,
        "errorMessage": "Pick what you need.",
        "choices": choices,
    })
}

fn typed_data(typed: Option<&str>) -> Value {
    match typed {
        Some(typed) => json!({ "typed": truncate(typed, 500) }),
        None => json!({}),
    }
}

/// The flows to pick from, best first; `typed` is what the person wrote, if anything.
pub fn flow_picker(flows: &[&Flow], typed: Option<&str>) -> Card {
    let mut card = Card::new("What do you need access to?");
    if flows.is_empty() {
        card.body.push(note(
            "There is nothing you can request in Sesame right now. Ask your IT administrators if you think that is wrong.",
        ));
        return card;
    }
    if typed.is_some() {
        card.body
            .push(note("I am not sure what you need. Pick it from the list:"));
    }
    card.body.push(flow_choices(flows));
    card.actions = vec![execute("Open the form", verbs::PICK, typed_data(typed))];
    card
}

/// The matcher's proposal with its reason, a button to go on, and the other flows.
pub fn match_reply(flow: &Flow, reason: &str, other_flows: &[&Flow], typed: &str) -> Card {
    let mut card = Card::new(&format!("It looks like you need {}", flow.name));
    card.body.push(rich(&[
        Run::plain("It looks like you need "),
        Run::bold(&flow.name),
    ]));
    if !reason.is_empty() {
        card.body.push(rich(&[Run::subtle(reason)]));
    }
    let mut data = typed_data(Some(typed));
    data["flow"] = json!(flow.id.as_str());
    card.actions = vec![execute(
        &format!("Continue with {}", truncate(&flow.name, 40)),
        verbs::PICK,
        data,
    )];
    let others: Vec<&Flow> = other_flows
        .iter()
        .copied()
        .filter(|f| f.id != flow.id)
        .collect();
    if !others.is_empty() {
        card.actions.push(json!({
            "type": "Action.ShowCard",
            "title": "Something else",
            "card": {
                "type": "AdaptiveCard",
                "body": [flow_choices(&others)],
                "actions": [execute("Open the form", verbs::PICK, typed_data(Some(typed)))],
            },
        }));
    }
    card
}

/// A person's requests and what waits for them, linked to the portal.
pub fn my_requests_card(ctx: &RenderContext<'_>, overview: &Overview) -> Card {
    let mut card = Card::new("Your requests");
    card.body.push(heading("Waiting for you"));
    if overview.waiting.is_empty() {
        card.body.push(note("Nothing waits for you."));
    }
    for (request, duty) in overview.waiting.iter().take(MAX_LISTED) {
        card.body.push(rich(&[
            Run::link(&request.title(), &ctx.url(request)),
            Run::plain(&format!(
                ": {} for {}",
                duty.name(),
                (ctx.name)(&request.requester)
            )),
        ]));
    }
    card.body.push(heading("Your requests"));
    if overview.requests.is_empty() {
        card.body.push(note("You have no requests yet."));
    }
    for request in overview.requests.iter().take(MAX_LISTED) {
        card.body.push(rich(&[
            Run::link(&request.title(), &ctx.url(request)),
            Run::plain(&format!(": {}", request.state.name().replace('_', " "))),
        ]));
    }
    card.actions = vec![execute("Request access", verbs::PICK, json!({}))];
    card
}
