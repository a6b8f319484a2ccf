//! Who is looking at a page: the session cookie (a random id; the session itself is a row in the
//! database), the CSRF token each form must carry, and the form bodies themselves.

use super::render;
use crate::WebState;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use sesame_app::Principal;
use subtle::ConstantTimeEq;

pub const SESSION_COOKIE: &str = "sesame_session";
/// Binds an OpenID Connect sign-in to the browser that began it (holds the `state`).
pub const LOGIN_COOKIE: &str = "sesame_login";
/// The CSRF token of the demo sign-in form, before there is a session (double-submit cookie).
pub const PRESESSION_COOKIE: &str = "sesame_presession";
/// The form field that carries the CSRF token.
pub const CSRF_FIELD: &str = "csrf";

/// A signed-in person.
#[derive(Clone)]
pub struct Visitor {
    pub principal: Principal,
    pub csrf: String,
    pub session_id: String,
}

impl Visitor {
    /// The refusal for a form whose CSRF token is missing or not this session's (checked before
    /// anything changes); `None` when the token is right.
    pub fn refuse_without_csrf(&self, form: &PortalForm) -> Option<Response> {
        if tokens_match(form.get(CSRF_FIELD).unwrap_or_default(), &self.csrf) {
            None
        } else {
            Some(csrf_refusal())
        }
    }
}

/// Compares secrets in time that does not depend on where they differ.
pub fn tokens_match(given: &str, expected: &str) -> bool {
    !expected.is_empty() && bool::from(given.as_bytes().ct_eq(expected.as_bytes()))
}

pub fn csrf_refusal() -> Response {
    render::message_page(
        StatusCode::FORBIDDEN,
        "This form cannot be accepted",
        "The form did not carry this session's security token, so nothing was changed. Go back, \
         reload the page and try again.",
    )
}

/// The value of cookie `name`, if the request has it.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim())
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, path `/`, Secure when the portal is served over
/// https; `max_age` 0 removes the cookie.
pub fn set_cookie(name: &str, value: &str, max_age: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let text = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}");
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("invalid=; Max-Age=0"))
}

/// The signed-in person, or `None`.
pub struct MaybeVisitor(pub Option<Visitor>);

impl FromRequestParts<WebState> for MaybeVisitor {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &WebState,
    ) -> Result<Self, Self::Rejection> {
        let Some(id) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Ok(MaybeVisitor(None));
        };
        match state.app.portal_session(id).await {
            Ok(visitor) => Ok(MaybeVisitor(visitor.map(|v| Visitor {
                principal: v.principal,
                csrf: v.csrf_token,
                session_id: id.to_owned(),
            }))),
            Err(e) => Err(render::app_error_page(e, None)),
        }
    }
}

impl FromRequestParts<WebState> for Visitor {
    type Rejection = Response;

    /// Pages ask an anonymous visitor to sign in and come back; forms are refused outright (a form
    /// posted without a session cannot be trusted, and nothing changes).
    async fn from_request_parts(
        parts: &mut Parts,
        state: &WebState,
    ) -> Result<Self, Self::Rejection> {
        let MaybeVisitor(visitor) = MaybeVisitor::from_request_parts(parts, state).await?;
        match visitor {
            Some(v) => Ok(v),
            None if parts.method == Method::GET => {
                let here = parts
                    .uri
                    .path_and_query()
                    .map(|p| p.as_str())
                    .unwrap_or("/");
                let next: String = form_urlencoded::byte_serialize(here.as_bytes()).collect();
                Err(Redirect::to(&format!("/login?next={next}")).into_response())
            }
            None => Err(render::message_page(
                StatusCode::FORBIDDEN,
                "Please sign in again",
                "Your session has ended, so nothing was changed. Sign in and try again.",
            )),
        }
    }
}

/// An `application/x-www-form-urlencoded` body as its pairs, in order (a multi-select sends one
/// pair per choice).
pub struct PortalForm {
    pairs: Vec<(String, String)>,
}

impl PortalForm {
    pub fn from_bytes(body: &[u8]) -> PortalForm {
        PortalForm {
            pairs: form_urlencoded::parse(body).into_owned().collect(),
        }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The field's value trimmed, `None` when missing or blank.
    pub fn text(&self, name: &str) -> Option<String> {
        self.get(name)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    }

    pub fn all(&self, name: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

impl<S: Send + Sync> FromRequest<S> for PortalForm {
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_form = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if !is_form {
            return Err(render::message_page(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "This is not a form",
                "Sesame's pages send forms as application/x-www-form-urlencoded.",
            ));
        }
        let body = axum::body::Bytes::from_request(request, state)
            .await
            .map_err(|_| {
                render::message_page(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "The form is too large",
                    "Shorten what you wrote and try again.",
                )
            })?;
        Ok(PortalForm::from_bytes(&body))
    }
}

/// A path inside the portal to go to after signing in; anything else (another site, a scheme,
/// `//host`) becomes the home page, so sign-in cannot be used to send people elsewhere.
pub fn safe_return_path(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.contains('\\')
                && !path.chars().any(char::is_control)
                && path.len() <= 1000 =>
        {
            path.to_owned()
        }
        _ => String::from("/"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_returned_to() {
        assert_eq!(safe_return_path(Some("/requests/7")), "/requests/7");
        for bad in [
            "https://evil.example/",
            "//evil.example",
            "/\\evil",
            "evil",
            "/a\nb",
        ] {
            assert_eq!(safe_return_path(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(safe_return_path(None), "/");
    }

    #[test]
    fn cookies_are_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; sesame_session=xyz; b=2"),
        );
        assert_eq!(cookie(&headers, SESSION_COOKIE), Some("xyz"));
        assert_eq!(cookie(&headers, "c"), None);
    }

    #[test]
    fn tokens_compare_exactly() {
        assert!(tokens_match("abc", "abc"));
        assert!(!tokens_match("abd", "abc"));
        assert!(!tokens_match("", ""));
        assert!(!tokens_match("ab", "abc"));
    }
}
