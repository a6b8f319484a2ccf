//! HTTP: the REST API under `/api/v1`, its OpenAPI document, the operational endpoints, SCIM and the
//! web portal; every error of these becomes a response in `error.rs`. The chat platforms' routes
//! live in their adapter crates and are mounted beside these by the binary.
#![forbid(unsafe_code)]

mod api;
mod auth;
mod error;
mod extract;
mod ops;
pub mod portal;
mod scim;

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
    /// The bearer token identity providers use for `/scim/v2`; SCIM is off without one.
    pub scim_token: Option<Arc<secrecy::SecretString>>,
    /// The bearer token `/metrics` requires; open without one.
    pub metrics_token: Option<Arc<secrecy::SecretString>>,
    /// The web portal's sign-in settings and templates.
    pub portal: Arc<portal::Portal>,
}

/// The whole HTTP surface: the API, operations, SCIM and the portal, with `platforms` (each chat
/// adapter's own routes, mounted by the binary) beside them under the same metrics and limits.
pub fn router(state: WebState, platforms: Router) -> Router {
    Router::new()
        .merge(api::routes())
        .merge(ops::routes())
        .merge(scim::routes())
        .merge(portal::routes())
        .with_state(state.clone())
        .merge(platforms)
        .layer(axum::middleware::from_fn_with_state(state, ops::observe))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
}

/// The OpenAPI document, for `sesame` to print and for tests.
pub fn openapi_json() -> String {
    api::openapi_json()
}
