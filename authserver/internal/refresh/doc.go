// Package refresh stores refresh tokens, by hash only, for the token
// service: one small Store interface with an implementation over the SQL
// store (the default) and one over Redis (when `redis` is configured), both
// held to the same test suite. Rotation is a single call so that each
// backend can make "mark the parent spent, create the child" atomic, which
// is what makes reuse detection (RFC 9700 4.14) race-free.
package refresh
