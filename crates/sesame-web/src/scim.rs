//! SCIM 2.0 (RFC 7643/7644) under `/scim/v2`: identity providers (Okta, Entra ID) create, change,
//! deactivate and delete people and groups. Authenticated with the `[scim] token` bearer token; with
//! no token configured every SCIM path answers 404.
//!
//! Only the HTTP part lives here: routes and the token check (this file), the discovery documents'
//! handlers, `resource.rs` (one set of handlers for any resource type, `ScimResource`),
//! `users.rs` and `groups.rs` (the two resource types over `sesame_app::scim`'s use cases) and
//! `error.rs` (errors as responses). What requests and answers mean (filters, PATCH, the JSON of
//! users and groups, lists, errors, discovery) is the `sesame_scim` crate. See docs/scim.md.

mod error;
mod groups;
mod resource;
mod users;

use crate::WebState;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use error::ScimError;
use resource::{list, resource_routes, scim_response};
use sesame_app::scim::{ScimCaller, ScimGroup, ScimRecord, ScimUser};
use sesame_app::AppError;
use sesame_scim::{discovery, Record};

pub fn routes() -> Router<WebState> {
    let router = Router::new()
        .route(
            "/scim/v2/ServiceProviderConfig",
            get(service_provider_config),
        )
        .route("/scim/v2/ResourceTypes", get(resource_types))
        .route("/scim/v2/ResourceTypes/{name}", get(resource_type))
        .route("/scim/v2/Schemas", get(schemas))
        .route("/scim/v2/Schemas/{id}", get(schema))
        .route("/scim/v2/.search", post(list::<(ScimUser, ScimGroup)>));
    let router = resource_routes::<ScimUser>(router);
    resource_routes::<ScimGroup>(router)
        .route("/scim/v2/{*rest}", axum::routing::any(unknown))
        .layer(axum::middleware::from_fn(refuse_nul_in_uri))
}

/// U+0000 in the path or the query string is refused before any handler reads them, as in the
/// API (`extract.rs`); bodies are checked by `sesame_scim::parse_json`.
async fn refuse_nul_in_uri(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    match crate::extract::nul_in_uri(request.uri()) {
        Some(place) => {
            axum::response::IntoResponse::into_response(ScimError(sesame_scim::Error::bad(
                sesame_scim::ScimType::InvalidValue,
                format!(
                    "{place} contains the NUL character (U+0000), which Sesame accepts in no value"
                ),
            )))
        }
        None => next.run(request).await,
    }
}

/// The identity provider, authenticated by the configured token (compared in constant time).
struct Provisioner;

impl FromRequestParts<WebState> for Provisioner {
    type Rejection = ScimError;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Self, ScimError> {
        let Some(expected) = state.scim_token.as_ref() else {
            return Err(ScimError::not_found(
                "SCIM provisioning is not configured (set [scim] token)",
            ));
        };
        if !crate::auth::bearer_is(&parts.headers, expected) {
            return Err(ScimError::from(AppError::Unauthenticated));
        }
        Ok(Provisioner)
    }
}

const WHO: ScimCaller = ScimCaller::Provisioner;

async fn unknown(_: Provisioner) -> ScimError {
    ScimError::not_found("there is no such SCIM endpoint")
}

/// The SCIM base URL, for `meta.location`.
fn base(state: &WebState) -> String {
    format!("{}/scim/v2", state.public_url.trim_end_matches('/'))
}

/// What Sesame keeps for SCIM about a directory entry, as the mapping reads it.
fn record(r: &ScimRecord) -> Record<'_> {
    Record {
        external_id: r.external_id.as_deref(),
        created: r.created_at,
        modified: r.updated_at,
        attributes: &r.attributes,
    }
}

async fn service_provider_config(_: Provisioner, State(state): State<WebState>) -> Response {
    let documentation = format!("{}/docs/scim.md", state.public_url.trim_end_matches('/'));
    scim_response(
        StatusCode::OK,
        &discovery::service_provider_config(&base(&state), &documentation),
    )
}

async fn resource_types(_: Provisioner, State(state): State<WebState>) -> Response {
    scim_response(
        StatusCode::OK,
        &sesame_scim::list::list_all(discovery::resource_types(&base(&state))),
    )
}

async fn resource_type(
    _: Provisioner,
    State(state): State<WebState>,
    Path(name): Path<String>,
) -> Result<Response, ScimError> {
    let doc = discovery::resource_type(&base(&state), &name)?;
    Ok(scim_response(StatusCode::OK, &doc))
}

async fn schemas(_: Provisioner, State(state): State<WebState>) -> Response {
    scim_response(
        StatusCode::OK,
        &sesame_scim::list::list_all(discovery::schemas(&base(&state))),
    )
}

async fn schema(
    _: Provisioner,
    State(state): State<WebState>,
    Path(id): Path<String>,
) -> Result<Response, ScimError> {
    let doc = discovery::schema(&base(&state), &id)?;
    Ok(scim_response(StatusCode::OK, &doc))
}
