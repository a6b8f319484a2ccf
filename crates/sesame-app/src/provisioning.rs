//! The provisioning worker: runs a request's connector work from the outbox. Each step checks the
//! target system first, then acts, then records the outcome through the engine as Sesame itself,
//! in the same transaction that removes the job. A crash anywhere in between leaves the job in the
//! outbox; its lease runs out, it runs again, and the check finds what was already done, so access
//! is granted or removed once in effect.

use crate::dispatcher::{backoff, JobResult};
use crate::{App, AppError};
use sesame_core::engine::{Command, ConnectorReport, DomainError};
use sesame_core::ports::Presence;
use sesame_core::ports::{Connector, ConnectorError, ConnectorOutcome, Grant, GrantPerson};
use sesame_core::{Provision, Request, RequestNumber, State};
use sesame_store::Job;
use std::sync::Arc;
use std::time::Duration;

/// Attempts at a grant before the request fails with the target system's error.
pub const GRANT_ATTEMPTS: u32 = 6;
/// After this many failures in a row administrators are told (and again every
/// [`REMOVAL_REMINDER_EVERY`] failures of a removal, which is never given up).
pub const TELL_ADMINS_AFTER: u32 = 3;
const REMOVAL_REMINDER_EVERY: u32 = 24;

/// What a target system's callback reported about work it accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallbackOutcome {
    Done,
    Failed(String),
}

/// Why a connector step failed, in the target system's words, and whether trying again may help.
struct Failure {
    error: String,
    after: Option<Duration>,
    permanent: bool,
}

impl From<ConnectorError> for Failure {
    fn from(e: ConnectorError) -> Self {
        match e {
            ConnectorError::Retry { after, reason } => Failure {
                error: reason,
                after,
                permanent: false,
            },
            ConnectorError::Permanent(reason) => Failure {
                error: reason,
                after: None,
                permanent: true,
            },
        }
    }
}

impl App {
    pub(crate) async fn run_provision(&self, job: &Job, work: Provision) -> JobResult {
        let Some(number) = job.request else {
            return JobResult::Dead(String::from("provisioning work without a request"));
        };
        let request = match self.store().request(number).await {
            Ok(Some(r)) => r,
            Ok(None) => return JobResult::Dead(format!("request {number} does not exist")),
            // A removal is never given up, not even for a database that is down for a while.
            Err(e) if work == Provision::Revoke => {
                return never_given_up(retry(job, None, e.to_string()))
            }
            Err(e) => return retry(job, None, e.to_string()),
        };
        match work {
            Provision::Grant => self.provision_grant(job, &request).await,
            Provision::Revoke => never_given_up(self.provision_revoke(job, &request).await),
            Provision::Extend => self.provision_extend(job, &request).await,
        }
    }

    /// The connector and the grant a request's work is about.
    fn grant_for(&self, request: &Request) -> Result<(Arc<dyn Connector>, Grant), Failure> {
        let (name, target) = match &request.flow.fulfillment {
            sesame_core::flow::Fulfillment::Connector(c) => (&c.connector, &c.target),
            sesame_core::flow::Fulfillment::Manual(_) => {
                return Err(Failure {
                    error: String::from("the flow is fulfilled by hand"),
                    after: None,
                    permanent: true,
                })
            }
        };
        let connector = self.connectors().get(name).ok_or_else(|| Failure {
            // A configuration can be fixed and Sesame restarted: keep trying until then.
            error: format!("no connector named `{name}` is configured"),
            after: None,
            permanent: false,
        })?;
        let directory = self.directory();
        let person = directory.user(&request.requester).ok_or_else(|| Failure {
            error: format!("{} is not in the directory", request.requester),
            after: None,
            permanent: true,
        })?;
        let grant = Grant {
            request: request.number,
            person: GrantPerson {
                id: person.id.clone(),
                email: person.email.clone(),
                display_name: person.display_name.clone(),
            },
            target: target.clone(),
        };
        Ok((connector, grant))
    }

    async fn provision_grant(&self, job: &Job, request: &Request) -> JobResult {
        let waiting = request.state == State::Fulfilling
            && request.extends.is_none()
            && request
                .provisioning
                .as_ref()
                .is_some_and(|p| p.granted_at.is_none() && p.reference.is_none());
        if !waiting {
            // Granted, accepted (the callback or its timeout settles it), or ended meanwhile.
            return JobResult::Done;
        }
        let report = match self.try_grant(request).await {
            Ok(report) => report,
            Err(failure) if failure.permanent || job.attempts >= GRANT_ATTEMPTS => {
                let error = if failure.permanent {
                    failure.error
                } else {
                    format!("gave up after {} attempts: {}", job.attempts, failure.error)
                };
                ConnectorReport::GrantFailed {
                    error,
                    reference: None,
                }
            }
            Err(failure) => {
                return self
                    .report_trouble(job, request.number, Provision::Grant, failure)
                    .await
            }
        };
        self.record(job, request.number, report).await
    }

    async fn try_grant(&self, request: &Request) -> Result<ConnectorReport, Failure> {
        let (connector, grant) = self.grant_for(request)?;
        if connector.check(&grant).await? == Presence::Present {
            return Ok(ConnectorReport::Granted {
                answer: String::from("the access was already in place"),
                reference: None,
            });
        }
        Ok(match connector.grant(&grant).await? {
            ConnectorOutcome::Done => ConnectorReport::Granted {
                answer: String::from("granted"),
                reference: None,
            },
            ConnectorOutcome::Accepted { reference } => ConnectorReport::Accepted { reference },
        })
    }

    async fn provision_revoke(&self, job: &Job, request: &Request) -> JobResult {
        let pending = request
            .provisioning
            .as_ref()
            .is_some_and(|p| p.removed_at.is_none());
        if !pending {
            return JobResult::Done;
        }
        match self.try_revoke(request).await {
            Ok(answer) => {
                self.record(job, request.number, ConnectorReport::Removed { answer })
                    .await
            }
            // Removal is never given up: access that should be gone must not stay by accident.
            Err(failure) => {
                self.report_trouble(job, request.number, Provision::Revoke, failure)
                    .await
            }
        }
    }

    async fn try_revoke(&self, request: &Request) -> Result<String, Failure> {
        let (connector, grant) = self.grant_for(request)?;
        if connector.check(&grant).await? == Presence::Absent {
            return Ok(String::from("the access was already gone"));
        }
        Ok(match connector.revoke(&grant).await? {
            ConnectorOutcome::Done => String::from("removed"),
            ConnectorOutcome::Accepted { reference } => {
                format!("the target system accepted the removal as `{reference}`")
            }
        })
    }

    /// An approved extension: the access it extends is checked (and put back if the target system
    /// lost it), then the original's end moves, then the extension is recorded as applied. Each
    /// of those is idempotent, so a crash between them only repeats them.
    async fn provision_extend(&self, job: &Job, extension: &Request) -> JobResult {
        let (Some(number), State::Fulfilling, Some(by)) =
            (extension.extends, extension.state, extension.duration)
        else {
            return JobResult::Done;
        };
        let original = match self.store().request(number).await {
            Ok(Some(r)) => r,
            Ok(None) => return JobResult::Dead(format!("request {number} does not exist")),
            Err(e) => return retry(job, None, e.to_string()),
        };
        let mut answer = String::from("no connector to check");
        if original.provisioning.is_some() && matches!(original.state, State::Active { .. }) {
            match self.try_grant(&original).await {
                Ok(ConnectorReport::Granted { answer: a, .. }) => answer = a,
                Ok(_) => answer = String::from("the target system accepted the grant again"),
                Err(failure) if failure.permanent || job.attempts >= GRANT_ATTEMPTS => {
                    let report = ConnectorReport::ExtensionFailed {
                        error: format!(
                            "the access could not be checked with the `{}` connector: {}",
                            original
                                .provisioning
                                .as_ref()
                                .map_or("", |p| p.connector.as_str()),
                            failure.error
                        ),
                    };
                    return self.record(job, extension.number, report).await;
                }
                Err(failure) => return retry(job, failure.after, failure.error),
            }
        }
        let command = Command::ExtendAccess {
            extension: extension.number,
            by,
        };
        let report = match self.apply_as_system(number, command, None).await {
            Ok(_) | Err(AppError::Domain(DomainError::AlreadyDone(_))) => {
                match self.store().request(number).await {
                    Ok(Some(r)) => ConnectorReport::ExtensionApplied {
                        until: r.access_ends_at.unwrap_or(r.updated_at),
                        answer,
                    },
                    Ok(None) => return JobResult::Dead(format!("{number} disappeared")),
                    Err(e) => return retry(job, None, e.to_string()),
                }
            }
            Err(AppError::Domain(e)) => ConnectorReport::ExtensionFailed {
                error: e.to_string(),
            },
            Err(e) => return retry(job, None, e.to_string()),
        };
        self.record(job, extension.number, report).await
    }

    /// Records a connector's outcome and removes the job in the same transaction.
    async fn record(&self, job: &Job, number: RequestNumber, report: ConnectorReport) -> JobResult {
        match self
            .apply_as_system(number, Command::Connector(report), Some(job.id))
            .await
        {
            Ok(true) => JobResult::Consumed,
            // The request moved on (ended, or the outcome was already recorded).
            Ok(false) => JobResult::Done,
            Err(AppError::Domain(e)) => JobResult::Dead(e.to_string()),
            Err(e) => retry(job, None, e.to_string()),
        }
    }

    /// A failed attempt: shown on the request (the first few, then now and then), brought to the
    /// administrators once it keeps failing, and tried again after the target system's hint or
    /// the backoff.
    async fn report_trouble(
        &self,
        job: &Job,
        number: RequestNumber,
        action: Provision,
        failure: Failure,
    ) -> JobResult {
        let attempts = job.attempts;
        tracing::warn!(request = number.0, action = action.name(), attempts, error = %failure.error, "connector work failed");
        let worth_recording = attempts <= TELL_ADMINS_AFTER || attempts % 10 == 0;
        let tell_admins = attempts == TELL_ADMINS_AFTER
            || (action == Provision::Revoke
                && attempts > TELL_ADMINS_AFTER
                && attempts % REMOVAL_REMINDER_EVERY == 0);
        if worth_recording || tell_admins {
            let report = ConnectorReport::Trouble {
                action,
                error: failure.error.clone(),
                tell_admins,
            };
            if let Err(e) = self
                .apply_as_system(number, Command::Connector(report), None)
                .await
            {
                tracing::warn!(request = number.0, error = %e, "could not record a connector failure");
            }
        }
        let after = failure.after.unwrap_or_else(|| backoff(attempts));
        if action == Provision::Revoke {
            JobResult::RetryAlways {
                after,
                reason: failure.error,
            }
        } else {
            JobResult::Retry {
                after,
                reason: failure.error,
            }
        }
    }

    /// What a target system reported about work it accepted for `number` (`reference`), through
    /// the connector called `connector`: the request becomes active, or fails with its error.
    /// `Ok(false)` when the request no longer waits for it (settled before, or timed out).
    pub async fn connector_callback(
        &self,
        connector: &str,
        number: RequestNumber,
        reference: &str,
        outcome: CallbackOutcome,
    ) -> Result<bool, AppError> {
        let request = self
            .store()
            .request(number)
            .await?
            .filter(|r| {
                r.provisioning
                    .as_ref()
                    .is_some_and(|p| p.connector == connector)
            })
            .ok_or_else(|| {
                AppError::NotFound(format!(
                    "request {number} is not fulfilled by the connector `{connector}`"
                ))
            })?;
        let reference = Some(reference.to_owned());
        let report = match outcome {
            CallbackOutcome::Done => ConnectorReport::Granted {
                answer: String::from("the target system reported the work done"),
                reference,
            },
            CallbackOutcome::Failed(error) => ConnectorReport::GrantFailed { error, reference },
        };
        self.apply_as_system(request.number, Command::Connector(report), None)
            .await
    }
}

/// Access that should end must end: a removal's every failure is tried again, however often,
/// whatever failed (the target system, or Sesame's own database while recording).
fn never_given_up(result: JobResult) -> JobResult {
    match result {
        JobResult::Retry { after, reason } => JobResult::RetryAlways { after, reason },
        other => other,
    }
}

fn retry(job: &Job, after: Option<Duration>, reason: String) -> JobResult {
    JobResult::Retry {
        after: after.unwrap_or_else(|| backoff(job.attempts)),
        reason,
    }
}
