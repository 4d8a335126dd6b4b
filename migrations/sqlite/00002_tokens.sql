-- Token service state: signing keys, refresh tokens, the revocation feed and
-- the audit log.

-- +goose Up
CREATE TABLE signing_keys (
    id           TEXT PRIMARY KEY,
    algorithm    TEXT NOT NULL,
    private_key  BLOB NOT NULL,
    public_jwk   BLOB NOT NULL,
    created_at   INTEGER NOT NULL,
    activates_at INTEGER NOT NULL,
    retired_at   INTEGER,
    expires_at   INTEGER
);

CREATE INDEX signing_keys_activates ON signing_keys (activates_at);

CREATE TABLE refresh_tokens (
    id         TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    family_id  TEXT NOT NULL,
    parent_id  TEXT NOT NULL DEFAULT '',
    user_id    TEXT REFERENCES users (id) ON DELETE CASCADE,
    client_id  TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    scope      TEXT NOT NULL DEFAULT '',
    account    TEXT NOT NULL DEFAULT '',
    auth_time  INTEGER NOT NULL,
    issued_at  INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER,
    revoked_at INTEGER
);

CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id, client_id);
CREATE INDEX refresh_tokens_client ON refresh_tokens (client_id);
CREATE INDEX refresh_tokens_expires ON refresh_tokens (expires_at);

-- AUTOINCREMENT: seq never goes back, even after the newest row is deleted,
-- so a gateway's "after seq N" cursor stays valid.
CREATE TABLE revocation_events (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    kind       TEXT NOT NULL CHECK (kind IN ('jti', 'sub')),
    jti        TEXT NOT NULL DEFAULT '',
    subject    TEXT NOT NULL DEFAULT '',
    client_id  TEXT NOT NULL DEFAULT '',
    not_before INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE INDEX revocation_events_expires ON revocation_events (expires_at);

CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    at         INTEGER NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    target     TEXT NOT NULL DEFAULT '',
    before_json BLOB,
    after_json  BLOB,
    request_id TEXT NOT NULL DEFAULT ''
);

-- +goose Down
DROP TABLE audit_log;
DROP TABLE revocation_events;
DROP TABLE refresh_tokens;
DROP TABLE signing_keys;
