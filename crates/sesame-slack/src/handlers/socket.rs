//! The Socket Mode transport: the same handlers as `/slack/*`, reached through the WebSocket that
//! Sesame opens to Slack. Slack authenticates the connection (the app-level token), so there is no
//! request signature to check; everything else is as over HTTP, de-duplication included.

use super::{Ack, SlackInbound};
use crate::inbound::{parse_events_json, parse_interaction_json, parse_slash_command_json};
use crate::socket::{SocketAnswer, SocketHandler, SocketRequest};
use std::sync::Arc;

/// Hands Socket Mode envelopes to the Slack handlers.
pub struct SlackSocketHandler(pub Arc<SlackInbound>);

#[async_trait::async_trait]
impl SocketHandler for SlackSocketHandler {
    async fn handle(&self, request: SocketRequest) -> SocketAnswer {
        let slack = &self.0;
        // A payload that does not parse is acknowledged and dropped: sending it again would not help.
        let handled = match request {
            SocketRequest::Events(body) => match parse_events_json(body) {
                Ok(events) => slack.events(events).await,
                Err(e) => return malformed(&e.to_string()),
            },
            SocketRequest::SlashCommand(body) => match parse_slash_command_json(body) {
                Ok(command) => Ok(slack.command(command).await),
                Err(e) => return malformed(&e.to_string()),
            },
            SocketRequest::Interactive(body) => match parse_interaction_json(body) {
                Ok(interaction) => slack.interaction(interaction).await,
                Err(e) => return malformed(&e.to_string()),
            },
        };
        match handled {
            Ok(Ack::Json(body)) => SocketAnswer::Ack(Some(body)),
            Ok(Ack::Empty) => SocketAnswer::Ack(None),
            // Our side failed before the request was taken in (the database): like the 500 that
            // HTTP answers, which Slack retries.
            Err(problem) => {
                tracing::warn!(%problem, "a Slack envelope was not taken in; Slack will send it again");
                SocketAnswer::Unacknowledged
            }
        }
    }
}

fn malformed(problem: &str) -> SocketAnswer {
    tracing::info!(%problem, "a Slack envelope that does not parse was dropped");
    SocketAnswer::Ack(None)
}
