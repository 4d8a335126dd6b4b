package identity

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/portcullis/portcullis/authserver/internal/storage"
)

// The errors callers map to responses. They are the storage sentinels, so
// errors.Is works whichever layer produced the error.
var (
	// ErrNotFound: the object, or one the request names, does not exist.
	ErrNotFound = storage.ErrNotFound
	// ErrConflict: the request would duplicate a unique name or grant.
	ErrConflict = storage.ErrAlreadyExists
	// ErrInvalid: a validation failure; errors.As gives the *ValidationError
	// with per-field messages when the service found it.
	ErrInvalid = storage.ErrInvalid
)

// ValidationError reports every invalid field of a request at once. Keys are
// the request's field names as the CLI flags and the admin API spell them.
type ValidationError struct {
	Fields map[string]string
}

// Error lists the fields in a stable order on one line.
func (e *ValidationError) Error() string {
	keys := slices.Sorted(maps.Keys(e.Fields))
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+": "+e.Fields[k])
	}
	return "invalid request: " + strings.Join(parts, "; ")
}

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *ValidationError) Unwrap() error { return ErrInvalid }

// fields collects validation messages; err returns nil when there are none.
type fields map[string]string

func (f fields) add(field, format string, args ...any) {
	if _, ok := f[field]; !ok { // keep the first problem per field
		f[field] = fmt.Sprintf(format, args...)
	}
}

func (f fields) err() error {
	if len(f) == 0 {
		return nil
	}
	return &ValidationError{Fields: f}
}

// invalid is a one-field ValidationError.
func invalid(field, format string, args ...any) error {
	f := fields{}
	f.add(field, format, args...)
	return f.err()
}

// IsInvalid reports whether err is a validation failure (from this package
// or a storage ErrInvalid such as a scope that does not match a role).
func IsInvalid(err error) bool { return errors.Is(err, ErrInvalid) }
