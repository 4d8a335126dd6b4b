// Package ratelimit counts failed logins per key (a username, a client IP)
// in a fixed window and says when a key is over its limit and for how long.
// The memory implementation serves a single replica; the Redis one shares
// the counts between replicas. Only keys and counts are stored: never a
// password.
package ratelimit
