// Package identity holds the business operations on the identity model
// (accounts, applications, users, role grants, OAuth2 clients) shared by the
// CLI and the admin API. Each operation validates its input (returning a
// *ValidationError with per-field messages), runs in one transaction
// together with its audit record, and revokes a user's refresh tokens when
// their access must shrink (disable, delete, grant change, password change).
// The Events hook is told about those changes after commit so that a later
// component can push them to gateways.
package identity
