// Package admin is the auth server's management API under /api/v1:
// accounts, applications, users, roles, grants, clients, signing keys, the
// audit log and the caller's own profile. Every call is authenticated by a
// Portcullis access token checked with shared/verify, and authorised with
// the same role rule the gateway applies (shared/roles); changes go through
// the identity service, which validates them and writes the audit record in
// the change's transaction. The OpenAPI 3.1 document of the API is embedded
// and served at /api/v1/openapi.json.
package admin
