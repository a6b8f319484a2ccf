//! Bearer-token authentication for the API.

use crate::error::ApiError;
use crate::WebState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use sesame_app::{AppError, Principal};

/// The authenticated caller. Every API route except the OpenAPI document takes one.
pub struct Caller(pub Principal);

impl FromRequestParts<WebState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &WebState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or(AppError::Unauthenticated)?;
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .ok_or(AppError::Unauthenticated)?
            .trim();
        let principal = state.app.authenticate(token).await?;
        Ok(Caller(principal))
    }
}
