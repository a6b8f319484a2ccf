//! `/Users`: the people the identity provider provisions.

use super::error::ScimError;
use super::filter::{AttrPath, ENTERPRISE};
use super::json::{user_fields, user_json};
use super::search::{list_query, list_response, search_query, single};
use super::{
    check_if_match, parse_body, parse_patch, patch, resource_response, Provisioner, Refusal, WHO,
};
use crate::WebState;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use sesame_app::scim::{ScimUser, ScimUserFields};

const USER_ATTRIBUTES: &[&str] = &[
    "userName",
    "name",
    "displayName",
    "nickName",
    "profileUrl",
    "title",
    "userType",
    "preferredLanguage",
    "locale",
    "timezone",
    "active",
    "password",
    "emails",
    "phoneNumbers",
    "ims",
    "photos",
    "addresses",
    "groups",
    "entitlements",
    "roles",
    "x509Certificates",
    "externalId",
    "id",
    "meta",
    "schemas",
];
const ENTERPRISE_ATTRIBUTES: &[&str] = &[
    "employeeNumber",
    "costCenter",
    "organization",
    "division",
    "department",
    "manager",
];

fn known_user_attribute(path: &AttrPath) -> bool {
    match &path.urn {
        None => {
            USER_ATTRIBUTES
                .iter()
                .any(|a| a.eq_ignore_ascii_case(&path.attr))
                || (path.attr.eq_ignore_ascii_case(ENTERPRISE) && path.sub.is_none())
        }
        Some(urn) if urn.eq_ignore_ascii_case(ENTERPRISE) => {
            path.attr.is_empty()
                || ENTERPRISE_ATTRIBUTES
                    .iter()
                    .any(|a| a.eq_ignore_ascii_case(&path.attr))
        }
        Some(_) => false,
    }
}

/// Every user the provider may see, as SCIM's JSON.
pub(super) async fn all_users(state: &WebState) -> Result<Vec<Value>, ScimError> {
    let users = state.app.scim_users(&WHO).await?;
    Ok(users.iter().map(|u| user_json(u, state)).collect())
}

pub(super) async fn list_users(
    _: Provisioner,
    State(state): State<WebState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ScimError> {
    let q = list_query(raw)?;
    Ok(list_response(all_users(&state).await?, &q))
}

pub(super) async fn search_users(
    _: Provisioner,
    State(state): State<WebState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ScimError> {
    let q = search_query(body)?;
    Ok(list_response(all_users(&state).await?, &q))
}

pub(super) async fn get_user(
    _: Provisioner,
    State(state): State<WebState>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ScimError> {
    let user = state.app.scim_user(&WHO, &id).await?;
    single(user_json(&user, &state), raw, &headers)
}

pub(super) async fn create_user(
    _: Provisioner,
    State(state): State<WebState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ScimError> {
    let fields = user_fields(&parse_body(body)?)?;
    let user = state.app.scim_create_user(&WHO, fields).await?;
    Ok(resource_response(
        StatusCode::CREATED,
        &user_json(&user, &state),
    ))
}

pub(super) async fn replace_user(
    _: Provisioner,
    State(state): State<WebState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ScimError> {
    let body = parse_body(body)?;
    let fields = user_fields(&body)?;
    update(&state, &id, |current| {
        check_if_match(&headers, &user_json(current, &state))?;
        Ok(fields)
    })
    .await
}

pub(super) async fn patch_user(
    _: Provisioner,
    State(state): State<WebState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ScimError> {
    let request = parse_patch(body)?;
    update(&state, &id, |current| {
        let mut resource = user_json(current, &state);
        check_if_match(&headers, &resource)?;
        patch::apply(&mut resource, request, &known_user_attribute)?;
        user_fields(&resource)
    })
    .await
}

/// Changes a user under the app's provisioning lock: `change` checks `If-Match` on the current user
/// and turns it into the new fields (a PUT's body, or a PATCH applied).
async fn update(
    state: &WebState,
    id: &str,
    change: impl FnOnce(&ScimUser) -> Result<ScimUserFields, ScimError>,
) -> Result<Response, ScimError> {
    let mut refusal = Refusal::default();
    let user = state
        .app
        .scim_update_user(&WHO, id, refusal.guard(change))
        .await
        .map_err(|e| refusal.or(e))?;
    Ok(resource_response(StatusCode::OK, &user_json(&user, state)))
}

pub(super) async fn delete_user(
    _: Provisioner,
    State(state): State<WebState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ScimError> {
    if headers.contains_key(header::IF_MATCH) {
        let current = state.app.scim_user(&WHO, &id).await?;
        check_if_match(&headers, &user_json(&current, &state))?;
    }
    state.app.scim_delete_user(&WHO, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
