//! The PostgreSQL backend: one pool. Several Sesame replicas may share the database; job claims use
//! `FOR UPDATE SKIP LOCKED` so that they never hand one job to two workers.

use crate::audit::{AuditFilter, AuditRecord, AuditRow, ChainedRow, EncodedAudit};
use crate::chain::{Appender, ChainHead, ChainedEvent, Checkpoint, Linked, NewCheckpoint};
use crate::directory::{decode_group, decode_user, encode_group, encode_user};
use crate::error::{db, is_foreign_key_violation, migrate_error, StoreError};
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
use crate::url::{redact, scrub};
use sesame_core::{
    AuditEvent, Group, Notice, Request, RequestNumber, Timestamp, Transition, User, UserId,
};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Pool, QueryBuilder, Transaction};
use std::str::FromStr;
use std::time::Duration;

type DB = sqlx::Postgres;

const CONNECTIONS: u32 = 16;

/// The migrations embedded in this build.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Whether sqlx's bookkeeping table exists (not before the first migration).
const MIGRATIONS_TABLE_EXISTS: &str = "SELECT to_regclass('_sqlx_migrations') IS NOT NULL";

#[derive(Clone, Debug)]
pub(crate) struct Pools {
    writer: Pool<DB>,
    /// The same pool as `writer`: PostgreSQL needs no separate readers. The shared code names both.
    reader: Pool<DB>,
}

/// Replicas claiming at once skip each other's locked rows instead of waiting for them.
macro_rules! claim_lock {
    () => {
        " FOR UPDATE OF j SKIP LOCKED"
    };
}

/// The chain's head is locked until the transaction ends: replicas append one after the other.
macro_rules! head_lock {
    () => {
        " FOR UPDATE"
    };
}

/// Locks the chain's head and reads the largest audit id used (rows written around Sesame take ids
/// too): the next event's id is one more. Two statements, because in READ COMMITTED a statement
/// that waited for the lock still reads the rest of the database as it was when it started.
async fn lock_chain_head(conn: &mut sqlx::PgConnection) -> Result<Appender, StoreError> {
    let (event_id, hash, count): (i64, String, i64) = sqlx::query_as(
        "SELECT last_id, last_hash, count FROM audit_head WHERE singleton = 1 FOR UPDATE",
    )
    .fetch_one(&mut *conn)
    .await
    .map_err(db)?;
    let max_id: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM audit")
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

/// The functions the append-only triggers run, by name, with their bodies.
const GUARD_FUNCTIONS: [(&str, &str); 2] = [
    (
        "sesame_audit_is_append_only",
        "BEGIN RAISE EXCEPTION 'the audit log is append-only'; END;",
    ),
    (
        "sesame_audit_requires_hash",
        "BEGIN RAISE EXCEPTION 'audit rows are written by Sesame, with their chain hash'; END;",
    ),
];

/// The triggers that keep the audit trail append-only, by table and name, as
/// `pg_get_triggerdef` shows them (without the table's schema); each is also its own definition.
const GUARDS: [(&str, &str, &str); 5] = [
    (
        "audit",
        "audit_refuses_update_and_delete",
        "CREATE TRIGGER audit_refuses_update_and_delete BEFORE DELETE OR UPDATE ON audit \
         FOR EACH ROW EXECUTE FUNCTION sesame_audit_is_append_only()",
    ),
    (
        "audit",
        "audit_refuses_truncate",
        "CREATE TRIGGER audit_refuses_truncate BEFORE TRUNCATE ON audit \
         FOR EACH STATEMENT EXECUTE FUNCTION sesame_audit_is_append_only()",
    ),
    (
        "audit",
        "audit_refuses_unchained_insert",
        "CREATE TRIGGER audit_refuses_unchained_insert BEFORE INSERT ON audit \
         FOR EACH ROW WHEN ((new.hash IS NULL)) EXECUTE FUNCTION sesame_audit_requires_hash()",
    ),
    (
        "audit_checkpoints",
        "audit_checkpoints_refuse_update_and_delete",
        "CREATE TRIGGER audit_checkpoints_refuse_update_and_delete BEFORE DELETE OR UPDATE \
         ON audit_checkpoints FOR EACH ROW EXECUTE FUNCTION sesame_audit_is_append_only()",
    ),
    (
        "audit_checkpoints",
        "audit_checkpoints_refuse_truncate",
        "CREATE TRIGGER audit_checkpoints_refuse_truncate BEFORE TRUNCATE ON audit_checkpoints \
         FOR EACH STATEMENT EXECUTE FUNCTION sesame_audit_is_append_only()",
    ),
];

/// Recreates the guards' functions and triggers as defined above.
async fn restore_guards_in(conn: &mut sqlx::PgConnection) -> Result<(), StoreError> {
    for (name, body) in GUARD_FUNCTIONS {
        sqlx::raw_sql(&format!(
            "CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ {body} $$"
        ))
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    }
    for (table, name, sql) in GUARDS {
        sqlx::raw_sql(&format!("DROP TRIGGER IF EXISTS {name} ON {table}; {sql}"))
            .execute(&mut *conn)
            .await
            .map_err(db)?;
    }
    Ok(())
}

/// Drops the trigger that refuses UPDATE on the trail, inside the caller's transaction (which
/// restores it before it commits).
async fn lift_update_guard_in(conn: &mut sqlx::PgConnection) -> Result<(), StoreError> {
    sqlx::raw_sql("DROP TRIGGER IF EXISTS audit_refuses_update_and_delete ON audit")
        .execute(conn)
        .await
        .map_err(db)?;
    Ok(())
}

impl Pools {
    /// What is wrong with the append-only triggers and their functions: missing, disabled or
    /// changed ones, in words.
    pub(crate) async fn audit_guard_problems(&self) -> Result<Vec<String>, StoreError> {
        let triggers: Vec<(String, String, String, String)> = sqlx::query_as(
            "SELECT t.tgname::text, t.tgenabled::text, n.nspname::text, pg_get_triggerdef(t.oid) \
             FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE NOT t.tgisinternal AND n.nspname = current_schema() \
             AND c.relname IN ('audit', 'audit_checkpoints')",
        )
        .fetch_all(&self.reader)
        .await
        .map_err(db)?;
        let functions: Vec<(String, String)> = sqlx::query_as(
            "SELECT p.proname::text, p.prosrc FROM pg_proc p \
             JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = current_schema()",
        )
        .fetch_all(&self.reader)
        .await
        .map_err(db)?;
        let mut problems = Vec::new();
        for (_, name, sql) in GUARDS {
            match triggers.iter().find(|t| t.0 == name) {
                None => problems.push(format!(
                    "the trigger {name} that keeps the audit trail append-only is missing"
                )),
                Some((_, enabled, _, _)) if enabled != "O" && enabled != "A" => {
                    problems.push(format!(
                        "the trigger {name} that keeps the audit trail append-only is disabled"
                    ))
                }
                Some((_, _, schema, found))
                    if normalise_sql(&found.replace(&format!(" ON {schema}."), " ON "))
                        != normalise_sql(sql) =>
                {
                    problems.push(format!(
                        "the trigger {name} that keeps the audit trail append-only was changed"
                    ))
                }
                Some(_) => {}
            }
        }
        for (name, body) in GUARD_FUNCTIONS {
            match functions.iter().find(|f| f.0 == name) {
                None => problems.push(format!(
                    "the function {name} behind the audit trail's triggers is missing"
                )),
                Some((_, found)) if normalise_sql(found) != normalise_sql(body) => problems.push(
                    format!("the function {name} behind the audit trail's triggers was changed"),
                ),
                Some(_) => {}
            }
        }
        Ok(problems)
    }
}

impl Pools {
    pub(crate) async fn connect(url: &str) -> Result<Pools, StoreError> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::InvalidUrl(scrub(&format!("{}: {e}", redact(url)), url)))?;
        let pool = PgPoolOptions::new()
            .max_connections(CONNECTIONS)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(|e| match db(e) {
                StoreError::Database(message) => StoreError::Database(scrub(&message, url)),
                other => other,
            })?;
        Ok(Pools {
            writer: pool.clone(),
            reader: pool,
        })
    }

    pub(crate) async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.writer).await.map_err(migrate_error)
    }

    pub(crate) async fn close(&self) {
        self.writer.close().await;
    }

    async fn begin_write(&self) -> Result<Transaction<'static, DB>, StoreError> {
        self.writer.begin().await.map_err(db)
    }
}

impl Pools {
    pub(crate) async fn create_request(
        &self,
        t: &Transition,
        client_key: Option<&str>,
    ) -> Result<Request, StoreError> {
        let encoded = EncodedTransition::new(t)?;
        let mut tx = self.begin_write().await?;
        let mut insert = QueryBuilder::new(
            "INSERT INTO requests (flow_id, requester, submitted_by, state, created_at, updated_at, access_ends_at, \
             version, client_key, body) VALUES (",
        );
        let mut values = insert.separated(", ");
        values
            .push_bind(encoded.flow_id.as_str())
            .push_bind(encoded.requester.as_str())
            .push_bind(encoded.submitted_by.as_str())
            .push_bind(encoded.state)
            .push_bind(encoded.created_at)
            .push_bind(encoded.updated_at)
            .push_bind(encoded.access_ends_at)
            .push("1")
            .push_bind(client_key)
            .push_bind(encoded.body.as_str());
        // A taken client key inserts nothing (and keeps the transaction usable): roll back and say
        // which request the key made.
        insert.push(") ON CONFLICT (client_key) DO NOTHING RETURNING number");
        let number: Option<i64> = insert
            .build_query_scalar()
            .fetch_optional(&mut *tx)
            .await
            .map_err(db)?;
        let Some(number) = number else {
            tx.rollback().await.map_err(db)?;
            return Err(self.duplicate_key(client_key).await);
        };
        effects(number, &encoded, false)
            .execute_each(&mut tx)
            .await?;
        append_chained(&mut tx, RequestRef::Known(number), &encoded.audit).await?;
        tx.commit().await.map_err(db)?;
        Ok(stored(t, number, 1))
    }

    pub(crate) async fn save_transition(
        &self,
        t: &Transition,
        expected_version: i64,
        completes_job: Option<JobId>,
    ) -> Result<Request, StoreError> {
        let encoded = EncodedTransition::new(t)?;
        let number = encoded.number;
        let mut tx = self.begin_write().await?;
        let version: Option<i64> = sqlx::query_scalar(
            "UPDATE requests SET state = $1, updated_at = $2, access_ends_at = $3, body = $4, version = version + 1 \
             WHERE number = $5 AND version = $6 RETURNING version",
        )
        .bind(encoded.state)
        .bind(encoded.updated_at)
        .bind(encoded.access_ends_at)
        .bind(encoded.body.as_str())
        .bind(number)
        .bind(expected_version)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?;
        let Some(version) = version else {
            tx.rollback().await.map_err(db)?;
            return Err(self.conflict_or_missing(number).await);
        };
        let mut st = effects(number, &encoded, true);
        if let Some(job) = completes_job {
            st.next("DELETE FROM jobs WHERE id = ").push_bind(job.0);
        }
        st.execute_each(&mut tx).await?;
        append_chained(&mut tx, RequestRef::Known(number), &encoded.audit).await?;
        tx.commit().await.map_err(db)?;
        Ok(stored(t, number, version))
    }
}

/// What accompanies a request's new state: its duty rows (replaced when `replace_duties`), the
/// people involved (added) and the jobs; one statement each, skipped when empty. The audit rows
/// follow, last before the commit (`append_chained`).
fn effects(number: i64, t: &EncodedTransition, replace_duties: bool) -> Statements<'_> {
    let mut st = Statements::new();
    if replace_duties {
        st.next("DELETE FROM duties WHERE request_number = ")
            .push_bind(number);
    }
    if !t.duties.is_empty() {
        st.next("INSERT INTO duties (user_id, request_number, duty) ")
            .push_values(&t.duties, |mut row, (user, duty)| {
                row.push_bind(user.as_str())
                    .push_bind(number)
                    .push_bind(*duty);
            });
    }
    if !t.people.is_empty() {
        st.next("INSERT INTO request_people (user_id, request_number) ")
            .push_values(&t.people, |mut row, user| {
                row.push_bind(user.as_str()).push_bind(number);
            })
            // People stay involved from write to write: only newcomers are added.
            .push(" ON CONFLICT DO NOTHING");
    }
    push_jobs(&mut st, number, &t.jobs);
    st
}

/// Inbound traffic: PostgreSQL commits concurrent transactions in parallel, so each is written on
/// its own (SQLite's group commit is in `sqlite/batch.rs`).
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
        let mut tx = self.begin_write().await?;
        if let Some((source, key)) = inbound {
            let inserted = sqlx::query(
                "INSERT INTO inbound_seen (source, key, seen_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            )
            .bind(source)
            .bind(key)
            .bind(now.millis())
            .execute(&mut *tx)
            .await
            .map_err(db)?
            .rows_affected();
            if inserted == 0 {
                tx.rollback().await.map_err(db)?;
                return Ok(None);
            }
        }
        let row: JobRow = sqlx::query_as(&format!(
            "INSERT INTO jobs (request_number, ordering_key, kind, payload, run_at, created_at, attempts, locked_until, locked_by) \
             VALUES (NULL, $1, 'chat', $2, $3, $3, $4, $5, $6) RETURNING {JOB_COLUMNS}"
        ))
        .bind(order.map(chat_ordering_key))
        .bind(payload.as_str())
        .bind(now.millis())
        .bind(i64::from(lease.is_some()))
        .bind(lease.map(|l| l.until.millis()))
        .bind(lease.map(|l| l.worker))
        .fetch_one(&mut *tx)
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)?;
        row.into_job().map(Some)
    }

    pub(crate) async fn remember_inbound(
        &self,
        source: &str,
        key: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let inserted = sqlx::query("INSERT INTO inbound_seen (source, key, seen_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
            .bind(source)
            .bind(key)
            .bind(now.millis())
            .execute(&self.writer)
            .await
            .map_err(db)?
            .rows_affected();
        Ok(inserted > 0)
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
