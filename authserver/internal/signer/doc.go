// Package signer owns the auth server's signing keys: it generates them
// (RS256, ES256 or EdDSA; never symmetric), keeps the private halves in the
// store encrypted with AES-256-GCM, runs the rotation state machine
// (next → active → retired → deleted) so that a key is published in the JWKS
// for the prepublish period before it signs and stays published until every
// token it signed has expired, and signs access tokens with the active key.
// Several replicas sharing one database converge on the same keys because
// the active key is a pure function of the stored keys and the clock.
package signer
