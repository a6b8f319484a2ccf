//! The token: header, form argument, and what Slack does without one.

use super::*;

#[tokio::test]
async fn a_missing_token_is_not_authed_and_a_wrong_one_is_invalid() {
    let fake = workspace().await;
    let client = reqwest::Client::new();
    let body = json!({"channel": "C1", "text": "hi"}).to_string();
    let missing = client
        .post(url(&fake, "chat.postMessage"))
        .header("content-type", "application/json; charset=utf-8")
        .body(body.clone());
    assert_eq!(send(missing).await.error(), "not_authed");

    let wrong = client
        .post(url(&fake, "chat.postMessage"))
        .bearer_auth("xoxb-someone-else")
        .header("content-type", "application/json; charset=utf-8")
        .body(body.clone());
    assert_eq!(send(wrong).await.error(), "invalid_auth");

    let basic = client
        .post(url(&fake, "chat.postMessage"))
        .basic_auth("user", Some(DEFAULT_BOT_TOKEN))
        .header("content-type", "application/json; charset=utf-8")
        .body(body);
    assert_eq!(send(basic).await.error(), "invalid_auth");
    assert!(fake.messages_in("C1").is_empty());
}

#[tokio::test]
async fn a_token_argument_counts_in_forms_but_not_in_json() {
    let fake = workspace().await;
    let client = reqwest::Client::new();
    let form = client
        .post(url(&fake, "auth.test"))
        .form(&[("token", DEFAULT_BOT_TOKEN)]);
    let answer = send(form).await;
    assert_eq!(answer.assert_ok()["bot_id"], "BFAKEBOT1");

    let json_body = client
        .post(url(&fake, "auth.test"))
        .header("content-type", "application/json; charset=utf-8")
        .body(json!({"token": DEFAULT_BOT_TOKEN}).to_string());
    assert_eq!(send(json_body).await.error(), "not_authed");
    // The token never shows up in what tests read back.
    assert!(fake
        .calls()
        .iter()
        .all(|call| call.body.get("token").is_none()));
}

#[tokio::test]
async fn a_fake_can_use_another_token() {
    let fake = FakeSlack::start_with_token("xoxb-custom").await;
    assert_eq!(
        call(&fake, "auth.test", json!({})).await.error(),
        "invalid_auth"
    );
    assert_eq!(fake.bot_token(), "xoxb-custom");
}
