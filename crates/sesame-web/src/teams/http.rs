//! `POST /teams/messages`: size limit, parsing, authentication, de-duplication, then the handlers.

use super::TeamsInbound;
use crate::WebState;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::json;
use sesame_teams::activity::MAX_ACTIVITY_BYTES;
use sesame_teams::cards::CardAction;
use sesame_teams::{parse_activity, ActivityKind, AuthFailure};
use std::net::SocketAddr;
use std::sync::Arc;

/// Where remembered activity ids are kept apart from other platforms' keys.
const ACTIVITY_SOURCE: &str = "teams-activity";

pub fn routes() -> Router<WebState> {
    Router::new().route(
        "/teams/messages",
        post(messages).layer(DefaultBodyLimit::max(MAX_ACTIVITY_BYTES)),
    )
}

fn refusal(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": { "message": message } }))).into_response()
}

async fn messages(State(state): State<WebState>, request: Request) -> Response {
    let Some(teams) = state.teams.clone() else {
        return refusal(StatusCode::NOT_FOUND, "Teams is not configured");
    };
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
    let first_time = match &activity.id {
        Some(id) => {
            let key = format!("{}|{id}", activity.conversation.id);
            match teams
                .app
                .store()
                .remember_inbound(ACTIVITY_SOURCE, &key, teams.app.time())
                .await
            {
                Ok(first) => first,
                Err(e) => {
                    tracing::error!(error = %e, "cannot remember a Teams activity");
                    return refusal(StatusCode::SERVICE_UNAVAILABLE, "try again later");
                }
            }
        }
        None => true,
    };
    match activity.kind.clone() {
        ActivityKind::CardAction { verb, data } => {
            let action = CardAction::new(&verb, data);
            let answer = teams.card_action(&activity, action, first_time).await;
            (StatusCode::OK, Json(answer)).into_response()
        }
        ActivityKind::Invoke { name } => {
            tracing::debug!(%name, "an invoke Sesame does not use");
            (StatusCode::OK, Json(json!({ "status": 200 }))).into_response()
        }
        _ if !first_time => {
            tracing::debug!(id = ?activity.id, "a repeated Teams activity; dropped");
            StatusCode::OK.into_response()
        }
        ActivityKind::Message => {
            let this = teams.clone();
            teams.after_ack("message", async move { this.message(activity).await });
            StatusCode::OK.into_response()
        }
        ActivityKind::ConversationUpdate | ActivityKind::InstallationUpdate { added: true } => {
            let this = teams.clone();
            teams.after_ack("install", async move { this.installed(activity).await });
            StatusCode::OK.into_response()
        }
        ActivityKind::InstallationUpdate { added: false } | ActivityKind::Other(_) => {
            StatusCode::OK.into_response()
        }
    }
}
