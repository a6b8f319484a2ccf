//! Someone Slack cannot match to a person is sent a link, confirms it in the portal, and from
//! then on acts as that person in Slack.

use super::browser::Browser;
use reqwest::StatusCode;
use sesame_core::UserId;
use sesame_testkit::fake_slack::FakeSlack;
use sesame_testkit::TestApp;

#[tokio::test]
async fn an_unmatched_slack_account_is_linked_by_its_owner_in_the_portal() {
    let slack = FakeSlack::start().await;
    let app = TestApp::spawn_with_slack_and(&slack, "[portal]\ndemo = true\n").await;
    let driver = app.slack_driver();
    // A Slack account that shows no email: Sesame cannot guess who it is.
    slack.add_user("U0FREDNEW", None, "Fred");

    let refused = driver
        .command("U0FREDNEW", "C0GENERAL", "carpark", &slack.trigger_id())
        .await;
    // The whole sentence with its link is in the message's section block (the notification text
    // may be shortened).
    let said = refused.body["blocks"][0]["text"]["text"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(said.contains("cannot find you"), "{said}");
    let start = said.find("/link/").expect("a link to confirm");
    let path: String = said[start..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    assert!(
        slack.views().is_empty(),
        "nothing is opened for someone unknown"
    );

    let mut fred = Browser::for_app(&app);
    let csrf = fred.demo_sign_in("fred").await;
    let page = fred.get(&path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("U0FREDNEW"), "{}", page.body);
    let done = fred.post(&path, &[("csrf", &csrf)]).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let fred_id = UserId::new("fred").unwrap();
    assert_eq!(
        app.app
            .directory()
            .user(&fred_id)
            .unwrap()
            .chat
            .slack
            .as_deref(),
        Some("U0FREDNEW")
    );

    // Now the same command opens the carpark questions for Fred.
    let accepted = driver
        .command("U0FREDNEW", "C0GENERAL", "carpark", &slack.trigger_id())
        .await;
    assert_eq!(accepted.status, StatusCode::OK);
    let reply = accepted.body.to_string();
    assert!(!reply.contains("cannot find you"), "{reply}");
    assert!(reply.contains("Carpark"), "{reply}");
}

#[tokio::test]
async fn without_a_portal_sign_in_no_link_is_offered() {
    let slack = FakeSlack::start().await;
    let app = TestApp::spawn_with_slack(&slack).await;
    slack.add_user("U0FREDNEW", None, "Fred");
    let refused = app
        .slack_driver()
        .command("U0FREDNEW", "C0GENERAL", "carpark", &slack.trigger_id())
        .await;
    let said = refused.body["text"].as_str().unwrap();
    assert!(said.contains("cannot find you"), "{said}");
    assert!(!said.contains("/link/"), "{said}");
}
