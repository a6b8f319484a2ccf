//! Automatic fulfilment through a connector, end to end: a grant when the request is approved, the
//! removal when access ends, retries and failures shown on the request, target systems that report
//! back through a signed callback, and extensions.

use reqwest::StatusCode;
use secrecy::SecretString;
use serde_json::{json, Value};
use sesame_app::{Catalog, ConnectorRegistry};
use sesame_core::ports::ConnectorError;
use sesame_testkit::fake_connector::FakeConnector;
use sesame_testkit::{TestApp, TestDatabase};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Access to the VPN group, approved by the requester's manager, granted by the `corp-vpn`
/// connector for a day by default and at most a week.
const VPN: &str = "
id: vpn
name: VPN access
requesters: everyone
duration: { default: 1d, max: 7d, requester_chooses: true }
approval:
  - { approvers: manager }
fulfillment: { connector: corp-vpn, group: vpn-users }
";

const CALLBACK_SECRET: &str = "a-callback-secret-for-tests";

/// A test app whose flows include [`VPN`], fulfilled by `connector`.
async fn app_with(connector: &FakeConnector) -> TestApp {
    app_on(TestDatabase::Sqlite, connector)
        .await
        .expect("SQLite is always available")
}

/// [`app_with`] on a given database; `None` when PostgreSQL is not configured (outside CI).
async fn app_on(database: TestDatabase, connector: &FakeConnector) -> Option<TestApp> {
    let app = TestApp::spawn_on(database).await?;
    let vpn = sesame_core::flow::parse_flow("vpn.yaml", VPN).expect("the VPN flow");
    let flows: Vec<_> = app
        .app
        .catalog()
        .flows()
        .cloned()
        .chain(std::iter::once(vpn))
        .collect();
    app.app.replace_catalog(Catalog::new(flows));
    app.app.set_connectors(
        ConnectorRegistry::default()
            .with("corp-vpn", Arc::new(connector.clone()))
            .with_callback_secret("corp-vpn", SecretString::from(CALLBACK_SECRET)),
    );
    Some(app)
}

fn vpn_target() -> BTreeMap<String, String> {
    BTreeMap::from([(String::from("group"), String::from("vpn-users"))])
}

/// Alice asks for the VPN and Carol, her manager, approves: the request waits on the connector.
async fn approved_vpn(app: &TestApp, duration: &str) -> i64 {
    let alice = app.token("alice").await;
    let carol = app.token("carol").await;
    let created = app
        .post(
            "/api/v1/requests",
            &alice,
            json!({ "flow": "vpn", "answers": {}, "duration": duration }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let number = created.body["number"].as_i64().expect("number");
    let approved = app
        .post(
            &format!("/api/v1/requests/{number}/approve"),
            &carol,
            json!({}),
        )
        .await;
    assert_eq!(approved.status, StatusCode::OK, "{:?}", approved.body);
    assert_eq!(approved.body["state"], "fulfilling");
    assert_eq!(approved.body["your_duty"], Value::Null, "nobody has a task");
    assert_eq!(approved.body["provisioning"]["connector"], "corp-vpn");
    number
}

async fn request(app: &TestApp, number: i64) -> Value {
    let ada = app.token("ada").await;
    let reply = app.get(&format!("/api/v1/requests/{number}"), &ada).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    reply.body
}

async fn audit(app: &TestApp, number: i64) -> Vec<Value> {
    let ada = app.token("ada").await;
    let reply = app
        .get(&format!("/api/v1/requests/{number}/audit"), &ada)
        .await;
    reply.body.as_array().cloned().unwrap_or_default()
}

fn kinds(events: &[Value]) -> Vec<&str> {
    events.iter().filter_map(|e| e["kind"].as_str()).collect()
}

fn event<'a>(events: &'a [Value], kind: &str) -> &'a Value {
    events
        .iter()
        .find(|e| e["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} in {:?}", kinds(events)))
}

#[tokio::test]
async fn approval_grants_through_the_connector_and_the_end_removes_it() {
    let connector = FakeConnector::new();
    grant_and_removal(app_with(&connector).await, connector).await;
}

#[tokio::test]
async fn approval_grants_through_the_connector_and_the_end_removes_it_on_postgres() {
    let connector = FakeConnector::new();
    if let Some(app) = app_on(TestDatabase::Postgres, &connector).await {
        grant_and_removal(app, connector).await;
    }
}

async fn grant_and_removal(app: TestApp, connector: FakeConnector) {
    let number = approved_vpn(&app, "1d").await;
    app.drain_outbox().await;
    let active = request(&app, number).await;
    assert_eq!(active["state"], "active", "{active:?}");
    assert!(connector.has_access("alice", &vpn_target()));
    assert_eq!(
        connector
            .calls()
            .iter()
            .map(|c| c.operation)
            .collect::<Vec<_>>(),
        ["check", "grant"],
        "check first, then act"
    );
    let trail = audit(&app, number).await;
    let granted = event(&trail, "access_granted");
    assert_eq!(granted["actor"], "sesame");
    assert_eq!(granted["detail"]["connector"], "corp-vpn");
    assert_eq!(granted["detail"]["answer"], "granted");

    // A day later the access expires and the connector removes it.
    app.advance("1d").await;
    let expired = request(&app, number).await;
    assert_eq!(expired["state"], "expired");
    assert!(!connector.has_access("alice", &vpn_target()));
    assert_eq!(connector.grants_in_effect(), 0);
    assert!(expired["provisioning"]["removed_at"].is_string());
    let trail = audit(&app, number).await;
    assert_eq!(
        event(&trail, "access_removed")["detail"]["connector"],
        "corp-vpn"
    );
    // Running the outbox again changes nothing: each step happened once.
    app.advance("1h").await;
    assert_eq!(connector.calls_of("grant").len(), 1);
    assert_eq!(connector.calls_of("revoke").len(), 1);
    app.assert_nothing_owed().await;
}

#[tokio::test]
async fn a_requester_giving_access_up_has_it_removed_and_kept_in_history() {
    let connector = FakeConnector::new();
    let app = app_with(&connector).await;
    let number = approved_vpn(&app, "3d").await;
    app.drain_outbox().await;
    let alice = app.token("alice").await;
    let revoked = app
        .post(
            &format!("/api/v1/requests/{number}/revoke"),
            &alice,
            json!({ "reason": "done early" }),
        )
        .await;
    assert_eq!(revoked.body["state"], "revoked", "{:?}", revoked.body);
    app.drain_outbox().await;
    assert_eq!(connector.grants_in_effect(), 0);
    let trail = audit(&app, number).await;
    assert_eq!(
        kinds(&trail)
            .into_iter()
            .filter(|k| ["access_granted", "revoked", "access_removed"].contains(k))
            .collect::<Vec<_>>(),
        ["access_granted", "revoked", "access_removed"]
    );
    // The expiry timer that was set for the end now does nothing.
    app.advance("3d").await;
    assert_eq!(request(&app, number).await["state"], "revoked");
    assert_eq!(connector.calls_of("revoke").len(), 1);
    app.assert_nothing_owed().await;
}

#[tokio::test]
async fn grant_failures_are_retried_shown_and_then_fail_the_request() {
    let connector = FakeConnector::new();
    let app = app_with(&connector).await;
    connector.fail_next(
        2,
        ConnectorError::Retry {
            after: Some(std::time::Duration::from_secs(30)),
            reason: String::from("ldap.example.com: connection refused"),
        },
        &["check"],
    );
    let number = approved_vpn(&app, "1d").await;
    app.drain_outbox().await;
    // The target system's error is on the request while it keeps failing.
    let failing = request(&app, number).await;
    assert_eq!(failing["state"], "fulfilling");
    assert_eq!(
        failing["provisioning"]["last_error"],
        "ldap.example.com: connection refused"
    );
    // The target system's hint of 30 seconds is honoured.
    app.advance("20s").await;
    assert_eq!(connector.calls_of("check").len(), 1);
    app.advance("15s").await;
    assert_eq!(connector.calls_of("check").len(), 2);
    app.advance("35s").await;
    let active = request(&app, number).await;
    assert_eq!(active["state"], "active", "{active:?}");
    assert_eq!(active["provisioning"]["last_error"], Value::Null);
    let trail = audit(&app, number).await;
    let errors: Vec<&Value> = trail
        .iter()
        .filter(|e| e["kind"] == "provisioning_error")
        .collect();
    assert_eq!(errors.len(), 2);
    assert_eq!(
        errors[0]["detail"]["error"],
        "ldap.example.com: connection refused"
    );

    // A permanent error fails the request at once, with the target system's words.
    connector.fail_next(
        1,
        ConnectorError::Permanent(String::from("no such group: vpn-users")),
        &["grant"],
    );
    let bob = app.token("bob").await;
    let carol = app.token("carol").await;
    let created = app
        .post(
            "/api/v1/requests",
            &bob,
            json!({ "flow": "vpn", "answers": {} }),
        )
        .await;
    let second = created.body["number"].as_i64().expect("number");
    app.post(
        &format!("/api/v1/requests/{second}/approve"),
        &carol,
        json!({}),
    )
    .await;
    app.drain_outbox().await;
    let failed = request(&app, second).await;
    assert_eq!(failed["state"], "failed");
    assert_eq!(failed["outcome"]["reason"], "no such group: vpn-users");
    assert_eq!(failed["outcome"]["by"], "sesame");
    let trail = audit(&app, second).await;
    assert_eq!(
        event(&trail, "fulfilment_failed")["detail"]["error"],
        "no such group: vpn-users"
    );
    app.assert_nothing_owed().await;
}

#[tokio::test]
async fn a_grant_that_keeps_failing_is_given_up_and_the_request_fails() {
    let connector = FakeConnector::new();
    let app = app_with(&connector).await;
    connector.fail_next(
        100,
        ConnectorError::Retry {
            after: None,
            reason: String::from("503 Service Unavailable"),
        },
        &[],
    );
    let number = approved_vpn(&app, "1d").await;
    for _ in 0..12 {
        app.advance("1h").await;
    }
    let failed = request(&app, number).await;
    assert_eq!(failed["state"], "failed", "{failed:?}");
    let reason = failed["outcome"]["reason"].as_str().unwrap_or_default();
    assert!(
        reason.starts_with("gave up after 6 attempts: 503"),
        "{reason}"
    );
    assert_eq!(connector.grants_in_effect(), 0);
    app.assert_nothing_owed().await;
}

#[tokio::test]
async fn removal_is_never_given_up() {
    let connector = FakeConnector::new();
    let app = app_with(&connector).await;
    let number = approved_vpn(&app, "1d").await;
    app.drain_outbox().await;
    connector.fail_next(
        15,
        ConnectorError::Permanent(String::from("insufficient rights to modify the group")),
        &["revoke"],
    );
    app.advance("1d").await;
    // Far more failures than a grant or a notice is allowed: still pending, never dead.
    for _ in 0..16 {
        app.advance("2h").await;
    }
    let removed = request(&app, number).await;
    assert_eq!(removed["state"], "expired");
    assert!(
        removed["provisioning"]["removed_at"].is_string(),
        "{removed:?}"
    );
    assert_eq!(connector.grants_in_effect(), 0);
    let trail = audit(&app, number).await;
    let errors = trail
        .iter()
        .filter(|e| e["kind"] == "provisioning_error")
        .count();
    assert!(
        (3..15).contains(&errors),
        "the first failures and then some are recorded, not every one: {errors}"
    );
    app.assert_nothing_owed().await;
}

fn signed(body: &Value, at_seconds: i64, secret: &str) -> (String, String, Vec<u8>) {
    let bytes = serde_json::to_vec(body).expect("json");
    let timestamp = at_seconds.to_string();
    let signature =
        sesame_connectors::sign_webhook(&SecretString::from(secret), &timestamp, &bytes);
    (timestamp, signature, bytes)
}

async fn post_callback(
    app: &TestApp,
    timestamp: &str,
    signature: &str,
    body: Vec<u8>,
) -> StatusCode {
    app.client
        .post(format!(
            "{}/api/v1/connectors/corp-vpn/callback",
            app.base_url
        ))
        .header("content-type", "application/json")
        .header("x-sesame-timestamp", timestamp)
        .header("x-sesame-signature", signature)
        .body(body)
        .send()
        .await
        .expect("callback")
        .status()
}

#[tokio::test]
async fn accepted_work_completes_on_a_signed_callback_only() {
    let connector = FakeConnector::new();
    connector.accept_grants(true);
    let app = app_with(&connector).await;
    let number = approved_vpn(&app, "1d").await;
    app.drain_outbox().await;
    let waiting = request(&app, number).await;
    assert_eq!(waiting["state"], "fulfilling");
    assert_eq!(waiting["provisioning"]["reference"], "work-1");
    let now = app.app.now().millis() / 1000;
    let done = json!({ "request": number, "reference": "work-1", "status": "done" });

    // Unsigned, wrongly signed, stale or for other work: refused, and nothing changes.
    let (timestamp, _, bytes) = signed(&done, now, CALLBACK_SECRET);
    assert_eq!(
        post_callback(&app, &timestamp, "v0=00", bytes.clone()).await,
        StatusCode::UNAUTHORIZED
    );
    let (timestamp, signature, bytes) = signed(&done, now, "someone-elses-secret");
    assert_eq!(
        post_callback(&app, &timestamp, &signature, bytes).await,
        StatusCode::UNAUTHORIZED
    );
    let (timestamp, signature, bytes) = signed(&done, now - 3600, CALLBACK_SECRET);
    assert_eq!(
        post_callback(&app, &timestamp, &signature, bytes).await,
        StatusCode::UNAUTHORIZED
    );
    let other = json!({ "request": number, "reference": "work-9", "status": "done" });
    let (timestamp, signature, bytes) = signed(&other, now, CALLBACK_SECRET);
    assert_eq!(
        post_callback(&app, &timestamp, &signature, bytes).await,
        StatusCode::FORBIDDEN
    );
    let bad = json!({ "request": number, "reference": "work-1", "status": "maybe" });
    let (timestamp, signature, bytes) = signed(&bad, now, CALLBACK_SECRET);
    assert_eq!(
        post_callback(&app, &timestamp, &signature, bytes).await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(request(&app, number).await["state"], "fulfilling");

    // The target system does the work and reports it.
    assert!(connector.finish_accepted("work-1"));
    let (timestamp, signature, bytes) = signed(&done, now, CALLBACK_SECRET);
    assert_eq!(
        post_callback(&app, &timestamp, &signature, bytes.clone()).await,
        StatusCode::OK
    );
    let active = request(&app, number).await;
    assert_eq!(active["state"], "active", "{active:?}");
    // A repeated callback is answered, and changes nothing.
    assert_eq!(
        post_callback(&app, &timestamp, &signature, bytes).await,
        StatusCode::OK
    );
    // The timeout set when the work was accepted is outlived.
    app.advance("2h").await;
    assert_eq!(request(&app, number).await["state"], "active");
    app.assert_nothing_owed().await;
}

#[tokio::test]
async fn accepted_work_that_is_never_reported_fails_and_is_cleaned_up() {
    let connector = FakeConnector::new();
    connector.accept_grants(true);
    let app = app_with(&connector).await;
    let number = approved_vpn(&app, "1d").await;
    app.drain_outbox().await;
    // The target system did the work but never called back.
    assert!(connector.finish_accepted("work-1"));
    app.advance("1h").await;
    let failed = request(&app, number).await;
    assert_eq!(failed["state"], "failed");
    assert!(failed["outcome"]["reason"]
        .as_str()
        .is_some_and(|r| r.contains("did not report back")));
    assert_eq!(connector.grants_in_effect(), 0, "what it did is removed");
    let trail = audit(&app, number).await;
    assert!(kinds(&trail).contains(&"access_removed"));
    app.assert_nothing_owed().await;
}

#[tokio::test]
async fn an_approved_extension_moves_the_end_and_is_audited_on_both_requests() {
    let connector = FakeConnector::new();
    let app = app_with(&connector).await;
    let number = approved_vpn(&app, "1d").await;
    app.drain_outbox().await;
    let before = request(&app, number).await;
    let alice = app.token("alice").await;
    let bob = app.token("bob").await;
    let carol = app.token("carol").await;
    let path = format!("/api/v1/requests/{number}/extend");

    // Someone else cannot extend Alice's access; too long a duration is refused.
    let refused = app.post(&path, &bob, json!({ "duration": "1d" })).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    let too_long = app.post(&path, &alice, json!({ "duration": "8d" })).await;
    assert_eq!(too_long.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(too_long.body["error"]["fields"][0]["field"], "duration");
    let unknown = app.post(&path, &alice, json!({ "days": 2 })).await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);

    let asked = app
        .post(
            &path,
            &alice,
            json!({ "duration": "2d", "reason": "the migration slipped" }),
        )
        .await;
    assert_eq!(asked.status, StatusCode::CREATED, "{:?}", asked.body);
    assert_eq!(asked.body["extends"], number);
    assert_eq!(asked.body["state"], "pending_approval");
    assert_eq!(asked.body["justification"], "the migration slipped");
    let extension = asked.body["number"].as_i64().expect("number");
    // One extension at a time.
    let again = app.post(&path, &alice, json!({ "duration": "1d" })).await;
    assert_eq!(again.status, StatusCode::CONFLICT);

    let approved = app
        .post(
            &format!("/api/v1/requests/{extension}/approve"),
            &carol,
            json!({}),
        )
        .await;
    assert_eq!(approved.body["state"], "fulfilling", "{:?}", approved.body);
    app.drain_outbox().await;
    let extended = request(&app, number).await;
    let done = request(&app, extension).await;
    assert_eq!(done["state"], "fulfilled", "{done:?}");
    assert_eq!(extended["state"], "active");
    assert_eq!(extended["extended_by"], json!([extension]));
    let old_end = before["access_ends_at"].as_str().expect("end").to_owned();
    let new_end = extended["access_ends_at"].as_str().expect("end").to_owned();
    assert!(new_end > old_end, "{old_end} -> {new_end}");
    // The connector was asked whether the access is still there, and it was not granted again.
    assert_eq!(connector.calls_of("grant").len(), 1);
    assert_eq!(connector.calls_of("check").len(), 2);
    let original_trail = audit(&app, number).await;
    assert!(kinds(&original_trail).contains(&"extension_requested"));
    assert_eq!(
        event(&original_trail, "access_extended")["detail"]["extension"],
        extension
    );
    let extension_trail = audit(&app, extension).await;
    assert_eq!(
        event(&extension_trail, "extension_applied")["detail"]["extends"],
        number
    );

    // The old end passes and nothing happens; the new one ends the access.
    app.advance("1d").await;
    assert_eq!(request(&app, number).await["state"], "active");
    assert!(connector.has_access("alice", &vpn_target()));
    app.advance("2d").await;
    assert_eq!(request(&app, number).await["state"], "expired");
    assert_eq!(connector.grants_in_effect(), 0);
    // Expired access cannot be extended.
    let late = app.post(&path, &alice, json!({})).await;
    assert_eq!(late.status, StatusCode::CONFLICT);
    app.assert_nothing_owed().await;
}

#[tokio::test]
async fn the_openapi_document_describes_extend_and_the_callback() {
    let connector = FakeConnector::new();
    let app = app_with(&connector).await;
    let reply = app
        .call(reqwest::Method::GET, "/api/v1/openapi.json", None, None)
        .await;
    let paths = &reply.body["paths"];
    assert!(paths["/api/v1/requests/{number}/extend"]["post"].is_object());
    assert!(paths["/api/v1/connectors/{name}/callback"]["post"].is_object());
}

#[test]
fn flows_naming_a_connector_that_is_not_configured_fail_to_load_with_their_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("vpn.yaml"), VPN).expect("write");
    let connectors = ConnectorRegistry::default().with(
        "corp-ldap",
        Arc::new(FakeConnector::new().requiring(&["group"])),
    );
    let errors = Catalog::load_dir_checked(dir.path(), Some(&connectors))
        .expect_err("corp-vpn is not configured");
    let shown = errors[0].to_string();
    assert!(
        shown.ends_with("vpn.yaml:8:1: fulfillment.connector: there is no connector `corp-vpn`; configured: corp-ldap")
            || shown.contains("vpn.yaml:8:"),
        "{shown}"
    );
    let good = ConnectorRegistry::default().with(
        "corp-vpn",
        Arc::new(FakeConnector::new().requiring(&["group"])),
    );
    assert!(Catalog::load_dir_checked(dir.path(), Some(&good)).is_ok());
    let strict = ConnectorRegistry::default().with(
        "corp-vpn",
        Arc::new(FakeConnector::new().requiring(&["ou"])),
    );
    let errors = Catalog::load_dir_checked(dir.path(), Some(&strict)).expect_err("missing ou");
    assert!(errors[0].message.contains("`ou` is required"), "{errors:?}");
}

#[tokio::test]
async fn an_extension_approved_after_the_access_ended_fails_and_grants_nothing() {
    let connector = FakeConnector::new();
    let app = app_with(&connector).await;
    let number = approved_vpn(&app, "1d").await;
    app.drain_outbox().await;
    let alice = app.token("alice").await;
    let carol = app.token("carol").await;
    let asked = app
        .post(
            &format!("/api/v1/requests/{number}/extend"),
            &alice,
            json!({ "duration": "1d" }),
        )
        .await;
    let extension = asked.body["number"].as_i64().expect("number");
    app.advance("1d").await;
    assert_eq!(request(&app, number).await["state"], "expired");
    app.post(
        &format!("/api/v1/requests/{extension}/approve"),
        &carol,
        json!({}),
    )
    .await;
    app.drain_outbox().await;
    let failed = request(&app, extension).await;
    assert_eq!(failed["state"], "failed", "{failed:?}");
    assert!(failed["outcome"]["reason"]
        .as_str()
        .is_some_and(|r| r.contains("can no longer be extended")));
    assert_eq!(request(&app, number).await["state"], "expired");
    assert_eq!(connector.grants_in_effect(), 0);
    assert_eq!(connector.calls_of("grant").len(), 1);
    app.assert_nothing_owed().await;
}
