// Package verify checks Portcullis access tokens (and compatible third-party
// JWT access tokens) and extracts a typed result from them. It is built on
// golang-jwt/jwt/v5 parser options with a strict algorithm allow-list (never
// "none", never HMAC), a key-type check against the algorithm, exact issuer,
// audience intersection, exp/nbf/iat with leeway, a typ check and a size
// limit; keys are found by kid through the small Keys interface so that the
// gateway can plug in its JWKS cache and the auth server its own key set.
// Errors are *Error values whose Description is safe to send to a client: it
// never contains a claim value. Like the rest of shared/, it does not log.
package verify
