package verify

import "errors"

// Reason says which check refused a token.
type Reason uint8

// Reasons, in the order the checks run.
const (
	ReasonUnknown Reason = iota
	ReasonTooLarge
	ReasonMalformed
	ReasonType
	ReasonAlgorithm
	ReasonUnknownKey
	ReasonKeysUnavailable
	ReasonSignature
	ReasonExpired
	ReasonNotYetValid
	ReasonIssuedInFuture
	ReasonIssuer
	ReasonAudience
	ReasonClaims
	// ReasonRevoked is not produced by this package: it is for the callers'
	// revocation checks, which run after verification, so that every refusal
	// of a token speaks the same language.
	ReasonRevoked
)

var reasonText = [...]struct{ code, desc string }{
	ReasonUnknown:         {"unknown", "the token could not be verified"},
	ReasonTooLarge:        {"too_large", "the token is too large"},
	ReasonMalformed:       {"malformed", "the token is malformed"},
	ReasonType:            {"type", "the token type is not accepted"},
	ReasonAlgorithm:       {"algorithm", "the token signing algorithm is not accepted"},
	ReasonUnknownKey:      {"unknown_key", "the token signing key is unknown"},
	ReasonKeysUnavailable: {"keys_unavailable", "the issuer signing keys are unavailable"},
	ReasonSignature:       {"signature", "the token signature is invalid"},
	ReasonExpired:         {"expired", "the token is expired"},
	ReasonNotYetValid:     {"not_yet_valid", "the token is not valid yet"},
	ReasonIssuedInFuture:  {"issued_in_future", "the token was issued in the future"},
	ReasonIssuer:          {"issuer", "the token issuer is not trusted"},
	ReasonAudience:        {"audience", "the token audience is not accepted"},
	ReasonClaims:          {"claims", "the token claims are invalid"},
	ReasonRevoked:         {"revoked", "token revoked"},
}

// String is a short machine-friendly name (for metrics labels and logs).
func (r Reason) String() string {
	if int(r) < len(reasonText) {
		return reasonText[r].code
	}
	return reasonText[ReasonUnknown].code
}

// Description is a fixed sentence safe to show a client, e.g. in a
// WWW-Authenticate error_description (RFC 6750 3).
func (r Reason) Description() string {
	if int(r) < len(reasonText) {
		return reasonText[r].desc
	}
	return reasonText[ReasonUnknown].desc
}

// Error is every error Verify returns. Reason and Description are safe to
// expose; Err carries the underlying cause for server-side logs (it may name
// a kid or an algorithm, never a claim value from the token body).
type Error struct {
	Reason Reason
	Err    error
}

// Sentinels for errors.Is: an *Error matches the sentinel of its Reason.
var (
	ErrTooLarge        = &Error{Reason: ReasonTooLarge}
	ErrMalformed       = &Error{Reason: ReasonMalformed}
	ErrType            = &Error{Reason: ReasonType}
	ErrAlgorithm       = &Error{Reason: ReasonAlgorithm}
	ErrUnknownKey      = &Error{Reason: ReasonUnknownKey}
	ErrKeysUnavailable = &Error{Reason: ReasonKeysUnavailable}
	ErrSignature       = &Error{Reason: ReasonSignature}
	ErrExpired         = &Error{Reason: ReasonExpired}
	ErrNotYetValid     = &Error{Reason: ReasonNotYetValid}
	ErrIssuedInFuture  = &Error{Reason: ReasonIssuedInFuture}
	ErrIssuer          = &Error{Reason: ReasonIssuer}
	ErrAudience        = &Error{Reason: ReasonAudience}
	ErrClaims          = &Error{Reason: ReasonClaims}
	ErrRevoked         = &Error{Reason: ReasonRevoked}
)

func (e *Error) Error() string {
	if e.Err == nil {
		return "verify: " + e.Reason.Description()
	}
	return "verify: " + e.Reason.Description() + ": " + e.Err.Error()
}

// Description is the client-safe text of the error.
func (e *Error) Description() string { return e.Reason.Description() }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Is matches any *Error with the same Reason, so errors.Is(err, ErrExpired)
// works whatever the cause.
func (e *Error) Is(target error) bool {
	var t *Error
	if !errors.As(target, &t) {
		return false
	}
	return t.Reason == e.Reason
}

// ReasonOf returns the Reason of err, or ReasonUnknown when err is not an
// *Error.
func ReasonOf(err error) Reason {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ReasonUnknown
}

func newErr(r Reason, cause error) *Error { return &Error{Reason: r, Err: cause} }
