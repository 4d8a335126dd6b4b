package oauth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/go-oauth2/oauth2/v4"
	oerrors "github.com/go-oauth2/oauth2/v4/errors"

	"github.com/portcullis/portcullis/authserver/internal/storage"
)

// Passwords verifies argon2id (and imported bcrypt) hashes; it is the
// internal/password Hasher seen through the methods the token service uses.
type Passwords interface {
	// Verify checks password against an encoded hash; rehash reports that
	// the hash should be replaced (older parameters, bcrypt).
	Verify(ctx context.Context, encoded, password string) (ok, rehash bool, err error)
	// VerifyDummy spends the time of a real verification, so an unknown
	// username cannot be told apart by timing.
	VerifyDummy(ctx context.Context, password string)
	// Hash encodes password with the current parameters.
	Hash(ctx context.Context, password string) (string, error)
}

// clientStore adapts storage.Store to oauth2.ClientStore. The library's
// contract for a miss is (nil, nil).
type clientStore struct {
	store     storage.Store
	passwords Passwords
	cache     *secretCache
	log       *slog.Logger
}

var _ oauth2.ClientStore = (*clientStore)(nil)

func (cs *clientStore) GetByID(ctx context.Context, id string) (oauth2.ClientInfo, error) {
	if st := stateFrom(ctx); st != nil && st.client != nil && st.client.ID == id {
		return &clientInfo{ctx: ctx, c: st.client, cs: cs}, nil
	}
	c, err := cs.store.GetClient(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil //nolint:nilnil // go-oauth2's ClientStore contract: a miss is (nil, nil)
	}
	if err != nil {
		return nil, fmt.Errorf("get client: %w", err)
	}
	return &clientInfo{ctx: ctx, c: c, cs: cs}, nil
}

// clientInfo is oauth2.ClientInfo plus ClientPasswordVerifier, so the
// library never compares a stored hash with a plaintext secret.
type clientInfo struct {
	ctx context.Context //nolint:containedctx // VerifyPassword has no ctx parameter; the request's is kept for the hash pool
	c   *storage.Client
	cs  *clientStore
}

var _ oauth2.ClientPasswordVerifier = (*clientInfo)(nil)

func (ci *clientInfo) GetID() string     { return ci.c.ID }
func (ci *clientInfo) GetSecret() string { return "" } // never exposed; VerifyPassword decides
func (ci *clientInfo) GetDomain() string { return "" }
func (ci *clientInfo) IsPublic() bool    { return ci.c.Public }
func (ci *clientInfo) GetUserID() string { return "" }

// VerifyPassword implements oauth2.ClientPasswordVerifier.
func (ci *clientInfo) VerifyPassword(secret string) bool {
	return ci.cs.verify(ci.ctx, ci.c, secret) == nil
}

// verify checks a client secret. Public clients must not send one;
// confidential clients must. A verified (client, secret) pair is cached for
// a short time so client_credentials does not pay argon2id per request; the
// cache entry is keyed to the stored hash, so a rotated secret is not
// served from it.
func (cs *clientStore) verify(ctx context.Context, c *storage.Client, secret string) error {
	if c.Public {
		if secret != "" {
			return errors.New("public client sent a secret")
		}
		return nil
	}
	if secret == "" || c.SecretHash == "" {
		return errors.New("confidential client sent no secret")
	}
	sum := sha256.Sum256([]byte(secret))
	if cs.cache.hit(c.ID, c.SecretHash, sum) {
		return nil
	}
	ok, _, err := cs.passwords.Verify(ctx, c.SecretHash, secret)
	if err != nil {
		return fmt.Errorf("verify client secret: %w", err)
	}
	if !ok {
		return errors.New("wrong client secret")
	}
	cs.cache.put(c.ID, c.SecretHash, sum)
	return nil
}

// authenticate is the one place client authentication happens, for every
// grant and for revocation and introspection.
func (cs *clientStore) authenticate(ctx context.Context, creds Credentials) (*storage.Client, error) {
	c, err := cs.store.GetClient(ctx, creds.ClientID)
	if errors.Is(err, storage.ErrNotFound) {
		// Burn a verification anyway so unknown ids are not faster.
		if creds.ClientSecret != "" {
			cs.passwords.VerifyDummy(ctx, creds.ClientSecret)
		}
		return nil, oerrors.ErrInvalidClient
	}
	if err != nil {
		return nil, fmt.Errorf("get client: %w", err)
	}
	if err := cs.verify(ctx, c, creds.ClientSecret); err != nil {
		cs.log.InfoContext(ctx, "client authentication failed", "client_id", c.ID, "method", creds.Method, "reason", err.Error())
		return nil, oerrors.ErrInvalidClient
	}
	return c, nil
}

// secretCache remembers verified client secrets (as SHA-256) briefly.
type secretCache struct {
	ttl time.Duration
	max int
	now func() time.Time

	mu sync.Mutex
	m  map[string]secretEntry
}

type secretEntry struct {
	storedHash string
	sum        [32]byte
	until      time.Time
}

func newSecretCache(ttl time.Duration, now func() time.Time) *secretCache {
	return &secretCache{ttl: ttl, max: 10000, now: now, m: map[string]secretEntry{}}
}

func (c *secretCache) hit(id, storedHash string, sum [32]byte) bool {
	if c.ttl <= 0 {
		return false
	}
	c.mu.Lock()
	e, ok := c.m[id]
	c.mu.Unlock()
	return ok && c.now().Before(e.until) && e.storedHash == storedHash &&
		subtle.ConstantTimeCompare(e.sum[:], sum[:]) == 1
}

func (c *secretCache) put(id, storedHash string, sum [32]byte) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		// Bounded: start over rather than track recency; a refill costs
		// one argon2id per client.
		c.m = map[string]secretEntry{}
	}
	c.m[id] = secretEntry{storedHash: storedHash, sum: sum, until: c.now().Add(c.ttl)}
}

// Forget drops a client's cached secret (call after a secret change).
func (c *secretCache) Forget(id string) {
	c.mu.Lock()
	delete(c.m, id)
	c.mu.Unlock()
}
