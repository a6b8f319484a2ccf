//! Stories about provisioning work in the outbox: ordered per request on a key of its own, so a
//! request's grant and removal never run at once or out of order, and never wait behind a chat
//! notice.

use crate::fixtures::*;
use sesame_core::{Provision, Timestamp};
use sesame_store::{Job, JobPayload, Store};

const LEASE: i64 = 30 * SECOND;

async fn claim(store: &Store, at: i64) -> Vec<Job> {
    store
        .claim_jobs("worker-1", Timestamp(at), LEASE, 100)
        .await
        .expect("claim")
}

fn provisioning(jobs: &[Job]) -> Vec<Provision> {
    jobs.iter()
        .filter_map(|j| match j.payload {
            JobPayload::Provision(p) => Some(p),
            _ => None,
        })
        .collect()
}

pub async fn provisioning_work_is_ordered_per_request_beside_its_notices(store: Store) {
    let request = create(&store, "alice", T0).await;
    // The store keeps whatever work a transition carries; the engine decides what it is.
    let mut t = decision(
        &request,
        "alice",
        sesame_core::Command::Cancel { reason: None },
        T0 + SECOND,
    );
    t.provisioning = vec![Provision::Grant, Provision::Revoke];
    store
        .save_transition(&t, request.version, None)
        .await
        .expect("saved");

    // The first notice and the grant are both heads of their keys; the removal waits.
    let first = claim(&store, T0 + 2 * SECOND).await;
    assert_eq!(provisioning(&first), [Provision::Grant]);
    assert_eq!(first.len(), 2, "one notice and the grant: {first:?}");
    let grant = first
        .iter()
        .find(|j| matches!(j.payload, JobPayload::Provision(_)))
        .expect("the grant");
    assert_eq!(grant.request, Some(request.number));
    assert!(claim(&store, T0 + 3 * SECOND).await.is_empty());

    // Once the grant is done the removal is next, while the notice is still leased.
    store.complete_jobs(&[grant.id]).await.expect("complete");
    let second = claim(&store, T0 + 4 * SECOND).await;
    assert_eq!(provisioning(&second), [Provision::Revoke]);
    assert_eq!(second.len(), 1);
}
