package authcode

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"
)

// MaxTTL is the longest life of a code. RFC 6749 4.1.2 recommends at most
// 10 minutes; a browser redirect needs a few seconds, so 60 s is plenty.
const MaxTTL = 60 * time.Second

// RememberSpent is how long a redeemed code is remembered after it
// expires, so that a late replay is still recognised as reuse and revokes
// the tokens issued from it.
const RememberSpent = 10 * time.Minute

// MethodS256 is the only PKCE method accepted (RFC 7636 4.2; RFC 9700
// 2.1.1 rules out "plain").
const MethodS256 = "S256"

var (
	// ErrNotFound means there is no such code, or it has expired.
	ErrNotFound = errors.New("authorization code not found or expired")
	// ErrReused means the code was redeemed before. The returned Code says which
	// tokens it produced.
	ErrReused = errors.New("authorization code already used")
)

// Code is what an authorization code stands for.
type Code struct {
	ClientID    string    `json:"client_id"`
	RedirectURI string    `json:"redirect_uri"`
	UserID      string    `json:"user_id"`
	Scope       string    `json:"scope"`
	Nonce       string    `json:"nonce,omitempty"`
	Challenge   string    `json:"code_challenge,omitempty"` // S256 challenge; empty for a confidential client that sent none
	AuthTime    time.Time `json:"auth_time"`                // when the user authenticated (OIDC auth_time)
	ExpiresAt   time.Time `json:"expires_at"`

	// Set by Issued once tokens were issued from the code.
	FamilyID        string    `json:"family_id,omitempty"`  // refresh-token family
	AccessJTI       string    `json:"access_jti,omitempty"` // jti of the access token
	AccessExpiresAt time.Time `json:"access_expires_at,omitzero"`
}

// Store keeps codes. Implementations are safe for concurrent use.
type Store interface {
	// Create stores c under code (kept as a hash).
	Create(ctx context.Context, code string, c *Code) error
	// Redeem claims code once. The first call at a time before ExpiresAt
	// returns the Code; any later call returns the Code and ErrReused; an
	// unknown or expired code returns ErrNotFound.
	Redeem(ctx context.Context, code string, now time.Time) (*Code, error)
	// Issued records the tokens issued from a redeemed code.
	Issued(ctx context.Context, code, familyID, accessJTI string, accessExpiresAt time.Time) error
}

// New returns a fresh code: 32 random bytes, base64url (256 bits, RFC 6749
// 10.10).
func New() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("authorization code: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// Hash is the stored form of a code.
func Hash(code string) string {
	s := sha256.Sum256([]byte(code))
	return hex.EncodeToString(s[:])
}

// S256 is the PKCE S256 transform: BASE64URL(SHA256(verifier)).
func S256(verifier string) string {
	s := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(s[:])
}

// VerifyS256 reports, in constant time, whether verifier matches
// challenge (RFC 7636 4.6).
func VerifyS256(challenge, verifier string) bool {
	return subtle.ConstantTimeCompare([]byte(S256(verifier)), []byte(challenge)) == 1
}

// ValidVerifier checks RFC 7636 4.1: 43 to 128 characters of
// [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~".
func ValidVerifier(v string) bool {
	return len(v) >= 43 && len(v) <= 128 && unreserved(v)
}

// ValidChallenge checks an S256 challenge: base64url of 32 bytes, 43
// characters.
func ValidChallenge(c string) bool {
	if len(c) != 43 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(c)
	return err == nil
}

func unreserved(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '.', c == '_', c == '~':
		default:
			return false
		}
	}
	return true
}

// Memory is an in-process Store for a single replica.
type Memory struct {
	now func() time.Time

	mu      sync.Mutex
	codes   map[string]*memEntry
	sweepAt time.Time
}

type memEntry struct {
	c     Code
	spent bool
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty Memory store; now is the clock used to drop
// old entries.
func NewMemory(now func() time.Time) *Memory {
	if now == nil {
		now = time.Now
	}
	return &Memory{now: now, codes: map[string]*memEntry{}}
}

// Create implements Store.
func (m *Memory) Create(_ context.Context, code string, c *Code) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweep()
	m.codes[Hash(code)] = &memEntry{c: *c}
	return nil
}

// Redeem implements Store.
func (m *Memory) Redeem(_ context.Context, code string, now time.Time) (*Code, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.codes[Hash(code)]
	if !ok {
		return nil, ErrNotFound
	}
	c := e.c
	if e.spent {
		return &c, ErrReused
	}
	if !now.Before(e.c.ExpiresAt) {
		return nil, ErrNotFound
	}
	e.spent = true
	return &c, nil
}

// Issued implements Store.
func (m *Memory) Issued(_ context.Context, code, familyID, jti string, exp time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.codes[Hash(code)]; ok {
		e.c.FamilyID, e.c.AccessJTI, e.c.AccessExpiresAt = familyID, jti, exp
	}
	return nil
}

// sweep drops entries past their memory, at most once a minute, so the map
// cannot grow without bound.
func (m *Memory) sweep() {
	now := m.now()
	if now.Before(m.sweepAt) {
		return
	}
	for k, e := range m.codes {
		if now.After(e.c.ExpiresAt.Add(RememberSpent)) {
			delete(m.codes, k)
		}
	}
	m.sweepAt = now.Add(time.Minute)
}
