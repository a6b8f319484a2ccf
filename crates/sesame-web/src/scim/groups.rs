//! `/Groups`: the groups the identity provider provisions, with their members.

use super::error::ScimError;
use super::filter::AttrPath;
use super::json::{group_fields, group_json};
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
use sesame_app::scim::{ScimGroup, ScimGroupFields};

fn known_group_attribute(path: &AttrPath) -> bool {
    path.urn.is_none()
        && [
            "displayName",
            "members",
            "externalId",
            "id",
            "meta",
            "schemas",
        ]
        .iter()
        .any(|a| a.eq_ignore_ascii_case(&path.attr))
}

/// Every group the provider may see, as SCIM's JSON.
pub(super) async fn all_groups(state: &WebState) -> Result<Vec<Value>, ScimError> {
    let groups = state.app.scim_groups(&WHO).await?;
    Ok(groups.iter().map(|g| group_json(g, state)).collect())
}

pub(super) async fn list_groups(
    _: Provisioner,
    State(state): State<WebState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ScimError> {
    let q = list_query(raw)?;
    Ok(list_response(all_groups(&state).await?, &q))
}

pub(super) async fn search_groups(
    _: Provisioner,
    State(state): State<WebState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ScimError> {
    let q = search_query(body)?;
    Ok(list_response(all_groups(&state).await?, &q))
}

pub(super) async fn get_group(
    _: Provisioner,
    State(state): State<WebState>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ScimError> {
    let group = state.app.scim_group(&WHO, &id).await?;
    single(group_json(&group, &state), raw, &headers)
}

pub(super) async fn create_group(
    _: Provisioner,
    State(state): State<WebState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ScimError> {
    let fields = group_fields(&parse_body(body)?)?;
    let group = state.app.scim_create_group(&WHO, fields).await?;
    Ok(resource_response(
        StatusCode::CREATED,
        &group_json(&group, &state),
    ))
}

pub(super) async fn replace_group(
    _: Provisioner,
    State(state): State<WebState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ScimError> {
    let fields = group_fields(&parse_body(body)?)?;
    update(&state, &id, |current| {
        check_if_match(&headers, &group_json(current, &state))?;
        Ok(fields)
    })
    .await
}

pub(super) async fn patch_group(
    _: Provisioner,
    State(state): State<WebState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ScimError> {
    let request = parse_patch(body)?;
    update(&state, &id, |current| {
        let mut resource = group_json(current, &state);
        check_if_match(&headers, &resource)?;
        patch::apply(&mut resource, request, &known_group_attribute)?;
        group_fields(&resource)
    })
    .await
}

/// Changes a group under the app's provisioning lock: `change` checks `If-Match` on the current group
/// and turns it into the new fields (a PUT's body, or a PATCH applied).
async fn update(
    state: &WebState,
    id: &str,
    change: impl FnOnce(&ScimGroup) -> Result<ScimGroupFields, ScimError>,
) -> Result<Response, ScimError> {
    let mut refusal = Refusal::default();
    let group = state
        .app
        .scim_update_group(&WHO, id, refusal.guard(change))
        .await
        .map_err(|e| refusal.or(e))?;
    Ok(resource_response(
        StatusCode::OK,
        &group_json(&group, state),
    ))
}

pub(super) async fn delete_group(
    _: Provisioner,
    State(state): State<WebState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ScimError> {
    if headers.contains_key(header::IF_MATCH) {
        let current = state.app.scim_group(&WHO, &id).await?;
        check_if_match(&headers, &group_json(&current, &state))?;
    }
    state.app.scim_delete_group(&WHO, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
