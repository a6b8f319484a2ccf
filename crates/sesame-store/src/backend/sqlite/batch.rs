//! Group commit for SQLite: the writes that store transitions, and those that take in inbound chat
//! traffic (an event's de-duplication key with the job that handles it, a click remembered, a
//! reply owed), go through one task, which commits whatever has queued up in one transaction.
//!
//! Why: SQLite appends every page a transaction dirtied to the WAL at commit (two `pwrite`s a page),
//! and a transition dirties ten to twenty pages, most of them the same few hot pages (the newest leaf
//! of each index, `sqlite_sequence`, the jobs table). A batch writes each of those once. An inbound
//! event dirties few pages but costs a whole transaction on its own; batched, thousands of them a
//! second share a handful of commits.
//!
//! Each write is one script of fixed text (`SAVEPOINT; INSERT ...; ...; RELEASE`), so sqlx keeps it
//! prepared and it costs one round trip to sqlx's SQLite worker thread. The rows that vary in number
//! (duties, people, audit rows, jobs) travel as JSON arrays that `json_each` unpacks: SQLite-only SQL,
//! which is why this path does not share its statements with PostgreSQL.
//!
//! Nobody waits for a batch to fill: the task takes one write, adds whatever else is already queued
//! (up to [`MAX_BATCH`]) and commits. Under light load every batch holds one write.
//!
//! The audit chain: the batch reads the chain's end (and the next request number) once, under the
//! write lock, then numbers and hashes each write's audit events in Rust before running its script,
//! which also moves the chain's end (`audit_head`). A write that fails is rolled back with its
//! links and its number, and the next write links to the end as it was. Hashing costs a few
//! microseconds an event, and the read one statement a batch.
//!
//! Failures: a write that fails (a version conflict, a taken client key) is rolled back to its own
//! savepoint and the batch goes on; its caller alone gets the error. If the transaction itself fails
//! (BEGIN, COMMIT, a rollback that does not work), every write of the batch fails.
//!
//! Cancellation: a caller that stops waiting (a client that hung up) does not stop its write; the task
//! finishes every batch it starts, so no transaction is left open on the writer connection.

use super::{
    db, is_check_violation, is_unique_violation, Appender, ChainHead, EncodedTransition, JobId,
    Pool, StoreError, Transaction, DB,
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

/// Stores a new request: its number (given: see [`BATCH_HEAD`]) and columns, then the JSON arrays of
/// its duties, people and jobs, then its audit rows with their ids and chain hashes, and the new end
/// of the chain.
const CREATE: &str = "\
SAVEPOINT sesame_write;
INSERT INTO requests (number, flow_id, requester, submitted_by, state, created_at, updated_at, access_ends_at, version, client_key, body)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?) RETURNING number;
INSERT INTO duties (user_id, request_number, duty)
    SELECT value ->> 0, ?, value ->> 1 FROM json_each(?) WHERE true
    ON CONFLICT DO NOTHING;
INSERT INTO request_people (user_id, request_number)
    SELECT value, ? FROM json_each(?) WHERE true
    ON CONFLICT DO NOTHING;
INSERT INTO jobs (request_number, ordering_key, kind, payload, run_at, created_at)
    SELECT ?, value ->> 0 || ?, value ->> 1, value ->> 2, value ->> 3, value ->> 4
    FROM json_each(?) ORDER BY key;
INSERT INTO audit (id, request_number, at, actor, kind, detail, prev_hash, hash)
    SELECT value ->> 0, ?, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6
    FROM json_each(?) ORDER BY key;
UPDATE audit_head SET last_id = ?, last_hash = ?, count = count + ? WHERE singleton = 1;
RELEASE sesame_write;";

/// Stores a change: the new columns, number and expected version, then the duties, people, jobs,
/// the fired timer job to delete (NULL for none), the audit rows with their ids and chain hashes,
/// and the new end of the chain. The insert into `version_conflicts` fails its CHECK, and so the
/// write, exactly when the UPDATE matched no row.
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
INSERT INTO jobs (request_number, ordering_key, kind, payload, run_at, created_at)
    SELECT ?, value ->> 0 || ?, value ->> 1, value ->> 2, value ->> 3, value ->> 4
    FROM json_each(?) ORDER BY key;
DELETE FROM jobs WHERE id = ?;
INSERT INTO audit (id, request_number, at, actor, kind, detail, prev_hash, hash)
    SELECT value ->> 0, ?, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6
    FROM json_each(?) ORDER BY key;
UPDATE audit_head SET last_id = ?, last_hash = ?, count = count + ? WHERE singleton = 1;
RELEASE sesame_write;";

/// Read once per batch, under the write lock: the end of the audit chain, the largest audit id and
/// request number ever used (AUTOINCREMENT's counters included, so that neither is reused). The
/// batch then numbers its requests and events itself, so that it can hash each event, number
/// included, before it writes it.
const BATCH_HEAD: &str = "\
SELECT h.last_id, h.last_hash, h.count,
       MAX(COALESCE((SELECT MAX(id) FROM audit), 0),
           COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'audit'), 0)),
       MAX(COALESCE((SELECT MAX(number) FROM requests), 0),
           COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'requests'), 0))
FROM audit_head h WHERE h.singleton = 1";

/// Remembers an inbound key and commits the chat job it calls for. A key seen before fails the
/// primary key of `inbound_seen` (reported as [`Failure::Duplicate`]), which undoes the job too.
/// Then the ordering key, payload, time, attempts and lease of the job.
const CHAT_ONCE: &str = "\
SAVEPOINT sesame_write;
INSERT INTO inbound_seen (source, key, seen_at) VALUES (?, ?, ?);
INSERT INTO jobs (request_number, ordering_key, kind, payload, run_at, created_at, attempts, locked_until, locked_by)
    VALUES (NULL, ?, 'chat', ?, ?, ?, ?, ?, ?) RETURNING id;
RELEASE sesame_write;";

/// Commits a chat job (a reply owed, a modal to open): the same columns as in [`CHAT_ONCE`].
const CHAT: &str = "\
SAVEPOINT sesame_write;
INSERT INTO jobs (request_number, ordering_key, kind, payload, run_at, created_at, attempts, locked_until, locked_by)
    VALUES (NULL, ?, 'chat', ?, ?, ?, ?, ?, ?) RETURNING id;
RELEASE sesame_write;";

/// Remembers an inbound key (a click); a key seen before is a [`Failure::Duplicate`].
const SEEN: &str = "\
SAVEPOINT sesame_write;
INSERT INTO inbound_seen (source, key, seen_at) VALUES (?, ?, ?);
RELEASE sesame_write;";

/// Undoes the write that failed, and only it.
const UNDO: &str = "ROLLBACK TO sesame_write; RELEASE sesame_write;";

/// A transition and the JSON arrays of the rows that accompany it. The audit rows are encoded by
/// the batch, which alone knows their ids and links.
pub(super) struct Rows {
    encoded: EncodedTransition,
    duties: String,
    people: String,
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
    /// A chat job, written only if `seen` (source, key) is new when given.
    Chat { seen: Option<Seen>, job: ChatRow },
    /// An inbound key remembered on its own.
    Seen(Seen),
}

/// An inbound (source, key) and when it was seen.
pub(super) struct Seen {
    pub(super) source: String,
    pub(super) key: String,
    pub(super) at: i64,
}

/// A chat job's columns: its ordering key, encoded work, time, and the lease it is written with
/// (the worker and until when), if any.
pub(super) struct ChatRow {
    pub(super) ordering_key: Option<String>,
    pub(super) payload: String,
    pub(super) at: i64,
    pub(super) lease: Option<(String, i64)>,
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

/// What a write came to: the new request's number for a create, the job's id for a chat job,
/// nothing for a save or a key remembered.
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

/// Where the batch is: the end of the audit chain and the next request number.
#[derive(Clone)]
struct Position {
    chain: Appender,
    next_number: i64,
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
    let head: Result<(i64, String, i64, i64, i64), _> =
        sqlx::query_as(BATCH_HEAD).fetch_one(&mut *tx).await;
    let mut position = match head {
        Ok((event_id, hash, count, max_id, max_number)) => Position {
            chain: Appender::new(
                &ChainHead {
                    event_id,
                    hash,
                    count,
                },
                max_id,
            ),
            next_number: max_number + 1,
        },
        Err(e) => return all_fail(format!("cannot read the audit chain: {}", db(e))),
    };
    let mut outcomes = Vec::with_capacity(batch.len());
    for queued in batch {
        let before = position.clone();
        let outcome = write_one(&mut tx, &queued.write, &mut position).await;
        if outcome.is_err() {
            position = before;
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

/// The write's audit events, numbered and linked after the chain's end, as the JSON array the
/// scripts unpack.
fn linked_audit(rows: &Rows, number: i64, chain: &mut Appender) -> String {
    let events: Vec<Value> = rows
        .encoded
        .audit
        .iter()
        .map(|event| {
            let l = chain.link(Some(number), event);
            json!([
                l.id,
                event.at,
                event.actor,
                event.kind,
                event.detail,
                l.prev_hash,
                l.hash
            ])
        })
        .collect();
    Value::from(events).to_string()
}

async fn write_one(
    tx: &mut Transaction<'static, DB>,
    write: &Write,
    position: &mut Position,
) -> Outcome {
    let result = match write {
        Write::Create { rows, client_key } => {
            let t = &rows.encoded;
            let number = position.next_number;
            position.next_number += 1;
            let added_before = position.chain.added;
            let audit = linked_audit(rows, number, &mut position.chain);
            let chain = &position.chain;
            sqlx::query_scalar::<_, i64>(CREATE)
                .bind(number)
                .bind(t.flow_id.as_str())
                .bind(t.requester.as_str())
                .bind(t.submitted_by.as_str())
                .bind(t.state)
                .bind(t.created_at)
                .bind(t.updated_at)
                .bind(t.access_ends_at)
                .bind(client_key.as_deref())
                .bind(t.body.as_str())
                .bind(number)
                .bind(rows.duties.as_str())
                .bind(number)
                .bind(rows.people.as_str())
                .bind(number)
                .bind(number)
                .bind(rows.jobs.as_str())
                .bind(number)
                .bind(audit)
                .bind(chain.last_id)
                .bind(chain.last_hash.as_str())
                .bind(chain.added - added_before)
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
            let added_before = position.chain.added;
            let audit = linked_audit(rows, number, &mut position.chain);
            let chain = &position.chain;
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
                .bind(number)
                .bind(rows.jobs.as_str())
                .bind(completes_job.map(|j| j.0))
                .bind(number)
                .bind(audit)
                .bind(chain.last_id)
                .bind(chain.last_hash.as_str())
                .bind(chain.added - added_before)
                .fetch_all(&mut **tx)
                .await
        }
        Write::Chat { seen, job } => {
            let query = match seen {
                Some(seen) => sqlx::query_scalar::<_, i64>(CHAT_ONCE)
                    .bind(seen.source.as_str())
                    .bind(seen.key.as_str())
                    .bind(seen.at),
                None => sqlx::query_scalar::<_, i64>(CHAT),
            };
            query
                .bind(job.ordering_key.as_deref())
                .bind(job.payload.as_str())
                .bind(job.at)
                .bind(job.at)
                .bind(i64::from(job.lease.is_some()))
                .bind(job.lease.as_ref().map(|(_, until)| *until))
                .bind(job.lease.as_ref().map(|(worker, _)| worker.as_str()))
                .fetch_all(&mut **tx)
                .await
        }
        Write::Seen(seen) => {
            sqlx::query_scalar::<_, i64>(SEEN)
                .bind(seen.source.as_str())
                .bind(seen.key.as_str())
                .bind(seen.at)
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
