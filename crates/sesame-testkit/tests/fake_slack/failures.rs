//! Rate limits and the failures tests inject.

use super::*;

#[tokio::test]
async fn the_next_calls_can_be_rate_limited() {
    let fake = workspace().await;
    fake.rate_limit_next("chat.postMessage", 2, 7);
    for _ in 0..2 {
        let answer = call(
            &fake,
            "chat.postMessage",
            json!({"channel": "C1", "text": "x"}),
        )
        .await;
        assert_eq!(answer.status, 429);
        assert_eq!(answer.retry_after.as_deref(), Some("7"));
        assert_eq!(answer.error(), "ratelimited");
    }
    post(&fake, "C1", "third time lucky").await;
    assert_eq!(fake.messages_in("C1").len(), 1);
    // Only the method named is affected.
    fake.rate_limit_next("chat.update", 1, 1);
    post(&fake, "C1", "posts still work").await;
}

#[tokio::test]
async fn one_post_per_second_per_channel_when_enforced() {
    let fake = workspace().await;
    fake.add_channel("C2");
    fake.enforce_post_message_rate(true);
    post(&fake, "C1", "first").await;
    let second = call(
        &fake,
        "chat.postMessage",
        json!({"channel": "C1", "text": "second"}),
    )
    .await;
    assert_eq!(
        (second.status, second.retry_after.as_deref()),
        (429, Some("1"))
    );
    post(&fake, "C2", "another channel is fine").await;

    fake.advance_clock(Duration::from_secs(1));
    post(&fake, "C1", "a second later").await;
    assert_eq!(fake.messages_in("C1").len(), 2);
}

#[tokio::test]
async fn injected_errors_and_bad_gateways() {
    let fake = workspace().await;
    fake.fail_next(
        "users.info",
        1,
        InjectedFailure::SlackError("internal_error".into()),
    );
    fake.fail_next("users.info", 1, InjectedFailure::HttpStatus(503));
    assert_eq!(
        call(&fake, "users.info", json!({"user": "U1"}))
            .await
            .error(),
        "internal_error"
    );
    let gateway = call(&fake, "users.info", json!({"user": "U1"})).await;
    assert_eq!(gateway.status, 503);
    assert!(
        gateway.body.is_string(),
        "a gateway's page is not Slack's JSON"
    );
    call(&fake, "users.info", json!({"user": "U1"}))
        .await
        .assert_ok();
}

#[tokio::test]
async fn a_late_answer_still_takes_effect() {
    let fake = workspace().await;
    fake.fail_next(
        "chat.postMessage",
        1,
        InjectedFailure::AnswerLate(Duration::from_millis(300)),
    );
    let started = std::time::Instant::now();
    post(&fake, "C1", "slow").await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(fake.messages_in("C1").len(), 1);
}

#[tokio::test]
async fn injected_failures_come_after_the_token_check() {
    let fake = workspace().await;
    fake.rate_limit_next("auth.test", 1, 5);
    let request = reqwest::Client::new()
        .post(url(&fake, "auth.test"))
        .header("content-type", "application/json; charset=utf-8")
        .body("{}");
    assert_eq!(send(request).await.error(), "not_authed");
    assert_eq!(call(&fake, "auth.test", json!({})).await.status, 429);
}
