//! `chat.postMessage`, `chat.update` and `chat.postEphemeral`.

use super::identity::{APP_ID, BOT_ID, BOT_USER_ID};
use super::{fields as answer, Answer, Failure};
use crate::fake_slack::args::Args;
use crate::fake_slack::block_kit::{check_message_blocks, MESSAGE_TEXT_MAX_CHARS};
use crate::fake_slack::model::{FakeEphemeral, FakeMessage};
use crate::fake_slack::state::FakeState;
use serde_json::{json, Value};
use std::time::Duration;

pub(super) fn post_message(state: &mut FakeState, args: &Args) -> Answer {
    let channel = postable_channel(state, args)?;
    if state.post_rate_enforced {
        enforce_one_post_per_second(state, &channel)?;
    }
    let content = MessageContent::read(args)?;
    let metadata = metadata(args)?;
    let thread_ts = args.non_empty("thread_ts");
    if let Some(parent) = &thread_ts {
        // Stricter than Slack, which may accept a reply's ts or an unknown ts: a reply to a
        // message Sesame never posted means the parent's post was lost or misordered.
        let is_top_level = state
            .message(&channel, parent)
            .is_some_and(|message| message.thread_ts.is_none());
        if !is_top_level {
            return Err(Failure::code("thread_not_found"));
        }
    }

    let ts = state.next_ts();
    let message = FakeMessage {
        channel: channel.clone(),
        ts: ts.clone(),
        text: content.text.unwrap_or_default(),
        blocks: content.blocks.unwrap_or_default(),
        thread_ts,
        metadata,
        updates: 0,
    };
    let answer = answer(json!({
        "channel": channel, "ts": ts, "message": message_json(&message, true),
    }));
    let now = state.now();
    state.last_post_at.insert(channel.clone(), now);
    state.messages.entry(channel).or_default().push(message);
    Ok(answer)
}

pub(super) fn update(state: &mut FakeState, args: &Args) -> Answer {
    let channel = args
        .non_empty("channel")
        .filter(|channel| state.channels.contains_key(channel))
        .ok_or_else(|| Failure::code("channel_not_found"))?;
    let ts = args
        .non_empty("ts")
        .ok_or_else(|| Failure::code("message_not_found"))?;
    if state.message(&channel, &ts).is_none() {
        return Err(Failure::code("message_not_found"));
    }
    let content = MessageContent::read(args)?;
    let metadata = metadata(args)?;

    let Some(message) = state.message_mut(&channel, &ts) else {
        return Err(Failure::code("message_not_found"));
    };
    // As in Slack, an argument left out keeps its old value; `blocks: []` removes the blocks.
    if let Some(text) = content.text {
        message.text = text;
    }
    if let Some(blocks) = content.blocks {
        message.blocks = blocks;
    }
    if metadata.is_some() {
        message.metadata = metadata;
    }
    message.updates += 1;
    Ok(answer(json!({
        "channel": channel, "ts": ts, "text": message.text,
        "message": message_json(message, true),
    })))
}

pub(super) fn post_ephemeral(state: &mut FakeState, args: &Args) -> Answer {
    let channel = postable_channel(state, args)?;
    let user = args
        .non_empty("user")
        .ok_or_else(|| Failure::missing("user"))?;
    let user_is_active = state.users.get(&user).is_some_and(|person| !person.deleted);
    if !user_is_active {
        return Err(Failure::code("user_not_in_channel"));
    }
    let content = MessageContent::read(args)?;
    let message_ts = state.next_ts();
    state.ephemerals.push(FakeEphemeral {
        channel,
        user,
        message_ts: message_ts.clone(),
        text: content.text.unwrap_or_default(),
        blocks: content.blocks.unwrap_or_default(),
        thread_ts: args.non_empty("thread_ts"),
    });
    Ok(answer(json!({ "message_ts": message_ts })))
}

/// A message as Slack returns it from `chat.postMessage` and `conversations.history`.
pub(super) fn message_json(message: &FakeMessage, with_metadata: bool) -> Value {
    let mut json = json!({
        "type": "message", "ts": message.ts, "text": message.text, "blocks": message.blocks,
        "user": BOT_USER_ID, "bot_id": BOT_ID, "app_id": APP_ID,
    });
    if let Some(fields) = json.as_object_mut() {
        if let Some(thread_ts) = &message.thread_ts {
            fields.insert("thread_ts".into(), thread_ts.clone().into());
        }
        if let (true, Some(metadata)) = (with_metadata, &message.metadata) {
            fields.insert("metadata".into(), metadata.clone());
        }
    }
    json
}

/// The channel a post goes to. A user id means the bot's DM with that user, which Slack opens on
/// the way (and answers with the DM's id).
fn postable_channel(state: &mut FakeState, args: &Args) -> Result<String, Failure> {
    let requested = args
        .non_empty("channel")
        .ok_or_else(|| Failure::code("channel_not_found"))?;
    if state.users.contains_key(&requested) {
        return Ok(state.dm_channel(&requested));
    }
    let channel = state
        .channels
        .get(&requested)
        .ok_or_else(|| Failure::code("channel_not_found"))?;
    if channel.archived {
        return Err(Failure::code("is_archived"));
    }
    if !channel.bot_is_member {
        return Err(Failure::code("not_in_channel"));
    }
    Ok(requested)
}

/// Slack's "1 message per second per channel", measured on the fake's clock.
fn enforce_one_post_per_second(state: &FakeState, channel: &str) -> Result<(), Failure> {
    let now = state.now();
    let recent = state
        .last_post_at
        .get(channel)
        .is_some_and(|last| now.saturating_duration_since(*last) < Duration::from_secs(1));
    if recent {
        return Err(Failure::RateLimited {
            retry_after_secs: 1,
        });
    }
    Ok(())
}

/// A message's text and blocks, each `None` when the argument was left out.
struct MessageContent {
    text: Option<String>,
    blocks: Option<Vec<Value>>,
}

impl MessageContent {
    fn read(args: &Args) -> Result<MessageContent, Failure> {
        let text = args.text("text");
        let blocks = match args.json("blocks") {
            Ok(None) => None,
            Ok(Some(Value::Array(blocks))) => {
                let problems = check_message_blocks(&blocks);
                if !problems.is_empty() {
                    return Err(Failure::explained("invalid_blocks", problems));
                }
                Some(blocks)
            }
            Ok(Some(_)) | Err(()) => return Err(Failure::code("invalid_blocks_format")),
        };
        let has_text = text.as_deref().is_some_and(|text| !text.is_empty());
        let has_blocks = blocks.as_ref().is_some_and(|blocks| !blocks.is_empty());
        if !has_text && !has_blocks && !args.has("attachments") {
            return Err(Failure::code("no_text"));
        }
        if text
            .as_deref()
            .is_some_and(|text| text.chars().count() > MESSAGE_TEXT_MAX_CHARS)
        {
            return Err(Failure::code("msg_too_long"));
        }
        Ok(MessageContent { text, blocks })
    }
}

/// The `metadata` argument: an object with a string `event_type` and an object `event_payload`.
fn metadata(args: &Args) -> Result<Option<Value>, Failure> {
    let metadata = args
        .json("metadata")
        .map_err(|()| Failure::code("invalid_metadata_format"))?;
    let Some(metadata) = metadata else {
        return Ok(None);
    };
    let well_formed = metadata
        .get("event_type")
        .and_then(Value::as_str)
        .is_some_and(|event_type| !event_type.is_empty())
        && metadata.get("event_payload").is_some_and(Value::is_object);
    if !well_formed {
        return Err(Failure::code("invalid_metadata_format"));
    }
    Ok(Some(metadata))
}
