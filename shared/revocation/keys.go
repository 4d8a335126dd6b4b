package revocation

import (
	"net/url"
	"time"
)

// DefaultPrefix is the namespace of every Redis key and channel Portcullis
// uses for revocations. Deployments sharing one Redis (and tests sharing one
// server) pick their own prefix.
const DefaultPrefix = "portcullis:"

// Channel is the Redis pub/sub channel on which the auth server publishes
// each event (as its JSON wire form) under the given prefix.
func Channel(prefix string) string { return prefix + "revocations" }

// KeyPattern matches every live-set key under prefix, for SCAN MATCH.
func KeyPattern(prefix string) string { return prefix + "revoked:*" }

// Key is the Redis key holding the live copy of e (its JSON wire form),
// expiring with the event:
//
//	<prefix>revoked:jti:<jti>
//	<prefix>revoked:sub:<sub>
//	<prefix>revoked:sub:<sub>:<client_id>
//
// Components are query-escaped so that a ':' inside a subject cannot make
// two different events share a key. Later events for the same subject and
// client replace earlier ones: their not_before and exp are never earlier.
func Key(prefix string, e *Event) string {
	switch e.Kind {
	case KindJTI:
		return prefix + "revoked:jti:" + url.QueryEscape(e.JTI)
	case KindSubject:
		k := prefix + "revoked:sub:" + url.QueryEscape(e.Subject)
		if e.ClientID != "" {
			k += ":" + url.QueryEscape(e.ClientID)
		}
		return k
	default:
		return prefix + "revoked:" + url.QueryEscape(string(e.Kind))
	}
}

// TTL is how long the Redis key of e should live when written at now: until
// the event is moot, and at least a millisecond so that a late write of an
// expired event never becomes a key without expiry.
func TTL(e *Event, now time.Time) time.Duration {
	ttl := e.Expires.Sub(now)
	if ttl < time.Millisecond {
		return time.Millisecond
	}
	return ttl
}
