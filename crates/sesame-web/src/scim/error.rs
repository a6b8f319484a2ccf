//! SCIM's errors as responses: `sesame_scim`'s error body with its status, the SCIM media type and,
//! for a 401, `WWW-Authenticate`; the app's errors mapped onto SCIM's; bodies read with their
//! rejections answered in SCIM's format.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use sesame_app::AppError;
use sesame_scim::{Error, ScimType, CONTENT_TYPE};

#[derive(Debug)]
pub struct ScimError(pub Error);

impl ScimError {
    fn new(status: StatusCode, scim_type: Option<ScimType>, detail: impl Into<String>) -> Self {
        ScimError(Error::new(status.as_u16(), scim_type, detail))
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        ScimError(Error::not_found(detail))
    }
}

impl From<Error> for ScimError {
    fn from(e: Error) -> Self {
        ScimError(e)
    }
}

impl From<AppError> for ScimError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::NotFound(m) => Self::not_found(m),
            AppError::Conflict(m) => ScimError(Error::uniqueness(m)),
            AppError::KeyReused(_) => ScimError(Error::uniqueness(e.to_string())),
            AppError::Invalid(m) => ScimError(Error::bad(ScimType::InvalidValue, m)),
            AppError::Domain(d) => ScimError(Error::bad(ScimType::InvalidValue, d.to_string())),
            AppError::Forbidden(m) => Self::new(StatusCode::FORBIDDEN, None, m),
            AppError::Unauthenticated => Self::new(
                StatusCode::UNAUTHORIZED,
                None,
                "a valid SCIM bearer token is required",
            ),
            AppError::Storage(cause) => {
                tracing::error!(error = %cause, "storage failure");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    None,
                    "the service could not complete the request; try again",
                )
            }
        }
    }
}

impl IntoResponse for ScimError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.0.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, self.0.body().to_string()).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// Reads a request body as JSON; a body over the size limit is a 413.
pub fn parse_body(body: Result<Bytes, BytesRejection>) -> Result<Value, ScimError> {
    let bytes = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ScimError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                None,
                format!("the body is larger than {} bytes", crate::MAX_BODY_BYTES),
            )
        } else {
            ScimError(Error::bad(ScimType::InvalidSyntax, e.body_text()))
        }
    })?;
    Ok(sesame_scim::parse_json(&bytes)?)
}

/// Carries a SCIM error out of a change the app runs under its lock (a failed `If-Match`, a bad
/// PATCH), so that it is answered as it was rather than as the app's error.
#[derive(Default)]
pub struct Refusal(Option<ScimError>);

impl Refusal {
    /// The change as the app takes it: a SCIM error is kept here and the app is told to stop.
    pub fn guard<'a, C, T>(
        &'a mut self,
        change: impl FnOnce(&C) -> Result<T, ScimError> + Send + 'a,
    ) -> impl FnOnce(&C) -> Result<T, AppError> + Send + 'a {
        move |current| {
            change(current).map_err(|e| {
                self.0 = Some(e);
                AppError::Invalid(String::new())
            })
        }
    }

    /// What to answer with when the change failed: the kept SCIM error, else the app's.
    pub fn or(mut self, e: AppError) -> ScimError {
        self.0.take().unwrap_or_else(|| e.into())
    }
}
