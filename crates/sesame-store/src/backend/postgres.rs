//! The PostgreSQL backend: one pool. Several Sesame replicas may share the database; job claims use
//! `FOR UPDATE SKIP LOCKED` so that they never hand one job to two workers.

use crate::audit::{AuditFilter, AuditRecord, AuditRow, EncodedAudit};
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
        sqlx::migrate!("./migrations/postgres")
            .run(&self.writer)
            .await
            .map_err(migrate_error)
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
        tx.commit().await.map_err(db)?;
        Ok(stored(t, number, version))
    }
}

/// What accompanies a request's new state: its duty rows (replaced when `replace_duties`), the
/// people involved (added), the audit rows and the jobs; one statement each, skipped when empty.
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
    push_audit(&mut st, RequestRef::Known(number), &t.audit);
    push_jobs(&mut st, number, &t.jobs);
    st
}

include!("shared/writes.rs");
include!("shared/requests.rs");
include!("shared/records.rs");
include!("shared/jobs.rs");
include!("shared/chat.rs");
include!("shared/scim.rs");
include!("shared/chat_addresses.rs");
include!("shared/portal.rs");
