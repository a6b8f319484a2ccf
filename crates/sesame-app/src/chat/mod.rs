//! What every chat platform does the same way: inbound traffic taken in once, replies owed as
//! committed jobs, and the thread a request lives in.
//!
//! The rule: a call to a chat platform is an outbox job committed before it is made; only the
//! synchronous acknowledgement body is not. A handler that owes a reply (the answer to a direct
//! message, a modal, an error notice) commits a [`ChatJob`] with the platform's own description of
//! the work, in the same transaction as the inbound event's de-duplication key
//! ([`App::take_in`]), and acknowledges. The dispatcher hands the job to the [`ChatWorker`]
//! registered for its platform; a rate limit or pacing defers it ([`DeliveryError::Deferred`]),
//! a failure retries it with backoff, so a reply is never dropped and a crash between the
//! acknowledgement and the reply loses nothing.

mod people;

pub use people::{ChatRefusal, EmailCache, PLATFORM_UNREACHABLE};

use crate::dispatcher::JobResult;
use crate::ports::DeliveryError;
use crate::{read_lock, write_lock, App, AppError};
use serde::Deserialize;
use sesame_store::{ChatMessageRecord, Job, Lease};
use std::sync::Arc;

pub use sesame_store::ChatJob;

/// A chat platform's worker for the jobs its handlers commit.
#[async_trait::async_trait]
pub trait ChatWorker: Send + Sync {
    /// The platform's name, as in [`ChatJob::platform`] ("slack", "teams").
    fn platform(&self) -> &'static str;

    /// Does the work. `attempt` is 1 the first time (deferrals do not count). Work that fails
    /// for good is reported as [`DeliveryError::Permanent`] and kept as a dead job an
    /// administrator can see and retry.
    async fn perform(&self, work: &serde_json::Value, attempt: u32) -> Result<(), DeliveryError>;
}

/// A platform's handlers, as the worker for the chat jobs they commit: `Work` is the platform's
/// own description of a job, read back from the JSON it was stored as.
#[async_trait::async_trait]
pub trait ChatHandlers: Send + Sync + 'static {
    /// The platform's name, as in [`ChatJob::platform`].
    const PLATFORM: &'static str;
    type Work: serde::de::DeserializeOwned + Send;

    async fn perform(self: Arc<Self>, work: Self::Work, attempt: u32) -> Result<(), DeliveryError>;
}

/// Registers `handlers` as the worker for their platform's chat jobs. The application holds its
/// workers and the handlers hold the application, so the worker keeps only a weak reference.
pub fn worker_for<H: ChatHandlers>(handlers: &Arc<H>) -> Arc<dyn ChatWorker> {
    Arc::new(HandlersWorker(Arc::downgrade(handlers)))
}

struct HandlersWorker<H>(std::sync::Weak<H>);

#[async_trait::async_trait]
impl<H: ChatHandlers> ChatWorker for HandlersWorker<H> {
    fn platform(&self) -> &'static str {
        H::PLATFORM
    }

    async fn perform(&self, work: &serde_json::Value, attempt: u32) -> Result<(), DeliveryError> {
        let Some(handlers) = self.0.upgrade() else {
            return Err(DeliveryError::Retry {
                after: None,
                reason: format!("{} is shutting down", H::PLATFORM),
            });
        };
        let work = H::Work::deserialize(work).map_err(|e| {
            DeliveryError::Permanent(format!("unreadable {} work: {e}", H::PLATFORM))
        })?;
        handlers.perform(work, attempt).await
    }
}

/// How many owed calls may run at once right after their commit; beyond that they wait for the
/// dispatcher, so a burst of traffic queues in the database, not in memory.
pub(crate) const RUN_NOW_LIMIT: usize = 64;

impl App {
    /// Registers the worker for a platform's chat jobs (after the application is built, since
    /// workers call back into it).
    pub fn add_chat_worker(&self, worker: Arc<dyn ChatWorker>) {
        write_lock(&self.inner.chat_workers).push(worker);
    }

    pub(crate) fn chat_worker(&self, platform: &str) -> Option<Arc<dyn ChatWorker>> {
        read_lock(&self.inner.chat_workers)
            .iter()
            .find(|w| w.platform() == platform)
            .cloned()
    }

    /// Takes in an inbound event once: remembers `(source, key)` and commits the work it calls
    /// for in one transaction. False when the key was seen before (a platform's retry): then
    /// nothing is written. The work runs in the dispatcher, after `order`'s earlier work.
    pub async fn take_in(
        &self,
        source: &str,
        key: &str,
        order: Option<&str>,
        job: ChatJob,
    ) -> Result<bool, AppError> {
        let written = self
            .store()
            .enqueue_chat(&job, order, Some((source, key)), None, self.now())
            .await?;
        if written.is_some() {
            self.wake_dispatcher();
        }
        Ok(written.is_some())
    }

    /// Commits a call owed to someone (a reply, a notice in a conversation), run by the
    /// dispatcher after `order`'s earlier work.
    pub async fn owe(&self, order: Option<&str>, job: ChatJob) -> Result<(), AppError> {
        self.store()
            .enqueue_chat(&job, order, None, None, self.now())
            .await?;
        self.wake_dispatcher();
        Ok(())
    }

    /// Commits a call that cannot wait for the dispatcher's next pass (opening a modal, whose
    /// trigger expires three seconds after the click) and runs it at once in this process. The
    /// job is written already leased to this process: should it die, the lease runs out and the
    /// dispatcher runs it. Past [`RUN_NOW_LIMIT`] calls at once it is left to the dispatcher.
    pub async fn owe_now(&self, job: ChatJob) -> Result<(), AppError> {
        let Ok(permit) = self.inner.run_now.clone().try_acquire_owned() else {
            return self.owe(None, job).await;
        };
        let now = self.now();
        let worker = self.worker_name();
        let lease = Lease {
            worker: &worker,
            until: sesame_core::Timestamp(now.0.saturating_add(self.lease_millis())),
        };
        let Some(job) = self
            .store()
            .enqueue_chat(&job, None, None, Some(lease), now)
            .await?
        else {
            return Ok(());
        };
        let app = self.clone();
        tokio::spawn(async move {
            let result = app.run_job(&job).await;
            app.settle(&job, result).await;
            drop(permit);
        });
        Ok(())
    }

    /// Runs a chat job through its platform's worker.
    pub(crate) async fn run_chat(&self, job: &Job, work: &ChatJob, attempts: u32) -> JobResult {
        let Some(worker) = self.chat_worker(&work.platform) else {
            // The platform was switched off since: nobody to send it to.
            tracing::info!(
                job = job.id.0,
                platform = %work.platform,
                "chat work for a platform that is not configured; dropped"
            );
            return JobResult::Done;
        };
        JobResult::from_delivery(worker.perform(&work.work, attempts).await, attempts)
    }

    /// Whether `(source, key)` is seen for the first time (a click, a welcome): remembered at
    /// once, for handlers whose work is a database change made in the same request.
    pub async fn first_time(&self, source: &str, key: &str) -> Result<bool, AppError> {
        Ok(self
            .store()
            .remember_inbound(source, key, self.now())
            .await?)
    }

    /// The request whose message a platform shows at `(channel, ts)`, for replies in its thread.
    pub async fn chat_message_at(
        &self,
        platform: &str,
        channel: &str,
        ts: &str,
    ) -> Result<Option<ChatMessageRecord>, AppError> {
        Ok(self.store().chat_message_at(platform, channel, ts).await?)
    }
}
