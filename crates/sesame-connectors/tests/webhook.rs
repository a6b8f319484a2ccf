//! The `webhook` connector against a receiver written here, as a receiving team would write one:
//! it verifies the signature with the exported helper, keeps memberships, and answers as the
//! protocol says (done, accepted with a reference, present), or fails as told.

mod common;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use common::*;
use secrecy::SecretString;
use serde_json::{json, Value};
use sesame_connectors::{verify_callback, Connector, ConnectorOutcome};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

const SECRET: &str = "receiver-shared-secret-0123456789";

#[derive(Default)]
struct Receiver {
    members: BTreeSet<(String, String)>,
    /// Accept grants for later instead of doing them.
    defer: bool,
    /// Answer every call with this status.
    fail: Option<(StatusCode, Option<&'static str>)>,
    bodies: Vec<Value>,
}

type Shared = Arc<Mutex<Receiver>>;

async fn receive(State(receiver): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let secret = SecretString::from(SECRET);
    if let Err(e) = verify_callback(
        &secret,
        header("x-sesame-timestamp"),
        header("x-sesame-signature"),
        &body,
        now,
    ) {
        return (StatusCode::UNAUTHORIZED, format!("signature refused: {e}")).into_response();
    }
    let mut receiver = receiver.lock().unwrap();
    if let Some((status, retry_after)) = receiver.fail {
        let mut response = (status, "the receiver is overloaded").into_response();
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert("retry-after", seconds.parse().unwrap());
        }
        return response;
    }
    let message: Value = serde_json::from_slice(&body).unwrap();
    receiver.bodies.push(message.clone());
    let key = (
        message["person"]["id"].as_str().unwrap().to_owned(),
        message["target"]["app"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    );
    match message["operation"].as_str() {
        Some("check") => {
            Json(json!({ "present": receiver.members.contains(&key) })).into_response()
        }
        Some("grant") if receiver.defer => (
            StatusCode::ACCEPTED,
            Json(json!({ "status": "accepted", "reference": "ticket-42" })),
        )
            .into_response(),
        Some("grant") => {
            receiver.members.insert(key);
            Json(json!({ "status": "done" })).into_response()
        }
        Some("revoke") => {
            receiver.members.remove(&key);
            Json(json!({ "status": "done" })).into_response()
        }
        _ => (StatusCode::BAD_REQUEST, "unknown operation").into_response(),
    }
}

async fn start() -> (String, Shared) {
    let shared: Shared = Arc::default();
    let app = axum::Router::new()
        .route("/hooks/sesame", axum::routing::post(receive))
        .with_state(shared.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks/sesame", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, shared)
}

fn webhook(url: &str, secret: &str) -> Arc<dyn Connector> {
    connector(&format!(
        "kind = \"webhook\"\nurl = {url:?}\nsecret = {secret:?}\n\
         callback_url = \"https://sesame.example.com/api/v1/connectors/hr-portal/callback\"\n\
         target_keys = [\"app\"]\ntimeout_ms = 3000\n"
    ))
}

#[tokio::test]
async fn signed_operations_reach_the_receiver_and_are_idempotent() {
    let (url, receiver) = start().await;
    let connector = webhook(&url, SECRET);
    let grant = grant("alice", "alice@example.com", &[("app", "grafana")]);
    assert_idempotent_lifecycle(connector.as_ref(), &grant).await;
    let bodies = receiver.lock().unwrap().bodies.clone();
    let first_grant = bodies.iter().find(|b| b["operation"] == "grant").unwrap();
    assert_eq!(
        first_grant,
        &json!({
            "operation": "grant",
            "request": 117,
            "person": { "id": "alice", "email": "alice@example.com", "display_name": "alice" },
            "target": { "app": "grafana" },
            "callback_url": "https://sesame.example.com/api/v1/connectors/hr-portal/callback",
        })
    );
}

#[tokio::test]
async fn work_the_receiver_finishes_later_is_accepted_with_its_reference() {
    let (url, receiver) = start().await;
    receiver.lock().unwrap().defer = true;
    let grant = grant("bob", "bob@example.com", &[("app", "vault")]);
    assert_eq!(
        webhook(&url, SECRET).grant(&grant).await.unwrap(),
        ConnectorOutcome::Accepted {
            reference: String::from("ticket-42")
        }
    );
}

#[tokio::test]
async fn a_receiver_that_refuses_the_signature_is_a_permanent_failure_with_its_words() {
    let (url, _) = start().await;
    let connector = webhook(&url, "another-secret-of-sixteen-chars");
    let grant = grant("carol", "carol@example.com", &[("app", "grafana")]);
    assert_permanent(
        connector.grant(&grant).await,
        "401 Unauthorized: signature refused: the signature does not match",
    );
}

#[tokio::test]
async fn overloaded_and_unreachable_receivers_are_retried_after_their_hint() {
    let (url, receiver) = start().await;
    let grant = grant("dana", "dana@example.com", &[("app", "grafana")]);
    receiver.lock().unwrap().fail = Some((StatusCode::SERVICE_UNAVAILABLE, Some("30")));
    let after = assert_retry(
        webhook(&url, SECRET).grant(&grant).await,
        "the receiver is overloaded",
    );
    assert_eq!(after, Some(std::time::Duration::from_secs(30)));

    receiver.lock().unwrap().fail = Some((StatusCode::TOO_MANY_REQUESTS, Some("5")));
    let after = assert_retry(webhook(&url, SECRET).check(&grant).await, "429");
    assert_eq!(after, Some(std::time::Duration::from_secs(5)));

    receiver.lock().unwrap().fail = Some((StatusCode::UNPROCESSABLE_ENTITY, None));
    assert_permanent(webhook(&url, SECRET).revoke(&grant).await, "422");

    let down = webhook(&format!("http://127.0.0.1:{}/hook", closed_port()), SECRET);
    assert_retry(down.grant(&grant).await, "could not be reached");
}

#[test]
fn flows_give_exactly_the_configured_keys_and_secrets_must_be_long() {
    let connector = webhook("https://hooks.example.com/x", SECRET);
    let target = |pairs: &[(&str, &str)]| grant("a", "", pairs).target;
    assert!(connector
        .validate_target(&target(&[("app", "grafana")]))
        .is_ok());
    assert!(connector
        .validate_target(&target(&[]))
        .unwrap_err()
        .contains("missing `app`"));
    assert!(connector
        .validate_target(&target(&[("app", "x"), ("group", "y")]))
        .unwrap_err()
        .contains("unknown setting `group`"));

    let settings: sesame_connectors::ConnectorSettings =
        toml::from_str("kind = \"webhook\"\nurl = \"https://h.example.com\"\nsecret = \"short\"\n")
            .unwrap();
    let err = settings.build().err().unwrap();
    assert!(err.contains("at least 16 characters"), "{err}");
    assert!(!err.contains("short"));
}
