//! A connector for tests: it keeps the access it granted in memory, records every call, and can be
//! told to fail a number of times, to take its time, or to answer a grant with `Accepted` (as a
//! target system that reports back later would).

use async_trait::async_trait;
use sesame_core::ports::{Connector, ConnectorError, ConnectorOutcome, Grant, Presence};
use sesame_core::RequestNumber;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

/// One call the connector received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectorCall {
    /// `check`, `grant` or `revoke`.
    pub operation: &'static str,
    pub request: RequestNumber,
    pub person: String,
    pub target: BTreeMap<String, String>,
    /// When the call finished (after the latency), by the wall clock.
    pub at: SystemTime,
}

/// The access a grant describes: who, and what.
type AccessKey = (String, Vec<(String, String)>);

#[derive(Default)]
struct State {
    present: BTreeSet<AccessKey>,
    calls: Vec<ConnectorCall>,
    /// Failures still to give, and which.
    failures_left: u32,
    failure: Option<ConnectorError>,
    /// Which operations fail; empty means every one.
    failing_operations: Vec<&'static str>,
    accept_grants: bool,
    next_reference: u64,
    /// Outstanding accepted work, by reference.
    accepted: BTreeMap<String, AccessKey>,
}

/// A connector for tests. Cheap to clone; clones share their state.
#[derive(Clone, Default)]
pub struct FakeConnector {
    state: Arc<Mutex<State>>,
    latency: Duration,
    required_keys: Vec<String>,
}

fn key(grant: &Grant) -> AccessKey {
    (
        grant.person.id.to_string(),
        grant
            .target
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    )
}

impl FakeConnector {
    pub fn new() -> Self {
        Self::default()
    }

    /// Every call takes this long, like a real target system's round trip.
    pub fn with_latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    /// Flows must give these settings (checked when flows load).
    pub fn requiring(mut self, keys: &[&str]) -> Self {
        self.required_keys = keys.iter().map(|k| (*k).to_owned()).collect();
        self
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The next `times` calls of `operations` (all, when empty) fail with `error`.
    pub fn fail_next(&self, times: u32, error: ConnectorError, operations: &[&'static str]) {
        let mut state = self.lock();
        state.failures_left = times;
        state.failure = Some(error);
        state.failing_operations = operations.to_vec();
    }

    /// Grants are answered `Accepted` with a reference, and take effect only when
    /// [`FakeConnector::finish_accepted`] is called.
    pub fn accept_grants(&self, accept: bool) {
        self.lock().accept_grants = accept;
    }

    /// Carries out accepted work now, as the target system would before calling back.
    pub fn finish_accepted(&self, reference: &str) -> bool {
        let mut state = self.lock();
        match state.accepted.remove(reference) {
            Some(access) => {
                state.present.insert(access);
                true
            }
            None => false,
        }
    }

    pub fn calls(&self) -> Vec<ConnectorCall> {
        self.lock().calls.clone()
    }

    /// The calls of one operation, in order.
    pub fn calls_of(&self, operation: &str) -> Vec<ConnectorCall> {
        self.lock()
            .calls
            .iter()
            .filter(|c| c.operation == operation)
            .cloned()
            .collect()
    }

    /// How many pieces of access are in place now.
    pub fn grants_in_effect(&self) -> usize {
        self.lock().present.len()
    }

    /// Whether `person` has access with exactly these settings.
    pub fn has_access(&self, person: &str, target: &BTreeMap<String, String>) -> bool {
        let access = (
            person.to_owned(),
            target.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        );
        self.lock().present.contains(&access)
    }

    /// Removes access behind Sesame's back (someone cleaned up the target system by hand).
    pub fn remove_out_of_band(&self, person: &str) {
        self.lock().present.retain(|(p, _)| p != person);
    }

    /// Records the call, and fails it if a failure is due.
    async fn call(&self, operation: &'static str, grant: &Grant) -> Result<(), ConnectorError> {
        if !self.latency.is_zero() {
            tokio::time::sleep(self.latency).await;
        }
        let mut state = self.lock();
        state.calls.push(ConnectorCall {
            operation,
            request: grant.request,
            person: grant.person.id.to_string(),
            target: grant.target.clone(),
            at: SystemTime::now(),
        });
        let applies =
            state.failing_operations.is_empty() || state.failing_operations.contains(&operation);
        if state.failures_left > 0 && applies {
            state.failures_left -= 1;
            if let Some(error) = state.failure.clone() {
                return Err(error);
            }
        }
        Ok(())
    }
}

#[async_trait]
impl Connector for FakeConnector {
    fn kind(&self) -> &'static str {
        "fake"
    }

    fn validate_target(&self, target: &BTreeMap<String, String>) -> Result<(), String> {
        match self.required_keys.iter().find(|k| !target.contains_key(*k)) {
            Some(missing) => Err(format!("`{missing}` is required")),
            None => Ok(()),
        }
    }

    async fn check(&self, grant: &Grant) -> Result<Presence, ConnectorError> {
        self.call("check", grant).await?;
        Ok(if self.lock().present.contains(&key(grant)) {
            Presence::Present
        } else {
            Presence::Absent
        })
    }

    async fn grant(&self, grant: &Grant) -> Result<ConnectorOutcome, ConnectorError> {
        self.call("grant", grant).await?;
        let mut state = self.lock();
        if state.accept_grants {
            state.next_reference += 1;
            let reference = format!("work-{}", state.next_reference);
            state.accepted.insert(reference.clone(), key(grant));
            return Ok(ConnectorOutcome::Accepted { reference });
        }
        state.present.insert(key(grant));
        Ok(ConnectorOutcome::Done)
    }

    async fn revoke(&self, grant: &Grant) -> Result<ConnectorOutcome, ConnectorError> {
        self.call("revoke", grant).await?;
        self.lock().present.remove(&key(grant));
        Ok(ConnectorOutcome::Done)
    }
}
