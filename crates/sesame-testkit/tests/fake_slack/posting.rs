//! `chat.postMessage`, threads, `chat.update` and `chat.postEphemeral`.

use super::*;

#[tokio::test]
async fn post_message_checks_its_channel() {
    let fake = workspace().await;
    fake.add_channel("CARCHIVED");
    fake.archive_channel("CARCHIVED");
    fake.add_channel("COUTSIDE");
    fake.remove_bot_from_channel("COUTSIDE");
    for (channel, error) in [
        (json!(null), "channel_not_found"),
        (json!("C404"), "channel_not_found"),
        (json!("CARCHIVED"), "is_archived"),
        (json!("COUTSIDE"), "not_in_channel"),
    ] {
        let answer = call(
            &fake,
            "chat.postMessage",
            json!({"channel": channel, "text": "x"}),
        )
        .await;
        assert_eq!(answer.error(), error, "channel {channel}");
    }
}

#[tokio::test]
async fn post_message_needs_text_or_blocks_and_caps_text() {
    let fake = workspace().await;
    let answer = call(&fake, "chat.postMessage", json!({"channel": "C1"})).await;
    assert_eq!(answer.error(), "no_text");
    let answer = call(
        &fake,
        "chat.postMessage",
        json!({"channel": "C1", "text": "", "blocks": []}),
    )
    .await;
    assert_eq!(answer.error(), "no_text");

    let at_limit = "é".repeat(40_000);
    post(&fake, "C1", &at_limit).await;
    let too_long = "x".repeat(40_001);
    let answer = call(
        &fake,
        "chat.postMessage",
        json!({"channel": "C1", "text": too_long}),
    )
    .await;
    assert_eq!(answer.error(), "msg_too_long");
}

#[tokio::test]
async fn blocks_are_checked_against_block_kit_limits() {
    let fake = workspace().await;
    let blocks: Vec<Value> = (0..51).map(|_| json!({"type": "divider"})).collect();
    let answer = call(
        &fake,
        "chat.postMessage",
        json!({"channel": "C1", "text": "x", "blocks": blocks}),
    )
    .await;
    assert_eq!(answer.error(), "invalid_blocks");
    assert_eq!(
        answer.messages(),
        vec!["[ERROR] no more than 50 items allowed [json-pointer:/blocks]"]
    );

    let long_section =
        json!([{"type": "section", "text": {"type": "mrkdwn", "text": "x".repeat(3001)}}]);
    let answer = call(
        &fake,
        "chat.postMessage",
        json!({"channel": "C1", "text": "x", "blocks": long_section}),
    )
    .await;
    assert_eq!(answer.error(), "invalid_blocks");
    assert!(answer.messages()[0].contains("/blocks/0/text/text"));

    let answer = call(
        &fake,
        "chat.postMessage",
        json!({"channel": "C1", "text": "x", "blocks": {"type": "divider"}}),
    )
    .await;
    assert_eq!(answer.error(), "invalid_blocks_format");
    assert!(fake.messages_in("C1").is_empty());
}

#[tokio::test]
async fn metadata_must_have_an_event_type_and_an_object_payload() {
    let fake = workspace().await;
    for metadata in [
        json!({"event_payload": {}}),
        json!({"event_type": "sesame_notice", "event_payload": "7"}),
        json!("not json"),
    ] {
        let answer = call(
            &fake,
            "chat.postMessage",
            json!({"channel": "C1", "text": "x", "metadata": metadata}),
        )
        .await;
        assert_eq!(answer.error(), "invalid_metadata_format", "{metadata}");
    }
    let tag = json!({"event_type": "sesame_notice", "event_payload": {"request": 7}});
    let answer = call(
        &fake,
        "chat.postMessage",
        json!({"channel": "C1", "text": "x", "metadata": tag}),
    )
    .await;
    let ts = answer.assert_ok()["ts"].as_str().unwrap().to_owned();
    assert_eq!(fake.message("C1", &ts).unwrap().metadata, Some(tag));
}

#[tokio::test]
async fn timestamps_look_like_slacks_and_always_increase() {
    let fake = workspace().await;
    let mut previous = String::new();
    for n in 0..20 {
        let ts = post(&fake, "C1", &format!("m{n}")).await;
        let (seconds, micros) = ts.split_once('.').expect("seconds.micros");
        assert_eq!(seconds.len(), 10, "{ts}");
        assert_eq!(micros.len(), 6, "{ts}");
        let as_number = |ts: &str| ts.replace('.', "").parse::<u64>().unwrap();
        if !previous.is_empty() {
            assert!(
                as_number(&ts) > as_number(&previous),
                "{ts} after {previous}"
            );
        }
        previous = ts;
    }
    assert_eq!(fake.messages_in("C1").len(), 20);
}

#[tokio::test]
async fn posting_to_a_user_id_goes_to_their_direct_messages() {
    let fake = workspace().await;
    let answer = call(
        &fake,
        "chat.postMessage",
        json!({"channel": "U1", "text": "Please approve"}),
    )
    .await;
    assert_eq!(answer.assert_ok()["channel"], "DU1");
    assert_eq!(fake.messages_in("DU1")[0].text, "Please approve");
}

#[tokio::test]
async fn replies_go_into_the_parents_thread() {
    let fake = workspace().await;
    let parent = post(&fake, "C1", "Request #7").await;
    let reply = call(
        &fake,
        "chat.postMessage",
        json!({"channel": "C1", "text": "Approved by Bob", "thread_ts": parent}),
    )
    .await;
    let reply_ts = reply.assert_ok()["ts"].as_str().unwrap().to_owned();

    assert_eq!(
        fake.messages_in("C1").len(),
        1,
        "replies are not top-level messages"
    );
    let thread = fake.thread("C1", &parent);
    assert_eq!(thread.len(), 1);
    assert_eq!(thread[0].text, "Approved by Bob");
    assert_eq!(thread[0].thread_ts.as_deref(), Some(parent.as_str()));

    for missing_parent in ["1.000001", reply_ts.as_str()] {
        let answer = call(
            &fake,
            "chat.postMessage",
            json!({"channel": "C1", "text": "x", "thread_ts": missing_parent}),
        )
        .await;
        assert_eq!(answer.error(), "thread_not_found");
    }
}

#[tokio::test]
async fn update_changes_an_existing_message_only() {
    let fake = workspace().await;
    let blocks = json!([{"type": "section", "text": {"type": "plain_text", "text": "Pending"}}]);
    let answer = call(
        &fake,
        "chat.postMessage",
        json!({"channel": "C1", "text": "Pending", "blocks": blocks}),
    )
    .await;
    let ts = answer.assert_ok()["ts"].as_str().unwrap().to_owned();

    let missing = call(
        &fake,
        "chat.update",
        json!({"channel": "C1", "ts": "1.000002", "text": "x"}),
    )
    .await;
    assert_eq!(missing.error(), "message_not_found");
    let wrong_channel = call(
        &fake,
        "chat.update",
        json!({"channel": "C9", "ts": ts, "text": "x"}),
    )
    .await;
    assert_eq!(wrong_channel.error(), "channel_not_found");
    let empty = call(&fake, "chat.update", json!({"channel": "C1", "ts": ts})).await;
    assert_eq!(empty.error(), "no_text");

    // Text only: Slack keeps the blocks.
    call(
        &fake,
        "chat.update",
        json!({"channel": "C1", "ts": ts, "text": "Approved"}),
    )
    .await
    .assert_ok();
    let message = fake.message("C1", &ts).unwrap();
    assert_eq!(
        (message.text.as_str(), message.blocks.len(), message.updates),
        ("Approved", 1, 1)
    );
    // An empty array removes them.
    call(
        &fake,
        "chat.update",
        json!({"channel": "C1", "ts": ts, "text": "Done", "blocks": []}),
    )
    .await
    .assert_ok();
    let message = fake.message("C1", &ts).unwrap();
    assert_eq!(
        (message.text.as_str(), message.blocks.len(), message.updates),
        ("Done", 0, 2)
    );

    let too_many: Vec<Value> = (0..51).map(|_| json!({"type": "divider"})).collect();
    let answer = call(
        &fake,
        "chat.update",
        json!({"channel": "C1", "ts": ts, "text": "x", "blocks": too_many}),
    )
    .await;
    assert_eq!(answer.error(), "invalid_blocks");
    assert_eq!(
        fake.message("C1", &ts).unwrap().updates,
        2,
        "a refused update changes nothing"
    );
}

#[tokio::test]
async fn ephemeral_messages_are_kept_apart_and_need_a_present_user() {
    let fake = workspace().await;
    let answer = call(
        &fake,
        "chat.postEphemeral",
        json!({"channel": "C1", "user": "U1", "text": "Only you can see this"}),
    )
    .await;
    let message_ts = answer.assert_ok()["message_ts"]
        .as_str()
        .unwrap()
        .to_owned();
    let ephemerals = fake.ephemerals();
    assert_eq!(ephemerals.len(), 1);
    assert_eq!(
        (
            ephemerals[0].user.as_str(),
            ephemerals[0].message_ts.as_str()
        ),
        ("U1", message_ts.as_str())
    );
    assert!(fake.messages_in("C1").is_empty());

    let stranger = call(
        &fake,
        "chat.postEphemeral",
        json!({"channel": "C1", "user": "U404", "text": "x"}),
    )
    .await;
    assert_eq!(stranger.error(), "user_not_in_channel");
    let no_user = call(
        &fake,
        "chat.postEphemeral",
        json!({"channel": "C1", "text": "x"}),
    )
    .await;
    assert_eq!(no_user.error(), "invalid_arguments");
}
