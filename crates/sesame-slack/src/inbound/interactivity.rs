//! Interactivity payloads: button clicks and select changes (`block_actions`), modal submissions
//! and closings, and option requests for external selects (`block_suggestion`). Over HTTP they come
//! as a form with one field, `payload`, holding the JSON.

use super::{decode_form, null_as_empty, parse_json, typed, InboundError};
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub enum Interaction {
    BlockActions(BlockActions),
    ViewSubmission(ViewSubmission),
    ViewClosed(ViewClosed),
    BlockSuggestion(BlockSuggestion),
    /// Shortcuts, message actions and whatever Slack adds later.
    Other(Value),
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct InteractionUser {
    pub id: String,
    pub username: Option<String>,
    pub name: Option<String>,
    pub team_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Team {
    pub id: String,
}

/// Where the clicked element lives: a message (`message_ts`, `channel_id`) or a view (`view_id`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Container {
    #[serde(rename = "type", default)]
    pub kind: String,
    pub message_ts: Option<String>,
    pub channel_id: Option<String>,
    pub view_id: Option<String>,
    #[serde(default)]
    pub is_ephemeral: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TextObject {
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SelectedOption {
    pub value: String,
    pub text: Option<TextObject>,
}

/// One element's action. Which of the value fields is set depends on the element type (`kind`):
/// buttons and text inputs carry `value`, selects `selected_option(s)`, user selects
/// `selected_user`, date pickers `selected_date`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Action {
    pub action_id: String,
    #[serde(default)]
    pub block_id: String,
    #[serde(rename = "type", default)]
    pub kind: String,
    /// With the user and message ts, the de-duplication key of a click.
    pub action_ts: Option<String>,
    pub value: Option<String>,
    pub selected_option: Option<SelectedOption>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub selected_options: Vec<SelectedOption>,
    pub selected_user: Option<String>,
    pub selected_date: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ViewState {
    /// `values[block_id][action_id]` = the element's state, as Slack sent it.
    #[serde(default)]
    pub values: Value,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct View {
    pub id: String,
    #[serde(rename = "type", default)]
    pub kind: String,
    /// With the view id, the de-duplication key of a submission; also the lock for `views.update`.
    #[serde(default)]
    pub hash: String,
    #[serde(default)]
    pub callback_id: String,
    #[serde(default)]
    pub private_metadata: String,
    pub root_view_id: Option<String>,
    pub external_id: Option<String>,
    pub state: Option<ViewState>,
}

impl View {
    /// The submitted values, or an empty object when the view has no inputs.
    pub fn state_values(&self) -> Value {
        self.state
            .as_ref()
            .map(|s| s.values.clone())
            .filter(Value::is_object)
            .unwrap_or_else(|| Value::Object(serde_json::Map::new()))
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct BlockActions {
    pub user: InteractionUser,
    pub team: Option<Team>,
    #[serde(default)]
    pub trigger_id: String,
    /// Present for messages; absent inside modals.
    pub response_url: Option<String>,
    pub container: Container,
    pub actions: Vec<Action>,
    pub view: Option<View>,
    #[serde(skip)]
    pub raw: Value,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ViewSubmission {
    pub user: InteractionUser,
    pub team: Option<Team>,
    #[serde(default)]
    pub trigger_id: String,
    pub view: View,
    #[serde(skip)]
    pub raw: Value,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ViewClosed {
    pub user: InteractionUser,
    pub team: Option<Team>,
    pub view: View,
    #[serde(default)]
    pub is_cleared: bool,
    #[serde(skip)]
    pub raw: Value,
}

/// A request for the options of an external select, answered with at most 100 options.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct BlockSuggestion {
    pub user: InteractionUser,
    pub team: Option<Team>,
    pub action_id: String,
    #[serde(default)]
    pub block_id: String,
    /// What the person has typed so far.
    #[serde(default)]
    pub value: String,
    pub view: Option<View>,
    #[serde(skip)]
    pub raw: Value,
}

/// Parses an interactivity request body (`payload=<url-encoded JSON>`).
pub fn parse_interaction(body: &[u8]) -> Result<Interaction, InboundError> {
    let payload = decode_form(body)?
        .into_iter()
        .find(|(name, _)| name == "payload")
        .map(|(_, value)| value)
        .ok_or(InboundError::MissingPayload)?;
    parse_interaction_json(parse_json(payload.as_bytes())?)
}

/// Parses an interactivity payload delivered as JSON (Socket Mode's `interactive` payload).
pub fn parse_interaction_json(raw: Value) -> Result<Interaction, InboundError> {
    Ok(match raw.get("type").and_then(Value::as_str) {
        Some("block_actions") => {
            let mut parsed: BlockActions = typed("block_actions payload", &raw)?;
            parsed.raw = raw;
            Interaction::BlockActions(parsed)
        }
        Some("view_submission") => {
            let mut parsed: ViewSubmission = typed("view_submission payload", &raw)?;
            parsed.raw = raw;
            Interaction::ViewSubmission(parsed)
        }
        Some("view_closed") => {
            let mut parsed: ViewClosed = typed("view_closed payload", &raw)?;
            parsed.raw = raw;
            Interaction::ViewClosed(parsed)
        }
        Some("block_suggestion") => {
            let mut parsed: BlockSuggestion = typed("block_suggestion payload", &raw)?;
            parsed.raw = raw;
            Interaction::BlockSuggestion(parsed)
        }
        _ => Interaction::Other(raw),
    })
}

#[cfg(test)]
mod tests;
