// Package tokencache remembers tokens that passed verification, so that the
// signature check (the expensive part) is paid once per token rather than
// once per request. It is a bounded, lock-free, two-way set-associative
// table keyed by a seeded hash of the token; a hit also compares the whole
// token, and an entry is never returned after the token's exp. Lookups do
// not allocate.
package tokencache
