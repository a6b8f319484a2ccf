//! Sesame's Slack Web API client against the fake, end to end: what the client sends passes the
//! fake's checks, and what the fake answers (including its failures) reads back as intended.

use secrecy::SecretString;
use serde_json::{json, Value};
use sesame_slack::api::{ApiError, HistoryQuery, MessageMetadata, SlackApi, SlackMethod};
use sesame_slack::ratelimit::RateLimiter;
use sesame_testkit::fake_slack::{FakeSlack, InjectedFailure};
use std::sync::Arc;
use std::time::Duration;

async fn workspace() -> FakeSlack {
    let fake = FakeSlack::start().await;
    fake.add_channel("C1");
    fake.add_user("U1", Some("alice@example.test"), "Alice Adams");
    fake.add_user("U2", Some("bob@example.test"), "Bob Brown");
    fake
}

fn request_block(text: &str) -> Value {
    json!({"type": "section", "text": {"type": "mrkdwn", "text": text}})
}

fn tag(request: u64) -> MessageMetadata {
    MessageMetadata {
        event_type: "sesame_notice".into(),
        event_payload: json!({"request": request, "purpose": "approver"}),
    }
}

#[tokio::test]
async fn the_client_posts_threads_and_updates_messages() {
    let fake = workspace().await;
    let api = fake.client();

    let parent = api
        .chat_post_message(
            "C1",
            "Request #7",
            &[request_block("*Request #7*")],
            None,
            Some(&tag(7)),
        )
        .await
        .unwrap();
    assert_eq!(parent.channel, "C1");
    let reply = api
        .chat_post_message("C1", "Approved by Bob", &[], Some(&parent.ts), None)
        .await
        .unwrap();
    api.chat_update(
        "C1",
        &parent.ts,
        "Request #7: approved",
        &[request_block("*Approved*")],
    )
    .await
    .unwrap();

    let message = fake.message("C1", &parent.ts).unwrap();
    assert_eq!(message.text, "Request #7: approved");
    assert_eq!(message.blocks, vec![request_block("*Approved*")]);
    assert_eq!(
        message.metadata,
        Some(
            json!({"event_type": "sesame_notice", "event_payload": {"request": 7, "purpose": "approver"}})
        )
    );
    assert_eq!(fake.thread("C1", &parent.ts)[0].ts, reply.ts);

    // The client sends what Slack wants: a charset (no warning) and no unfurling.
    for call in fake.calls() {
        assert_eq!(call.response.get("warning"), None, "{call:?}");
    }
    let first = &fake.calls_to("chat.postMessage")[0];
    assert_eq!(
        (
            first.body["unfurl_links"].as_bool(),
            first.body["unfurl_media"].as_bool()
        ),
        (Some(false), Some(false))
    );
}

#[tokio::test]
async fn direct_messages_and_people() {
    let fake = workspace().await;
    let api = fake.client();

    let dm = api.conversations_open(&["U1"]).await.unwrap();
    assert_eq!(dm, "DU1");
    api.chat_post_message(&dm, "You have a request to review", &[], None, None)
        .await
        .unwrap();
    assert_eq!(fake.messages_in("DU1").len(), 1);

    let alice = api.users_info("U1").await.unwrap();
    assert_eq!(alice.profile.email.as_deref(), Some("alice@example.test"));
    assert_eq!(alice.real_name.as_deref(), Some("Alice Adams"));
    let bob = api.users_lookup_by_email("bob@example.test").await.unwrap();
    assert_eq!(bob.id, "U2");

    fake.hide_emails();
    assert_eq!(api.users_info("U1").await.unwrap().profile.email, None);
    let error = api.users_info("U404").await.unwrap_err();
    assert_eq!(error.slack_code(), Some("user_not_found"));
    assert!(!error.is_retryable());

    let identity = api.auth_test().await.unwrap();
    assert_eq!(identity.bot_id.as_deref(), Some("BFAKEBOT1"));
}

#[tokio::test]
async fn modals_and_home_tabs() {
    let fake = workspace().await;
    let api = fake.client();
    let modal = |title: &str| {
        json!({"type": "modal", "title": {"type": "plain_text", "text": title},
               "submit": {"type": "plain_text", "text": "Send"},
               "blocks": [{"type": "input", "block_id": "reason", "label": {"type": "plain_text", "text": "Why?"},
                           "element": {"type": "plain_text_input", "action_id": "reason", "multiline": true}}]})
    };

    let opened = api
        .views_open(&fake.trigger_id(), &modal("Request access"))
        .await
        .unwrap();
    let updated = api
        .views_update(&opened.id, Some(&opened.hash), &modal("Request access 2"))
        .await
        .unwrap();
    assert_eq!(updated.id, opened.id);
    let stale = api
        .views_update(&opened.id, Some(&opened.hash), &modal("Stale"))
        .await
        .unwrap_err();
    assert_eq!(stale.slack_code(), Some("hash_conflict"));

    let used = fake.calls_to("views.open")[0].body["trigger_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let exchanged = api.views_open(&used, &modal("Again")).await.unwrap_err();
    assert_eq!(exchanged.slack_code(), Some("exchanged_trigger_id"));

    let home = json!({"type": "home", "blocks": [request_block("Nothing waiting for you")]});
    api.views_publish("U1", &home).await.unwrap();
    assert_eq!(
        fake.published_home("U1").unwrap().view["blocks"],
        home["blocks"]
    );
}

#[tokio::test]
async fn refusals_keep_slacks_explanation_and_are_permanent() {
    let fake = workspace().await;
    let api = fake.client();
    let too_long = request_block(&"x".repeat(3001));
    let error = api
        .chat_post_message("C1", "x", &[too_long], None, None)
        .await
        .unwrap_err();
    match &error {
        ApiError::Slack { code, messages, .. } => {
            assert_eq!(code, "invalid_blocks");
            assert!(messages[0].contains("/blocks/0/text/text"), "{messages:?}");
        }
        other => panic!("expected invalid_blocks, got {other:?}"),
    }
    assert!(!error.is_retryable());

    let error = api
        .chat_update("C1", "1.000001", "x", &[])
        .await
        .unwrap_err();
    assert_eq!(error.slack_code(), Some("message_not_found"));
    let error = api
        .chat_post_message("C404", "x", &[], None, None)
        .await
        .unwrap_err();
    assert_eq!(error.slack_code(), Some("channel_not_found"));
}

#[tokio::test]
async fn a_wrong_token_is_invalid_auth() {
    let fake = workspace().await;
    let api = SlackApi::new(
        fake.base_url(),
        SecretString::from("xoxb-wrong"),
        reqwest::Client::new(),
    )
    .unwrap();
    let error = api.auth_test().await.unwrap_err();
    assert_eq!(error.slack_code(), Some("invalid_auth"));
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn a_429_comes_back_as_a_wait_that_every_caller_respects() {
    let fake = workspace().await;
    fake.rate_limit_next("chat.postMessage", 1, 30);
    let limiter = Arc::new(RateLimiter::new());
    let worker_one = fake.client().with_rate_limiter(limiter.clone());
    let worker_two = fake.client().with_rate_limiter(limiter);

    let error = worker_one
        .chat_post_message("C1", "x", &[], None, None)
        .await
        .unwrap_err();
    assert!(matches!(
        error,
        ApiError::RateLimited { method: SlackMethod::ChatPostMessage, retry_after } if retry_after == Duration::from_secs(30)
    ));
    let held_back = worker_two
        .chat_post_message("C1", "y", &[], None, None)
        .await
        .unwrap_err();
    assert!(
        matches!(held_back, ApiError::Throttled { .. }),
        "{held_back:?}"
    );
    assert_eq!(
        fake.calls_to("chat.postMessage").len(),
        1,
        "the held-back call never reached Slack"
    );
}

#[tokio::test]
async fn slack_side_rate_limits_and_outages_are_retryable() {
    let fake = workspace().await;
    let api = fake.client();
    fake.enforce_post_message_rate(true);
    api.chat_post_message("C1", "one", &[], None, None)
        .await
        .unwrap();
    let error = api
        .chat_post_message("C1", "two", &[], None, None)
        .await
        .unwrap_err();
    assert_eq!(error.retry_after(), Some(Duration::from_secs(1)));
    assert!(error.is_retryable());

    fake.fail_next("users.info", 1, InjectedFailure::HttpStatus(502));
    let error = api.users_info("U1").await.unwrap_err();
    assert!(matches!(error, ApiError::Unavailable { .. }), "{error:?}");
    fake.fail_next(
        "users.info",
        1,
        InjectedFailure::SlackError("internal_error".into()),
    );
    assert!(api.users_info("U1").await.unwrap_err().is_retryable());
}

/// The duplicate-post window: the post took effect but the answer never arrived in time. Before
/// posting again the worker looks for its tag and finds the message it already posted.
#[tokio::test]
async fn a_timed_out_post_is_found_by_its_tag_instead_of_posted_twice() {
    let fake = workspace().await;
    let api = fake.client().with_call_timeout(Duration::from_millis(100));
    api.chat_post_message("C1", "someone else's", &[], None, Some(&tag(8)))
        .await
        .unwrap();
    let started_at = fake.calls()[0].response["ts"].as_str().unwrap().to_owned();

    fake.fail_next(
        "chat.postMessage",
        1,
        InjectedFailure::AnswerLate(Duration::from_secs(2)),
    );
    let error = api
        .chat_post_message("C1", "Request #7", &[], None, Some(&tag(7)))
        .await
        .unwrap_err();
    assert!(matches!(error, ApiError::Unavailable { .. }), "{error:?}");
    assert!(error.is_retryable());

    let found = api
        .find_tagged_message(
            "C1",
            Some(&started_at),
            "sesame_notice",
            |payload| payload["request"] == 7,
            3,
        )
        .await
        .unwrap()
        .expect("the post that timed out is there");
    assert_eq!(found.text, "Request #7");
    let none = api
        .find_tagged_message(
            "C1",
            Some(&started_at),
            "sesame_notice",
            |payload| payload["request"] == 9,
            3,
        )
        .await
        .unwrap();
    assert_eq!(none, None);
}

#[tokio::test]
async fn history_pages_through_the_client() {
    let fake = workspace().await;
    let api = fake.client();
    for n in 0..5 {
        api.chat_post_message("C1", &format!("m{n}"), &[], None, None)
            .await
            .unwrap();
    }
    let first = api
        .conversations_history(
            "C1",
            HistoryQuery {
                oldest: None,
                limit: 3,
                cursor: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        first
            .messages
            .iter()
            .map(|m| m.text.as_str())
            .collect::<Vec<_>>(),
        ["m4", "m3", "m2"]
    );
    let cursor = first.next_cursor.expect("more to read");
    let rest = api
        .conversations_history(
            "C1",
            HistoryQuery {
                oldest: None,
                limit: 3,
                cursor: Some(&cursor),
            },
        )
        .await
        .unwrap();
    assert_eq!(rest.messages.len(), 2);
    assert_eq!(rest.next_cursor, None);
}
