package signer

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/portcullis/portcullis/authserver/internal/storage"
	"github.com/portcullis/portcullis/shared/verify"
)

// KeyStore is the part of storage.Store the signer uses.
type KeyStore interface {
	CreateSigningKey(ctx context.Context, k *storage.SigningKey) error
	ListSigningKeys(ctx context.Context) ([]storage.SigningKey, error)
	UpdateSigningKey(ctx context.Context, id string, update func(*storage.SigningKey) error) (*storage.SigningKey, error)
	DeleteSigningKey(ctx context.Context, id string) error
}

// Config is the signer's runtime configuration (keys.* resolved).
type Config struct {
	Algorithm   string        // RS256, ES256 or EdDSA
	RSABits     int           // for RS256; at least 2048
	RotateEvery time.Duration // how long a key signs before its successor takes over
	Prepublish  time.Duration // how long a key is published before it signs
	// TokenTTL is the longest lifetime of anything the key signs: a retired
	// key stays published this long (plus the sync interval and a leeway).
	TokenTTL time.Duration
	// EncryptionKey (32 bytes) encrypts private keys at rest.
	EncryptionKey []byte
}

// Leeway is added to a retired key's retention to cover clock skew between
// the auth server and verifiers.
const Leeway = time.Minute

// ErrNoKey is returned by Sign before a key has been loaded.
var ErrNoKey = errors.New("no signing key loaded")

// State is a key's place in the rotation.
type State string

// Key states, in the order a key passes through them.
const (
	StateNext    State = "next"    // published, not yet signing
	StateActive  State = "active"  // published and signing
	StateRetired State = "retired" // published so tokens it signed still verify
	StateExpired State = "expired" // every token it signed has expired; deleted at the next sync
)

// Signer signs tokens with the active key and serves the public key set.
// It is safe for concurrent use.
type Signer struct {
	store KeyStore
	cfg   Config
	log   *slog.Logger
	now   func() time.Time

	snap atomic.Pointer[snapshot]

	mu      sync.Mutex // serialises Sync and guards cache
	cache   map[string]*loadedKey
	syncErr atomic.Pointer[error]
}

type loadedKey struct {
	id          string
	alg         string
	method      jwt.SigningMethod
	private     crypto.Signer
	public      crypto.PublicKey
	jwk         jwk.Key
	activatesAt time.Time
	expiresAt   *time.Time
}

// snapshot is an immutable view of the published keys, swapped atomically so
// that signing and JWKS reads never take a lock.
type snapshot struct {
	keys []*loadedKey // by activatesAt, then id
	byID map[string]*loadedKey
	jwks []byte
}

// activeAt returns the key that signs at t: the newest key already activated.
// Computing it from the clock (not from a stored flag) is what lets replicas
// switch keys at the same moment without talking to each other.
func (s *snapshot) activeAt(t time.Time) *loadedKey {
	for i := len(s.keys) - 1; i >= 0; i-- {
		if !s.keys[i].activatesAt.After(t) {
			return s.keys[i]
		}
	}
	return nil
}

// New returns a Signer. Call Sync (or Run) before signing.
func New(store KeyStore, cfg Config, log *slog.Logger, now func() time.Time) (*Signer, error) {
	if _, err := methodFor(cfg.Algorithm); err != nil {
		return nil, err
	}
	if cfg.Algorithm == RS256 && cfg.RSABits < MinRSABits {
		return nil, fmt.Errorf("keys.rsa_bits %d is below %d", cfg.RSABits, MinRSABits)
	}
	if len(cfg.EncryptionKey) != EncryptionKeySize {
		return nil, fmt.Errorf("keys encryption key must be %d bytes", EncryptionKeySize)
	}
	if cfg.RotateEvery <= cfg.Prepublish {
		return nil, fmt.Errorf("keys.rotate_every (%v) must exceed keys.prepublish (%v)", cfg.RotateEvery, cfg.Prepublish)
	}
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Signer{store: store, cfg: cfg, log: log, now: now, cache: map[string]*loadedKey{}}, nil
}

// SyncInterval is how often Run re-reads the key table. It is short next to
// prepublish so that every replica publishes a new key long before it signs.
func (s *Signer) SyncInterval() time.Duration {
	d := s.cfg.Prepublish / 4
	if d > time.Minute {
		d = time.Minute
	}
	if d < time.Second {
		d = time.Second
	}
	return d
}

// JWKSMaxAge is the Cache-Control max-age of the JWKS document. With
// max-age + SyncInterval <= prepublish, a verifier's cached copy always
// contains a key before the key signs its first token.
func (s *Signer) JWKSMaxAge() time.Duration {
	d := s.cfg.Prepublish / 2
	if d > 10*time.Minute {
		d = 10 * time.Minute
	}
	return d
}

// Retention is how long a key stays published after it stopped signing.
func (s *Signer) Retention() time.Duration {
	return s.cfg.TokenTTL + s.SyncInterval() + Leeway
}

// Algorithm is the algorithm new keys are generated with.
func (s *Signer) Algorithm() string { return s.cfg.Algorithm }

// Ready reports whether a signing key is loaded.
func (s *Signer) Ready() bool {
	sn := s.snap.Load()
	return sn != nil && sn.activeAt(s.now()) != nil
}

// LastSyncError is the error of the most recent Sync, nil after a success.
func (s *Signer) LastSyncError() error {
	if p := s.syncErr.Load(); p != nil {
		return *p
	}
	return nil
}

// Sign signs claims with the active key. typ is the JOSE "typ" header
// ("at+jwt" for access tokens, RFC 9068).
func (s *Signer) Sign(claims jwt.Claims, typ string) (string, error) {
	sn := s.snap.Load()
	if sn == nil {
		return "", ErrNoKey
	}
	k := sn.activeAt(s.now())
	if k == nil {
		return "", ErrNoKey
	}
	t := jwt.NewWithClaims(k.method, claims)
	t.Header["kid"] = k.id
	if typ != "" {
		t.Header["typ"] = typ
	}
	out, err := t.SignedString(k.private)
	if err != nil {
		return "", fmt.Errorf("sign with key %s: %w", k.id, err)
	}
	return out, nil
}

// JWKS returns the published public keys as a JWK Set document.
func (s *Signer) JWKS() []byte {
	if sn := s.snap.Load(); sn != nil {
		return sn.jwks
	}
	return []byte(`{"keys":[]}`)
}

// PublicKey returns the published public key with the given kid and its
// algorithm, for verifying tokens this server issued.
func (s *Signer) PublicKey(kid string) (crypto.PublicKey, string, bool) {
	sn := s.snap.Load()
	if sn == nil {
		return nil, "", false
	}
	k, ok := sn.byID[kid]
	if !ok {
		return nil, "", false
	}
	return k.public, k.alg, true
}

// Run syncs every SyncInterval until ctx ends. Errors are logged and kept
// for readiness; the previous key set stays in use.
func (s *Signer) Run(ctx context.Context) {
	t := time.NewTicker(s.SyncInterval())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.Sync(ctx); err != nil && ctx.Err() == nil {
				s.log.ErrorContext(ctx, "signing key sync failed", "err", err)
			}
		}
	}
}

// Sync advances the rotation state machine and reloads the keys:
//   - no key at all (first start): generate one that signs at once, since no
//     verifier can have cached a key set yet;
//   - the active key is due for replacement within prepublish and no next
//     key exists: generate the next key, activating prepublish from now at
//     the earliest;
//   - record retirement (and the resulting expiry) of superseded keys;
//   - delete keys whose every token has expired;
//   - decrypt what is left and publish it.
//
// Replicas racing through the same step may each create a key; that is
// harmless, because the active key is the newest activated one for everyone
// and the others stay published until their tokens expire.
func (s *Signer) Sync(ctx context.Context) error {
	err := s.sync(ctx)
	if err != nil {
		s.syncErr.Store(&err)
	} else {
		s.syncErr.Store(nil)
	}
	return err
}

func (s *Signer) sync(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()

	keys, err := s.store.ListSigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("list signing keys: %w", err)
	}
	sortKeys(keys)

	active, hasNext := activeIndex(keys, now), false
	for i := range keys {
		if keys[i].ActivatesAt.After(now) {
			hasNext = true
		}
	}
	switch {
	case active < 0 && !hasNext:
		k, err := s.create(ctx, now)
		if err != nil {
			return err
		}
		s.log.InfoContext(ctx, "generated first signing key", "kid", k.ID, "alg", k.Algorithm)
		keys = append(keys, *k)
	case active >= 0 && !hasNext && !now.Before(keys[active].ActivatesAt.Add(s.cfg.RotateEvery-s.cfg.Prepublish)):
		at := keys[active].ActivatesAt.Add(s.cfg.RotateEvery)
		if earliest := now.Add(s.cfg.Prepublish); at.Before(earliest) {
			at = earliest
		}
		k, err := s.create(ctx, at)
		if err != nil {
			return err
		}
		s.log.InfoContext(ctx, "generated next signing key", "kid", k.ID, "alg", k.Algorithm, "activates_at", at)
		keys = append(keys, *k)
	}
	sortKeys(keys)

	kept := keys[:0]
	for i := range keys {
		k := &keys[i]
		if i+1 < len(keys) && !keys[i+1].ActivatesAt.After(now) && k.RetiredAt == nil {
			retired := keys[i+1].ActivatesAt
			expires := retired.Add(s.Retention())
			updated, err := s.store.UpdateSigningKey(ctx, k.ID, func(sk *storage.SigningKey) error {
				sk.RetiredAt, sk.ExpiresAt = &retired, &expires
				return nil
			})
			if err != nil {
				return fmt.Errorf("retire signing key %s: %w", k.ID, err)
			}
			*k = *updated
			s.log.InfoContext(ctx, "retired signing key", "kid", k.ID, "published_until", expires)
		}
		if k.ExpiresAt != nil && now.After(*k.ExpiresAt) {
			if err := s.store.DeleteSigningKey(ctx, k.ID); err != nil && !errors.Is(err, storage.ErrNotFound) {
				return fmt.Errorf("delete expired signing key %s: %w", k.ID, err)
			}
			delete(s.cache, k.ID)
			s.log.InfoContext(ctx, "deleted expired signing key", "kid", k.ID)
			continue
		}
		kept = append(kept, *k)
	}
	return s.publish(kept)
}

// Rotate starts a rotation now: it creates a next key that activates after
// prepublish. When a next key already exists it is returned with
// created=false, since a second one would only shorten the first's life.
func (s *Signer) Rotate(ctx context.Context) (key *storage.SigningKey, created bool, err error) {
	s.mu.Lock()
	now := s.now()
	keys, err := s.store.ListSigningKeys(ctx)
	if err != nil {
		s.mu.Unlock()
		return nil, false, fmt.Errorf("list signing keys: %w", err)
	}
	sortKeys(keys)
	for i := range keys {
		if keys[i].ActivatesAt.After(now) {
			s.mu.Unlock()
			return &keys[i], false, nil
		}
	}
	at := now.Add(s.cfg.Prepublish)
	if activeIndex(keys, now) < 0 {
		at = now // nothing signs yet: the new key may sign at once
	}
	k, err := s.create(ctx, at)
	s.mu.Unlock()
	if err != nil {
		return nil, false, err
	}
	s.log.InfoContext(ctx, "rotation started", "kid", k.ID, "activates_at", at)
	return k, true, s.Sync(ctx)
}

func (s *Signer) create(ctx context.Context, activatesAt time.Time) (*storage.SigningKey, error) {
	priv, err := generate(s.cfg.Algorithm, s.cfg.RSABits)
	if err != nil {
		return nil, err
	}
	kid, pub, err := publicJWK(priv, s.cfg.Algorithm)
	if err != nil {
		return nil, err
	}
	sealed, err := seal(s.cfg.EncryptionKey, kid, priv)
	if err != nil {
		return nil, err
	}
	k := &storage.SigningKey{
		ID: kid, Algorithm: s.cfg.Algorithm, PrivateKey: sealed, PublicJWK: pub,
		CreatedAt: s.now(), ActivatesAt: activatesAt,
	}
	if err := s.store.CreateSigningKey(ctx, k); err != nil {
		return nil, fmt.Errorf("store signing key: %w", err)
	}
	return k, nil
}

// publish decrypts keys (once per kid) and swaps in a new snapshot.
func (s *Signer) publish(keys []storage.SigningKey) error {
	sn := &snapshot{byID: make(map[string]*loadedKey, len(keys))}
	set := jwk.NewSet()
	for i := range keys {
		k := &keys[i]
		lk, ok := s.cache[k.ID]
		if !ok {
			var err error
			lk, err = s.load(k)
			if err != nil {
				return err
			}
			s.cache[k.ID] = lk
		}
		// A copy per snapshot: the previous snapshot may be read by Sign
		// at this very moment.
		cp := *lk
		cp.activatesAt, cp.expiresAt = k.ActivatesAt, k.ExpiresAt
		sn.keys = append(sn.keys, &cp)
		sn.byID[cp.id] = &cp
		if err := set.AddKey(lk.jwk); err != nil {
			return fmt.Errorf("JWKS: add key %s: %w", lk.id, err)
		}
	}
	b, err := json.Marshal(set)
	if err != nil {
		return fmt.Errorf("JWKS: marshal: %w", err)
	}
	sn.jwks = b
	s.snap.Store(sn)
	return nil
}

func (s *Signer) load(k *storage.SigningKey) (*loadedKey, error) {
	method, err := methodFor(k.Algorithm)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", k.ID, err)
	}
	priv, err := open(s.cfg.EncryptionKey, k.ID, k.PrivateKey)
	if err != nil {
		return nil, err
	}
	pub, err := jwk.ParseKey(k.PublicJWK)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: public JWK: %w", k.ID, err)
	}
	return &loadedKey{id: k.ID, alg: k.Algorithm, method: method, private: priv, public: priv.Public(), jwk: pub}, nil
}

// KeyStatus describes one stored key for `authserver keys list`.
type KeyStatus struct {
	ID          string
	Algorithm   string
	State       State
	CreatedAt   time.Time
	ActivatesAt time.Time
	RetiredAt   *time.Time
	ExpiresAt   *time.Time
}

// Describe reports the state of each key at now, in activation order. It
// needs no decryption, so the CLI can run it without the encryption key.
func Describe(keys []storage.SigningKey, now time.Time) []KeyStatus {
	keys = append([]storage.SigningKey(nil), keys...)
	sortKeys(keys)
	active := activeIndex(keys, now)
	out := make([]KeyStatus, len(keys))
	for i, k := range keys {
		st := StateRetired
		switch {
		case k.ActivatesAt.After(now):
			st = StateNext
		case i == active:
			st = StateActive
		case k.ExpiresAt != nil && now.After(*k.ExpiresAt):
			st = StateExpired
		}
		retired := k.RetiredAt
		if retired == nil && i < active {
			r := keys[i+1].ActivatesAt
			retired = &r
		}
		out[i] = KeyStatus{ID: k.ID, Algorithm: k.Algorithm, State: st, CreatedAt: k.CreatedAt,
			ActivatesAt: k.ActivatesAt, RetiredAt: retired, ExpiresAt: k.ExpiresAt}
	}
	return out
}

func sortKeys(keys []storage.SigningKey) {
	sort.SliceStable(keys, func(i, j int) bool {
		if !keys[i].ActivatesAt.Equal(keys[j].ActivatesAt) {
			return keys[i].ActivatesAt.Before(keys[j].ActivatesAt)
		}
		return keys[i].ID < keys[j].ID
	})
}

// activeIndex is the index of the newest key activated at now, or -1.
func activeIndex(keys []storage.SigningKey, now time.Time) int {
	for i := len(keys) - 1; i >= 0; i-- {
		if !keys[i].ActivatesAt.After(now) {
			return i
		}
	}
	return -1
}

// Key implements verify.Keys over the published keys, so the auth server
// checks its own tokens (introspection, revocation) with the same verifier
// the gateway uses.
func (s *Signer) Key(_ context.Context, kid string) (verify.Key, error) {
	pub, alg, ok := s.PublicKey(kid)
	if !ok {
		return verify.Key{}, verify.ErrUnknownKey
	}
	return verify.Key{Public: pub, Algorithm: alg}, nil
}
