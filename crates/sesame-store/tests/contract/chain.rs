//! Stories about the audit trail's hash chain, its signed checkpoints' rows, the append-only
//! triggers and the streams' cursors.

use crate::fixtures::*;
use sesame_core::engine::Command;
use sesame_core::Timestamp;
use sesame_store::chain::GENESIS;
use sesame_store::{Backend, ChainedEvent, DirectoryChange, NewCheckpoint, NewToken, Store};

/// Every event, in the chain's order.
async fn whole_chain(store: &Store) -> Vec<ChainedEvent> {
    let mut events = Vec::new();
    loop {
        let after = events.last().map_or(0, |e: &ChainedEvent| e.id);
        let page = store.audit_chain(after, 7).await.expect("read the chain");
        if page.is_empty() {
            return events;
        }
        events.extend(page);
    }
}

/// Asserts that the events form one chain from the genesis hash to the head.
async fn assert_one_chain(store: &Store) -> Vec<ChainedEvent> {
    let events = whole_chain(store).await;
    let mut prev = GENESIS.to_owned();
    for event in &events {
        assert_eq!(
            event.prev_hash.as_deref(),
            Some(prev.as_str()),
            "event {} links to the one before",
            event.id
        );
        let hash = event.expected_hash(&prev);
        assert_eq!(
            event.hash.as_deref(),
            Some(hash.as_str()),
            "event {}",
            event.id
        );
        prev = hash;
    }
    assert!(events.windows(2).all(|w| w[0].id < w[1].id));
    let head = store.audit_chain_head().await.expect("head");
    assert_eq!(head.count, events.len() as i64);
    assert_eq!(head.hash, prev);
    assert_eq!(head.event_id, events.last().map_or(0, |e| e.id));
    events
}

pub async fn every_write_extends_one_chain(store: Store) {
    assert_eq!(
        store.audit_chain_head().await.expect("head").hash,
        GENESIS,
        "an empty trail starts at the genesis hash"
    );
    let request = create(&store, "alice", T0).await;
    let request = approve(&store, &request, "carol", T0 + SECOND).await;
    store
        .add_comment(
            request.number,
            &user_id("alice"),
            "thanks",
            "api",
            &event("comment_added", T0 + 2 * SECOND),
        )
        .await
        .expect("comment");
    store
        .append_audit(None, &event("directory_reloaded", T0 + 3 * SECOND))
        .await
        .expect("append");
    store
        .upsert_user(
            &person("gina", None),
            &event("user_upserted", T0 + 4 * SECOND),
        )
        .await
        .expect("user");
    store
        .upsert_group(&employees(), &event("group_upserted", T0 + 5 * SECOND))
        .await
        .expect("group");
    store
        .apply_directory_change(&DirectoryChange {
            users: vec![person("hank", None)],
            audit: vec![
                event("user_provisioned", T0 + 6 * SECOND),
                event("group_changed", T0 + 6 * SECOND),
            ],
            ..DirectoryChange::default()
        })
        .await
        .expect("directory change");
    let token = store
        .create_token(
            &NewToken {
                name: String::from("ci"),
                user: user_id("alice"),
                hash: String::from("h"),
                created_at: Timestamp(T0),
                expires_at: None,
                created_by: String::from("ada"),
            },
            &event("token_created", T0 + 7 * SECOND),
        )
        .await
        .expect("token");
    store
        .revoke_token(
            token.id,
            Timestamp(T0),
            &event("token_revoked", T0 + 8 * SECOND),
        )
        .await
        .expect("revoke");
    // A write that is refused adds nothing to the chain.
    let stale = decision(
        &request,
        "alice",
        Command::Cancel { reason: None },
        T0 + 9 * SECOND,
    );
    assert!(store.save_transition(&stale, 1, None).await.is_err());

    let events = assert_one_chain(&store).await;
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    for kind in [
        "submitted",
        "approval_given",
        "comment_added",
        "directory_reloaded",
        "user_upserted",
        "group_upserted",
        "user_provisioned",
        "token_created",
        "token_revoked",
    ] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
    assert!(!kinds.contains(&"canceled"));
    let line: serde_json::Value =
        serde_json::from_str(&events[0].to_json_line()).expect("a JSON line");
    assert_eq!(line["at"], "2023-11-14T22:13:20.000Z");
    assert_eq!(line["request"], request.number.0);
    assert_eq!(line["hash"], events[0].hash.clone().expect("hash").as_str());
}

pub async fn concurrent_writers_keep_the_chain_linear(store: Store) {
    let mut tasks = Vec::new();
    for i in 0..16_i64 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let request = create(&store, "alice", T0 + i).await;
            approve(&store, &request, "carol", T0 + i + 1).await;
            store
                .append_audit(None, &event("directory_reloaded", T0 + i))
                .await
                .expect("append");
            store
                .add_comment(
                    request.number,
                    &user_id("bob"),
                    "hi",
                    "api",
                    &event("comment_added", T0 + i),
                )
                .await
                .expect("comment");
        }));
    }
    for task in tasks {
        task.await.expect("writer");
    }
    let events = assert_one_chain(&store).await;
    assert!(events.len() >= 16 * 4, "{}", events.len());
}

pub async fn the_append_only_guards_are_checked_and_restored(store: Store) {
    assert_eq!(
        store.audit_guard_problems().await.expect("guards"),
        Vec::<String>::new()
    );
    let tamper: &[&str] = match store.backend() {
        Backend::Sqlite => &[
            "DROP TRIGGER audit_refuses_delete",
            "DROP TRIGGER audit_refuses_update; CREATE TRIGGER audit_refuses_update BEFORE UPDATE ON audit WHEN 0 BEGIN SELECT RAISE(ABORT, 'no'); END",
        ],
        Backend::Postgres => &[
            "DROP TRIGGER audit_refuses_update_and_delete ON audit",
            "ALTER TABLE audit DISABLE TRIGGER audit_refuses_truncate",
            "CREATE OR REPLACE FUNCTION sesame_audit_requires_hash() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END; $$",
        ],
    };
    for sql in tamper {
        store.execute_raw_for_tests(sql).await.expect(sql);
    }
    let problems = store.audit_guard_problems().await.expect("guards");
    let expected: &[&str] = match store.backend() {
        Backend::Sqlite => &[
            "the trigger audit_refuses_update that keeps the audit trail append-only was changed",
            "the trigger audit_refuses_delete that keeps the audit trail append-only is missing",
        ],
        Backend::Postgres => &[
            "the trigger audit_refuses_update_and_delete that keeps the audit trail append-only is missing",
            "the trigger audit_refuses_truncate that keeps the audit trail append-only is disabled",
            "the function sesame_audit_requires_hash behind the audit trail's triggers was changed",
        ],
    };
    assert_eq!(problems, expected);
    create(&store, "alice", T0).await;
    assert!(
        store
            .execute_raw_for_tests("UPDATE audit SET actor = 'mallory'")
            .await
            .is_ok(),
        "without its trigger the trail can be changed"
    );

    store.restore_audit_guards().await.expect("restore");
    assert_eq!(
        store.audit_guard_problems().await.expect("guards"),
        Vec::<String>::new()
    );
    for sql in ["UPDATE audit SET actor = 'eve'", "DELETE FROM audit"] {
        let refused = store.execute_raw_for_tests(sql).await;
        assert!(refused.is_err(), "{sql} is refused again");
    }
    let unchained = store
        .execute_raw_for_tests(
            "INSERT INTO audit (request_number, at, actor, kind, detail) VALUES (NULL, 1, 'eve', 'x', '{}')",
        )
        .await;
    assert!(
        unchained
            .expect_err("a row without a hash")
            .to_string()
            .contains("chain hash"),
        "rows without a hash are refused"
    );
}

pub async fn rows_from_before_the_chain_are_chained_once(store: Store) {
    // As a trail written before migration 0008 looks after it: rows without hashes, and a head
    // that says up to which id they go.
    let drop_guard = match store.backend() {
        Backend::Sqlite => "DROP TRIGGER audit_refuses_unchained_insert",
        Backend::Postgres => "DROP TRIGGER audit_refuses_unchained_insert ON audit",
    };
    store.execute_raw_for_tests(drop_guard).await.expect("drop");
    for (at, kind) in [(1, "submitted"), (2, "approved"), (3, "user_upserted")] {
        store
            .execute_raw_for_tests(&format!(
                "INSERT INTO audit (request_number, at, actor, kind, detail) \
                 VALUES (NULL, {at}, 'alice', '{kind}', '{{ \"b\": 1, \"a\": [true] }}')"
            ))
            .await
            .expect("an old row");
    }
    store
        .execute_raw_for_tests(
            "UPDATE audit_head SET legacy_until = (SELECT MAX(id) FROM audit) WHERE singleton = 1",
        )
        .await
        .expect("head");

    store.migrate().await.expect("migrate again");
    let events = assert_one_chain(&store).await;
    assert_eq!(events.len(), 3);
    assert_eq!(events[0].detail, serde_json::json!({ "a": [true], "b": 1 }));
    assert_eq!(
        store.audit_guard_problems().await.expect("guards"),
        Vec::<String>::new(),
        "the triggers are back, the one lifted for chaining included"
    );
    // New events follow the old ones; chaining happens once.
    store
        .append_audit(None, &event("directory_reloaded", T0))
        .await
        .expect("append");
    store.migrate().await.expect("migrate once more");
    assert_eq!(assert_one_chain(&store).await.len(), 4);
}

pub async fn checkpoints_and_stream_cursors(store: Store) {
    assert_eq!(store.last_audit_checkpoint().await.expect("last"), None);
    create(&store, "alice", T0).await;
    let head = store.audit_chain_head().await.expect("head");
    let checkpoint = NewCheckpoint {
        event_id: head.event_id,
        hash: head.hash.clone(),
        count: head.count,
        at: Timestamp(T0),
        key_id: String::from("k1"),
        signature: String::from("sig"),
    };
    assert!(store
        .append_audit_checkpoint(&checkpoint)
        .await
        .expect("checkpoint"));
    assert!(
        !store
            .append_audit_checkpoint(&checkpoint)
            .await
            .expect("again"),
        "one checkpoint per event"
    );
    let last = store
        .last_audit_checkpoint()
        .await
        .expect("last")
        .expect("a checkpoint");
    assert_eq!(
        (last.event_id, last.hash.as_str(), last.count, last.at),
        (head.event_id, head.hash.as_str(), head.count, Timestamp(T0))
    );
    assert_eq!(store.audit_checkpoints().await.expect("all"), vec![last]);
    for sql in [
        "UPDATE audit_checkpoints SET hash = 'x'",
        "DELETE FROM audit_checkpoints",
    ] {
        assert!(store.execute_raw_for_tests(sql).await.is_err(), "{sql}");
    }

    // Streams: one holder at a time, a cursor that only moves forward.
    let now = Timestamp(T0);
    assert_eq!(
        store
            .claim_audit_stream("file", "a", now, 60_000)
            .await
            .expect("claim"),
        Some(0)
    );
    assert_eq!(
        store
            .claim_audit_stream("file", "b", now, 60_000)
            .await
            .expect("claim"),
        None,
        "a's lease runs"
    );
    assert!(store
        .advance_audit_stream("file", "a", 5, now)
        .await
        .expect("advance"));
    assert!(!store
        .advance_audit_stream("file", "b", 9, now)
        .await
        .expect("advance"));
    assert!(!store
        .advance_audit_stream("file", "a", 3, now)
        .await
        .expect("advance"));
    let later = Timestamp(T0 + 61_000);
    assert_eq!(
        store
            .claim_audit_stream("file", "b", later, 60_000)
            .await
            .expect("claim"),
        Some(5),
        "the lease ran out; b resumes where a stopped"
    );
    store
        .release_audit_stream("file", "b")
        .await
        .expect("release");
    assert_eq!(
        store
            .claim_audit_stream("file", "a", later, 60_000)
            .await
            .expect("claim"),
        Some(5)
    );
    assert_eq!(
        store.audit_stream_cursors().await.expect("cursors"),
        vec![(String::from("file"), 5)]
    );
}
