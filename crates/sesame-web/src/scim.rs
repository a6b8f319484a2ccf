//! SCIM 2.0 (RFC 7643/7644) under `/scim/v2`: identity providers (Okta, Entra ID) create, change,
//! deactivate and delete people and groups. Authenticated with the `[scim] token` bearer token; with
//! no token configured every SCIM path answers 404. Routes, authentication and the shared response
//! helpers here; `users.rs` and `groups.rs` are the resources' handlers, `json.rs` maps them to
//! SCIM's JSON and back, `search.rs` lists and queries them, `discovery.rs` serves the discovery
//! documents; use cases in `sesame_app::scim`; `filter.rs` parses filters, `patch.rs` applies
//! PATCH, `error.rs` speaks SCIM's error format. See docs/scim.md.

mod discovery;
mod error;
mod filter;
mod groups;
mod json;
mod patch;
mod search;
mod users;

use crate::WebState;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use discovery::{resource_type, resource_types, schema, schemas, service_provider_config};
use error::{ScimError, CONTENT_TYPE};
use groups::{
    create_group, delete_group, get_group, list_groups, patch_group, replace_group, search_groups,
};
use search::search_all;
use secrecy::ExposeSecret;
use serde_json::Value;
use sesame_app::scim::ScimCaller;
use sesame_app::AppError;
use users::{
    create_user, delete_user, get_user, list_users, patch_user, replace_user, search_users,
};

pub fn routes() -> Router<WebState> {
    Router::new()
        .route(
            "/scim/v2/ServiceProviderConfig",
            get(service_provider_config),
        )
        .route("/scim/v2/ResourceTypes", get(resource_types))
        .route("/scim/v2/ResourceTypes/{name}", get(resource_type))
        .route("/scim/v2/Schemas", get(schemas))
        .route("/scim/v2/Schemas/{id}", get(schema))
        .route("/scim/v2/.search", post(search_all))
        .route("/scim/v2/Users", get(list_users).post(create_user))
        .route("/scim/v2/Users/.search", post(search_users))
        .route(
            "/scim/v2/Users/{id}",
            get(get_user)
                .put(replace_user)
                .patch(patch_user)
                .delete(delete_user),
        )
        .route("/scim/v2/Groups", get(list_groups).post(create_group))
        .route("/scim/v2/Groups/.search", post(search_groups))
        .route(
            "/scim/v2/Groups/{id}",
            get(get_group)
                .put(replace_group)
                .patch(patch_group)
                .delete(delete_group),
        )
        .route("/scim/v2/{*rest}", axum::routing::any(unknown))
}

/// The identity provider, authenticated by the configured token (compared in constant time).
struct Provisioner;

impl FromRequestParts<WebState> for Provisioner {
    type Rejection = ScimError;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Self, ScimError> {
        let Some(expected) = state.scim_token.as_ref() else {
            return Err(ScimError::not_found(
                "SCIM provisioning is not configured (set [scim] token)",
            ));
        };
        let unauthenticated = || ScimError::from(AppError::Unauthenticated);
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(unauthenticated)?;
        let (scheme, token) = header.split_once(' ').ok_or_else(unauthenticated)?;
        if !scheme.eq_ignore_ascii_case("bearer")
            || !constant_time_eq(token.trim().as_bytes(), expected.expose_secret().as_bytes())
        {
            return Err(unauthenticated());
        }
        Ok(Provisioner)
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for i in 0..a.len().max(b.len()) {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= usize::from(x ^ y);
    }
    diff == 0
}

const WHO: ScimCaller = ScimCaller::Provisioner;

async fn unknown(_: Provisioner) -> ScimError {
    ScimError::not_found("there is no such SCIM endpoint")
}

fn scim_response(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    response
}

/// A resource with its ETag and, when created, its location.
fn resource_response(status: StatusCode, body: &Value) -> Response {
    let mut response = scim_response(status, body);
    if let Some(v) = body["meta"]["version"]
        .as_str()
        .and_then(|v| HeaderValue::from_str(v).ok())
    {
        response.headers_mut().insert(header::ETAG, v);
    }
    if status == StatusCode::CREATED {
        if let Some(v) = body["meta"]["location"]
            .as_str()
            .and_then(|v| HeaderValue::from_str(v).ok())
        {
            response.headers_mut().insert(header::LOCATION, v);
        }
    }
    response
}
/// `If-Match` on a change: the caller's copy must be the current one.
fn check_if_match(headers: &HeaderMap, current: &Value) -> Result<(), ScimError> {
    let Some(wanted) = headers.get(header::IF_MATCH).and_then(|v| v.to_str().ok()) else {
        return Ok(());
    };
    let now = current["meta"]["version"].as_str().unwrap_or_default();
    if wanted.trim() == "*" || wanted.split(',').any(|w| w.trim() == now) {
        Ok(())
    } else {
        Err(ScimError::new(
            StatusCode::PRECONDITION_FAILED,
            None,
            "the resource changed since it was read (If-Match)",
        ))
    }
}

fn base(state: &WebState) -> String {
    format!("{}/scim/v2", state.public_url.trim_end_matches('/'))
}
fn parse_body(body: Result<Bytes, BytesRejection>) -> Result<Value, ScimError> {
    let bytes = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ScimError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                None,
                format!("the body is larger than {} bytes", crate::MAX_BODY_BYTES),
            )
        } else {
            ScimError::bad("invalidSyntax", e.body_text())
        }
    })?;
    serde_json::from_slice(&bytes)
        .map_err(|e| ScimError::bad("invalidSyntax", format!("the body is not valid JSON: {e}")))
}

/// Reads a PATCH body (RFC 7644 §3.5.2).
fn parse_patch(body: Result<Bytes, BytesRejection>) -> Result<patch::PatchRequest, ScimError> {
    serde_json::from_value(parse_body(body)?)
        .map_err(|e| ScimError::bad("invalidSyntax", format!("not a PATCH request: {e}")))
}

/// Carries a SCIM error out of a change the app runs under its lock (a failed `If-Match`, a bad
/// PATCH), so that it is answered as it was rather than as the app's error.
#[derive(Default)]
struct Refusal(Option<ScimError>);

impl Refusal {
    /// The change as the app takes it: a SCIM error is kept here and the app is told to stop.
    fn guard<'a, C, T>(
        &'a mut self,
        change: impl FnOnce(&C) -> Result<T, ScimError> + 'a,
    ) -> impl FnOnce(&C) -> Result<T, AppError> + 'a {
        move |current| {
            change(current).map_err(|e| {
                self.0 = Some(e);
                AppError::Invalid(String::new())
            })
        }
    }

    /// What to answer with when the change failed: the kept SCIM error, else the app's.
    fn or(mut self, e: AppError) -> ScimError {
        self.0.take().unwrap_or_else(|| e.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_whole() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret2"));
        assert!(!constant_time_eq(b"", b"x"));
    }
}
