//! Stories about inbound chat traffic: an event's de-duplication key written with the job that
//! handles it, clicks remembered, and many of them at once (SQLite commits them in batches, where
//! one write that fails must not take the others with it).

use crate::fixtures::*;
use serde_json::json;
use sesame_core::engine::Command;
use sesame_core::Timestamp;
use sesame_store::{ChatJob, JobPayload, JobStatus, Lease, Store, StoreError};
use std::collections::BTreeMap;

fn chat(n: usize) -> ChatJob {
    ChatJob {
        platform: String::from("slack"),
        work: json!({ "kind": "event", "n": n }),
    }
}

async fn pending(store: &Store) -> Vec<sesame_store::Job> {
    store.jobs(JobStatus::Pending, 1000).await.expect("jobs")
}

pub async fn an_event_is_taken_in_once_with_its_job(store: Store) {
    let now = Timestamp(T0);
    let taken = store
        .enqueue_chat(
            &chat(1),
            Some("slack:U1"),
            Some(("slack-event", "Ev1")),
            None,
            now,
        )
        .await
        .expect("take in")
        .expect("a new key writes its job");
    // What the write returns is what the outbox holds.
    assert_eq!(pending(&store).await, vec![taken.clone()]);
    assert_eq!(taken.payload, JobPayload::Chat(chat(1)));
    assert_eq!((taken.attempts, taken.locked_until), (0, None));

    let again = store
        .enqueue_chat(
            &chat(2),
            Some("slack:U1"),
            Some(("slack-event", "Ev1")),
            None,
            now,
        )
        .await
        .expect("a retry");
    assert_eq!(again, None, "a key seen before writes nothing");
    assert_eq!(pending(&store).await, vec![taken.clone()]);
    // The key is remembered: a click with it is not new either.
    assert!(!store
        .remember_inbound("slack-event", "Ev1", now)
        .await
        .expect("remember"));

    // Without a key, every call owes its own job; with a lease, the job is already claimed.
    let owed = store
        .enqueue_chat(&chat(3), None, None, None, now)
        .await
        .expect("owe")
        .expect("written");
    let lease = Lease {
        worker: "worker-1",
        until: Timestamp(T0 + 30 * SECOND),
    };
    let leased = store
        .enqueue_chat(&chat(4), None, None, Some(lease), now)
        .await
        .expect("owe now")
        .expect("written");
    assert_eq!(
        (leased.attempts, leased.locked_until),
        (1, Some(lease.until))
    );
    let mut all = pending(&store).await;
    all.sort_by_key(|j| j.id);
    assert_eq!(all, vec![taken.clone(), owed.clone(), leased.clone()]);
    // Another worker claims what is not leased, in order per key.
    let claimed = store
        .claim_chat_jobs("worker-2", now, 30 * SECOND, 10)
        .await
        .expect("claim");
    let mut ids: Vec<_> = claimed.iter().map(|j| j.id).collect();
    ids.sort();
    assert_eq!(ids, vec![taken.id, owed.id]);
}

/// Many writes at once, some of which fail: a repeated event, a repeated click, a decision on a
/// version that moved on. Each caller gets its own outcome and every other write stands.
pub async fn failing_writes_among_many_do_not_fail_the_others(store: Store) {
    let request = create(&store, "alice", T0).await;
    let decision = decision(
        &request,
        "carol",
        Command::Approve {
            step: None,
            comment: None,
        },
        T0 + SECOND,
    );
    let jobs_before = pending(&store).await.len();
    let mut tasks = Vec::new();
    for round in 0..2 {
        for n in 0..60 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let key = format!("Ev{n}");
                let taken = store
                    .enqueue_chat(
                        &chat(n),
                        Some("slack:U1"),
                        Some(("slack-event", &key)),
                        None,
                        Timestamp(T0 + round),
                    )
                    .await
                    .expect("take in");
                ("event", n, taken.is_some())
            }));
        }
        for n in 0..20 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let key = format!("click{n}");
                let first = store
                    .remember_inbound("slack-click", &key, Timestamp(T0 + round))
                    .await
                    .expect("remember");
                ("click", n, first)
            }));
        }
        for n in 0..5 {
            let (store, decision) = (store.clone(), decision.clone());
            tasks.push(tokio::spawn(async move {
                let saved = match store.save_transition(&decision, 1, None).await {
                    Ok(_) => true,
                    Err(StoreError::Conflict) => false,
                    Err(other) => panic!("expected a conflict, got {other:?}"),
                };
                ("decision", n, saved)
            }));
        }
    }
    let mut firsts: BTreeMap<(&str, usize), usize> = BTreeMap::new();
    let mut decided = 0;
    for task in tasks {
        let (what, n, first) = task.await.expect("the task ran");
        if what == "decision" {
            decided += usize::from(first);
        } else {
            *firsts.entry((what, n)).or_default() += usize::from(first);
        }
    }
    assert_eq!(decided, 1, "one decision of version 1 stands");
    assert_eq!(firsts.len(), 80);
    assert!(
        firsts.values().all(|&count| count == 1),
        "each event and click is new exactly once: {firsts:?}"
    );
    let jobs = pending(&store).await;
    let mut events: Vec<usize> = jobs
        .iter()
        .filter_map(|j| match &j.payload {
            JobPayload::Chat(c) => c.work["n"].as_u64().map(|n| n as usize),
            _ => None,
        })
        .collect();
    events.sort_unstable();
    assert_eq!(events, (0..60).collect::<Vec<_>>(), "one job per event");
    assert_eq!(
        jobs.len(),
        jobs_before + 60 + decision.notices.len() + decision.timers.len()
    );
    let stored = store.request(request.number).await.expect("read");
    assert_eq!(stored.map(|r| r.version), Some(2));
}
