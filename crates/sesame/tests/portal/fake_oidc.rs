//! A small OpenID Connect provider in the test process: discovery, a key set, an authorization
//! endpoint that signs in whoever the test names (no page), and a token endpoint that checks the
//! client's secret, the redirect URI and PKCE (S256) like a real provider, then issues an RS256
//! ID token. Tests can make it put a wrong nonce into the token or sign with a key it does not
//! publish.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{RsaKeyPair, RSA_PKCS1_SHA256};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// An RSA-2048 test key (PKCS#1 DER) that signs nothing outside tests.
const KEY_DER: &[u8] = include_bytes!("../../../sesame-teams/src/testdata/test_key.der");
pub const CLIENT_ID: &str = "sesame-test";
pub const CLIENT_SECRET: &str = "fake-oidc-client-secret";

struct Grant {
    email: String,
    nonce: String,
    challenge: String,
    redirect_uri: String,
}

#[derive(Default)]
struct Behaviour {
    wrong_nonce: bool,
    unpublished_key: bool,
}

struct Inner {
    issuer: String,
    codes: Mutex<HashMap<String, Grant>>,
    behaviour: Mutex<Behaviour>,
    next_code: Mutex<u64>,
}

#[derive(Clone)]
pub struct FakeOidc {
    inner: Arc<Inner>,
}

impl FakeOidc {
    pub async fn start() -> FakeOidc {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://{}", listener.local_addr().unwrap());
        let fake = FakeOidc {
            inner: Arc::new(Inner {
                issuer,
                codes: Mutex::new(HashMap::new()),
                behaviour: Mutex::new(Behaviour::default()),
                next_code: Mutex::new(1),
            }),
        };
        let router = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .with_state(fake.clone());
        tokio::spawn(async move {
            axum::serve(listener, router).await.unwrap();
        });
        fake
    }

    pub fn issuer(&self) -> &str {
        &self.inner.issuer
    }

    /// The `[oidc]` section that points Sesame here.
    pub fn config(&self) -> String {
        format!(
            "[oidc]\nissuer = {:?}\nclient_id = {CLIENT_ID:?}\nclient_secret = {CLIENT_SECRET:?}\n",
            self.issuer()
        )
    }

    pub fn put_wrong_nonce(&self) {
        self.inner.behaviour.lock().unwrap().wrong_nonce = true;
    }

    pub fn sign_with_unpublished_key(&self) {
        self.inner.behaviour.lock().unwrap().unpublished_key = true;
    }
}

fn key() -> RsaKeyPair {
    RsaKeyPair::from_der(KEY_DER).expect("the test key is valid PKCS#1")
}

async fn discovery(State(fake): State<FakeOidc>) -> Json<Value> {
    let issuer = fake.issuer();
    Json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "id_token_signing_alg_values_supported": ["RS256"],
    }))
}

async fn jwks() -> Json<Value> {
    let components = ring::signature::RsaPublicKeyComponents::<Vec<u8>>::from(key().public());
    Json(json!({ "keys": [{
        "kty": "RSA", "use": "sig", "alg": "RS256", "kid": "test-key",
        "n": URL_SAFE_NO_PAD.encode(&components.n),
        "e": URL_SAFE_NO_PAD.encode(&components.e),
    }]}))
}

/// Signs in `login_hint` (the test plays the person) and redirects back with a code.
async fn authorize(
    State(fake): State<FakeOidc>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let field = |name: &str| q.get(name).cloned().unwrap_or_default();
    if field("client_id") != CLIENT_ID
        || field("response_type") != "code"
        || field("code_challenge_method") != "S256"
        || !field("scope").split(' ').any(|s| s == "openid")
    {
        return (StatusCode::BAD_REQUEST, "bad authorization request").into_response();
    }
    let code = {
        let mut next = fake.inner.next_code.lock().unwrap();
        *next += 1;
        format!("code-{next}")
    };
    fake.inner.codes.lock().unwrap().insert(
        code.clone(),
        Grant {
            email: field("login_hint"),
            nonce: field("nonce"),
            challenge: field("code_challenge"),
            redirect_uri: field("redirect_uri"),
        },
    );
    let state: String = form_urlencoded::byte_serialize(field("state").as_bytes()).collect();
    Redirect::to(&format!(
        "{}?code={code}&state={state}",
        field("redirect_uri")
    ))
    .into_response()
}

async fn token(State(fake): State<FakeOidc>, headers: HeaderMap, body: String) -> Response {
    let form: HashMap<String, String> = form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    let expected = format!(
        "Basic {}",
        STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"))
    );
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
        return error(StatusCode::UNAUTHORIZED, "invalid_client");
    }
    let field = |name: &str| form.get(name).cloned().unwrap_or_default();
    if field("grant_type") != "authorization_code" {
        return error(StatusCode::BAD_REQUEST, "unsupported_grant_type");
    }
    let Some(grant) = fake.inner.codes.lock().unwrap().remove(&field("code")) else {
        return error(StatusCode::BAD_REQUEST, "invalid_grant");
    };
    let challenge = URL_SAFE_NO_PAD.encode(ring::digest::digest(
        &ring::digest::SHA256,
        field("code_verifier").as_bytes(),
    ));
    if challenge != grant.challenge || field("redirect_uri") != grant.redirect_uri {
        return error(StatusCode::BAD_REQUEST, "invalid_grant");
    }
    let behaviour = fake.inner.behaviour.lock().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = json!({
        "iss": fake.issuer(),
        "sub": grant.email,
        "aud": CLIENT_ID,
        "iat": now,
        "exp": now + 300,
        "nonce": if behaviour.wrong_nonce { String::from("not-the-nonce") } else { grant.nonce },
        "email": grant.email,
        "email_verified": true,
    });
    let kid = if behaviour.unpublished_key {
        "other-key"
    } else {
        "test-key"
    };
    let id_token = sign(
        &json!({ "alg": "RS256", "typ": "JWT", "kid": kid }),
        &claims,
    );
    Json(json!({ "access_token": "at", "token_type": "Bearer", "expires_in": 300, "id_token": id_token }))
        .into_response()
}

fn error(status: StatusCode, code: &str) -> Response {
    (status, Json(json!({ "error": code }))).into_response()
}

fn sign(header: &Value, claims: &Value) -> String {
    let signed = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let pair = key();
    let mut signature = vec![0; pair.public().modulus_len()];
    pair.sign(
        &RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        signed.as_bytes(),
        &mut signature,
    )
    .expect("signing with the test key");
    format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature))
}
