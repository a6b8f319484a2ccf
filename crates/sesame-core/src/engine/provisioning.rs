//! Recording what a connector did. The provisioning worker talks to the target system (check, then
//! act) and then records the outcome here as Sesame itself, so the request's state, its audit trail
//! and what people are told change together, in one transaction, like any other decision.

use super::{Change, DomainError};
use crate::events::{Actor, Notice, Provision, Timer, TimerKind};
use crate::request::State;
use crate::time::{Span, Timestamp};
use serde_json::json;

/// How long Sesame waits for a target system that accepted a grant to report back, before the
/// request fails and whatever may have been granted is removed: an hour.
pub const ACCEPTED_TIMEOUT_SECONDS: i64 = 3600;

fn accepted_timeout() -> Span {
    Span::from_seconds(ACCEPTED_TIMEOUT_SECONDS)
}

/// What the provisioning worker learned from a connector or its callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectorReport {
    /// The access is in place: granted now, found already there, or reported done by the target
    /// system's callback (`reference` then names the work it accepted).
    Granted {
        answer: String,
        reference: Option<String>,
    },
    /// The target system accepted the grant and reports the outcome later.
    Accepted { reference: String },
    /// The grant cannot be done: a permanent error, retries used up, or the callback said so.
    GrantFailed {
        error: String,
        reference: Option<String>,
    },
    /// An attempt failed and will be tried again; `tell_admins` brings it to the administrators.
    Trouble {
        action: Provision,
        error: String,
        tell_admins: bool,
    },
    /// The access is gone from the target system (removed now, or found absent).
    Removed { answer: String },
    /// An approved extension moved the end of the access it extends to `until`.
    ExtensionApplied { until: Timestamp, answer: String },
    /// An approved extension could not be applied (the access it extends has ended).
    ExtensionFailed { error: String },
}

impl ConnectorReport {
    pub fn name(&self) -> &'static str {
        match self {
            ConnectorReport::Granted { .. } => "connector_granted",
            ConnectorReport::Accepted { .. } => "connector_accepted",
            ConnectorReport::GrantFailed { .. } => "connector_failed",
            ConnectorReport::Trouble { .. } => "connector_trouble",
            ConnectorReport::Removed { .. } => "connector_removed",
            ConnectorReport::ExtensionApplied { .. } => "extension_applied",
            ConnectorReport::ExtensionFailed { .. } => "extension_failed",
        }
    }
}

pub(super) fn record(change: &mut Change<'_>, report: ConnectorReport) -> Result<(), DomainError> {
    if change.actor != &Actor::System {
        return Err(DomainError::NotAllowed(String::from(
            "only Sesame itself records what a connector did",
        )));
    }
    match report {
        ConnectorReport::Granted { answer, reference } => granted(change, answer, reference),
        ConnectorReport::Accepted { reference } => accepted(change, reference),
        ConnectorReport::GrantFailed { error, reference } => grant_failed(change, error, reference),
        ConnectorReport::Trouble {
            action,
            error,
            tell_admins,
        } => trouble(change, action, error, tell_admins),
        ConnectorReport::Removed { answer } => removed(change, answer),
        ConnectorReport::ExtensionApplied { until, answer } => {
            super::extension::applied(change, until, answer)
        }
        ConnectorReport::ExtensionFailed { error } => super::extension::failed(change, error),
    }
}

/// The connector's name, or `Outlived` for a request no connector fulfils.
fn connector(change: &Change<'_>) -> Result<String, DomainError> {
    change
        .request
        .provisioning
        .as_ref()
        .map(|p| p.connector.clone())
        .ok_or(DomainError::Outlived)
}

/// A grant's report applies only while the request waits for it, and a callback only to the work
/// the target system accepted for this request.
fn check_waiting(change: &Change<'_>, reference: Option<&str>) -> Result<String, DomainError> {
    let name = connector(change)?;
    if change.request.state != State::Fulfilling || change.request.extends.is_some() {
        return Err(DomainError::Outlived);
    }
    if let Some(reference) = reference {
        let expected = change
            .request
            .provisioning
            .as_ref()
            .and_then(|p| p.reference.as_deref());
        if expected != Some(reference) {
            return Err(DomainError::NotAllowed(format!(
                "{} is not waiting for the target system's work `{reference}`",
                change.request.title()
            )));
        }
    }
    Ok(name)
}

fn granted(
    change: &mut Change<'_>,
    answer: String,
    reference: Option<String>,
) -> Result<(), DomainError> {
    let name = check_waiting(change, reference.as_deref())?;
    let now = change.now;
    if let Some(p) = change.request.provisioning.as_mut() {
        p.granted_at = Some(now);
        p.last_error = None;
        p.failures = 0;
    }
    change.close_fulfilment(&answer);
    let until = change.start_access();
    change.system_event(
        "access_granted",
        json!({
            "connector": name,
            "answer": answer,
            "until": until.map(Timestamp::to_rfc3339),
            "reference": reference,
        }),
    );
    Ok(())
}

fn accepted(change: &mut Change<'_>, reference: String) -> Result<(), DomainError> {
    let name = check_waiting(change, None)?;
    let now = change.now;
    if let Some(p) = change.request.provisioning.as_mut() {
        if p.reference.as_deref() == Some(reference.as_str()) {
            // The same work reported twice (a grant repeated after a crash): nothing new.
            return Err(DomainError::Outlived);
        }
        p.reference = Some(reference.clone());
        p.accepted_at = Some(now);
        p.last_error = None;
    }
    change.system_event(
        "fulfilment_accepted",
        json!({ "connector": name, "reference": reference, "waits": accepted_timeout().to_string() }),
    );
    change.timers.push(Timer {
        at: now.plus(accepted_timeout()),
        kind: TimerKind::ProvisioningTimeout { accepted_at: now },
    });
    Ok(())
}

fn grant_failed(
    change: &mut Change<'_>,
    error: String,
    reference: Option<String>,
) -> Result<(), DomainError> {
    let name = check_waiting(change, reference.as_deref())?;
    fail_request(change, &name, error);
    Ok(())
}

/// Ends a fulfilling request as failed with the target system's error: the requester is told (the
/// request changed) and so are the administrators.
fn fail_request(change: &mut Change<'_>, name: &str, error: String) {
    if let Some(p) = change.request.provisioning.as_mut() {
        p.last_error = Some(error.clone());
    }
    change.fail_by_system(&error);
    change.system_event(
        "fulfilment_failed",
        json!({ "connector": name, "error": error }),
    );
    change.notices.push(Notice::AdminAttention {
        problem: format!(
            "{}: the `{name}` connector could not grant the access: {error}",
            change.request.title()
        ),
    });
}

fn trouble(
    change: &mut Change<'_>,
    action: Provision,
    error: String,
    tell_admins: bool,
) -> Result<(), DomainError> {
    let name = connector(change)?;
    if let Some(p) = change.request.provisioning.as_mut() {
        p.last_error = Some(error.clone());
        p.failures = p.failures.saturating_add(1);
    }
    let failures = change
        .request
        .provisioning
        .as_ref()
        .map_or(0, |p| p.failures);
    change.system_event(
        "provisioning_error",
        json!({ "connector": name, "action": action.name(), "error": error, "failures": failures }),
    );
    if tell_admins {
        let what = match action {
            Provision::Grant => "grant",
            Provision::Revoke => "remove",
            Provision::Extend => "check the extended",
        };
        change.notices.push(Notice::AdminAttention {
            problem: format!(
                "{}: the `{name}` connector failed {failures} time(s) to {what} access, and Sesame \
                 keeps trying: {error}",
                change.request.title()
            ),
        });
    }
    Ok(())
}

fn removed(change: &mut Change<'_>, answer: String) -> Result<(), DomainError> {
    let name = connector(change)?;
    let ended = matches!(
        change.request.state,
        State::Expired | State::Revoked | State::Canceled | State::Failed
    );
    let already = change
        .request
        .provisioning
        .as_ref()
        .is_some_and(|p| p.removed_at.is_some());
    if !ended || already {
        return Err(DomainError::Outlived);
    }
    let now = change.now;
    if let Some(p) = change.request.provisioning.as_mut() {
        p.removed_at = Some(now);
        p.last_error = None;
        p.failures = 0;
    }
    change.system_event(
        "access_removed",
        json!({ "connector": name, "answer": answer }),
    );
    Ok(())
}

/// The target system accepted a grant and never reported back: the request fails, and whatever it
/// may have done is removed, so that a late success cannot leave access nobody tracks.
pub(super) fn time_out(change: &mut Change<'_>, accepted_at: Timestamp) -> Result<(), DomainError> {
    let still_waiting = change.request.state == State::Fulfilling
        && change
            .request
            .provisioning
            .as_ref()
            .is_some_and(|p| p.accepted_at == Some(accepted_at) && p.granted_at.is_none());
    if !still_waiting {
        return Err(DomainError::Outlived);
    }
    let name = connector(change)?;
    let error = format!(
        "the target system accepted the grant but did not report back within {}",
        accepted_timeout()
    );
    fail_request(change, &name, error);
    change.provisioning.push(Provision::Revoke);
    Ok(())
}
