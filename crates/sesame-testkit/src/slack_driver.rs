//! Plays Slack towards Sesame: builds the payloads Slack sends (slash commands, events, clicks,
//! modal submissions) as Slack documents them, signs them with the app's signing secret, and posts
//! them to Sesame's `/slack/*` endpoints.

use crate::fake_slack::{sign_request, FakeView};
use crate::Reply;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};

/// The signing secret test apps are configured with.
pub const SIGNING_SECRET: &str = "test-signing-secret-0123456789abcdef";
/// The workspace and the app's bot user in every payload.
pub const TEAM: &str = "T0SESAME";
pub const BOT_USER: &str = "U0SESAMEBOT";

pub struct SlackDriver {
    base_url: String,
    client: reqwest::Client,
    /// Makes event ids and action times unique.
    counter: AtomicU64,
}

/// Where a clicked element lives.
pub enum ClickedIn<'a> {
    /// A message in a conversation (ephemeral or not).
    Message { channel: &'a str, ts: &'a str },
    /// The person's Home tab.
    Home { view_id: &'a str },
    /// An open modal (its answers changing).
    Modal(&'a FakeView),
}

impl SlackDriver {
    pub fn new(base_url: &str) -> SlackDriver {
        SlackDriver {
            base_url: base_url.trim_end_matches('/').to_owned(),
            client: reqwest::Client::new(),
            counter: AtomicU64::new(1),
        }
    }

    fn next(&self) -> u64 {
        self.counter.fetch_add(1, Ordering::Relaxed)
    }

    /// Posts `body` to `path` with the given signature headers (`None` leaves them out).
    pub async fn post_with(
        &self,
        path: &str,
        content_type: &str,
        body: impl Into<Vec<u8>>,
        headers: Option<(String, String)>,
    ) -> Reply {
        let mut request = self
            .client
            .post(format!("{}{path}", self.base_url))
            .header("content-type", content_type)
            .body(body.into());
        if let Some((timestamp, signature)) = headers {
            request = request
                .header("x-slack-request-timestamp", timestamp)
                .header("x-slack-signature", signature);
        }
        let response = request.send().await.expect("Sesame answers");
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        Reply {
            status,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
        }
    }

    /// Posts `body` signed as Slack signs it.
    pub async fn post_signed(&self, path: &str, content_type: &str, body: String) -> Reply {
        let headers = sign_request(SIGNING_SECRET, &body);
        self.post_with(path, content_type, body, Some(headers))
            .await
    }

    /// `/access text` typed by `user` in `channel`.
    pub async fn command(&self, user: &str, channel: &str, text: &str, trigger_id: &str) -> Reply {
        let body = serde_urlencoded::to_string([
            ("token", "deprecated-verification-token"),
            ("team_id", TEAM),
            ("team_domain", "sesame-test"),
            ("channel_id", channel),
            ("channel_name", "general"),
            ("user_id", user),
            ("user_name", &user.to_lowercase()),
            ("command", "/access"),
            ("text", text),
            ("api_app_id", "A0SESAME"),
            (
                "response_url",
                "https://hooks.slack.invalid/commands/T0SESAME/1/x",
            ),
            ("trigger_id", trigger_id),
        ])
        .expect("form encoding");
        self.post_signed("/slack/commands", "application/x-www-form-urlencoded", body)
            .await
    }

    /// An Events API `event_callback` around `event`; returns the event id used.
    pub fn event_envelope(&self, event: Value) -> (String, Value) {
        let event_id = format!("Ev{:010}", self.next());
        let envelope = json!({
            "token": "deprecated-verification-token",
            "team_id": TEAM,
            "api_app_id": "A0SESAME",
            "event": event,
            "type": "event_callback",
            "event_id": event_id,
            "event_time": 1_767_603_600,
            "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": true}],
        });
        (event_id, envelope)
    }

    pub async fn event(&self, event: Value) -> Reply {
        let (_, envelope) = self.event_envelope(event);
        self.post_json_event(&envelope).await
    }

    pub async fn post_json_event(&self, envelope: &Value) -> Reply {
        self.post_signed("/slack/events", "application/json", envelope.to_string())
            .await
    }

    /// A direct message from `user` to the app (`thread_ts` for a reply in a thread).
    pub fn direct_message(&self, user: &str, text: &str, thread_ts: Option<&str>) -> Value {
        let ts = format!("1767603600.{:06}", self.next());
        let mut event = json!({
            "type": "message", "channel_type": "im", "channel": format!("D{user}"),
            "user": user, "text": text, "ts": ts, "event_ts": ts,
        });
        if let Some(thread) = thread_ts {
            event["thread_ts"] = json!(thread);
        }
        event
    }

    /// An interactivity payload, form-encoded as Slack sends it.
    pub async fn interaction(&self, payload: &Value) -> Reply {
        let body =
            serde_urlencoded::to_string([("payload", payload.to_string())]).expect("form encoding");
        self.post_signed(
            "/slack/interactivity",
            "application/x-www-form-urlencoded",
            body,
        )
        .await
    }

    /// A `block_actions` payload for one element: `action` is the action as Slack describes it
    /// (`action_id`, `block_id`, `type`, `value` or `selected_option` ...).
    pub fn block_actions(
        &self,
        user: &str,
        trigger_id: &str,
        clicked_in: ClickedIn<'_>,
        mut action: Value,
    ) -> Value {
        action["action_ts"] = json!(format!("1767603601.{:06}", self.next()));
        let mut payload = json!({
            "type": "block_actions",
            "user": {"id": user, "username": user.to_lowercase(), "team_id": TEAM},
            "api_app_id": "A0SESAME",
            "team": {"id": TEAM},
            "trigger_id": trigger_id,
            "actions": [action],
        });
        match clicked_in {
            ClickedIn::Message { channel, ts } => {
                payload["container"] = json!({"type": "message", "message_ts": ts, "channel_id": channel, "is_ephemeral": false});
                payload["channel"] = json!({"id": channel});
                payload["response_url"] = json!("https://hooks.slack.invalid/actions/1");
            }
            ClickedIn::Home { view_id } => {
                payload["container"] = json!({"type": "view", "view_id": view_id});
                payload["view"] = json!({"id": view_id, "type": "home", "hash": "h", "callback_id": "", "private_metadata": ""});
            }
            ClickedIn::Modal(view) => {
                payload["container"] = json!({"type": "view", "view_id": view.id});
                payload["view"] = view_payload(view, json!({}));
            }
        }
        payload
    }

    /// A `view_submission` of `view` with the given `state.values`.
    pub fn view_submission(&self, user: &str, view: &FakeView, values: Value) -> Value {
        json!({
            "type": "view_submission",
            "user": {"id": user, "username": user.to_lowercase(), "team_id": TEAM},
            "api_app_id": "A0SESAME",
            "team": {"id": TEAM},
            "trigger_id": format!("{}.{}", self.next(), "submission"),
            "view": view_payload(view, values),
        })
    }
}

/// A view as Slack echoes it back in interaction payloads, with the person's current values.
fn view_payload(view: &FakeView, values: Value) -> Value {
    let mut echoed = view.view.clone();
    echoed["id"] = json!(view.id);
    echoed["hash"] = json!(view.hash);
    echoed["state"] = json!({ "values": values });
    if echoed.get("private_metadata").is_none() {
        echoed["private_metadata"] = json!("");
    }
    if echoed.get("callback_id").is_none() {
        echoed["callback_id"] = json!("");
    }
    echoed
}
