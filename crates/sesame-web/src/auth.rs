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

/// Whether the request bears `expected` as its bearer token (scheme case-insensitive, compared in
/// constant time). For the fixed tokens of SCIM and `/metrics`; API tokens go through
/// [`sesame_app::App::authenticate`].
pub(crate) fn bearer_is(headers: &axum::http::HeaderMap, expected: &secrecy::SecretString) -> bool {
    use secrecy::ExposeSecret;
    let Some(header) = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let Some((scheme, token)) = header.split_once(' ') else {
        return false;
    };
    scheme.eq_ignore_ascii_case("bearer")
        && constant_time_eq(token.trim().as_bytes(), expected.expose_secret().as_bytes())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for i in 0..a.len().max(b.len()) {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= usize::from(x ^ y);
    }
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_whole() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret2"));
        assert!(!constant_time_eq(b"", b"x"));
    }

    #[test]
    fn only_the_bearer_scheme_with_the_exact_token_passes() {
        let expected = secrecy::SecretString::from("a-long-metrics-token");
        let with = |value: &str| {
            let mut headers = axum::http::HeaderMap::new();
            headers.insert(axum::http::header::AUTHORIZATION, value.parse().unwrap());
            bearer_is(&headers, &expected)
        };
        assert!(with("Bearer a-long-metrics-token"));
        assert!(with("bearer a-long-metrics-token"));
        assert!(!with("Basic a-long-metrics-token"));
        assert!(!with("Bearer a-long-metrics-toke"));
        assert!(!with("Bearera-long-metrics-token"));
        assert!(!bearer_is(&axum::http::HeaderMap::new(), &expected));
    }
}
