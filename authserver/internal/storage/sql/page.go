package sqlstore

import (
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/portcullis/portcullis/authserver/internal/storage"
)

// Page sizes: a zero limit means defaultLimit; larger requests are capped.
const (
	defaultLimit = 100
	maxLimit     = 1000
)

func limitOf(p storage.Page) int {
	switch {
	case p.Limit <= 0:
		return defaultLimit
	case p.Limit > maxLimit:
		return maxLimit
	default:
		return p.Limit
	}
}

// Cursors are the sort key of the last item returned, base64url-encoded so
// callers treat them as opaque.
func encodeCursor(key string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(key))
}

func decodeCursor(c string) (string, error) {
	if c == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return "", fmt.Errorf("bad page cursor: %w", storage.ErrInvalid)
	}
	return string(b), nil
}

// trim cuts a result fetched with limit+1 rows to limit and returns the next
// cursor when more rows followed.
func trim[T any](items []T, limit int, key func(T) string) ([]T, string) {
	if len(items) <= limit {
		return items, ""
	}
	items = items[:limit]
	return items, encodeCursor(key(items[limit-1]))
}

// cursorPart returns the i-th NUL-separated part of a composite cursor key
// ("" when absent, which sorts before every name).
func cursorPart(key string, i int) string {
	for ; i > 0; i-- {
		_, rest, ok := strings.Cut(key, "\x00")
		if !ok {
			return ""
		}
		key = rest
	}
	part, _, _ := strings.Cut(key, "\x00")
	return part
}
