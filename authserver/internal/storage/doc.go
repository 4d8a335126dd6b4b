// Package storage declares everything the auth server keeps: the identity
// model (accounts, applications, roles, users, grants, OAuth2 clients) and
// the token service's state (signing keys, refresh tokens, revocation events,
// the audit log). The auth server is the only component that reads or writes
// these tables.
//
// There is one interface, Store, and one SQL implementation in package
// storage/sql that speaks two dialects (SQLite and PostgreSQL). Every backend
// runs the conformance suite in storage/storagetest. Backends map driver
// errors to ErrNotFound and ErrAlreadyExists and wrap everything else.
package storage
