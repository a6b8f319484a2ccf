//! No chat message is lost or wasted: every reply Sesame owes is a committed outbox job, so a rate
//! limit or an outage defers it instead of dropping it; a delivery tried again does not re-edit
//! what already shows the same; the conversation's history is read only when an earlier attempt
//! may have posted.

use super::teams_support;
use sesame_testkit::fake_slack::{FakeSlack, InjectedFailure};
use sesame_testkit::slack_driver::SlackDriver;
use sesame_testkit::TestApp;
use std::time::Duration;

async fn slack_with(paced: bool) -> (FakeSlack, TestApp, SlackDriver) {
    let slack = FakeSlack::start().await;
    for (id, email, name) in [
        ("U0ALICE", "alice@example.com", "Alice Requester"),
        ("U0CAROL", "carol@example.com", "Carol Manager"),
        ("U0FRAN", "fran@example.com", "Fran Facilities"),
    ] {
        slack.add_user(id, Some(email), name);
        slack.open_dm(id);
    }
    let app = if paced {
        TestApp::spawn_with_slack_paced(&slack).await
    } else {
        TestApp::spawn_with_slack(&slack).await
    };
    let driver = app.slack_driver();
    (slack, app, driver)
}

/// Waits up to five seconds for `check`.
async fn eventually<T>(what: &str, check: impl FnMut() -> Option<T>) -> T {
    teams_support::eventually(what, check).await
}

/// Replies in Alice's DM from the bot (not her own messages).
fn replies_to_alice(slack: &FakeSlack) -> Vec<String> {
    slack
        .messages_in("DU0ALICE")
        .into_iter()
        .map(|m| m.text)
        .collect()
}

#[tokio::test]
async fn a_dm_reply_refused_by_a_rate_limit_is_sent_later_not_lost() {
    let (slack, app, driver) = slack_with(false).await;
    slack.rate_limit_next("chat.postMessage", 1, 2);
    let ack = driver
        .event(driver.direct_message("U0ALICE", "I need carpark access", None))
        .await;
    assert_eq!(ack.status, 200);
    eventually("the refused attempt", || {
        (!slack.calls_to("chat.postMessage").is_empty()).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(replies_to_alice(&slack).is_empty(), "Slack refused it");
    // Once the wait Slack asked for has passed, the reply goes out.
    app.advance("3s").await;
    let replies = eventually("the reply", || {
        Some(replies_to_alice(&slack)).filter(|r| !r.is_empty())
    })
    .await;
    assert_eq!(replies.len(), 1, "{replies:?}");
    assert!(replies[0].contains("Carpark"), "{replies:?}");
    app.assert_nothing_owed().await;
}

#[tokio::test]
async fn two_messages_within_a_second_are_both_answered_in_order() {
    // Sesame paces itself to Slack's one message per second per conversation: the second answer
    // waits its turn instead of being dropped by the local limiter.
    let (slack, app, driver) = slack_with(true).await;
    for text in ["I need carpark access", "and an office badge please"] {
        let ack = driver
            .event(driver.direct_message("U0ALICE", text, None))
            .await;
        assert_eq!(ack.status, 200);
    }
    eventually("the first answer", || {
        Some(replies_to_alice(&slack)).filter(|r| !r.is_empty())
    })
    .await;
    for _ in 0..5 {
        app.advance("1s").await;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let replies = eventually("both answers", || {
        Some(replies_to_alice(&slack)).filter(|r| r.len() == 2)
    })
    .await;
    assert!(replies[0].contains("Carpark"), "{replies:?}");
    assert!(replies[1].to_lowercase().contains("badge"), "{replies:?}");
    app.assert_nothing_owed().await;
}

#[tokio::test]
async fn a_reply_that_meets_a_slack_outage_is_retried_until_it_goes_out() {
    let (slack, app, driver) = slack_with(false).await;
    // Someone Sesame cannot match is told so; Slack fails the first try of that answer.
    slack.add_user("U0STRANGER", Some("stranger@elsewhere.example"), "Stranger");
    slack.open_dm("U0STRANGER");
    slack.fail_next("chat.postMessage", 1, InjectedFailure::HttpStatus(503));
    let ack = driver
        .event(driver.direct_message("U0STRANGER", "carpark please", None))
        .await;
    assert_eq!(ack.status, 200);
    eventually("the failed attempt", || {
        (!slack.calls_to("chat.postMessage").is_empty()).then_some(())
    })
    .await;
    // Retried with backoff: the answer reaches the person once Slack is back.
    app.advance("10s").await;
    let answer = eventually("the answer after the outage", || {
        slack.messages_in("DU0STRANGER").into_iter().next()
    })
    .await;
    assert!(answer.text.contains("Sesame"), "{}", answer.text);
    app.assert_nothing_owed().await;
}

#[tokio::test]
async fn teams_answers_deferred_by_a_429_are_sent_later() {
    let teams = teams_support::start().await;
    let before = teams.fake.cards(&teams.alice.conversation).len();
    teams.fake.rate_limit_next(2);
    let answer = teams
        .fake
        .send(
            &teams.app.base_url,
            &teams.fake.message(&teams.alice, "I need carpark access"),
        )
        .await;
    assert_eq!(answer.status, 200);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        teams.fake.cards(&teams.alice.conversation).len(),
        before,
        "the Connector refused the first try"
    );
    teams.app.advance("3s").await;
    let cards = eventually("the answer", || {
        Some(teams.fake.cards(&teams.alice.conversation)).filter(|c| c.len() > before)
    })
    .await;
    assert!(
        teams_support::text_of(cards.last().unwrap()).contains("Carpark"),
        "{cards:?}"
    );
    teams.app.assert_nothing_owed().await;
}

#[tokio::test]
async fn a_delivery_retried_after_a_rate_limit_does_not_edit_again_what_already_shows() {
    let (slack, app, driver) = slack_with(false).await;
    let _ = driver;
    let alice = app.token("alice").await;
    let carol = app.token("carol").await;
    let number = app
        .post("/api/v1/requests", &alice, super::carpark("DE5"))
        .await
        .body["number"]
        .as_i64()
        .unwrap();
    app.drain_outbox().await;
    // Carol approves: Alice's message is edited and a thread reply follows; Slack refuses that
    // reply once, so the delivery is tried again.
    let approved = app
        .post(
            &format!("/api/v1/requests/{number}/approve"),
            &carol,
            serde_json::json!({}),
        )
        .await;
    assert_eq!(approved.status, 200, "{:?}", approved.body);
    let edits_before = alice_edits(&slack);
    slack.rate_limit_next("chat.postMessage", 1, 1);
    app.drain_outbox().await;
    app.advance("2s").await;
    app.advance("2s").await;
    let edits = alice_edits(&slack) - edits_before;
    assert_eq!(
        edits, 1,
        "Alice's message was edited once, not again on the retry"
    );
    app.assert_nothing_owed().await;
}

fn alice_edits(slack: &FakeSlack) -> usize {
    slack
        .calls_to("chat.update")
        .iter()
        .filter(|c| c.body["channel"] == "DU0ALICE")
        .count()
}

#[tokio::test]
async fn first_deliveries_do_not_read_history_and_a_failed_read_still_posts() {
    let (slack, app, _driver) = slack_with(false).await;
    let alice = app.token("alice").await;
    app.post("/api/v1/requests", &alice, super::carpark("DE7"))
        .await;
    app.drain_outbox().await;
    assert!(
        slack.calls_to("conversations.history").is_empty(),
        "nothing can be found on a first attempt"
    );
    assert_eq!(slack.messages_in("DU0ALICE").len(), 1);

    // An attempt whose outcome is unknown reads the history; when that read fails (a missing
    // scope), the message is posted rather than given up.
    slack.fail_next(
        "conversations.history",
        5,
        InjectedFailure::SlackError(String::from("missing_scope")),
    );
    app.post("/api/v1/requests", &alice, super::carpark("DE8"))
        .await;
    app.app
        .store_for_tests()
        .execute_raw_for_tests("UPDATE jobs SET attempts = 1 WHERE status = 'pending'")
        .await
        .unwrap();
    app.drain_outbox().await;
    assert!(!slack.calls_to("conversations.history").is_empty());
    assert_eq!(slack.messages_in("DU0ALICE").len(), 2, "posted anyway");
    app.assert_nothing_owed().await;
}

/// An event whose de-duplication key and job cannot be committed (here another process holds the
/// database's write lock past the busy timeout) is not acknowledged, and nothing of it is kept:
/// Slack's retry of the same event is then taken in and answered once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_that_cannot_be_committed_is_not_acknowledged_and_its_retry_is_answered() {
    use sqlx::Connection;
    let (slack, app, driver) = slack_with(false).await;
    let (_, envelope) =
        driver.event_envelope(driver.direct_message("U0ALICE", "I need carpark access", None));
    let mut other = sqlx::SqliteConnection::connect(&app.database_url)
        .await
        .expect("another connection to the database");
    sqlx::raw_sql("BEGIN IMMEDIATE")
        .execute(&mut other)
        .await
        .expect("hold the write lock");
    let refused = driver.post_json_event(&envelope).await;
    assert_eq!(refused.status, 500, "not acknowledged without its commit");
    sqlx::raw_sql("ROLLBACK")
        .execute(&mut other)
        .await
        .expect("release the lock");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(replies_to_alice(&slack).is_empty(), "nothing was taken in");
    app.assert_nothing_owed().await;
    // Slack sends it again: now it is taken in and answered, once.
    assert_eq!(driver.post_json_event(&envelope).await.status, 200);
    let replies = eventually("the reply", || {
        Some(replies_to_alice(&slack)).filter(|r| !r.is_empty())
    })
    .await;
    assert_eq!(driver.post_json_event(&envelope).await.status, 200);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(replies_to_alice(&slack), replies, "answered once");
    assert_eq!(replies.len(), 1, "{replies:?}");
}
