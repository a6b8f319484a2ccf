//! The SQLite backend: one file in WAL mode, a writer pool of exactly one connection and a reader
//! pool of four.
//!
//! One writer connection serialises writes inside the process. SQLite allows one writer at a time
//! anyway; queueing in the pool instead of in SQLite's lock avoids `SQLITE_BUSY` and the deadlock
//! that deferred transactions hit when two of them try to upgrade from reading to writing. Write
//! transactions start with `BEGIN IMMEDIATE` for the same reason when another process (the CLI, say)
//! writes at the same time; the 5 s busy timeout covers that case. Readers never block the writer in
//! WAL mode, and the writer never blocks them.
//!
//! Transitions (the hot path: several per request) and inbound chat traffic (an event's
//! de-duplication key with its job, a click remembered, a reply owed) are stored with group commit
//! by one task that owns the writer between batches; see `batch`. Everything else writes through
//! the writer pool.
//!
//! `synchronous=NORMAL` in WAL mode syncs the log at checkpoints, not at every commit: a committed
//! transaction survives a process crash or `kill -9`; a power loss or OS crash may lose the last
//! transactions but never corrupts the database.

use crate::audit::{AuditFilter, AuditRecord, AuditRow, ChainedRow, EncodedAudit};
use crate::chain::{Appender, ChainHead, ChainedEvent, Checkpoint, Linked, NewCheckpoint};
use crate::directory::{decode_group, decode_user, encode_group, encode_user};
use crate::error::{
    db, is_check_violation, is_foreign_key_violation, is_unique_violation, migrate_error,
    StoreError,
};
use crate::jobs::{
    bounded_error, chat_ordering_key, notifier_ordering_key, ordering_key, ChatJob, Job, JobCounts,
    JobId, JobRow, JobStatus, Lease, NewJob, JOB_COLUMNS,
};
use crate::requests::{
    clamp_limit, ChatMessageRecord, Comment, CommentRow, EncodedTransition, RequestFilter,
    RequestRow,
};
use crate::scim::{DirectoryChange, ScimKind, ScimRecord, ScimRow};
use crate::tokens::{NewToken, TokenRecord, TokenRow, TOKEN_COLUMNS};
use crate::url::redact;
use sesame_core::{
    AuditEvent, Group, Notice, Request, RequestNumber, Timestamp, Transition, User, UserId,
};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Pool, QueryBuilder, Transaction};
use std::str::FromStr;
use std::time::Duration;

type DB = sqlx::Sqlite;

/// The reader pool's default size. sqlx runs each SQLite connection on a thread of its own and every
/// statement crosses to it and back; on a small machine one reader beside the writer measured
/// fastest (the lifecycle benchmark on two cores: ~1,100 lifecycles/s with one reader, ~950 with
/// two, ~800 with four). Deployments that run long reports beside live traffic can raise it with
/// `?readers=N` in the URL.
const DEFAULT_READERS: u32 = 1;
const MAX_READERS: u32 = 16;
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
const WRITER_STATEMENT_CACHE: usize = 1000;

mod batch;

use batch::{Batcher, ChatRow, Failure, Rows, Seen, Write};

/// The migrations embedded in this build.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// Whether sqlx's bookkeeping table exists (not before the first migration).
const MIGRATIONS_TABLE_EXISTS: &str =
    "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations')";

#[derive(Clone, Debug)]
pub(crate) struct Pools {
    writer: Pool<DB>,
    reader: Pool<DB>,
    /// Stores transitions with group commit; see `batch`.
    batcher: Batcher,
}

/// Removes Sesame's own `readers=N` parameter from a SQLite URL (sqlx refuses parameters it does not
/// know) and returns it, or the default.
fn take_readers(url: &str) -> Result<(String, u32), StoreError> {
    let Some((base, query)) = url.split_once('?') else {
        return Ok((url.to_owned(), DEFAULT_READERS));
    };
    let mut readers = DEFAULT_READERS;
    let mut kept = Vec::new();
    for pair in query.split('&') {
        match pair.split_once('=') {
            Some(("readers", value)) => {
                readers = value
                    .parse()
                    .ok()
                    .filter(|n| (1..=MAX_READERS).contains(n))
                    .ok_or_else(|| {
                        StoreError::InvalidUrl(format!(
                            "readers={value}: expected a number from 1 to {MAX_READERS}"
                        ))
                    })?;
            }
            _ => kept.push(pair),
        }
    }
    let url = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    Ok((url, readers))
}

/// SQLite serialises claims through the one writer connection, so rows need no lock clause.
macro_rules! claim_lock {
    () => {
        ""
    };
}

/// Nor does the chain's head: a write transaction holds the database's one write lock.
macro_rules! head_lock {
    () => {
        ""
    };
}

/// The chain's head and the largest audit id ever used (the table's AUTOINCREMENT counter counts
/// rows written around Sesame too): the next event's id is one more.
const HEAD_FOR_APPEND: &str = "SELECT h.last_id, h.last_hash, h.count, \
     MAX(COALESCE((SELECT MAX(id) FROM audit), 0), \
         COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'audit'), 0)) \
     FROM audit_head h WHERE h.singleton = 1";

async fn lock_chain_head(conn: &mut sqlx::SqliteConnection) -> Result<Appender, StoreError> {
    let (event_id, hash, count, max_id): (i64, String, i64, i64) = sqlx::query_as(HEAD_FOR_APPEND)
        .fetch_one(conn)
        .await
        .map_err(db)?;
    Ok(Appender::new(
        &ChainHead {
            event_id,
            hash,
            count,
        },
        max_id,
    ))
}

/// The triggers that keep the audit trail append-only, as Sesame defines them (compared with
/// `sqlite_master` with whitespace collapsed).
const GUARDS: [(&str, &str); 5] = [
    (
        "audit_refuses_update",
        "CREATE TRIGGER audit_refuses_update BEFORE UPDATE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END",
    ),
    (
        "audit_refuses_delete",
        "CREATE TRIGGER audit_refuses_delete BEFORE DELETE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END",
    ),
    (
        "audit_refuses_unchained_insert",
        "CREATE TRIGGER audit_refuses_unchained_insert BEFORE INSERT ON audit WHEN NEW.hash IS NULL
BEGIN
    SELECT RAISE(ABORT, 'audit rows are written by Sesame, with their chain hash');
END",
    ),
    (
        "audit_checkpoints_refuse_update",
        "CREATE TRIGGER audit_checkpoints_refuse_update BEFORE UPDATE ON audit_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END",
    ),
    (
        "audit_checkpoints_refuse_delete",
        "CREATE TRIGGER audit_checkpoints_refuse_delete BEFORE DELETE ON audit_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END",
    ),
];

/// Drops and recreates every guard, as defined above.
async fn restore_guards_in(conn: &mut sqlx::SqliteConnection) -> Result<(), StoreError> {
    for (name, sql) in GUARDS {
        sqlx::raw_sql(&format!("DROP TRIGGER IF EXISTS {name}; {sql};"))
            .execute(&mut *conn)
            .await
            .map_err(db)?;
    }
    Ok(())
}

/// Drops the trigger that refuses UPDATE on the trail, inside the caller's transaction (which
/// restores it before it commits).
async fn lift_update_guard_in(conn: &mut sqlx::SqliteConnection) -> Result<(), StoreError> {
    sqlx::raw_sql("DROP TRIGGER IF EXISTS audit_refuses_update")
        .execute(conn)
        .await
        .map_err(db)?;
    Ok(())
}

impl Pools {
    /// What is wrong with the append-only triggers: missing or changed ones, in words.
    pub(crate) async fn audit_guard_problems(&self) -> Result<Vec<String>, StoreError> {
        let stored: Vec<(String, String)> = sqlx::query_as(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' \
             AND tbl_name IN ('audit', 'audit_checkpoints')",
        )
        .fetch_all(&self.reader)
        .await
        .map_err(db)?;
        let mut problems = Vec::new();
        for (name, sql) in GUARDS {
            match stored.iter().find(|(n, _)| n == name) {
                None => problems.push(format!(
                    "the trigger {name} that keeps the audit trail append-only is missing"
                )),
                Some((_, found)) if normalise_sql(found) != normalise_sql(sql) => {
                    problems.push(format!(
                        "the trigger {name} that keeps the audit trail append-only was changed"
                    ))
                }
                Some(_) => {}
            }
        }
        Ok(problems)
    }
}

impl Pools {
    pub(crate) async fn connect(url: &str, in_memory: bool) -> Result<Pools, StoreError> {
        let (url, readers) = take_readers(url)?;
        let url = url.as_str();
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::InvalidUrl(format!("{}: {e}", redact(url))))?
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true);
        if in_memory {
            // Every connection to `:memory:` is a database of its own: one connection serves all, and
            // it is never closed while the store lives.
            let pool = SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(options)
                .await
                .map_err(db)?;
            return Ok(Pools {
                batcher: Batcher::start(pool.clone()),
                writer: pool.clone(),
                reader: pool,
            });
        }
        if let Some(parent) = options
            .get_filename()
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
        {
            tokio::fs::create_dir_all(parent).await.map_err(|e| {
                StoreError::Database(format!(
                    "cannot create the directory {}: {e}",
                    parent.display()
                ))
            })?;
        }
        // Savepoint and statement journals in memory: each write of a batch runs under a savepoint,
        // and on disk its journal cost a `pwrite` for every page the write touched.
        let options = options
            .create_if_missing(true)
            .synchronous(SqliteSynchronous::Normal)
            .pragma("temp_store", "memory");
        // The writer connects first: it creates the file and switches it to WAL, which is permanent.
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .test_before_acquire(false)
            .connect_with(
                options
                    .clone()
                    .journal_mode(SqliteJournalMode::Wal)
                    // Multi-row statements (a batch of completed jobs, say) differ by their number
                    // of rows; keep the common shapes prepared.
                    .statement_cache_capacity(WRITER_STATEMENT_CACHE),
            )
            .await
            .map_err(db)?;
        // `query_only` makes an accidental write through a reader fail instead of competing with
        // the writer for the lock.
        let reader = SqlitePoolOptions::new()
            .max_connections(readers)
            .idle_timeout(None)
            .max_lifetime(None)
            .test_before_acquire(false)
            .connect_with(options.pragma("query_only", "ON"))
            .await
            .map_err(db)?;
        Ok(Pools {
            batcher: Batcher::start(writer.clone()),
            writer,
            reader,
        })
    }

    pub(crate) async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.writer).await.map_err(migrate_error)
    }

    pub(crate) async fn close(&self) {
        self.writer.close().await;
        self.reader.close().await;
    }

    pub(crate) async fn backup_to(&self, path: &std::path::Path) -> Result<(), StoreError> {
        if path.exists() {
            return Err(StoreError::Database(format!(
                "{} already exists; a backup never overwrites a file",
                path.display()
            )));
        }
        let target = path.to_str().ok_or_else(|| {
            StoreError::Database(format!("{} is not a UTF-8 path", path.display()))
        })?;
        // On the writer connection (the reader is read-only), but VACUUM INTO only reads the
        // database: in WAL mode a running Sesame keeps writing meanwhile.
        sqlx::query("VACUUM INTO $1")
            .bind(target)
            .execute(&self.writer)
            .await
            .map_err(db)?;
        Ok(())
    }

    /// `BEGIN IMMEDIATE` takes the write lock at once, so a transaction never fails half-way to
    /// upgrade its lock when another process writes.
    async fn begin_write(&self) -> Result<Transaction<'static, DB>, StoreError> {
        self.writer.begin_with("BEGIN IMMEDIATE").await.map_err(db)
    }
}

impl Pools {
    pub(crate) async fn create_request(
        &self,
        t: &Transition,
        client_key: Option<&str>,
    ) -> Result<Request, StoreError> {
        let rows = Rows::new(EncodedTransition::new(t)?);
        let write = Write::Create {
            rows,
            client_key: client_key.map(str::to_owned),
        };
        match self.batcher.write(write).await? {
            Ok(Some(number)) => Ok(stored(t, number, 1)),
            Ok(None) => Err(StoreError::Database(String::from(
                "the new request got no number",
            ))),
            Err(Failure::Duplicate) if client_key.is_some() => {
                Err(self.duplicate_key(client_key).await)
            }
            Err(Failure::Duplicate | Failure::Conflict) => Err(StoreError::Database(String::from(
                "storing the request broke a constraint",
            ))),
            Err(Failure::Other(message)) => Err(StoreError::Database(message)),
        }
    }

    pub(crate) async fn save_transition(
        &self,
        t: &Transition,
        expected_version: i64,
        completes_job: Option<JobId>,
    ) -> Result<Request, StoreError> {
        let rows = Rows::new(EncodedTransition::new(t)?);
        let number = t.request.number.0;
        match self
            .batcher
            .write(Write::Save {
                rows,
                expected_version,
                completes_job,
            })
            .await?
        {
            Ok(_) => Ok(stored(t, number, expected_version.saturating_add(1))),
            Err(Failure::Conflict) => Err(self.conflict_or_missing(number).await),
            Err(Failure::Duplicate) => Err(StoreError::Database(String::from(
                "storing the change broke a constraint",
            ))),
            Err(Failure::Other(message)) => Err(StoreError::Database(message)),
        }
    }
}

/// Inbound chat traffic goes through the batch too: thousands of events a second would otherwise
/// cost a transaction each on the one writer connection.
impl Pools {
    /// Commits chat work, first remembering `inbound` (source, key) when given: then the work is
    /// written only the first time that key is seen, in the same transaction, so a platform's retry
    /// of the same event neither loses the work (the key alone) nor doubles it (the work alone).
    /// `None` when the key was seen before. With a `lease`, the job is written already claimed by
    /// that worker, which runs it at once; should it die, the lease runs out and any worker takes
    /// the job.
    pub(crate) async fn enqueue_chat(
        &self,
        job: &ChatJob,
        order: Option<&str>,
        inbound: Option<(&str, &str)>,
        lease: Option<Lease<'_>>,
        now: Timestamp,
    ) -> Result<Option<Job>, StoreError> {
        let payload =
            serde_json::to_string(job).map_err(|e| crate::error::encode_error("chat work", e))?;
        let write = Write::Chat {
            seen: inbound.map(|(source, key)| seen(source, key, now)),
            job: ChatRow {
                ordering_key: order.map(chat_ordering_key),
                payload,
                at: now.millis(),
                lease: lease.map(|l| (l.worker.to_owned(), l.until.millis())),
            },
        };
        match self.batcher.write(write).await? {
            Ok(Some(id)) => Ok(Some(Job {
                id: JobId(id),
                request: None,
                payload: crate::jobs::JobPayload::Chat(job.clone()),
                run_at: now,
                attempts: u32::from(lease.is_some()),
                status: JobStatus::Pending,
                last_error: None,
                locked_until: lease.map(|l| l.until),
                created_at: now,
            })),
            Ok(None) => Err(StoreError::Database(String::from("the chat job got no id"))),
            Err(Failure::Duplicate) if inbound.is_some() => Ok(None),
            Err(Failure::Duplicate | Failure::Conflict) => Err(StoreError::Database(String::from(
                "storing the chat job broke a constraint",
            ))),
            Err(Failure::Other(message)) => Err(StoreError::Database(message)),
        }
    }

    pub(crate) async fn remember_inbound(
        &self,
        source: &str,
        key: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        match self
            .batcher
            .write(Write::Seen(seen(source, key, now)))
            .await?
        {
            Ok(_) => Ok(true),
            Err(Failure::Duplicate) => Ok(false),
            Err(Failure::Conflict) => Err(StoreError::Database(String::from(
                "remembering an inbound key broke a constraint",
            ))),
            Err(Failure::Other(message)) => Err(StoreError::Database(message)),
        }
    }
}

fn seen(source: &str, key: &str, now: Timestamp) -> Seen {
    Seen {
        source: source.to_owned(),
        key: key.to_owned(),
        at: now.millis(),
    }
}

include!("shared/writes.rs");
include!("shared/chain.rs");
include!("shared/requests.rs");
include!("shared/records.rs");
include!("shared/jobs.rs");
include!("shared/chat.rs");
include!("shared/scim.rs");
include!("shared/chat_addresses.rs");
include!("shared/portal.rs");

#[cfg(test)]
mod tests {
    use super::take_readers;

    #[test]
    fn the_readers_parameter_is_taken_out_of_the_url() {
        assert_eq!(
            take_readers("sqlite://x.db").unwrap(),
            (String::from("sqlite://x.db"), 1)
        );
        assert_eq!(
            take_readers("sqlite://x.db?readers=4").unwrap(),
            (String::from("sqlite://x.db"), 4)
        );
        assert_eq!(
            take_readers("sqlite://x.db?mode=rwc&readers=2").unwrap(),
            (String::from("sqlite://x.db?mode=rwc"), 2)
        );
        for bad in [
            "sqlite://x.db?readers=0",
            "sqlite://x.db?readers=17",
            "sqlite://x.db?readers=many",
        ] {
            assert!(take_readers(bad).is_err(), "{bad}");
        }
    }
}
