//! The web portal: server-rendered pages for people (the catalog, the request form, their requests,
//! what waits on them) and for administrators and auditors (flows, audit log, undelivered messages,
//! the directory, chat identities). Sign-in is OpenID Connect (or, for trying Sesame out, a
//! clearly labelled demo sign-in). Every page is rendered from templates that escape by default,
//! every form carries the session's CSRF token, and every page is sent with a strict
//! Content-Security-Policy; no page needs JavaScript.
//!
//! Handlers call the same `App` use cases as the REST API, so the portal applies the same
//! permission and validation rules.

mod admin;
mod audit;
mod catalog;
mod form;
mod headers;
mod id_token;
mod link;
mod listing;
pub mod oidc;
mod render;
mod requests;
mod session;
mod signin;
mod views;
mod waiting;

use crate::WebState;
use axum::routing::{get, post};
use axum::Router;

pub use oidc::{OidcClient, OidcSettings, TokenEndpointAuth};

/// How the portal is set up; the binary builds it from `[portal]` and `[oidc]`.
pub struct PortalSettings {
    /// Where people reach Sesame (`[server] public_url`); cookies are `Secure` when it is https.
    pub public_url: String,
    /// How long a sign-in lasts.
    pub session_lifetime_seconds: i64,
    /// Offers "sign in as ..." for every active person, for trying Sesame out. Never together
    /// with OpenID Connect.
    pub demo: bool,
    pub oidc: Option<OidcClient>,
}

/// The configuration cannot work.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct PortalSettingsError(pub String);

/// The portal's settings and templates, shared by every handler.
pub struct Portal {
    settings: PortalSettings,
    secure_cookies: bool,
}

impl Portal {
    pub fn new(settings: PortalSettings) -> Result<Portal, PortalSettingsError> {
        if settings.demo && settings.oidc.is_some() {
            return Err(PortalSettingsError(String::from(
                "[portal] demo = true cannot be used together with [oidc]: the demo sign-in lets \
                 anyone act as anyone. Remove demo, or remove [oidc]",
            )));
        }
        if settings.session_lifetime_seconds < 60 {
            return Err(PortalSettingsError(String::from(
                "[portal] session_hours must give a session of at least a minute",
            )));
        }
        // Compiled once here, so that a broken template stops the start instead of a page.
        render::check_templates()
            .map_err(|e| PortalSettingsError(format!("the portal's templates do not load: {e}")))?;
        Ok(Portal {
            secure_cookies: settings.public_url.starts_with("https://"),
            settings,
        })
    }

    /// A portal with no way to sign in: pages explain that sign-in is not configured.
    pub fn without_sign_in(public_url: &str) -> Result<Portal, PortalSettingsError> {
        Portal::new(PortalSettings {
            public_url: public_url.to_owned(),
            session_lifetime_seconds: 8 * 3600,
            demo: false,
            oidc: None,
        })
    }

    pub fn demo(&self) -> bool {
        self.settings.demo
    }

    pub fn oidc(&self) -> Option<&OidcClient> {
        self.settings.oidc.as_ref()
    }

    /// Whether anyone can sign in at all (single sign-on, or the demo sign-in), so that chat
    /// adapters only send people to pages they can use.
    pub fn can_sign_in(&self) -> bool {
        self.demo() || self.oidc().is_some()
    }
}

/// Every portal route, with the security headers applied to each answer.
pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/", get(catalog::home))
        .route("/catalog", get(catalog::catalog))
        .route(
            "/flows/{id}/request",
            get(catalog::request_form).post(catalog::submit),
        )
        .route("/requests", get(requests::list))
        .route("/requests/{number}", get(requests::show))
        .route("/requests/{number}/comments", post(requests::comment))
        .route("/requests/{number}/{action}", post(requests::act))
        .route("/waiting", get(waiting::list))
        .route("/admin", get(admin::index))
        .route("/admin/flows", get(admin::flows))
        .route("/admin/audit", get(admin::audit))
        .route("/admin/audit.csv", get(admin::audit_csv))
        .route("/admin/audit.json", get(admin::audit_json))
        .route("/admin/outbox", get(admin::outbox))
        .route("/admin/outbox/{id}/retry", post(admin::retry))
        .route("/admin/directory", get(admin::directory))
        .route("/admin/identities", get(admin::identities))
        .route("/link/{token}", get(link::page_route).post(link::confirm))
        .route("/login", get(signin::login))
        .route("/login/demo", post(signin::demo_login))
        .route("/auth/callback", get(signin::callback))
        .route("/logout", post(signin::logout))
        .route("/static/portal.css", get(render::stylesheet))
        .layer(axum::middleware::from_fn(headers::security_headers))
}
