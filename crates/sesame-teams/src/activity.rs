//! Typed parsing of the activities Bot Framework posts to the bot: messages, invokes (Universal
//! Actions' `adaptiveCard/action` among them), `conversationUpdate` and `installationUpdate`. The
//! fields Sesame uses are typed; the whole activity is kept as `raw`, and fields this module does
//! not know are ignored, since Teams adds fields without notice.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Larger than any activity Teams sends (a message is at most about 100 KB, a card submission
/// less); a bigger body is refused before it is decoded.
pub const MAX_ACTIVITY_BYTES: usize = 256 * 1024;

/// The invoke name of a Universal Action (`Action.Execute`).
pub const ADAPTIVE_CARD_ACTION: &str = "adaptiveCard/action";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActivityError {
    #[error("the activity is {size} bytes, more than {max}")]
    TooLarge { size: usize, max: usize },
    #[error("the activity is not the expected JSON: {0}")]
    Malformed(String),
    #[error("the activity has no {0}")]
    MissingField(&'static str),
}

/// A user or bot in a conversation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChannelAccount {
    #[serde(default)]
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The person's Entra ID object id: how a Teams account is matched to a directory person.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aad_object_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationAccount {
    #[serde(default)]
    pub id: String,
    /// `personal`, `groupChat` or `channel`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_group: Option<bool>,
}

/// What an activity is, with what its kind carries.
#[derive(Debug, Clone, PartialEq)]
pub enum ActivityKind {
    /// A message; also a click on an `Action.Submit` button outside a dialog (no text, a `value`).
    Message,
    /// A Universal Action: the bot answers in the HTTP response.
    CardAction {
        verb: String,
        /// The action's `data`, with the card's inputs merged in (all values are strings).
        data: Value,
    },
    /// Another invoke (`task/fetch`, `task/submit`, ...): the bot answers in the HTTP response.
    Invoke {
        name: String,
    },
    ConversationUpdate,
    /// The app was installed (`added`) or removed for a person or a team.
    InstallationUpdate {
        added: bool,
    },
    Other(String),
}

/// An inbound activity.
#[derive(Debug, Clone, PartialEq)]
pub struct Activity {
    pub kind: ActivityKind,
    pub id: Option<String>,
    pub service_url: String,
    pub channel_id: String,
    pub from: ChannelAccount,
    pub recipient: ChannelAccount,
    pub conversation: ConversationAccount,
    pub text: Option<String>,
    pub value: Option<Value>,
    pub reply_to_id: Option<String>,
    pub members_added: Vec<ChannelAccount>,
    pub members_removed: Vec<ChannelAccount>,
    pub locale: Option<String>,
    /// The activity as sent.
    pub raw: Value,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Wire {
    #[serde(rename = "type", default)]
    activity_type: String,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    service_url: String,
    #[serde(default)]
    channel_id: String,
    #[serde(default)]
    from: ChannelAccount,
    #[serde(default)]
    recipient: ChannelAccount,
    #[serde(default)]
    conversation: ConversationAccount,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    value: Option<Value>,
    #[serde(default)]
    reply_to_id: Option<String>,
    #[serde(default)]
    members_added: Vec<ChannelAccount>,
    #[serde(default)]
    members_removed: Vec<ChannelAccount>,
    #[serde(default)]
    action: Option<String>,
    #[serde(default)]
    locale: Option<String>,
}

/// Parses a body as received. The `serviceUrl` and `channelId` are required: authentication
/// checks the token against both.
pub fn parse_activity(body: &[u8]) -> Result<Activity, ActivityError> {
    if body.len() > MAX_ACTIVITY_BYTES {
        return Err(ActivityError::TooLarge {
            size: body.len(),
            max: MAX_ACTIVITY_BYTES,
        });
    }
    let raw: Value = serde_json::from_slice(body)
        .map_err(|error| ActivityError::Malformed(error.to_string()))?;
    let wire =
        Wire::deserialize(&raw).map_err(|error| ActivityError::Malformed(error.to_string()))?;
    if wire.activity_type.is_empty() {
        return Err(ActivityError::MissingField("type"));
    }
    if wire.service_url.is_empty() {
        return Err(ActivityError::MissingField("serviceUrl"));
    }
    if wire.channel_id.is_empty() {
        return Err(ActivityError::MissingField("channelId"));
    }
    let kind = kind_of(&wire);
    Ok(Activity {
        kind,
        id: wire.id,
        service_url: wire.service_url,
        channel_id: wire.channel_id,
        from: wire.from,
        recipient: wire.recipient,
        conversation: wire.conversation,
        text: wire.text,
        value: wire.value,
        reply_to_id: wire.reply_to_id,
        members_added: wire.members_added,
        members_removed: wire.members_removed,
        locale: wire.locale,
        raw,
    })
}

fn kind_of(wire: &Wire) -> ActivityKind {
    match wire.activity_type.as_str() {
        "message" => ActivityKind::Message,
        "invoke" => {
            let name = wire.name.clone().unwrap_or_default();
            let action = wire.value.as_ref().and_then(|value| value.get("action"));
            match action {
                Some(action) if name == ADAPTIVE_CARD_ACTION => ActivityKind::CardAction {
                    verb: action
                        .get("verb")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                    data: action.get("data").cloned().unwrap_or(Value::Null),
                },
                _ => ActivityKind::Invoke { name },
            }
        }
        "conversationUpdate" => ActivityKind::ConversationUpdate,
        "installationUpdate" => ActivityKind::InstallationUpdate {
            added: wire
                .action
                .as_deref()
                .is_some_and(|action| action.starts_with("add")),
        },
        other => ActivityKind::Other(other.to_owned()),
    }
}

/// Where and to whom to send later: what a proactive message needs, saved from an activity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationReference {
    pub service_url: String,
    pub conversation_id: String,
    pub tenant_id: Option<String>,
    /// The bot's own account in this conversation (`28:<app id>`).
    pub bot: ChannelAccount,
    pub user: ChannelAccount,
}

impl Activity {
    /// The tenant, from the conversation or else `channelData.tenant.id`.
    pub fn tenant_id(&self) -> Option<&str> {
        self.conversation
            .tenant_id
            .as_deref()
            .or_else(|| self.raw.pointer("/channelData/tenant/id")?.as_str())
            .filter(|tenant| !tenant.is_empty())
    }

    /// Whether it came from a 1:1 chat with the bot.
    pub fn is_personal(&self) -> bool {
        self.conversation.conversation_type.as_deref() == Some("personal")
    }

    /// The text with every mention's text (`<at>Sesame</at>`) removed and whitespace trimmed, as
    /// commands are read in channels, where the bot only hears messages that mention it.
    pub fn text_without_mentions(&self) -> String {
        let mut text = self.text.clone().unwrap_or_default();
        let mentions = self
            .raw
            .get("entities")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|entity| entity.get("type").and_then(Value::as_str) == Some("mention"))
            .filter_map(|entity| entity.get("text").and_then(Value::as_str));
        for mention in mentions {
            if !mention.is_empty() {
                text = text.replace(mention, "");
            }
        }
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    pub fn conversation_reference(&self) -> ConversationReference {
        ConversationReference {
            service_url: self.service_url.clone(),
            conversation_id: self.conversation.id.clone(),
            tenant_id: self.tenant_id().map(str::to_owned),
            bot: self.recipient.clone(),
            user: self.from.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(value: Value) -> Result<Activity, ActivityError> {
        parse_activity(value.to_string().as_bytes())
    }

    fn base(kind: &str) -> Value {
        json!({
            "type": kind,
            "id": "1700000000000",
            "serviceUrl": "https://smba.trafficmanager.net/emea/",
            "channelId": "msteams",
            "from": { "id": "29:1abc", "name": "Alice", "aadObjectId": "6f1c-guid" },
            "conversation": { "id": "a:1xyz", "conversationType": "personal", "tenantId": "72f9" },
            "recipient": { "id": "28:app-1", "name": "Sesame" },
            "somethingTeamsAddsNextYear": { "nested": true },
        })
    }

    #[test]
    fn a_personal_message_parses_and_keeps_the_raw_json() {
        let mut value = base("message");
        value["text"] = json!("request prod-db 4h");
        let activity = parse(value.clone()).unwrap();
        assert_eq!(activity.kind, ActivityKind::Message);
        assert_eq!(activity.text.as_deref(), Some("request prod-db 4h"));
        assert_eq!(activity.from.aad_object_id.as_deref(), Some("6f1c-guid"));
        assert_eq!(activity.tenant_id(), Some("72f9"));
        assert!(activity.is_personal());
        assert_eq!(activity.raw, value);
        let reference = activity.conversation_reference();
        assert_eq!(reference.conversation_id, "a:1xyz");
        assert_eq!(reference.bot.id, "28:app-1");
        assert_eq!(reference.user.id, "29:1abc");
    }

    #[test]
    fn mentions_are_stripped_and_the_tenant_falls_back_to_channel_data() {
        let mut value = base("message");
        value["conversation"] =
            json!({ "id": "19:x@thread.tacv2;messageid=1", "conversationType": "channel" });
        value["channelData"] = json!({ "tenant": { "id": "t-2" } });
        value["text"] = json!("<at>Sesame</at>  request   prod-db");
        value["entities"] = json!([
            { "type": "mention", "text": "<at>Sesame</at>", "mentioned": { "id": "28:app-1" } },
            { "type": "clientInfo", "locale": "en-US" },
        ]);
        let activity = parse(value).unwrap();
        assert_eq!(activity.text_without_mentions(), "request prod-db");
        assert_eq!(activity.tenant_id(), Some("t-2"));
        assert!(!activity.is_personal());
    }

    #[test]
    fn invokes_and_card_actions() {
        let mut value = base("invoke");
        value["name"] = json!(ADAPTIVE_CARD_ACTION);
        value["value"] = json!({
            "action": { "type": "Action.Execute", "verb": "approve", "data": { "request": "42", "reason": "ok" } },
            "trigger": "manual",
        });
        let activity = parse(value).unwrap();
        assert_eq!(
            activity.kind,
            ActivityKind::CardAction {
                verb: "approve".into(),
                data: json!({ "request": "42", "reason": "ok" }),
            }
        );
        let mut value = base("invoke");
        value["name"] = json!("task/fetch");
        assert_eq!(
            parse(value).unwrap().kind,
            ActivityKind::Invoke {
                name: "task/fetch".into()
            }
        );
    }

    #[test]
    fn installs_and_conversation_updates() {
        let mut value = base("installationUpdate");
        value["action"] = json!("add");
        assert_eq!(
            parse(value.clone()).unwrap().kind,
            ActivityKind::InstallationUpdate { added: true }
        );
        value["action"] = json!("remove");
        assert_eq!(
            parse(value).unwrap().kind,
            ActivityKind::InstallationUpdate { added: false }
        );
        let mut value = base("conversationUpdate");
        value["membersAdded"] = json!([{ "id": "28:app-1" }]);
        let activity = parse(value).unwrap();
        assert_eq!(activity.kind, ActivityKind::ConversationUpdate);
        assert_eq!(activity.members_added[0].id, "28:app-1");
        assert_eq!(
            parse(base("typing")).unwrap().kind,
            ActivityKind::Other("typing".into())
        );
    }

    #[test]
    fn bad_bodies_are_refused() {
        assert!(matches!(
            parse_activity(&vec![b' '; MAX_ACTIVITY_BYTES + 1]),
            Err(ActivityError::TooLarge { .. })
        ));
        assert!(matches!(
            parse_activity(b"not json"),
            Err(ActivityError::Malformed(_))
        ));
        assert!(matches!(
            parse_activity(b"[1,2]"),
            Err(ActivityError::Malformed(_))
        ));
        let mut value = base("message");
        value["from"] = json!("not an object");
        assert!(matches!(parse(value), Err(ActivityError::Malformed(_))));
        for field in ["type", "serviceUrl", "channelId"] {
            let mut value = base("message");
            value.as_object_mut().unwrap().remove(field);
            assert_eq!(parse(value), Err(ActivityError::MissingField(field)));
        }
    }
}
