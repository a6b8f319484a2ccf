//! `conversations.history`, which the client reads to find its own tagged posts.

use super::*;

#[tokio::test]
async fn history_pages_newest_first_and_shows_metadata_only_when_asked() {
    let fake = workspace().await;
    let tag = json!({"event_type": "sesame_notice", "event_payload": {"request": 1}});
    let first = call(
        &fake,
        "chat.postMessage",
        json!({"channel": "C1", "text": "m0", "metadata": tag}),
    )
    .await;
    let first_ts = first.body["ts"].as_str().unwrap().to_owned();
    for n in 1..5 {
        post(&fake, "C1", &format!("m{n}")).await;
    }
    call(
        &fake,
        "chat.postMessage",
        json!({"channel": "C1", "text": "reply", "thread_ts": first_ts}),
    )
    .await;

    let page = call(
        &fake,
        "conversations.history",
        json!({"channel": "C1", "limit": 3}),
    )
    .await;
    let texts: Vec<&str> = page.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["m4", "m3", "m2"]);
    assert_eq!(page.body["has_more"], true);
    let cursor = page.body["response_metadata"]["next_cursor"]
        .as_str()
        .unwrap()
        .to_owned();

    let rest = call(
        &fake,
        "conversations.history",
        json!({"channel": "C1", "limit": 3, "cursor": cursor}),
    )
    .await;
    let messages = rest.body["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[1]["text"], "m0");
    assert_eq!(messages[1]["reply_count"], 1);
    assert!(messages[1].get("metadata").is_none());
    assert_eq!(rest.body["has_more"], false);
    assert_eq!(rest.body["response_metadata"]["next_cursor"], "");

    let with_metadata = call(
        &fake,
        "conversations.history",
        json!({"channel": "C1", "include_all_metadata": true, "oldest": "0"}),
    )
    .await;
    let oldest_message = with_metadata.body["messages"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(oldest_message["metadata"], tag);

    let after_first = call(
        &fake,
        "conversations.history",
        json!({"channel": "C1", "oldest": first_ts}),
    )
    .await;
    assert_eq!(
        after_first.body["messages"].as_array().unwrap().len(),
        4,
        "oldest is exclusive"
    );
    let bad_cursor = call(
        &fake,
        "conversations.history",
        json!({"channel": "C1", "cursor": "nope"}),
    )
    .await;
    assert_eq!(bad_cursor.error(), "invalid_cursor");
    let unknown = call(&fake, "conversations.history", json!({"channel": "C404"})).await;
    assert_eq!(unknown.error(), "channel_not_found");
}
