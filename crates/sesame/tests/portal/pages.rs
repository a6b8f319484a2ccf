//! The portal's pages with the demo sign-in: security headers, CSRF refusal, visibility, escaping,
//! the form's errors, roles, link offers, sessions, and comments reaching Slack.

use super::browser::{demo_app, Browser};
use reqwest::StatusCode;
use sesame_core::RequestNumber;
use sesame_testkit::TestApp;

/// Files a carpark request through the portal's form as the signed-in person.
pub(super) async fn file_carpark(browser: &mut Browser, csrf: &str, justification: &str) -> i64 {
    let filed = browser
        .post(
            "/flows/carpark/request",
            &[
                ("csrf", csrf),
                ("q.plate", "PT 1"),
                ("q.site", "London"),
                ("q.ev", "no"),
                ("justification", justification),
            ],
        )
        .await;
    assert_eq!(filed.status, StatusCode::SEE_OTHER, "{}", filed.body);
    filed
        .location()
        .strip_prefix("/requests/")
        .unwrap()
        .parse()
        .unwrap()
}

pub(super) async fn state_of(app: &TestApp, number: i64) -> String {
    app.app
        .store_for_tests()
        .request(RequestNumber(number))
        .await
        .unwrap()
        .unwrap()
        .state
        .name()
        .to_owned()
}

#[tokio::test]
async fn every_portal_page_carries_the_security_headers() {
    let app = demo_app("").await;
    let mut browser = Browser::for_app(&app);
    browser.demo_sign_in("alice").await;
    for path in [
        "/catalog",
        "/login",
        "/requests",
        "/requests/424242",
        "/flows/carpark/request",
        "/admin/audit",
        "/static/portal.css",
    ] {
        let page = browser.get(path).await;
        let header = |name: &str| {
            page.headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        let csp = header("content-security-policy");
        assert!(csp.contains("default-src 'none'"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(!csp.contains("script-src"), "no script is allowed: {csp}");
        assert_eq!(header("x-frame-options"), "DENY", "{path}");
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header("referrer-policy"), "no-referrer", "{path}");
        assert!(!page.body.contains("<script"), "{path} has no script");
    }
    app.stop().await;
}

#[tokio::test]
async fn a_form_without_this_sessions_csrf_token_is_refused_and_changes_nothing() {
    let app = demo_app("").await;
    let mut alice = Browser::for_app(&app);
    let csrf = alice.demo_sign_in("alice").await;
    let number = file_carpark(&mut alice, &csrf, "for the week").await;
    let cancel = format!("/requests/{number}/cancel");
    for form in [
        vec![("reason", "forged")],
        vec![("reason", "forged"), ("csrf", "")],
        vec![("reason", "forged"), ("csrf", &"0".repeat(64))],
    ] {
        let refused = alice.post(&cancel, &form).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{form:?}");
    }
    // Another session's token is not this session's.
    let mut bob = Browser::for_app(&app);
    let bobs = bob.demo_sign_in("bob").await;
    assert_eq!(
        alice.post(&cancel, &[("csrf", &bobs)]).await.status,
        StatusCode::FORBIDDEN
    );
    let no_token = alice
        .post(
            "/flows/carpark/request",
            &[("q.plate", "X"), ("q.site", "London")],
        )
        .await;
    assert_eq!(no_token.status, StatusCode::FORBIDDEN);
    let comment = alice
        .post(
            &format!("/requests/{number}/comments"),
            &[("text", "forged")],
        )
        .await;
    assert_eq!(comment.status, StatusCode::FORBIDDEN);
    let logout = alice.post("/logout", &[]).await;
    assert_eq!(logout.status, StatusCode::FORBIDDEN);
    assert_eq!(state_of(&app, number).await, "pending_approval");
    let requests = app
        .app
        .store_for_tests()
        .list_requests(&Default::default())
        .await
        .unwrap();
    assert_eq!(requests.len(), 1, "the form without a token filed nothing");
    assert!(app
        .app
        .store_for_tests()
        .comments(RequestNumber(number))
        .await
        .unwrap()
        .is_empty());
    // With the token, the same form works.
    let canceled = alice.post(&cancel, &[("csrf", &csrf)]).await;
    assert_eq!(canceled.status, StatusCode::SEE_OTHER);
    assert_eq!(state_of(&app, number).await, "canceled");
    app.stop().await;
}

#[tokio::test]
async fn another_persons_request_is_not_found_and_cannot_be_acted_on() {
    let app = demo_app("").await;
    let mut alice = Browser::for_app(&app);
    let csrf = alice.demo_sign_in("alice").await;
    let number = file_carpark(&mut alice, &csrf, "secret plans").await;
    let mut eve = Browser::for_app(&app);
    let eves = eve.demo_sign_in("eve").await;
    let page = eve.get(&format!("/requests/{number}")).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(!page.body.contains("secret plans"));
    let missing = eve.get("/requests/999999").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(
        eve.get("/requests/not-a-number").await.status,
        StatusCode::NOT_FOUND
    );
    for action in ["cancel", "approve", "comments"] {
        let refused = eve
            .post(
                &format!("/requests/{number}/{action}"),
                &[("csrf", &eves), ("text", "hi")],
            )
            .await;
        assert_eq!(refused.status, StatusCode::NOT_FOUND, "{action}");
    }
    assert_eq!(state_of(&app, number).await, "pending_approval");
    // Her manager sees it and may act; the auditor sees it and may not.
    let mut carol = Browser::for_app(&app);
    carol.demo_sign_in("carol").await;
    let page = carol.get(&format!("/requests/{number}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(&format!("/requests/{number}/approve")));
    let mut otto = Browser::for_app(&app);
    otto.demo_sign_in("otto").await;
    let page = otto.get(&format!("/requests/{number}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("secret plans"));
    for action in ["approve", "deny", "cancel", "comments"] {
        assert!(
            !page
                .body
                .contains(&format!("/requests/{number}/{action}\"")),
            "an auditor is shown no {action} form"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn user_text_is_shown_as_text() {
    let app = demo_app("").await;
    let mut alice = Browser::for_app(&app);
    let csrf = alice.demo_sign_in("alice").await;
    let number = file_carpark(&mut alice, &csrf, "<img src=x onerror=alert(1)>").await;
    let commented = alice
        .post(
            &format!("/requests/{number}/comments"),
            &[
                ("csrf", &csrf),
                ("text", "<script>alert('hi')</script> & \"quotes\""),
            ],
        )
        .await;
    assert_eq!(commented.status, StatusCode::SEE_OTHER);
    let page = alice.get(&format!("/requests/{number}")).await;
    assert!(
        page.body.contains("&lt;img src=x onerror=alert(1)&gt;"),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("&lt;script&gt;alert(&#x27;hi&#x27;)&lt;&#x2f;script&gt;"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("<script>alert"));
    assert!(!page.body.contains("<img src=x"));
    app.stop().await;
}

#[tokio::test]
async fn the_form_shows_errors_by_their_fields_and_keeps_the_answers() {
    let app = demo_app("").await;
    let mut alice = Browser::for_app(&app);
    let csrf = alice.demo_sign_in("alice").await;
    let form = alice.get("/flows/carpark/request").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form
        .body
        .contains("<label for=\"f-plate\">Vehicle registration"));
    let refused = alice
        .post(
            "/flows/carpark/request",
            &[
                ("csrf", &csrf),
                ("q.site", "Berlin"),
                ("q.plate", "MUCH TOO LONG FOR A PLATE"),
                ("duration", "365d"),
                ("justification", "kept <as typed>"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let body = &refused.body;
    assert!(
        body.contains("id=\"f-plate-error\">must be at most 12 characters"),
        "{body}"
    );
    assert!(
        body.contains("id=\"duration-error\">must be at most 90d"),
        "{body}"
    );
    assert!(
        body.contains("<option value=\"Berlin\" selected>"),
        "{body}"
    );
    assert!(body.contains("kept &lt;as typed&gt;</textarea>"), "{body}");
    assert!(
        body.contains("value=\"MUCH TOO LONG FOR A PLATE\""),
        "{body}"
    );
    assert!(app
        .app
        .store_for_tests()
        .list_requests(&Default::default())
        .await
        .unwrap()
        .is_empty());
    // A person who is not in the directory, for someone else: the field says so.
    let for_nobody = alice
        .post(
            "/flows/carpark/request",
            &[
                ("csrf", &csrf),
                ("q.site", "Berlin"),
                ("q.plate", "OK 1"),
                ("justification", "x"),
                ("on_behalf_of", "nobody@example.com"),
            ],
        )
        .await;
    assert_eq!(for_nobody.status, StatusCode::UNPROCESSABLE_ENTITY);
    // The carpark flow has no "for someone else" field, so the problem is shown above the form.
    assert!(
        for_nobody
            .body
            .contains("<p>&quot;nobody@example.com&quot; is not an active person"),
        "{}",
        for_nobody.body
    );
    let prod_db = alice
        .post(
            "/flows/prod-db/request",
            &[("csrf", &csrf), ("on_behalf_of", "nobody@example.com")],
        )
        .await;
    assert_eq!(prod_db.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        prod_db.body.contains("id=\"on_behalf_of-error\""),
        "{}",
        prod_db.body
    );
    assert!(
        prod_db.body.contains("value=\"nobody@example.com\""),
        "{}",
        prod_db.body
    );
    // A flow she may not request is not found.
    let hidden = alice.get("/flows/nope/request").await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    app.stop().await;
}

#[tokio::test]
async fn administration_pages_follow_the_roles() {
    let app = demo_app("").await;
    let mut alice = Browser::for_app(&app);
    alice.demo_sign_in("alice").await;
    for path in [
        "/admin",
        "/admin/audit",
        "/admin/audit.csv",
        "/admin/flows",
        "/admin/directory",
        "/admin/identities",
        "/admin/outbox",
    ] {
        assert_eq!(
            alice.get(path).await.status,
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    let mut otto = Browser::for_app(&app);
    let ottos = otto.demo_sign_in("otto").await;
    for path in [
        "/admin",
        "/admin/audit",
        "/admin/flows",
        "/admin/directory",
        "/admin/identities",
    ] {
        assert_eq!(otto.get(path).await.status, StatusCode::OK, "{path}");
    }
    // Auditors read; they never act.
    assert_eq!(
        otto.get("/admin/outbox").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        otto.post("/admin/outbox/1/retry", &[("csrf", &ottos)])
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let identities = otto.get("/admin/identities").await;
    assert!(
        identities.body.contains("Bob Requester (bob@example.com)"),
        "{}",
        identities.body
    );
    let csv = otto.get("/admin/audit.csv?kind=user+upserted").await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.body.starts_with("id,at,request,actor,kind,detail\r\n"));
    assert!(
        csv.body
            .lines()
            .skip(1)
            .all(|l| l.contains(",user_upserted,")),
        "{}",
        csv.body
    );
    let bad = otto.get("/admin/audit?since=yesterday").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let flows = otto.get("/admin/flows?person=alice").await;
    assert!(
        flows
            .body
            .contains("Carol Manager is Alice Requester&#x27;s manager"),
        "{}",
        flows.body
    );
    app.stop().await;
}
