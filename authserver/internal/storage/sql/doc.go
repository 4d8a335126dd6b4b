// Package sqlstore is the auth server's one SQL implementation of
// storage.Store. It speaks two dialects, SQLite (modernc.org/sqlite, pure Go,
// the embedded default) and PostgreSQL (pgx/v5 through database/sql); every
// query is written once with "?" placeholders and the few places where the
// dialects differ (placeholders, time encoding, constraint-error codes, the
// lock that keeps the revocation feed in commit order) live in dialect.go.
// Migrations come from the embedded migrations module and are applied with
// goose's Provider API, each in its own transaction.
package sqlstore
