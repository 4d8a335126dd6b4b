-- Identity model: accounts, applications, roles, users, clients, grants.
-- Lists of strings are JSON arrays in TEXT (the same encoding as SQLite).
-- Absent account/application in a grant is NULL in the foreign-key columns;
-- uniqueness uses COALESCE(..., '') so that SQLite and PostgreSQL treat
-- "absent" identically.

-- +goose Up
CREATE TABLE accounts (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);

CREATE TABLE applications (
    id           TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    display_name TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    UNIQUE (account_id, name)
);

CREATE TABLE roles (
    name        TEXT PRIMARY KEY,
    scope       TEXT NOT NULL CHECK (scope IN ('global', 'account', 'application')),
    description TEXT NOT NULL DEFAULT '',
    builtin     BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  TIMESTAMPTZ NOT NULL
);

INSERT INTO roles (name, scope, description, builtin, created_at) VALUES
    ('administrator', 'global', 'Full control of every account and application.', TRUE, now()),
    ('account_manager', 'account', 'Manages one account and everything in it.', TRUE, now()),
    ('application_manager', 'application', 'Manages one application.', TRUE, now()),
    ('developer', 'application', 'Develops against one application.', TRUE, now()),
    ('consumer', 'application', 'Consumes one application.', TRUE, now());

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL,
    username_key  TEXT NOT NULL UNIQUE, -- lower-cased username: case-insensitive uniqueness
    email         TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL DEFAULT '',
    active        BOOLEAN NOT NULL DEFAULT TRUE,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE clients (
    id             TEXT PRIMARY KEY,
    secret_hash    TEXT NOT NULL DEFAULT '',
    public         BOOLEAN NOT NULL DEFAULT FALSE,
    name           TEXT NOT NULL,
    grant_types    TEXT NOT NULL DEFAULT '[]',
    redirect_uris  TEXT NOT NULL DEFAULT '[]',
    scopes         TEXT NOT NULL DEFAULT '[]',
    account_id     TEXT REFERENCES accounts (id) ON DELETE CASCADE,
    application_id TEXT REFERENCES applications (id) ON DELETE CASCADE,
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL
);

CREATE INDEX clients_account ON clients (account_id, application_id);

CREATE TABLE grants (
    id             TEXT PRIMARY KEY,
    user_id        TEXT REFERENCES users (id) ON DELETE CASCADE,
    client_id      TEXT REFERENCES clients (id) ON DELETE CASCADE,
    role           TEXT NOT NULL REFERENCES roles (name) ON DELETE CASCADE,
    account_id     TEXT REFERENCES accounts (id) ON DELETE CASCADE,
    application_id TEXT REFERENCES applications (id) ON DELETE CASCADE,
    created_at     TIMESTAMPTZ NOT NULL,
    CHECK ((user_id IS NULL) <> (client_id IS NULL))
);

CREATE UNIQUE INDEX grants_unique ON grants (
    COALESCE(user_id, ''), COALESCE(client_id, ''), role,
    COALESCE(account_id, ''), COALESCE(application_id, '')
);
CREATE INDEX grants_user ON grants (user_id);
CREATE INDEX grants_client ON grants (client_id);
CREATE INDEX grants_account ON grants (account_id);
CREATE INDEX grants_application ON grants (application_id);
CREATE INDEX grants_role ON grants (role);

-- +goose Down
DROP TABLE grants;
DROP TABLE clients;
DROP TABLE users;
DROP TABLE roles;
DROP TABLE applications;
DROP TABLE accounts;
