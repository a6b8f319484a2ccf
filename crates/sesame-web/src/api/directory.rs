use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Json as Body, Path};
use crate::WebState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use sesame_core::directory::ChatIdentities;
use sesame_core::{Group, GroupId, User, UserId};
use std::collections::BTreeSet;
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserBody {
    pub email: String,
    pub display_name: String,
    pub manager: Option<String>,
    #[serde(default)]
    pub groups: Vec<String>,
    /// Chat accounts: `{"slack": "U012AB3CD", "teams": "<object id>"}`.
    #[serde(default, deserialize_with = "object_only")]
    #[schema(value_type = ChatAccounts)]
    pub chat: ChatIdentities,
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

/// A person's chat accounts as the JSON shows them.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // Describes the JSON for the OpenAPI document; never built.
pub struct ChatAccounts {
    /// The Slack user id, such as `U012AB3CD`.
    slack: Option<String>,
    /// The Microsoft Entra object id Teams knows the person by.
    teams: Option<String>,
}

/// Chat accounts from a JSON object only: serde would also read a struct from a list
/// (`[null, null]`), which no caller means.
fn object_only<'de, D: serde::Deserializer<'de>>(d: D) -> Result<ChatIdentities, D::Error> {
    let map = serde_json::Map::<String, serde_json::Value>::deserialize(d)?;
    ChatIdentities::deserialize(serde_json::Value::Object(map)).map_err(serde::de::Error::custom)
}

/// A person as the directory holds them: the id, and the fields a `PUT` sets. Spelled out rather
/// than flattened from `UserBody`, whose schema admits no other fields.
#[derive(Serialize, ToSchema)]
pub struct UserView {
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub manager: Option<String>,
    pub groups: Vec<String>,
    /// Chat accounts: `{"slack": "U012AB3CD", "teams": "<object id>"}`.
    #[schema(value_type = ChatAccounts)]
    pub chat: ChatIdentities,
    pub active: bool,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupBody {
    pub name: String,
    #[serde(default)]
    pub description: String,
}

#[derive(Serialize, ToSchema)]
pub struct GroupView {
    pub id: String,
    pub name: String,
    pub description: String,
    pub members: Vec<String>,
}

fn bad(e: sesame_core::ids::IdError) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", e.to_string())
}

fn require_directory_reader(who: &sesame_app::Principal) -> Result<(), ApiError> {
    if who.admin || who.auditor {
        Ok(())
    } else {
        Err(sesame_app::AppError::Forbidden(String::from(
            "only administrators and auditors may list the directory",
        ))
        .into())
    }
}

/// Everyone in the directory (administrators and auditors).
#[utoipa::path(get, path = "/api/v1/directory/users", responses((status = 200, body = Vec<UserView>), (status = 403, body = ErrorBody)))]
pub async fn users(
    State(state): State<WebState>,
    Caller(who): Caller,
) -> Result<Json<Vec<UserView>>, ApiError> {
    require_directory_reader(&who)?;
    let directory = state.app.directory();
    Ok(Json(
        directory
            .users()
            .map(|u| UserView {
                id: u.id.to_string(),
                email: u.email.clone(),
                display_name: u.display_name.clone(),
                manager: u.manager.as_ref().map(ToString::to_string),
                groups: u.groups.iter().map(ToString::to_string).collect(),
                chat: u.chat.clone(),
                active: u.active,
            })
            .collect(),
    ))
}

/// Create or replace a person (administrators).
#[utoipa::path(put, path = "/api/v1/directory/users/{id}", params(("id" = String, Path)), request_body = UserBody,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_user(
    State(state): State<WebState>,
    Caller(who): Caller,
    Path(id): Path<String>,
    Body(body): Body<UserBody>,
) -> Result<StatusCode, ApiError> {
    let user = User {
        id: UserId::new(id).map_err(bad)?,
        email: body.email.trim().to_owned(),
        display_name: body.display_name.trim().to_owned(),
        manager: body.manager.map(UserId::new).transpose().map_err(bad)?,
        groups: body
            .groups
            .into_iter()
            .map(GroupId::new)
            .collect::<Result<BTreeSet<_>, _>>()
            .map_err(bad)?,
        chat: body.chat,
        active: body.active,
    };
    state.app.upsert_user(&who, user).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Every group with its active members (administrators and auditors).
#[utoipa::path(get, path = "/api/v1/directory/groups", responses((status = 200, body = Vec<GroupView>), (status = 403, body = ErrorBody)))]
pub async fn groups(
    State(state): State<WebState>,
    Caller(who): Caller,
) -> Result<Json<Vec<GroupView>>, ApiError> {
    require_directory_reader(&who)?;
    let directory = state.app.directory();
    Ok(Json(
        directory
            .groups()
            .map(|g| GroupView {
                id: g.id.to_string(),
                name: g.name.clone(),
                description: g.description.clone(),
                members: directory
                    .members(&g.id)
                    .iter()
                    .map(ToString::to_string)
                    .collect(),
            })
            .collect(),
    ))
}

/// Create or replace a group (administrators).
#[utoipa::path(put, path = "/api/v1/directory/groups/{id}", params(("id" = String, Path)), request_body = GroupBody,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_group(
    State(state): State<WebState>,
    Caller(who): Caller,
    Path(id): Path<String>,
    Body(body): Body<GroupBody>,
) -> Result<StatusCode, ApiError> {
    let group = Group {
        id: GroupId::new(id).map_err(bad)?,
        name: body.name.trim().to_owned(),
        description: body.description.trim().to_owned(),
    };
    state.app.upsert_group(&who, group).await?;
    Ok(StatusCode::NO_CONTENT)
}
