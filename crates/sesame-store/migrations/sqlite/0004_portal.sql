-- The web portal's sign-in state and the offers that link a chat account to a person.
--
-- portal_sessions: one row per signed-in browser. The browser holds a random id in a cookie; only
-- its SHA-256 hash is stored, so a copy of the database cannot be used to sign in. `csrf_token` is
-- the per-session token every portal form must carry.
CREATE TABLE portal_sessions (
    id_hash    TEXT   PRIMARY KEY,
    user_id    TEXT   NOT NULL,
    csrf_token TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX portal_sessions_expires_at ON portal_sessions (expires_at);

-- portal_logins: an OpenID Connect sign-in under way, from the redirect to the provider until the
-- provider sends the browser back. Keyed by the hash of `state`; used once.
CREATE TABLE portal_logins (
    state_hash    TEXT   PRIMARY KEY,
    nonce         TEXT   NOT NULL,
    pkce_verifier TEXT   NOT NULL,
    return_to     TEXT   NOT NULL,
    expires_at    BIGINT NOT NULL
);
CREATE INDEX portal_logins_expires_at ON portal_logins (expires_at);

-- chat_link_offers: "this chat account wants to be linked to whoever signs in and confirms". The
-- token travels in a URL; only its hash is stored. An offer is used at most once.
CREATE TABLE chat_link_offers (
    token_hash TEXT   PRIMARY KEY,
    platform   TEXT   NOT NULL CHECK (platform IN ('slack', 'teams')),
    account    TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT,
    used_by    TEXT
);
