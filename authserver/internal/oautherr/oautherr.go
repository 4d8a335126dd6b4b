package oautherr

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// Error is an OAuth2 error response (RFC 6749 5.2, RFC 7009 2.2.1,
// RFC 7662 2.3).
type Error struct {
	Code        string // the "error" member
	Description string // the "error_description" member
	Status      int
	Header      http.Header
	debug       error // logged, never sent
}

// Sentinels, one per code. Use the builders to add detail; they copy.
var (
	ErrInvalidRequest       = &Error{Code: "invalid_request", Status: http.StatusBadRequest, Description: "The request is malformed"}
	ErrInvalidClient        = &Error{Code: "invalid_client", Status: http.StatusUnauthorized, Description: "Client authentication failed", Header: http.Header{"Www-Authenticate": {`Basic realm="portcullis"`}}}
	ErrInvalidGrant         = &Error{Code: "invalid_grant", Status: http.StatusBadRequest, Description: "The grant or refresh token is invalid, expired or revoked"}
	ErrUnauthorizedClient   = &Error{Code: "unauthorized_client", Status: http.StatusBadRequest, Description: "The client may not use this grant type"}
	ErrUnsupportedGrantType = &Error{Code: "unsupported_grant_type", Status: http.StatusBadRequest, Description: "The grant type is not supported"}
	ErrInvalidScope         = &Error{Code: "invalid_scope", Status: http.StatusBadRequest, Description: "The requested scope is invalid or exceeds what the client may request"}
	ErrUnsupportedTokenType = &Error{Code: "unsupported_token_type", Status: http.StatusBadRequest, Description: "The token type is not supported"}
	ErrTooManyRequests      = &Error{Code: "temporarily_unavailable", Status: http.StatusTooManyRequests, Description: "Too many failed attempts; retry later"}
	ErrServerError          = &Error{Code: "server_error", Status: http.StatusInternalServerError, Description: "The server encountered an unexpected condition"}
	ErrUnavailable          = &Error{Code: "temporarily_unavailable", Status: http.StatusServiceUnavailable, Description: "The server is temporarily unable to handle the request"}
	ErrNotFound             = &Error{Code: "not_found", Status: http.StatusNotFound, Description: "No such endpoint"}
	ErrMethodNotAllowed     = &Error{Code: "invalid_request", Status: http.StatusMethodNotAllowed, Description: "Method not allowed"}
)

// Error implements error.
func (e *Error) Error() string {
	if e.debug != nil {
		return e.Code + ": " + e.Description + ": " + e.debug.Error()
	}
	return e.Code + ": " + e.Description
}

// Unwrap exposes the debug cause to errors.Is/As.
func (e *Error) Unwrap() error { return e.debug }

// Is matches another *Error with the same code and status, so
// errors.Is(err, ErrInvalidGrant) holds for any described copy.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && t.Status == e.Status
}

func (e *Error) clone() *Error {
	c := *e
	if e.Header != nil {
		c.Header = e.Header.Clone()
	}
	return &c
}

// WithDescription returns a copy with a different client-facing text.
func (e *Error) WithDescription(d string) *Error {
	c := e.clone()
	c.Description = d
	return c
}

// WithDebug returns a copy carrying the underlying error for the log.
func (e *Error) WithDebug(err error) *Error {
	c := e.clone()
	c.debug = err
	return c
}

// WithHeader returns a copy that sets a response header.
func (e *Error) WithHeader(k, v string) *Error {
	c := e.clone()
	if c.Header == nil {
		c.Header = http.Header{}
	}
	c.Header.Set(k, v)
	return c
}

// WithRetryAfter returns a copy with a Retry-After header in whole seconds
// (at least 1).
func (e *Error) WithRetryAfter(d time.Duration) *Error {
	s := int((d + time.Second - 1) / time.Second)
	if s < 1 {
		s = 1
	}
	return e.WithHeader("Retry-After", strconv.Itoa(s))
}

// Debug returns the logged-only cause, if any.
func (e *Error) Debug() error { return e.debug }

type body struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

// Write renders e as the JSON error body with no-store caching (RFC 6749
// 5.1 applies to errors of the token endpoint as well).
func Write(w http.ResponseWriter, e *Error) {
	h := w.Header()
	for k, v := range e.Header {
		h[k] = v
	}
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(e.Status)
	_ = json.NewEncoder(w).Encode(body{Error: e.Code, Description: e.Description})
}
