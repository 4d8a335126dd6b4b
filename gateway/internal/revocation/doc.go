// Package revocation keeps the gateway's in-memory revocation set in step
// with the auth server and answers the request path's question "is this
// token revoked?" without any I/O. A source fills the set: Redis (load every
// live key, then follow the pub/sub channel; on loss keep the last known
// set, reconnect with backoff and reload) or the auth server's feed (poll
// GET /oauth2/revocations with a cursor). Revocations ties a source to the
// set, reports sync state for /readyz, applies the fail_closed policy and
// exports Prometheus metrics.
package revocation
