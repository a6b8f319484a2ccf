//! Signing in and out: the OpenID Connect redirect and callback, the demo sign-in (only with
//! `[portal] demo = true`, never with OpenID Connect), and signing out.

use super::render::{self, message_page, page};
use super::session::{
    cookie, safe_return_path, set_cookie, tokens_match, MaybeVisitor, PortalForm, Visitor,
    LOGIN_COOKIE, PRESESSION_COOKIE, SESSION_COOKIE,
};
use crate::WebState;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{json, Value};
use sesame_app::sessions::{random_secret, SignInRefusal};
use sesame_core::{Span, UserId};

/// How long a sign-in at the provider may take.
const LOGIN_SECONDS: i64 = 10 * 60;

#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
}

/// `GET /login`: off to the provider, or the demo's list of people, or an explanation.
pub async fn login(
    State(state): State<WebState>,
    MaybeVisitor(visitor): MaybeVisitor,
    Query(q): Query<LoginQuery>,
) -> Response {
    let next = safe_return_path(q.next.as_deref());
    let portal = &state.portal;
    if visitor.is_some() {
        return Redirect::to(&next).into_response();
    }
    if let Some(oidc) = portal.oidc() {
        let secrets = match state
            .app
            .begin_portal_login(&next, Span::from_seconds(LOGIN_SECONDS))
            .await
        {
            Ok(s) => s,
            Err(e) => return render::app_error_page(e, None),
        };
        return match oidc.authorization_url(&secrets).await {
            Ok(url) => {
                let mut response = Redirect::to(&url).into_response();
                response.headers_mut().append(
                    header::SET_COOKIE,
                    set_cookie(
                        LOGIN_COOKIE,
                        &secrets.state,
                        LOGIN_SECONDS,
                        portal.secure_cookies,
                    ),
                );
                response
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot start an OpenID Connect sign-in");
                message_page(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Sign-in is unavailable",
                    "Sesame cannot reach the sign-in provider right now. Try again in a minute.",
                )
            }
        };
    }
    if portal.demo() {
        let token = random_secret();
        let directory = state.app.directory();
        let people: Vec<Value> = directory
            .users()
            .filter(|u| u.active)
            .map(|u| {
                let principal = state.app.principal(&u.id).ok();
                json!({
                    "id": u.id,
                    "name": u.display_name,
                    "email": u.email,
                    "admin": principal.as_ref().is_some_and(|p| p.admin),
                    "auditor": principal.as_ref().is_some_and(|p| p.auditor),
                })
            })
            .collect();
        let mut response = render::page(
            &state.app,
            None,
            StatusCode::OK,
            "login.html",
            json!({ "title": "Sign in (demo)", "people": people, "next": next, "presession": token }),
        );
        response.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(PRESESSION_COOKIE, &token, 600, portal.secure_cookies),
        );
        return response;
    }
    message_page(
        StatusCode::SERVICE_UNAVAILABLE,
        "Sign-in is not configured",
        "This Sesame has no sign-in provider. An administrator sets one up in the [oidc] section \
         of the configuration (see docs/portal.md).",
    )
}

/// `POST /login/demo`: signs in as the chosen person. Only exists in demo mode.
pub async fn demo_login(
    State(state): State<WebState>,
    headers: HeaderMap,
    form: PortalForm,
) -> Response {
    if !state.portal.demo() {
        return message_page(
            StatusCode::NOT_FOUND,
            "Not found",
            "The demo sign-in is switched off.",
        );
    }
    let expected = cookie(&headers, PRESESSION_COOKIE).unwrap_or_default();
    if !tokens_match(form.get("csrf").unwrap_or_default(), expected) {
        return super::session::csrf_refusal();
    }
    let Some(user) = form.get("user").and_then(|u| UserId::new(u).ok()) else {
        return message_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Choose a person",
            "Pick someone to sign in as.",
        );
    };
    let next = safe_return_path(form.get("next"));
    start_session(&state, &user, &next, &[PRESESSION_COOKIE]).await
}

#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// `GET /auth/callback`: the provider sends the browser back here with a code (or an error).
pub async fn callback(
    State(state): State<WebState>,
    headers: HeaderMap,
    Query(q): Query<CallbackQuery>,
) -> Response {
    let Some(oidc) = state.portal.oidc() else {
        return message_page(
            StatusCode::NOT_FOUND,
            "Not found",
            "OpenID Connect sign-in is not configured.",
        );
    };
    let refused = |why: &str| {
        tracing::info!(why, "an OpenID Connect sign-in was refused");
        message_page(
            StatusCode::FORBIDDEN,
            "Sign-in failed",
            &format!("{why} Start again from the sign-in page."),
        )
    };
    if let Some(error) = q.error.as_deref() {
        let description = q.error_description.as_deref().unwrap_or("");
        return refused(&format!(
            "The sign-in provider said: {error} {description}."
        ));
    }
    let (Some(code), Some(returned_state)) = (q.code.as_deref(), q.state.as_deref()) else {
        return refused("The sign-in provider sent no code.");
    };
    // The state must be the one this browser was given: a sign-in begun elsewhere (login CSRF)
    // is refused.
    let browser_state = cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    if !tokens_match(returned_state, browser_state) {
        return refused("This sign-in was not started in this browser.");
    }
    let pending = match state.app.finish_portal_login(returned_state).await {
        Ok(Some(p)) => p,
        Ok(None) => return refused("This sign-in has expired or was already used."),
        Err(e) => return render::app_error_page(e, None),
    };
    let claims = match oidc
        .finish_sign_in(code, &pending.pkce_verifier, &pending.nonce)
        .await
    {
        Ok(c) => c,
        Err(super::oidc::OidcError::Refused(why)) => return refused(&format!("{why}.")),
        Err(e) => {
            tracing::warn!(error = %e, "an OpenID Connect sign-in could not finish");
            return message_page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Sign-in is unavailable",
                "Sesame cannot reach the sign-in provider right now. Try again in a minute.",
            );
        }
    };
    let claim = &oidc.settings().claim;
    if claim == "email" && claims.get("email_verified") == Some(&Value::Bool(false)) {
        return refused("Your email address is not verified with the sign-in provider.");
    }
    let Some(value) = claims.get(claim.as_str()).and_then(Value::as_str) else {
        return refused(&format!(
            "The sign-in provider did not say who you are (no {claim:?} claim)."
        ));
    };
    let principal = match state.app.person_for_sign_in(value) {
        Ok(p) => p,
        Err(SignInRefusal::Unknown(who)) => {
            return message_page(
                StatusCode::FORBIDDEN,
                "Sesame does not know you",
                &format!(
                    "You signed in as {who}, but nobody in Sesame's directory has that {claim}. \
                     Ask an administrator to add you."
                ),
            )
        }
        Err(SignInRefusal::Inactive(id)) => {
            return message_page(
                StatusCode::FORBIDDEN,
                "Your account is deactivated",
                &format!("{id} is deactivated in Sesame's directory, so you cannot sign in."),
            )
        }
    };
    start_session(&state, &principal.user, &pending.return_to, &[LOGIN_COOKIE]).await
}

async fn start_session(state: &WebState, user: &UserId, next: &str, clear: &[&str]) -> Response {
    let portal = &state.portal;
    let lifetime = portal.settings.session_lifetime_seconds;
    match state
        .app
        .start_portal_session(user, Span::from_seconds(lifetime))
        .await
    {
        Ok(session) => {
            let mut response = Redirect::to(next).into_response();
            let headers = response.headers_mut();
            headers.append(
                header::SET_COOKIE,
                set_cookie(SESSION_COOKIE, &session.id, lifetime, portal.secure_cookies),
            );
            for name in clear {
                headers.append(
                    header::SET_COOKIE,
                    set_cookie(name, "", 0, portal.secure_cookies),
                );
            }
            response
        }
        Err(e) => render::app_error_page(e, None),
    }
}

/// `POST /logout`.
pub async fn logout(State(state): State<WebState>, visitor: Visitor, form: PortalForm) -> Response {
    if let Some(refusal) = visitor.refuse_without_csrf(&form) {
        return refusal;
    }
    if let Err(e) = state.app.end_portal_session(&visitor.session_id).await {
        return render::app_error_page(e, None);
    }
    let mut response = page(
        &state.app,
        None,
        StatusCode::OK,
        "signed_out.html",
        json!({ "title": "Signed out", "oidc": state.portal.oidc().is_some() }),
    );
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, "", 0, state.portal.secure_cookies),
    );
    response
}
