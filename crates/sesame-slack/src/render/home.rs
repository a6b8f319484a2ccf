//! The App Home tab and the flow pickers of direct messages and `/access`.

use super::facts::status_line;
use super::{Message, RenderContext, PICK_FLOW_ACTION, START_FLOW_ACTION};
use crate::blocks::{
    actions, button, context, divider, external_select, header, home_tab, option, options_response,
    section, section_with_accessory, static_select, ButtonStyle, Text, MAX_ID, MAX_OPTIONS,
};
use crate::text::{Mrkdwn, PlainText};
use serde_json::Value;
use sesame_core::flow::Flow;
use sesame_core::request::{Duty, Request};

/// How many requests each list of the Home tab shows; the rest are a link away. Two lists of
/// twenty plus headers stay well under Slack's 100 blocks.
const HOME_LIST_LENGTH: usize = 20;

/// The flow picker: a static select of up to 100 flows, or a select that searches as the person
/// types (answered by [`flow_suggestions`]) when there are more.
fn flow_select(flows: &[&Flow], placeholder: &str) -> Value {
    let placeholder = PlainText::new(placeholder);
    if flows.len() <= MAX_OPTIONS {
        let options = flows.iter().map(|f| flow_option(f)).collect();
        static_select(PICK_FLOW_ACTION, &placeholder, options, None)
    } else {
        external_select(PICK_FLOW_ACTION, &placeholder, 1, None)
    }
}

fn flow_option(flow: &Flow) -> Value {
    option(&PlainText::new(&flow.name), flow.id.as_str())
}

/// The answer to the flow picker's `block_suggestion`: flows whose name, category or keywords
/// contain what was typed (ignoring case), at most 100.
pub fn flow_suggestions(flows: &[&Flow], typed: &str) -> Value {
    let needle = typed.trim().to_lowercase();
    let matches = |flow: &Flow| {
        std::iter::once(&flow.name)
            .chain(std::iter::once(&flow.category))
            .chain(&flow.keywords)
            .any(|text| text.to_lowercase().contains(&needle))
    };
    options_response(
        flows
            .iter()
            .filter(|f| matches(f))
            .map(|f| flow_option(f))
            .collect(),
    )
}

/// The Home tab for `views.publish`: a picker of the flows this person may request, their own
/// requests with live status, and what waits for them, each linking to the portal.
pub fn home_view(
    ctx: &RenderContext<'_>,
    flows_user_may_request: &[&Flow],
    my_requests: &[Request],
    waiting_for_me: &[(Request, Duty)],
) -> Value {
    let mut blocks = vec![header(&PlainText::new("Request access"))];
    if flows_user_may_request.is_empty() {
        blocks.push(section(&Mrkdwn::literal(
            "There is nothing you can request here yet.",
        )));
    } else {
        blocks.push(section_with_accessory(
            &Mrkdwn::literal("What do you need access to?"),
            flow_select(flows_user_may_request, "Choose what to request"),
        ));
    }
    blocks.push(divider());
    blocks.push(header(&PlainText::new("Your requests")));
    let lines = my_requests.iter().map(|request| {
        Mrkdwn::bold(ctx.title_link(request))
            .then_literal("\n")
            .then(status_line(ctx, request))
    });
    blocks.extend(listed(
        ctx,
        lines,
        my_requests.len(),
        "You have no requests yet.",
    ));
    blocks.push(header(&PlainText::new("Waiting for you")));
    let duties = waiting_for_me.iter().map(|(request, duty)| {
        let task = match duty {
            Duty::Approve => Mrkdwn::literal("approve or deny"),
            Duty::Fulfil => Mrkdwn::literal("grant access"),
        };
        Mrkdwn::bold(ctx.title_link(request))
            .then_literal(" from ")
            .then(ctx.person(&request.requester))
            .then_literal(": ")
            .then(task)
    });
    blocks.extend(listed(
        ctx,
        duties,
        waiting_for_me.len(),
        "Nothing is waiting for you.",
    ));
    home_tab(blocks)
}

/// Up to [`HOME_LIST_LENGTH`] sections, then a note with a link to the portal for the rest.
fn listed(
    ctx: &RenderContext<'_>,
    lines: impl Iterator<Item = Mrkdwn>,
    total: usize,
    when_empty: &'static str,
) -> Vec<Value> {
    if total == 0 {
        return vec![context(&[Text::Mrkdwn(Mrkdwn::literal(when_empty))])];
    }
    let mut blocks: Vec<Value> = lines
        .take(HOME_LIST_LENGTH)
        .map(|line| section(&line))
        .collect();
    if total > HOME_LIST_LENGTH {
        let portal = format!("{}/requests", ctx.portal_base_url.trim_end_matches('/'));
        blocks.push(context(&[Text::Mrkdwn(
            Mrkdwn::escaped(&format!("And {} more on ", total - HOME_LIST_LENGTH))
                .then(Mrkdwn::link(&portal, "the portal")),
        )]));
    }
    blocks
}

/// The start of the block id that carries what the person typed, so that the flow they then pick
/// can pre-fill the modal and count as evidence for the matcher. Block ids travel back with every
/// click, ephemeral messages included, which message contents do not.
const TYPED_BLOCK_PREFIX: &str = "sesame_typed:";

/// A block id carrying (the start of) what the person typed; Slack allows 255 characters.
fn typed_block_id(typed: &str) -> String {
    let room = MAX_ID - TYPED_BLOCK_PREFIX.len();
    let mut id = String::from(TYPED_BLOCK_PREFIX);
    id.extend(typed.trim().chars().take(room));
    id
}

/// What the person typed, read back from the block id of the block they clicked in.
pub fn typed_text_of_block(block_id: &str) -> Option<&str> {
    block_id
        .strip_prefix(TYPED_BLOCK_PREFIX)
        .filter(|t| !t.is_empty())
}

/// A message listing the flows to pick from, for `/access` without text and for messages Sesame
/// could not match confidently (`typed` is what they wrote, carried along for the modal).
pub fn flow_picker(flows: &[&Flow], typed: Option<&str>) -> Message {
    if flows.is_empty() {
        let none = Mrkdwn::literal("There is nothing you can request here yet.");
        return Message::new(&none, vec![section(&none)]);
    }
    let question = match typed {
        Some(_) => Mrkdwn::literal("I could not tell which access you mean. Which one is it?"),
        None => Mrkdwn::literal("Which access do you need?"),
    };
    let mut block = section_with_accessory(&question, flow_select(flows, "Choose what to request"));
    if let Some(typed) = typed {
        block["block_id"] = Value::String(typed_block_id(typed));
    }
    Message::new(&question, vec![block])
}

/// A reply proposing `flow` for what the person wrote (`typed`), saying why it matched, with a
/// Continue button (which opens the flow's questions) and a picker of the other flows.
pub fn match_reply(flow: &Flow, reason: &str, other_flows: &[&Flow], typed: &str) -> Message {
    let proposal = Mrkdwn::literal("It looks like you need ")
        .then(Mrkdwn::bold(Mrkdwn::escaped(&flow.name)))
        .then_literal(".");
    let mut blocks = vec![section(&proposal)];
    let mut notes = vec![Text::Mrkdwn(Mrkdwn::literal("Why: ").then_escaped(reason))];
    if !flow.description.trim().is_empty() {
        notes.push(Text::Plain(PlainText::new(&flow.description)));
    }
    blocks.push(context(&notes));
    let others: Vec<&Flow> = other_flows
        .iter()
        .copied()
        .filter(|f| f.id != flow.id)
        .collect();
    let mut elements = vec![button(
        START_FLOW_ACTION,
        &PlainText::new("Continue"),
        flow.id.as_str(),
        Some(ButtonStyle::Primary),
    )];
    if !others.is_empty() {
        elements.push(flow_select(&others, "Something else"));
    }
    blocks.push(actions(&typed_block_id(typed), elements));
    Message::new(&proposal, blocks)
}

#[cfg(test)]
mod tests;
