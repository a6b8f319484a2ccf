//! The durable outbox and timer queue: its public types and the encoding of payloads.
//!
//! A job is a notice (someone must be told about a request; the adapter renders it from the request's
//! state at delivery time) or a timer (the engine must be asked to fire it). Notices carry the
//! ordering key `request:<n>` and only the oldest pending job of a key can be claimed, so messages
//! about one request go out in the order they were written. Provisioning work (a connector's grant,
//! removal or an extension) has the key `provision:<n>`: one request's grant and removal never run
//! at once or out of order, and they never wait behind a chat platform that is down. Timers have no
//! ordering key.

use crate::error::{encode_error, StoreError};
use serde::{Deserialize, Serialize};
use sesame_core::{Notice, Provision, RequestNumber, Timer, TimerKind, Timestamp};
use std::fmt;

/// The most text of an error kept with a job.
const MAX_ERROR_CHARS: usize = 2000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct JobId(pub i64);

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "job {}", self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobPayload {
    /// A notice for every notifier: written with the change that owes it, and split into one
    /// [`JobPayload::NoticeTo`] per notifier when more than one is configured.
    Notice(Notice),
    /// A notice for one notifier, so that each platform succeeds, retries or dies on its own.
    NoticeTo {
        notifier: String,
        notice: Notice,
    },
    Timer(TimerKind),
    /// Work for the provisioning worker (a connector's grant or removal, an extension).
    Provision(Provision),
    /// A call a chat platform owes someone outside any request's notices: the reply to a message,
    /// a modal, a home tab.
    Chat(ChatJob),
}

/// Work a chat adapter does later, committed before the call it makes: the store and the
/// application never look inside `work`; the adapter registered for `platform` reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatJob {
    pub platform: String,
    pub work: serde_json::Value,
}

/// A job that runs as soon as it is committed, by the process that wrote it: the lease it is
/// written with keeps other workers off it while that process lives.
#[derive(Debug, Clone, Copy)]
pub struct Lease<'a> {
    pub worker: &'a str,
    pub until: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// Waiting to run, or running under a lease.
    Pending,
    /// Given up on; an administrator may requeue it.
    Dead,
}

impl JobStatus {
    pub fn name(self) -> &'static str {
        match self {
            JobStatus::Pending => "pending",
            JobStatus::Dead => "dead",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Job {
    pub id: JobId,
    pub request: Option<RequestNumber>,
    pub payload: JobPayload,
    pub run_at: Timestamp,
    /// How many times the job has been claimed.
    pub attempts: u32,
    pub status: JobStatus,
    pub last_error: Option<String>,
    /// When the current lease ends, if a worker holds one.
    pub locked_until: Option<Timestamp>,
    pub created_at: Timestamp,
}

/// The queue's size, for metrics and readiness checks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct JobCounts {
    pub pending: u64,
    pub dead: u64,
    /// The earliest `run_at` among pending jobs; `now - this` is the queue's lag when positive.
    pub oldest_pending_run_at: Option<Timestamp>,
}

/// A job about to be inserted, its payload already encoded.
pub(crate) struct NewJob {
    pub kind: &'static str,
    pub payload: String,
    pub run_at: i64,
    pub created_at: i64,
    /// The ordering key's prefix (the request number follows): notices and provisioning work are
    /// ordered per request, each on its own key; timers are not ordered.
    pub key_prefix: Option<&'static str>,
}

impl NewJob {
    pub fn notice(notice: &Notice, now: Timestamp) -> Result<Self, StoreError> {
        Ok(NewJob {
            kind: "notice",
            payload: serde_json::to_string(notice).map_err(|e| encode_error("a notice", e))?,
            run_at: now.millis(),
            created_at: now.millis(),
            key_prefix: Some(ORDERING_KEY_PREFIX),
        })
    }

    pub fn provision(work: Provision, now: Timestamp) -> Result<Self, StoreError> {
        Ok(NewJob {
            kind: "provision",
            payload: serde_json::to_string(&work)
                .map_err(|e| encode_error("provisioning work", e))?,
            run_at: now.millis(),
            created_at: now.millis(),
            key_prefix: Some(PROVISION_KEY_PREFIX),
        })
    }

    pub fn notice_to(notifier: &str, notice: &Notice, now: Timestamp) -> Result<Self, StoreError> {
        #[derive(Serialize)]
        struct Encoded<'a> {
            notifier: &'a str,
            notice: &'a Notice,
        }
        Ok(NewJob {
            kind: "notice_to",
            payload: serde_json::to_string(&Encoded { notifier, notice })
                .map_err(|e| encode_error("a notice", e))?,
            run_at: now.millis(),
            created_at: now.millis(),
            key_prefix: Some(ORDERING_KEY_PREFIX),
        })
    }

    pub fn timer(timer: &Timer, now: Timestamp) -> Result<Self, StoreError> {
        Ok(NewJob {
            kind: "timer",
            payload: serde_json::to_string(&timer.kind).map_err(|e| encode_error("a timer", e))?,
            run_at: timer.at.millis(),
            created_at: now.millis(),
            key_prefix: None,
        })
    }
}

/// Notices about request 117 share the ordering key `request:117`.
pub(crate) const ORDERING_KEY_PREFIX: &str = "request:";
/// Provisioning work for request 117 shares the ordering key `provision:117`.
pub(crate) const PROVISION_KEY_PREFIX: &str = "provision:";

pub(crate) fn ordering_key(prefix: &str, request: i64) -> String {
    format!("{prefix}{request}")
}

/// One notifier's notices about request 117 share `request:117:slack`: in order among themselves,
/// and never held up by another platform's retries.
pub(crate) fn notifier_ordering_key(request: i64, notifier: &str) -> String {
    format!("{ORDERING_KEY_PREFIX}{request}:{notifier}")
}

/// Chat work with the same `order` (one person on one platform, say) runs in the order written.
pub(crate) fn chat_ordering_key(order: &str) -> String {
    format!("chat:{order}")
}

/// Keeps stored error text bounded, cutting on a character boundary.
pub(crate) fn bounded_error(error: &str) -> &str {
    match error.char_indices().nth(MAX_ERROR_CHARS) {
        Some((cut, _)) => &error[..cut],
        None => error,
    }
}

/// The columns a job is read from (the claim's RETURNING and the listings use the same list).
pub(crate) const JOB_COLUMNS: &str =
    "id, request_number, kind, payload, run_at, attempts, status, last_error, locked_until, created_at";

#[derive(sqlx::FromRow)]
pub(crate) struct JobRow {
    pub id: i64,
    pub request_number: Option<i64>,
    pub kind: String,
    pub payload: String,
    pub run_at: i64,
    pub attempts: i64,
    pub status: String,
    pub last_error: Option<String>,
    pub locked_until: Option<i64>,
    pub created_at: i64,
}

impl JobRow {
    pub fn into_job(self) -> Result<Job, StoreError> {
        let corrupt = |what: String| StoreError::Corrupt(format!("job {}: {what}", self.id));
        let payload = match self.kind.as_str() {
            "notice" => JobPayload::Notice(
                serde_json::from_str(&self.payload).map_err(|e| corrupt(e.to_string()))?,
            ),
            "timer" => JobPayload::Timer(
                serde_json::from_str(&self.payload).map_err(|e| corrupt(e.to_string()))?,
            ),
            "provision" => JobPayload::Provision(
                serde_json::from_str(&self.payload).map_err(|e| corrupt(e.to_string()))?,
            ),
            "notice_to" => {
                #[derive(Deserialize)]
                struct Encoded {
                    notifier: String,
                    notice: Notice,
                }
                let Encoded { notifier, notice } =
                    serde_json::from_str(&self.payload).map_err(|e| corrupt(e.to_string()))?;
                JobPayload::NoticeTo { notifier, notice }
            }
            "chat" => JobPayload::Chat(
                serde_json::from_str(&self.payload).map_err(|e| corrupt(e.to_string()))?,
            ),
            other => return Err(corrupt(format!("unknown kind {other:?}"))),
        };
        let status = match self.status.as_str() {
            "pending" => JobStatus::Pending,
            "dead" => JobStatus::Dead,
            other => return Err(corrupt(format!("unknown status {other:?}"))),
        };
        Ok(Job {
            id: JobId(self.id),
            request: self.request_number.map(RequestNumber),
            payload,
            run_at: Timestamp(self.run_at),
            attempts: u32::try_from(self.attempts.max(0)).unwrap_or(u32::MAX),
            status,
            last_error: self.last_error,
            locked_until: self.locked_until.map(Timestamp),
            created_at: Timestamp(self.created_at),
        })
    }
}
