// Package revocation is the auth server's side of revocation events: the
// Emitter records each event in the store (the durable feed) and, when
// Redis is configured, publishes it on a pub/sub channel and keeps it as a
// self-expiring key so that a gateway which starts or reconnects can load
// the whole live set; a background loop prunes moot events and repairs
// Redis after a failed publish or a Redis restart. FeedHandler serves the
// feed (GET /oauth2/revocations) to gateways that run without Redis.
package revocation
