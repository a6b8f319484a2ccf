//! The fake's HTTP side. Every call goes through the same gate Okta's management API has: the
//! `SSWS` token (401 `E0000011` otherwise), the org's rate limit (the `X-Rate-Limit-*` headers on
//! every answer, 429 `E0000047` past the limit), then any injected failure, then the resource.

use super::state::{FakeGroup, FakeState, FakeUser, RecordedCall, Shared};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::SystemTime;

pub(super) fn router(shared: Arc<Shared>) -> Router {
    Router::new().fallback(move |method: Method, uri: Uri, headers: HeaderMap| {
        let shared = shared.clone();
        async move { answer(&shared, &method, &uri, &headers) }
    })
}

/// An answer before the rate limit headers are added.
struct Answer {
    status: StatusCode,
    body: Option<Value>,
    links: Vec<String>,
}

impl Answer {
    fn json(status: StatusCode, body: Value) -> Answer {
        Answer {
            status,
            body: Some(body),
            links: Vec::new(),
        }
    }

    fn no_content() -> Answer {
        Answer {
            status: StatusCode::NO_CONTENT,
            body: None,
            links: Vec::new(),
        }
    }

    /// Okta's error object.
    fn error(state: &mut FakeState, status: StatusCode, code: &str, summary: &str) -> Answer {
        let error_id = state.new_id("oae");
        Answer::json(
            status,
            json!({
                "errorCode": code,
                "errorSummary": summary,
                "errorLink": code,
                "errorId": error_id,
                "errorCauses": [],
            }),
        )
    }

    fn not_found(state: &mut FakeState, id: &str, kind: &str) -> Answer {
        let summary = format!("Not found: Resource not found: {id} ({kind})");
        Answer::error(state, StatusCode::NOT_FOUND, "E0000007", &summary)
    }
}

fn answer(shared: &Shared, method: &Method, uri: &Uri, headers: &HeaderMap) -> Response {
    let mut state = shared.lock();
    let authorized = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("SSWS "))
        .is_some_and(|token| token == state.token);
    let (remaining, reset, allowed) = state.rate.take(SystemTime::now());
    let answer = if !authorized {
        Answer::error(
            &mut state,
            StatusCode::UNAUTHORIZED,
            "E0000011",
            "Invalid token provided",
        )
    } else if !allowed {
        Answer::error(
            &mut state,
            StatusCode::TOO_MANY_REQUESTS,
            "E0000047",
            "API call exceeded rate limit due to too many requests.",
        )
    } else if let Some(status) = state.injected.pop_front() {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        Answer::error(&mut state, status, "E0000009", "Internal Server Error")
    } else {
        resource(&mut state, method, uri)
    };
    state.calls.push(RecordedCall {
        method: method.to_string(),
        uri: uri.to_string(),
        status: answer.status.as_u16(),
    });
    let limit = state.rate.limit;
    drop(state);

    let mut response = match answer.body {
        Some(body) => (answer.status, axum::Json(body)).into_response(),
        None => answer.status.into_response(),
    };
    let out = response.headers_mut();
    for (name, value) in [
        ("x-rate-limit-limit", limit),
        ("x-rate-limit-remaining", remaining),
        ("x-rate-limit-reset", reset),
    ] {
        out.insert(name, HeaderValue::from(value));
    }
    for link in answer.links {
        if let Ok(value) = HeaderValue::from_str(&link) {
            out.append("link", value);
        }
    }
    response
}

/// The resource a call names, by path.
fn resource(state: &mut FakeState, method: &Method, uri: &Uri) -> Answer {
    let segments: Vec<String> = uri
        .path()
        .trim_matches('/')
        .split('/')
        .map(percent_decode)
        .collect();
    let query = query_pairs(uri.query().unwrap_or_default());
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    match (method.as_str(), segments.as_slice()) {
        ("GET", ["api", "v1", "users"]) => search_users(state, &query),
        ("GET", ["api", "v1", "users", user]) => match state.user(user).cloned() {
            Some(user) => Answer::json(StatusCode::OK, user_json(&user)),
            None => Answer::not_found(state, user, "User"),
        },
        ("GET", ["api", "v1", "users", user, "groups"]) => {
            let Some(user) = state.user(user).cloned() else {
                return Answer::not_found(state, user, "User");
            };
            let groups: Vec<(String, Value)> = state
                .groups
                .values()
                .filter(|g| {
                    state
                        .members
                        .get(&g.id)
                        .is_some_and(|m| m.contains(&user.id))
                })
                .map(|g| (g.id.clone(), group_json(g)))
                .collect();
            page(state, uri, &query, groups)
        }
        ("GET", ["api", "v1", "groups"]) => search_groups(state, &query),
        ("GET", ["api", "v1", "groups", group]) => match state.groups.get(*group).cloned() {
            Some(group) => Answer::json(StatusCode::OK, group_json(&group)),
            None => Answer::not_found(state, group, "UserGroup"),
        },
        ("GET", ["api", "v1", "groups", group, "users"]) => {
            let Some(members) = state.members.get(*group).cloned() else {
                return Answer::not_found(state, group, "UserGroup");
            };
            let users: Vec<(String, Value)> = members
                .iter()
                .filter_map(|id| state.users.get(id))
                .map(|u| (u.id.clone(), user_json(u)))
                .collect();
            page(state, uri, &query, users)
        }
        ("PUT" | "DELETE", ["api", "v1", "groups", group, "users", user]) => {
            if !state.groups.contains_key(*group) {
                return Answer::not_found(state, group, "UserGroup");
            }
            // The path takes the user's id only, not a login.
            if !state.users.contains_key(*user) {
                return Answer::not_found(state, user, "User");
            }
            let members = state.members.entry((*group).to_owned()).or_default();
            if method == Method::PUT {
                members.insert((*user).to_owned());
            } else {
                members.remove(*user);
            }
            Answer::no_content()
        }
        _ => {
            let path = uri.path().to_owned();
            Answer::not_found(state, &path, "Resource")
        }
    }
}

/// One page of `items` (sorted by id) after the `after` cursor, with `self` and `next` links.
fn page(
    state: &mut FakeState,
    uri: &Uri,
    query: &[(String, String)],
    mut items: Vec<(String, Value)>,
) -> Answer {
    let get = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let limit = match get("limit").map(|l| l.parse::<usize>()) {
        None => state.page_size,
        Some(Ok(limit)) if limit > 0 => limit.min(state.page_size),
        Some(_) => {
            return Answer::error(
                state,
                StatusCode::BAD_REQUEST,
                "E0000001",
                "Api validation failed: limit",
            )
        }
    };
    items.sort_by(|a, b| a.0.cmp(&b.0));
    if let Some(after) = get("after") {
        items.retain(|(id, _)| id.as_str() > after.as_str());
    }
    let more = items.len() > limit;
    items.truncate(limit);
    let base = format!("{}{}", state.base_url.trim_end_matches('/'), uri.path());
    let mut links = vec![format!("<{base}?limit={limit}>; rel=\"self\"")];
    if more {
        if let Some((last, _)) = items.last() {
            links.push(format!("<{base}?after={last}&limit={limit}>; rel=\"next\""));
        }
    }
    Answer {
        status: StatusCode::OK,
        body: Some(Value::Array(items.into_iter().map(|(_, v)| v).collect())),
        links,
    }
}

/// `search=profile.<field> eq "<value>"`, the form of Okta's search expressions the connector
/// sends; anything else is refused as Okta refuses a search it cannot parse.
fn search_users(state: &mut FakeState, query: &[(String, String)]) -> Answer {
    let Some(expression) = query.iter().find(|(k, _)| k == "search").map(|(_, v)| v) else {
        let all = state.users.values().map(user_json).collect();
        return Answer::json(StatusCode::OK, Value::Array(all));
    };
    let Some((field, value)) = parse_search(expression) else {
        return Answer::error(
            state,
            StatusCode::BAD_REQUEST,
            "E0000031",
            "Invalid search criteria.",
        );
    };
    let matches = |u: &FakeUser| match field.as_str() {
        "profile.email" => u.email.eq_ignore_ascii_case(&value),
        "profile.login" => u.login.eq_ignore_ascii_case(&value),
        "id" => u.id == value,
        _ => false,
    };
    let found = state
        .users
        .values()
        .filter(|u| matches(u))
        .map(user_json)
        .collect();
    Answer::json(StatusCode::OK, Value::Array(found))
}

fn search_groups(state: &mut FakeState, query: &[(String, String)]) -> Answer {
    let get = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let found: Vec<Value> = if let Some(expression) = get("search") {
        let Some((_, value)) = parse_search(&expression).filter(|(f, _)| f == "profile.name")
        else {
            return Answer::error(
                state,
                StatusCode::BAD_REQUEST,
                "E0000031",
                "Invalid search criteria.",
            );
        };
        state
            .groups
            .values()
            .filter(|g| g.name == value)
            .map(group_json)
            .collect()
    } else if let Some(prefix) = get("q") {
        let prefix = prefix.to_lowercase();
        state
            .groups
            .values()
            .filter(|g| g.name.to_lowercase().starts_with(&prefix))
            .map(group_json)
            .collect()
    } else {
        state.groups.values().map(group_json).collect()
    };
    Answer::json(StatusCode::OK, Value::Array(found))
}

/// `<field> eq "<value>"` with JSON string escapes in the value.
fn parse_search(expression: &str) -> Option<(String, String)> {
    let (field, rest) = expression.trim().split_once(' ')?;
    let quoted = rest.trim().strip_prefix("eq ")?.trim();
    let value: String = serde_json::from_str(quoted).ok()?;
    Some((field.to_owned(), value))
}

fn user_json(user: &FakeUser) -> Value {
    json!({
        "id": user.id,
        "status": "ACTIVE",
        "profile": { "login": user.login, "email": user.email },
    })
}

fn group_json(group: &FakeGroup) -> Value {
    json!({
        "id": group.id,
        "type": "OKTA_GROUP",
        "profile": { "name": group.name, "description": null },
    })
}

fn query_pairs(query: &str) -> Vec<(String, String)> {
    serde_urlencoded::from_str(query).unwrap_or_default()
}

/// Decodes `%XX` escapes (and nothing else: a `+` in a path is a plus sign).
fn percent_decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%' && i + 2 < bytes.len())
            .then(|| std::str::from_utf8(&bytes[i + 1..i + 3]).ok())
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
