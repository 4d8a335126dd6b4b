// Package roles defines the role grants carried in Portcullis access tokens
// and the one rule that decides whether a grant satisfies a resource's
// requirement. The auth server uses it to build tokens and to authorise its
// admin API; the gateway uses it on every request. Keeping the rule in one
// place is the point: both sides must agree on it exactly.
package roles
