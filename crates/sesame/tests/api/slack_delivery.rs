//! Slack delivery: the notifier against the fake Slack, driven through the REST API.

use super::carpark;
use reqwest::StatusCode;
use serde_json::json;
use sesame_testkit::{TestApp, TestDatabase};

/// Slack: the people of the fixture directory as Slack users, and a notifier pointed at the fake.
/// Carol, Alice and Fran are linked in the directory; Fred is found by email.
async fn spawn_with_slack() -> (TestApp, sesame_testkit::fake_slack::FakeSlack) {
    let slack = sesame_testkit::fake_slack::FakeSlack::start().await;
    for (id, email, name) in [
        ("U0ALICE", "alice@example.com", "Alice Requester"),
        ("U0CAROL", "carol@example.com", "Carol Manager"),
        ("U0FRAN", "fran@example.com", "Fran Facilities"),
        ("U0FRED", "fred@example.com", "Fred Facilities"),
    ] {
        slack.add_user(id, Some(email), name);
    }
    let catalog = std::sync::Arc::new(
        sesame_app::Catalog::load_dir(&sesame_testkit::fixtures().join("flows"))
            .expect("the fixture flows load"),
    );
    let flows: sesame_slack::notifier::FlowLookup =
        std::sync::Arc::new(move |id| catalog.get(id.as_str()).cloned());
    let notifier = sesame_slack::notifier::SlackNotifier::new(
        slack.client(),
        String::from("https://sesame.test"),
        flows,
    );
    let app = TestApp::spawn_with(TestDatabase::Sqlite, vec![std::sync::Arc::new(notifier)])
        .await
        .unwrap();
    (app, slack)
}

/// The only top-level message in a DM, after checking there is exactly one.
fn only_message(
    slack: &sesame_testkit::fake_slack::FakeSlack,
    channel: &str,
) -> sesame_testkit::fake_slack::FakeMessage {
    let messages = slack.messages_in(channel);
    assert_eq!(messages.len(), 1, "one message in {channel}: {messages:#?}");
    messages.into_iter().next().unwrap()
}

fn blocks_text(message: &sesame_testkit::fake_slack::FakeMessage) -> String {
    serde_json::to_string(&message.blocks).unwrap()
}

fn has_buttons(message: &sesame_testkit::fake_slack::FakeMessage) -> bool {
    message.blocks.iter().any(|b| b["type"] == "actions")
}

#[tokio::test]
async fn slack_messages_follow_the_request_and_are_edited_in_place() {
    let (app, slack) = spawn_with_slack().await;
    let (alice, carol, fran) = (
        app.token("alice").await,
        app.token("carol").await,
        app.token("fran").await,
    );
    let number = app
        .post("/api/v1/requests", &alice, carpark("SL1"))
        .await
        .body["number"]
        .as_i64()
        .unwrap();
    app.drain_outbox().await;

    // Alice has one message titled and linked to the request's page, and a first thread reply.
    let requester = only_message(&slack, "DU0ALICE");
    let link = format!("<https://sesame.test/requests/{number}|Carpark access #{number}>");
    assert!(blocks_text(&requester).contains(&link), "{requester:#?}");
    assert!(
        requester.text.contains("Waiting for approval"),
        "{}",
        requester.text
    );
    assert_eq!(slack.thread("DU0ALICE", &requester.ts).len(), 1);
    // Carol, her manager, is asked with buttons.
    let ask = only_message(&slack, "DU0CAROL");
    let ask_blocks = blocks_text(&ask);
    assert!(ask_blocks.contains("sesame_approve") && ask_blocks.contains("sesame_deny"));

    // Slack rate-limits the first post of the next round: the job waits and loses nothing.
    slack.rate_limit_next("chat.postMessage", 1, 30);
    let approved = app
        .post(
            &format!("/api/v1/requests/{number}/approve"),
            &carol,
            json!({}),
        )
        .await;
    assert_eq!(approved.status, StatusCode::OK, "{:?}", approved.body);
    let outcome = app.drain_outbox().await;
    assert_eq!(outcome.retried, 1, "{outcome:?}");
    assert_eq!(
        app.advance("29s").await.claimed,
        0,
        "not before Retry-After"
    );
    app.advance("1s").await;

    let edited = only_message(&slack, "DU0ALICE");
    assert_eq!(edited.ts, requester.ts, "edited in place");
    assert!(edited.updates >= 1);
    assert!(edited.text.contains("step 2 of 2"), "{}", edited.text);
    let thread = slack.thread("DU0ALICE", &requester.ts);
    assert_eq!(thread.len(), 2, "{thread:#?}");
    assert!(
        thread[1].text.starts_with("Approved by <@U0CAROL>"),
        "{}",
        thread[1].text
    );
    let decided = only_message(&slack, "DU0CAROL");
    assert_eq!(decided.ts, ask.ts);
    assert!(decided.text.contains("Approved by"), "{}", decided.text);
    assert!(!has_buttons(&decided), "a decided step has no buttons");
    // Both facilities approvers are asked once, Fred through the account found by his email.
    for channel in ["DU0FRAN", "DU0FRED"] {
        assert!(has_buttons(&only_message(&slack, channel)), "{channel}");
    }
    let lookups = slack.calls_to("users.lookupByEmail");
    assert_eq!(lookups.len(), 1, "{lookups:#?}");
    assert_eq!(lookups[0].body["email"], "fred@example.com");

    app.post(
        &format!("/api/v1/requests/{number}/approve"),
        &fran,
        json!({}),
    )
    .await;
    app.drain_outbox().await;
    // Fran's approver copy is settled and a second message asks her to grant the access.
    let fran_messages = slack.messages_in("DU0FRAN");
    assert_eq!(fran_messages.len(), 2, "approval and fulfilment messages");
    assert!(!has_buttons(&fran_messages[0]));
    assert!(blocks_text(&fran_messages[1]).contains("sesame_complete"));
    let fulfil = fran_messages[1].ts.clone();
    let done = app
        .post(
            &format!("/api/v1/requests/{number}/complete"),
            &fran,
            json!({ "note": "permit 77" }),
        )
        .await;
    assert_eq!(done.body["state"], "active", "{:?}", done.body);
    app.drain_outbox().await;
    let active = only_message(&slack, "DU0ALICE");
    assert_eq!(active.ts, requester.ts);
    assert!(active.text.contains("Active until"), "{}", active.text);
    // The fulfilment message lost its buttons once done, and nothing new was posted to Fran.
    assert_eq!(slack.messages_in("DU0FRAN").len(), 2);
    let fulfilled = slack.message("DU0FRAN", &fulfil).unwrap();
    assert!(!has_buttons(&fulfilled), "{fulfilled:#?}");
    assert_eq!(slack.messages_in("DU0FRED").len(), 2);
    assert_eq!(
        slack.calls_to("users.lookupByEmail").len(),
        1,
        "Fred's account is cached"
    );

    // A comment reaches the thread, unable to ping anyone.
    let commented = app
        .post(
            &format!("/api/v1/requests/{number}/comments"),
            &carol,
            json!({ "text": "<!channel> enjoy" }),
        )
        .await;
    assert_eq!(commented.status, StatusCode::CREATED);
    app.drain_outbox().await;
    let thread = slack.thread("DU0ALICE", &requester.ts);
    let last = thread.last().unwrap();
    assert!(
        last.text.contains("&lt;!channel&gt; enjoy"),
        "{}",
        last.text
    );
    assert!(thread
        .iter()
        .all(|reply| !reply.text.contains("<!channel>")
            && !blocks_text(reply).contains("<!channel>")));

    // Every call Slack received was accepted (the fake refuses blocks over Slack's limits), apart
    // from the one 429 the test asked for.
    let refused: Vec<_> = slack
        .calls()
        .into_iter()
        .filter(|call| call.response["ok"] != true)
        .collect();
    assert_eq!(refused.len(), 1, "{refused:#?}");
    assert_eq!(refused[0].status, 429);
    app.assert_nothing_owed().await;
    app.stop().await;
}

#[tokio::test]
async fn a_repeated_notice_edits_its_message_instead_of_posting_again() {
    let (app, slack) = spawn_with_slack().await;
    let alice = app.token("alice").await;
    let number = app
        .post("/api/v1/requests", &alice, carpark("SL2"))
        .await
        .body["number"]
        .as_i64()
        .unwrap();
    app.drain_outbox().await;
    let first = only_message(&slack, "DU0ALICE");

    // The outbox delivers at least once: the same notices again change messages, never add them.
    let request = app
        .app
        .store_for_tests()
        .request(sesame_core::RequestNumber(number))
        .await
        .unwrap()
        .unwrap();
    let directory = app.app.directory();
    let log = sesame_app::message_log::StoreMessageLog::new(
        app.app.store_for_tests().clone(),
        "slack",
        app.app.now(),
    );
    // Without the flow (it was removed) messages label answers by question id; still one each.
    let notifier = sesame_slack::notifier::SlackNotifier::new(
        slack.client(),
        String::from("https://sesame.test"),
        std::sync::Arc::new(|_: &sesame_core::FlowId| None),
    );
    use sesame_app::ports::Notifier;
    for notice in [
        sesame_core::Notice::RequestUpdated,
        sesame_core::Notice::ApprovalRequested {
            step: 0,
            approvers: vec![sesame_core::UserId::new("carol").unwrap()],
        },
    ] {
        let context = sesame_app::ports::DeliveryContext {
            directory: &directory,
            log: &log,
            overviews: &app.app,
            attempt: 2,
        };
        notifier
            .deliver(&request, &notice, &context)
            .await
            .expect("delivered again");
    }
    assert_eq!(only_message(&slack, "DU0ALICE").ts, first.ts);
    assert_eq!(
        slack.thread("DU0ALICE", &first.ts).len(),
        1,
        "no repeated reply"
    );
    only_message(&slack, "DU0CAROL");

    // A post that reached Slack but was never recorded (a crash in between) is found by its tag.
    let orphan = app
        .post("/api/v1/requests", &alice, carpark("SL3"))
        .await
        .body["number"]
        .as_i64()
        .unwrap();
    let orphan_request = app
        .app
        .store_for_tests()
        .request(sesame_core::RequestNumber(orphan))
        .await
        .unwrap()
        .unwrap();
    let forgetful = ForgetfulLog;
    let context = sesame_app::ports::DeliveryContext {
        directory: &directory,
        log: &forgetful,
        overviews: &app.app,
        attempt: 1,
    };
    notifier
        .deliver(
            &orphan_request,
            &sesame_core::Notice::RequestUpdated,
            &context,
        )
        .await
        .expect("posted");
    // The outbox's own delivery of that notice is its second attempt (the first one "crashed"
    // after posting): only now is the conversation read for the post nobody recorded.
    let history_reads = slack.calls_to("conversations.history").len();
    app.app
        .store_for_tests()
        .execute_raw_for_tests("UPDATE jobs SET attempts = 1 WHERE status = 'pending'")
        .await
        .unwrap();
    app.drain_outbox().await;
    assert!(slack.calls_to("conversations.history").len() > history_reads);
    let alices = slack.messages_in("DU0ALICE");
    assert_eq!(alices.len(), 2, "one message per request: {alices:#?}");
    app.assert_nothing_owed().await;
    app.stop().await;
}

/// A message log that forgets everything, as if the process died after each post.
struct ForgetfulLog;

#[async_trait::async_trait]
impl sesame_app::ports::MessageLog for ForgetfulLog {
    async fn find(
        &self,
        _request: sesame_core::RequestNumber,
        _recipient: &str,
        _purpose: &str,
    ) -> Result<Option<sesame_app::ports::PostedMessage>, sesame_app::ports::DeliveryError> {
        Ok(None)
    }

    async fn record(
        &self,
        _request: sesame_core::RequestNumber,
        _recipient: &str,
        _purpose: &str,
        _message: &sesame_app::ports::PostedMessage,
    ) -> Result<(), sesame_app::ports::DeliveryError> {
        Ok(())
    }
}

#[tokio::test]
async fn rate_limits_delay_messages_however_long_they_last_but_never_drop_them() {
    let (app, slack) = spawn_with_slack().await;
    let alice = app.token("alice").await;
    // More 429s in a row than the outbox's attempts before giving up on a failing job.
    let limited = (sesame_app::dispatcher::MAX_ATTEMPTS as usize) * 2;
    slack.rate_limit_next("chat.postMessage", limited, 1);
    app.post("/api/v1/requests", &alice, carpark("RL1")).await;
    for _ in 0..limited * 2 {
        app.advance("1s").await;
    }
    let dead = app.app.store_for_tests().job_counts().await.unwrap().dead;
    assert_eq!(dead, 0, "a rate limit never kills a message");
    only_message(&slack, "DU0ALICE");
    only_message(&slack, "DU0CAROL");
    app.assert_nothing_owed().await;
    app.stop().await;
}
