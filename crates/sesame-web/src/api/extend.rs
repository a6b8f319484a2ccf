//! Extending active access through the API: a new request of the same flow, through its approvals.

use super::dto::{ExtendBody, RequestView};
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Json as Body, Path};
use crate::WebState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use sesame_core::RequestNumber;

/// Ask to extend active access (the requester, or an administrator). Files an extension request
/// of the same flow, linked to this one (`extends`), through the flow's approvals; once approved,
/// this request's end moves. Answers with the extension request.
#[utoipa::path(post, path = "/api/v1/requests/{number}/extend", params(("number" = i64, Path)), request_body = ExtendBody,
    responses((status = 201, body = RequestView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn extend(
    State(state): State<WebState>,
    Caller(who): Caller,
    Path(number): Path<i64>,
    body: Option<Body<ExtendBody>>,
) -> Result<(StatusCode, Json<RequestView>), ApiError> {
    let body = body.map(|b| b.0).unwrap_or_default();
    let extension = state
        .app
        .extend(&who, RequestNumber(number), body.duration, body.reason)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(RequestView::new(&extension, &who.user, &state.public_url)),
    ))
}
