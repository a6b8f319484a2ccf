//! Stories about the outbox and timer queue.

use crate::fixtures::*;
use sesame_core::{Notice, TimerKind, Timestamp};
use sesame_store::{Job, JobId, JobPayload, JobStatus, Store, StoreError};
use std::collections::BTreeSet;

const LEASE: i64 = 30 * SECOND;

async fn claim(store: &Store, at: i64) -> Vec<Job> {
    store
        .claim_jobs("worker-1", Timestamp(at), LEASE, 100)
        .await
        .expect("claim")
}

fn ids(jobs: &[Job]) -> Vec<JobId> {
    jobs.iter().map(|j| j.id).collect()
}

/// Claims and completes every notice that is ready at `at`, one round per position in the queue.
async fn drain_notices(store: &Store, at: i64) {
    loop {
        let jobs = claim(store, at).await;
        if jobs.is_empty() {
            return;
        }
        assert!(
            jobs.iter()
                .all(|j| matches!(j.payload, JobPayload::Notice(_))),
            "only notices are due: {jobs:?}"
        );
        store.complete_jobs(&ids(&jobs)).await.expect("complete");
    }
}

pub async fn claims_respect_run_at_and_per_request_order(store: Store) {
    let t = submission("alice", T0);
    assert_eq!(
        t.notices.len(),
        2,
        "the engine asks for approval and updates the requester"
    );
    let request = store.create_request(&t, None).await.expect("create");

    // Only the first notice about the request is ready; the second waits behind it.
    let first = claim(&store, T0).await;
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].payload, JobPayload::Notice(t.notices[0].clone()));
    assert_eq!(first[0].attempts, 1);
    assert_eq!(first[0].request, Some(request.number));
    assert!(
        claim(&store, T0 + SECOND).await.is_empty(),
        "the second notice waits for the first"
    );
    store.complete_jobs(&ids(&first)).await.expect("complete");
    let second = claim(&store, T0 + SECOND).await;
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].payload, JobPayload::Notice(t.notices[1].clone()));
    store.complete_jobs(&ids(&second)).await.expect("complete");

    // The timers are not due yet: the reminder after a day, pending expiry after 14 days.
    assert!(claim(&store, T0 + DAY - 1).await.is_empty());
    assert_eq!(
        store.next_job_at().await.expect("next"),
        Some(Timestamp(T0 + DAY))
    );
    let reminder = claim(&store, T0 + DAY).await;
    assert_eq!(ids(&reminder).len(), 1);
    assert_eq!(
        reminder[0].payload,
        JobPayload::Timer(TimerKind::Remind { step: 0 })
    );
    assert_eq!(reminder[0].run_at, Timestamp(T0 + DAY));
    store
        .complete_jobs(&ids(&reminder))
        .await
        .expect("complete");
    let expiry = claim(&store, T0 + 14 * DAY).await;
    assert_eq!(expiry.len(), 1);
    assert_eq!(
        expiry[0].payload,
        JobPayload::Timer(TimerKind::PendingExpiry)
    );
}

pub async fn notices_of_different_requests_do_not_wait_for_each_other(store: Store) {
    let r1 = create(&store, "alice", T0).await;
    let r2 = create(&store, "bob", T0).await;
    let heads = claim(&store, T0).await;
    let requests: BTreeSet<_> = heads.iter().filter_map(|j| j.request).collect();
    assert_eq!(
        requests,
        BTreeSet::from([r1.number, r2.number]),
        "one head per request"
    );
    assert_eq!(heads.len(), 2);

    // A retry later keeps the head in place: r1's second notice still waits.
    let r1_head = heads
        .iter()
        .find(|j| j.request == Some(r1.number))
        .expect("r1's head");
    store
        .retry_job(r1_head.id, "slack said 429", Timestamp(T0 + 60 * SECOND))
        .await
        .expect("retry");
    store
        .complete_jobs(&[heads
            .iter()
            .find(|j| j.request == Some(r2.number))
            .expect("r2's head")
            .id])
        .await
        .expect("done");
    let next = claim(&store, T0 + SECOND).await;
    assert_eq!(next.len(), 1, "only r2's second notice: {next:?}");
    assert_eq!(next[0].request, Some(r2.number));

    // Burying the head lets the rest of the request's messages go.
    store.bury_job(r1_head.id, "gave up").await.expect("bury");
    let after_burial = claim(&store, T0 + 2 * SECOND).await;
    assert_eq!(after_burial.len(), 1);
    assert_eq!(after_burial[0].request, Some(r1.number));
    assert_ne!(after_burial[0].id, r1_head.id);
}

pub async fn a_leased_job_is_not_claimed_again_until_its_lease_ends(store: Store) {
    let request = create(&store, "alice", T0).await;
    drain_notices(&store, T0).await;
    // Two timers of the request are due at T0 + 14 days: the reminder and the expiry. Timers have no
    // ordering key, so both are claimable; claim them one at a time.
    let at = T0 + 14 * DAY;
    let one = store
        .claim_jobs("worker-1", Timestamp(at), LEASE, 1)
        .await
        .expect("claim");
    let two = store
        .claim_jobs("worker-2", Timestamp(at), LEASE, 1)
        .await
        .expect("claim");
    assert_eq!((one.len(), two.len()), (1, 1));
    assert_ne!(one[0].id, two[0].id, "a leased job is not handed out twice");
    assert_eq!(one[0].locked_until, Some(Timestamp(at + LEASE)));
    assert!(
        claim(&store, at + LEASE).await.is_empty(),
        "leases last until their end"
    );
    assert_eq!(
        store.next_job_at().await.expect("next"),
        Some(Timestamp(at + LEASE + 1)),
        "the scheduler wakes when the leases run out"
    );

    // The lease runs out (the worker died): the job is claimed again, one more attempt counted.
    let again = claim(&store, at + LEASE + 1).await;
    assert_eq!(ids(&again), {
        let mut both = vec![one[0].id, two[0].id];
        both.sort();
        both
    });
    assert!(again
        .iter()
        .all(|j| j.attempts == 2 && j.request == Some(request.number)));
}

pub async fn retry_bury_and_requeue(store: Store) {
    create(&store, "alice", T0).await;
    let job = claim(&store, T0).await.remove(0);
    store
        .retry_job(job.id, "connection reset", Timestamp(T0 + 5 * SECOND))
        .await
        .expect("retry");
    assert!(
        claim(&store, T0 + 4 * SECOND).await.is_empty(),
        "not before its new run time"
    );
    let retried = claim(&store, T0 + 5 * SECOND).await;
    assert_eq!(ids(&retried), vec![job.id]);
    assert_eq!(retried[0].attempts, 2);
    assert_eq!(retried[0].last_error.as_deref(), Some("connection reset"));

    // A rate limit defers the job without using up an attempt.
    store
        .defer_job(job.id, "ratelimited", Timestamp(T0 + 9 * SECOND))
        .await
        .expect("defer");
    assert!(claim(&store, T0 + 8 * SECOND).await.is_empty());
    let deferred = claim(&store, T0 + 9 * SECOND).await;
    assert_eq!(
        deferred[0].attempts, 2,
        "the deferred claim was not counted"
    );
    assert_eq!(deferred[0].last_error.as_deref(), Some("ratelimited"));

    store
        .bury_job(job.id, &"x".repeat(10_000))
        .await
        .expect("bury");
    let dead = store.jobs(JobStatus::Dead, 10).await.expect("dead jobs");
    assert_eq!(ids(&dead), vec![job.id]);
    assert_eq!(dead[0].status, JobStatus::Dead);
    assert!(
        dead[0].last_error.as_ref().is_some_and(|e| e.len() <= 2000),
        "errors are kept bounded"
    );
    let counts = store.job_counts().await.expect("counts");
    assert_eq!(counts.dead, 1);
    assert!(!store
        .jobs(JobStatus::Pending, 100)
        .await
        .expect("pending")
        .iter()
        .any(|j| j.id == job.id));

    assert!(store
        .requeue_job(job.id, Timestamp(T0 + 9 * SECOND))
        .await
        .expect("requeue"));
    assert!(
        !store
            .requeue_job(job.id, Timestamp(T0 + 9 * SECOND))
            .await
            .expect("requeue"),
        "only dead jobs"
    );
    let requeued = claim(&store, T0 + 10 * SECOND).await;
    assert!(
        requeued.iter().any(|j| j.id == job.id && j.attempts == 1),
        "{requeued:?}"
    );
    assert_eq!(store.job_counts().await.expect("counts").dead, 0);

    let missing = store
        .retry_job(JobId(job.id.0 + 1000), "x", Timestamp(T0))
        .await;
    assert!(
        matches!(missing, Err(StoreError::NotFound(_))),
        "got {missing:?}"
    );
    let missing = store.bury_job(JobId(job.id.0 + 1000), "x").await;
    assert!(
        matches!(missing, Err(StoreError::NotFound(_))),
        "got {missing:?}"
    );
}

pub async fn a_fired_timer_is_deleted_with_the_change_it_caused(store: Store) {
    let request = create(&store, "alice", T0).await;
    drain_notices(&store, T0).await;
    let at = T0 + DAY;
    let timer = claim(&store, at).await.remove(0);
    assert_eq!(
        timer.payload,
        JobPayload::Timer(TimerKind::Remind { step: 0 })
    );

    // A conflicting save deletes nothing, the timer included.
    let fired = firing(&request, TimerKind::Remind { step: 0 }, at);
    let refused = store
        .save_transition(&fired, request.version + 1, Some(timer.id))
        .await;
    assert!(
        matches!(refused, Err(StoreError::Conflict)),
        "got {refused:?}"
    );
    assert!(store
        .jobs(JobStatus::Pending, 100)
        .await
        .expect("jobs")
        .iter()
        .any(|j| j.id == timer.id));

    let saved = store
        .save_transition(&fired, request.version, Some(timer.id))
        .await
        .expect("save");
    assert_eq!(saved.steps[0].reminders_sent, 1);
    let pending = store.jobs(JobStatus::Pending, 100).await.expect("jobs");
    assert!(
        !pending.iter().any(|j| j.id == timer.id),
        "the fired timer is gone"
    );
    assert!(
        pending.iter().any(
            |j| j.payload == JobPayload::Timer(TimerKind::Remind { step: 0 })
                && j.run_at == Timestamp(at + DAY)
        ),
        "the next reminder is scheduled"
    );
    assert!(pending
        .iter()
        .any(|j| j.payload == JobPayload::Notice(Notice::ApprovalReminder { step: 0 })));
}

pub async fn completed_jobs_are_deleted_in_one_batch(store: Store) {
    for (i, who) in ["alice", "bob", "frank"].into_iter().enumerate() {
        create(&store, who, T0 + i as i64).await;
    }
    let before = store.job_counts().await.expect("counts");
    assert_eq!(before.oldest_pending_run_at, Some(Timestamp(T0)));
    let heads = claim(&store, T0 + 10).await;
    assert_eq!(heads.len(), 3);
    store.complete_jobs(&ids(&heads)).await.expect("complete");
    store
        .complete_jobs(&[])
        .await
        .expect("an empty batch is fine");
    let after = store.job_counts().await.expect("counts");
    assert_eq!(after.pending, before.pending - 3);
}

pub async fn concurrent_claims_never_share_a_job(store: Store) {
    for i in 0..12 {
        create(&store, if i % 2 == 0 { "alice" } else { "bob" }, T0 + i).await;
    }
    let mut claimed = Vec::new();
    for round in 0..3 {
        let at = T0 + 100 + round;
        let workers = (0..4).map(|w| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .claim_jobs(&format!("worker-{w}"), Timestamp(at), LEASE, 5)
                    .await
            })
        });
        for worker in workers.collect::<Vec<_>>() {
            claimed.extend(worker.await.expect("the task ran").expect("claim"));
        }
    }
    let distinct: BTreeSet<JobId> = claimed.iter().map(|j| j.id).collect();
    assert_eq!(distinct.len(), claimed.len(), "no job was claimed twice");
    assert_eq!(
        claimed.len(),
        12,
        "each request's first notice, and nothing behind it"
    );
}
