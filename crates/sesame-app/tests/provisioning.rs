//! Fulfilment by a connector: an approved request gets a grant job; the dispatcher checks, then
//! grants once, then records the access; failures retry with backoff or fail the request with the
//! target system's words; and the removal at expiry is never given up.

#[macro_use]
mod support;

use sesame_app::dispatcher::MAX_ATTEMPTS;
use sesame_app::{Job, JobPayload};
use sesame_core::engine::Command;
use sesame_core::ports::ConnectorError;
use sesame_core::{Provision, Request, State, Timestamp};
use std::sync::Arc;
use std::time::Duration;
use support::{Builder, Db, FakeConnector, Harness, VPN_SECONDS};

on_both_databases!(
    an_approved_request_gets_a_grant_job,
    the_dispatcher_checks_then_grants_once_and_records_the_access,
    access_already_in_place_is_recorded_without_granting_again,
    a_connector_retry_is_retried_with_backoff,
    a_connector_retry_waits_for_the_target_systems_hint,
    a_permanent_failure_fails_the_request_with_the_error,
    a_grant_that_keeps_failing_is_given_up,
    the_removal_at_expiry_is_never_given_up,
);

/// Attempts at a grant before the request fails (`provisioning::GRANT_ATTEMPTS`, not exported).
const GRANT_ATTEMPTS: usize = 6;

async fn with_connector(db: Db) -> Option<(Harness, Arc<FakeConnector>)> {
    let connector = FakeConnector::new();
    let harness = Builder::on(db).connector(connector.clone()).build().await?;
    Some((harness, connector))
}

/// Alice's VPN request, approved by Carol.
async fn approved_vpn(harness: &Harness) -> Request {
    let filed = harness.submit("alice", "vpn").await;
    approve(harness, &filed).await
}

/// Carol approves `filed`.
async fn approve(harness: &Harness, filed: &Request) -> Request {
    harness
        .app
        .act(
            &harness.principal("carol"),
            filed.number,
            Command::Approve {
                step: None,
                comment: None,
            },
        )
        .await
        .expect("Carol approves")
}

/// The pending connector work.
async fn provisioning_jobs(harness: &Harness) -> Vec<(Provision, Job)> {
    harness
        .pending()
        .await
        .into_iter()
        .filter_map(|job| match job.payload {
            JobPayload::Provision(work) => Some((work, job)),
            _ => None,
        })
        .collect()
}

fn retry(reason: &str) -> ConnectorError {
    ConnectorError::Retry {
        after: None,
        reason: reason.to_owned(),
    }
}

async fn an_approved_request_gets_a_grant_job(db: Db) {
    let Some((harness, connector)) = with_connector(db).await else {
        return;
    };
    let filed = harness.submit("alice", "vpn").await;
    assert!(
        provisioning_jobs(&harness).await.is_empty(),
        "nothing before approval"
    );

    let approved = approve(&harness, &filed).await;
    assert_eq!(approved.state, State::Fulfilling);
    let jobs = provisioning_jobs(&harness).await;
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    assert_eq!(jobs[0].0, Provision::Grant);
    assert_eq!(jobs[0].1.request, Some(filed.number));
    assert!(
        connector.calls().is_empty(),
        "the use case never calls the connector"
    );
}

async fn the_dispatcher_checks_then_grants_once_and_records_the_access(db: Db) {
    let Some((harness, connector)) = with_connector(db).await else {
        return;
    };
    let request = approved_vpn(&harness).await;
    harness.drain().await;
    assert_eq!(connector.calls(), ["check", "grant"]);
    assert!(connector.has_access("alice"));

    let now = harness.now();
    let stored = harness.request(request.number).await;
    let until = Timestamp(now.0 + VPN_SECONDS * 1000);
    assert_eq!(stored.state, State::Active { until });
    assert_eq!(stored.access_starts_at, Some(now));
    let provisioning = stored.provisioning.expect("connector progress");
    assert_eq!(provisioning.granted_at, Some(now));
    assert_eq!(provisioning.last_error, None);
    assert!(provisioning_jobs(&harness).await.is_empty());

    harness.advance(60);
    harness.drain().await;
    assert_eq!(connector.calls(), ["check", "grant"], "granted once");
}

async fn access_already_in_place_is_recorded_without_granting_again(db: Db) {
    let Some((harness, connector)) = with_connector(db).await else {
        return;
    };
    connector.put_in_place("alice");
    let request = approved_vpn(&harness).await;
    harness.drain().await;
    assert_eq!(connector.calls(), ["check"]);
    let stored = harness.request(request.number).await;
    assert!(
        matches!(stored.state, State::Active { .. }),
        "{:?}",
        stored.state
    );
}

async fn a_connector_retry_is_retried_with_backoff(db: Db) {
    let Some((harness, connector)) = with_connector(db).await else {
        return;
    };
    connector.fail("grant", 1, retry("the LDAP server is down"));
    let request = approved_vpn(&harness).await;
    harness.drain().await;

    let jobs = provisioning_jobs(&harness).await;
    assert_eq!(jobs.len(), 1);
    let job = &jobs[0].1;
    assert_eq!(job.attempts, 1);
    assert_eq!(job.last_error.as_deref(), Some("the LDAP server is down"));
    let wait = job.run_at.0 - harness.now().0;
    assert!(
        (1_600..2_400).contains(&wait),
        "the first retry waits about two seconds: {wait} ms"
    );
    let stored = harness.request(request.number).await;
    assert_eq!(stored.state, State::Fulfilling);
    let provisioning = stored.provisioning.expect("connector progress");
    assert_eq!(provisioning.failures, 1);
    assert_eq!(
        provisioning.last_error.as_deref(),
        Some("the LDAP server is down")
    );

    harness.advance(1);
    harness.drain().await;
    assert_eq!(
        connector.calls(),
        ["check", "grant"],
        "not before the backoff"
    );
    harness.advance(2);
    harness.drain().await;
    assert_eq!(connector.calls(), ["check", "grant", "check", "grant"]);
    let stored = harness.request(request.number).await;
    assert!(
        matches!(stored.state, State::Active { .. }),
        "{:?}",
        stored.state
    );
    let provisioning = stored.provisioning.expect("connector progress");
    assert_eq!((provisioning.failures, provisioning.last_error), (0, None));
}

async fn a_connector_retry_waits_for_the_target_systems_hint(db: Db) {
    let Some((harness, connector)) = with_connector(db).await else {
        return;
    };
    connector.fail(
        "grant",
        1,
        ConnectorError::Retry {
            after: Some(Duration::from_secs(120)),
            reason: String::from("429"),
        },
    );
    approved_vpn(&harness).await;
    harness.drain().await;
    let jobs = provisioning_jobs(&harness).await;
    assert_eq!(jobs[0].1.run_at.0, harness.now().0 + 120_000);
}

async fn a_permanent_failure_fails_the_request_with_the_error(db: Db) {
    let Some((harness, connector)) = with_connector(db).await else {
        return;
    };
    let error = "there is no group vpn-users";
    connector.fail("grant", 1, ConnectorError::Permanent(error.to_owned()));
    let request = approved_vpn(&harness).await;
    harness.drain().await;

    assert_eq!(connector.calls(), ["check", "grant"], "not tried again");
    let stored = harness.request(request.number).await;
    assert_eq!(stored.state, State::Failed);
    assert_eq!(
        stored.outcome.and_then(|o| o.reason).as_deref(),
        Some(error)
    );
    assert_eq!(
        stored.provisioning.and_then(|p| p.last_error).as_deref(),
        Some(error)
    );
    assert!(provisioning_jobs(&harness).await.is_empty());
    assert!(
        harness.dead().await.is_empty(),
        "the request failed, not the job"
    );
}

async fn a_grant_that_keeps_failing_is_given_up(db: Db) {
    let Some((harness, connector)) = with_connector(db).await else {
        return;
    };
    connector.fail("grant", 100, retry("timeout"));
    let request = approved_vpn(&harness).await;
    for _ in 0..GRANT_ATTEMPTS + 4 {
        harness.drain().await;
        harness.advance(2 * 3600);
    }
    let grants = connector.calls().iter().filter(|c| **c == "grant").count();
    assert_eq!(grants, GRANT_ATTEMPTS);
    let stored = harness.request(request.number).await;
    assert_eq!(stored.state, State::Failed);
    let reason = stored.outcome.and_then(|o| o.reason).unwrap_or_default();
    assert_eq!(
        reason,
        format!("gave up after {GRANT_ATTEMPTS} attempts: timeout")
    );
    assert!(provisioning_jobs(&harness).await.is_empty());
}

async fn the_removal_at_expiry_is_never_given_up(db: Db) {
    let Some((harness, connector)) = with_connector(db).await else {
        return;
    };
    let request = approved_vpn(&harness).await;
    harness.drain().await;
    assert!(connector.has_access("alice"));

    // Even a failure the target system calls permanent: access that should be gone must not stay.
    let failures = MAX_ATTEMPTS as usize + 8;
    connector.fail(
        "revoke",
        failures,
        ConnectorError::Permanent(String::from("insufficient rights")),
    );
    harness.advance(VPN_SECONDS + 1);
    harness.drain().await;
    let stored = harness.request(request.number).await;
    assert_eq!(stored.state, State::Expired);
    for _ in 1..failures {
        harness.advance(2 * 3600);
        harness.drain().await;
        assert!(
            harness.dead().await.is_empty(),
            "a removal is never given up"
        );
    }
    let revokes = || connector.calls().iter().filter(|c| **c == "revoke").count();
    assert_eq!(revokes(), failures);
    let jobs = provisioning_jobs(&harness).await;
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    assert_eq!(jobs[0].0, Provision::Revoke);
    assert_eq!(jobs[0].1.attempts as usize, failures);
    let stored = harness.request(request.number).await;
    let provisioning = stored.provisioning.expect("connector progress");
    assert_eq!(provisioning.removed_at, None);
    assert_eq!(
        provisioning.last_error.as_deref(),
        Some("insufficient rights")
    );
    assert!(connector.has_access("alice"));

    harness.advance(2 * 3600);
    harness.drain().await;
    assert_eq!(revokes(), failures + 1);
    assert!(!connector.has_access("alice"));
    let stored = harness.request(request.number).await;
    assert_eq!(
        stored.provisioning.and_then(|p| p.removed_at),
        Some(harness.now())
    );
    assert!(provisioning_jobs(&harness).await.is_empty());
}
