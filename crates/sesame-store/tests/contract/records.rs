//! Stories about the audit trail, the directory, API tokens and inbound de-duplication.

use crate::fixtures::*;
use sesame_core::{RequestNumber, Timestamp};
use sesame_store::{AuditFilter, Backend, NewToken, Store};

pub async fn the_audit_trail_is_append_only(store: Store) {
    let request = create(&store, "alice", T0).await;
    let on_request = store
        .audit(&AuditFilter {
            request: Some(request.number),
            ..AuditFilter::default()
        })
        .await
        .expect("audit")
        .len();
    store
        .append_audit(None, &event("directory_reloaded", T0 + SECOND))
        .await
        .expect("append");
    store
        .append_audit(Some(request.number), &event("note", T0 + 2 * SECOND))
        .await
        .expect("append");
    let all = store.audit(&AuditFilter::default()).await.expect("audit");
    assert_eq!(all.len(), on_request + 2);
    assert!(all.windows(2).all(|w| w[0].id < w[1].id), "oldest first");
    let last = all.last().expect("rows");
    assert_eq!(
        (last.kind.as_str(), last.request, last.at),
        ("note", Some(request.number), Timestamp(T0 + 2 * SECOND))
    );
    assert_eq!(last.detail, serde_json::json!({ "note": "note" }));

    let only = |filter: AuditFilter| {
        let store = store.clone();
        async move {
            store
                .audit(&filter)
                .await
                .expect("audit")
                .into_iter()
                .map(|r| r.kind)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        only(AuditFilter {
            kind: Some(String::from("directory_reloaded")),
            ..Default::default()
        })
        .await,
        ["directory_reloaded"]
    );
    assert_eq!(
        only(AuditFilter {
            since: Some(Timestamp(T0 + SECOND)),
            ..Default::default()
        })
        .await,
        ["directory_reloaded", "note"]
    );
    assert_eq!(
        only(AuditFilter {
            since: Some(Timestamp(T0 + SECOND)),
            until: Some(Timestamp(T0 + 2 * SECOND)),
            ..Default::default()
        })
        .await,
        ["directory_reloaded"]
    );
    assert_eq!(
        only(AuditFilter {
            after_id: Some(all[all.len() - 2].id),
            ..Default::default()
        })
        .await,
        ["note"]
    );
    assert_eq!(
        only(AuditFilter {
            limit: 1,
            ..Default::default()
        })
        .await
        .len(),
        1
    );
    assert_eq!(
        only(AuditFilter {
            actor: Some(String::from("alice")),
            ..Default::default()
        })
        .await
        .len(),
        all.iter().filter(|r| r.actor == "alice").count()
    );
    assert!(only(AuditFilter {
        request: Some(RequestNumber(request.number.0 + 1000)),
        ..Default::default()
    })
    .await
    .is_empty());

    // The database itself refuses to change or delete audit rows.
    for sql in [
        "UPDATE audit SET actor = 'mallory'",
        "DELETE FROM audit",
        "DELETE FROM audit WHERE kind = 'note'",
    ] {
        let refused = store.execute_raw_for_tests(sql).await;
        let message = refused.expect_err(sql).to_string();
        assert!(message.contains("append-only"), "{sql}: {message}");
    }
    if store.backend() == Backend::Postgres {
        assert!(
            store.execute_raw_for_tests("TRUNCATE audit").await.is_err(),
            "TRUNCATE is refused too"
        );
    }
    assert_eq!(
        store.audit(&AuditFilter::default()).await.expect("audit"),
        all
    );
}

pub async fn directory_upserts_load_and_bump_the_version(store: Store) {
    assert_eq!(store.directory_version().await.expect("version"), 0);
    assert_eq!(
        store.load_directory().await.expect("load"),
        (vec![], vec![])
    );
    let alice = person("alice", Some("carol"));
    let carol = person("carol", None);
    store
        .upsert_group(&employees(), &event("group_saved", T0))
        .await
        .expect("group");
    store
        .upsert_user(&carol, &event("user_saved", T0))
        .await
        .expect("carol");
    store
        .upsert_user(&alice, &event("user_saved", T0))
        .await
        .expect("alice");
    assert_eq!(store.directory_version().await.expect("version"), 3);
    assert_eq!(
        store.load_directory().await.expect("load"),
        (vec![alice.clone(), carol.clone()], vec![employees()])
    );

    let mut renamed = alice.clone();
    renamed.display_name = String::from("Alice Liddell");
    renamed.active = false;
    store
        .upsert_user(&renamed, &event("user_saved", T0 + 1))
        .await
        .expect("update alice");
    assert_eq!(store.directory_version().await.expect("version"), 4);
    let (users, _) = store.load_directory().await.expect("load");
    assert_eq!(users, vec![renamed, carol]);
    let audited = store
        .audit(&AuditFilter {
            kind: Some(String::from("user_saved")),
            ..AuditFilter::default()
        })
        .await
        .expect("audit");
    assert_eq!(audited.len(), 3);
    assert!(audited.iter().all(|r| r.request.is_none()));
}

pub async fn tokens_are_found_by_hash_and_revoked_once(store: Store) {
    let new = NewToken {
        name: String::from("ci"),
        user: user_id("alice"),
        hash: String::from("sha256:aaaa"),
        created_at: Timestamp(T0),
        expires_at: Some(Timestamp(T0 + DAY)),
        created_by: String::from("cli:root"),
    };
    let token = store
        .create_token(&new, &event("token_created", T0))
        .await
        .expect("create");
    assert_eq!(
        (token.name.as_str(), &token.user, token.revoked_at),
        ("ci", &user_id("alice"), None)
    );
    assert_eq!(token.created_by.as_deref(), Some("cli:root"));
    let other = NewToken {
        name: String::from("cli"),
        hash: String::from("sha256:bbbb"),
        expires_at: None,
        ..new.clone()
    };
    let other = store
        .create_token(&other, &event("token_created", T0))
        .await
        .expect("create");
    assert_eq!(
        store.token_by_hash("sha256:aaaa").await.expect("lookup"),
        Some(token.clone())
    );
    assert_eq!(
        store.token_by_hash("sha256:cccc").await.expect("lookup"),
        None
    );
    assert_eq!(
        store.list_tokens().await.expect("list"),
        vec![token.clone(), other.clone()]
    );
    assert!(token.is_usable(Timestamp(T0 + 1)));
    assert!(!token.is_usable(Timestamp(T0 + DAY)), "expired");

    assert!(store
        .revoke_token(token.id, Timestamp(T0 + 5), &event("token_revoked", T0 + 5))
        .await
        .expect("revoke"));
    assert!(!store
        .revoke_token(token.id, Timestamp(T0 + 6), &event("token_revoked", T0 + 6))
        .await
        .expect("again"));
    assert!(!store
        .revoke_token(
            other.id + 1000,
            Timestamp(T0 + 6),
            &event("token_revoked", T0 + 6)
        )
        .await
        .expect("unknown"));
    let revoked = store
        .token_by_hash("sha256:aaaa")
        .await
        .expect("lookup")
        .expect("still stored");
    assert_eq!(revoked.revoked_at, Some(Timestamp(T0 + 5)));
    assert!(!revoked.is_usable(Timestamp(T0 + 6)));
    let audited = store.audit(&AuditFilter::default()).await.expect("audit");
    let kinds: Vec<&str> = audited.iter().map(|r| r.kind.as_str()).collect();
    assert_eq!(
        kinds,
        ["token_created", "token_created", "token_revoked"],
        "only the revocation that happened is audited"
    );
}

/// Whatever writes a person as inactive (one upsert, or a directory change such as SCIM's) revokes
/// their tokens in the same transaction, audited once per person; other people's stay.
pub async fn tokens_die_with_their_person(store: Store) {
    for (who, hash) in [
        ("alice", "h-a1"),
        ("alice", "h-a2"),
        ("bob", "h-b1"),
        ("carol", "h-c1"),
    ] {
        store
            .create_token(
                &NewToken {
                    name: String::from("t"),
                    user: user_id(who),
                    hash: String::from(hash),
                    created_at: Timestamp(T0),
                    expires_at: None,
                    created_by: String::from("ada"),
                },
                &event("token_created", T0),
            )
            .await
            .expect("create");
    }
    let mut alice = person("alice", None);
    alice.active = false;
    store
        .upsert_user(&alice, &event("user_upserted", T0 + 10))
        .await
        .expect("deactivate alice");
    let mut bob = person("bob", None);
    bob.active = false;
    store
        .apply_directory_change(&sesame_store::DirectoryChange {
            users: vec![bob, person("carol", None)],
            audit: vec![event("user_deactivated", T0 + 20)],
            ..sesame_store::DirectoryChange::default()
        })
        .await
        .expect("deactivate bob");
    let revoked_at = |hash: &'static str| {
        let store = store.clone();
        async move {
            store
                .token_by_hash(hash)
                .await
                .expect("lookup")
                .expect("kept")
                .revoked_at
        }
    };
    assert_eq!(revoked_at("h-a1").await, Some(Timestamp(T0 + 10)));
    assert_eq!(revoked_at("h-a2").await, Some(Timestamp(T0 + 10)));
    assert_eq!(revoked_at("h-b1").await, Some(Timestamp(T0 + 20)));
    assert_eq!(
        revoked_at("h-c1").await,
        None,
        "an active person keeps theirs"
    );
    let revocations = store
        .audit(&AuditFilter {
            kind: Some(String::from("tokens_revoked")),
            ..AuditFilter::default()
        })
        .await
        .expect("audit");
    let people: Vec<&str> = revocations
        .iter()
        .map(|r| r.detail["user"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(people, ["alice", "bob"]);
    assert_eq!(
        revocations[0].detail["tokens"].as_array().map(Vec::len),
        Some(2)
    );
    // Writing someone inactive again revokes nothing more and audits nothing more.
    store
        .upsert_user(&alice, &event("user_upserted", T0 + 30))
        .await
        .expect("again");
    let again = store
        .audit(&AuditFilter {
            kind: Some(String::from("tokens_revoked")),
            ..AuditFilter::default()
        })
        .await
        .expect("audit");
    assert_eq!(again.len(), 2);
}

pub async fn inbound_keys_are_remembered_once(store: Store) {
    assert!(store
        .remember_inbound("slack", "Ev123", Timestamp(T0))
        .await
        .expect("first"));
    assert!(!store
        .remember_inbound("slack", "Ev123", Timestamp(T0 + 1))
        .await
        .expect("again"));
    assert!(store
        .remember_inbound("teams", "Ev123", Timestamp(T0 + 2))
        .await
        .expect("another source"));
    assert!(store
        .remember_inbound("slack", "Ev124", Timestamp(T0 + DAY))
        .await
        .expect("another key"));
    assert_eq!(
        store
            .forget_inbound_before(Timestamp(T0 + DAY))
            .await
            .expect("forget"),
        2
    );
    assert!(store
        .remember_inbound("slack", "Ev123", Timestamp(T0 + DAY))
        .await
        .expect("forgotten"));
    assert!(!store
        .remember_inbound("slack", "Ev124", Timestamp(T0 + DAY))
        .await
        .expect("kept"));
}

pub async fn the_store_answers_pings(store: Store) {
    store.ping().await.expect("ping");
    assert_eq!(
        store.job_counts().await.expect("counts"),
        sesame_store::JobCounts::default()
    );
    assert_eq!(store.next_job_at().await.expect("next"), None);
}

pub async fn chat_messages_are_recorded_once_per_purpose_and_replaced(store: Store) {
    let request = create(&store, "alice", T0).await;
    let number = request.number;
    assert_eq!(
        store
            .chat_message(number, "slack", "alice", "requester")
            .await
            .expect("read"),
        None
    );
    store
        .record_chat_message(
            number,
            "slack",
            "alice",
            "requester",
            "D1",
            "1.000001",
            None,
            Timestamp(T0),
        )
        .await
        .expect("record");
    // The same key again replaces the place (a message reposted after it was deleted, say).
    store
        .record_chat_message(
            number,
            "slack",
            "alice",
            "requester",
            "D1",
            "2.000002",
            Some("abc"),
            Timestamp(T0 + SECOND),
        )
        .await
        .expect("replace");
    store
        .record_chat_message(
            number,
            "slack",
            "carol",
            "approve:0",
            "D2",
            "3.000003",
            None,
            Timestamp(T0),
        )
        .await
        .expect("record another");
    assert_eq!(
        store
            .chat_message(number, "slack", "alice", "requester")
            .await
            .expect("read"),
        Some((
            String::from("D1"),
            String::from("2.000002"),
            Some(String::from("abc"))
        ))
    );
    assert_eq!(
        store
            .chat_message(number, "slack", "carol", "approve:0")
            .await
            .expect("read"),
        Some((String::from("D2"), String::from("3.000003"), None))
    );
    // Each part of the key counts: another platform, recipient or purpose has its own message.
    for (platform, recipient, purpose) in [
        ("teams", "alice", "requester"),
        ("slack", "carol", "requester"),
        ("slack", "alice", "approve:0"),
    ] {
        assert_eq!(
            store
                .chat_message(number, platform, recipient, purpose)
                .await
                .expect("read"),
            None,
            "{platform} {recipient} {purpose}"
        );
    }
    let missing = store
        .record_chat_message(
            RequestNumber(number.0 + 1000),
            "slack",
            "alice",
            "requester",
            "D1",
            "4.000004",
            None,
            Timestamp(T0),
        )
        .await;
    assert!(
        matches!(missing, Err(sesame_store::StoreError::NotFound(_))),
        "{missing:?}"
    );
    // A reply in a thread finds its request by where the message sits.
    let found = store
        .chat_message_at("slack", "D2", "3.000003")
        .await
        .expect("read")
        .expect("the approver's message");
    assert_eq!(
        (
            found.request,
            found.recipient.as_str(),
            found.purpose.as_str()
        ),
        (number, "carol", "approve:0")
    );
    for (platform, channel, ts) in [
        ("teams", "D2", "3.000003"),
        ("slack", "D1", "1.000001"),
        ("slack", "D9", "3.000003"),
    ] {
        assert_eq!(
            store
                .chat_message_at(platform, channel, ts)
                .await
                .expect("read"),
            None
        );
    }
}

pub async fn match_choices_are_kept_newest_first(store: Store) {
    assert!(store
        .recent_match_choices(10)
        .await
        .expect("read")
        .is_empty());
    for (i, (text, flow)) in [
        ("car spot", "carpark"),
        ("door card", "badge"),
        ("garage", "carpark"),
    ]
    .into_iter()
    .enumerate()
    {
        store
            .record_match_choice("alice", text, flow, Timestamp(T0 + i as i64 * SECOND))
            .await
            .expect("record");
    }
    let recent = store.recent_match_choices(2).await.expect("read");
    assert_eq!(
        recent,
        vec![
            (String::from("garage"), String::from("carpark")),
            (String::from("door card"), String::from("badge"))
        ]
    );
}

/// The schema knows what it applied; a migration from a newer build makes this one refuse to
/// migrate (and so to start) rather than run on a schema it does not understand.
pub async fn a_schema_from_a_newer_build_is_refused(store: Store) {
    let versions = store.schema_versions().await.expect("versions");
    assert_eq!(versions.applied, versions.known, "migrated by the fixture");
    assert!(versions.pending().is_empty() && versions.unknown().is_empty());
    assert!(versions.newer_than_this_build().is_none());
    let future = match store.backend() {
        Backend::Sqlite => "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (9999, 'from the future', 1, x'00', 0)",
        Backend::Postgres => "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (9999, 'from the future', true, '\\x00'::bytea, 0)",
    };
    store
        .execute_raw_for_tests(future)
        .await
        .expect("a newer build's row");
    let versions = store.schema_versions().await.expect("versions");
    assert_eq!(versions.unknown(), [9999]);
    let problem = versions.newer_than_this_build().expect("refused");
    assert!(problem.contains("9999"), "{problem}");
    let refused = store
        .migrate()
        .await
        .expect_err("a newer schema is not migrated");
    assert!(
        refused.to_string().contains("newer than this Sesame"),
        "{refused}"
    );
}
