use super::dto::*;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Json as Body, Path, Query};
use crate::WebState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde::Deserialize;
use sesame_app::{AppError, RequestScope};
use sesame_core::engine::Command;
use sesame_core::{RawSubmission, Request, RequestNumber};

fn view(state: &WebState, who: &sesame_app::Principal, r: &Request) -> Json<RequestView> {
    Json(RequestView::new(r, &who.user, &state.public_url))
}

/// The headers a new request may carry.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)] // Describes the headers for the OpenAPI document; read from the header map.
pub struct CreateHeaders {
    /// Makes retries safe: 1 to 200 visible ASCII characters, no spaces.
    #[param(
        rename = "Idempotency-Key",
        min_length = 1,
        max_length = 200,
        pattern = "^[!-~]+$"
    )]
    idempotency_key: Option<String>,
}

/// The most characters an `Idempotency-Key` may have.
const MAX_KEY: usize = 200;

/// File a request. Send an `Idempotency-Key` header to make retries safe: the same key with the
/// same body returns the request the first call created (201 again); the same key with a different
/// body is refused with 422 `idempotency_key_reused`.
#[utoipa::path(post, path = "/api/v1/requests", request_body = CreateRequest, params(CreateHeaders),
    responses((status = 201, body = RequestView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<WebState>,
    Caller(who): Caller,
    headers: HeaderMap,
    Body(body): Body<CreateRequest>,
) -> Result<(StatusCode, Json<RequestView>), ApiError> {
    let given = match headers.get("idempotency-key") {
        None => None,
        Some(v) => Some(
            v.to_str()
                .ok()
                .filter(|k| {
                    !k.is_empty() && k.len() <= MAX_KEY && k.bytes().all(|b| b.is_ascii_graphic())
                })
                .ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "Idempotency-Key must be 1 to {MAX_KEY} visible ASCII characters, without spaces"
                    ))
                })?,
        ),
    };
    // Keys are scoped to the caller so one person's key can never return another's request.
    let key = given.map(|k| format!("api:{}:{k}", who.user));
    let answers = RawSubmission {
        answers: body.answers,
        justification: body.justification,
        duration: body.duration,
    };
    let request = state
        .app
        .submit(
            &who,
            &body.flow,
            body.on_behalf_of.as_deref(),
            answers,
            key.as_deref(),
        )
        .await
        .map_err(|e| match e {
            AppError::KeyReused(first) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                format!(
                    "Idempotency-Key {:?} was already used for request {first} with a different body; \
                     nothing new was filed. Send a new key to file a new request",
                    given.unwrap_or_default()
                ),
            ),
            other => other.into(),
        })?;
    Ok((StatusCode::CREATED, view(&state, &who, &request)))
}

/// Which requests a list holds.
#[derive(Deserialize, utoipa::ToSchema, Clone, Copy, Default)]
#[serde(rename_all = "snake_case")]
pub enum ListScope {
    /// The caller's own requests, and those filed for them.
    #[default]
    Mine,
    /// Those waiting on the caller to approve or fulfil.
    Waiting,
    /// Everything the caller may see.
    All,
}

/// The most requests one page may hold.
const MAX_PAGE: u32 = 500;

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// mine (default), waiting (on me to approve or fulfil) or all (everything I may see).
    #[param(inline)]
    scope: Option<ListScope>,
    /// Comma-separated states to include (`state=approved,active`).
    #[param(schema_with = super::schema::request_states)]
    state: Option<String>,
    /// Only requests numbered below this (for the next page).
    before: Option<i64>,
    /// At most this many (1 to 500, default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
}

/// List requests, newest first.
#[utoipa::path(get, path = "/api/v1/requests", params(ListQuery), responses((status = 200, body = RequestList), (status = 400, body = ErrorBody)))]
pub async fn list(
    State(state): State<WebState>,
    Caller(who): Caller,
    Query(q): Query<ListQuery>,
) -> Result<Json<RequestList>, ApiError> {
    let scope = match q.scope.unwrap_or_default() {
        ListScope::Mine => RequestScope::Mine,
        ListScope::Waiting => RequestScope::WaitingOnMe,
        ListScope::All => RequestScope::All,
    };
    // Absent means every state; present, it names at least one, and no item is empty
    // (`state=` or `state=a,,b` is a mistake, not "no filter").
    let states: Vec<String> = q
        .state
        .as_deref()
        .map(|list| list.split(',').map(|s| s.trim().to_owned()).collect())
        .unwrap_or_default();
    if let Some(bad) = states
        .iter()
        .find(|s| !sesame_core::State::NAMES.contains(&s.as_str()))
    {
        return Err(ApiError::bad_request(format!(
            "state {bad:?} is not one of {}",
            sesame_core::State::NAMES.join(", ")
        )));
    }
    let limit = q.limit.unwrap_or(50);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "limit must be 1 to {MAX_PAGE}"
        )));
    }
    let requests = state
        .app
        .list_requests(&who, scope, states, q.before.map(RequestNumber), limit)
        .await?;
    let next_before = if requests.len() as u32 == limit {
        requests.last().map(|r| r.number.0)
    } else {
        None
    };
    Ok(Json(RequestList {
        requests: requests
            .iter()
            .map(|r| RequestView::new(r, &who.user, &state.public_url))
            .collect(),
        next_before,
    }))
}

/// One request, if the caller may see it (otherwise 404, so numbers cannot be probed).
#[utoipa::path(get, path = "/api/v1/requests/{number}", params(("number" = i64, Path)), responses((status = 200, body = RequestView), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<WebState>,
    Caller(who): Caller,
    Path(number): Path<i64>,
) -> Result<Json<RequestView>, ApiError> {
    let request = state.app.request_for(&who, RequestNumber(number)).await?;
    Ok(view(&state, &who, &request))
}

async fn act(
    state: &WebState,
    who: &sesame_app::Principal,
    number: i64,
    command: Command,
) -> Result<Json<RequestView>, ApiError> {
    let request = state.app.act(who, RequestNumber(number), command).await?;
    Ok(view(state, who, &request))
}

/// Approve the step waiting on the caller.
#[utoipa::path(post, path = "/api/v1/requests/{number}/approve", params(("number" = i64, Path)), request_body = ApproveBody,
    responses((status = 200, body = RequestView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn approve(
    State(state): State<WebState>,
    Caller(who): Caller,
    Path(number): Path<i64>,
    body: Option<Body<ApproveBody>>,
) -> Result<Json<RequestView>, ApiError> {
    let body = body.map(|b| b.0).unwrap_or_default();
    act(
        &state,
        &who,
        number,
        Command::Approve {
            step: body.step,
            comment: body.comment,
        },
    )
    .await
}

/// Deny the request, with a reason.
#[utoipa::path(post, path = "/api/v1/requests/{number}/deny", params(("number" = i64, Path)), request_body = DenyBody,
    responses((status = 200, body = RequestView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn deny(
    State(state): State<WebState>,
    Caller(who): Caller,
    Path(number): Path<i64>,
    Body(body): Body<DenyBody>,
) -> Result<Json<RequestView>, ApiError> {
    act(
        &state,
        &who,
        number,
        Command::Deny {
            step: body.step,
            reason: body.reason,
        },
    )
    .await
}

/// Cancel a request that is still waiting for approval (the requester, or an administrator).
#[utoipa::path(post, path = "/api/v1/requests/{number}/cancel", params(("number" = i64, Path)), request_body = ReasonBody,
    responses((status = 200, body = RequestView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn cancel(
    State(state): State<WebState>,
    Caller(who): Caller,
    Path(number): Path<i64>,
    body: Option<Body<ReasonBody>>,
) -> Result<Json<RequestView>, ApiError> {
    let body = body.map(|b| b.0).unwrap_or_default();
    act(
        &state,
        &who,
        number,
        Command::Cancel {
            reason: body.reason,
        },
    )
    .await
}

/// Mark a manual fulfilment task done.
#[utoipa::path(post, path = "/api/v1/requests/{number}/complete", params(("number" = i64, Path)), request_body = NoteBody,
    responses((status = 200, body = RequestView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn complete(
    State(state): State<WebState>,
    Caller(who): Caller,
    Path(number): Path<i64>,
    body: Option<Body<NoteBody>>,
) -> Result<Json<RequestView>, ApiError> {
    let body = body.map(|b| b.0).unwrap_or_default();
    act(
        &state,
        &who,
        number,
        Command::CompleteFulfilment { note: body.note },
    )
    .await
}

/// Report that a manual fulfilment task cannot be done.
#[utoipa::path(post, path = "/api/v1/requests/{number}/fail", params(("number" = i64, Path)), request_body = RequiredReasonBody,
    responses((status = 200, body = RequestView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn fail(
    State(state): State<WebState>,
    Caller(who): Caller,
    Path(number): Path<i64>,
    Body(body): Body<RequiredReasonBody>,
) -> Result<Json<RequestView>, ApiError> {
    act(
        &state,
        &who,
        number,
        Command::FailFulfilment {
            reason: body.reason,
        },
    )
    .await
}

/// End granted access now (the requester relinquishing it, or an administrator).
#[utoipa::path(post, path = "/api/v1/requests/{number}/revoke", params(("number" = i64, Path)), request_body = ReasonBody,
    responses((status = 200, body = RequestView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn revoke(
    State(state): State<WebState>,
    Caller(who): Caller,
    Path(number): Path<i64>,
    body: Option<Body<ReasonBody>>,
) -> Result<Json<RequestView>, ApiError> {
    let body = body.map(|b| b.0).unwrap_or_default();
    act(
        &state,
        &who,
        number,
        Command::Revoke {
            reason: body.reason,
        },
    )
    .await
}

/// The request's comments, oldest first.
#[utoipa::path(get, path = "/api/v1/requests/{number}/comments", params(("number" = i64, Path)), responses((status = 200, body = Vec<CommentView>), (status = 404, body = ErrorBody)))]
pub async fn comments(
    State(state): State<WebState>,
    Caller(who): Caller,
    Path(number): Path<i64>,
) -> Result<Json<Vec<CommentView>>, ApiError> {
    let comments = state.app.comments(&who, RequestNumber(number)).await?;
    Ok(Json(comments.iter().map(CommentView::from).collect()))
}

/// Comment on a request (anyone taking part in it, or an administrator).
#[utoipa::path(post, path = "/api/v1/requests/{number}/comments", params(("number" = i64, Path)), request_body = CommentBody,
    responses((status = 201, body = CommentView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn add_comment(
    State(state): State<WebState>,
    Caller(who): Caller,
    Path(number): Path<i64>,
    Body(body): Body<CommentBody>,
) -> Result<(StatusCode, Json<CommentView>), ApiError> {
    let comment = state
        .app
        .comment(&who, RequestNumber(number), &body.text, "api")
        .await?;
    Ok((StatusCode::CREATED, Json(CommentView::from(&comment))))
}

/// The request's audit trail, oldest first.
#[utoipa::path(get, path = "/api/v1/requests/{number}/audit", params(("number" = i64, Path)), responses((status = 200, body = Vec<AuditView>), (status = 404, body = ErrorBody)))]
pub async fn audit(
    State(state): State<WebState>,
    Caller(who): Caller,
    Path(number): Path<i64>,
) -> Result<Json<Vec<AuditView>>, ApiError> {
    let records = state.app.request_audit(&who, RequestNumber(number)).await?;
    Ok(Json(records.iter().map(AuditView::from).collect()))
}
