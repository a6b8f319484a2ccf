//! The Web API methods the fake answers, each checking what Slack checks before changing anything.

mod apps;
mod chat;
mod conversations;
mod users;
mod views;

use super::args::Args;
use super::state::FakeState;
use serde_json::{Map, Value};

/// Why a call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Failure {
    /// `{"ok": false, "error": code}` with optional `response_metadata.messages`.
    Slack {
        code: String,
        messages: Vec<String>,
        /// For `missing_scope`: the scope that was needed.
        needed_scope: Option<&'static str>,
    },
    /// HTTP 429 with `Retry-After`.
    RateLimited { retry_after_secs: u64 },
}

impl Failure {
    pub(super) fn code(code: &str) -> Failure {
        Failure::Slack {
            code: code.to_owned(),
            messages: Vec::new(),
            needed_scope: None,
        }
    }

    pub(super) fn explained(code: &str, messages: Vec<String>) -> Failure {
        Failure::Slack {
            code: code.to_owned(),
            messages,
            needed_scope: None,
        }
    }

    /// Slack's answer to a missing required argument without a more specific error.
    pub(super) fn missing(field: &str) -> Failure {
        Failure::explained(
            "invalid_arguments",
            vec![format!("[ERROR] missing required field: {field}")],
        )
    }
}

/// The fields of a successful answer, besides `"ok": true`.
pub(super) type Answer = Result<Map<String, Value>, Failure>;

/// Every method the fake models. Others answer `unknown_method`, which Slack also answers for
/// names it does not know, so a test calling something new fails loudly.
pub(super) const MODELLED_METHODS: &[&str] = &[
    APPS_CONNECTIONS_OPEN,
    "auth.test",
    "chat.postMessage",
    "chat.update",
    "chat.postEphemeral",
    "conversations.open",
    "conversations.history",
    "views.open",
    "views.update",
    "views.publish",
    "users.info",
    "users.list",
    "users.lookupByEmail",
];

/// The one method that takes the app-level token instead of the bot token.
pub(super) const APPS_CONNECTIONS_OPEN: &str = "apps.connections.open";

pub(super) fn dispatch(state: &mut FakeState, method: &str, args: &Args) -> Answer {
    match method {
        APPS_CONNECTIONS_OPEN => apps::connections_open(state),
        "auth.test" => Ok(users::auth_test()),
        "chat.postMessage" => chat::post_message(state, args),
        "chat.update" => chat::update(state, args),
        "chat.postEphemeral" => chat::post_ephemeral(state, args),
        "conversations.open" => conversations::open(state, args),
        "conversations.history" => conversations::history(state, args),
        "views.open" => views::open(state, args),
        "views.update" => views::update(state, args),
        "views.publish" => views::publish(state, args),
        "users.info" => users::info(state, args),
        "users.list" => users::list(state, args),
        "users.lookupByEmail" => users::lookup_by_email(state, args),
        _ => Err(Failure::code("unknown_method")),
    }
}

/// The fields of a `json!({...})` literal, for building answers.
fn fields(object: Value) -> Map<String, Value> {
    match object {
        Value::Object(fields) => fields,
        _ => Map::new(),
    }
}

/// The fake workspace's fixed identities, as `auth.test` reports them.
pub mod identity {
    pub const TEAM_ID: &str = "TFAKE0001";
    pub const BOT_USER_ID: &str = "UFAKEBOT1";
    pub const BOT_ID: &str = "BFAKEBOT1";
    pub const APP_ID: &str = "AFAKEAPP1";
}
