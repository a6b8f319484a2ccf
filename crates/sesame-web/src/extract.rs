//! Extractors whose rejections speak the API's error format: a malformed body says which field is
//! wrong and why, instead of axum's plain-text default. U+0000 is refused here, in a body, a path
//! or a query string, before anything reaches the store: PostgreSQL cannot store it in text, so
//! letting it through would answer a permanent mistake with "try again".

use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

pub struct Json<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers()) {
            return Err(unsupported_media_type());
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(bytes_rejection)?;
        if has_nul_escape(&bytes) {
            return Err(nul_refused("the body"));
        }
        axum::Json::<T>::from_bytes(&bytes)
            .map(|axum::Json(v)| Json(v))
            .map_err(json_rejection)
    }
}

/// `application/json` or a `+json` type, with any parameters, as axum's own `Json` accepts.
fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

fn unsupported_media_type() -> ApiError {
    ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        "send the body as JSON with `Content-Type: application/json`",
    )
}

fn bytes_rejection(rejection: BytesRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        too_large()
    } else {
        ApiError::new(rejection.status(), "bad_request", rejection.body_text())
    }
}

fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
        format!("the body is larger than {} bytes", crate::MAX_BODY_BYTES),
    )
}

/// The refusal of U+0000 in `place`.
pub fn nul_refused(place: &str) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "nul_character",
        format!(
            "{place} contains the NUL character (U+0000), which Sesame accepts in no text; \
             remove it and send again"
        ),
    )
}

/// Whether a JSON text holds U+0000 in a string. In valid JSON it can only be written as the
/// escape `\u0000` (a raw NUL byte is a syntax error), and every backslash starts an escape, so
/// stepping over escapes two bytes at a time finds it without parsing.
pub fn has_nul_escape(json: &[u8]) -> bool {
    let mut i = 0;
    while i < json.len() {
        if json[i] == b'\\' {
            if json.get(i + 1) == Some(&b'u') && json.get(i + 2..i + 6) == Some(b"0000".as_slice())
            {
                return true;
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    false
}

/// Whether a path or query string decodes to U+0000 (`%00`).
pub fn has_nul_escape_in_uri(text: &str) -> bool {
    let bytes = text.as_bytes();
    let hex = |b: u8| char::from(b).is_ascii_hexdigit();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && bytes.get(i + 1).is_some_and(|b| hex(*b))
            && bytes.get(i + 2).is_some_and(|b| hex(*b))
        {
            if bytes[i + 1] == b'0' && bytes[i + 2] == b'0' {
                return true;
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    false
}

/// Where in a URI U+0000 is, if anywhere: "the path" or "the query string".
pub fn nul_in_uri(uri: &Uri) -> Option<&'static str> {
    if has_nul_escape_in_uri(uri.path()) {
        Some("the path")
    } else if uri.query().is_some_and(has_nul_escape_in_uri) {
        Some("the query string")
    } else {
        None
    }
}

/// Middleware for the API's routes: U+0000 in the path or the query string is refused before any
/// handler reads them.
pub async fn refuse_nul_in_uri(request: Request, next: Next) -> Response {
    match nul_in_uri(request.uri()) {
        Some(place) => nul_refused(place).into_response(),
        None => next.run(request).await,
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::JsonDataError(e) => {
            // serde's message names the field and what was expected ("unknown field `colour`, expected ...").
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_json",
                format!("the JSON body does not fit: {}", e.body_text()),
            )
        }
        JsonRejection::JsonSyntaxError(e) => ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            format!("the body is not valid JSON: {}", e.body_text()),
        ),
        JsonRejection::MissingJsonContentType(_) => unsupported_media_type(),
        JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            too_large()
        }
        other => ApiError::new(other.status(), "bad_request", other.body_text()),
    }
}

pub struct Path<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Path(p.0))
            .map_err(|e: PathRejection| {
                ApiError::bad_request(format!("bad path: {}", e.body_text()))
            })
    }
}

pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Query(q.0))
            .map_err(|e: QueryRejection| {
                ApiError::bad_request(format!("bad query: {}", e.body_text()))
            })
    }
}

/// An optional JSON body: no `Content-Type` means no body (`POST .../approve` with nothing to say);
/// a body that is sent must be valid.
impl<S: Send + Sync, T: DeserializeOwned> axum::extract::OptionalFromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Option<Self>, Self::Rejection> {
        if !req.headers().contains_key(axum::http::header::CONTENT_TYPE) {
            return Ok(None);
        }
        <Json<T> as FromRequest<S>>::from_request(req, state)
            .await
            .map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_is_found_in_json_strings_and_keys_but_not_in_other_escapes() {
        for with_nul in [
            br#"{"a":"x\u0000y"}"#.as_slice(),
            br#"{"\u0000":1}"#,
            br#"["\\\u0000"]"#,
        ] {
            assert!(
                has_nul_escape(with_nul),
                "{}",
                String::from_utf8_lossy(with_nul)
            );
        }
        for without in [
            br#"{"a":"x\\u0000y"}"#.as_slice(),
            br#"{"a":"u0000"}"#,
            br#"{"a":"\u0001\u2060"}"#,
            br#"{"a":"\\"}"#,
        ] {
            assert!(
                !has_nul_escape(without),
                "{}",
                String::from_utf8_lossy(without)
            );
        }
    }

    #[test]
    fn nul_is_found_in_paths_and_query_strings_as_percent_00() {
        assert!(has_nul_escape_in_uri("/api/v1/flows/a%00b"));
        assert!(has_nul_escape_in_uri("actor=%%00"));
        assert!(!has_nul_escape_in_uri("actor=%2500"));
        assert!(!has_nul_escape_in_uri("actor=%0A%20"));
        let uri: Uri = "/api/v1/audit?actor=a%00".parse().unwrap();
        assert_eq!(nul_in_uri(&uri), Some("the query string"));
        let uri: Uri = "/api/v1/flows/%00".parse().unwrap();
        assert_eq!(nul_in_uri(&uri), Some("the path"));
        let uri: Uri = "/api/v1/audit?actor=ada".parse().unwrap();
        assert_eq!(nul_in_uri(&uri), None);
    }
}
