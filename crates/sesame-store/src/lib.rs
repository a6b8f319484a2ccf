//! Sesame's storage: the only crate with SQL.
//!
//! [`Store`] keeps requests (one JSON document each, beside the columns lists filter on), the
//! append-only audit trail, the outbox and timer queue ([`Job`]), the directory, API tokens and
//! inbound de-duplication, in SQLite (the embedded default) or PostgreSQL, chosen by URL. Every state
//! change is one call and one transaction: the request, its audit rows and its jobs together.
//!
//! The public API speaks in core's types and this crate's own; no `sqlx` type crosses it.
#![forbid(unsafe_code)]

mod audit;
mod backend;
pub mod chain;
mod directory;
mod error;
mod jobs;
pub mod portal;
mod requests;
mod scim;
mod testdb;
mod tokens;
mod url;

pub use audit::{AuditFilter, AuditRecord};
pub use chain::{ChainHead, ChainedEvent, Checkpoint, NewCheckpoint};
pub use error::StoreError;
pub use jobs::{ChatJob, Job, JobCounts, JobId, JobPayload, JobStatus, Lease};
pub use requests::{ChatMessageRecord, Comment, RequestFilter, DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT};
pub use scim::{DirectoryChange, ScimKind, ScimRecord};
pub use testdb::create_test_database;
pub use tokens::{NewToken, TokenRecord};

use sesame_core::{AuditEvent, Group, Request, RequestNumber, Timestamp, Transition, User, UserId};
use url::Target;

/// Which database a [`Store`] uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A handle on the database; cheap to clone (the pools are shared).
#[derive(Clone, Debug)]
pub struct Store {
    inner: Inner,
}

#[derive(Clone, Debug)]
enum Inner {
    Sqlite(backend::sqlite::Pools),
    Postgres(backend::postgres::Pools),
}

/// Runs the same call on whichever backend the store holds.
macro_rules! on_backend {
    ($store:expr, $pools:ident => $call:expr) => {
        match &$store.inner {
            Inner::Sqlite($pools) => $call,
            Inner::Postgres($pools) => $call,
        }
    };
}

impl Store {
    /// Connects to `sqlite://<path>` (or `sqlite:<path>`; the file and its directory are created when
    /// missing; `sqlite::memory:` for a private in-memory database) or `postgres://...`. Does not
    /// migrate: call [`Store::migrate`].
    ///
    /// On SQLite this starts the task that commits transitions in batches on the current Tokio
    /// runtime, so use the store on the runtime that connected it.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        let inner = match url::classify(url)? {
            Target::Sqlite { in_memory } => {
                Inner::Sqlite(backend::sqlite::Pools::connect(url, in_memory).await?)
            }
            Target::Postgres => Inner::Postgres(backend::postgres::Pools::connect(url).await?),
        };
        Ok(Store { inner })
    }

    /// Brings the schema up to date with the migrations embedded in this build, then chains the
    /// audit rows written before the trail had a hash chain (once; see `chain`).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        // A schema from a newer Sesame is never touched: during a rolling upgrade the old
        // replicas keep running against it, but an old binary must not start on it afresh.
        let versions = self.schema_versions().await?;
        if let Some(problem) = versions.newer_than_this_build() {
            return Err(StoreError::Database(problem));
        }
        on_backend!(self, pools => pools.migrate().await)?;
        on_backend!(self, pools => pools.chain_legacy_rows().await)?;
        Ok(())
    }

    /// Which migrations this build knows and which the database has applied, for
    /// `sesame migrate --check`.
    pub async fn schema_versions(&self) -> Result<SchemaVersions, StoreError> {
        on_backend!(self, pools => pools.schema_versions().await)
    }

    pub fn backend(&self) -> Backend {
        match self.inner {
            Inner::Sqlite(_) => Backend::Sqlite,
            Inner::Postgres(_) => Backend::Postgres,
        }
    }

    /// Closes every connection; calls after this fail.
    pub async fn close(&self) {
        on_backend!(self, pools => pools.close().await)
    }

    /// Whether the database answers, for readiness checks.
    pub async fn ping(&self) -> Result<(), StoreError> {
        on_backend!(self, pools => pools.ping().await)
    }

    // Requests.

    /// Stores a new request in one transaction: the request (version 1), its duty rows, the people
    /// involved, the audit rows, and a job for every notice and timer of the transition. Returns the
    /// request with its number and version set. When `client_key` was already used, nothing is
    /// written and the error names the request that key created.
    pub async fn create_request(
        &self,
        t: &Transition,
        client_key: Option<&str>,
    ) -> Result<Request, StoreError> {
        on_backend!(self, pools => pools.create_request(t, client_key).await)
    }

    /// Stores a change to `t.request` in one transaction if the stored version is still
    /// `expected_version` (else [`StoreError::Conflict`] and nothing is written): the request, its
    /// duty rows (replaced), the people involved, audit rows, jobs, and the deletion of the timer job
    /// `completes_job` that caused the change. Returns the request with its new version.
    pub async fn save_transition(
        &self,
        t: &Transition,
        expected_version: i64,
        completes_job: Option<JobId>,
    ) -> Result<Request, StoreError> {
        on_backend!(self, pools => pools.save_transition(t, expected_version, completes_job).await)
    }

    pub async fn request(&self, number: RequestNumber) -> Result<Option<Request>, StoreError> {
        on_backend!(self, pools => pools.request(number).await)
    }

    /// Requests matching every condition of the filter, newest first (or oldest first).
    pub async fn list_requests(&self, filter: &RequestFilter) -> Result<Vec<Request>, StoreError> {
        on_backend!(self, pools => pools.list_requests(filter).await)
    }

    /// How many requests match the filter, whatever its page: the true count a list shows.
    pub async fn count_requests(&self, filter: &RequestFilter) -> Result<i64, StoreError> {
        on_backend!(self, pools => pools.count_requests(filter).await)
    }

    /// Stores a comment with its audit row and a `Notice::Commented` job, in one transaction.
    /// [`StoreError::NotFound`] when the request does not exist.
    pub async fn add_comment(
        &self,
        number: RequestNumber,
        author: &UserId,
        text: &str,
        source: &str,
        audit: &AuditEvent,
    ) -> Result<Comment, StoreError> {
        on_backend!(self, pools => pools.add_comment(number, author, text, source, audit).await)
    }

    /// A request's comments, oldest first.
    pub async fn comments(&self, number: RequestNumber) -> Result<Vec<Comment>, StoreError> {
        on_backend!(self, pools => pools.comments(number).await)
    }

    // The audit trail (append-only: there is deliberately no call to change or delete a row).

    /// Appends an event that no transition carries (a directory change, a token created).
    pub async fn append_audit(
        &self,
        request: Option<RequestNumber>,
        event: &AuditEvent,
    ) -> Result<(), StoreError> {
        on_backend!(self, pools => pools.append_audit(request, event).await)
    }

    /// Audit rows matching every condition of the filter, oldest first.
    pub async fn audit(&self, filter: &AuditFilter) -> Result<Vec<AuditRecord>, StoreError> {
        on_backend!(self, pools => pools.audit(filter).await)
    }

    // The chain over the audit trail, its signed checkpoints and its streams.

    /// Up to `limit` events (at most 10,000) with ids above `after_id`, with their chain hashes,
    /// in id order (which is the chain's order).
    pub async fn audit_chain(
        &self,
        after_id: i64,
        limit: u32,
    ) -> Result<Vec<ChainedEvent>, StoreError> {
        on_backend!(self, pools => pools.audit_chain(after_id, limit).await)
    }

    /// The id of the first event written at or after `at`, if any.
    pub async fn first_audit_id_since(&self, at: Timestamp) -> Result<Option<i64>, StoreError> {
        on_backend!(self, pools => pools.first_audit_id_since(at).await)
    }

    /// The end of the chain as the database records it.
    pub async fn audit_chain_head(&self) -> Result<ChainHead, StoreError> {
        on_backend!(self, pools => pools.audit_chain_head().await)
    }

    /// Stores a signed checkpoint; false when one already covers that event (another replica
    /// signed it first).
    pub async fn append_audit_checkpoint(
        &self,
        checkpoint: &NewCheckpoint,
    ) -> Result<bool, StoreError> {
        on_backend!(self, pools => pools.append_audit_checkpoint(checkpoint).await)
    }

    /// Every checkpoint, oldest first.
    pub async fn audit_checkpoints(&self) -> Result<Vec<Checkpoint>, StoreError> {
        on_backend!(self, pools => pools.audit_checkpoints().await)
    }

    /// The checkpoint that covers the most events.
    pub async fn last_audit_checkpoint(&self) -> Result<Option<Checkpoint>, StoreError> {
        on_backend!(self, pools => pools.last_audit_checkpoint().await)
    }

    /// What is wrong with the triggers that keep the trail append-only (missing, disabled or
    /// changed), in words; empty when they are as Sesame made them.
    pub async fn audit_guard_problems(&self) -> Result<Vec<String>, StoreError> {
        on_backend!(self, pools => pools.audit_guard_problems().await)
    }

    /// Recreates the triggers that keep the trail append-only, as Sesame defines them.
    pub async fn restore_audit_guards(&self) -> Result<(), StoreError> {
        on_backend!(self, pools => pools.restore_audit_guards().await)
    }

    /// Takes (or renews) `holder`'s lease on the stream `name` until `now + lease_ms` and returns
    /// the id of the last event the stream delivered (0 for a new stream); `None` while another
    /// holder's lease runs.
    pub async fn claim_audit_stream(
        &self,
        name: &str,
        holder: &str,
        now: Timestamp,
        lease_ms: i64,
    ) -> Result<Option<i64>, StoreError> {
        on_backend!(self, pools => pools.claim_audit_stream(name, holder, now, lease_ms).await)
    }

    /// Records that the stream delivered every event up to `last_event_id`; false when `holder`
    /// no longer holds the stream (nothing is written then).
    pub async fn advance_audit_stream(
        &self,
        name: &str,
        holder: &str,
        last_event_id: i64,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        on_backend!(self, pools => pools.advance_audit_stream(name, holder, last_event_id, now).await)
    }

    /// Gives up `holder`'s lease on a stream (at shutdown), so another Sesame takes it at once.
    pub async fn release_audit_stream(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        on_backend!(self, pools => pools.release_audit_stream(name, holder).await)
    }

    /// Every stream and the id of the last event it delivered.
    pub async fn audit_stream_cursors(&self) -> Result<Vec<(String, i64)>, StoreError> {
        on_backend!(self, pools => pools.audit_stream_cursors().await)
    }

    // The directory.

    /// Inserts or replaces a user, bumps the directory version and appends `audit`, in one transaction.
    pub async fn upsert_user(&self, user: &User, audit: &AuditEvent) -> Result<(), StoreError> {
        on_backend!(self, pools => pools.upsert_user(user, audit).await)
    }

    /// Inserts or replaces a group, bumps the directory version and appends `audit`, in one transaction.
    pub async fn upsert_group(&self, group: &Group, audit: &AuditEvent) -> Result<(), StoreError> {
        on_backend!(self, pools => pools.upsert_group(group, audit).await)
    }

    /// Every user and group, sorted by id, read at one moment.
    pub async fn load_directory(&self) -> Result<(Vec<User>, Vec<Group>), StoreError> {
        on_backend!(self, pools => pools.load_directory().await)
    }

    /// A number that goes up with every directory write.
    pub async fn directory_version(&self) -> Result<i64, StoreError> {
        on_backend!(self, pools => pools.directory_version().await)
    }

    /// Stores several directory entries with their SCIM records and audit rows in one transaction,
    /// bumping the directory version once (when a user or group is written).
    pub async fn apply_directory_change(&self, change: &DirectoryChange) -> Result<(), StoreError> {
        on_backend!(self, pools => pools.apply_directory_change(change).await)
    }

    /// Every SCIM record of a kind, deleted ones included, sorted by id.
    pub async fn scim_records(&self, kind: ScimKind) -> Result<Vec<ScimRecord>, StoreError> {
        on_backend!(self, pools => pools.scim_records(kind).await)
    }

    // API tokens.

    /// Stores a token (its hash only) with its audit row.
    pub async fn create_token(
        &self,
        token: &NewToken,
        audit: &AuditEvent,
    ) -> Result<TokenRecord, StoreError> {
        on_backend!(self, pools => pools.create_token(token, audit).await)
    }

    /// The token with this hash, revoked or expired ones included: check [`TokenRecord::is_usable`].
    pub async fn token_by_hash(&self, hash: &str) -> Result<Option<TokenRecord>, StoreError> {
        on_backend!(self, pools => pools.token_by_hash(hash).await)
    }

    pub async fn list_tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        on_backend!(self, pools => pools.list_tokens().await)
    }

    /// Revokes a token and appends `audit`; false (and nothing audited) when the token is unknown or
    /// already revoked.
    pub async fn revoke_token(
        &self,
        id: i64,
        at: Timestamp,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError> {
        on_backend!(self, pools => pools.revoke_token(id, at, audit).await)
    }

    // Jobs: the outbox and the timer queue.

    /// Claims up to `limit` ready jobs for `worker`: pending, due (`run_at <= now`), not leased (or
    /// the lease ended before `now`), and the oldest pending job of their ordering key. Each claimed
    /// job is leased until `now + lease_ms` and its attempts go up by one. Returned in id order.
    pub async fn claim_jobs(
        &self,
        worker: &str,
        now: Timestamp,
        lease_ms: i64,
        limit: u32,
    ) -> Result<Vec<Job>, StoreError> {
        on_backend!(self, pools => pools.claim_jobs(worker, now, lease_ms, limit, false).await)
    }

    /// [`Store::claim_jobs`] for chat jobs only (see [`JobPayload::Chat`]).
    pub async fn claim_chat_jobs(
        &self,
        worker: &str,
        now: Timestamp,
        lease_ms: i64,
        limit: u32,
    ) -> Result<Vec<Job>, StoreError> {
        on_backend!(self, pools => pools.claim_jobs(worker, now, lease_ms, limit, true).await)
    }

    /// Deletes finished jobs (the audit trail is the history), in one transaction.
    pub async fn complete_jobs(&self, ids: &[JobId]) -> Result<(), StoreError> {
        on_backend!(self, pools => pools.complete_jobs(ids).await)
    }

    /// Puts a job back to wait until `run_at`, clearing its lease and recording the error.
    pub async fn retry_job(
        &self,
        id: JobId,
        error: &str,
        run_at: Timestamp,
    ) -> Result<(), StoreError> {
        on_backend!(self, pools => pools.retry_job(id, error, run_at).await)
    }

    /// Puts a job back to wait until `run_at` without counting the claim as a failed attempt: the
    /// platform asked to wait (a rate limit), which says nothing about whether delivery can work.
    pub async fn defer_job(
        &self,
        id: JobId,
        reason: &str,
        run_at: Timestamp,
    ) -> Result<(), StoreError> {
        on_backend!(self, pools => pools.defer_job(id, reason, run_at).await)
    }

    /// Gives up on a job: it becomes dead, keeps the error, and no longer holds up its ordering key.
    pub async fn bury_job(&self, id: JobId, error: &str) -> Result<(), StoreError> {
        on_backend!(self, pools => pools.bury_job(id, error).await)
    }

    /// Makes a dead job pending again from `now`, with its attempts reset; false if it is not dead.
    pub async fn requeue_job(&self, id: JobId, now: Timestamp) -> Result<bool, StoreError> {
        on_backend!(self, pools => pools.requeue_job(id, now).await)
    }

    /// Jobs in a status, oldest first.
    pub async fn jobs(&self, status: JobStatus, limit: u32) -> Result<Vec<Job>, StoreError> {
        on_backend!(self, pools => pools.jobs(status, limit).await)
    }

    pub async fn job_counts(&self) -> Result<JobCounts, StoreError> {
        on_backend!(self, pools => pools.job_counts().await)
    }

    /// Commits chat work (see [`ChatJob`]); with `inbound`, only the first time that (source, key)
    /// is seen, in the same transaction. `None` when it was seen before.
    pub async fn enqueue_chat(
        &self,
        job: &ChatJob,
        order: Option<&str>,
        inbound: Option<(&str, &str)>,
        lease: Option<Lease<'_>>,
        now: Timestamp,
    ) -> Result<Option<Job>, StoreError> {
        on_backend!(self, pools => pools.enqueue_chat(job, order, inbound, lease, now).await)
    }

    /// Replaces a notice for every notifier with one job per notifier (see
    /// [`JobPayload::NoticeTo`]).
    pub async fn split_notice(
        &self,
        id: JobId,
        request: RequestNumber,
        notice: &sesame_core::Notice,
        notifiers: &[&str],
        now: Timestamp,
    ) -> Result<(), StoreError> {
        on_backend!(self, pools => pools.split_notice(id, request, notice, notifiers, now).await)
    }

    /// The workers holding leases on pending jobs now.
    pub async fn lease_holders(&self) -> Result<Vec<String>, StoreError> {
        on_backend!(self, pools => pools.lease_holders().await)
    }

    /// Ends the leases of a worker known to be dead, so its jobs can be claimed at once.
    pub async fn release_leases(&self, worker: &str) -> Result<u64, StoreError> {
        on_backend!(self, pools => pools.release_leases(worker).await)
    }

    /// When the next job may become claimable (possibly in the past), for the scheduler's sleep.
    pub async fn next_job_at(&self) -> Result<Option<Timestamp>, StoreError> {
        on_backend!(self, pools => pools.next_job_at().await)
    }

    // Chat messages.

    /// Where a chat platform put the message for (request, recipient, purpose), and the digest
    /// of what it last showed: `(channel, ts, digest)`.
    pub async fn chat_message(
        &self,
        number: RequestNumber,
        platform: &str,
        recipient: &str,
        purpose: &str,
    ) -> Result<Option<(String, String, Option<String>)>, StoreError> {
        on_backend!(self, pools => pools.chat_message(number, platform, recipient, purpose).await)
    }

    /// Remembers (or replaces) where a chat platform put a message. [`StoreError::NotFound`] when
    /// the request does not exist.
    #[expect(
        clippy::too_many_arguments,
        reason = "the key and the value, one column each"
    )]
    pub async fn record_chat_message(
        &self,
        number: RequestNumber,
        platform: &str,
        recipient: &str,
        purpose: &str,
        channel: &str,
        ts: &str,
        digest: Option<&str>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        on_backend!(self, pools => pools.record_chat_message(number, platform, recipient, purpose, channel, ts, digest, now).await)
    }

    /// The request whose message sits at `(channel, ts)` on a platform, for replies in its thread.
    pub async fn chat_message_at(
        &self,
        platform: &str,
        channel: &str,
        ts: &str,
    ) -> Result<Option<ChatMessageRecord>, StoreError> {
        on_backend!(self, pools => pools.chat_message_at(platform, channel, ts).await)
    }

    // What people wrote and then chose, for the matcher.

    /// Remembers that `user` wrote `text` and then chose `flow`.
    pub async fn record_match_choice(
        &self,
        user: &str,
        text: &str,
        flow: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        on_backend!(self, pools => pools.record_match_choice(user, text, flow, now).await)
    }

    /// The latest `limit` choices as `(text, flow id)`, newest first.
    pub async fn recent_match_choices(
        &self,
        limit: u32,
    ) -> Result<Vec<(String, String)>, StoreError> {
        on_backend!(self, pools => pools.recent_match_choices(limit).await)
    }

    // Inbound de-duplication.

    /// Records that `key` from `source` was seen: true the first time, false every time after.
    pub async fn remember_inbound(
        &self,
        source: &str,
        key: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        on_backend!(self, pools => pools.remember_inbound(source, key, now).await)
    }

    /// Forgets keys seen before `cutoff`; returns how many.
    pub async fn forget_inbound_before(&self, cutoff: Timestamp) -> Result<u64, StoreError> {
        on_backend!(self, pools => pools.forget_inbound_before(cutoff).await)
    }

    /// Runs SQL on the writer connection, for tests that must show what the database itself refuses.
    #[doc(hidden)]
    pub async fn execute_raw_for_tests(&self, sql: &str) -> Result<u64, StoreError> {
        on_backend!(self, pools => pools.execute_raw(sql).await)
    }
}

// Declared after `on_backend!`, which it uses.
mod chat_addresses;

/// The schema versions this build knows and the ones a database has applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaVersions {
    pub known: Vec<i64>,
    pub applied: Vec<i64>,
}

impl SchemaVersions {
    /// Migrations this build would apply.
    pub fn pending(&self) -> Vec<i64> {
        self.known
            .iter()
            .filter(|v| !self.applied.contains(v))
            .copied()
            .collect()
    }

    /// Migrations the database has that this build does not know: a newer Sesame wrote them.
    pub fn unknown(&self) -> Vec<i64> {
        self.applied
            .iter()
            .filter(|v| !self.known.contains(v))
            .copied()
            .collect()
    }

    /// Why this build must not run against the database, when a newer Sesame migrated it.
    pub fn newer_than_this_build(&self) -> Option<String> {
        let unknown = self.unknown();
        (!unknown.is_empty()).then(|| {
            format!(
                "the database schema is newer than this Sesame understands (it has migration(s) {} \
                 and this build knows up to {}); run the newer Sesame, or restore a backup taken \
                 before the upgrade",
                join_versions(&unknown),
                self.known.last().copied().unwrap_or(0)
            )
        })
    }
}

fn join_versions(versions: &[i64]) -> String {
    versions
        .iter()
        .map(|v| format!("{v:04}"))
        .collect::<Vec<_>>()
        .join(", ")
}
