// Package stateful is the design Portcullis replaces, built only to be
// measured against it: a reverse proxy that, for every request, looks up the
// caller's opaque session token in a sessions table and joins users, grants,
// roles, accounts and applications to decide whether the request may pass.
// It runs on the auth server's real schema (the migrations module, applied
// with goose) plus a bench-only bench_sessions table, on SQLite or
// PostgreSQL, and decides with the same role rule as the gateway
// (shared/roles), so the only difference from the gateway rows is where the
// grants come from: the database on every request instead of a signed token.
package stateful
