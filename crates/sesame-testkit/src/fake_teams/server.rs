//! The fake's HTTP side: the routes, and the Bot Connector under `/teams/` (the service URL),
//! checking what the real service checks. Metadata, keys and tokens are in `login.rs`.

use super::login::{key_set, metadata, token};
use super::state::{
    FakeActivity, FakeConversation, FakeState, InjectedFailure, RecordedCall, Shared,
};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::header::{AUTHORIZATION, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::sync::Arc;

/// The Bot Connector's limit on an activity, which Teams answers with 413.
const MAX_ACTIVITY_BYTES: usize = 100 * 1024;

pub(super) type SharedState = State<Arc<Shared>>;

pub(super) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/v1/.well-known/openidconfiguration", get(metadata))
        .route("/v1/.well-known/keys", get(key_set))
        .route("/botframework.com/oauth2/v2.0/token", post(token))
        .route("/teams/v3/conversations", post(create_conversation))
        .route(
            "/teams/v3/conversations/{conversation}/activities",
            post(send_to_conversation),
        )
        .route(
            "/teams/v3/conversations/{conversation}/activities/{activity}",
            post(reply).put(update).delete(delete),
        )
        .route(
            "/teams/v3/conversations/{conversation}/members/{member}",
            get(super::members::get_member),
        )
        .with_state(shared)
}

/// What a Bot Connector call answers.
pub(super) struct Answer {
    status: StatusCode,
    body: Value,
    retry_after_secs: Option<u64>,
}

impl Answer {
    pub(super) fn ok(status: StatusCode, body: Value) -> Answer {
        Answer {
            status,
            body,
            retry_after_secs: None,
        }
    }

    pub(super) fn error(status: StatusCode, code: &str, message: &str) -> Answer {
        Answer::ok(
            status,
            json!({ "error": { "code": code, "message": message } }),
        )
    }
}

/// Authentication, size, JSON and injected failures, shared by every Connector operation; then
/// `operation` runs on the parsed body, and the call is recorded.
pub(super) fn connector_call(
    shared: &Shared,
    method: &str,
    path: String,
    headers: &HeaderMap,
    body: &Bytes,
    operation: impl FnOnce(&mut FakeState, Value) -> Answer,
) -> Response {
    let mut state = shared.lock();
    let parsed: Value = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(body).unwrap_or(Value::Null)
    };
    let token = headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    let answer = if !token.is_some_and(|token| state.issued_tokens.contains(token)) {
        Answer::error(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "Authorization has been denied for this request.",
        )
    } else if let Some(failure) = state.injected.pop_front() {
        match failure {
            InjectedFailure::RateLimited { retry_after_secs } => Answer {
                retry_after_secs: Some(retry_after_secs),
                ..Answer::error(
                    StatusCode::TOO_MANY_REQUESTS,
                    "Throttled",
                    "Too many requests.",
                )
            },
            InjectedFailure::Status(status) => Answer::error(
                StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                "InjectedFailure",
                "The test asked for this failure.",
            ),
        }
    } else if body.len() > MAX_ACTIVITY_BYTES {
        Answer::error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "MessageSizeTooBig",
            "Message size too big.",
        )
    } else if !body.is_empty() && !parsed.is_object() {
        Answer::error(
            StatusCode::BAD_REQUEST,
            "BadSyntax",
            "The body is not a JSON object.",
        )
    } else {
        operation(&mut state, parsed.clone())
    };
    state.calls.push(RecordedCall {
        method: method.to_owned(),
        path,
        status: answer.status.as_u16(),
        body: parsed,
    });
    let mut response = if answer.body.is_null() {
        answer.status.into_response()
    } else {
        (answer.status, Json(answer.body)).into_response()
    };
    if let Some(seconds) = answer.retry_after_secs {
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

fn check_activity(activity: &Value) -> Option<Answer> {
    match activity.get("type").and_then(Value::as_str) {
        Some(kind) if !kind.is_empty() => None,
        _ => Some(Answer::error(
            StatusCode::BAD_REQUEST,
            "BadSyntax",
            "The activity has no type.",
        )),
    }
}

fn conversation_not_found() -> Answer {
    Answer::error(
        StatusCode::NOT_FOUND,
        "ConversationNotFound",
        "Conversation not found.",
    )
}

async fn create_conversation(
    State(shared): SharedState,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    connector_call(
        &shared,
        "POST",
        "v3/conversations".to_owned(),
        &headers,
        &body,
        |state, parameters| {
            let members = parameters["members"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let tenant = parameters["tenantId"]
                .as_str()
                .or_else(|| parameters.pointer("/channelData/tenant/id")?.as_str());
            if parameters["isGroup"].as_bool() == Some(true) {
                return Answer::error(
                    StatusCode::BAD_REQUEST,
                    "BadSyntax",
                    "Group chats cannot be created.",
                );
            }
            let (Some(member), 1, Some(tenant)) = (
                members.first().and_then(|member| member["id"].as_str()),
                members.len(),
                tenant,
            ) else {
                return Answer::error(
                    StatusCode::BAD_REQUEST,
                    "BadSyntax",
                    "A 1:1 conversation needs exactly one member and a tenant id.",
                );
            };
            if parameters.pointer("/bot/id").and_then(Value::as_str)
                != Some(format!("28:{}", state.app_id).as_str())
            {
                return Answer::error(StatusCode::BAD_REQUEST, "BadArgument", "Invalid bot id.");
            }
            if state.installed.get(member).map(String::as_str) != Some(tenant) {
                return Answer::error(
                    StatusCode::FORBIDDEN,
                    "Forbidden",
                    "The bot is not installed in the user's personal scope.",
                );
            }
            // Teams keeps one 1:1 chat per person and bot: asking again returns it.
            if let Some(existing) = state
                .conversations
                .values()
                .find(|c| c.member.as_deref() == Some(member))
            {
                return Answer::ok(StatusCode::CREATED, json!({ "id": existing.id }));
            }
            let id = format!("a:fake-{member}");
            state
                .conversations
                .entry(id.clone())
                .or_insert_with(|| FakeConversation {
                    id: id.clone(),
                    tenant_id: Some(tenant.to_owned()),
                    member: Some(member.to_owned()),
                });
            Answer::ok(StatusCode::CREATED, json!({ "id": id }))
        },
    )
}

async fn send_to_conversation(
    State(shared): SharedState,
    Path(conversation): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = format!("v3/conversations/{conversation}/activities");
    connector_call(&shared, "POST", path, &headers, &body, |state, activity| {
        post_activity(state, &conversation, None, activity)
    })
}

async fn reply(
    State(shared): SharedState,
    Path((conversation, activity_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = format!("v3/conversations/{conversation}/activities/{activity_id}");
    connector_call(&shared, "POST", path, &headers, &body, |state, activity| {
        if find(state, &conversation, &activity_id).is_none() {
            return Answer::error(
                StatusCode::NOT_FOUND,
                "ActivityNotFound",
                "Activity not found.",
            );
        }
        post_activity(state, &conversation, Some(activity_id.clone()), activity)
    })
}

fn post_activity(
    state: &mut FakeState,
    conversation: &str,
    reply_to: Option<String>,
    activity: Value,
) -> Answer {
    if let Some(refusal) = check_activity(&activity) {
        return refusal;
    }
    if !state.conversations.contains_key(conversation) {
        return conversation_not_found();
    }
    if let Some(refusal) = super::cards::check_message(&activity) {
        return refusal;
    }
    let id = state.next_id();
    state
        .activities
        .entry(conversation.to_owned())
        .or_default()
        .push(FakeActivity {
            id: id.clone(),
            conversation_id: conversation.to_owned(),
            body: activity,
            reply_to,
            updates: 0,
            deleted: false,
        });
    Answer::ok(StatusCode::CREATED, json!({ "id": id }))
}

fn find<'a>(
    state: &'a mut FakeState,
    conversation: &str,
    id: &str,
) -> Option<&'a mut FakeActivity> {
    state
        .activities
        .get_mut(conversation)?
        .iter_mut()
        .find(|activity| activity.id == id && !activity.deleted)
}

async fn update(
    State(shared): SharedState,
    Path((conversation, activity_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = format!("v3/conversations/{conversation}/activities/{activity_id}");
    connector_call(&shared, "PUT", path, &headers, &body, |state, activity| {
        if let Some(refusal) = check_activity(&activity) {
            return refusal;
        }
        if !state.conversations.contains_key(&conversation) {
            return conversation_not_found();
        }
        if let Some(refusal) = super::cards::check_message(&activity) {
            return refusal;
        }
        match find(state, &conversation, &activity_id) {
            Some(existing) => {
                existing.body = activity;
                existing.updates += 1;
                Answer::ok(StatusCode::OK, json!({ "id": activity_id }))
            }
            None => Answer::error(
                StatusCode::NOT_FOUND,
                "ActivityNotFound",
                "Activity not found.",
            ),
        }
    })
}

async fn delete(
    State(shared): SharedState,
    Path((conversation, activity_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = format!("v3/conversations/{conversation}/activities/{activity_id}");
    connector_call(
        &shared,
        "DELETE",
        path,
        &headers,
        &body,
        |state, _| match find(state, &conversation, &activity_id) {
            Some(existing) => {
                existing.deleted = true;
                Answer::ok(StatusCode::OK, Value::Null)
            }
            None => Answer::error(
                StatusCode::NOT_FOUND,
                "ActivityNotFound",
                "Activity not found.",
            ),
        },
    )
}
