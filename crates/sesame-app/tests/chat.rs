//! Chat jobs: the work a chat platform's handlers owe, taken in once per inbound event, run by the
//! dispatcher through the platform's worker (or at once, with `owe_now`), and retried, deferred or
//! given up like notices.

#[macro_use]
mod support;

use sesame_app::chat::ChatJob;
use sesame_app::dispatcher::MAX_ATTEMPTS;
use sesame_app::{Job, JobPayload};
use std::sync::Arc;
use support::{
    chat_work, deferred, eventually, permanent, retry, Builder, Db, FakeChatWorker, Harness,
    DISPATCHER,
};

on_both_databases!(
    take_in_writes_the_work_once_per_source_and_key,
    the_dispatcher_hands_the_work_to_its_worker_with_the_attempt_number,
    a_failing_chat_job_is_retried_with_backoff,
    a_deferred_chat_job_keeps_its_attempt,
    a_permanent_chat_failure_is_kept_as_a_dead_job,
    chat_work_for_a_platform_without_a_worker_is_dropped,
    owe_now_runs_the_work_at_once_and_completes_it,
    a_failing_owe_now_is_left_for_the_dispatcher,
    chat_work_with_the_same_order_runs_in_the_order_written,
    the_chat_lane_claims_only_chat_work,
);

async fn with_worker(db: Db) -> Option<(Harness, Arc<FakeChatWorker>)> {
    let worker = FakeChatWorker::new();
    let harness = Builder::on(db).chat_worker(worker.clone()).build().await?;
    Some((harness, worker))
}

/// The chat work waiting in the outbox, by id.
async fn chat_jobs(harness: &Harness) -> Vec<(String, Job)> {
    harness
        .pending()
        .await
        .into_iter()
        .filter_map(|job| match &job.payload {
            JobPayload::Chat(work) => Some((
                work.work["id"].as_str().unwrap_or_default().to_owned(),
                job.clone(),
            )),
            _ => None,
        })
        .collect()
}

async fn take_in_writes_the_work_once_per_source_and_key(db: Db) {
    let Some((harness, _worker)) = with_worker(db).await else {
        return;
    };
    let app = &harness.app;
    assert!(app
        .take_in("testchat:event", "E1", None, chat_work("first"))
        .await
        .unwrap());
    assert!(
        !app.take_in("testchat:event", "E1", None, chat_work("repeat"))
            .await
            .unwrap(),
        "a platform's retry of the same event is refused"
    );
    let ids: Vec<String> = chat_jobs(&harness)
        .await
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(ids, ["first"], "the repeat wrote nothing");

    assert!(
        app.take_in("testchat:click", "E1", None, chat_work("other source"))
            .await
            .unwrap(),
        "keys are per source"
    );
    assert_eq!(chat_jobs(&harness).await.len(), 2);
}

async fn the_dispatcher_hands_the_work_to_its_worker_with_the_attempt_number(db: Db) {
    let Some((harness, worker)) = with_worker(db).await else {
        return;
    };
    harness
        .app
        .take_in("testchat:event", "E1", None, chat_work("reply"))
        .await
        .unwrap();
    assert!(
        worker.performed().is_empty(),
        "taking in only commits the work"
    );
    let outcome = harness.pass().await;
    assert_eq!((outcome.claimed, outcome.done), (1, 1));
    assert_eq!(worker.performed(), [(String::from("reply"), 1)]);
    assert!(chat_jobs(&harness).await.is_empty());
}

async fn a_failing_chat_job_is_retried_with_backoff(db: Db) {
    let Some((harness, worker)) = with_worker(db).await else {
        return;
    };
    worker.fail_next("reply", retry("503 from the platform"));
    harness.app.owe(None, chat_work("reply")).await.unwrap();
    let outcome = harness.pass().await;
    assert_eq!(outcome.retried, 1);
    let (_, job) = chat_jobs(&harness).await.pop().expect("the job waits");
    assert_eq!(job.attempts, 1);
    assert_eq!(job.last_error.as_deref(), Some("503 from the platform"));
    assert!(job.run_at > harness.now());
    assert_eq!(harness.pass().await.claimed, 0, "not before its backoff");

    harness.advance(60);
    harness.drain().await;
    assert_eq!(
        worker.performed(),
        [(String::from("reply"), 1), (String::from("reply"), 2)]
    );
    assert!(chat_jobs(&harness).await.is_empty());
}

async fn a_deferred_chat_job_keeps_its_attempt(db: Db) {
    let Some((harness, worker)) = with_worker(db).await else {
        return;
    };
    let deferrals = MAX_ATTEMPTS + 2;
    for _ in 0..deferrals {
        worker.fail_next("modal", deferred(10, "paced"));
    }
    harness.app.owe(None, chat_work("modal")).await.unwrap();
    harness.pass().await;
    let (_, job) = chat_jobs(&harness).await.pop().expect("the job waits");
    assert_eq!(job.attempts, 0);
    assert_eq!(job.run_at.0, harness.now().0 + 10_000);
    for _ in 0..deferrals {
        harness.advance(11);
        harness.drain().await;
    }
    assert!(harness.dead().await.is_empty());
    assert!(
        chat_jobs(&harness).await.is_empty(),
        "done after the deferrals"
    );
    let performed = worker.performed();
    assert_eq!(performed.len(), deferrals as usize + 1);
    assert!(
        performed.iter().all(|(_, attempt)| *attempt == 1),
        "{performed:?}"
    );
}

async fn a_permanent_chat_failure_is_kept_as_a_dead_job(db: Db) {
    let Some((harness, worker)) = with_worker(db).await else {
        return;
    };
    worker.fail_next("reply", permanent("channel_not_found"));
    harness.app.owe(None, chat_work("reply")).await.unwrap();
    assert_eq!(harness.pass().await.dead, 1);
    let dead = harness.dead().await;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].last_error.as_deref(), Some("channel_not_found"));
    assert!(matches!(&dead[0].payload, JobPayload::Chat(w) if w.work["id"] == "reply"));
    harness.advance(3600);
    harness.drain().await;
    assert_eq!(worker.times("reply"), 1, "a dead job is not run again");
}

async fn chat_work_for_a_platform_without_a_worker_is_dropped(db: Db) {
    let Some((harness, worker)) = with_worker(db).await else {
        return;
    };
    let elsewhere = ChatJob {
        platform: String::from("switched-off"),
        work: serde_json::json!({ "id": "lost" }),
    };
    harness.app.owe(None, elsewhere).await.unwrap();
    let outcome = harness.pass().await;
    assert_eq!((outcome.claimed, outcome.done), (1, 1));
    assert!(harness.pending().await.is_empty());
    assert!(harness.dead().await.is_empty());
    assert!(worker.performed().is_empty());
}

async fn owe_now_runs_the_work_at_once_and_completes_it(db: Db) {
    let Some((harness, worker)) = with_worker(db).await else {
        return;
    };
    harness.app.owe_now(chat_work("modal")).await.unwrap();
    eventually("the worker ran the work", || async {
        worker.times("modal") == 1
    })
    .await;
    assert_eq!(worker.performed(), [(String::from("modal"), 1)]);
    let h = &harness;
    eventually("the job is completed", || async {
        h.pending().await.is_empty()
    })
    .await;
    assert_eq!(harness.pass().await.claimed, 0);
    assert_eq!(worker.times("modal"), 1, "run once");
}

async fn a_failing_owe_now_is_left_for_the_dispatcher(db: Db) {
    let Some((harness, worker)) = with_worker(db).await else {
        return;
    };
    worker.fail_next("modal", retry("timeout"));
    harness.app.owe_now(chat_work("modal")).await.unwrap();
    let h = &harness;
    eventually("the failure is recorded", || async {
        chat_jobs(h)
            .await
            .first()
            .is_some_and(|(_, job)| job.last_error.is_some())
    })
    .await;
    let (_, job) = chat_jobs(&harness).await.pop().unwrap();
    assert_eq!(job.attempts, 1);
    assert_eq!(job.locked_until, None, "the lease is given back");
    assert_eq!(job.last_error.as_deref(), Some("timeout"));

    assert_eq!(harness.pass().await.claimed, 0, "not before its backoff");
    harness.advance(60);
    harness.drain().await;
    assert_eq!(
        worker.performed(),
        [(String::from("modal"), 1), (String::from("modal"), 2)]
    );
    assert!(harness.pending().await.is_empty());
}

async fn chat_work_with_the_same_order_runs_in_the_order_written(db: Db) {
    let Some((harness, worker)) = with_worker(db).await else {
        return;
    };
    worker.fail_next("a1", retry("down"));
    let app = &harness.app;
    app.owe(Some("alice"), chat_work("a1")).await.unwrap();
    app.owe(Some("alice"), chat_work("a2")).await.unwrap();
    app.owe(Some("bob"), chat_work("b1")).await.unwrap();
    harness.drain().await;
    assert_eq!(worker.times("a1"), 1);
    assert_eq!(worker.times("a2"), 0, "a2 waits behind a1");
    assert_eq!(
        worker.times("b1"),
        1,
        "bob's work does not wait for alice's"
    );

    harness.advance(60);
    harness.drain().await;
    let order: Vec<String> = worker
        .performed()
        .into_iter()
        .filter(|(id, _)| id.starts_with('a'))
        .map(|(id, _)| id)
        .collect();
    assert_eq!(order, ["a1", "a1", "a2"]);
}

async fn the_chat_lane_claims_only_chat_work(db: Db) {
    let Some((harness, worker)) = with_worker(db).await else {
        return;
    };
    harness.submit("alice", "badge").await;
    let notices = harness.pending_notices().await.len();
    harness.app.owe(None, chat_work("reply")).await.unwrap();
    let outcome = harness.app.run_chat_jobs_once(DISPATCHER).await.unwrap();
    assert_eq!(outcome.claimed, 1);
    assert_eq!(worker.times("reply"), 1);
    assert_eq!(harness.pending_notices().await.len(), notices);
}
