-- Token service state: signing keys, refresh tokens, the revocation feed and
-- the audit log.

-- +goose Up
CREATE TABLE signing_keys (
    id           TEXT PRIMARY KEY,
    algorithm    TEXT NOT NULL,
    private_key  BYTEA NOT NULL,
    public_jwk   BYTEA NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    activates_at TIMESTAMPTZ NOT NULL,
    retired_at   TIMESTAMPTZ,
    expires_at   TIMESTAMPTZ
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
    auth_time  TIMESTAMPTZ NOT NULL,
    issued_at  TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ,
    revoked_at TIMESTAMPTZ
);

CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id, client_id);
CREATE INDEX refresh_tokens_client ON refresh_tokens (client_id);
CREATE INDEX refresh_tokens_expires ON refresh_tokens (expires_at);

-- Appends lock the table (see the store) so seq order is commit order and a
-- gateway's "after seq N" cursor never skips a late-committing event.
CREATE TABLE revocation_events (
    seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('jti', 'sub')),
    jti        TEXT NOT NULL DEFAULT '',
    subject    TEXT NOT NULL DEFAULT '',
    client_id  TEXT NOT NULL DEFAULT '',
    not_before TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE INDEX revocation_events_expires ON revocation_events (expires_at);

CREATE TABLE audit_log (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at         TIMESTAMPTZ NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    target     TEXT NOT NULL DEFAULT '',
    before_json BYTEA,
    after_json  BYTEA,
    request_id TEXT NOT NULL DEFAULT ''
);

-- +goose Down
DROP TABLE audit_log;
DROP TABLE revocation_events;
DROP TABLE refresh_tokens;
DROP TABLE signing_keys;
