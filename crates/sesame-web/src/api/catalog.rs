use super::dto::{FlowSummary, FlowView, MeView};
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::extract::Path;
use crate::WebState;
use axum::extract::State;
use axum::Json;

/// Who the token belongs to.
#[utoipa::path(get, path = "/api/v1/me", responses((status = 200, body = MeView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn me(
    State(state): State<WebState>,
    Caller(who): Caller,
) -> Result<Json<MeView>, ApiError> {
    let directory = state.app.directory();
    let user = directory
        .user(&who.user)
        .ok_or_else(|| ApiError::not_found("you are not in the directory"))?;
    Ok(Json(MeView {
        user: user.id.to_string(),
        display_name: user.display_name.clone(),
        email: user.email.clone(),
        admin: who.admin,
        auditor: who.auditor,
    }))
}

/// The flows the caller may request.
#[utoipa::path(get, path = "/api/v1/catalog", responses((status = 200, body = Vec<FlowSummary>), (status = 401, body = ErrorBody)))]
pub async fn catalog(State(state): State<WebState>, Caller(who): Caller) -> Json<Vec<FlowSummary>> {
    Json(
        state
            .app
            .requestable_flows(&who)
            .iter()
            .map(FlowSummary::from)
            .collect(),
    )
}

/// One flow with its questions, if the caller may request it.
#[utoipa::path(get, path = "/api/v1/flows/{id}", params(("id" = String, Path)), responses((status = 200, body = FlowView), (status = 404, body = ErrorBody)))]
pub async fn flow(
    State(state): State<WebState>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<Json<FlowView>, ApiError> {
    let flows = state.app.requestable_flows(&who);
    let flow = flows.iter().find(|f| f.id.as_str() == id).ok_or_else(|| {
        ApiError::not_found(format!("there is no flow `{id}` that you may request"))
    })?;
    Ok(Json(FlowView::from(flow)))
}
