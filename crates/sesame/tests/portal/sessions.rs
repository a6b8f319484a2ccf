//! Sessions (sign-out, expiry) and chat link offers, on SQLite and, when configured, PostgreSQL.

use super::browser::{demo_app, Browser};
use reqwest::StatusCode;
use sesame_core::UserId;
use sesame_testkit::TestApp;

#[tokio::test]
async fn a_link_offer_is_confirmed_once_and_expires_after_an_hour() {
    let app = demo_app("").await;
    let url = app
        .app
        .offer_chat_link("slack", "U0BOBNEW", "https://sesame.test")
        .await
        .unwrap();
    let path = url.strip_prefix("https://sesame.test").unwrap().to_owned();
    let mut bob = Browser::for_app(&app);
    // Not signed in: sign in first, then come back.
    let first = bob.get(&path).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER);
    let csrf = bob.demo_sign_in("bob").await;
    let page = bob.get(&path).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains(
            "Link Slack account <strong>U0BOBNEW</strong> to you (Bob Requester, bob@example.com)?"
        ),
        "{}",
        page.body
    );
    assert_eq!(
        bob.post(&path, &[]).await.status,
        StatusCode::FORBIDDEN,
        "no CSRF token"
    );
    let done = bob.post(&path, &[("csrf", &csrf)]).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let directory = app.app.directory();
    let bob_id = UserId::new("bob").unwrap();
    assert_eq!(
        directory.user(&bob_id).unwrap().chat.slack.as_deref(),
        Some("U0BOBNEW")
    );
    let audit = app
        .app
        .store_for_tests()
        .audit(&sesame_app::AuditFilter {
            kind: Some("chat_link_confirmed".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].actor, "bob");
    let again = bob.post(&path, &[("csrf", &csrf)]).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(bob.get(&path).await.status, StatusCode::GONE);
    // An account already linked to someone else cannot be claimed.
    let taken = app
        .app
        .offer_chat_link("slack", "U0ALICE", "https://sesame.test")
        .await
        .unwrap();
    let taken = taken
        .strip_prefix("https://sesame.test")
        .unwrap()
        .to_owned();
    let mut fred = Browser::for_app(&app);
    let freds = fred.demo_sign_in("fred").await;
    assert_eq!(
        fred.post(&taken, &[("csrf", &freds)]).await.status,
        StatusCode::CONFLICT
    );
    // Offers expire after an hour; unknown tokens are simply unknown.
    let late = app
        .app
        .offer_chat_link("teams", "T-FRED", "https://sesame.test")
        .await
        .unwrap();
    let late = late.strip_prefix("https://sesame.test").unwrap().to_owned();
    app.clock.advance(sesame_core::Span::parse("61m").unwrap());
    let expired = fred.get(&late).await;
    assert_eq!(expired.status, StatusCode::GONE);
    assert!(expired.body.contains("expired"));
    assert_eq!(
        fred.post(&late, &[("csrf", &freds)]).await.status,
        StatusCode::CONFLICT
    );
    assert!(app
        .app
        .directory()
        .user(&UserId::new("fred").unwrap())
        .unwrap()
        .chat
        .teams
        .is_none());
    assert_eq!(
        fred.get(&format!("/link/{}", "ab".repeat(32))).await.status,
        StatusCode::NOT_FOUND
    );
    assert!(app
        .app
        .offer_chat_link("irc", "x", "https://s")
        .await
        .is_err());
    app.stop().await;
}

#[tokio::test]
async fn sessions_end_on_sign_out_and_after_their_lifetime() {
    let app = demo_app("session_hours = 1\n").await;
    let mut alice = Browser::for_app(&app);
    let csrf = alice.demo_sign_in("alice").await;
    let stolen = alice.cookies.clone();
    let out = alice.post("/logout", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, StatusCode::OK);
    let mut replay = Browser::for_app(&app);
    replay.cookies = stolen;
    assert_eq!(replay.get("/requests").await.status, StatusCode::SEE_OTHER);
    let mut bob = Browser::for_app(&app);
    bob.demo_sign_in("bob").await;
    assert_eq!(bob.get("/requests").await.status, StatusCode::OK);
    app.clock.advance(sesame_core::Span::parse("61m").unwrap());
    let expired = bob.get("/requests").await;
    assert_eq!(expired.status, StatusCode::SEE_OTHER);
    assert_eq!(expired.location(), "/login?next=%2Frequests");
    app.stop().await;
}

#[tokio::test]
async fn sessions_and_link_offers_work_on_postgresql() {
    let Some(app) = TestApp::spawn_configured(
        sesame_testkit::TestDatabase::Postgres,
        Vec::new(),
        "[portal]\ndemo = true\n",
    )
    .await
    else {
        return;
    };
    let mut bob = Browser::for_app(&app);
    let csrf = bob.demo_sign_in("bob").await;
    let url = app
        .app
        .offer_chat_link("teams", "T-BOB", "https://sesame.test")
        .await
        .unwrap();
    let path = url.strip_prefix("https://sesame.test").unwrap().to_owned();
    assert_eq!(bob.get(&path).await.status, StatusCode::OK);
    assert_eq!(
        bob.post(&path, &[("csrf", &csrf)]).await.status,
        StatusCode::OK
    );
    assert_eq!(bob.get(&path).await.status, StatusCode::GONE);
    assert_eq!(
        bob.post("/logout", &[("csrf", &csrf)]).await.status,
        StatusCode::OK
    );
    assert_eq!(bob.get("/requests").await.status, StatusCode::SEE_OTHER);
    app.stop().await;
}
