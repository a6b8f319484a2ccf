-- The audit trail becomes tamper-evident (docs/operations.md, "For your auditor").
--
-- Every event carries the hash of the event before it (`prev_hash`) and its own `hash`: SHA-256
-- over the previous hash and the event's canonical content, computed by Sesame when it writes the
-- event, in the same transaction. Rows written before this migration are chained once, by the first
-- start after it (`Store::migrate`), in id order: `audit_head.legacy_until` says up to which id.
ALTER TABLE audit ADD COLUMN prev_hash TEXT;
ALTER TABLE audit ADD COLUMN hash TEXT;

-- The end of the chain: the last chained event, its hash and how many events the chain holds.
-- Every write that appends events updates it in its transaction (on PostgreSQL it is locked first,
-- so replicas append one after the other and the chain stays a line).
CREATE TABLE audit_head (
    singleton    BIGINT NOT NULL PRIMARY KEY CHECK (singleton = 1),
    last_id      BIGINT NOT NULL,
    last_hash    TEXT   NOT NULL,
    count        BIGINT NOT NULL,
    legacy_until BIGINT NOT NULL
);
INSERT INTO audit_head (singleton, last_id, last_hash, count, legacy_until)
    VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000', 0,
            COALESCE((SELECT MAX(id) FROM audit), 0));

-- A row without a hash was not written by Sesame.
CREATE TRIGGER audit_refuses_unchained_insert BEFORE INSERT ON audit WHEN NEW.hash IS NULL
BEGIN
    SELECT RAISE(ABORT, 'audit rows are written by Sesame, with their chain hash');
END;

-- Signed checkpoints: the chain's end at a moment (the last event, its hash, the number of events)
-- signed with Sesame's Ed25519 audit key, so that whoever holds the public key can tell the trail
-- from a rewritten one. Append-only like the trail.
CREATE TABLE audit_checkpoints (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id  BIGINT  NOT NULL UNIQUE,
    hash      TEXT    NOT NULL,
    count     BIGINT  NOT NULL,
    at        BIGINT  NOT NULL,
    key_id    TEXT    NOT NULL,
    signature TEXT    NOT NULL
);

CREATE TRIGGER audit_checkpoints_refuse_update BEFORE UPDATE ON audit_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

CREATE TRIGGER audit_checkpoints_refuse_delete BEFORE DELETE ON audit_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

-- How far each stream of the trail (a file, a webhook) has been delivered and acknowledged, and
-- which Sesame streams it now (a lease, so that replicas do not stream the same sink at once).
CREATE TABLE audit_stream_cursors (
    name          TEXT   NOT NULL PRIMARY KEY,
    last_event_id BIGINT NOT NULL,
    holder        TEXT,
    held_until    BIGINT,
    updated_at    BIGINT NOT NULL
);
