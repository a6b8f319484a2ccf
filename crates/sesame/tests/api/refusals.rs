//! Input the API refuses, and how: a reused idempotency key, U+0000 anywhere (body, path, query
//! string, SCIM value), text that shows nothing, bidirectional controls, lenient types and
//! durations. Each story runs on SQLite and PostgreSQL, and checks that nothing was stored.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sesame_testkit::scim::SCIM_TOKEN;
use sesame_testkit::{Reply, TestApp, TestDatabase};

fn carpark(plate: &str) -> Value {
    json!({
        "flow": "carpark",
        "answers": { "plate": plate, "site": "London", "ev": true, "bay": "A" },
        "justification": "I drive in on Tuesdays",
        "duration": "30d"
    })
}

async fn post_with_key(app: &TestApp, token: &str, key: &str, body: &Value) -> Reply {
    let response = app
        .client
        .post(format!("{}/api/v1/requests", app.base_url))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .expect("send");
    let status = response.status();
    let body = response.json().await.unwrap_or(Value::Null);
    Reply { status, body }
}

async fn request_count(app: &TestApp, token: &str) -> usize {
    app.get("/api/v1/requests?scope=all", token).await.body["requests"]
        .as_array()
        .expect("a list")
        .len()
}

async fn spawn(database: TestDatabase) -> Option<TestApp> {
    TestApp::spawn_configured(
        database,
        Vec::new(),
        &format!("[scim]\ntoken = {SCIM_TOKEN:?}\n"),
    )
    .await
}

/// The same key with the same body is a retry and gets the first request again; with a different
/// body it is a mistake, refused with 422 naming the key, and nothing new is filed.
async fn reused_idempotency_keys(app: TestApp) {
    let alice = app.token("alice").await;
    let first = post_with_key(&app, &alice, "retry-7", &carpark("K1")).await;
    assert_eq!(first.status, StatusCode::CREATED, "{:?}", first.body);
    let number = first.body["number"].as_i64().unwrap();

    let mut spaced = carpark("K1");
    spaced["justification"] = json!("  I drive in on Tuesdays ");
    for retry in [carpark("K1"), spaced] {
        let again = post_with_key(&app, &alice, "retry-7", &retry).await;
        assert_eq!(again.status, StatusCode::CREATED, "{:?}", again.body);
        assert_eq!(
            again.body["number"], number,
            "a retry returns the first request"
        );
    }

    let mut other_duration = carpark("K1");
    other_duration["duration"] = json!("7d");
    for different in [carpark("K2"), other_duration] {
        let reused = post_with_key(&app, &alice, "retry-7", &different).await;
        assert_eq!(
            (reused.status, reused.code()),
            (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused"),
            "{:?}",
            reused.body
        );
        let message = reused.body["error"]["message"].as_str().unwrap();
        assert!(message.contains("\"retry-7\""), "{message}");
        assert!(message.contains(&number.to_string()), "{message}");
    }
    assert_eq!(request_count(&app, &alice).await, 1);

    // Keys are the caller's own: Bob's same key files Bob's own request.
    let bob = app.token("bob").await;
    let bobs = post_with_key(&app, &bob, "retry-7", &carpark("K2")).await;
    assert_eq!(bobs.status, StatusCode::CREATED, "{:?}", bobs.body);
    assert_ne!(bobs.body["number"], number);
    app.stop().await;
}

#[tokio::test]
async fn a_reused_idempotency_key_with_another_body_is_refused_on_sqlite() {
    reused_idempotency_keys(spawn(TestDatabase::Sqlite).await.expect("SQLite")).await;
}

#[tokio::test]
async fn a_reused_idempotency_key_with_another_body_is_refused_on_postgres() {
    if let Some(app) = spawn(TestDatabase::Postgres).await {
        reused_idempotency_keys(app).await;
    }
}

/// U+0000 is refused wherever it comes: with 400 before the store (PostgreSQL cannot store it, and
/// answering 503 "try again" would have clients retry forever), and nothing is stored.
async fn nul_everywhere(app: TestApp) {
    let (alice, ada) = (app.token("alice").await, app.token("ada").await);
    let filed = app.post("/api/v1/requests", &alice, carpark("K1")).await;
    let number = filed.body["number"].as_i64().unwrap();
    let audit_before = app.get("/api/v1/audit?limit=5000", &ada).await.body;

    let mut in_justification = carpark("K2");
    in_justification["justification"] = json!("because\u{0}");
    let mut in_answer = carpark("K2");
    in_answer["answers"]["plate"] = json!("K\u{0}2");
    let mut in_key = carpark("K2");
    in_key["answers"]["\u{0}"] = json!("x");
    let cases: Vec<(Method, String, &str, Option<Value>)> = vec![
        (
            Method::POST,
            "/api/v1/requests".into(),
            &alice,
            Some(in_justification),
        ),
        (
            Method::POST,
            "/api/v1/requests".into(),
            &alice,
            Some(in_answer),
        ),
        (
            Method::POST,
            "/api/v1/requests".into(),
            &alice,
            Some(in_key),
        ),
        (
            Method::POST,
            format!("/api/v1/requests/{number}/comments"),
            &alice,
            Some(json!({ "text": "hello\u{0}" })),
        ),
        (
            Method::POST,
            format!("/api/v1/requests/{number}/cancel"),
            &alice,
            Some(json!({ "reason": "\u{0}" })),
        ),
        (
            Method::PUT,
            "/api/v1/directory/users/newbie".into(),
            &ada,
            Some(json!({ "email": "n@example.com", "display_name": "New\u{0}bie" })),
        ),
        (Method::GET, "/api/v1/audit?actor=ada%00".into(), &ada, None),
        (
            Method::GET,
            "/api/v1/requests?state=%00".into(),
            &alice,
            None,
        ),
        (Method::GET, "/api/v1/flows/car%00park".into(), &alice, None),
        (
            Method::PUT,
            "/api/v1/directory/groups/g%00".into(),
            &ada,
            Some(json!({ "name": "G" })),
        ),
    ];
    for (method, path, token, body) in cases {
        let reply = app.call(method.clone(), &path, Some(token), body).await;
        assert_eq!(
            (reply.status, reply.code()),
            (StatusCode::BAD_REQUEST, "nul_character"),
            "{method} {path}: {:?}",
            reply.body
        );
        assert!(
            reply.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("U+0000"),
            "{:?}",
            reply.body
        );
    }

    // SCIM answers in its own format: 400 invalidValue, naming the attribute.
    let created = app
        .scim(
            Method::POST,
            "/Users",
            Some(json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": "nul@example.com",
                "name": { "givenName": "N\u{0}" },
                "emails": [{ "value": "nul@example.com", "primary": true }]
            })),
        )
        .await;
    assert_eq!(
        created.status,
        StatusCode::BAD_REQUEST,
        "{:?}",
        created.body
    );
    assert_eq!(created.scim_type(), "invalidValue");
    assert!(
        created.body["detail"]
            .as_str()
            .unwrap()
            .starts_with("name.givenName contains"),
        "{:?}",
        created.body
    );
    let filtered = app
        .scim(
            Method::GET,
            "/Users?filter=userName%20eq%20%22a%00%22",
            None,
        )
        .await;
    assert_eq!(
        filtered.status,
        StatusCode::BAD_REQUEST,
        "{:?}",
        filtered.body
    );
    assert_eq!(filtered.scim_type(), "invalidValue");

    assert_eq!(request_count(&app, &alice).await, 1, "no request was filed");
    assert_eq!(
        app.get(&format!("/api/v1/requests/{number}/comments"), &alice)
            .await
            .body,
        json!([])
    );
    assert_eq!(
        app.get(&format!("/api/v1/requests/{number}"), &alice)
            .await
            .body["state"],
        "pending_approval"
    );
    assert_eq!(
        app.get("/api/v1/audit?limit=5000", &ada).await.body,
        audit_before,
        "nothing was audited"
    );
    let users = app.get("/api/v1/directory/users", &ada).await.body;
    assert!(!users.to_string().contains("newbie"), "no person was added");
    assert!(!users.to_string().contains("nul@example.com"));
    app.stop().await;
}

#[tokio::test]
async fn nul_is_refused_in_bodies_paths_query_strings_and_scim_values_on_sqlite() {
    nul_everywhere(spawn(TestDatabase::Sqlite).await.expect("SQLite")).await;
}

#[tokio::test]
async fn nul_is_refused_in_bodies_paths_query_strings_and_scim_values_on_postgres() {
    if let Some(app) = spawn(TestDatabase::Postgres).await {
        nul_everywhere(app).await;
    }
}

/// Text that shows nothing does not fill a required field; bidirectional controls never reach
/// what others read; types and durations are taken as written, not guessed at.
async fn what_people_cannot_see(app: TestApp) {
    let alice = app.token("alice").await;
    let invisible_justification = {
        let mut body = carpark("K1");
        body["justification"] = json!("\u{200B}\u{2060}\u{FEFF} \u{200D}");
        body
    };
    let invisible_plate = {
        let mut body = carpark("K1");
        body["answers"]["plate"] = json!("\u{200B}");
        body
    };
    let twice_a_day = {
        let mut body = carpark("K1");
        body["duration"] = json!("1d1d");
        body
    };
    let boolean_as_text = {
        let mut body = carpark("K1");
        body["answers"]["ev"] = json!("true");
        body
    };
    for (body, (field, message)) in [
        (
            invisible_justification,
            ("justification", "a justification is required"),
        ),
        (invisible_plate, ("plate", "this question needs an answer")),
        (twice_a_day, ("duration", "is not a duration")),
        (boolean_as_text, ("ev", "expected true or false, got text")),
    ] {
        let reply = app.post("/api/v1/requests", &alice, body).await;
        assert_eq!(
            (reply.status, reply.code()),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid_submission"),
            "{:?}",
            reply.body
        );
        assert_eq!(
            reply.body["error"]["fields"][0]["field"], field,
            "{:?}",
            reply.body
        );
        assert!(
            reply.body["error"]["fields"][0]["message"]
                .as_str()
                .unwrap()
                .contains(message),
            "{:?}",
            reply.body
        );
    }
    assert_eq!(request_count(&app, &alice).await, 0);

    // A right-to-left override would show an approver "evil" reversed; it is removed.
    let mut trojan = carpark("K1\u{202E}");
    trojan["justification"] = json!("\u{FEFF}ok \u{202E}live\u{202C} done\u{2066}");
    let filed = app.post("/api/v1/requests", &alice, trojan).await;
    assert_eq!(filed.status, StatusCode::CREATED, "{:?}", filed.body);
    assert_eq!(filed.body["justification"], "ok live done");
    assert_eq!(filed.body["answers"]["plate"], "K1");
    let number = filed.body["number"].as_i64().unwrap();

    // Comments: blank or invisible text is refused naming the field `text`.
    let comments = format!("/api/v1/requests/{number}/comments");
    for blank in ["", "   ", "\u{200B}\u{2060}", "\u{202A}\u{202C}"] {
        let reply = app.post(&comments, &alice, json!({ "text": blank })).await;
        assert_eq!(
            (reply.status, reply.code()),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid_submission"),
            "{blank:?}: {:?}",
            reply.body
        );
        assert_eq!(
            reply.body["error"]["fields"],
            json!([{ "field": "text", "message": "the comment's text is required" }]),
            "{blank:?}"
        );
    }
    let comment = app
        .post(
            &comments,
            &alice,
            json!({ "text": "see \u{2067}attached\u{2069}" }),
        )
        .await;
    assert_eq!(comment.status, StatusCode::CREATED, "{:?}", comment.body);
    assert_eq!(comment.body["text"], "see attached");

    // A denial's reason that shows nothing is no reason.
    let carol = app.token("carol").await;
    let deny = app
        .post(
            &format!("/api/v1/requests/{number}/deny"),
            &carol,
            json!({ "reason": "\u{200B}" }),
        )
        .await;
    assert_eq!(
        deny.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{:?}",
        deny.body
    );
    assert_eq!(deny.body["error"]["fields"][0]["field"], "reason");
    app.stop().await;
}

#[tokio::test]
async fn invisible_text_bidi_controls_and_lenient_types_are_refused_or_removed_on_sqlite() {
    what_people_cannot_see(spawn(TestDatabase::Sqlite).await.expect("SQLite")).await;
}

#[tokio::test]
async fn invisible_text_bidi_controls_and_lenient_types_are_refused_or_removed_on_postgres() {
    if let Some(app) = spawn(TestDatabase::Postgres).await {
        what_people_cannot_see(app).await;
    }
}

/// Page sizes and lists outside what the document says are refused, not quietly changed.
#[tokio::test]
async fn page_sizes_and_filters_outside_the_documented_range_are_refused() {
    let app = TestApp::spawn().await;
    let ada = app.token("ada").await;
    for path in [
        "/api/v1/requests?limit=0",
        "/api/v1/requests?limit=501",
        "/api/v1/audit?limit=0",
        "/api/v1/audit?limit=5001",
        "/api/v1/admin/outbox?limit=0",
        "/api/v1/admin/outbox?limit=1001",
        "/api/v1/requests?scope=everything",
        "/api/v1/admin/outbox?status=stuck",
        "/api/v1/requests?state=",
        "/api/v1/requests?state=approved,,active",
    ] {
        let reply = app.get(path, &ada).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{path}: {:?}",
            reply.body
        );
    }
    for path in [
        "/api/v1/requests?limit=500",
        "/api/v1/audit?limit=5000",
        "/api/v1/admin/outbox?limit=1000&status=pending",
        "/api/v1/requests?state=approved,active",
    ] {
        assert_eq!(app.get(path, &ada).await.status, StatusCode::OK, "{path}");
    }
    app.stop().await;
}

/// The OpenAPI document states what the server does: the error statuses of each operation,
/// nullable fields, limits and enumerations.
#[tokio::test]
async fn the_openapi_document_states_statuses_nullability_limits_and_enumerations() {
    let app = TestApp::spawn().await;
    let doc = app
        .call(Method::GET, "/api/v1/openapi.json", None, None)
        .await
        .body;
    let operations: Vec<(String, String, &Value)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .iter()
                .map(move |(method, op)| (path.clone(), method.clone(), op))
        })
        .collect();
    assert!(operations.len() >= 24, "{}", operations.len());
    for (path, method, op) in &operations {
        let statuses = op["responses"].as_object().unwrap();
        let mut expected = vec!["400", "503"];
        if path != "/api/v1/connectors/{name}/callback" {
            expected.push("401");
        }
        if op.get("requestBody").is_some() {
            expected.extend(["413", "415", "422"]);
        }
        for status in expected {
            assert!(
                statuses.contains_key(status),
                "{method} {path} lacks {status}"
            );
        }
    }
    let create = &doc["paths"]["/api/v1/requests"]["post"]["responses"];
    for status in ["201", "400", "401", "403", "404", "413", "415", "422"] {
        assert!(
            create.get(status).is_some(),
            "POST /api/v1/requests lacks {status}"
        );
    }

    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        schemas["RequestView"]["properties"]["state"]["enum"]
            .as_array()
            .unwrap()
            .len(),
        12
    );
    assert!(schemas["RequestView"]["properties"]["your_duty"]["enum"]
        .as_array()
        .unwrap()
        .contains(&Value::Null));
    let flow_duration = schemas["FlowView"]["properties"]["duration"].to_string();
    assert!(flow_duration.contains("null"), "{flow_duration}");
    let list = doc["paths"]["/api/v1/requests"]["get"]["parameters"]
        .as_array()
        .unwrap();
    let limit = list.iter().find(|p| p["name"] == "limit").unwrap();
    assert_eq!(
        (&limit["schema"]["minimum"], &limit["schema"]["maximum"]),
        (&json!(1), &json!(500))
    );
    let states = list.iter().find(|p| p["name"] == "state").unwrap();
    assert_eq!(
        (
            &states["style"],
            &states["explode"],
            &states["schema"]["items"]["enum"][1]
        ),
        (&json!("form"), &json!(false), &json!("pending_approval")),
        "a comma-separated list of states: {states}"
    );
    let scope = list.iter().find(|p| p["name"] == "scope").unwrap();
    assert!(scope["schema"].to_string().contains("waiting"), "{scope}");
    // A person as listed has an `id`, which the body of a PUT may not have.
    assert!(schemas["UserView"]["properties"]["id"].is_object());
    assert_eq!(schemas["UserBody"]["additionalProperties"], json!(false));
    app.stop().await;
}
