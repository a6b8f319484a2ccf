//! Separation of duties and credentials that die with the person, as an auditor checks them:
//! nobody fulfils their own request, one person approves at most one step, the last
//! administrator stays, and a departed person's API tokens stop for good.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sesame_testkit::{TestApp, TestDatabase};

fn carpark(plate: &str) -> Value {
    json!({
        "flow": "carpark",
        "answers": { "plate": plate, "site": "London", "ev": false },
        "justification": "I drive in on Tuesdays",
        "duration": "30d"
    })
}

/// A person as the directory API takes them.
fn person(email: &str, name: &str, groups: &[&str], active: bool) -> Value {
    json!({ "email": email, "display_name": name, "manager": "carol", "groups": groups, "active": active })
}

async fn put_person(app: &TestApp, admin: &str, id: &str, body: Value) -> (StatusCode, Value) {
    let reply = app
        .call(
            Method::PUT,
            &format!("/api/v1/directory/users/{id}"),
            Some(admin),
            Some(body),
        )
        .await;
    (reply.status, reply.body)
}

async fn duties_are_separated(app: TestApp) {
    let (fran, fred, carol, ada) = (
        app.token("fran").await,
        app.token("fred").await,
        app.token("carol").await,
        app.token("ada").await,
    );

    // Fran (Facilities) asks for a permit: Facilities approves and fulfils it, but not Fran.
    let filed = app.post("/api/v1/requests", &fran, carpark("FR4N")).await;
    assert_eq!(filed.status, StatusCode::CREATED, "{:?}", filed.body);
    let number = filed.body["number"].as_i64().unwrap();
    let approve = |token: &str| {
        let path = format!("/api/v1/requests/{number}/approve");
        let token = token.to_owned();
        let app = &app;
        async move { app.post(&path, &token, json!({})).await }
    };
    assert_eq!(approve(&carol).await.status, StatusCode::OK);
    let step2 = app.get(&format!("/api/v1/requests/{number}"), &fran).await;
    assert_eq!(step2.body["steps"][1]["approvers"], json!(["fred"]));
    assert_eq!(approve(&fred).await.body["state"], "fulfilling");
    let task = app.get(&format!("/api/v1/requests/{number}"), &ada).await;
    assert_eq!(
        task.body["fulfilment"]["fulfillers"],
        json!(["fred"]),
        "{:?}",
        task.body
    );
    let own = app
        .post(
            &format!("/api/v1/requests/{number}/complete"),
            &fran,
            json!({}),
        )
        .await;
    assert_eq!(own.status, StatusCode::FORBIDDEN, "{:?}", own.body);
    assert!(
        own.body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("cannot fulfil your own request"),
        "{:?}",
        own.body
    );
    let still = app.get(&format!("/api/v1/requests/{number}"), &ada).await;
    assert_eq!(
        still.body["state"], "fulfilling",
        "a refusal changes nothing"
    );
    let done = app
        .post(
            &format!("/api/v1/requests/{number}/complete"),
            &fred,
            json!({}),
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{:?}", done.body);

    // Carol joins Facilities: she approves Alice's first step as her manager, and may not approve
    // the second as well.
    let (status, body) = put_person(
        &app,
        &ada,
        "carol",
        json!({ "email": "carol@example.com", "display_name": "Carol Manager", "groups": ["employees", "facilities"] }),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body:?}");
    let alice = app.token("alice").await;
    let filed = app.post("/api/v1/requests", &alice, carpark("AL1C")).await;
    let number = filed.body["number"].as_i64().unwrap();
    let first = app
        .post(
            &format!("/api/v1/requests/{number}/approve"),
            &carol,
            json!({}),
        )
        .await;
    assert_eq!(first.body["current_step"], 1, "{:?}", first.body);
    assert_eq!(first.body["steps"][1]["approvers"], json!(["fran", "fred"]));
    assert!(first.body["steps"][1]["why"]
        .as_str()
        .unwrap()
        .contains("whoever approved an earlier step does not approve this one too"));
    let second = app
        .post(
            &format!("/api/v1/requests/{number}/approve"),
            &carol,
            json!({}),
        )
        .await;
    assert_eq!(second.status, StatusCode::FORBIDDEN, "{:?}", second.body);
    assert!(second.body["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .contains("one person approves at most one step"));
    let unchanged = app.get(&format!("/api/v1/requests/{number}"), &alice).await;
    assert_eq!(unchanged.body["current_step"], 1);
    app.assert_nothing_owed().await;
    app.stop().await;
}

#[tokio::test]
async fn duties_are_separated_on_sqlite() {
    duties_are_separated(TestApp::spawn().await).await;
}

#[tokio::test]
async fn duties_are_separated_on_postgres() {
    if let Some(app) = TestApp::spawn_on(TestDatabase::Postgres).await {
        duties_are_separated(app).await;
    }
}

async fn tokens_die_with_the_person(app: TestApp) {
    let ada = app.token("ada").await;
    let bob = app.token("bob").await;
    assert_eq!(
        app.get("/api/v1/requests", &bob).await.status,
        StatusCode::OK
    );

    let (status, body) = put_person(
        &app,
        &ada,
        "bob",
        person("bob@example.com", "Bob Requester", &["employees"], false),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body:?}");
    assert_eq!(
        app.get("/api/v1/requests", &bob).await.status,
        StatusCode::UNAUTHORIZED
    );
    // Coming back does not bring an old credential back.
    let (status, _) = put_person(
        &app,
        &ada,
        "bob",
        person("bob@example.com", "Bob Requester", &["employees"], true),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get("/api/v1/requests", &bob).await.status,
        StatusCode::UNAUTHORIZED,
        "a reactivated person's old token stays revoked"
    );
    let fresh = app.token("bob").await;
    assert_eq!(
        app.get("/api/v1/requests", &fresh).await.status,
        StatusCode::OK
    );
    let trail = app.get("/api/v1/audit?kind=tokens_revoked", &ada).await;
    let events = trail.body.as_array().expect("audit events");
    assert_eq!(events.len(), 1, "{:?}", trail.body);
    assert_eq!(events[0]["actor"], "ada");
    assert_eq!(events[0]["detail"]["user"], "bob");

    // The last active administrator stays one: not deactivated, not taken out of the group.
    let (status, body) = put_person(
        &app,
        &ada,
        "ada",
        json!({ "email": "ada@example.com", "display_name": "Ada Admin", "groups": ["employees", "sesame-admins"], "active": false }),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body:?}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .contains("last active administrator"));
    let (status, _) = put_person(
        &app,
        &ada,
        "ada",
        json!({ "email": "ada@example.com", "display_name": "Ada Admin", "groups": ["employees"] }),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        app.get("/api/v1/requests", &ada).await.status,
        StatusCode::OK,
        "a refused change changes nothing"
    );
    // Once someone else administers, Ada may step down.
    let (status, _) = put_person(
        &app,
        &ada,
        "sam",
        person(
            "sam@example.com",
            "Sam Security",
            &["employees", "security", "sesame-admins"],
            true,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = put_person(
        &app,
        &ada,
        "ada",
        json!({ "email": "ada@example.com", "display_name": "Ada Admin", "groups": ["employees"] }),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body:?}");
    app.stop().await;
}

#[tokio::test]
async fn tokens_die_with_the_person_on_sqlite() {
    tokens_die_with_the_person(TestApp::spawn().await).await;
}

#[tokio::test]
async fn tokens_die_with_the_person_on_postgres() {
    if let Some(app) = TestApp::spawn_on(TestDatabase::Postgres).await {
        tokens_die_with_the_person(app).await;
    }
}
