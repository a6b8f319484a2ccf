-- Sesame's schema, SQLite dialect. migrations/postgres/0001_init.sql holds the same tables for
-- PostgreSQL; keep the two in step and never edit a migration that has shipped.
--
-- Conventions: timestamps are BIGINT milliseconds since the Unix epoch; JSON documents are TEXT;
-- ids are never reused (AUTOINCREMENT).

-- A request is one JSON document (`body`, core's Request) beside the columns that lists filter on.
-- `number` and `version` in the columns are authoritative; the body's copies may be stale.
CREATE TABLE requests (
    number         INTEGER PRIMARY KEY AUTOINCREMENT,
    flow_id        TEXT    NOT NULL,
    requester      TEXT    NOT NULL,
    submitted_by   TEXT    NOT NULL,
    state          TEXT    NOT NULL,
    created_at     BIGINT  NOT NULL,
    updated_at     BIGINT  NOT NULL,
    access_ends_at BIGINT,
    version        BIGINT  NOT NULL,
    client_key     TEXT    UNIQUE,
    body           TEXT    NOT NULL
);
CREATE INDEX requests_by_requester ON requests (requester, number);
CREATE INDEX requests_by_filer ON requests (submitted_by, number);
CREATE INDEX requests_by_state ON requests (state, number);
CREATE INDEX requests_by_flow ON requests (flow_id, number);

-- Always empty. SQLite stores a transition in one script (see backend/sqlite.rs); right after the
-- script's versioned UPDATE it runs `INSERT INTO version_conflicts SELECT changes() WHERE changes() = 0`,
-- which violates this CHECK, and so aborts the script, exactly when the version did not match.
CREATE TABLE version_conflicts (
    changed BIGINT NOT NULL CONSTRAINT version_conflict CHECK (changed > 0)
);

-- Who must act on a request now (core's Request::duties), replaced on every write.
CREATE TABLE duties (
    user_id        TEXT   NOT NULL,
    request_number BIGINT NOT NULL REFERENCES requests (number),
    duty           TEXT   NOT NULL,
    PRIMARY KEY (user_id, request_number, duty)
) WITHOUT ROWID;
CREATE INDEX duties_by_request ON duties (request_number);

-- Everyone ever involved in a request (requester, filer, approvers asked, fulfillers); only grows.
CREATE TABLE request_people (
    user_id        TEXT   NOT NULL,
    request_number BIGINT NOT NULL REFERENCES requests (number),
    PRIMARY KEY (user_id, request_number)
) WITHOUT ROWID;

CREATE TABLE comments (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    request_number BIGINT  NOT NULL REFERENCES requests (number),
    author         TEXT    NOT NULL,
    text           TEXT    NOT NULL,
    source         TEXT    NOT NULL,
    created_at     BIGINT  NOT NULL
);
CREATE INDEX comments_by_request ON comments (request_number, id);

-- The audit trail. Append-only: the store has no API to change it and the triggers below refuse
-- UPDATE and DELETE from anyone.
CREATE TABLE audit (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    request_number BIGINT,
    at             BIGINT  NOT NULL,
    actor          TEXT    NOT NULL,
    kind           TEXT    NOT NULL,
    detail         TEXT    NOT NULL
);
CREATE INDEX audit_by_request ON audit (request_number, id);
CREATE INDEX audit_by_actor ON audit (actor, id);
CREATE INDEX audit_by_time ON audit (at);

CREATE TRIGGER audit_refuses_update BEFORE UPDATE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

CREATE TRIGGER audit_refuses_delete BEFORE DELETE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

-- The outbox and timer queue. `kind` is 'notice' or 'timer' and `payload` the JSON of core's Notice or
-- TimerKind. Notices carry an ordering key ('request:<n>'); only the oldest pending job of a key may
-- be claimed. Finished jobs are deleted; dead jobs stay until an administrator requeues them.
CREATE TABLE jobs (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    request_number BIGINT,
    ordering_key   TEXT,
    kind           TEXT    NOT NULL,
    payload        TEXT    NOT NULL,
    run_at         BIGINT  NOT NULL,
    status         TEXT    NOT NULL DEFAULT 'pending',
    attempts       BIGINT  NOT NULL DEFAULT 0,
    locked_until   BIGINT,
    locked_by      TEXT,
    last_error     TEXT,
    created_at     BIGINT  NOT NULL
);
CREATE INDEX jobs_by_status_run_at ON jobs (status, run_at);
CREATE INDEX jobs_by_ordering_key ON jobs (ordering_key, id);

-- The durable copy of the directory; `body` is the JSON of core's User or Group.
CREATE TABLE directory_users (
    id   TEXT NOT NULL PRIMARY KEY,
    body TEXT NOT NULL
);

CREATE TABLE directory_groups (
    id   TEXT NOT NULL PRIMARY KEY,
    body TEXT NOT NULL
);

-- One row; `version` goes up with every directory write so that replicas notice changes.
CREATE TABLE directory_state (
    singleton BIGINT NOT NULL PRIMARY KEY CHECK (singleton = 1),
    version   BIGINT NOT NULL
);
INSERT INTO directory_state (singleton, version) VALUES (1, 0);

-- API tokens: only a hash of the secret is kept.
CREATE TABLE api_tokens (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT    NOT NULL,
    user_id    TEXT    NOT NULL,
    hash       TEXT    NOT NULL UNIQUE,
    created_at BIGINT  NOT NULL,
    expires_at BIGINT,
    revoked_at BIGINT
);

-- Inbound events already handled (Slack event ids, button clicks, idempotency keys).
CREATE TABLE inbound_seen (
    source  TEXT   NOT NULL,
    key     TEXT   NOT NULL,
    seen_at BIGINT NOT NULL,
    PRIMARY KEY (source, key)
) WITHOUT ROWID;
CREATE INDEX inbound_seen_by_time ON inbound_seen (seen_at);

-- Chat messages Sesame posted, one per (request, platform, recipient, purpose), so that a notice
-- delivered again edits its message instead of posting a second one, and replies find their thread.
CREATE TABLE chat_messages (
    request_number BIGINT NOT NULL REFERENCES requests (number),
    platform       TEXT   NOT NULL,
    recipient      TEXT   NOT NULL,
    purpose        TEXT   NOT NULL,
    channel        TEXT   NOT NULL,
    ts             TEXT   NOT NULL,
    updated_at     BIGINT NOT NULL,
    PRIMARY KEY (request_number, platform, recipient, purpose)
) WITHOUT ROWID;
