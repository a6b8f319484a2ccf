//! The HTTP side of the fake: reads a call the ways Slack accepts one, checks the token, applies
//! any failure the test injected, runs the method, and records the call with its answer.

use super::args::{Args, BodyError};
use super::methods::{dispatch, Failure, APPS_CONNECTIONS_OPEN, MODELLED_METHODS};
use super::model::{InjectedFailure, RecordedCall};
use super::state::{FakeState, Shared};
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use serde_json::{json, Map, Value};
use std::sync::Arc;
use std::time::Duration;

pub(super) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/api/{method}", any(receive))
        .with_state(shared)
}

/// What goes back over HTTP.
struct Reply {
    status: StatusCode,
    body: Value,
    retry_after_secs: Option<u64>,
    /// Set by [`InjectedFailure::AnswerLate`]: the call took effect, the answer waits.
    answer_after: Option<Duration>,
}

impl Reply {
    fn json(body: Value) -> Reply {
        Reply {
            status: StatusCode::OK,
            body,
            retry_after_secs: None,
            answer_after: None,
        }
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let mut response = match &self.body {
            // An injected HTTP failure answers like a proxy would: a page, not Slack's JSON.
            Value::String(page) => (self.status, page.clone()).into_response(),
            json => (self.status, axum::Json(json.clone())).into_response(),
        };
        if let Some(seconds) = self.retry_after_secs {
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

async fn receive(
    State(shared): State<Arc<Shared>>,
    Path(method): Path<String>,
    http_method: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let reply = {
        let mut state = shared.lock();
        handle(
            &mut state,
            &method,
            &http_method,
            query.as_deref(),
            &headers,
            &body,
        )
    };
    if let Some(delay) = reply.answer_after {
        tokio::time::sleep(delay).await;
    }
    reply.into_response()
}

fn handle(
    state: &mut FakeState,
    method: &str,
    http_method: &Method,
    query: Option<&str>,
    headers: &HeaderMap,
    body: &[u8],
) -> Reply {
    let at = state.wall_now();
    let (reply, recorded_body) = match read_args(http_method, query, headers, body) {
        Ok((args, warning)) => {
            let mut reply = answer(state, method, &args, headers);
            if let Some(warning) = warning {
                add_warning(&mut reply.body, warning);
            }
            (reply, args.to_value())
        }
        Err(code) => (
            failure_reply(Failure::code(code)),
            Value::Object(Map::new()),
        ),
    };
    state.calls.push(RecordedCall {
        method: method.to_owned(),
        body: recorded_body,
        at,
        status: reply.status.as_u16(),
        response: reply.body.clone(),
    });
    reply
}

fn answer(state: &mut FakeState, method: &str, args: &Args, headers: &HeaderMap) -> Reply {
    if !MODELLED_METHODS.contains(&method) {
        return failure_reply(Failure::code("unknown_method"));
    }
    if let Err(failure) = check_token(state, method, headers, args) {
        return failure_reply(failure);
    }
    let mut answer_after = None;
    match state.take_injected(method) {
        None => {}
        Some(InjectedFailure::RateLimited { retry_after_secs }) => {
            return failure_reply(Failure::RateLimited { retry_after_secs })
        }
        Some(InjectedFailure::SlackError(code)) => return failure_reply(Failure::code(&code)),
        Some(InjectedFailure::HttpStatus(status)) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
            return Reply {
                status,
                body: Value::String(format!("<html><body>{status}</body></html>")),
                retry_after_secs: None,
                answer_after: None,
            };
        }
        Some(InjectedFailure::AnswerLate(delay)) => answer_after = Some(delay),
    }
    let mut reply = match dispatch(state, method, args) {
        Ok(mut fields) => {
            fields.insert("ok".into(), true.into());
            Reply::json(Value::Object(fields))
        }
        Err(failure) => failure_reply(failure),
    };
    reply.answer_after = answer_after;
    reply
}

/// Reads the arguments, with a warning Slack would add: JSON without `charset=utf-8` gets
/// `missing_charset`.
fn read_args(
    http_method: &Method,
    query: Option<&str>,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(Args, Option<&'static str>), BodyError> {
    if http_method == Method::GET {
        return Ok((Args::from_form(query.unwrap_or("").as_bytes())?, None));
    }
    if http_method != Method::POST {
        return Err("invalid_post_type");
    }
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let mut parts = content_type.split(';').map(str::trim);
    let mime = parts.next().unwrap_or("");
    let has_charset = parts.any(|part| part.starts_with("charset="));
    match mime {
        "application/json" => {
            let warning = (!has_charset).then_some("missing_charset");
            Ok((Args::from_json(body)?, warning))
        }
        "application/x-www-form-urlencoded" => Ok((Args::from_form(body)?, None)),
        _ => Err("invalid_post_type"),
    }
}

/// Slack's token rules: the bot token for every method but `apps.connections.open`, which takes
/// the app-level token, and only in the header. Each refuses the other's token with
/// `not_allowed_token_type`.
fn check_token(
    state: &FakeState,
    method: &str,
    headers: &HeaderMap,
    args: &Args,
) -> Result<(), Failure> {
    let app_token = state.socket.app_token.as_deref();
    let bot_token = Some(state.bot_token.as_str());
    let (token, expected, other) = if method == APPS_CONNECTIONS_OPEN {
        (bearer_token(headers), app_token, bot_token)
    } else {
        (
            bearer_token(headers).or_else(|| args.token.clone()),
            bot_token,
            app_token,
        )
    };
    let Some(token) = token else {
        return Err(Failure::code("not_authed"));
    };
    if Some(token.as_str()) == expected {
        Ok(())
    } else if Some(token.as_str()) == other {
        Err(Failure::code("not_allowed_token_type"))
    } else {
        Err(Failure::code("invalid_auth"))
    }
}

/// The bearer token from the header.
fn bearer_token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(AUTHORIZATION)?.to_str().unwrap_or("");
    // A header in another scheme is a bad token, not a missing one.
    Some(value.strip_prefix("Bearer ").unwrap_or("").to_owned())
}

fn failure_reply(failure: Failure) -> Reply {
    match failure {
        Failure::RateLimited { retry_after_secs } => Reply {
            status: StatusCode::TOO_MANY_REQUESTS,
            body: json!({"ok": false, "error": "ratelimited"}),
            retry_after_secs: Some(retry_after_secs),
            answer_after: None,
        },
        Failure::Slack {
            code,
            messages,
            needed_scope,
        } => {
            let mut body = json!({"ok": false, "error": code});
            if let Some(fields) = body.as_object_mut() {
                if !messages.is_empty() {
                    fields.insert("response_metadata".into(), json!({ "messages": messages }));
                }
                if let Some(needed) = needed_scope {
                    fields.insert("needed".into(), needed.into());
                    fields.insert("provided".into(), "chat:write,users:read".into());
                }
            }
            Reply::json(body)
        }
    }
}

fn add_warning(body: &mut Value, warning: &str) {
    let Some(fields) = body.as_object_mut() else {
        return;
    };
    fields.insert("warning".into(), warning.into());
    let metadata = fields
        .entry("response_metadata")
        .or_insert_with(|| json!({}));
    if let Some(metadata) = metadata.as_object_mut() {
        metadata.insert("warnings".into(), json!([warning]));
    }
}
