//! Callbacks from target systems that accepted work and finish it later (a webhook receiver that
//! answered `202 accepted`). No bearer token: the body is signed with the connector's shared
//! secret, like the webhooks Sesame sends (`X-Sesame-Timestamp`, `X-Sesame-Signature: v0=<hex>`
//! of `v0:{timestamp}:{body}`), and refused unless the signature matches and the timestamp is
//! within five minutes.

use crate::error::{ApiError, ErrorBody};
use crate::extract::Path;
use crate::WebState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde::{Deserialize, Serialize};
use sesame_app::CallbackOutcome;
use sesame_core::RequestNumber;
use utoipa::ToSchema;

/// The most text of a target system's error kept on the request.
const MAX_ERROR_CHARS: usize = 2000;

/// What a target system reports about work it accepted.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CallbackBody {
    /// The request the work was for.
    pub request: i64,
    /// The `reference` the target system answered the grant with.
    pub reference: String,
    /// `done` or `failed`.
    #[schema(schema_with = super::schema::callback_status)]
    pub status: String,
    /// With `failed`: what went wrong, in the target system's words.
    pub error: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CallbackAnswer {
    /// False when the request no longer waited for this work (settled before, or timed out).
    pub recorded: bool,
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// A target system reports the outcome of work it accepted (signed with the connector's secret;
/// no bearer token).
#[utoipa::path(post, path = "/api/v1/connectors/{name}/callback", params(("name" = String, Path)),
    request_body = CallbackBody, security(()),
    responses((status = 200, body = CallbackAnswer), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn callback(
    State(state): State<WebState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<CallbackAnswer>), ApiError> {
    let connectors = state.app.connectors();
    let secret = connectors
        .callback_secret(&name)
        .ok_or_else(|| ApiError::not_found(format!("no connector `{name}` takes callbacks")))?;
    let unsigned = |why: String| ApiError::new(StatusCode::UNAUTHORIZED, "bad_signature", why);
    let timestamp = header(&headers, "x-sesame-timestamp")
        .ok_or_else(|| unsigned(String::from("X-Sesame-Timestamp is missing")))?;
    let signature = header(&headers, "x-sesame-signature")
        .ok_or_else(|| unsigned(String::from("X-Sesame-Signature is missing")))?;
    let now = state.app.now().millis() / 1000;
    sesame_connectors::verify_callback(secret, timestamp, signature, &body, now)
        .map_err(|e| unsigned(e.to_string()))?;
    if crate::extract::has_nul_escape(&body) {
        return Err(crate::extract::nul_refused("the body"));
    }
    let report: CallbackBody = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("the body is not a callback: {e}")))?;
    let reference = report.reference.trim();
    if reference.is_empty() || reference.len() > 500 {
        return Err(ApiError::bad_request(
            "reference must be 1 to 500 characters",
        ));
    }
    let outcome = match (report.status.as_str(), report.error) {
        ("done", _) => CallbackOutcome::Done,
        ("failed", error) => {
            let error = error
                .map(|e| e.trim().chars().take(MAX_ERROR_CHARS).collect::<String>())
                .filter(|e| !e.is_empty())
                .unwrap_or_else(|| String::from("the target system reported a failure"));
            CallbackOutcome::Failed(error)
        }
        (other, _) => {
            return Err(ApiError::bad_request(format!(
                "status {other:?} is not one of done, failed"
            )))
        }
    };
    let recorded = state
        .app
        .connector_callback(&name, RequestNumber(report.request), reference, outcome)
        .await?;
    Ok((StatusCode::OK, Json(CallbackAnswer { recorded })))
}
