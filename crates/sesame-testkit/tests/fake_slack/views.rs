//! Trigger ids, modals and Home tabs.

use super::*;

#[tokio::test]
async fn a_trigger_id_opens_one_modal_once() {
    let fake = workspace().await;
    let trigger = fake.trigger_id();
    let answer = call(
        &fake,
        "views.open",
        json!({"trigger_id": trigger, "view": modal("Request access")}),
    )
    .await;
    let view = &answer.assert_ok()["view"];
    let id = view["id"].as_str().unwrap();
    assert!(view["hash"].as_str().is_some_and(|hash| !hash.is_empty()));
    assert_eq!(fake.view(id).unwrap().kind(), "modal");

    let again = call(
        &fake,
        "views.open",
        json!({"trigger_id": trigger, "view": modal("Again")}),
    )
    .await;
    assert_eq!(again.error(), "exchanged_trigger_id");
    let unknown = call(
        &fake,
        "views.open",
        json!({"trigger_id": "123.456.abc", "view": modal("x")}),
    )
    .await;
    assert_eq!(unknown.error(), "invalid_trigger_id");
    let missing = call(&fake, "views.open", json!({"view": modal("x")})).await;
    assert_eq!(missing.error(), "invalid_arguments");
    assert_eq!(fake.views().len(), 1);
}

#[tokio::test]
async fn a_trigger_id_expires_after_three_seconds() {
    let fake = workspace().await;
    let trigger = fake.trigger_id();
    fake.advance_clock(Duration::from_millis(3_100));
    let answer = call(
        &fake,
        "views.open",
        json!({"trigger_id": trigger, "view": modal("Late")}),
    )
    .await;
    assert_eq!(answer.error(), "expired_trigger_id");

    fake.set_trigger_lifetime(Duration::from_millis(50));
    let trigger = fake.trigger_id();
    tokio::time::sleep(Duration::from_millis(80)).await;
    let answer = call(
        &fake,
        "views.open",
        json!({"trigger_id": trigger, "view": modal("Late")}),
    )
    .await;
    assert_eq!(answer.error(), "expired_trigger_id");
}

#[tokio::test]
async fn a_refused_view_explains_itself_and_leaves_the_trigger_usable() {
    let fake = workspace().await;
    let trigger = fake.trigger_id();
    let answer = call(
        &fake,
        "views.open",
        json!({"trigger_id": trigger, "view": modal("A title far too long for Slack")}),
    )
    .await;
    assert_eq!(answer.error(), "invalid_arguments");
    assert_eq!(
        answer.messages(),
        vec!["[ERROR] must be less than 25 characters [json-pointer:/view/title/text]"]
    );
    call(
        &fake,
        "views.open",
        json!({"trigger_id": trigger, "view": modal("Fixed")}),
    )
    .await
    .assert_ok();
}

#[tokio::test]
async fn views_update_follows_the_hash() {
    let fake = workspace().await;
    let mut view = modal("Step 1");
    view["external_id"] = "request-form-U1".into();
    let opened = call(
        &fake,
        "views.open",
        json!({"trigger_id": fake.trigger_id(), "view": view}),
    )
    .await;
    let id = opened.body["view"]["id"].as_str().unwrap().to_owned();
    let hash = opened.body["view"]["hash"].as_str().unwrap().to_owned();

    // An update replaces the whole view, so it names its external id again.
    let step = |title: &str| {
        let mut view = modal(title);
        view["external_id"] = "request-form-U1".into();
        view
    };
    let updated = call(
        &fake,
        "views.update",
        json!({"view_id": id, "hash": hash, "view": step("Step 2")}),
    )
    .await;
    let new_hash = updated.assert_ok()["view"]["hash"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(new_hash, hash);
    let stale = call(
        &fake,
        "views.update",
        json!({"view_id": id, "hash": hash, "view": step("Step 3")}),
    )
    .await;
    assert_eq!(stale.error(), "hash_conflict");
    let by_external_id = call(
        &fake,
        "views.update",
        json!({"external_id": "request-form-U1", "view": step("Step 3")}),
    )
    .await;
    assert_eq!(by_external_id.assert_ok()["view"]["id"], id.as_str());
    let stored = fake.view(&id).unwrap();
    assert_eq!(
        (stored.view["title"]["text"].as_str(), stored.updates),
        (Some("Step 3"), 2)
    );

    let missing = call(
        &fake,
        "views.update",
        json!({"view_id": "V404", "view": modal("x")}),
    )
    .await;
    assert_eq!(missing.error(), "not_found");
    let as_home = call(
        &fake,
        "views.update",
        json!({"view_id": id, "view": {"type": "home", "blocks": [{"type": "divider"}]}}),
    )
    .await;
    assert_eq!(as_home.error(), "invalid_arguments");
}

#[tokio::test]
async fn views_publish_keeps_one_home_tab_per_user() {
    let fake = workspace().await;
    let home = |text: &str| json!({"type": "home", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]});
    let first = call(
        &fake,
        "views.publish",
        json!({"user_id": "U1", "view": home("No requests")}),
    )
    .await;
    let id = first.assert_ok()["view"]["id"].as_str().unwrap().to_owned();
    let second = call(
        &fake,
        "views.publish",
        json!({"user_id": "U1", "view": home("1 request")}),
    )
    .await;
    assert_eq!(second.assert_ok()["view"]["id"], id.as_str());

    let published = fake.published_home("U1").unwrap();
    assert_eq!(published.view["blocks"][0]["text"]["text"], "1 request");
    assert_eq!(published.updates, 1);
    assert!(fake.published_home("U2").is_none());

    let modal_as_home = call(
        &fake,
        "views.publish",
        json!({"user_id": "U1", "view": modal("x")}),
    )
    .await;
    assert_eq!(modal_as_home.error(), "invalid_arguments");
    let stranger = call(
        &fake,
        "views.publish",
        json!({"user_id": "U404", "view": home("x")}),
    )
    .await;
    assert_eq!(stranger.error(), "user_not_found");
    let stale = call(
        &fake,
        "views.publish",
        json!({"user_id": "U1", "hash": "1.old", "view": home("x")}),
    )
    .await;
    assert_eq!(stale.error(), "hash_conflict");
}
