// Package claims is the schema of a Portcullis access token (RFC 9068 JWT
// profile plus the custom "roles" claim). The auth server marshals it, the
// gateway and the admin API unmarshal it; docs/tokens.md describes the same
// contract for third parties.
package claims
