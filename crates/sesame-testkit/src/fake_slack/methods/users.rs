//! `auth.test`, `users.info`, `users.list` and `users.lookupByEmail`.

use super::identity::{BOT_ID, BOT_USER_ID, TEAM_ID};
use super::{fields, Answer, Failure};
use crate::fake_slack::args::Args;
use crate::fake_slack::model::FakeUser;
use crate::fake_slack::state::FakeState;
use serde_json::{json, Map, Value};

pub(super) fn auth_test() -> Map<String, Value> {
    fields(json!({
        "url": "https://fake-sesame.slack.com/", "team": "Fake Sesame", "user": "sesame",
        "team_id": TEAM_ID, "user_id": BOT_USER_ID, "bot_id": BOT_ID,
        "is_enterprise_install": false,
    }))
}

pub(super) fn info(state: &mut FakeState, args: &Args) -> Answer {
    let user = args
        .non_empty("user")
        .and_then(|id| state.users.get(&id))
        .ok_or_else(|| Failure::code("user_not_found"))?;
    Ok(fields(
        json!({ "user": user_json(user, state.emails_visible) }),
    ))
}

/// Every account, deleted ones and bots included (as Slack lists them), a page at a time in id
/// order; `limit` at most 200 as Slack recommends, then a cursor.
pub(super) fn list(state: &mut FakeState, args: &Args) -> Answer {
    let limit = match args.number("limit") {
        None | Some(0) => 100,
        Some(limit) => limit.min(200),
    };
    let limit = usize::try_from(limit).unwrap_or(100);
    let offset = match args.non_empty("cursor") {
        None => 0,
        Some(cursor) => super::conversations::decode_cursor(&cursor)
            .ok_or_else(|| Failure::code("invalid_cursor"))?,
    };
    let all: Vec<&FakeUser> = state.users.values().collect();
    let page: Vec<Value> = all
        .iter()
        .skip(offset)
        .take(limit)
        .map(|user| user_json(user, state.emails_visible))
        .collect();
    let next_cursor = if all.len() > offset + page.len() {
        super::conversations::encode_cursor(offset + page.len())
    } else {
        String::new()
    };
    Ok(fields(json!({
        "members": page, "response_metadata": { "next_cursor": next_cursor },
    })))
}

/// Needs `users:read.email`; without it Slack refuses the whole method.
pub(super) fn lookup_by_email(state: &mut FakeState, args: &Args) -> Answer {
    if !state.emails_visible {
        return Err(Failure::Slack {
            code: "missing_scope".into(),
            messages: Vec::new(),
            needed_scope: Some("users:read.email"),
        });
    }
    let email = args
        .non_empty("email")
        .ok_or_else(|| Failure::missing("email"))?;
    let user = state
        .users
        .values()
        .find(|user| {
            user.email
                .as_deref()
                .is_some_and(|known| known.eq_ignore_ascii_case(&email))
        })
        .ok_or_else(|| Failure::code("users_not_found"))?;
    Ok(fields(json!({ "user": user_json(user, true) })))
}

/// A user as Slack describes them. Without `users:read.email` the profile has no `email` field at
/// all, which is how Slack answers (not an error).
fn user_json(user: &FakeUser, email_visible: bool) -> Value {
    let mut profile = json!({
        "real_name": user.real_name, "display_name": user.name,
    });
    if let (true, Some(email), Some(profile)) =
        (email_visible, &user.email, profile.as_object_mut())
    {
        profile.insert("email".into(), email.clone().into());
    }
    json!({
        "id": user.id, "team_id": TEAM_ID, "name": user.name, "deleted": user.deleted,
        "real_name": user.real_name, "tz": "Europe/Paris", "is_bot": user.is_bot,
        "is_admin": false, "profile": profile,
    })
}
