//! The audit trail as evidence, on SQLite and on PostgreSQL (when `SESAME_TEST_POSTGRES_URL` names
//! an admin URL): verification finds an inserted, a deleted and an edited row, a dropped trigger, a
//! chain recomputed to hide an edit and a forged checkpoint; start-up restores the triggers and
//! says so in the trail; streams resume after their last acknowledged event.

use serde_json::json;
use sesame_app::audit_trail::{
    AuditPublicKey, AuditSigner, AuditSink, CheckpointPolicy, StreamStep,
};
use sesame_app::{App, AppParts, Catalog, ChainedEvent, ManualClock, Roles};
use sesame_core::{Actor, AuditEvent, RequestNumber, Span, Timestamp};
use sesame_store::{create_test_database, Backend, NewCheckpoint, Store};
use std::future::Future;
use std::sync::{Arc, Mutex};

/// 2026-01-05T09:00:00Z.
const T0: i64 = 1_767_603_600_000;

struct Trail {
    app: App,
    store: Store,
    clock: Arc<ManualClock>,
    signer: AuditSigner,
    _dir: tempfile::TempDir,
}

impl Trail {
    fn key(&self) -> AuditPublicKey {
        self.signer.public_key().clone()
    }

    /// Appends `n` events, one a second, alternating between two requests.
    async fn events(&self, n: i64) {
        for i in 0..n {
            self.clock.advance(Span::from_seconds(1));
            let event = AuditEvent::new(
                self.app.now(),
                &Actor::System,
                "note",
                json!({ "i": i, "text": "x" }),
            );
            self.store
                .append_audit(Some(RequestNumber(1 + i % 2)), &event)
                .await
                .expect("append");
        }
    }

    async fn checkpoint(&self) {
        self.app
            .checkpoint_audit(&self.signer, CheckpointPolicy::default(), true)
            .await
            .expect("checkpoint")
            .expect("a checkpoint was written");
    }

    async fn raw(&self, sql: &str) {
        self.store
            .execute_raw_for_tests(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// Drops a trigger (`update`, `delete` or `insert`) as someone with database access could.
    async fn drop_trigger(&self, which: &str) {
        let sql = match (self.store.backend(), which) {
            (Backend::Sqlite, "update") => "DROP TRIGGER audit_refuses_update",
            (Backend::Sqlite, "delete") => "DROP TRIGGER audit_refuses_delete",
            (Backend::Sqlite, _) => "DROP TRIGGER audit_refuses_unchained_insert",
            (Backend::Postgres, "insert") => "DROP TRIGGER audit_refuses_unchained_insert ON audit",
            (Backend::Postgres, _) => "DROP TRIGGER audit_refuses_update_and_delete ON audit",
        };
        self.raw(sql).await;
    }

    /// Verifies and returns the problems, one line each.
    async fn problems(&self) -> Vec<String> {
        self.app
            .verify_audit_trail(&self.key())
            .await
            .expect("verify")
            .problems
            .iter()
            .map(ToString::to_string)
            .collect()
    }
}

async fn on_sqlite<F, Fut>(story: F)
where
    F: FnOnce(Trail) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("sesame.db").display());
    story(trail(&url, dir).await).await;
}

async fn on_postgres<F, Fut>(story: F)
where
    F: FnOnce(Trail) -> Fut,
    Fut: Future<Output = ()>,
{
    let admin = match std::env::var("SESAME_TEST_POSTGRES_URL") {
        Ok(url) if !url.trim().is_empty() => url,
        _ if std::env::var_os("CI").is_some() => {
            panic!("SESAME_TEST_POSTGRES_URL is not set, and in CI the PostgreSQL tests must run")
        }
        _ => {
            eprintln!("note: SESAME_TEST_POSTGRES_URL is not set; the PostgreSQL run is skipped");
            return;
        }
    };
    let url = create_test_database(&admin).await.expect("a test database");
    let dir = tempfile::tempdir().expect("temp dir");
    story(trail(&url, dir).await).await;
}

async fn trail(url: &str, dir: tempfile::TempDir) -> Trail {
    let store = Store::connect(url).await.expect("connect");
    store.migrate().await.expect("migrate");
    let clock = Arc::new(ManualClock::new(Timestamp(T0)));
    let app = App::new(AppParts {
        store: store.clone(),
        catalog: Catalog::default(),
        clock: clock.clone(),
        roles: Roles::default(),
        notifiers: Vec::new(),
        connectors: Default::default(),
    })
    .await
    .expect("app");
    let signer = AuditSigner::from_pem(&AuditSigner::generate_pem().expect("key")).expect("key");
    Trail {
        app,
        store,
        clock,
        signer,
        _dir: dir,
    }
}

macro_rules! on_both {
    ($($story:ident),* $(,)?) => {
        $(
            mod $story {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    crate::on_sqlite(crate::$story).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    crate::on_postgres(crate::$story).await;
                }
            }
        )*
    };
}

on_both!(
    a_whole_trail_verifies_and_its_checkpoint_is_a_metric,
    an_edited_row_is_found,
    an_inserted_row_is_found,
    a_row_inserted_with_made_up_hashes_is_found,
    a_deleted_row_is_found,
    a_deleted_last_row_is_found,
    a_dropped_trigger_is_found_and_restored_loudly_at_start,
    a_recomputed_chain_is_caught_by_the_signed_checkpoint,
    a_forged_checkpoint_is_found,
    streams_resume_after_their_last_acknowledged_event,
);

async fn a_whole_trail_verifies_and_its_checkpoint_is_a_metric(t: Trail) {
    let empty = t.app.verify_audit_trail(&t.key()).await.expect("verify");
    assert!(empty.is_whole() && empty.events == 0);
    t.events(10).await;
    let mut metrics = String::new();
    t.app.metrics().render(&mut metrics);
    assert!(
        !metrics.contains("sesame_audit_last_checkpoint"),
        "no checkpoint metric before the first check"
    );
    t.checkpoint().await;
    // Nothing new: nothing to sign.
    assert_eq!(
        t.app
            .checkpoint_audit(&t.signer, CheckpointPolicy::default(), true)
            .await
            .expect("checkpoint"),
        None
    );
    t.events(5).await;
    // Not due: fewer events than the policy's count and too soon.
    let policy = CheckpointPolicy {
        every_events: 6,
        every: std::time::Duration::from_secs(3600),
    };
    assert_eq!(
        t.app
            .checkpoint_audit(&t.signer, policy, false)
            .await
            .expect("checkpoint"),
        None
    );
    let report = t.app.verify_audit_trail(&t.key()).await.expect("verify");
    assert!(report.is_whole(), "{:?}", report.problems);
    assert_eq!(
        (
            report.events,
            report.checkpoints_verified,
            report.unsigned_events
        ),
        (15, 1, 5)
    );
    assert_eq!(report.last_checkpoint.as_ref().map(|c| c.count), Some(10));
    assert!(t
        .app
        .refresh_checkpoint_metrics(&t.key())
        .await
        .expect("metrics"));
    let mut metrics = String::new();
    t.app.metrics().render(&mut metrics);
    for line in [
        "sesame_audit_last_checkpoint_events 10",
        "sesame_audit_last_checkpoint_valid 1",
        "sesame_audit_last_checkpoint_timestamp_seconds 1767603610",
    ] {
        assert!(metrics.contains(line), "{line} in\n{metrics}");
    }
    // An hour later the five are due.
    t.clock.advance(Span::from_seconds(3600));
    assert!(t
        .app
        .checkpoint_audit(&t.signer, policy, false)
        .await
        .expect("checkpoint")
        .is_some());
}

async fn an_edited_row_is_found(t: Trail) {
    t.events(6).await;
    t.checkpoint().await;
    t.drop_trigger("update").await;
    t.raw("UPDATE audit SET actor = 'mallory' WHERE id = 3")
        .await;
    let problems = t.problems().await;
    assert!(
        problems[0].contains("append-only is missing"),
        "the dropped trigger: {problems:?}"
    );
    assert_eq!(
        problems[1],
        "event 3 (request #1, 2026-01-05T09:00:03.000Z): it was changed after it was written: \
         its content no longer matches its hash"
    );
    // Recreating the trigger afterwards hides nothing.
    t.store.restore_audit_guards().await.expect("restore");
    assert_eq!(t.problems().await, problems[1..]);
}

async fn an_inserted_row_is_found(t: Trail) {
    t.events(4).await;
    t.drop_trigger("insert").await;
    // A back-dated approval, without a chain hash.
    t.raw(
        "INSERT INTO audit (id, request_number, at, actor, kind, detail) \
         SELECT MAX(id) + 1, 2, 1767600000000, 'mallory', 'approval_given', '{\"step\":0}' FROM audit",
    )
    .await;
    t.store.restore_audit_guards().await.expect("restore");
    t.events(2).await;
    assert_eq!(
        t.problems().await,
        [
            "event 5 (request #2, 2026-01-05T08:00:00.000Z): it has no chain hash: it was written \
          around Sesame (an inserted row)"
        ]
    );
}

async fn a_row_inserted_with_made_up_hashes_is_found(t: Trail) {
    t.events(4).await;
    t.raw(
        "INSERT INTO audit (id, request_number, at, actor, kind, detail, prev_hash, hash) \
         SELECT MAX(id) + 1, 2, 1767600000000, 'mallory', 'approval_given', '{}', 'aa', 'bb' FROM audit",
    )
    .await;
    t.events(2).await;
    assert_eq!(
        t.problems().await,
        ["event 5 (request #2, 2026-01-05T08:00:00.000Z): it was inserted: it is not part of the \
          chain, and the event after it follows the one before it"]
    );
}

async fn a_deleted_row_is_found(t: Trail) {
    t.events(6).await;
    t.drop_trigger("delete").await;
    t.raw("DELETE FROM audit WHERE id = 4").await;
    let problems = t.problems().await;
    assert_eq!(
        problems.last().map(String::as_str),
        Some(
            "event 5 (request #1, 2026-01-05T09:00:05.000Z): it does not follow event 3: it was \
             chained after event 4, which was deleted"
        ),
        "{problems:?}"
    );
}

async fn a_deleted_last_row_is_found(t: Trail) {
    t.events(3).await;
    t.drop_trigger("delete").await;
    t.raw("DELETE FROM audit WHERE id = 3").await;
    t.store.restore_audit_guards().await.expect("restore");
    assert_eq!(
        t.problems().await,
        ["the chain's recorded end (event 3, 3 events) is not its last event (event 2, 2 events): \
          events at the end were deleted, or the end was moved"]
    );
}

async fn a_dropped_trigger_is_found_and_restored_loudly_at_start(t: Trail) {
    t.events(2).await;
    t.drop_trigger("delete").await;
    let problems = t.problems().await;
    assert_eq!(problems.len(), 1);
    assert!(
        problems[0].starts_with("the trigger audit_refuses_")
            && problems[0].ends_with("is missing"),
        "{problems:?}"
    );
    // What `sesame serve` does at start: recreate them, and say so in the trail itself.
    let restored = t.app.ensure_audit_guards().await.expect("guards");
    assert_eq!(restored, problems);
    assert!(t
        .app
        .ensure_audit_guards()
        .await
        .expect("guards")
        .is_empty());
    let report = t.app.verify_audit_trail(&t.key()).await.expect("verify");
    assert!(report.is_whole(), "{:?}", report.problems);
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.contains("found the append-only triggers tampered with")),
        "{:?}",
        report.notes
    );
    let last = t
        .app
        .audit_events_after(2, 10)
        .await
        .expect("events")
        .pop()
        .expect("an event");
    assert_eq!(last.kind, "audit_guards_restored");
    assert_eq!(last.detail["problems"], json!(problems));
}

async fn a_recomputed_chain_is_caught_by_the_signed_checkpoint(t: Trail) {
    t.events(5).await;
    t.checkpoint().await;
    t.events(3).await;
    t.checkpoint().await;
    // Someone with database access changes event 6 and recomputes every hash after it, so that
    // the chain itself is whole again.
    t.drop_trigger("update").await;
    let mut events = t.app.audit_events_after(0, 100).await.expect("events");
    let mut prev = events[4].hash.clone().expect("hash");
    for event in events.iter_mut().skip(5) {
        if event.id == 6 {
            event.actor = String::from("mallory");
        }
        let hash = event.expected_hash(&prev);
        t.raw(&format!(
            "UPDATE audit SET actor = '{}', prev_hash = '{prev}', hash = '{hash}' WHERE id = {}",
            event.actor, event.id
        ))
        .await;
        prev = hash;
    }
    t.raw(&format!("UPDATE audit_head SET last_hash = '{prev}'"))
        .await;
    t.store.restore_audit_guards().await.expect("restore");
    let problems = t.problems().await;
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].starts_with(
            "event 8 (request #1, 2026-01-05T09:00:08.000Z): the trail was rewritten: its hash is"
        ) && problems[0].contains(
            "An event after event 5 (checkpoint 1) and up to this one was changed, inserted \
                 or deleted, and the chain recomputed to hide it"
        ),
        "{problems:?}"
    );
    assert!(!t
        .app
        .refresh_checkpoint_metrics(&t.key())
        .await
        .expect("metrics"));
}

async fn a_forged_checkpoint_is_found(t: Trail) {
    t.events(3).await;
    let head = t.store.audit_chain_head().await.expect("head");
    let other = AuditSigner::from_pem(&AuditSigner::generate_pem().expect("key")).expect("key");
    let forged = t
        .app
        .checkpoint_audit(&other, CheckpointPolicy::default(), true)
        .await
        .expect("checkpoint")
        .expect("written");
    assert_eq!(forged.event_id, head.event_id);
    let problems = t.problems().await;
    assert_eq!(problems.len(), 1);
    assert!(
        problems[0].starts_with("checkpoint 1 (covering event 3, signed at")
            && problems[0].contains("does not carry a valid signature by this key")
            && problems[0].contains(&other.public_key().key_id()),
        "{problems:?}"
    );
    // A checkpoint naming this key with a made-up signature.
    t.events(1).await;
    t.store
        .append_audit_checkpoint(&NewCheckpoint {
            event_id: 4,
            hash: String::from("00"),
            count: 4,
            at: Timestamp(T0),
            key_id: t.key().key_id(),
            signature: String::from("AAAA"),
        })
        .await
        .expect("insert");
    assert!(t.problems().await[1].contains("it was forged or changed"));
}

/// A sink that keeps what it was given and fails when told to.
#[derive(Default)]
struct Memory {
    got: Mutex<Vec<i64>>,
    fail: Mutex<bool>,
}

#[async_trait::async_trait]
impl AuditSink for Memory {
    fn name(&self) -> String {
        String::from("memory")
    }

    async fn deliver(&self, events: &[ChainedEvent]) -> Result<(), String> {
        if *self.fail.lock().unwrap() {
            return Err(String::from("the SIEM is down"));
        }
        self.got.lock().unwrap().extend(events.iter().map(|e| e.id));
        Ok(())
    }
}

async fn streams_resume_after_their_last_acknowledged_event(t: Trail) {
    let sink = Memory::default();
    t.events(150).await;
    assert_eq!(
        t.app.stream_audit_once(&sink).await.expect("step"),
        StreamStep::Delivered {
            count: 100,
            through: 100
        }
    );
    *sink.fail.lock().unwrap() = true;
    assert!(matches!(
        t.app.stream_audit_once(&sink).await.expect("step"),
        StreamStep::Failed(e) if e == "the SIEM is down"
    ));
    *sink.fail.lock().unwrap() = false;
    // A restarted Sesame (another App on the same database) resumes where the cursor stands.
    let restarted = App::new(AppParts {
        store: t.store.clone(),
        catalog: Catalog::default(),
        clock: t.clock.clone(),
        roles: Roles::default(),
        notifiers: Vec::new(),
        connectors: Default::default(),
    })
    .await
    .expect("app");
    // After a crash the lease of the Sesame that died runs out first (a clean stop releases it).
    assert_eq!(
        restarted.stream_audit_once(&sink).await.expect("step"),
        StreamStep::HeldElsewhere
    );
    t.clock.advance(Span::from_seconds(61));
    assert_eq!(
        restarted.stream_audit_once(&sink).await.expect("step"),
        StreamStep::Delivered {
            count: 50,
            through: 150
        }
    );
    t.events(1).await;
    assert_eq!(
        restarted.stream_audit_once(&sink).await.expect("step"),
        StreamStep::Delivered {
            count: 1,
            through: 151
        }
    );
    assert_eq!(
        *sink.got.lock().unwrap(),
        (1..=151).collect::<Vec<i64>>(),
        "every event once, in order, without a gap"
    );
    let mut metrics = String::new();
    t.app.metrics().render(&mut metrics);
    assert!(
        metrics.contains("sesame_audit_stream_last_event_id{sink=\"memory\"} 100")
            && metrics.contains("sesame_audit_stream_failures_total{sink=\"memory\"} 1"),
        "{metrics}"
    );
}
