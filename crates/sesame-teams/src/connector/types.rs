//! The Bot Connector's request and answer bodies that Sesame uses.

use crate::activity::ChannelAccount;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// The answer to send, reply and update: the activity's id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ResourceResponse {
    /// Empty when the Connector answered without one (an update may).
    #[serde(default)]
    pub id: String,
}

/// The answer to creating a conversation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationResourceResponse {
    pub id: String,
    #[serde(default)]
    pub activity_id: Option<String>,
    #[serde(default)]
    pub service_url: Option<String>,
}

/// A conversation member as Teams describes them (`GET .../members/{id}`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TeamsChannelAccount {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub aad_object_id: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub user_principal_name: Option<String>,
}

impl TeamsChannelAccount {
    /// The email Teams reports, else the sign-in name when it looks like one.
    pub fn email_address(&self) -> Option<String> {
        self.email
            .iter()
            .chain(self.user_principal_name.iter())
            .map(|e| e.trim().to_lowercase())
            .find(|e| e.contains('@'))
    }
}

/// What `POST /v3/conversations` takes.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationParameters {
    pub is_group: bool,
    pub bot: ChannelAccount,
    pub members: Vec<ChannelAccount>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel_data: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topic_name: Option<String>,
    /// A first activity to post in the new conversation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activity: Option<Value>,
}

impl ConversationParameters {
    /// A 1:1 chat between the bot (`28:<app id>`) and one person (`29:...`, from an earlier
    /// activity) in their tenant. Teams creates it only for people who have the app installed;
    /// asking again for the same person returns the same conversation.
    pub fn personal(bot_id: &str, user_id: &str, tenant_id: &str) -> ConversationParameters {
        ConversationParameters {
            is_group: false,
            bot: ChannelAccount {
                id: bot_id.to_owned(),
                ..ChannelAccount::default()
            },
            members: vec![ChannelAccount {
                id: user_id.to_owned(),
                ..ChannelAccount::default()
            }],
            tenant_id: Some(tenant_id.to_owned()),
            channel_data: Some(json!({ "tenant": { "id": tenant_id } })),
            topic_name: None,
            activity: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_personal_conversation_names_the_tenant_twice() {
        let parameters = ConversationParameters::personal("28:app", "29:alice", "t-1");
        assert_eq!(
            serde_json::to_value(&parameters).unwrap(),
            json!({
                "isGroup": false,
                "bot": { "id": "28:app" },
                "members": [{ "id": "29:alice" }],
                "tenantId": "t-1",
                "channelData": { "tenant": { "id": "t-1" } },
            })
        );
    }
}
