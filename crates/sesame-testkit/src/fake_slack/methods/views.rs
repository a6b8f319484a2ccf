//! `views.open`, `views.update` and `views.publish`.
//!
//! Slack reports a view that breaks Block Kit rules as `invalid_arguments` (with the same
//! `[ERROR] ... [json-pointer:/view/...]` messages), not `invalid_blocks`, which is for messages.

use super::identity::{APP_ID, BOT_ID, TEAM_ID};
use super::{fields, Answer, Failure};
use crate::fake_slack::args::Args;
use crate::fake_slack::block_kit::{check_view, ViewProblem};
use crate::fake_slack::model::FakeView;
use crate::fake_slack::state::FakeState;
use serde_json::{json, Value};
use std::time::UNIX_EPOCH;

pub(super) fn open(state: &mut FakeState, args: &Args) -> Answer {
    let trigger_id = args
        .non_empty("trigger_id")
        .ok_or_else(|| Failure::missing("trigger_id"))?;
    let view = checked_view(args, &["modal"])?;
    unique_external_id(state, &view, None)?;
    // The view is checked first: a refused view leaves the trigger usable for a corrected one.
    use_trigger(state, &trigger_id)?;

    let id = state.next_id('V');
    let stored = FakeView {
        id: id.clone(),
        hash: new_hash(state),
        view,
        home_of: None,
        updates: 0,
    };
    let answer = view_answer(&stored);
    state.views.insert(id, stored);
    Ok(answer)
}

pub(super) fn update(state: &mut FakeState, args: &Args) -> Answer {
    let id = view_id_from(state, args)?;
    let Some(current) = state.views.get(&id) else {
        return Err(Failure::code("not_found"));
    };
    if let Some(hash) = args.non_empty("hash") {
        if hash != current.hash {
            return Err(Failure::code("hash_conflict"));
        }
    }
    let current_type = current.kind().to_owned();
    let view = checked_view(args, &[current_type.as_str()])?;
    unique_external_id(state, &view, Some(&id))?;

    let hash = new_hash(state);
    let Some(stored) = state.views.get_mut(&id) else {
        return Err(Failure::code("not_found"));
    };
    stored.view = view;
    stored.hash = hash;
    stored.updates += 1;
    Ok(view_answer(stored))
}

pub(super) fn publish(state: &mut FakeState, args: &Args) -> Answer {
    let user = args
        .non_empty("user_id")
        .ok_or_else(|| Failure::missing("user_id"))?;
    let user_is_active = state.users.get(&user).is_some_and(|person| !person.deleted);
    if !user_is_active {
        return Err(Failure::code("user_not_found"));
    }
    let view = checked_view(args, &["home"])?;
    let existing = state
        .views
        .values()
        .find(|stored| stored.home_of.as_deref() == Some(user.as_str()))
        .map(|stored| (stored.id.clone(), stored.hash.clone()));
    if let (Some(hash), Some((_, current_hash))) = (args.non_empty("hash"), &existing) {
        if &hash != current_hash {
            return Err(Failure::code("hash_conflict"));
        }
    }

    let hash = new_hash(state);
    // A user has one Home tab; publishing again replaces it under the same id.
    let (id, updates) = match existing {
        Some((id, _)) => {
            let updates = state.views.get(&id).map_or(0, |stored| stored.updates + 1);
            (id, updates)
        }
        None => (state.next_id('V'), 0),
    };
    let stored = FakeView {
        id: id.clone(),
        hash,
        view,
        home_of: Some(user),
        updates,
    };
    let answer = view_answer(&stored);
    state.views.insert(id, stored);
    Ok(answer)
}

/// The `view` argument, parsed and checked against Block Kit's rules.
fn checked_view(args: &Args, allowed_types: &[&str]) -> Result<Value, Failure> {
    let view = match args.json("view") {
        Ok(Some(view)) => view,
        Ok(None) => return Err(Failure::missing("view")),
        Err(()) => {
            let messages = vec!["[ERROR] failed to parse view as JSON [json-pointer:/view]".into()];
            return Err(Failure::explained("invalid_arguments", messages));
        }
    };
    match check_view(&view, allowed_types) {
        Ok(()) => Ok(view),
        Err(ViewProblem::TooLarge) => Err(Failure::code("view_too_large")),
        Err(ViewProblem::Invalid(problems)) => {
            Err(Failure::explained("invalid_arguments", problems))
        }
    }
}

/// Spends a trigger id: unknown ones are invalid, used ones exchanged, old ones expired.
fn use_trigger(state: &mut FakeState, trigger_id: &str) -> Result<(), Failure> {
    let now = state.now();
    let lifetime = state.trigger_lifetime;
    let Some(trigger) = state.triggers.get_mut(trigger_id) else {
        return Err(Failure::code("invalid_trigger_id"));
    };
    if trigger.used {
        return Err(Failure::code("exchanged_trigger_id"));
    }
    if now.saturating_duration_since(trigger.issued_at) > lifetime {
        return Err(Failure::code("expired_trigger_id"));
    }
    trigger.used = true;
    Ok(())
}

/// `views.update` names its view by `view_id` or by the `external_id` the app gave it.
fn view_id_from(state: &FakeState, args: &Args) -> Result<String, Failure> {
    if let Some(id) = args.non_empty("view_id") {
        return Ok(id);
    }
    let external_id = args
        .non_empty("external_id")
        .ok_or_else(|| Failure::missing("view_id"))?;
    state
        .views
        .values()
        .find(|stored| external_id_of(&stored.view) == Some(external_id.as_str()))
        .map(|stored| stored.id.clone())
        .ok_or_else(|| Failure::code("not_found"))
}

fn unique_external_id(
    state: &FakeState,
    view: &Value,
    updating: Option<&str>,
) -> Result<(), Failure> {
    let Some(external_id) = external_id_of(view) else {
        return Ok(());
    };
    let taken = state.views.values().any(|stored| {
        Some(stored.id.as_str()) != updating && external_id_of(&stored.view) == Some(external_id)
    });
    if taken {
        return Err(Failure::code("duplicate_external_id"));
    }
    Ok(())
}

fn external_id_of(view: &Value) -> Option<&str> {
    view.get("external_id")
        .and_then(Value::as_str)
        .filter(|id| !id.is_empty())
}

fn new_hash(state: &mut FakeState) -> String {
    let seconds = state
        .wall_now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    format!("{seconds}.{}", state.next_id('h'))
}

/// `{"view": {...}}` as Slack answers: the view sent, plus the ids and hash Slack adds.
fn view_answer(stored: &FakeView) -> serde_json::Map<String, Value> {
    let mut view = stored.view.clone();
    if let Some(view) = view.as_object_mut() {
        let defaults = json!({
            "id": stored.id, "hash": stored.hash, "team_id": TEAM_ID, "app_id": APP_ID,
            "bot_id": BOT_ID, "root_view_id": stored.id, "previous_view_id": null,
            "state": {"values": {}},
        });
        for (key, value) in fields(defaults) {
            view.insert(key, value);
        }
        for key in ["private_metadata", "callback_id", "external_id"] {
            view.entry(key)
                .or_insert_with(|| Value::String(String::new()));
        }
    }
    fields(json!({ "view": view }))
}
