//! `conversations.open` and `conversations.history`.

use super::chat::message_json;
use super::{fields, Answer, Failure};
use crate::fake_slack::args::Args;
use crate::fake_slack::model::FakeMessage;
use crate::fake_slack::state::{Channel, FakeState};
use serde_json::{json, Value};

/// Slack's limit on people in one group DM, besides the bot.
const MAX_USERS_PER_CONVERSATION: usize = 8;

pub(super) fn open(state: &mut FakeState, args: &Args) -> Answer {
    let users: Vec<String> = args
        .text("users")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
        .collect();
    if users.is_empty() {
        return Err(Failure::code("users_list_not_supplied"));
    }
    if users.len() > MAX_USERS_PER_CONVERSATION {
        return Err(Failure::code("too_many_users"));
    }
    for id in &users {
        let user = state
            .users
            .get(id)
            .ok_or_else(|| Failure::code("user_not_found"))?;
        if user.deleted {
            return Err(Failure::code("user_disabled"));
        }
        if user.is_bot {
            return Err(Failure::code("cannot_dm_bot"));
        }
    }
    let channel = match users.as_slice() {
        [one] => state.dm_channel(one),
        many => {
            // A group DM's id depends only on who is in it, as "opening" it again finds it.
            let mut sorted = many.to_vec();
            sorted.sort();
            sorted.dedup();
            let id = format!("G{}", sorted.join(""));
            state.channels.entry(id.clone()).or_insert(Channel {
                archived: false,
                bot_is_member: true,
            });
            id
        }
    };
    Ok(fields(json!({ "channel": { "id": channel } })))
}

/// Top-level messages, newest first, one page at a time.
pub(super) fn history(state: &mut FakeState, args: &Args) -> Answer {
    let channel = args
        .non_empty("channel")
        .filter(|channel| state.channels.contains_key(channel))
        .ok_or_else(|| Failure::code("channel_not_found"))?;
    let limit = match args.number("limit") {
        None | Some(0) => 100,
        Some(limit) => limit.min(999),
    };
    let limit = usize::try_from(limit).unwrap_or(100);
    let inclusive = args.flag("inclusive");
    let oldest = bound(args, "oldest")?;
    let latest = bound(args, "latest")?;
    let offset = match args.non_empty("cursor") {
        None => 0,
        Some(cursor) => decode_cursor(&cursor).ok_or_else(|| Failure::code("invalid_cursor"))?,
    };

    let all = state
        .messages
        .get(&channel)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let in_range = |message: &&FakeMessage| {
        let ts = ts_micros(&message.ts).unwrap_or(0);
        let after_oldest = oldest.is_none_or(|oldest| ts > oldest || (inclusive && ts == oldest));
        let before_latest = latest.is_none_or(|latest| ts < latest || (inclusive && ts == latest));
        message.thread_ts.is_none() && after_oldest && before_latest
    };
    let newest_first: Vec<&FakeMessage> = all.iter().rev().filter(in_range).collect();
    let with_metadata = args.flag("include_all_metadata");
    let page: Vec<Value> = newest_first
        .iter()
        .skip(offset)
        .take(limit)
        .map(|message| history_json(all, message, with_metadata))
        .collect();
    let has_more = newest_first.len() > offset + page.len();
    let next_cursor = if has_more {
        encode_cursor(offset + page.len())
    } else {
        String::new()
    };
    Ok(fields(json!({
        "messages": page, "has_more": has_more,
        "response_metadata": { "next_cursor": next_cursor },
    })))
}

/// A parent shows its thread as `thread_ts` (its own ts) and `reply_count`, as in Slack.
fn history_json(all: &[FakeMessage], message: &FakeMessage, with_metadata: bool) -> Value {
    let mut json = message_json(message, with_metadata);
    let replies = all
        .iter()
        .filter(|reply| reply.thread_ts.as_deref() == Some(message.ts.as_str()))
        .count();
    if let (true, Some(fields)) = (replies > 0, json.as_object_mut()) {
        fields.insert("thread_ts".into(), message.ts.clone().into());
        fields.insert("reply_count".into(), replies.into());
    }
    json
}

/// `oldest` / `latest`, Slack timestamps ("1700000000.000100" or whole seconds).
fn bound(args: &Args, name: &str) -> Result<Option<u128>, Failure> {
    match args.non_empty(name) {
        None => Ok(None),
        Some(ts) => ts_micros(&ts)
            .map(Some)
            .ok_or_else(|| Failure::code("invalid_ts_oldest")),
    }
}

/// A ts as microseconds, so "1.5" and "1.500000" compare equal and order numerically.
fn ts_micros(ts: &str) -> Option<u128> {
    let (seconds, fraction) = ts.split_once('.').unwrap_or((ts, ""));
    if fraction.len() > 6 || !fraction.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let seconds: u128 = seconds.parse().ok()?;
    let micros: u128 = format!("{fraction:0<6}").parse().ok()?;
    Some(seconds * 1_000_000 + micros)
}

pub(super) fn encode_cursor(offset: usize) -> String {
    hex::encode(format!("offset:{offset}"))
}

pub(super) fn decode_cursor(cursor: &str) -> Option<usize> {
    let decoded = String::from_utf8(hex::decode(cursor).ok()?).ok()?;
    decoded.strip_prefix("offset:")?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_compare_as_numbers() {
        assert_eq!(ts_micros("1700000000.000100"), Some(1_700_000_000_000_100));
        assert_eq!(ts_micros("1.5"), ts_micros("1.500000"));
        assert_eq!(ts_micros("12"), Some(12_000_000));
        assert_eq!(ts_micros("1.1234567"), None);
        assert_eq!(ts_micros("x.1"), None);
        assert_eq!(ts_micros("1.-5"), None);
    }

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        assert_eq!(decode_cursor(&encode_cursor(42)), Some(42));
        assert_eq!(decode_cursor("zz"), None);
        assert_eq!(decode_cursor(&hex::encode("other:1")), None);
    }
}
