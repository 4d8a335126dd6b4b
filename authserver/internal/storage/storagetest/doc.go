// Package storagetest is the conformance suite every storage.Store backend
// runs. It is written once against the interface and called from each
// backend's tests with a constructor for fresh stores (SQLite always,
// PostgreSQL when PORTCULLIS_TEST_POSTGRES_DSN is set), so both dialects are
// held to the same behaviour: sentinel errors, uniqueness and scope rules,
// cascades, pagination, transactions and concurrent writers.
package storagetest
