//! Stories about requests and comments.

use crate::fixtures::*;
use sesame_core::engine::Command;
use sesame_core::{Duty, FlowId, Notice, RequestNumber, State, Timestamp};
use sesame_store::{AuditFilter, JobPayload, JobStatus, RequestFilter, Store, StoreError};

/// Everything the store holds about side effects, to show that a refused write left no trace.
async fn traces(store: &Store) -> (usize, usize, usize) {
    let audit = store
        .audit(&AuditFilter {
            limit: 500,
            ..AuditFilter::default()
        })
        .await
        .expect("audit");
    let jobs = store.jobs(JobStatus::Pending, 500).await.expect("jobs");
    let requests = store
        .list_requests(&RequestFilter {
            limit: 500,
            ..RequestFilter::default()
        })
        .await
        .expect("list");
    (audit.len(), jobs.len(), requests.len())
}

pub async fn a_created_request_reads_back_equal(store: Store) {
    let t = submission("alice", T0);
    let stored = store.create_request(&t, None).await.expect("create");
    assert!(stored.number.0 > 0, "the store assigns the number");
    assert_eq!(stored.version, 1);
    let mut expected = t.request.clone();
    expected.number = stored.number;
    expected.version = 1;
    assert_eq!(stored, expected);
    let read = store
        .request(stored.number)
        .await
        .expect("read")
        .expect("the request exists");
    assert_eq!(read, stored);
    assert_eq!(read.state, State::PendingApproval { step: 0 });
    assert!(store
        .request(RequestNumber(stored.number.0 + 1000))
        .await
        .expect("read")
        .is_none());

    // The transition's audit events and its notices and timers were written with it.
    let audit = store
        .audit(&AuditFilter {
            request: Some(stored.number),
            limit: 100,
            ..AuditFilter::default()
        })
        .await
        .expect("audit");
    let kinds: Vec<&str> = audit.iter().map(|r| r.kind.as_str()).collect();
    let expected_kinds: Vec<&str> = t.audit.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, expected_kinds);
    assert!(audit
        .iter()
        .zip(&t.audit)
        .all(|(r, e)| r.detail == e.detail && r.at == e.at && r.actor == e.actor));
    let jobs = store.jobs(JobStatus::Pending, 100).await.expect("jobs");
    assert_eq!(jobs.len(), t.notices.len() + t.timers.len());
    assert!(jobs
        .iter()
        .all(|j| j.request == Some(stored.number) && j.attempts == 0));
    let notices: Vec<&Notice> = jobs
        .iter()
        .filter_map(|j| {
            if let JobPayload::Notice(n) = &j.payload {
                Some(n)
            } else {
                None
            }
        })
        .collect();
    assert_eq!(notices, t.notices.iter().collect::<Vec<_>>());
    for timer in &t.timers {
        assert!(
            jobs.iter()
                .any(|j| j.payload == JobPayload::Timer(timer.kind) && j.run_at == timer.at),
            "a job for {timer:?}"
        );
    }
}

pub async fn request_numbers_are_sequential(store: Store) {
    let first = create(&store, "alice", T0).await;
    let second = create(&store, "bob", T0 + 1).await;
    let third = create(&store, "alice", T0 + 2).await;
    assert_eq!(second.number.0, first.number.0 + 1);
    assert_eq!(third.number.0, first.number.0 + 2);
}

pub async fn a_reused_client_key_names_the_first_request_and_writes_nothing(store: Store) {
    let first = store
        .create_request(&submission("alice", T0), Some("key-1"))
        .await
        .expect("create");
    let before = traces(&store).await;
    let again = store
        .create_request(&submission("alice", T0 + 5), Some("key-1"))
        .await;
    match again {
        Err(StoreError::DuplicateKey { existing }) => assert_eq!(existing, first.number),
        other => panic!("expected DuplicateKey, got {other:?}"),
    }
    assert_eq!(traces(&store).await, before, "nothing was written");
    // Other keys, and no key at all, still work.
    store
        .create_request(&submission("alice", T0 + 6), Some("key-2"))
        .await
        .expect("another key");
    store
        .create_request(&submission("alice", T0 + 7), None)
        .await
        .expect("no key");
    store
        .create_request(&submission("alice", T0 + 8), None)
        .await
        .expect("no key twice");
}

pub async fn a_stale_version_is_refused_and_writes_nothing(store: Store) {
    let created = create(&store, "alice", T0).await;
    let approved = approve(&store, &created, "carol", T0 + SECOND).await;
    assert_eq!(approved.version, 2);
    assert_eq!(approved.state, State::PendingApproval { step: 1 });
    let before = traces(&store).await;

    // Alice cancels from the copy she read before carol approved.
    let stale = decision(
        &created,
        "alice",
        Command::Cancel { reason: None },
        T0 + 2 * SECOND,
    );
    let refused = store.save_transition(&stale, created.version, None).await;
    assert!(
        matches!(refused, Err(StoreError::Conflict)),
        "got {refused:?}"
    );
    assert_eq!(
        traces(&store).await,
        before,
        "no audit rows, jobs or requests were written"
    );
    let stored = store
        .request(created.number)
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(stored, approved);
    let waiting = RequestFilter {
        waiting_on: Some(user_id("dave")),
        ..RequestFilter::default()
    };
    assert_eq!(
        store.list_requests(&waiting).await.expect("list").len(),
        1,
        "duty rows are unchanged"
    );

    // A request that does not exist is not a conflict.
    let mut ghost = stale.clone();
    ghost.request.number = RequestNumber(created.number.0 + 1000);
    let missing = store.save_transition(&ghost, 1, None).await;
    assert!(
        matches!(missing, Err(StoreError::NotFound(_))),
        "got {missing:?}"
    );
}

pub async fn a_whole_lifecycle_moves_duties_along(store: Store) {
    let waiting_on = |who: &str| RequestFilter {
        waiting_on: Some(user_id(who)),
        ..RequestFilter::default()
    };
    let created = create(&store, "alice", T0).await;
    assert_eq!(
        store
            .list_requests(&waiting_on("carol"))
            .await
            .expect("list")
            .len(),
        1
    );
    assert!(store
        .list_requests(&waiting_on("dave"))
        .await
        .expect("list")
        .is_empty());

    let step_two = approve(&store, &created, "carol", T0 + SECOND).await;
    assert!(store
        .list_requests(&waiting_on("carol"))
        .await
        .expect("list")
        .is_empty());
    assert_eq!(
        store
            .list_requests(&waiting_on("dave"))
            .await
            .expect("list")
            .len(),
        1
    );

    let fulfilling = approve(&store, &step_two, "dave", T0 + 2 * SECOND).await;
    assert_eq!(fulfilling.state, State::Fulfilling);
    assert_eq!(fulfilling.version, 3);
    let fulfil = RequestFilter {
        waiting_on: Some(user_id("erin")),
        duty: Some(Duty::Fulfil),
        ..RequestFilter::default()
    };
    assert_eq!(store.list_requests(&fulfil).await.expect("list").len(), 1);
    let approve_duty = RequestFilter {
        waiting_on: Some(user_id("erin")),
        duty: Some(Duty::Approve),
        ..RequestFilter::default()
    };
    assert!(store
        .list_requests(&approve_duty)
        .await
        .expect("list")
        .is_empty());

    let active = apply(
        &store,
        &fulfilling,
        "erin",
        Command::CompleteFulfilment { note: None },
        T0 + 3 * SECOND,
    )
    .await;
    assert!(matches!(active.state, State::Active { .. }));
    assert_eq!(
        active.access_ends_at,
        Some(Timestamp(T0 + 3 * SECOND + 30 * DAY))
    );
    assert!(store
        .list_requests(&waiting_on("erin"))
        .await
        .expect("list")
        .is_empty());
    assert_eq!(
        store.request(created.number).await.expect("read"),
        Some(active)
    );
}

pub async fn lists_filter_and_page(store: Store) {
    let a1 = create(&store, "alice", T0).await;
    let b1 = create(&store, "bob", T0 + 1).await;
    let a2 = create(&store, "alice", T0 + 2).await;
    let f1 = create(&store, "frank", T0 + 3).await; // frank's manager is dave
    let a1 = approve(&store, &a1, "carol", T0 + 10).await; // now waiting on dave
    let numbers =
        |list: Vec<sesame_core::Request>| list.iter().map(|r| r.number).collect::<Vec<_>>();
    let list = |filter: RequestFilter| {
        let store = store.clone();
        async move { numbers(store.list_requests(&filter).await.expect("list")) }
    };

    assert_eq!(
        list(RequestFilter::default()).await,
        vec![f1.number, a2.number, b1.number, a1.number],
        "newest first"
    );
    assert_eq!(
        list(RequestFilter {
            requester: Some(user_id("alice")),
            ..Default::default()
        })
        .await,
        vec![a2.number, a1.number]
    );
    // Carol is asked on alice's and bob's requests; dave on frank's (as manager) and on a1 (step 2).
    assert_eq!(
        list(RequestFilter {
            involving: Some(user_id("carol")),
            ..Default::default()
        })
        .await,
        vec![a2.number, b1.number, a1.number]
    );
    assert_eq!(
        list(RequestFilter {
            involving: Some(user_id("dave")),
            ..Default::default()
        })
        .await,
        vec![f1.number, a1.number]
    );
    // Having approved, carol is still involved in a1 but no longer waited on.
    assert_eq!(
        list(RequestFilter {
            waiting_on: Some(user_id("carol")),
            ..Default::default()
        })
        .await,
        vec![a2.number, b1.number]
    );
    assert_eq!(
        list(RequestFilter {
            waiting_on: Some(user_id("dave")),
            ..Default::default()
        })
        .await,
        vec![f1.number, a1.number]
    );
    assert!(list(RequestFilter {
        involving: Some(user_id("erin")),
        ..Default::default()
    })
    .await
    .is_empty());
    assert_eq!(
        list(RequestFilter {
            states: vec![String::from("pending_approval")],
            requester: Some(user_id("bob")),
            ..Default::default()
        })
        .await,
        vec![b1.number]
    );
    assert!(list(RequestFilter {
        states: vec![String::from("active"), String::from("denied")],
        ..Default::default()
    })
    .await
    .is_empty());
    assert_eq!(
        list(RequestFilter {
            flow: Some(FlowId::new("carpark").expect("id")),
            limit: 1,
            ..Default::default()
        })
        .await,
        vec![f1.number]
    );
    assert!(list(RequestFilter {
        flow: Some(FlowId::new("vpn").expect("id")),
        ..Default::default()
    })
    .await
    .is_empty());

    // Keyset pagination: two at a time, newest first.
    let page1 = list(RequestFilter {
        limit: 2,
        ..Default::default()
    })
    .await;
    assert_eq!(page1, vec![f1.number, a2.number]);
    let page2 = list(RequestFilter {
        limit: 2,
        before: page1.last().copied(),
        ..Default::default()
    })
    .await;
    assert_eq!(page2, vec![b1.number, a1.number]);
    let page3 = list(RequestFilter {
        limit: 2,
        before: page2.last().copied(),
        ..Default::default()
    })
    .await;
    assert!(page3.is_empty());
}

pub async fn a_comment_is_stored_with_its_audit_row_and_a_job(store: Store) {
    let request = create(&store, "alice", T0).await;
    let audit = event("comment_added", T0 + SECOND);
    let comment = store
        .add_comment(
            request.number,
            &user_id("alice"),
            "Plate is KA-123",
            "web",
            &audit,
        )
        .await
        .expect("comment");
    assert_eq!(comment.request, request.number);
    assert_eq!(comment.created_at, Timestamp(T0 + SECOND));
    let second = store
        .add_comment(request.number, &user_id("carol"), "ok", "slack", &audit)
        .await
        .expect("comment");
    assert!(second.id > comment.id);
    assert_eq!(
        store.comments(request.number).await.expect("comments"),
        vec![comment.clone(), second]
    );

    let jobs = store.jobs(JobStatus::Pending, 100).await.expect("jobs");
    let commented = jobs
        .iter()
        .find(|j| {
            j.payload
                == JobPayload::Notice(Notice::Commented {
                    comment: comment.id,
                    author: user_id("alice"),
                    text: String::from("Plate is KA-123"),
                    source: String::from("web"),
                })
        })
        .expect("a Commented job");
    assert_eq!(commented.request, Some(request.number));
    assert_eq!(commented.run_at, Timestamp(T0 + SECOND));
    let rows = store
        .audit(&AuditFilter {
            request: Some(request.number),
            kind: Some(String::from("comment_added")),
            ..Default::default()
        })
        .await
        .expect("audit");
    assert_eq!(rows.len(), 2);

    let missing = store
        .add_comment(
            RequestNumber(request.number.0 + 1000),
            &user_id("alice"),
            "hello?",
            "web",
            &audit,
        )
        .await;
    assert!(
        matches!(missing, Err(StoreError::NotFound(_))),
        "got {missing:?}"
    );
    assert_eq!(
        store
            .comments(request.number)
            .await
            .expect("comments")
            .len(),
        2
    );
}

pub async fn concurrent_writers_of_one_version_get_one_winner(store: Store) {
    let created = create(&store, "alice", T0).await;
    let before = traces(&store).await;
    // Twenty copies of the same decision race; each is a different write of version 1.
    let t = decision(
        &created,
        "carol",
        Command::Approve {
            step: None,
            comment: None,
        },
        T0 + SECOND,
    );
    let racers: Vec<_> = (0..20)
        .map(|_| {
            let (store, t) = (store.clone(), t.clone());
            tokio::spawn(async move { store.save_transition(&t, 1, None).await })
        })
        .collect();
    let mut won = 0;
    for racer in racers {
        match racer.await.expect("the task ran") {
            Ok(saved) => {
                won += 1;
                assert_eq!(saved.version, 2);
            }
            Err(StoreError::Conflict) => {}
            Err(other) => panic!("expected Conflict, got {other:?}"),
        }
    }
    assert_eq!(won, 1, "exactly one write of version 1 stands");
    let (audit, jobs, requests) = traces(&store).await;
    assert_eq!(
        (audit, jobs, requests),
        (
            before.0 + t.audit.len(),
            before.1 + t.notices.len() + t.timers.len(),
            before.2
        )
    );
    assert_eq!(
        store
            .request(created.number)
            .await
            .expect("read")
            .expect("exists")
            .version,
        2
    );
}

pub async fn concurrent_creates_with_one_client_key_make_one_request(store: Store) {
    let racers: Vec<_> = (0..10)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .create_request(&submission("alice", T0 + i), Some("same-key"))
                    .await
            })
        })
        .collect();
    let mut created = Vec::new();
    let mut duplicates = Vec::new();
    for racer in racers {
        match racer.await.expect("the task ran") {
            Ok(request) => created.push(request.number),
            Err(StoreError::DuplicateKey { existing }) => duplicates.push(existing),
            Err(other) => panic!("expected DuplicateKey, got {other:?}"),
        }
    }
    assert_eq!(created.len(), 1, "one request: {created:?}");
    assert_eq!(duplicates.len(), 9);
    assert!(
        duplicates.iter().all(|n| *n == created[0]),
        "every duplicate names the one request"
    );
    let all = store
        .list_requests(&RequestFilter::default())
        .await
        .expect("list");
    assert_eq!(all.len(), 1);
}
