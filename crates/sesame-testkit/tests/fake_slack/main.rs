//! The fake Slack enforces what Slack enforces. These tests speak raw HTTP so that they can send
//! what Sesame's client never would (no token, form bodies, broken JSON).

use serde_json::{json, Value};
use sesame_testkit::fake_slack::{FakeSlack, InjectedFailure, DEFAULT_BOT_TOKEN};
use std::time::Duration;

struct Answer {
    status: u16,
    retry_after: Option<String>,
    body: Value,
}

impl Answer {
    fn error(&self) -> &str {
        self.body["error"].as_str().unwrap_or("")
    }

    fn assert_ok(&self) -> &Value {
        assert_eq!(self.body["ok"], true, "{}", self.body);
        &self.body
    }

    fn messages(&self) -> Vec<String> {
        serde_json::from_value(self.body["response_metadata"]["messages"].clone())
            .unwrap_or_default()
    }
}

async fn send(request: reqwest::RequestBuilder) -> Answer {
    let response = request.send().await.expect("the fake answers");
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|value| value.to_str().unwrap().to_owned());
    let text = response.text().await.unwrap();
    Answer {
        status,
        retry_after,
        body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
    }
}

fn url(fake: &FakeSlack, method: &str) -> String {
    format!("{}{method}", fake.base_url())
}

/// A JSON call with the right token, as Slack's SDKs make it.
async fn call(fake: &FakeSlack, method: &str, body: Value) -> Answer {
    let request = reqwest::Client::new()
        .post(url(fake, method))
        .bearer_auth(DEFAULT_BOT_TOKEN)
        .header("content-type", "application/json; charset=utf-8")
        .body(body.to_string());
    send(request).await
}

async fn post(fake: &FakeSlack, channel: &str, text: &str) -> String {
    let answer = call(
        fake,
        "chat.postMessage",
        json!({"channel": channel, "text": text}),
    )
    .await;
    answer.assert_ok()["ts"].as_str().unwrap().to_owned()
}

async fn workspace() -> FakeSlack {
    let fake = FakeSlack::start().await;
    fake.add_channel("C1");
    fake.add_user("U1", Some("alice@example.test"), "Alice Adams");
    fake.add_user("U2", Some("bob@example.test"), "Bob Brown");
    fake
}

fn modal(title: &str) -> Value {
    json!({"type": "modal", "title": {"type": "plain_text", "text": title},
           "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Pick a flow"}}]})
}

mod authentication;
mod failures;
mod history;
mod people;
mod posting;
mod requests;
mod views;
