//! Group commit for SQLite: the writes that store transitions go through one task, which commits
//! whatever has queued up in one transaction.
//!
//! Why: SQLite appends every page a transaction dirtied to the WAL at commit (two `pwrite`s a page),
//! and a transition dirties ten to twenty pages, most of them the same few hot pages (the newest leaf
//! of each index, `sqlite_sequence`, the jobs table). A batch writes each of those once.
//!
//! Each write is one script of fixed text (`SAVEPOINT; INSERT ...; ...; RELEASE`), so sqlx keeps it
//! prepared and it costs one round trip to sqlx's SQLite worker thread. The rows that vary in number
//! (duties, people, audit rows, jobs) travel as JSON arrays that `json_each` unpacks: SQLite-only SQL,
//! which is why this path does not share its statements with PostgreSQL.
//!
//! Nobody waits for a batch to fill: the task takes one write, adds whatever else is already queued
//! (up to [`MAX_BATCH`]) and commits. Under light load every batch holds one write.
//!
//! Failures: a write that fails (a version conflict, a taken client key) is rolled back to its own
//! savepoint and the batch goes on; its caller alone gets the error. If the transaction itself fails
//! (BEGIN, COMMIT, a rollback that does not work), every write of the batch fails.
//!
//! Cancellation: a caller that stops waiting (a client that hung up) does not stop its write; the task
//! finishes every batch it starts, so no transaction is left open on the writer connection.

use super::{
    db, is_check_violation, is_unique_violation, EncodedTransition, JobId, Pool, StoreError,
    Transaction, DB,
};
use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot};

/// The most writes one transaction takes.
const MAX_BATCH: usize = 64;
/// How many writes may wait for the task before callers wait to queue.
const QUEUE: usize = 1024;

// The scripts use anonymous `?` parameters, which sqlx binds in order across the statements of a
// script; `write_one` binds them in the order they appear. (Numbered `?NNN` parameters look tidier
// but sqlx mis-binds them when a statement skips lower numbers.)

/// Stores a new request: its columns, then the JSON arrays of its duties, people, audit rows and jobs.
/// The number is the largest in the table: AUTOINCREMENT numbers exceed every number ever used, and
/// the script holds the write lock.
const CREATE: &str = "\
SAVEPOINT sesame_write;
INSERT INTO requests (flow_id, requester, submitted_by, state, created_at, updated_at, access_ends_at, version, client_key, body)
    VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?) RETURNING number;
INSERT INTO duties (user_id, request_number, duty)
    SELECT value ->> 0, (SELECT MAX(number) FROM requests), value ->> 1 FROM json_each(?) WHERE true
    ON CONFLICT DO NOTHING;
INSERT INTO request_people (user_id, request_number)
    SELECT value, (SELECT MAX(number) FROM requests) FROM json_each(?) WHERE true
    ON CONFLICT DO NOTHING;
INSERT INTO audit (request_number, at, actor, kind, detail)
    SELECT (SELECT MAX(number) FROM requests), value ->> 0, value ->> 1, value ->> 2, value ->> 3
    FROM json_each(?) ORDER BY key;
INSERT INTO jobs (request_number, ordering_key, kind, payload, run_at, created_at)
    SELECT (SELECT MAX(number) FROM requests),
           value ->> 0 || (SELECT MAX(number) FROM requests),
           value ->> 1, value ->> 2, value ->> 3, value ->> 4
    FROM json_each(?) ORDER BY key;
RELEASE sesame_write;";

/// Stores a change: the new columns, number and expected version, then the duties, people, audit
/// rows and jobs, and the fired timer job to delete (NULL for none). The insert into
/// `version_conflicts` fails its CHECK, and so the write, exactly when the UPDATE matched no row.
const SAVE: &str = "\
SAVEPOINT sesame_write;
UPDATE requests SET state = ?, updated_at = ?, access_ends_at = ?, body = ?, version = version + 1
    WHERE number = ? AND version = ?;
INSERT INTO version_conflicts (changed) SELECT changes() WHERE changes() = 0;
DELETE FROM duties WHERE request_number = ?;
INSERT INTO duties (user_id, request_number, duty)
    SELECT value ->> 0, ?, value ->> 1 FROM json_each(?) WHERE true
    ON CONFLICT DO NOTHING;
INSERT INTO request_people (user_id, request_number)
    SELECT value, ? FROM json_each(?) WHERE true
    ON CONFLICT DO NOTHING;
INSERT INTO audit (request_number, at, actor, kind, detail)
    SELECT ?, value ->> 0, value ->> 1, value ->> 2, value ->> 3 FROM json_each(?) ORDER BY key;
INSERT INTO jobs (request_number, ordering_key, kind, payload, run_at, created_at)
    SELECT ?, value ->> 0 || ?, value ->> 1, value ->> 2, value ->> 3, value ->> 4
    FROM json_each(?) ORDER BY key;
DELETE FROM jobs WHERE id = ?;
RELEASE sesame_write;";

/// Undoes the write that failed, and only it.
const UNDO: &str = "ROLLBACK TO sesame_write; RELEASE sesame_write;";

/// A transition and the JSON arrays of the rows that accompany it.
pub(super) struct Rows {
    encoded: EncodedTransition,
    duties: String,
    people: String,
    audit: String,
    jobs: String,
}

impl Rows {
    pub(super) fn new(encoded: EncodedTransition) -> Rows {
        let duties = Value::from(
            encoded
                .duties
                .iter()
                .map(|(user, duty)| json!([user, duty]))
                .collect::<Vec<_>>(),
        );
        let people = Value::from(encoded.people.clone());
        let audit = Value::from(
            encoded
                .audit
                .iter()
                .map(|a| json!([a.at, a.actor, a.kind, a.detail]))
                .collect::<Vec<_>>(),
        );
        let jobs = Value::from(
            encoded
                .jobs
                .iter()
                .map(|j| json!([j.key_prefix, j.kind, j.payload, j.run_at, j.created_at]))
                .collect::<Vec<_>>(),
        );
        Rows {
            encoded,
            duties: duties.to_string(),
            people: people.to_string(),
            audit: audit.to_string(),
            jobs: jobs.to_string(),
        }
    }
}

pub(super) enum Write {
    Create {
        rows: Rows,
        client_key: Option<String>,
    },
    Save {
        rows: Rows,
        expected_version: i64,
        completes_job: Option<JobId>,
    },
}

/// Why a write failed, in the terms its caller acts on.
#[derive(Debug, Clone)]
pub(super) enum Failure {
    /// A UNIQUE constraint: the client key is taken.
    Duplicate,
    /// The `version_conflicts` CHECK: the version did not match.
    Conflict,
    Other(String),
}

/// What a write came to: the new request's number for a create, nothing for a save.
pub(super) type Outcome = Result<Option<i64>, Failure>;

struct Queued {
    write: Write,
    reply: oneshot::Sender<Outcome>,
}

#[derive(Clone, Debug)]
pub(super) struct Batcher {
    queue: mpsc::Sender<Queued>,
}

impl Batcher {
    /// Starts the writing task on the current Tokio runtime. It ends when the last handle is dropped.
    pub(super) fn start(writer: Pool<DB>) -> Batcher {
        let (queue, incoming) = mpsc::channel(QUEUE);
        tokio::spawn(run(writer, incoming));
        Batcher { queue }
    }

    pub(super) async fn write(&self, write: Write) -> Result<Outcome, StoreError> {
        let stopped = || StoreError::Database(String::from("the SQLite writer has stopped"));
        let (reply, outcome) = oneshot::channel();
        self.queue
            .send(Queued { write, reply })
            .await
            .map_err(|_| stopped())?;
        outcome.await.map_err(|_| stopped())
    }
}

async fn run(writer: Pool<DB>, mut incoming: mpsc::Receiver<Queued>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = incoming.recv().await {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match incoming.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let outcomes = write_batch(&writer, &batch).await;
        for (queued, outcome) in batch.drain(..).zip(outcomes) {
            // The caller may have stopped waiting; the write stands either way.
            let _ = queued.reply.send(outcome);
        }
    }
}

/// Commits the batch; returns one outcome per write, in order.
async fn write_batch(writer: &Pool<DB>, batch: &[Queued]) -> Vec<Outcome> {
    let all_fail = |why: String| {
        batch
            .iter()
            .map(|_| Err(Failure::Other(why.clone())))
            .collect()
    };
    let mut tx = match writer.begin_with("BEGIN IMMEDIATE").await {
        Ok(tx) => tx,
        Err(e) => return all_fail(db(e).to_string()),
    };
    let mut outcomes = Vec::with_capacity(batch.len());
    for queued in batch {
        let outcome = write_one(&mut tx, &queued.write).await;
        if outcome.is_err() {
            if let Err(e) = sqlx::query(UNDO).execute(&mut *tx).await {
                // SQLite rolled back the whole transaction (it does on I/O errors and a full disk):
                // nothing of the batch is left. Dropping `tx` rolls back whatever might be.
                return all_fail(format!("the write transaction failed: {}", db(e)));
            }
        }
        outcomes.push(outcome);
    }
    match tx.commit().await {
        Ok(()) => outcomes,
        Err(e) => all_fail(format!("the commit failed: {}", db(e))),
    }
}

async fn write_one(tx: &mut Transaction<'static, DB>, write: &Write) -> Outcome {
    let result = match write {
        Write::Create { rows, client_key } => {
            let t = &rows.encoded;
            sqlx::query_scalar::<_, i64>(CREATE)
                .bind(t.flow_id.as_str())
                .bind(t.requester.as_str())
                .bind(t.submitted_by.as_str())
                .bind(t.state)
                .bind(t.created_at)
                .bind(t.updated_at)
                .bind(t.access_ends_at)
                .bind(client_key.as_deref())
                .bind(t.body.as_str())
                .bind(rows.duties.as_str())
                .bind(rows.people.as_str())
                .bind(rows.audit.as_str())
                .bind(rows.jobs.as_str())
                .fetch_all(&mut **tx)
                .await
        }
        Write::Save {
            rows,
            expected_version,
            completes_job,
        } => {
            let t = &rows.encoded;
            let number = t.number;
            sqlx::query_scalar::<_, i64>(SAVE)
                .bind(t.state)
                .bind(t.updated_at)
                .bind(t.access_ends_at)
                .bind(t.body.as_str())
                .bind(number)
                .bind(*expected_version)
                .bind(number)
                .bind(number)
                .bind(rows.duties.as_str())
                .bind(number)
                .bind(rows.people.as_str())
                .bind(number)
                .bind(rows.audit.as_str())
                .bind(number)
                .bind(number)
                .bind(rows.jobs.as_str())
                .bind(completes_job.map(|j| j.0))
                .fetch_all(&mut **tx)
                .await
        }
    };
    match result {
        Ok(numbers) => Ok(numbers.first().copied()),
        Err(e) if is_unique_violation(&e) => Err(Failure::Duplicate),
        Err(e) if is_check_violation(&e) => Err(Failure::Conflict),
        Err(e) => Err(Failure::Other(db(e).to_string())),
    }
}
