// Package identity holds the business operations on the identity model
// (accounts, applications, users, role grants, OAuth2 clients) shared by the
// CLI and the admin API. Each operation validates its input (returning a
// *ValidationError with per-field messages), runs in one transaction
// together with its audit record. When a user's access must shrink, their
// refresh tokens are revoked (disable, delete, password change; a grant
// change too when no Events hook is installed), and the Events hook is told
// after commit so that revocation events reach the gateways.
package identity
