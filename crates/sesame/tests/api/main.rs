//! End-to-end tests of the REST API: a real server on a free port, a real database, the same
//! composition root as `sesame serve`.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sesame_testkit::{TestApp, TestDatabase};

fn carpark(plate: &str) -> Value {
    json!({
        "flow": "carpark",
        "answers": { "plate": plate, "site": "London", "ev": true, "bay": "A" },
        "justification": "I drive in on Tuesdays",
        "duration": "30d"
    })
}

fn audit_kinds(reply: &Value) -> Vec<String> {
    reply
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect()
}

/// The whole story on one database: submit, two approval steps, manual fulfilment, active access
/// that expires on time, and the audit trail of all of it.
async fn full_lifecycle(app: TestApp) {
    let alice = app.token("alice").await;
    let carol = app.token("carol").await;
    let fran = app.token("fran").await;

    let created = app
        .post("/api/v1/requests", &alice, carpark("AB12 CDE"))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let number = created.body["number"].as_i64().unwrap();
    assert_eq!(created.body["title"], format!("Carpark access #{number}"));
    assert_eq!(created.body["state"], "pending_approval");
    assert_eq!(created.body["current_step"], 0);
    assert_eq!(created.body["steps"][0]["approvers"], json!(["carol"]));
    assert_eq!(
        created.body["url"],
        format!("https://sesame.test/requests/{number}")
    );

    // Carol sees it waiting on her; Fran does not yet.
    let waiting = app.get("/api/v1/requests?scope=waiting", &carol).await;
    assert_eq!(waiting.body["requests"][0]["number"], number);
    assert_eq!(waiting.body["requests"][0]["your_duty"], "approve");
    let fran_waiting = app.get("/api/v1/requests?scope=waiting", &fran).await;
    assert_eq!(fran_waiting.body["requests"], json!([]));

    let step1 = app
        .post(
            &format!("/api/v1/requests/{number}/approve"),
            &carol,
            json!({ "comment": "fine" }),
        )
        .await;
    assert_eq!(step1.status, StatusCode::OK, "{:?}", step1.body);
    assert_eq!(step1.body["current_step"], 1);
    assert_eq!(step1.body["steps"][1]["approvers"], json!(["fran", "fred"]));

    let step2 = app
        .post(
            &format!("/api/v1/requests/{number}/approve"),
            &fran,
            json!({}),
        )
        .await;
    assert_eq!(step2.body["state"], "fulfilling", "{:?}", step2.body);
    assert_eq!(step2.body["your_duty"], "fulfil");

    let done = app
        .post(
            &format!("/api/v1/requests/{number}/complete"),
            &fran,
            json!({ "note": "permit 77 issued" }),
        )
        .await;
    assert_eq!(done.body["state"], "active", "{:?}", done.body);
    assert!(
        done.body["access_ends_at"]
            .as_str()
            .unwrap()
            .starts_with("2026-02-04"),
        "{:?}",
        done.body["access_ends_at"]
    );

    // Nothing changes before the end; 30 days later the access expires by itself.
    app.advance("29d").await;
    assert_eq!(
        app.get(&format!("/api/v1/requests/{number}"), &alice)
            .await
            .body["state"],
        "active"
    );
    app.advance("1d").await;
    assert_eq!(
        app.get(&format!("/api/v1/requests/{number}"), &alice)
            .await
            .body["state"],
        "expired"
    );

    let audit = app
        .get(&format!("/api/v1/requests/{number}/audit"), &alice)
        .await;
    let kinds = audit_kinds(&audit.body);
    for expected in [
        "submitted",
        "step_started",
        "approval_given",
        "step_approved",
        "approved",
        "fulfilment_started",
        "access_granted",
        "expired",
    ] {
        assert!(
            kinds.contains(&expected.to_owned()),
            "{expected} missing from {kinds:?}"
        );
    }
    app.assert_nothing_owed().await;
    app.stop().await;
}

#[tokio::test]
async fn full_lifecycle_on_sqlite() {
    full_lifecycle(TestApp::spawn().await).await;
}

#[tokio::test]
async fn full_lifecycle_on_postgres() {
    if let Some(app) = TestApp::spawn_on(TestDatabase::Postgres).await {
        full_lifecycle(app).await;
    }
}

#[tokio::test]
async fn bad_input_gets_a_clear_error_and_stores_nothing() {
    let app = TestApp::spawn().await;
    let alice = app.token("alice").await;
    let cases: Vec<(&str, Vec<u8>, StatusCode, &str)> = vec![
        (
            "application/json",
            b"{not json".to_vec(),
            StatusCode::BAD_REQUEST,
            "malformed_json",
        ),
        (
            "application/json",
            br#"{"flow":"carpark","colour":"red"}"#.to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_json",
        ),
        (
            "application/json",
            br#"{"flow":42}"#.to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_json",
        ),
        (
            "text/plain",
            br#"{"flow":"carpark"}"#.to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            "application/json",
            format!(
                r#"{{"flow":"carpark","justification":"{}"}}"#,
                "x".repeat(70_000)
            )
            .into_bytes(),
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
        ),
        (
            "application/json",
            br#"{"flow":"no-such-flow"}"#.to_vec(),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
    ];
    for (content_type, body, status, code) in cases {
        let reply = app
            .post_raw("/api/v1/requests", &alice, content_type, body)
            .await;
        assert_eq!(
            (reply.status, reply.code()),
            (status, code),
            "{:?}",
            reply.body
        );
        assert!(!reply.body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .is_empty());
    }

    // Answers that break the flow's rules come back field by field.
    let reply = app
        .post("/api/v1/requests", &alice, json!({ "flow": "carpark", "answers": { "plate": "WAY TOO LONG A PLATE", "site": "Paris" }, "duration": "1y" }))
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.code(), "invalid_submission");
    let fields: Vec<&str> = reply.body["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, vec!["plate", "site", "justification", "duration"]);

    // Nothing above stored anything.
    let mine = app.get("/api/v1/requests", &alice).await;
    assert_eq!(mine.body["requests"], json!([]));
    let admin = app.token("ada").await;
    let audit = app.get("/api/v1/audit?kind=submitted", &admin).await;
    assert_eq!(audit.body, json!([]));
    app.stop().await;
}

#[tokio::test]
async fn callers_must_present_a_valid_token() {
    let app = TestApp::spawn().await;
    for token in [
        None,
        Some("nonsense"),
        Some("sesame_0000000000000000000000000000000000000000000000000000000000000000"),
    ] {
        let reply = app.call(Method::GET, "/api/v1/catalog", token, None).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{token:?}");
        assert_eq!(reply.code(), "unauthenticated");
    }
    // A revoked token stops working.
    let created = app
        .app
        .create_token(
            &sesame_core::UserId::new("alice").unwrap(),
            "temp",
            None,
            &sesame_core::Actor::System,
        )
        .await
        .unwrap();
    assert_eq!(
        app.get("/api/v1/me", &created.secret).await.body["user"],
        "alice"
    );
    app.app
        .revoke_token(created.record.id, &sesame_core::Actor::System)
        .await
        .unwrap();
    assert_eq!(
        app.get("/api/v1/me", &created.secret).await.status,
        StatusCode::UNAUTHORIZED
    );
    app.stop().await;
}

#[tokio::test]
async fn only_eligible_people_decide_and_nobody_approves_their_own_request() {
    let app = TestApp::spawn().await;
    let (alice, bob, carol, eve, sam, sue) = (
        app.token("alice").await,
        app.token("bob").await,
        app.token("carol").await,
        app.token("eve").await,
        app.token("sam").await,
        app.token("sue").await,
    );

    let number = app
        .post("/api/v1/requests", &alice, carpark("A1"))
        .await
        .body["number"]
        .as_i64()
        .unwrap();
    // Bob is not Alice's approver; Eve cannot even see the request.
    let reply = app
        .post(
            &format!("/api/v1/requests/{number}/approve"),
            &bob,
            json!({}),
        )
        .await;
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::NOT_FOUND, "not_found"),
        "{:?}",
        reply.body
    );
    assert_eq!(
        app.get(&format!("/api/v1/requests/{number}"), &eve)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // Only the requester (or an admin) cancels: not Carol, even though she approves it.
    let reply = app
        .post(
            &format!("/api/v1/requests/{number}/cancel"),
            &carol,
            json!({}),
        )
        .await;
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::FORBIDDEN, "not_allowed")
    );

    // Sam asks for production write access; Sam is in security, which approves it, but he is left
    // out of his own request and two others are needed: only Sue remains, so it is refused up front.
    let reply = app
        .post(
            "/api/v1/requests",
            &sam,
            json!({ "flow": "prod-db", "answers": { "ticket": "INC-1" } }),
        )
        .await;
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "cannot_proceed"),
        "{:?}",
        reply.body
    );

    // Quorum: two different security people.
    let number = app
        .post(
            "/api/v1/requests",
            &alice,
            json!({ "flow": "prod-db", "answers": { "ticket": "INC-2" }, "duration": "2h" }),
        )
        .await
        .body["number"]
        .as_i64()
        .unwrap();
    let first = app
        .post(
            &format!("/api/v1/requests/{number}/approve"),
            &sam,
            json!({}),
        )
        .await;
    assert_eq!(first.body["state"], "pending_approval");
    let again = app
        .post(
            &format!("/api/v1/requests/{number}/approve"),
            &sam,
            json!({}),
        )
        .await;
    assert_eq!(
        (again.status, again.code()),
        (StatusCode::CONFLICT, "already_done")
    );
    let second = app
        .post(
            &format!("/api/v1/requests/{number}/approve"),
            &sue,
            json!({}),
        )
        .await;
    assert_eq!(second.body["state"], "fulfilling");
    // A late click on the finished step says who approved it.
    let late = app
        .post(
            &format!("/api/v1/requests/{number}/deny"),
            &sue,
            json!({ "reason": "oops", "step": 0 }),
        )
        .await;
    assert_eq!(late.code(), "already_done");
    assert!(
        late.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Sam Security, Sue Security"),
        "{:?}",
        late.body
    );
    app.assert_nothing_owed().await;
    app.stop().await;
}

#[tokio::test]
async fn denial_cancel_and_illegal_transitions() {
    let app = TestApp::spawn().await;
    let (alice, carol) = (app.token("alice").await, app.token("carol").await);

    let denied = app
        .post("/api/v1/requests", &alice, carpark("D1"))
        .await
        .body["number"]
        .as_i64()
        .unwrap();
    let reply = app
        .post(
            &format!("/api/v1/requests/{denied}/deny"),
            &carol,
            json!({ "reason": "" }),
        )
        .await;
    assert_eq!(
        reply.code(),
        "invalid_submission",
        "a denial needs a reason"
    );
    let reply = app
        .post(
            &format!("/api/v1/requests/{denied}/deny"),
            &carol,
            json!({ "reason": "no spaces left" }),
        )
        .await;
    assert_eq!(reply.body["state"], "denied");
    assert_eq!(reply.body["outcome"]["reason"], "no spaces left");
    let reply = app
        .post(
            &format!("/api/v1/requests/{denied}/approve"),
            &carol,
            json!({}),
        )
        .await;
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::CONFLICT, "already_done")
    );

    let canceled = app
        .post("/api/v1/requests", &alice, carpark("C1"))
        .await
        .body["number"]
        .as_i64()
        .unwrap();
    let reply = app
        .post(
            &format!("/api/v1/requests/{canceled}/cancel"),
            &alice,
            json!({ "reason": "found a bike" }),
        )
        .await;
    assert_eq!(reply.body["state"], "canceled");
    for action in ["cancel", "complete", "revoke"] {
        let reply = app
            .post(
                &format!("/api/v1/requests/{canceled}/{action}"),
                &alice,
                json!({}),
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::CONFLICT,
            "{action}: {:?}",
            reply.body
        );
    }
    app.assert_nothing_owed().await;
    app.stop().await;
}

#[tokio::test]
async fn idempotency_keys_make_retries_safe() {
    let app = TestApp::spawn().await;
    let alice = app.token("alice").await;
    let send = || {
        app.client
            .post(format!("{}/api/v1/requests", app.base_url))
            .bearer_auth(&alice)
            .header("Idempotency-Key", "retry-1")
            .json(&carpark("K1"))
            .send()
    };
    let first: Value = send().await.unwrap().json().await.unwrap();
    let second: Value = send().await.unwrap().json().await.unwrap();
    assert_eq!(first["number"], second["number"]);
    assert_eq!(
        app.get("/api/v1/requests", &alice).await.body["requests"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    app.stop().await;
}

#[tokio::test]
async fn comments_on_behalf_and_visibility() {
    let app = TestApp::spawn().await;
    let (alice, bob, carol, eve, otto) = (
        app.token("alice").await,
        app.token("bob").await,
        app.token("carol").await,
        app.token("eve").await,
        app.token("otto").await,
    );

    // prod-db allows filing for someone else; carpark does not.
    let reply = app.post("/api/v1/requests", &alice, json!({ "flow": "prod-db", "answers": { "ticket": "INC-9" }, "on_behalf_of": "bob@example.com" })).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    assert_eq!(
        (
            reply.body["requester"].as_str(),
            reply.body["submitted_by"].as_str()
        ),
        (Some("bob"), Some("alice"))
    );
    let mut other = carpark("B1");
    other["on_behalf_of"] = json!("bob");
    assert_eq!(
        app.post("/api/v1/requests", &alice, other).await.code(),
        "not_allowed"
    );

    let number = app
        .post("/api/v1/requests", &alice, carpark("V1"))
        .await
        .body["number"]
        .as_i64()
        .unwrap();
    let reply = app
        .post(
            &format!("/api/v1/requests/{number}/comments"),
            &carol,
            json!({ "text": "<!channel> is this for the EV?" }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    assert_eq!(
        app.post(
            &format!("/api/v1/requests/{number}/comments"),
            &bob,
            json!({ "text": "hi" })
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    let comments = app
        .get(&format!("/api/v1/requests/{number}/comments"), &alice)
        .await;
    assert_eq!(
        comments.body[0]["text"], "<!channel> is this for the EV?",
        "text is stored as written; adapters escape it"
    );
    assert_eq!(
        app.get(&format!("/api/v1/requests/{number}/comments"), &eve)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // Auditors see everything but cannot act.
    assert_eq!(
        app.get(&format!("/api/v1/requests/{number}"), &otto)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.post(
            &format!("/api/v1/requests/{number}/approve"),
            &otto,
            json!({})
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    let all = app.get("/api/v1/requests?scope=all", &otto).await;
    assert_eq!(all.body["requests"].as_array().unwrap().len(), 2);
    app.assert_nothing_owed().await;
    app.stop().await;
}

#[tokio::test]
async fn unanswered_requests_close_and_reminders_escalate() {
    let app = TestApp::spawn().await;
    let (alice, carol, ada) = (
        app.token("alice").await,
        app.token("carol").await,
        app.token("ada").await,
    );
    let number = app
        .post("/api/v1/requests", &alice, carpark("T1"))
        .await
        .body["number"]
        .as_i64()
        .unwrap();
    app.post(
        &format!("/api/v1/requests/{number}/approve"),
        &carol,
        json!({}),
    )
    .await;
    // Step 2 reminds after 4h and escalates to Ada after a day.
    app.advance("4h").await;
    app.advance("20h").await;
    let request = app.get(&format!("/api/v1/requests/{number}"), &alice).await;
    assert_eq!(
        request.body["steps"][1]["approvers"],
        json!(["fran", "fred", "ada"]),
        "{:?}",
        request.body["steps"][1]
    );
    let kinds = audit_kinds(
        &app.get(&format!("/api/v1/requests/{number}/audit"), &alice)
            .await
            .body,
    );
    assert!(
        kinds.contains(&String::from("reminder_sent"))
            && kinds.contains(&String::from("escalated")),
        "{kinds:?}"
    );
    assert_eq!(
        app.get("/api/v1/requests?scope=waiting", &ada).await.body["requests"][0]["number"],
        number
    );
    // Nobody decides: fourteen days after submission it is closed.
    app.advance("13d").await;
    let request = app.get(&format!("/api/v1/requests/{number}"), &alice).await;
    assert_eq!(request.body["state"], "closed_unanswered");
    app.assert_nothing_owed().await;
    app.stop().await;
}

#[tokio::test]
async fn directory_changes_need_an_admin() {
    let app = TestApp::spawn().await;
    let (alice, ada) = (app.token("alice").await, app.token("ada").await);
    let person = json!({ "email": "nina@example.com", "display_name": "Nina New", "manager": "carol", "groups": ["employees"] });
    assert_eq!(
        app.call(
            Method::PUT,
            "/api/v1/directory/users/nina",
            Some(&alice),
            Some(person.clone())
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.call(
            Method::PUT,
            "/api/v1/directory/users/nina",
            Some(&ada),
            Some(person)
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    let bad = json!({ "email": "x@example.com", "display_name": "X", "groups": ["ghosts"] });
    assert_eq!(
        app.call(
            Method::PUT,
            "/api/v1/directory/users/x",
            Some(&ada),
            Some(bad)
        )
        .await
        .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    // Nina can now request, and her manager approves.
    let nina = app.token("nina").await;
    let reply = app.post("/api/v1/requests", &nina, carpark("N1")).await;
    assert_eq!(
        reply.body["steps"][0]["approvers"],
        json!(["carol"]),
        "{:?}",
        reply.body
    );
    let number = reply.body["number"].as_i64().unwrap();

    // When an administrator deactivates her, what waits for her is canceled, as when the identity
    // provider does it.
    let gone = json!({ "email": "nina@example.com", "display_name": "Nina New", "manager": "carol", "groups": ["employees"], "active": false });
    assert_eq!(
        app.call(
            Method::PUT,
            "/api/v1/directory/users/nina",
            Some(&ada),
            Some(gone)
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    let request = app.get(&format!("/api/v1/requests/{number}"), &ada).await;
    assert_eq!(request.body["state"], "canceled", "{:?}", request.body);
    assert!(request.body["outcome"]["reason"]
        .as_str()
        .unwrap()
        .contains("left"));
    app.stop().await;
}

#[tokio::test]
async fn catalog_openapi_and_operations_endpoints() {
    let app = TestApp::spawn().await;
    let (alice, eve) = (app.token("alice").await, app.token("eve").await);
    let catalog = app.get("/api/v1/catalog", &alice).await;
    let ids: Vec<&str> = catalog
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["badge", "carpark", "laptop", "prod-db"]);
    // Eve is in no group, so only flows for everyone.
    let catalog = app.get("/api/v1/catalog", &eve).await;
    assert_eq!(catalog.body.as_array().unwrap().len(), 1);
    assert_eq!(
        app.get("/api/v1/flows/carpark", &eve).await.status,
        StatusCode::NOT_FOUND
    );
    let flow = app.get("/api/v1/flows/carpark", &alice).await;
    assert_eq!(
        flow.body["questions"][4]["shown_if"],
        json!({ "ev": [true] })
    );

    let openapi = app
        .call(Method::GET, "/api/v1/openapi.json", None, None)
        .await;
    assert!(openapi.body["paths"]["/api/v1/requests/{number}/approve"]["post"].is_object());
    assert_eq!(
        app.call(Method::GET, "/healthz", None, None).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.call(Method::GET, "/readyz", None, None).await.status,
        StatusCode::OK
    );
    let metrics = app
        .client
        .get(format!("{}/metrics", app.base_url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("sesame_http_request_duration_seconds_count{method=\"GET\",route=\"/api/v1/catalog\",status=\"200\"} 2"), "{metrics}");
    assert!(metrics.contains("sesame_outbox_jobs{status=\"dead\"} 0"));
    app.stop().await;
}

#[tokio::test]
async fn the_load_driver_completes_every_lifecycle() {
    let app = TestApp::spawn().await;
    let tokens = sesame_testkit::load::LifecycleTokens {
        requester: app.token("alice").await,
        approver: app.token("carol").await,
        fulfiller: app.token("fran").await,
    };
    let report = sesame_testkit::load::run_lifecycles(&app.base_url, tokens, 40, 4).await;
    assert_eq!((report.lifecycles, report.failures), (40, 0));
    let mut numbers = report.numbers.clone();
    numbers.sort();
    numbers.dedup();
    assert_eq!(numbers.len(), 40, "every lifecycle got its own request");
    app.stop().await;
}

#[tokio::test]
async fn restarting_with_the_same_directory_file_changes_nothing() {
    let app = TestApp::spawn().await;
    let ada = app.token("ada").await;
    let before = app
        .get("/api/v1/audit?kind=user_upserted", &ada)
        .await
        .body
        .as_array()
        .unwrap()
        .len();
    assert_eq!(before, 10, "the first start stores every person once");
    let text = std::fs::read_to_string(sesame_testkit::fixtures().join("directory.yaml")).unwrap();
    let file = sesame_core::directory::DirectoryFile::parse(&text).unwrap();
    app.app.seed_directory(file).await.unwrap();
    let after = app
        .get("/api/v1/audit?kind=user_upserted", &ada)
        .await
        .body
        .as_array()
        .unwrap()
        .len();
    assert_eq!(after, before);
    app.stop().await;
}

/// A chat platform that is down for a while, and refuses some messages outright.
#[derive(Default)]
struct FlakyChat {
    /// Deliveries to fail with "try again" before the platform comes back.
    outage: std::sync::atomic::AtomicUsize,
    /// Refuse every message about requests by this person, as a platform does for a deleted account.
    refuse_for: std::sync::Mutex<Option<String>>,
    delivered: std::sync::Mutex<Vec<(i64, String)>>,
}

#[async_trait::async_trait]
impl sesame_app::ports::Notifier for FlakyChat {
    fn name(&self) -> &'static str {
        "flaky-chat"
    }

    async fn deliver(
        &self,
        request: &sesame_core::Request,
        notice: &sesame_core::Notice,
        _context: &sesame_app::ports::DeliveryContext<'_>,
    ) -> Result<(), sesame_app::ports::DeliveryError> {
        use std::sync::atomic::Ordering;
        if self.refuse_for.lock().unwrap().as_deref() == Some(request.requester.as_str()) {
            return Err(sesame_app::ports::DeliveryError::Permanent(String::from(
                "account_inactive",
            )));
        }
        if self.outage.load(Ordering::SeqCst) > 0 {
            self.outage.fetch_sub(1, Ordering::SeqCst);
            return Err(sesame_app::ports::DeliveryError::Retry {
                after: Some(std::time::Duration::from_secs(30)),
                reason: String::from("ratelimited"),
            });
        }
        self.delivered
            .lock()
            .unwrap()
            .push((request.number.0, notice.kind().to_owned()));
        Ok(())
    }
}

#[tokio::test]
async fn owed_messages_wait_out_an_outage_in_order_and_dead_ones_can_be_retried() {
    let chat = std::sync::Arc::new(FlakyChat::default());
    let app = TestApp::spawn_with(TestDatabase::Sqlite, vec![chat.clone()])
        .await
        .unwrap();
    let (alice, bob, ada) = (
        app.token("alice").await,
        app.token("bob").await,
        app.token("ada").await,
    );

    chat.outage.store(3, std::sync::atomic::Ordering::SeqCst);
    let number = app
        .post("/api/v1/requests", &alice, carpark("O1"))
        .await
        .body["number"]
        .as_i64()
        .unwrap();
    let outcome = app.drain_outbox().await;
    assert_eq!(
        (outcome.done, outcome.retried),
        (0, 1),
        "the first notice waits; the others queue behind it"
    );
    // The platform said "in 30 s": nothing is tried before then.
    assert_eq!(app.advance("29s").await.claimed, 0);
    app.advance("1s").await;
    app.advance("30s").await;
    app.advance("30s").await;
    let delivered: Vec<String> = chat
        .delivered
        .lock()
        .unwrap()
        .iter()
        .filter(|(n, _)| *n == number)
        .map(|(_, k)| k.clone())
        .collect();
    assert_eq!(
        delivered,
        vec!["approval_requested", "request_updated"],
        "delivered once each, in order"
    );

    // A permanent refusal is given up at once and shown to administrators, who can retry it.
    *chat.refuse_for.lock().unwrap() = Some(String::from("bob"));
    app.post("/api/v1/requests", &bob, carpark("O2")).await;
    let outcome = app.drain_outbox().await;
    assert_eq!(
        outcome.dead, 2,
        "both notices about Bob's request are refused"
    );
    let dead = app.get("/api/v1/admin/outbox?status=dead", &ada).await;
    assert_eq!(dead.body[0]["last_error"], "flaky-chat: account_inactive");
    assert_eq!(
        app.get("/api/v1/admin/outbox", &bob).await.status,
        StatusCode::FORBIDDEN
    );
    *chat.refuse_for.lock().unwrap() = None;
    for job in dead.body.as_array().unwrap() {
        let id = job["id"].as_i64().unwrap();
        let retried = app
            .call(
                Method::POST,
                &format!("/api/v1/admin/outbox/{id}/retry"),
                Some(&ada),
                None,
            )
            .await;
        assert_eq!(retried.status, StatusCode::NO_CONTENT);
    }
    let again = app
        .call(
            Method::POST,
            "/api/v1/admin/outbox/999999/retry",
            Some(&ada),
            None,
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    app.assert_nothing_owed().await;
    assert_eq!(
        app.get("/api/v1/admin/outbox?status=dead", &ada).await.body,
        json!([])
    );
    app.stop().await;
}

#[tokio::test]
async fn my_requests_include_those_filed_for_someone_else() {
    let app = TestApp::spawn().await;
    let (alice, bob) = (app.token("alice").await, app.token("bob").await);
    let filed = app
        .post(
            "/api/v1/requests",
            &alice,
            json!({ "flow": "prod-db", "answers": { "ticket": "INC-7" }, "on_behalf_of": "bob" }),
        )
        .await;
    let number = filed.body["number"].clone();
    assert_eq!(
        app.get("/api/v1/requests?scope=mine", &alice).await.body["requests"][0]["number"],
        number
    );
    assert_eq!(
        app.get("/api/v1/requests?scope=mine", &bob).await.body["requests"][0]["number"],
        number
    );
    app.stop().await;
}

mod chat_durability;
mod duties;
mod fulfilment;
mod matching;
mod refusals;
mod scim;
mod slack_delivery;
mod slack_extension;
mod slack_inbound;
mod socket_mode;
mod teams_approvals;
mod teams_inbound;
mod teams_security;
mod teams_support;
mod teams_transport;
