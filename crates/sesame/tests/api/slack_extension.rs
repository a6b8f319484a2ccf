//! Slack's "access ending soon" reply: Extend (a modal, then an extension request through the
//! flow's approvals) and Remove now (confirmed in Slack, then the connector removes the access).

use reqwest::StatusCode;
use serde_json::{json, Value};
use sesame_app::{Catalog, ConnectorRegistry};
use sesame_testkit::fake_connector::FakeConnector;
use sesame_testkit::fake_slack::{FakeMessage, FakeSlack};
use sesame_testkit::slack_driver::{ClickedIn, SlackDriver};
use sesame_testkit::TestApp;
use std::sync::Arc;
use std::time::Duration;

const VPN: &str = "
id: vpn
name: VPN access
requesters: everyone
duration: { default: 2d, max: 7d, requester_chooses: true }
approval:
  - { approvers: manager }
fulfillment: { connector: corp-vpn, group: vpn-users }
";

async fn slack_app_with(connector: &FakeConnector) -> (FakeSlack, TestApp, SlackDriver) {
    let slack = FakeSlack::start().await;
    for (id, email, name) in [
        ("U0ALICE", "alice@example.com", "Alice Requester"),
        ("U0BOB", "bob@example.com", "Bob Requester"),
        ("U0CAROL", "carol@example.com", "Carol Manager"),
    ] {
        slack.add_user(id, Some(email), name);
        slack.open_dm(id);
    }
    let app = TestApp::spawn_with_slack(&slack).await;
    let vpn = sesame_core::flow::parse_flow("vpn.yaml", VPN).expect("the VPN flow");
    let flows: Vec<_> = app
        .app
        .catalog()
        .flows()
        .cloned()
        .chain(std::iter::once(vpn))
        .collect();
    app.app.replace_catalog(Catalog::new(flows));
    app.app
        .set_connectors(ConnectorRegistry::default().with("corp-vpn", Arc::new(connector.clone())));
    let driver = app.slack_driver();
    (slack, app, driver)
}

async fn eventually<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(found) = check() {
            return found;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The block id and element of the first element with this action id.
fn element(blocks: &[Value], action_id: &str) -> Option<(String, Value)> {
    blocks.iter().find_map(|block| {
        let block_id = block["block_id"].as_str().unwrap_or_default().to_owned();
        block["elements"]
            .as_array()?
            .iter()
            .find(|e| e["action_id"] == action_id)
            .map(|e| (block_id, e.clone()))
    })
}

async fn click(
    driver: &SlackDriver,
    slack: &FakeSlack,
    user: &str,
    message: &FakeMessage,
    action_id: &str,
) -> sesame_testkit::Reply {
    let (block_id, button) = element(&message.blocks, action_id)
        .unwrap_or_else(|| panic!("{action_id} in {:?}", message.blocks));
    let payload = driver.block_actions(
        user,
        &slack.trigger_id(),
        ClickedIn::Message {
            channel: &message.channel,
            ts: &message.ts,
        },
        json!({"action_id": action_id, "block_id": block_id, "type": "button", "value": button["value"]}),
    );
    driver.interaction(&payload).await
}

async fn state(app: &TestApp, number: i64) -> Value {
    let ada = app.token("ada").await;
    app.get(&format!("/api/v1/requests/{number}"), &ada)
        .await
        .body
}

#[tokio::test]
async fn the_ending_soon_reply_extends_through_approval_or_removes_at_once() {
    let connector = FakeConnector::new();
    let (slack, app, driver) = slack_app_with(&connector).await;
    let alice = app.token("alice").await;
    let carol = app.token("carol").await;
    let created = app
        .post(
            "/api/v1/requests",
            &alice,
            json!({ "flow": "vpn", "answers": {} }),
        )
        .await;
    let number = created.body["number"].as_i64().expect("number");
    app.post(
        &format!("/api/v1/requests/{number}/approve"),
        &carol,
        json!({}),
    )
    .await;
    app.drain_outbox().await;
    assert_eq!(state(&app, number).await["state"], "active");

    // A day before the end the requester is warned, with Extend and Remove now.
    app.advance("1d").await;
    let requester = slack
        .messages_in("DU0ALICE")
        .into_iter()
        .find(|m| {
            serde_json::to_string(&m.blocks)
                .unwrap_or_default()
                .contains("VPN access")
        })
        .expect("the requester's message");
    let warning = slack
        .thread("DU0ALICE", &requester.ts)
        .into_iter()
        .find(|m| m.text.contains("Access ending soon"))
        .expect("the warning");
    let (_, remove) = element(&warning.blocks, "sesame_relinquish").expect("Remove now");
    assert!(remove["confirm"].is_object(), "Remove now asks first");

    // Someone else's click opens nothing and changes nothing.
    let bob_click = click(&driver, &slack, "U0BOB", &warning, "sesame_extend").await;
    assert_eq!(bob_click.status, StatusCode::OK);

    // Extend opens the modal; submitting it files the extension.
    let opened_before = slack.calls_to("views.open").len();
    let reply = click(&driver, &slack, "U0ALICE", &warning, "sesame_extend").await;
    assert_eq!(reply.status, StatusCode::OK);
    let modal = eventually("the Extend modal", || {
        slack
            .views()
            .into_iter()
            .find(|v| v.view["callback_id"] == "sesame_extend_access")
    })
    .await;
    assert_eq!(
        slack.calls_to("views.open").len(),
        opened_before + 1,
        "only Alice's click opened a modal"
    );
    assert_eq!(modal.view["private_metadata"], number.to_string());
    let too_long = json!({
        "sesame_extend_duration": {"sesame_extend_duration": {"type": "plain_text_input", "value": "9d"}},
        "sesame_reason": {"sesame_reason": {"type": "plain_text_input", "value": "migration slipped"}}
    });
    let refused = driver
        .interaction(&driver.view_submission("U0ALICE", &modal, too_long))
        .await;
    assert_eq!(
        refused.body["response_action"], "errors",
        "{:?}",
        refused.body
    );
    assert!(refused.body["errors"]["sesame_extend_duration"]
        .as_str()
        .is_some_and(|e| e.contains("at most 1w")));
    let values = json!({
        "sesame_extend_duration": {"sesame_extend_duration": {"type": "plain_text_input", "value": "3d"}},
        "sesame_reason": {"sesame_reason": {"type": "plain_text_input", "value": "migration slipped"}}
    });
    let submitted = driver
        .interaction(&driver.view_submission("U0ALICE", &modal, values))
        .await;
    assert_eq!(
        submitted.body["response_action"], "update",
        "{:?}",
        submitted.body
    );
    let mine = app.get("/api/v1/requests?scope=mine", &alice).await;
    let extension = mine.body["requests"]
        .as_array()
        .and_then(|all| all.iter().find(|r| r["extends"] == number))
        .cloned()
        .expect("the extension request");
    assert_eq!(extension["state"], "pending_approval");
    assert_eq!(extension["duration"], "3d");
    assert_eq!(extension["justification"], "migration slipped");
    let extension_number = extension["number"].as_i64().expect("number");
    app.post(
        &format!("/api/v1/requests/{extension_number}/approve"),
        &carol,
        json!({}),
    )
    .await;
    app.drain_outbox().await;
    let extended = state(&app, number).await;
    assert_eq!(extended["extended_by"], json!([extension_number]));

    // Remove now: the access ends at once and the connector removes it.
    let warning = slack
        .thread("DU0ALICE", &requester.ts)
        .into_iter()
        .find(|m| m.text.contains("Access ending soon"))
        .expect("the warning");
    click(&driver, &slack, "U0ALICE", &warning, "sesame_relinquish").await;
    let revoked = state(&app, number).await;
    assert_eq!(revoked["state"], "revoked", "{revoked:?}");
    app.drain_outbox().await;
    assert_eq!(connector.grants_in_effect(), 0);
    app.assert_nothing_owed().await;
    app.stop().await;
}
