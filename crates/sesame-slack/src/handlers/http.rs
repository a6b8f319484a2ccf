//! The HTTP transport: `POST /slack/events`, `/slack/commands` and `/slack/interactivity`. The
//! signature is checked against the raw bytes before anything is parsed; a request that fails the
//! check, is too large or does not parse gets a 4xx and changes nothing.

use super::{Ack, SlackInbound};
use crate::inbound::{self, InboundError};
use crate::verify::verify;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use secrecy::ExposeSecret;
use std::sync::Arc;

/// The Slack routes, for the binary to mount beside the others.
pub fn routes(slack: Arc<SlackInbound>) -> Router {
    Router::new()
        .route("/slack/events", post(events))
        .route("/slack/commands", post(commands))
        .route("/slack/interactivity", post(interactivity))
        .layer(DefaultBodyLimit::max(inbound::MAX_BODY))
        .with_state(slack)
}

/// Why a request from "Slack" was not handled.
enum Refusal {
    Unsigned(crate::verify::SignatureError),
    Unreadable(InboundError),
    /// Our side failed (the database); Slack retries events that were not acknowledged.
    Internal(String),
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::Unsigned(e) => {
                tracing::warn!(error = %e, "refused a Slack request with a bad signature");
                (StatusCode::UNAUTHORIZED, "invalid Slack signature").into_response()
            }
            Refusal::Unreadable(InboundError::TooLarge { .. }) => {
                (StatusCode::PAYLOAD_TOO_LARGE, "the body is too large").into_response()
            }
            Refusal::Unreadable(e) => {
                tracing::info!(error = %e, "refused a Slack request that does not parse");
                (StatusCode::BAD_REQUEST, e.to_string()).into_response()
            }
            Refusal::Internal(problem) => {
                tracing::error!(%problem, "a Slack request failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
            }
        }
    }
}

impl IntoResponse for Ack {
    fn into_response(self) -> Response {
        match self {
            Ack::Empty => StatusCode::OK.into_response(),
            Ack::Json(body) => Json(body).into_response(),
        }
    }
}

/// The Slack handlers, once the request is known to come from Slack.
fn verified(slack: &SlackInbound, headers: &HeaderMap, body: &[u8]) -> Result<(), Refusal> {
    inbound::check_size(body).map_err(Refusal::Unreadable)?;
    let secret = slack
        .signing_secret
        .as_ref()
        .map(|s| s.expose_secret().as_bytes())
        .unwrap_or_default();
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    // Real time, not the application's clock (which tests may move): the freshness check is about
    // when Slack signed the request.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    verify(
        secret,
        header("x-slack-request-timestamp"),
        header("x-slack-signature"),
        body,
        now,
    )
    .map_err(Refusal::Unsigned)
}

async fn events(
    State(slack): State<Arc<SlackInbound>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Ack, Refusal> {
    verified(&slack, &headers, &body)?;
    let request = inbound::parse_events(&body).map_err(Refusal::Unreadable)?;
    slack.events(request).await.map_err(Refusal::Internal)
}

async fn commands(
    State(slack): State<Arc<SlackInbound>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Ack, Refusal> {
    verified(&slack, &headers, &body)?;
    let command = inbound::parse_slash_command(&body).map_err(Refusal::Unreadable)?;
    Ok(slack.command(command).await)
}

async fn interactivity(
    State(slack): State<Arc<SlackInbound>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Ack, Refusal> {
    verified(&slack, &headers, &body)?;
    let interaction = inbound::parse_interaction(&body).map_err(Refusal::Unreadable)?;
    slack
        .interaction(interaction)
        .await
        .map_err(Refusal::Internal)
}
