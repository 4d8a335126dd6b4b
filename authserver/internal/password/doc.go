// Package password hashes and verifies secrets (user passwords and OAuth2
// client secrets) with argon2id, encoded as PHC strings. Hashing is memory
// hard on purpose, so a Hasher runs at most a configured number of hashes
// at once and makes the rest wait (or give up with their context) rather
// than let a flood of logins exhaust memory. It also verifies bcrypt hashes
// imported from ApiOpenStudio and reports that they need rehashing, and it
// offers VerifyDummy so that an unknown username costs as much as a wrong
// password.
package password
