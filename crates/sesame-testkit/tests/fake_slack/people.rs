//! `users.info`, `users.lookupByEmail` and `conversations.open`.

use super::*;

#[tokio::test]
async fn users_info_answers_for_registered_people_only() {
    let fake = workspace().await;
    let answer = call(&fake, "users.info", json!({"user": "U1"})).await;
    let user = &answer.assert_ok()["user"];
    assert_eq!(user["profile"]["email"], "alice@example.test");
    assert_eq!(user["deleted"], false);
    assert_eq!(
        call(&fake, "users.info", json!({"user": "U404"}))
            .await
            .error(),
        "user_not_found"
    );

    fake.deactivate_user("U1");
    let answer = call(&fake, "users.info", json!({"user": "U1"})).await;
    assert_eq!(answer.assert_ok()["user"]["deleted"], true);
}

#[tokio::test]
async fn without_the_email_scope_profiles_have_no_email() {
    let fake = workspace().await;
    let found = call(
        &fake,
        "users.lookupByEmail",
        json!({"email": "BOB@example.test"}),
    )
    .await;
    assert_eq!(found.assert_ok()["user"]["id"], "U2");
    assert_eq!(
        call(&fake, "users.lookupByEmail", json!({"email": "x@y.z"}))
            .await
            .error(),
        "users_not_found"
    );

    fake.hide_emails();
    let answer = call(&fake, "users.info", json!({"user": "U1"})).await;
    assert!(answer.assert_ok()["user"]["profile"].get("email").is_none());
    let refused = call(
        &fake,
        "users.lookupByEmail",
        json!({"email": "bob@example.test"}),
    )
    .await;
    assert_eq!(refused.error(), "missing_scope");
    assert_eq!(refused.body["needed"], "users:read.email");
}

#[tokio::test]
async fn conversations_open_gives_a_stable_dm_per_user() {
    let fake = workspace().await;
    fake.add_bot_user("UBOT2", "otherbot");
    fake.add_user("U3", None, "Carol");
    fake.deactivate_user("U3");

    let first = call(&fake, "conversations.open", json!({"users": "U1"})).await;
    assert_eq!(first.assert_ok()["channel"]["id"], "DU1");
    let again = call(&fake, "conversations.open", json!({"users": "U1"})).await;
    assert_eq!(again.assert_ok()["channel"]["id"], "DU1");
    let group = call(&fake, "conversations.open", json!({"users": "U2,U1"})).await;
    assert_eq!(group.assert_ok()["channel"]["id"], "GU1U2");

    for (users, error) in [
        ("U404", "user_not_found"),
        ("UBOT2", "cannot_dm_bot"),
        ("U3", "user_disabled"),
        ("", "users_list_not_supplied"),
    ] {
        let answer = call(&fake, "conversations.open", json!({"users": users})).await;
        assert_eq!(answer.error(), error, "users {users:?}");
    }
    post(&fake, "DU1", "now the DM exists").await;
}
