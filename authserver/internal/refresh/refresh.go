package refresh

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/portcullis/portcullis/authserver/internal/storage"
)

// ErrReused reports that the parent of a rotation was already spent outside
// the grace window: the presenter holds a copy of a token that was used
// before, so the family must be revoked.
var ErrReused = errors.New("refresh token reused")

// Store keeps refresh tokens. A missing token is storage.ErrNotFound.
type Store interface {
	// Create stores the first token of a new family.
	Create(ctx context.Context, t *storage.RefreshToken) error
	// GetByHash returns the token with the given hash, spent and revoked
	// ones included (the caller decides what they mean).
	GetByHash(ctx context.Context, hash string) (*storage.RefreshToken, error)
	// Rotate marks parent spent at now and stores child in one step. If
	// parent was already spent more than grace before now, nothing is
	// stored and the error is ErrReused.
	Rotate(ctx context.Context, parent, child *storage.RefreshToken, now time.Time, grace time.Duration) error
	// RevokeFamily revokes every token of the family.
	RevokeFamily(ctx context.Context, familyID string, at time.Time) error
	// RevokeUser revokes every family of the user (of one client when
	// clientID is not empty).
	RevokeUser(ctx context.Context, userID, clientID string, at time.Time) error
}

// NewToken returns a fresh opaque refresh token (256 bits from crypto/rand)
// and the hash under which it is stored.
func NewToken() (token, hash string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", fmt.Errorf("refresh token entropy: %w", err)
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, Hash(token), nil
}

// Hash is the stored form of a refresh token: hex SHA-256. A fast hash is
// right here: the token has 256 bits of entropy, so there is nothing for a
// slow hash to protect against.
func Hash(token string) string {
	s := sha256.Sum256([]byte(token))
	return hex.EncodeToString(s[:])
}

// NewID returns a random identifier for a token or family.
func NewID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("id entropy: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// withinGrace reports whether a token spent at usedAt may still be presented
// at now.
func withinGrace(usedAt *time.Time, now time.Time, grace time.Duration) bool {
	return usedAt != nil && grace > 0 && !now.After(usedAt.Add(grace))
}
