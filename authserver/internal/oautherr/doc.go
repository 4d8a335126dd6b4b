// Package oautherr is the RFC 6749 error type of the auth server's own
// endpoints: one immutable sentinel per error code, builders that return
// copies, errors.Is that compares the code, and one function that renders
// the JSON body. Debug detail is kept for the log and never sent.
package oautherr
