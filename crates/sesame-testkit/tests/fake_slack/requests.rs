//! How calls may arrive (JSON, form, query) and how they are recorded.

use super::*;

#[tokio::test]
async fn unknown_methods_are_refused() {
    let fake = workspace().await;
    assert_eq!(
        call(&fake, "chat.scheduleMessage", json!({})).await.error(),
        "unknown_method"
    );
}

#[tokio::test]
async fn json_without_a_charset_works_with_slacks_warning() {
    let fake = workspace().await;
    let request = reqwest::Client::new()
        .post(url(&fake, "chat.postMessage"))
        .bearer_auth(DEFAULT_BOT_TOKEN)
        .json(&json!({"channel": "C1", "text": "hi"}));
    let answer = send(request).await;
    answer.assert_ok();
    assert_eq!(answer.body["warning"], "missing_charset");
    assert_eq!(
        answer.body["response_metadata"]["warnings"],
        json!(["missing_charset"])
    );
}

#[tokio::test]
async fn form_bodies_carry_blocks_as_json_text() {
    let fake = workspace().await;
    let blocks = json!([{"type": "divider"}]).to_string();
    let request = reqwest::Client::new()
        .post(url(&fake, "chat.postMessage"))
        .bearer_auth(DEFAULT_BOT_TOKEN)
        .form(&[
            ("channel", "C1"),
            ("text", "form"),
            ("blocks", blocks.as_str()),
        ]);
    let ts = send(request).await.assert_ok()["ts"]
        .as_str()
        .unwrap()
        .to_owned();
    let message = fake.message("C1", &ts).unwrap();
    assert_eq!(message.blocks, vec![json!({"type": "divider"})]);
    assert_eq!(fake.calls()[0].body["blocks"], json!([{"type": "divider"}]));
}

#[tokio::test]
async fn get_with_query_arguments_works_for_reads() {
    let fake = workspace().await;
    let request = reqwest::Client::new()
        .get(format!("{}?user=U1", url(&fake, "users.info")))
        .bearer_auth(DEFAULT_BOT_TOKEN);
    let answer = send(request).await;
    assert_eq!(answer.assert_ok()["user"]["real_name"], "Alice Adams");
}

#[tokio::test]
async fn broken_bodies_are_refused_with_slacks_codes() {
    let fake = workspace().await;
    let client = reqwest::Client::new();
    let broken_json = client
        .post(url(&fake, "chat.postMessage"))
        .bearer_auth(DEFAULT_BOT_TOKEN)
        .header("content-type", "application/json; charset=utf-8")
        .body("{\"channel\": ");
    assert_eq!(send(broken_json).await.error(), "invalid_json");
    let plain_text = client
        .post(url(&fake, "chat.postMessage"))
        .bearer_auth(DEFAULT_BOT_TOKEN)
        .header("content-type", "text/csv")
        .body("channel,text");
    assert_eq!(send(plain_text).await.error(), "invalid_post_type");
}

#[tokio::test]
async fn every_call_is_recorded_with_its_answer_and_clear_forgets_them() {
    let fake = workspace().await;
    post(&fake, "C1", "one").await;
    call(
        &fake,
        "chat.postMessage",
        json!({"channel": "nowhere", "text": "x"}),
    )
    .await;

    let calls = fake.calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].method, "chat.postMessage");
    assert_eq!(calls[0].body, json!({"channel": "C1", "text": "one"}));
    assert_eq!(calls[0].status, 200);
    assert_eq!(calls[1].error(), Some("channel_not_found"));
    assert!(calls[0].at <= calls[1].at);
    assert_eq!(fake.calls_to("chat.postMessage").len(), 2);

    fake.clear();
    assert!(fake.calls().is_empty());
    assert!(fake.messages_in("C1").is_empty());
    // The workspace stays: the channel and people still exist.
    post(&fake, "C1", "after clear").await;
}
