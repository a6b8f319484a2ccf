//! Requests moving through the portal: decisions, extension, giving access up, and comments
//! reaching the Slack thread.

use super::browser::{demo_app, Browser};
use super::pages::{file_carpark, state_of};
use reqwest::StatusCode;
use sesame_core::{RequestNumber, UserId};
use sesame_testkit::TestApp;

#[tokio::test]
async fn a_comment_made_in_the_portal_reaches_the_slack_thread() {
    let slack = sesame_testkit::fake_slack::FakeSlack::start().await;
    for (id, email, name) in [
        ("U0ALICE", "alice@example.com", "Alice Requester"),
        ("U0CAROL", "carol@example.com", "Carol Manager"),
    ] {
        slack.add_user(id, Some(email), name);
    }
    let app = TestApp::spawn_with_slack_and(&slack, "[portal]\ndemo = true\n").await;
    let mut alice = Browser::for_app(&app);
    let csrf = alice.demo_sign_in("alice").await;
    let number = file_carpark(&mut alice, &csrf, "visitor parking").await;
    app.drain_outbox().await;
    let requester = slack.messages_in("DU0ALICE");
    assert_eq!(requester.len(), 1, "{requester:#?}");
    let link = format!("https://sesame.test/requests/{number}");
    assert!(serde_json::to_string(&requester[0].blocks)
        .unwrap()
        .contains(&link));
    let mut carol = Browser::for_app(&app);
    let carols = carol.demo_sign_in("carol").await;
    let commented = carol
        .post(
            &format!("/requests/{number}/comments"),
            &[("csrf", &carols), ("text", "Which car?")],
        )
        .await;
    assert_eq!(commented.status, StatusCode::SEE_OTHER);
    app.drain_outbox().await;
    let thread = slack.thread("DU0ALICE", &requester[0].ts);
    assert!(
        thread.iter().any(|m| m.text.contains("Which car?")),
        "{thread:#?}"
    );
    // A comment written in Slack shows on the page, marked as coming from Slack.
    let alice_principal = app.app.principal(&UserId::new("alice").unwrap()).unwrap();
    app.app
        .comment(
            &alice_principal,
            RequestNumber(number),
            "The blue one",
            "slack:DU0ALICE:1.2",
        )
        .await
        .unwrap();
    let page = alice.get(&format!("/requests/{number}")).await;
    assert!(page.body.contains("via Slack"), "{}", page.body);
    assert!(page.body.contains("The blue one"));
    app.stop().await;
}

#[tokio::test]
async fn active_access_can_be_extended_or_given_up_from_the_request_page() {
    let app = demo_app("").await;
    let mut alice = Browser::for_app(&app);
    let alices = alice.demo_sign_in("alice").await;
    let number = file_carpark(&mut alice, &alices, "every day").await;
    let mut carol = Browser::for_app(&app);
    let carols = carol.demo_sign_in("carol").await;
    let waiting = carol.get("/waiting").await;
    assert!(
        waiting.body.contains(&format!("Approve #{number}")),
        "{}",
        waiting.body
    );
    let approved = carol
        .post(
            &format!("/requests/{number}/approve"),
            &[("csrf", &carols), ("back", "waiting")],
        )
        .await;
    assert_eq!(approved.location(), "/waiting");
    let mut fran = Browser::for_app(&app);
    let frans = fran.demo_sign_in("fran").await;
    for action in ["approve", "complete"] {
        let done = fran
            .post(&format!("/requests/{number}/{action}"), &[("csrf", &frans)])
            .await;
        assert_eq!(
            done.status,
            StatusCode::SEE_OTHER,
            "{action}: {}",
            done.body
        );
    }
    assert_eq!(state_of(&app, number).await, "active");
    // A decision on a request that has moved on is refused on the page, with the API's status.
    let late = carol
        .post(&format!("/requests/{number}/approve"), &[("csrf", &carols)])
        .await;
    assert_eq!(late.status, StatusCode::CONFLICT, "{}", late.body);
    assert!(late.body.contains("class=\"problem\""));
    let page = alice.get(&format!("/requests/{number}")).await;
    assert!(page.body.contains("Access until"), "{}", page.body);
    assert!(page.body.contains(&format!("/requests/{number}/extend")));
    assert!(page
        .body
        .contains(&format!("/requests/{number}/relinquish")));
    let extended = alice
        .post(
            &format!("/requests/{number}/extend"),
            &[
                ("csrf", &alices),
                ("duration", "7d"),
                ("reason", "one more week"),
            ],
        )
        .await;
    assert_eq!(extended.status, StatusCode::SEE_OTHER, "{}", extended.body);
    let extension = extended.location().to_owned();
    assert_ne!(extension, format!("/requests/{number}"));
    let page = alice.get(&extension).await;
    assert!(page
        .body
        .contains(&format!("<a href=\"/requests/{number}\">#{number}</a>")));
    let given_up = alice
        .post(
            &format!("/requests/{number}/relinquish"),
            &[("csrf", &alices)],
        )
        .await;
    assert_eq!(given_up.status, StatusCode::SEE_OTHER);
    assert_eq!(state_of(&app, number).await, "revoked");
    app.stop().await;
}

/// A flow fulfilled by a connector: the request page says where the grant stands and, when the
/// target system refuses, its own words.
#[tokio::test]
async fn the_request_page_shows_the_connector_and_the_target_systems_error() {
    const VPN: &str = "
id: vpn
name: VPN access
requesters: everyone
duration: { default: 1d, max: 7d }
approval:
  - { approvers: manager }
fulfillment: { connector: corp-vpn, group: vpn-users }
";
    let app = demo_app("").await;
    let vpn = sesame_core::flow::parse_flow("vpn.yaml", VPN).expect("the VPN flow");
    let flows: Vec<_> = app
        .app
        .catalog()
        .flows()
        .cloned()
        .chain(std::iter::once(vpn))
        .collect();
    app.app.replace_catalog(sesame_app::Catalog::new(flows));
    let connector = sesame_testkit::fake_connector::FakeConnector::new();
    connector.fail_next(
        1,
        sesame_core::ports::ConnectorError::Retry {
            after: None,
            reason: String::from("ldap server <b>busy</b>"),
        },
        &["grant"],
    );
    app.app.set_connectors(
        sesame_app::ConnectorRegistry::default()
            .with("corp-vpn", std::sync::Arc::new(connector.clone())),
    );

    let mut alice = Browser::for_app(&app);
    let csrf = alice.demo_sign_in("alice").await;
    let filed = alice
        .post(
            "/flows/vpn/request",
            &[("csrf", &csrf), ("justification", "working from home")],
        )
        .await;
    assert_eq!(filed.status, StatusCode::SEE_OTHER, "{}", filed.body);
    let number: i64 = filed
        .location()
        .trim_start_matches("/requests/")
        .parse()
        .unwrap();
    let mut carol = Browser::for_app(&app);
    let carols = carol.demo_sign_in("carol").await;
    let approved = carol
        .post(&format!("/requests/{number}/approve"), &[("csrf", &carols)])
        .await;
    assert_eq!(approved.status, StatusCode::SEE_OTHER, "{}", approved.body);
    app.drain_outbox().await;

    let page = alice.get(&format!("/requests/{number}")).await;
    assert!(page.body.contains("Access in corp-vpn"), "{}", page.body);
    assert!(
        page.body
            .contains("ldap server &lt;b&gt;busy&lt;&#x2f;b&gt;")
            || page.body.contains("ldap server &lt;b&gt;busy&lt;/b&gt;"),
        "the target system's words, as text: {}",
        page.body
    );
    assert!(page.body.contains("Sesame tries again"));

    // The retry succeeds: the page shows the grant and no error.
    app.advance("10m").await;
    let page = alice.get(&format!("/requests/{number}")).await;
    assert_eq!(state_of(&app, number).await, "active");
    assert!(page.body.contains("Granted"), "{}", page.body);
    assert!(!page.body.contains("busy"), "{}", page.body);
    assert_eq!(connector.grants_in_effect(), 1);
}
