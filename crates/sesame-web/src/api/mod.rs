//! The REST API under `/api/v1`. Handlers are thin: parse, call one use case, shape the answer.

mod admin;
mod catalog;
mod connectors;
mod directory;
pub mod dto;
mod extend;
mod requests;
mod schema;

use crate::WebState;
use axum::routing::{get, post, put};
use axum::Router;
use schema::CommonResponses;
use utoipa::OpenApi;

pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/me", get(catalog::me))
        .route("/api/v1/catalog", get(catalog::catalog))
        .route("/api/v1/flows/{id}", get(catalog::flow))
        .route(
            "/api/v1/requests",
            post(requests::create).get(requests::list),
        )
        .route("/api/v1/requests/{number}", get(requests::get))
        .route("/api/v1/requests/{number}/approve", post(requests::approve))
        .route("/api/v1/requests/{number}/deny", post(requests::deny))
        .route("/api/v1/requests/{number}/cancel", post(requests::cancel))
        .route(
            "/api/v1/requests/{number}/complete",
            post(requests::complete),
        )
        .route("/api/v1/requests/{number}/fail", post(requests::fail))
        .route("/api/v1/requests/{number}/revoke", post(requests::revoke))
        .route("/api/v1/requests/{number}/extend", post(extend::extend))
        .route(
            "/api/v1/connectors/{name}/callback",
            post(connectors::callback),
        )
        .route(
            "/api/v1/requests/{number}/comments",
            get(requests::comments).post(requests::add_comment),
        )
        .route("/api/v1/requests/{number}/audit", get(requests::audit))
        .route("/api/v1/audit", get(admin::audit))
        .route("/api/v1/admin/outbox", get(admin::outbox))
        .route("/api/v1/admin/outbox/{id}/retry", post(admin::retry))
        .route("/api/v1/directory/users", get(directory::users))
        .route("/api/v1/directory/users/{id}", put(directory::put_user))
        .route("/api/v1/directory/groups", get(directory::groups))
        .route("/api/v1/directory/groups/{id}", put(directory::put_group))
        .layer(axum::middleware::from_fn(crate::extract::refuse_nul_in_uri))
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Sesame API", description = "Request, approve and audit access.", license(name = "Apache-2.0")),
    paths(
        catalog::me, catalog::catalog, catalog::flow,
        requests::create, requests::list, requests::get, requests::approve, requests::deny, requests::cancel,
        requests::complete, requests::fail, requests::revoke, requests::comments, requests::add_comment, requests::audit,
        extend::extend, connectors::callback,
        admin::audit, admin::outbox, admin::retry,
        directory::users, directory::put_user, directory::groups, directory::put_group,
    ),
    modifiers(&BearerAuth, &CommonResponses),
    security(("bearer" = []))
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A token from `sesame token create`"))
                    .build(),
            ),
        );
    }
}

pub fn openapi_json() -> String {
    ApiDoc::openapi().to_pretty_json().unwrap_or_default()
}

async fn openapi() -> impl axum::response::IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        openapi_json(),
    )
}
