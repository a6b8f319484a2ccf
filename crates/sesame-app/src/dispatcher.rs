//! The worker: claims due jobs from the outbox, delivers notices through the notifiers, fires
//! timers through the engine, and retries failures with backoff until a job is given up as dead
//! (shown to administrators, who can requeue it).
//!
//! Notices are delivered at least once: a crash after delivering and before recording it means a
//! second delivery, which adapters absorb by keeping one message per (request, recipient, purpose).
//! Timers take effect exactly once: the transition a timer causes and the removal of its job are
//! one transaction.

use crate::message_log::StoreMessageLog;
use crate::ports::DeliveryError;
use crate::{App, AppError};
use rand::Rng;
use sesame_core::engine::Command;
use sesame_core::{RequestNumber, Timestamp};
use sesame_store::{Job, JobId, JobPayload, JobStatus};
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::watch;

/// Attempts before a job is given up as dead.
pub const MAX_ATTEMPTS: u32 = 12;
/// How long a claimed job is reserved for its worker unless configured otherwise
/// ([`App::set_job_lease`]); a crashed worker's jobs return after this, or at once when a Sesame
/// on the same host finds the worker's process gone.
pub const LEASE_MILLIS: i64 = 60_000;
const BATCH: u32 = 128;
/// How many claimed jobs run at once.
const DELIVERY_CONCURRENCY: usize = 16;
/// How long inbound de-duplication keys (event ids, clicks) are kept.
const INBOUND_KEYS_KEPT_MILLIS: i64 = 24 * 3_600_000;
const INBOUND_PRUNE_EVERY_MILLIS: i64 = 10 * 60_000;
/// The longest the worker sleeps before looking again, so jobs written by another replica are seen.
const IDLE_POLL: Duration = Duration::from_millis(500);

/// What one pass did, for tests and logs.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    pub claimed: usize,
    pub done: usize,
    pub retried: usize,
    pub dead: usize,
}

/// How a job that did not simply finish was recorded.
enum Settled {
    Done,
    Retried,
    Dead,
}

pub(crate) enum JobResult {
    Done,
    /// Already removed by the transaction that carried out the timer.
    Consumed,
    Retry {
        after: Duration,
        reason: String,
    },
    /// Failed, and tried again however often it fails (removing access is never given up).
    RetryAlways {
        after: Duration,
        reason: String,
    },
    /// Asked to wait (a rate limit): tried again then, without counting as a failure.
    Deferred {
        after: Duration,
        reason: String,
    },
    Dead(String),
}

impl JobResult {
    /// What a delivery's outcome means for its job; `attempts` counts this one.
    pub(crate) fn from_delivery(outcome: Result<(), DeliveryError>, attempts: u32) -> JobResult {
        match outcome {
            Ok(()) => JobResult::Done,
            Err(DeliveryError::Retry { after, reason }) => JobResult::Retry {
                after: after.unwrap_or_else(|| backoff(attempts)),
                reason,
            },
            Err(DeliveryError::Deferred { after, reason }) => JobResult::Deferred { after, reason },
            Err(DeliveryError::Permanent(reason)) => JobResult::Dead(reason),
        }
    }

    fn named(self, notifier: &str) -> JobResult {
        let name = |reason: String| format!("{notifier}: {reason}");
        match self {
            JobResult::Retry { after, reason } => JobResult::Retry {
                after,
                reason: name(reason),
            },
            JobResult::Deferred { after, reason } => JobResult::Deferred {
                after,
                reason: name(reason),
            },
            JobResult::Dead(reason) => JobResult::Dead(name(reason)),
            other => other,
        }
    }
}

/// Exponential backoff from 2 s up to 1 h, with jitter so retries from many jobs spread out.
pub(crate) fn backoff(attempts: u32) -> Duration {
    let base = 2u64.saturating_pow(attempts.min(12)).min(3600);
    let jitter = rand::thread_rng().gen_range(0.8..1.2);
    Duration::from_secs_f64(base as f64 * jitter)
}

impl App {
    /// Claims and runs the jobs due now. Tests call this to drain the outbox deterministically.
    pub async fn run_jobs_once(&self, worker: &str) -> Result<Outcome, AppError> {
        let now = self.now();
        let jobs = self
            .store()
            .claim_jobs(worker, now, self.lease_millis(), BATCH)
            .await?;
        self.run_claimed(jobs, now).await
    }

    /// Claims and runs only the chat jobs due now: the replies people are waiting for (tests that
    /// leave notices and timers to `run_jobs_once` run this lane in the background).
    pub async fn run_chat_jobs_once(&self, worker: &str) -> Result<Outcome, AppError> {
        let now = self.now();
        let jobs = self
            .store()
            .claim_chat_jobs(worker, now, self.lease_millis(), BATCH)
            .await?;
        self.run_claimed(jobs, now).await
    }

    async fn run_claimed(&self, jobs: Vec<Job>, now: Timestamp) -> Result<Outcome, AppError> {
        let mut outcome = Outcome {
            claimed: jobs.len(),
            ..Outcome::default()
        };
        let mut done: Vec<JobId> = Vec::new();
        let mut failed = Vec::new();
        for (job, result) in self.run_concurrently(jobs).await {
            match result {
                JobResult::Done => done.push(job.id),
                other => failed.push((job, other)),
            }
        }
        // Completions first, so that one failed bookkeeping write does not send a whole batch of
        // delivered jobs out again; a result that cannot be recorded leaves its job to the lease.
        if !done.is_empty() {
            self.store().complete_jobs(&done).await?;
            outcome.done += done.len();
        }
        for (job, result) in failed {
            match self.settle_failure(&job, result, now).await {
                Ok(Settled::Done) => outcome.done += 1,
                Ok(Settled::Retried) => outcome.retried += 1,
                Ok(Settled::Dead) => outcome.dead += 1,
                Err(e) => {
                    tracing::warn!(job = job.id.0, error = %e, "a job's outcome was not recorded")
                }
            }
        }
        self.metrics()
            .jobs_done
            .fetch_add(outcome.done as u64, Ordering::Relaxed);
        Ok(outcome)
    }

    /// Records one job's result (a job run outside a claimed batch, see [`App::owe_now`]).
    pub(crate) async fn settle(&self, job: &Job, result: JobResult) {
        let settled = match result {
            JobResult::Done => self
                .store()
                .complete_jobs(&[job.id])
                .await
                .map(|()| Settled::Done)
                .map_err(AppError::from),
            other => self.settle_failure(job, other, self.now()).await,
        };
        match settled {
            Ok(Settled::Done) => {
                self.metrics().jobs_done.fetch_add(1, Ordering::Relaxed);
            }
            Ok(_) => {}
            // The lease runs out and the dispatcher tries again: nothing is lost.
            Err(e) => {
                tracing::warn!(job = job.id.0, error = %e, "a job's outcome was not recorded")
            }
        }
    }

    /// Records a result other than [`JobResult::Done`].
    async fn settle_failure(
        &self,
        job: &Job,
        result: JobResult,
        now: Timestamp,
    ) -> Result<Settled, AppError> {
        let at = |after: Duration| {
            Timestamp(now.0 + i64::try_from(after.as_millis()).unwrap_or(i64::MAX / 2))
        };
        match result {
            JobResult::Done | JobResult::Consumed => Ok(Settled::Done),
            JobResult::Retry { after, reason } if job.attempts < MAX_ATTEMPTS => {
                tracing::warn!(job = job.id.0, attempts = job.attempts, %reason, "job failed; will retry");
                self.store().retry_job(job.id, &reason, at(after)).await?;
                self.metrics().jobs_retried.fetch_add(1, Ordering::Relaxed);
                Ok(Settled::Retried)
            }
            JobResult::RetryAlways { after, reason } => {
                tracing::warn!(job = job.id.0, attempts = job.attempts, %reason, "job failed; will retry");
                self.store().retry_job(job.id, &reason, at(after)).await?;
                self.metrics().jobs_retried.fetch_add(1, Ordering::Relaxed);
                Ok(Settled::Retried)
            }
            JobResult::Deferred { after, reason } => {
                tracing::info!(job = job.id.0, %reason, "job deferred by a rate limit");
                self.store().defer_job(job.id, &reason, at(after)).await?;
                Ok(Settled::Retried)
            }
            JobResult::Retry { reason, .. } | JobResult::Dead(reason) => {
                tracing::error!(job = job.id.0, attempts = job.attempts, %reason, "job given up");
                self.store().bury_job(job.id, &reason).await?;
                self.metrics().jobs_dead.fetch_add(1, Ordering::Relaxed);
                Ok(Settled::Dead)
            }
        }
    }

    /// Runs claimed jobs up to [`DELIVERY_CONCURRENCY`] at a time, starting the next as soon as
    /// one finishes, and returns the results in claim order. A claim holds at most one job per
    /// ordering key (the oldest), so running them side by side never reorders one request's
    /// notices or its connector work; it only stops a slow chat or connector call for one request
    /// from holding up everybody else's.
    async fn run_concurrently(&self, jobs: Vec<Job>) -> Vec<(Job, JobResult)> {
        let mut results = Vec::with_capacity(jobs.len());
        let mut waiting = jobs.into_iter().enumerate();
        let mut running = tokio::task::JoinSet::new();
        loop {
            while running.len() < DELIVERY_CONCURRENCY {
                let Some((index, job)) = waiting.next() else {
                    break;
                };
                let app = self.clone();
                running.spawn(async move {
                    let result = app.run_job(&job).await;
                    (index, job, result)
                });
            }
            match running.join_next().await {
                Some(Ok(done)) => results.push(done),
                // A panic in one job is a bug; its lease runs out and it is claimed again, so
                // nothing is lost.
                Some(Err(e)) => tracing::error!(error = %e, "a job's task failed"),
                None => break,
            }
        }
        results.sort_by_key(|(index, ..)| *index);
        results
            .into_iter()
            .map(|(_, job, result)| (job, result))
            .collect()
    }

    pub(crate) async fn run_job(&self, job: &Job) -> JobResult {
        match &job.payload {
            JobPayload::Notice(notice) => {
                let Some(number) = job.request else {
                    return JobResult::Dead(String::from("a notice without a request"));
                };
                match self.inner.notifiers.as_slice() {
                    [] => {
                        // No chat platform is configured, so there is nobody to tell and nothing
                        // to render: the notice is done without reading the request.
                        tracing::debug!(
                            request = number.0,
                            notice = notice.kind(),
                            "no notifier configured"
                        );
                        JobResult::Done
                    }
                    [only] => self.deliver(job, number, notice, only.as_ref()).await,
                    several => {
                        // One job per notifier from here on, so that each platform succeeds,
                        // retries or dies on its own.
                        let names: Vec<&str> = several.iter().map(|n| n.name()).collect();
                        match self
                            .store()
                            .split_notice(job.id, number, notice, &names, self.now())
                            .await
                        {
                            Ok(()) => {
                                self.wake_dispatcher();
                                JobResult::Consumed
                            }
                            Err(e) => JobResult::Retry {
                                after: backoff(job.attempts),
                                reason: e.to_string(),
                            },
                        }
                    }
                }
            }
            JobPayload::NoticeTo { notifier, notice } => {
                let Some(number) = job.request else {
                    return JobResult::Dead(String::from("a notice without a request"));
                };
                let found = self
                    .inner
                    .notifiers
                    .iter()
                    .find(|n| n.name() == notifier.as_str());
                match found {
                    Some(found) => self.deliver(job, number, notice, found.as_ref()).await,
                    None => {
                        tracing::info!(request = number.0, %notifier, "a notice for a notifier that is no longer configured");
                        JobResult::Done
                    }
                }
            }
            JobPayload::Chat(work) => self.run_chat(job, work, job.attempts).await,
            JobPayload::Provision(work) => self.run_provision(job, *work).await,
            JobPayload::Timer(kind) => {
                let Some(number) = job.request else {
                    return JobResult::Dead(String::from("a timer without a request"));
                };
                match self.fire_timer(number, *kind, job.id).await {
                    Ok(true) => {
                        self.metrics().timers_fired.fetch_add(1, Ordering::Relaxed);
                        JobResult::Consumed
                    }
                    Ok(false) => JobResult::Done,
                    Err(AppError::Domain(e)) => JobResult::Dead(e.to_string()),
                    // A timer is never given up: an expiry that never fires leaves access in
                    // place. The database it failed on comes back.
                    Err(e) => JobResult::RetryAlways {
                        after: backoff(job.attempts),
                        reason: e.to_string(),
                    },
                }
            }
        }
    }

    /// Delivers one notice through one notifier, rendered from the request as it is now.
    async fn deliver(
        &self,
        job: &Job,
        number: RequestNumber,
        notice: &sesame_core::Notice,
        notifier: &dyn crate::ports::Notifier,
    ) -> JobResult {
        let request = match self.store().request(number).await {
            Ok(Some(r)) => r,
            Ok(None) => return JobResult::Dead(format!("request {number} does not exist")),
            Err(e) => {
                return JobResult::Retry {
                    after: backoff(job.attempts),
                    reason: e.to_string(),
                }
            }
        };
        let directory = self.directory();
        let log = StoreMessageLog::new(self.store().clone(), notifier.name(), self.now());
        let context = crate::ports::DeliveryContext {
            directory: &directory,
            log: &log,
            overviews: self,
            attempt: job.attempts,
        };
        let outcome = notifier.deliver(&request, notice, &context).await;
        JobResult::from_delivery(outcome, job.attempts).named(notifier.name())
    }

    /// Fires one timer. `Ok(true)`: the request changed and the job was removed with that change;
    /// `Ok(false)`: the timer was outlived and the caller removes the job.
    async fn fire_timer(
        &self,
        number: RequestNumber,
        kind: sesame_core::TimerKind,
        job: JobId,
    ) -> Result<bool, AppError> {
        self.apply_as_system(number, Command::Fire(kind), Some(job))
            .await
    }

    /// Runs the worker until `shutdown` turns true. The job in hand is finished first, so stopping
    /// never abandons work half done (and anything unclaimed stays in the outbox for next time).
    pub async fn run_dispatcher(&self, worker: String, mut shutdown: watch::Receiver<bool>) {
        self.take_back_dead_leases().await;
        let mut last_directory_check = self.now();
        let mut last_inbound_pruning = Timestamp(0);
        loop {
            if *shutdown.borrow() {
                return;
            }
            let busy = match self.run_jobs_once(&worker).await {
                Ok(outcome) => outcome.claimed > 0,
                Err(e) => {
                    tracing::error!(error = %e, "dispatcher pass failed");
                    false
                }
            };
            let now = self.now();
            if now.0 - last_directory_check.0 > 5_000 {
                last_directory_check = now;
                if let Err(e) = self.reload_directory().await {
                    tracing::warn!(error = %e, "directory reload failed");
                }
            }
            if now.0 - last_inbound_pruning.0 > INBOUND_PRUNE_EVERY_MILLIS {
                last_inbound_pruning = now;
                self.forget_old_inbound_keys().await;
            }
            if busy {
                continue;
            }
            let sleep = match self.store().next_job_at().await {
                Ok(Some(at)) if at.0 > now.0 => {
                    Duration::from_millis(u64::try_from(at.0 - now.0).unwrap_or(0)).min(IDLE_POLL)
                }
                Ok(Some(_)) => Duration::from_millis(50),
                _ => IDLE_POLL,
            };
            tokio::select! {
                _ = tokio::time::sleep(sleep) => {}
                _ = self.inner.wake.notified() => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    /// Ends the leases held by processes on this host that are gone (a Sesame killed and started
    /// again), so their jobs run now instead of when the lease runs out. Leases of other hosts
    /// are left alone: from here there is no telling whether they live.
    pub async fn take_back_dead_leases(&self) {
        let holders = match self.store().lease_holders().await {
            Ok(holders) => holders,
            Err(e) => {
                tracing::warn!(error = %e, "could not read who holds leases");
                return;
            }
        };
        let me = &self.inner.worker;
        for holder in holders {
            let dead = crate::worker::WorkerId::parse(&holder)
                .is_some_and(|other| me.is_dead_neighbour(&other));
            if !dead {
                continue;
            }
            match self.store().release_leases(&holder).await {
                Ok(n) => {
                    tracing::info!(worker = %holder, jobs = n, "took back the jobs of a process that is gone")
                }
                Err(e) => {
                    tracing::warn!(worker = %holder, error = %e, "could not take back a dead process's jobs")
                }
            }
        }
    }

    /// Forgets the de-duplication keys of inbound chat traffic once no platform would repeat it:
    /// Slack retries an event for about an hour, so a day is ample, and the table stays small.
    pub async fn forget_old_inbound_keys(&self) {
        let cutoff = Timestamp(self.now().0 - INBOUND_KEYS_KEPT_MILLIS);
        match self.store().forget_inbound_before(cutoff).await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(forgotten = n, "old inbound keys forgotten"),
            Err(e) => tracing::warn!(error = %e, "old inbound keys could not be forgotten"),
        }
    }

    /// Requeues a dead job (an administrator's retry from the portal or API).
    pub async fn requeue_job(&self, who: &crate::Principal, id: i64) -> Result<bool, AppError> {
        if !who.admin {
            return Err(AppError::Forbidden(String::from(
                "only administrators may retry messages",
            )));
        }
        let requeued = self.store().requeue_job(JobId(id), self.now()).await?;
        self.wake_dispatcher();
        Ok(requeued)
    }

    /// The outbox's jobs with `status`, oldest first (administrators' view of undelivered work).
    pub async fn outbox(&self, status: JobStatus, limit: u32) -> Result<Vec<Job>, AppError> {
        Ok(self.store().jobs(status, limit).await?)
    }

    /// How many jobs wait and how many were given up, for metrics.
    pub async fn outbox_counts(&self) -> Result<sesame_store::JobCounts, AppError> {
        Ok(self.store().job_counts().await?)
    }

    /// Whether the database answers, for readiness checks.
    pub async fn database_ready(&self) -> Result<(), AppError> {
        Ok(self.store().ping().await?)
    }
}
