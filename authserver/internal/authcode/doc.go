// Package authcode keeps OAuth2 authorization codes (RFC 6749 4.1.2) between
// the authorization endpoint that issues them and the token endpoint that
// redeems them. A code is stored by its SHA-256 only, is bound to the client,
// redirect URI, user and PKCE challenge of its request, expires after at most
// 60 seconds, and is single-use: redemption is an atomic claim, and a code
// presented again is reported with the tokens issued from it so that the
// caller can revoke them (RFC 6749 4.1.2, RFC 9700 4.5). The in-memory store
// serves a single replica; the Redis store is shared by replicas.
package authcode
