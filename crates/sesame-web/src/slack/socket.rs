//! The Socket Mode transport: the same handlers as `/slack/*`, reached through the WebSocket that
//! Sesame opens to Slack. Slack authenticates the connection (the app-level token), so there is no
//! request signature to check; everything else is as over HTTP, de-duplication included.

use super::{Ack, SlackInbound};
use serde_json::Value;
use sesame_slack::inbound::{parse_events_json, parse_interaction_json, parse_slash_command_json};
use sesame_slack::socket::{SocketHandler, SocketRequest};
use std::sync::Arc;

/// Hands Socket Mode envelopes to the Slack handlers.
pub struct SlackSocketHandler(pub Arc<SlackInbound>);

#[async_trait::async_trait]
impl SocketHandler for SlackSocketHandler {
    async fn handle(&self, request: SocketRequest) -> Option<Value> {
        let slack = &self.0;
        let answered = match request {
            SocketRequest::Events(body) => match parse_events_json(body) {
                Ok(events) => slack.events(events).await,
                Err(e) => Err(e.to_string()),
            },
            SocketRequest::SlashCommand(body) => match parse_slash_command_json(body) {
                Ok(command) => Ok(slack.command(command).await),
                Err(e) => Err(e.to_string()),
            },
            SocketRequest::Interactive(body) => match parse_interaction_json(body) {
                Ok(interaction) => slack.interaction(interaction).await,
                Err(e) => Err(e.to_string()),
            },
        };
        match answered {
            Ok(Ack::Json(body)) => Some(body),
            Ok(Ack::Empty) => None,
            Err(problem) => {
                tracing::warn!(%problem, "a Socket Mode envelope could not be handled");
                None
            }
        }
    }
}
