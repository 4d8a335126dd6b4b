// Package servertest boots a complete auth server for tests: SQLite in a
// temporary directory, cheap argon2id parameters, a fresh signing key, an
// injectable clock and a real listener (httptest.Server). Tests of other
// packages (admin API, login, logout, gateway end-to-end) use it to get a
// running issuer and mint tokens through the real token endpoint.
package servertest
