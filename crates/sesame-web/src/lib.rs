//! HTTP: the REST API under `/api/v1`, its OpenAPI document, and the operational endpoints. The only
//! crate that knows status codes; every error becomes a response in `error.rs`.
#![forbid(unsafe_code)]

mod api;
mod auth;
mod error;
mod extract;
mod ops;
pub mod portal;
mod scim;
pub mod slack;
pub mod teams;

pub use error::ApiError;
pub use ops::HttpMetrics;

use axum::Router;
use sesame_app::App;
use std::sync::Arc;

/// The largest request body any endpoint accepts. Requests are small; anything bigger is a mistake or
/// an attack.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

#[derive(Clone)]
pub struct WebState {
    pub app: App,
    pub http: Arc<HttpMetrics>,
    /// The portal's base URL, for links to requests.
    pub public_url: String,
    /// Slack's inbound handlers, when Slack is configured.
    pub slack: Option<std::sync::Arc<slack::SlackInbound>>,
    /// Teams' inbound handlers, when Teams is configured.
    pub teams: Option<Arc<teams::TeamsInbound>>,
    /// The bearer token identity providers use for `/scim/v2`; SCIM is off without one.
    pub scim_token: Option<Arc<secrecy::SecretString>>,
    /// The web portal's sign-in settings and templates.
    pub portal: Arc<portal::Portal>,
}

/// The whole HTTP surface.
pub fn router(state: WebState) -> Router {
    Router::new()
        .merge(api::routes())
        .merge(ops::routes())
        .merge(slack::routes())
        .merge(teams::routes())
        .merge(scim::routes())
        .merge(portal::routes())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            ops::observe,
        ))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

/// The OpenAPI document, for `sesame` to print and for tests.
pub fn openapi_json() -> String {
    api::openapi_json()
}
