-- What SCIM adds to a directory entry: the identity provider's own id for it, when it was created
-- and last changed, and whether the provider deleted it. Users are never deleted from the directory
-- (requests name them); a deleted user is kept inactive and hidden from SCIM. Entries that SCIM
-- never touched have no row here. `attributes` keeps what the provider sent that the directory has
-- no place for (the user name as sent, name parts, titles...), as a JSON object.
CREATE TABLE scim_resources (
    kind        TEXT   NOT NULL CHECK (kind IN ('User', 'Group')),
    id          TEXT   NOT NULL,
    external_id TEXT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    deleted_at  BIGINT,
    attributes  TEXT   NOT NULL DEFAULT '{}',
    PRIMARY KEY (kind, id)
);
