use super::dto::{AuditView, JobView};
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Path, Query};
use crate::WebState;
use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use sesame_app::{AuditFilter, JobPayload, JobStatus};
use sesame_core::{RequestNumber, Timestamp};

/// The most audit events one page may hold.
const MAX_AUDIT_PAGE: u32 = 5000;
/// The most outbox jobs one answer may hold.
const MAX_OUTBOX_PAGE: u32 = 1000;

/// A page size: the default when absent, else 1 to `max` (a value outside is refused, not
/// quietly changed, so the caller learns what the API takes).
fn page_size(given: Option<u32>, default: u32, max: u32) -> Result<u32, ApiError> {
    match given {
        None => Ok(default),
        Some(n) if (1..=max).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::bad_request(format!("limit must be 1 to {max}"))),
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    request: Option<i64>,
    actor: Option<String>,
    kind: Option<String>,
    /// Milliseconds since the epoch.
    since: Option<i64>,
    until: Option<i64>,
    /// Only events with an id above this (for the next page).
    after: Option<i64>,
    /// At most this many (1 to 5000, default 500).
    #[param(minimum = 1, maximum = 5000)]
    limit: Option<u32>,
}

/// The audit log (administrators and auditors), oldest first.
#[utoipa::path(get, path = "/api/v1/audit", params(AuditQuery), responses((status = 200, body = Vec<AuditView>), (status = 403, body = ErrorBody)))]
pub async fn audit(
    State(state): State<WebState>,
    Caller(who): Caller,
    Query(q): Query<AuditQuery>,
) -> Result<Json<Vec<AuditView>>, ApiError> {
    let filter = AuditFilter {
        request: q.request.map(RequestNumber),
        actor: q.actor,
        kind: q.kind,
        since: q.since.map(Timestamp),
        until: q.until.map(Timestamp),
        after_id: q.after,
        limit: page_size(q.limit, 500, MAX_AUDIT_PAGE)?,
    };
    let records = state.app.audit(&who, &filter).await?;
    Ok(Json(records.iter().map(AuditView::from).collect()))
}

/// Which outbox jobs to list.
#[derive(Deserialize, utoipa::ToSchema, Clone, Copy, Default)]
#[serde(rename_all = "snake_case")]
pub enum OutboxStatus {
    /// Still to be done (or retried).
    Pending,
    /// Given up after retries.
    #[default]
    Dead,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct OutboxQuery {
    /// pending or dead (default).
    #[param(inline)]
    status: Option<OutboxStatus>,
    /// At most this many (1 to 1000, default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
}

/// Messages and timers in the outbox (administrators): dead ones are those given up after retries.
#[utoipa::path(get, path = "/api/v1/admin/outbox", params(OutboxQuery), responses((status = 200, body = Vec<JobView>), (status = 403, body = ErrorBody)))]
pub async fn outbox(
    State(state): State<WebState>,
    Caller(who): Caller,
    Query(q): Query<OutboxQuery>,
) -> Result<Json<Vec<JobView>>, ApiError> {
    if !who.admin {
        return Err(sesame_app::AppError::Forbidden(String::from(
            "only administrators may read the outbox",
        ))
        .into());
    }
    let status = match q.status.unwrap_or_default() {
        OutboxStatus::Dead => JobStatus::Dead,
        OutboxStatus::Pending => JobStatus::Pending,
    };
    let limit = page_size(q.limit, 100, MAX_OUTBOX_PAGE)?;
    let jobs = state.app.outbox(status, limit).await?;
    Ok(Json(
        jobs.iter()
            .map(|j| JobView {
                id: j.id.0,
                request: j.request.map(|r| r.0),
                payload: match &j.payload {
                    JobPayload::Notice(n) => serde_json::to_value(n).unwrap_or_default(),
                    JobPayload::NoticeTo { notifier, notice } => {
                        serde_json::json!({ "notifier": notifier, "notice": notice })
                    }
                    JobPayload::Timer(t) => serde_json::to_value(t).unwrap_or_default(),
                    JobPayload::Provision(p) => serde_json::to_value(p).unwrap_or_default(),
                    JobPayload::Chat(c) => serde_json::to_value(c).unwrap_or_default(),
                },
                run_at: j.run_at.to_rfc3339(),
                attempts: j.attempts,
                status: match j.status {
                    JobStatus::Pending => "pending",
                    JobStatus::Dead => "dead",
                }
                .to_owned(),
                last_error: j.last_error.clone(),
            })
            .collect(),
    ))
}

/// Retry a dead message (administrators).
#[utoipa::path(post, path = "/api/v1/admin/outbox/{id}/retry", params(("id" = i64, Path)), responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn retry(
    State(state): State<WebState>,
    Caller(who): Caller,
    Path(id): Path<i64>,
) -> Result<axum::http::StatusCode, ApiError> {
    if state.app.requeue_job(&who, id).await? {
        Ok(axum::http::StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format!("there is no dead job {id}")))
    }
}
