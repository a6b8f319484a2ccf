//! Typed parsing of everything Slack sends: slash commands, Events API envelopes and interactivity
//! payloads. Call these only after [`crate::verify::verify`] has accepted the raw body.
//!
//! Each parsed value keeps the whole payload as a `serde_json::Value` (`raw`), so a field Sesame does
//! not model yet is still at hand, and anything Slack adds later lands in an `Other` variant instead
//! of an error. Bodies over [`MAX_BODY`] are refused before they are decoded. The `*_json` variants
//! take the already-decoded payload that Socket Mode delivers inside its envelopes.

mod events;
mod interactivity;
mod slash;
mod typed;

pub use events::{
    parse_events, parse_events_json, strip_leading_mention, AppHomeOpened, AppMention,
    DirectMessage, Event, EventCallback, EventsRequest,
};
pub use interactivity::{
    parse_interaction, parse_interaction_json, Action, BlockActions, BlockSuggestion, Container,
    Interaction, InteractionUser, SelectedOption, Team, TextObject, View, ViewClosed, ViewState,
    ViewSubmission,
};
pub use slash::{parse_slash_command, parse_slash_command_json, SlashCommand};
pub use typed::as_typed;

/// The largest body Sesame reads from Slack. Slack's own payloads are far smaller (a view is at most
/// 250 kB of JSON, and a modal submission carries its state, not its blocks twice), so anything
/// bigger is refused rather than decoded.
pub const MAX_BODY: usize = 256 * 1024;

/// Why a payload from Slack could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InboundError {
    #[error("the body is {size} bytes; at most {max} are accepted")]
    TooLarge { size: usize, max: usize },
    #[error("the form body cannot be decoded: {0}")]
    Form(String),
    #[error("the JSON cannot be parsed: {0}")]
    Json(String),
    #[error("the form has no `payload` field")]
    MissingPayload,
    #[error("`{0}` is missing or empty")]
    MissingField(&'static str),
    #[error("the {what} is not shaped as expected: {problem}")]
    Shape { what: &'static str, problem: String },
}

/// Refuses a body over [`MAX_BODY`]; the web layer may call it before buffering the rest.
pub fn check_size(body: &[u8]) -> Result<(), InboundError> {
    if body.len() > MAX_BODY {
        return Err(InboundError::TooLarge {
            size: body.len(),
            max: MAX_BODY,
        });
    }
    Ok(())
}

/// The fields of an `application/x-www-form-urlencoded` body; the first of repeated names wins.
fn decode_form(body: &[u8]) -> Result<Vec<(String, String)>, InboundError> {
    check_size(body)?;
    serde_urlencoded::from_bytes(body).map_err(|e| InboundError::Form(e.to_string()))
}

fn parse_json(text: &[u8]) -> Result<serde_json::Value, InboundError> {
    serde_json::from_slice(text).map_err(|e| InboundError::Json(e.to_string()))
}

/// Deserialises a known payload type, naming it in the error.
fn typed<'a, T: serde::Deserialize<'a>>(
    what: &'static str,
    value: &'a serde_json::Value,
) -> Result<T, InboundError> {
    T::deserialize(value).map_err(|e| InboundError::Shape {
        what,
        problem: e.to_string(),
    })
}

/// Slack sends `null` for an empty list in some payloads (`selected_options` of a cleared select).
fn null_as_empty<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    use serde::Deserialize;
    Ok(Option::<Vec<T>>::deserialize(deserializer)?.unwrap_or_default())
}
