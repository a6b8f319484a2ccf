//! Bot Framework's OpenID metadata and signing keys, and Entra ID's token endpoint, as the fake
//! plays them.

use super::keys;
use super::server::SharedState;
use super::state::RecordedCall;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use std::collections::HashMap;

/// Key ids the fake serves.
pub(super) const PRIMARY_KID: &str = "fake-teams-1";
pub(super) const UNENDORSED_KID: &str = "fake-teams-unendorsed";
pub(super) const ROTATED_KID: &str = "fake-teams-2";
pub(super) const METADATA_PATH: &str = "v1/.well-known/openidconfiguration";
pub(super) const TOKEN_PATH: &str = "botframework.com/oauth2/v2.0/token";
pub(super) async fn metadata(State(shared): SharedState) -> Json<Value> {
    let mut state = shared.lock();
    state.metadata_fetches += 1;
    Json(json!({
        "issuer": sesame_teams::auth::DEFAULT_ISSUER,
        "authorization_endpoint": format!("{}common/oauth2/v2.0/authorize", state.base_url),
        "jwks_uri": format!("{}v1/.well-known/keys", state.base_url),
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
    }))
}

pub(super) async fn key_set(State(shared): SharedState) -> Json<Value> {
    let mut state = shared.lock();
    state.jwks_fetches += 1;
    let mut served = vec![
        keys::jwk(keys::primary(), PRIMARY_KID, &state.endorsements),
        keys::jwk(keys::primary(), UNENDORSED_KID, &[]),
    ];
    if state.rotated {
        served.push(keys::jwk(
            keys::secondary(),
            ROTATED_KID,
            &state.endorsements,
        ));
    }
    Json(json!({ "keys": served }))
}

/// Entra ID's client-credentials grant, as far as Bot Framework bots use it.
pub(super) async fn token(State(shared): SharedState, body: Bytes) -> Response {
    let mut state = shared.lock();
    let form: HashMap<String, String> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or_default();
    let refusal = |status: StatusCode, error: &str, description: &str| {
        (
            status,
            Json(json!({ "error": error, "error_description": description })),
        )
            .into_response()
    };
    let response = if field("grant_type") != "client_credentials" {
        refusal(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "AADSTS70003: The app requested an unsupported grant type.",
        )
    } else if field("client_id") != state.app_id {
        refusal(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            "AADSTS700016: Application not found in the directory.",
        )
    } else if field("client_secret") != state.app_secret {
        refusal(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "AADSTS7000215: Invalid client secret provided.",
        )
    } else if field("scope") != sesame_teams::token::DEFAULT_SCOPE {
        refusal(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            "AADSTS70011: The provided value for the input parameter 'scope' is not valid.",
        )
    } else {
        state.tokens_issued += 1;
        let access_token = format!("fake-bf-token-{}", state.tokens_issued);
        state.issued_tokens.insert(access_token.clone());
        let lifetime = state.token_lifetime_secs;
        Json(json!({
            "token_type": "Bearer",
            "expires_in": lifetime,
            "ext_expires_in": lifetime,
            "access_token": access_token,
        }))
        .into_response()
    };
    state.calls.push(RecordedCall {
        method: "POST".to_owned(),
        path: TOKEN_PATH.to_owned(),
        status: response.status().as_u16(),
        body: json!({ "client_id": field("client_id"), "scope": field("scope") }),
    });
    response
}
