//! `POST /teams/messages`: size limit, parsing, authentication, de-duplication, then the handlers.

use super::work::{order, TeamsWork};
use super::TeamsInbound;
use crate::activity::MAX_ACTIVITY_BYTES;
use crate::cards::CardAction;
use crate::{parse_activity, ActivityKind, AuthFailure};
use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::json;
use std::net::SocketAddr;
use std::sync::Arc;

/// Where remembered activity ids are kept apart from other platforms' keys.
const ACTIVITY_SOURCE: &str = "teams-activity";

/// Where welcomed accounts are remembered: Teams announces a personal install twice
/// (`installationUpdate` and `conversationUpdate`), and one welcome per person is enough.
const WELCOME_SOURCE: &str = "teams-welcome";

/// The Teams route, for the binary to mount beside the others.
pub fn routes(teams: Arc<TeamsInbound>) -> Router {
    Router::new()
        .route(
            "/teams/messages",
            post(messages).layer(DefaultBodyLimit::max(MAX_ACTIVITY_BYTES)),
        )
        .with_state(teams)
}

fn refusal(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": { "message": message } }))).into_response()
}

async fn messages(State(teams): State<Arc<TeamsInbound>>, request: Request) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip());
    let authorization = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let body = match axum::body::to_bytes(request.into_body(), MAX_ACTIVITY_BYTES).await {
        Ok(body) => body,
        Err(_) => return refusal(StatusCode::PAYLOAD_TOO_LARGE, "the activity is too large"),
    };
    handle(&teams, peer, authorization.as_deref(), &body).await
}

async fn handle(
    teams: &Arc<TeamsInbound>,
    peer: Option<std::net::IpAddr>,
    authorization: Option<&str>,
    body: &Bytes,
) -> Response {
    let activity = match parse_activity(body) {
        Ok(activity) => activity,
        Err(e) => return refusal(StatusCode::BAD_REQUEST, &e.to_string()),
    };
    // Without connection details the caller can only be on the listen address, which the
    // development mode requires to be loopback.
    let peer = peer.unwrap_or_else(|| teams.listen.ip());
    if let Err(e) = teams.auth.check(peer, authorization, &activity).await {
        tracing::info!(reason = %e, "refused a Teams call");
        return match e.failure() {
            AuthFailure::Unauthenticated => refusal(StatusCode::UNAUTHORIZED, "unauthorized"),
            AuthFailure::Forbidden => refusal(StatusCode::FORBIDDEN, "forbidden"),
            AuthFailure::Unavailable => refusal(StatusCode::SERVICE_UNAVAILABLE, "try again later"),
        };
    }
    // A correctly signed activity can still name a service URL Sesame must never call: refused
    // before anything is remembered, so it cannot replace the person's saved conversation.
    if let Err(e) = teams
        .connector
        .allowed_hosts()
        .service_url(&activity.service_url)
    {
        tracing::warn!(reason = %e, "refused a Teams activity whose serviceUrl is not allowed");
        return refusal(StatusCode::FORBIDDEN, "forbidden");
    }
    match activity.kind.clone() {
        ActivityKind::CardAction { verb, data } => {
            // Answered in the response itself: the one database write the click needs, then the
            // card that replaces the clicked one.
            let first_time = match &activity.id {
                Some(id) => match teams
                    .app
                    .first_time(ACTIVITY_SOURCE, &activity_key(&activity, id))
                    .await
                {
                    Ok(first) => first,
                    Err(e) => {
                        tracing::error!(error = %e, "cannot remember a Teams activity");
                        return refusal(StatusCode::SERVICE_UNAVAILABLE, "try again later");
                    }
                },
                None => true,
            };
            let action = CardAction::new(&verb, data);
            let answer = teams.card_action(&activity, action, first_time).await;
            (StatusCode::OK, Json(answer)).into_response()
        }
        ActivityKind::Invoke { name } => {
            tracing::debug!(%name, "an invoke Sesame does not use");
            (StatusCode::OK, Json(json!({ "status": 200 }))).into_response()
        }
        ActivityKind::Message => {
            if activity.from.id == activity.recipient.id {
                return StatusCode::OK.into_response();
            }
            let key = activity.id.as_deref().map(|id| activity_key(&activity, id));
            let source = key.as_deref().map(|key| (ACTIVITY_SOURCE, key));
            let work = TeamsWork::Message {
                activity: activity.raw.clone(),
            };
            take_in(teams, &activity, source, work).await
        }
        ActivityKind::ConversationUpdate | ActivityKind::InstallationUpdate { added: true } => {
            if !teams.welcomes(&activity) {
                return StatusCode::OK.into_response();
            }
            let work = TeamsWork::Installed {
                activity: activity.raw.clone(),
            };
            let source = Some((WELCOME_SOURCE, activity.from.id.as_str()));
            take_in(teams, &activity, source, work).await
        }
        ActivityKind::InstallationUpdate { added: false } | ActivityKind::Other(_) => {
            StatusCode::OK.into_response()
        }
    }
}

/// Activity ids are unique within a conversation.
fn activity_key(activity: &crate::Activity, id: &str) -> String {
    format!("{}|{id}", activity.conversation.id)
}

/// Commits the work an activity calls for, once per inbound key (without one, every time), and
/// acknowledges; the answer goes out from the outbox.
async fn take_in(
    teams: &Arc<TeamsInbound>,
    activity: &crate::Activity,
    inbound: Option<(&str, &str)>,
    work: TeamsWork,
) -> Response {
    let order = order(&activity.from.id);
    let taken = match inbound {
        Some((source, key)) => teams
            .app
            .take_in(source, key, Some(&order), work.job())
            .await
            .map(|first| {
                if !first {
                    tracing::debug!(id = ?activity.id, "a repeated Teams activity; dropped");
                }
            }),
        None => teams.app.owe(Some(&order), work.job()).await,
    };
    match taken {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => {
            tracing::error!(error = %e, "cannot take in a Teams activity");
            refusal(StatusCode::SERVICE_UNAVAILABLE, "try again later")
        }
    }
}
