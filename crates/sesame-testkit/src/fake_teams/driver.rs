//! Playing Teams towards Sesame: people with the app installed, the activities Teams would post to
//! `/teams/messages` (messages, @mentions, card clicks, installs), signed like Bot Framework signs
//! them, and the cards Sesame answered with.

use super::cards::{cards_in, dump_card, CARD_CONTENT_TYPE, MAX_MESSAGE_BYTES};
use super::state::FakeConversation;
use super::FakeTeams;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;

/// The tenant every fake person belongs to.
pub const TENANT: &str = "72f988bf-0000-4000-8000-000000000001";

/// A Teams user with the app installed in their personal scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamsUser {
    /// The Bot Framework id, `29:…`.
    pub id: String,
    /// The Entra object id (`aadObjectId`), what `chat.teams` in the directory links.
    pub object_id: String,
    pub email: String,
    pub name: String,
    /// Their 1:1 chat with the bot.
    pub conversation: String,
}

/// What Sesame answered.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
}

impl Answer {
    /// The card of an invoke answer (`adaptiveCard/action`).
    pub fn card(&self) -> &Value {
        &self.body["value"]
    }
}

impl FakeTeams {
    /// A person who installed the app: their account (with its email, as the Connector reports
    /// it), the installation, and their 1:1 chat with the bot.
    pub fn person(&self, handle: &str, email: &str) -> TeamsUser {
        let user = TeamsUser {
            id: format!("29:{handle}"),
            object_id: format!("oid-{handle}"),
            email: email.to_owned(),
            name: handle.to_owned(),
            conversation: format!("a:personal-{handle}"),
        };
        self.install_app(&user.id, TENANT);
        let mut state = self.shared.lock();
        state.members.insert(
            user.id.clone(),
            json!({
                "id": user.id, "name": user.name, "aadObjectId": user.object_id,
                "email": user.email, "userPrincipalName": user.email, "tenantId": TENANT,
            }),
        );
        state.conversations.insert(
            user.conversation.clone(),
            FakeConversation {
                id: user.conversation.clone(),
                tenant_id: Some(TENANT.to_owned()),
                member: Some(user.id.clone()),
            },
        );
        user
    }

    /// A channel (or group chat) the bot was added to; everyone in `members` can write there.
    pub fn channel(&self, id: &str) -> String {
        self.add_conversation(id, Some(TENANT));
        id.to_owned()
    }

    fn envelope(&self, kind: &str, user: &TeamsUser, conversation: Value) -> Value {
        let id = self.shared.lock().next_id();
        json!({
            "type": kind,
            "id": id,
            "timestamp": "2026-01-05T09:00:00.000Z",
            "serviceUrl": self.service_url(),
            "channelId": "msteams",
            "from": { "id": user.id, "name": user.name, "aadObjectId": user.object_id },
            "conversation": conversation,
            "recipient": { "id": self.bot_id(), "name": "Sesame" },
            "channelData": { "tenant": { "id": TENANT } },
            "locale": "en-US",
        })
    }

    fn personal(user: &TeamsUser) -> Value {
        json!({ "id": user.conversation, "conversationType": "personal", "tenantId": TENANT })
    }

    /// A message in the person's 1:1 chat with the bot.
    pub fn message(&self, user: &TeamsUser, text: &str) -> Value {
        let mut activity = self.envelope("message", user, Self::personal(user));
        activity["text"] = json!(text);
        activity
    }

    /// A message in a channel that @mentions the bot.
    pub fn mention(&self, user: &TeamsUser, channel: &str, text: &str) -> Value {
        let conversation = json!({
            "id": channel, "conversationType": "channel", "tenantId": TENANT, "isGroup": true,
        });
        let mut activity = self.envelope("message", user, conversation);
        activity["text"] = json!(format!("<at>Sesame</at> {text}"));
        activity["entities"] = json!([{
            "type": "mention", "text": "<at>Sesame</at>",
            "mentioned": { "id": self.bot_id(), "name": "Sesame" },
        }]);
        activity
    }

    /// A click on an `Action.Execute` button in the person's 1:1 chat: the card's inputs are
    /// merged into `data`, as Teams does.
    pub fn click(&self, user: &TeamsUser, verb: &str, data: Value) -> Value {
        let mut activity = self.envelope("invoke", user, Self::personal(user));
        activity["name"] = json!("adaptiveCard/action");
        activity["value"] = json!({
            "action": { "type": "Action.Execute", "verb": verb, "data": data },
            "trigger": "manual",
        });
        activity
    }

    /// The app installed in the person's personal scope.
    pub fn install(&self, user: &TeamsUser) -> Value {
        let mut activity = self.envelope("installationUpdate", user, Self::personal(user));
        activity["action"] = json!("add");
        activity
    }

    /// Posts `activity` to Sesame's `/teams/messages` with a genuine token.
    pub async fn send(&self, sesame_url: &str, activity: &Value) -> Answer {
        let token = self.sign_inbound(
            &self.app_id(),
            self.service_url(),
            "msteams",
            Duration::from_secs(3600),
        );
        self.send_with(sesame_url, activity, Some(&format!("Bearer {token}")))
            .await
    }

    /// Posts `activity` with this `Authorization` header (or none).
    pub async fn send_with(
        &self,
        sesame_url: &str,
        activity: &Value,
        authorization: Option<&str>,
    ) -> Answer {
        let mut request = reqwest::Client::new()
            .post(format!("{sesame_url}/teams/messages"))
            .header("content-type", "application/json")
            .body(activity.to_string());
        if let Some(authorization) = authorization {
            request = request.header("authorization", authorization);
        }
        let response = request.send().await.expect("Sesame answers");
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if body["type"] == CARD_CONTENT_TYPE {
            // An invoke's card replaces a message, so Teams' message limit applies to it too.
            let size = body["value"].to_string().len();
            assert!(
                size <= MAX_MESSAGE_BYTES,
                "an invoke answered with a {size}-byte card"
            );
            dump_card(&body["value"]);
        }
        Answer { status, body }
    }

    /// The cards posted into a conversation so far (as they are now), in posting order.
    pub fn cards(&self, conversation: &str) -> Vec<Value> {
        self.activities(conversation)
            .iter()
            .filter(|a| !a.deleted)
            .flat_map(|a| cards_in(&a.body).into_iter().cloned().collect::<Vec<_>>())
            .collect()
    }
}
