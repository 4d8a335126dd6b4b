// Package keys keeps each trusted issuer's verification keys in memory. A
// Source finds the JWKS (through OpenID discovery unless jwks_uri is set),
// lets lestrrat-go/jwx's jwk.Cache refresh it in the background on the
// server's Cache-Control (bounded by refresh_min and refresh_max), refetches
// at most once per refetch_min_interval when a token names an unknown kid,
// keeps the last good set through an outage for at most stale_keys_max, and
// drops a key the moment a successful fetch no longer lists it. A Source
// with no usable keys refuses every lookup: missing keys never mean "skip
// verification".
package keys
