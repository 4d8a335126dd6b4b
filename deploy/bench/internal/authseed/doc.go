// Package authseed prepares real auth servers for the benchmark through
// their own command line, as an operator would: it writes a configuration
// (a temporary SQLite database, the signing algorithm under test, and for
// the gateway's token pool cheap argon2 parameters so that seeding hundreds
// of users takes seconds), creates accounts, applications, users, grants and
// clients with `bin/authserver`, starts `authserver serve`, and obtains
// access and refresh tokens from POST /oauth2/token.
package authseed
