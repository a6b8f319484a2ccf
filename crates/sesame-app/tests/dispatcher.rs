//! The dispatcher and the notifiers: each notifier gets its own copy of a notice and succeeds,
//! retries, waits or dies on its own; deferrals cost no attempt; one request's notices keep their
//! order per notifier; without a notifier, notices simply complete.

#[macro_use]
mod support;

use sesame_app::dispatcher::MAX_ATTEMPTS;
use sesame_app::ports::DeliveryError;
use sesame_app::{Job, JobPayload};
use sesame_core::Notice;
use std::time::Duration;
use support::{deferred, permanent, retry, Builder, Db, FakeNotifier, Harness};

on_both_databases!(
    each_notifier_gets_every_notice,
    a_permanent_failure_of_one_notifier_leaves_the_other_delivered,
    a_retry_of_one_notifier_does_not_run_the_other_again,
    a_retry_waits_for_the_platforms_hint,
    a_deferral_does_not_use_up_an_attempt,
    notices_for_one_request_keep_their_order_per_notifier,
    without_a_notifier_notices_complete,
    a_notice_that_keeps_failing_is_given_up_after_max_attempts,
);

/// Two notifiers, `alpha` and `beta`.
async fn two_notifiers(
    db: Db,
) -> Option<(
    Harness,
    std::sync::Arc<FakeNotifier>,
    std::sync::Arc<FakeNotifier>,
)> {
    let alpha = FakeNotifier::new("alpha");
    let beta = FakeNotifier::new("beta");
    let harness = Builder::on(db)
        .notifier(alpha.clone())
        .notifier(beta.clone())
        .build()
        .await?;
    Some((harness, alpha, beta))
}

/// The notices for every notifier waiting in the outbox (not yet split per notifier), in the
/// order they were written.
async fn written(harness: &Harness) -> Vec<Notice> {
    harness
        .pending_notices()
        .await
        .into_iter()
        .filter_map(|job| match job.payload {
            JobPayload::Notice(notice) => Some(notice),
            _ => None,
        })
        .collect()
}

/// The pending job that carries notices to `notifier`.
async fn job_for(harness: &Harness, notifier: &str) -> Job {
    harness
        .pending_notices()
        .await
        .into_iter()
        .find(|j| matches!(&j.payload, JobPayload::NoticeTo { notifier: n, .. } if n == notifier))
        .unwrap_or_else(|| panic!("no pending notice for {notifier}"))
}

async fn each_notifier_gets_every_notice(db: Db) {
    let Some((harness, alpha, beta)) = two_notifiers(db).await else {
        return;
    };
    harness.submit("alice", "badge").await;
    let notices = written(&harness).await;
    assert!(
        notices.len() >= 2,
        "a submission owes several notices: {notices:?}"
    );
    harness.drain().await;
    assert_eq!(alpha.delivered(), notices);
    assert_eq!(beta.delivered(), notices);
    assert!(harness.pending_notices().await.is_empty());
    assert!(harness.dead().await.is_empty());
}

async fn a_permanent_failure_of_one_notifier_leaves_the_other_delivered(db: Db) {
    let Some((harness, alpha, beta)) = two_notifiers(db).await else {
        return;
    };
    alpha.fail_next(permanent("the channel is archived"));
    let request = harness.submit("alice", "badge").await;
    let notices = written(&harness).await;
    harness.drain().await;

    assert_eq!(beta.delivered(), notices, "beta is served in full");
    assert_eq!(
        alpha.delivered(),
        notices[1..],
        "alpha's later notices are not held up by its dead one"
    );
    let dead = harness.dead().await;
    assert_eq!(dead.len(), 1, "only alpha's copy died: {dead:?}");
    assert_eq!(dead[0].request, Some(request.number));
    assert_eq!(
        dead[0].payload,
        JobPayload::NoticeTo {
            notifier: String::from("alpha"),
            notice: notices[0].clone(),
        }
    );
    let error = dead[0].last_error.as_deref().unwrap_or_default();
    assert!(
        error.starts_with("alpha: ") && error.contains("the channel is archived"),
        "the dead job names the failing notifier: {error:?}"
    );
    assert!(harness.pending_notices().await.is_empty());
}

async fn a_retry_of_one_notifier_does_not_run_the_other_again(db: Db) {
    let Some((harness, alpha, beta)) = two_notifiers(db).await else {
        return;
    };
    alpha.fail_next(retry("slow down"));
    alpha.fail_next(retry("slow down"));
    harness.submit("alice", "badge").await;
    let notices = written(&harness).await;

    harness.drain().await;
    assert_eq!(beta.delivered(), notices, "beta does not wait for alpha");
    assert!(alpha.delivered().is_empty());
    let waiting = job_for(&harness, "alpha").await;
    assert_eq!(waiting.attempts, 1);
    assert_eq!(waiting.last_error.as_deref(), Some("alpha: slow down"));
    assert!(
        waiting.run_at > harness.now(),
        "a retry waits for its backoff"
    );

    for _ in 0..3 {
        harness.advance(60);
        harness.drain().await;
    }
    assert_eq!(alpha.delivered(), notices);
    let first: Vec<u32> = alpha
        .deliveries()
        .iter()
        .filter(|d| d.notice == notices[0])
        .map(|d| d.attempt)
        .collect();
    assert_eq!(first, [1, 2, 3], "alpha's copy counted its own attempts");
    assert_eq!(
        beta.deliveries().len(),
        notices.len(),
        "beta got each notice exactly once across every pass"
    );
    assert!(harness.pending_notices().await.is_empty());
    assert!(harness.dead().await.is_empty());
}

async fn a_retry_waits_for_the_platforms_hint(db: Db) {
    let Some((harness, alpha, _beta)) = two_notifiers(db).await else {
        return;
    };
    alpha.fail_next(DeliveryError::Retry {
        after: Some(Duration::from_secs(90)),
        reason: String::from("429"),
    });
    harness.submit("alice", "badge").await;
    harness.drain().await;
    let waiting = job_for(&harness, "alpha").await;
    assert_eq!(waiting.run_at.0, harness.now().0 + 90_000);

    harness.advance(89);
    harness.drain().await;
    assert!(alpha.delivered().is_empty(), "not before the hint");
    harness.advance(2);
    harness.drain().await;
    assert!(!alpha.delivered().is_empty(), "delivered after the hint");
}

async fn a_deferral_does_not_use_up_an_attempt(db: Db) {
    let Some((harness, alpha, beta)) = two_notifiers(db).await else {
        return;
    };
    let deferrals = MAX_ATTEMPTS as usize + 3;
    for _ in 0..deferrals {
        alpha.fail_next(deferred(30, "paced"));
    }
    harness.submit("alice", "badge").await;
    let notices = written(&harness).await;
    harness.drain().await;

    let waiting = job_for(&harness, "alpha").await;
    assert_eq!(waiting.attempts, 0, "a deferral gives its attempt back");
    assert_eq!(waiting.run_at.0, harness.now().0 + 30_000);
    assert_eq!(waiting.last_error.as_deref(), Some("alpha: paced"));
    harness.advance(29);
    harness.drain().await;
    assert_eq!(
        alpha.deliveries().len(),
        1,
        "not run before the deferral ends"
    );

    for _ in 0..deferrals {
        harness.advance(31);
        harness.drain().await;
        assert!(
            harness.dead().await.is_empty(),
            "deferrals never kill a job"
        );
    }
    assert_eq!(alpha.delivered(), notices);
    assert!(
        alpha.deliveries().iter().all(|d| d.attempt == 1),
        "every run after a deferral is still the first attempt: {:?}",
        alpha.deliveries()
    );
    assert_eq!(beta.deliveries().len(), notices.len());
}

async fn notices_for_one_request_keep_their_order_per_notifier(db: Db) {
    let Some((harness, alpha, beta)) = two_notifiers(db).await else {
        return;
    };
    alpha.fail_next(retry("down"));
    alpha.fail_next(retry("down"));
    let request = harness.submit("alice", "badge").await;
    let mut notices = written(&harness).await;
    harness.drain().await;
    assert!(
        alpha.delivered().is_empty(),
        "alpha is retrying the first notice"
    );

    // More notices about the same request while alpha's first one waits to be retried.
    let alice = harness.principal("alice");
    for text in ["one", "two", "three"] {
        harness
            .app
            .comment(&alice, request.number, text, "api")
            .await
            .expect("comment");
    }
    notices.extend(written(&harness).await);
    assert_eq!(notices.len(), 5, "{notices:?}");
    harness.drain().await;
    assert!(
        alpha.delivered().is_empty(),
        "nothing overtakes alpha's first notice: {:?}",
        alpha.deliveries()
    );
    assert_eq!(beta.delivered(), notices, "beta's copies went out in order");

    for _ in 0..3 {
        harness.advance(60);
        harness.drain().await;
    }
    assert_eq!(
        alpha.delivered(),
        notices,
        "alpha's copies went out in order"
    );
    assert_eq!(beta.delivered(), notices);
}

async fn without_a_notifier_notices_complete(db: Db) {
    let Some(harness) = Builder::on(db).build().await else {
        return;
    };
    harness.submit("alice", "badge").await;
    let owed = harness.pending_notices().await.len();
    assert!(owed >= 2);
    // One request's notices run one at a time, in order: a pass each.
    for left in (0..owed).rev() {
        let outcome = harness.pass().await;
        assert_eq!((outcome.claimed, outcome.done), (1, 1));
        assert_eq!(harness.pending_notices().await.len(), left);
    }
    assert!(harness.dead().await.is_empty());
}

async fn a_notice_that_keeps_failing_is_given_up_after_max_attempts(db: Db) {
    let alpha = FakeNotifier::new("alpha");
    let Some(harness) = Builder::on(db).notifier(alpha.clone()).build().await else {
        return;
    };
    for _ in 0..MAX_ATTEMPTS {
        alpha.fail_next(retry("still down"));
    }
    harness.submit("alice", "badge").await;
    let notices = written(&harness).await;
    for _ in 0..MAX_ATTEMPTS + 5 {
        harness.drain().await;
        // Longer than the longest backoff (an hour, with jitter).
        harness.advance(2 * 3600);
    }
    let attempts: Vec<u32> = alpha
        .deliveries()
        .iter()
        .filter(|d| d.notice == notices[0])
        .map(|d| d.attempt)
        .collect();
    assert_eq!(attempts, (1..=MAX_ATTEMPTS).collect::<Vec<_>>());
    let dead = harness.dead().await;
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0].attempts, MAX_ATTEMPTS);
    assert_eq!(dead[0].last_error.as_deref(), Some("alpha: still down"));
    assert_eq!(alpha.delivered(), notices[1..], "the next notice goes out");
}
