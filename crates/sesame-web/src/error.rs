//! The one place where failures become HTTP responses. Internal errors are logged with their cause
//! and reach the client as an opaque 500.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use sesame_app::AppError;
use sesame_core::{DomainError, FieldError};
use utoipa::ToSchema;

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    fields: Vec<FieldError>,
}

/// Every error response has this body.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// A stable machine-readable code, such as `invalid_submission` or `not_allowed`.
    pub code: String,
    /// A sentence a person can act on.
    pub message: String,
    /// Problems with single fields, for forms.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<FieldProblem>)]
    pub fields: Vec<FieldError>,
}

/// One problem with one field (`sesame_core::FieldError` as the JSON shows it).
#[derive(ToSchema)]
#[allow(dead_code)] // Describes the JSON for the OpenAPI document; never built.
pub struct FieldProblem {
    /// A question id, `justification`, `duration`, `text`, `reason`, ... or empty for the whole.
    field: String,
    message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            fields: Vec::new(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Domain(d) => d.into(),
            AppError::NotFound(m) => Self::new(StatusCode::NOT_FOUND, "not_found", m),
            AppError::Unauthenticated => {
                Self::new(StatusCode::UNAUTHORIZED, "unauthenticated", e.to_string())
            }
            AppError::Forbidden(m) => Self::new(StatusCode::FORBIDDEN, "forbidden", m),
            AppError::Invalid(m) => Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", m),
            AppError::Conflict(m) => Self::new(StatusCode::CONFLICT, "conflict", m),
            AppError::KeyReused(_) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                e.to_string(),
            ),
            AppError::Storage(cause) => {
                tracing::error!(error = %cause, "storage failure");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "the service could not complete the request; try again",
                )
            }
        }
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        let message = e.to_string();
        match e {
            DomainError::InvalidSubmission(fields) => ApiError {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                code: "invalid_submission",
                message,
                fields,
            },
            DomainError::NotAllowed(_) => Self::new(StatusCode::FORBIDDEN, "not_allowed", message),
            DomainError::IllegalTransition(_) => {
                Self::new(StatusCode::CONFLICT, "illegal_transition", message)
            }
            DomainError::AlreadyDone(_) => Self::new(StatusCode::CONFLICT, "already_done", message),
            DomainError::CannotProceed(_) => {
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, "cannot_proceed", message)
            }
            DomainError::Outlived => Self::new(StatusCode::CONFLICT, "outlived", message),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message,
                fields: self.fields,
            },
        };
        let mut response = (self.status, Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}
