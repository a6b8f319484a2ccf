//! Decisions that race: `act` retries when another write changed the request first, so two
//! decisions at once both end in a consistent request. The version moves on once per decision
//! applied, no decision is lost or applied twice, and the loser gets the engine's answer.

#[macro_use]
mod support;

use sesame_app::{App, AppError, Principal};
use sesame_core::engine::Command;
use sesame_core::request::StepStatus;
use sesame_core::{DomainError, Request, RequestNumber, State};
use std::sync::Arc;
use support::{Builder, Db, Harness};
use tokio::sync::Barrier;

on_both_databases!(
    two_approvers_of_a_quorum_step_at_once_both_count,
    the_same_approver_twice_at_once_counts_once,
    approve_and_cancel_at_once_one_wins_and_the_other_gets_the_engines_answer,
    a_replica_deciding_from_a_stale_copy_retries_from_a_fresh_read,
    a_replica_deciding_after_a_denial_gets_the_engines_answer,
);

/// How many races each test runs: enough that the two decisions really meet.
const ROUNDS: usize = 10;

fn approve() -> Command {
    Command::Approve {
        step: None,
        comment: None,
    }
}

/// Runs `first` and `second` on one request from two tasks that start together.
async fn race(
    app: &App,
    number: RequestNumber,
    first: (Principal, Command),
    second: (Principal, Command),
) -> (Result<Request, AppError>, Result<Request, AppError>) {
    let barrier = Arc::new(Barrier::new(2));
    let spawn = |(who, command): (Principal, Command)| {
        let app = app.clone();
        let barrier = barrier.clone();
        tokio::spawn(async move {
            barrier.wait().await;
            app.act(&who, number, command).await
        })
    };
    let (a, b) = tokio::join!(spawn(first), spawn(second));
    (a.expect("first task"), b.expect("second task"))
}

/// The kinds of the request's audit events, in order.
async fn audit_kinds(harness: &Harness, number: RequestNumber) -> Vec<String> {
    harness
        .app
        .request_audit(&harness.principal("ada"), number)
        .await
        .expect("the audit trail")
        .into_iter()
        .map(|r| r.kind)
        .collect()
}

fn count(kinds: &[String], kind: &str) -> usize {
    kinds.iter().filter(|k| *k == kind).count()
}

async fn two_approvers_of_a_quorum_step_at_once_both_count(db: Db) {
    let Some(harness) = Builder::on(db).build().await else {
        return;
    };
    for _ in 0..ROUNDS {
        let filed = harness.submit("alice", "prod-db").await;
        let (sam, sue) = (
            (harness.principal("sam"), approve()),
            (harness.principal("sue"), approve()),
        );
        let (a, b) = race(&harness.app, filed.number, sam, sue).await;
        a.expect("Sam's approval");
        b.expect("Sue's approval");

        let stored = harness.request(filed.number).await;
        assert_eq!(
            stored.version,
            filed.version + 2,
            "one version per decision"
        );
        let approvers: Vec<&str> = stored.steps[0]
            .approvals
            .iter()
            .map(|d| d.by.as_str())
            .collect();
        assert_eq!(approvers.len(), 2, "{approvers:?}");
        assert!(approvers.contains(&"sam") && approvers.contains(&"sue"));
        assert_eq!(stored.steps[0].status, StepStatus::Approved);
        assert_eq!(
            stored.state,
            State::Fulfilling,
            "the quorum was reached once"
        );
        let kinds = audit_kinds(&harness, filed.number).await;
        assert_eq!(count(&kinds, "approval_given"), 2, "{kinds:?}");
        assert_eq!(count(&kinds, "step_approved"), 1, "{kinds:?}");
    }
}

async fn the_same_approver_twice_at_once_counts_once(db: Db) {
    let Some(harness) = Builder::on(db).build().await else {
        return;
    };
    for _ in 0..ROUNDS {
        let filed = harness.submit("alice", "prod-db").await;
        let sam = harness.principal("sam");
        let (a, b) = race(
            &harness.app,
            filed.number,
            (sam.clone(), approve()),
            (sam, approve()),
        )
        .await;
        let (won, lost) = match (a, b) {
            (Ok(won), Err(lost)) | (Err(lost), Ok(won)) => (won, lost),
            other => panic!("exactly one of the two approvals applies: {other:?}"),
        };
        assert!(
            matches!(lost, AppError::Domain(DomainError::AlreadyDone(_))),
            "the second click is told it was already done: {lost:?}"
        );
        let stored = harness.request(filed.number).await;
        assert_eq!(stored, won);
        assert_eq!(stored.version, filed.version + 1);
        assert_eq!(stored.steps[0].approvals.len(), 1);
        assert!(matches!(stored.state, State::PendingApproval { step: 0 }));
    }
}

async fn approve_and_cancel_at_once_one_wins_and_the_other_gets_the_engines_answer(db: Db) {
    let Some(harness) = Builder::on(db).build().await else {
        return;
    };
    let mut winners = Vec::new();
    for _ in 0..ROUNDS {
        let filed = harness.submit("alice", "badge").await;
        let cancel = Command::Cancel {
            reason: Some(String::from("not needed")),
        };
        let (approved, canceled) = race(
            &harness.app,
            filed.number,
            (harness.principal("carol"), approve()),
            (harness.principal("alice"), cancel),
        )
        .await;
        let stored = harness.request(filed.number).await;
        assert_eq!(
            stored.version,
            filed.version + 1,
            "exactly one decision applied"
        );
        let kinds = audit_kinds(&harness, filed.number).await;
        match (approved, canceled) {
            (Ok(request), Err(lost)) => {
                assert_eq!(stored, request);
                assert_eq!(stored.state, State::Fulfilling);
                assert!(matches!(lost, AppError::Domain(_)), "{lost:?}");
                assert_eq!(count(&kinds, "canceled"), 0, "{kinds:?}");
                winners.push("approve");
            }
            (Err(lost), Ok(request)) => {
                assert_eq!(stored, request);
                assert_eq!(stored.state, State::Canceled);
                assert!(matches!(lost, AppError::Domain(_)), "{lost:?}");
                assert_eq!(count(&kinds, "approval_given"), 0, "{kinds:?}");
                winners.push("cancel");
            }
            other => panic!("exactly one of approve and cancel applies: {other:?}"),
        }
    }
    eprintln!("winners: {winners:?}");
}

async fn a_replica_deciding_from_a_stale_copy_retries_from_a_fresh_read(db: Db) {
    let Some(harness) = Builder::on(db).build().await else {
        return;
    };
    // This process filed the request and keeps the copy it wrote; another replica changes it.
    let filed = harness.submit("alice", "prod-db").await;
    let replica = harness.replica().await;
    let by_replica = replica
        .act(&harness.principal("sam"), filed.number, approve())
        .await
        .expect("Sam approves on the replica");
    assert_eq!(by_replica.version, filed.version + 1);

    let saved = harness
        .app
        .act(&harness.principal("sue"), filed.number, approve())
        .await
        .expect("Sue's approval is retried from a fresh read");
    assert_eq!(saved.version, filed.version + 2);
    assert_eq!(saved.steps[0].approvals.len(), 2, "Sam's approval was kept");
    assert_eq!(saved.state, State::Fulfilling);
}

async fn a_replica_deciding_after_a_denial_gets_the_engines_answer(db: Db) {
    let Some(harness) = Builder::on(db).build().await else {
        return;
    };
    let filed = harness.submit("alice", "prod-db").await;
    let replica = harness.replica().await;
    let deny = Command::Deny {
        step: None,
        reason: String::from("no ticket"),
    };
    replica
        .act(&harness.principal("sam"), filed.number, deny)
        .await
        .expect("Sam denies on the replica");

    let refused = harness
        .app
        .act(&harness.principal("sue"), filed.number, approve())
        .await
        .expect_err("the request was denied meanwhile");
    match refused {
        AppError::Domain(DomainError::AlreadyDone(message)) => {
            assert!(message.contains("denied by Sam Security"), "{message}")
        }
        other => panic!("expected the engine's answer, got {other:?}"),
    }
    let stored = harness.request(filed.number).await;
    assert_eq!(stored.state, State::Denied);
    assert_eq!(stored.version, filed.version + 1);
}
