package signer_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/portcullis/portcullis/authserver/internal/signer"
	"github.com/portcullis/portcullis/authserver/internal/storage"
	sqlstore "github.com/portcullis/portcullis/authserver/internal/storage/sql"
	"github.com/portcullis/portcullis/shared/verify"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newStore(t *testing.T) storage.Store { return newStoreB(t) }

func newStoreB(t testing.TB) storage.Store {
	t.Helper()
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "k.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return st
}

func encKey() []byte {
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	return k
}

func cfg(alg string, key []byte) signer.Config {
	return signer.Config{Algorithm: alg, RSABits: 2048, RotateEvery: 24 * time.Hour, Prepublish: time.Hour,
		TokenTTL: 5 * time.Minute, EncryptionKey: key}
}

func logger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func newSigner(t *testing.T, st storage.Store, c signer.Config, clk *clock) *signer.Signer {
	t.Helper()
	s, err := signer.New(st, c, logger(t), clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConfigRefusesWeakOrSymmetric(t *testing.T) {
	st := newStore(t)
	for name, c := range map[string]signer.Config{
		"HS256":         cfg("HS256", encKey()),
		"none":          cfg("none", encKey()),
		"small RSA":     func() signer.Config { c := cfg(signer.RS256, encKey()); c.RSABits = 1024; return c }(),
		"short enc key": cfg(signer.EdDSA, []byte("short")),
		"prepublish >= rotate": func() signer.Config {
			c := cfg(signer.EdDSA, encKey())
			c.Prepublish = c.RotateEvery
			return c
		}(),
	} {
		if _, err := signer.New(st, c, logger(t), nil); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestSignBeforeSyncFails(t *testing.T) {
	s := newSigner(t, newStore(t), cfg(signer.EdDSA, encKey()), &clock{t: time.Now()})
	if _, err := s.Sign(jwt.MapClaims{}, "at+jwt"); !errors.Is(err, signer.ErrNoKey) {
		t.Fatalf("err %v", err)
	}
	if s.Ready() {
		t.Fatal("ready without a key")
	}
}

func TestPrivateKeysEncryptedAtRest(t *testing.T) {
	st := newStore(t)
	clk := &clock{t: time.Now()}
	key := encKey()
	s := newSigner(t, st, cfg(signer.ES256, key), clk)
	if err := s.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	keys, _ := st.ListSigningKeys(context.Background())
	if len(keys) != 1 {
		t.Fatalf("%d keys", len(keys))
	}
	if strings.Contains(string(keys[0].PrivateKey), "PRIVATE") || len(keys[0].PrivateKey) < 40 {
		t.Fatal("private key not encrypted")
	}
	if strings.Contains(string(keys[0].PublicJWK), `"d"`) {
		t.Fatal("public JWK carries the private scalar")
	}
	// Another replica with the wrong encryption key cannot load the keys.
	bad := newSigner(t, st, cfg(signer.ES256, encKey()), clk)
	if err := bad.Sync(context.Background()); err == nil {
		t.Fatal("loaded keys with the wrong encryption key")
	}
	if bad.LastSyncError() == nil {
		t.Fatal("sync error not kept for readiness")
	}
	// The right key on another replica works.
	good := newSigner(t, st, cfg(signer.ES256, key), clk)
	if err := good.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestReplicasConvergeOnOneDatabase(t *testing.T) {
	st := newStore(t)
	clk := &clock{t: time.Now().Truncate(time.Second)}
	key := encKey()
	a := newSigner(t, st, cfg(signer.EdDSA, key), clk)
	b := newSigner(t, st, cfg(signer.EdDSA, key), clk)
	ctx := context.Background()
	if err := a.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	kid := func(s *signer.Signer) string {
		tok, err := s.Sign(jwt.MapClaims{"sub": "x"}, "at+jwt")
		if err != nil {
			t.Fatal(err)
		}
		p, _, err := jwt.NewParser().ParseUnverified(tok, jwt.MapClaims{})
		if err != nil {
			t.Fatal(err)
		}
		return p.Header["kid"].(string)
	}
	if kid(a) != kid(b) {
		t.Fatal("replicas sign with different keys")
	}
	next, created, err := a.Rotate(ctx)
	if err != nil || !created {
		t.Fatal(err)
	}
	// b learns about the next key at its next sync, long before it signs.
	clk.Advance(b.SyncInterval())
	if err := b.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := b.PublicKey(next.ID); !ok {
		t.Fatal("replica does not publish the next key")
	}
	clk.Advance(time.Hour)
	if kid(a) != next.ID || kid(b) != next.ID {
		t.Fatal("replicas did not switch together at activation")
	}
	// Tokens signed by either replica verify with the other's keys.
	tok, _ := a.Sign(jwt.MapClaims{"iss": "i", "aud": "a", "exp": clk.Now().Add(time.Minute).Unix(), "sub": "s"}, "at+jwt")
	v, err := verify.New(verify.Config{Issuer: "i", Audiences: []string{"a"}, Keys: b, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatalf("cross-replica verification: %v", err)
	}
}

func TestEncryptionKeyFormats(t *testing.T) {
	raw := encKey()
	for _, s := range []string{hex.EncodeToString(raw), base64.StdEncoding.EncodeToString(raw), base64.RawURLEncoding.EncodeToString(raw)} {
		got, err := signer.ParseEncryptionKey(s)
		if err != nil || string(got) != string(raw) {
			t.Fatalf("%q: %v", s, err)
		}
	}
	if _, err := signer.ParseEncryptionKey("too-short"); err == nil {
		t.Fatal("accepted a short key")
	}
}

func TestKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "keys.secret")
	k1, err := signer.LoadOrCreateKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v %v", fi.Mode(), err)
	}
	k2, err := signer.LoadOrCreateKeyFile(path)
	if err != nil || string(k1) != string(k2) {
		t.Fatal("key file not reused")
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := signer.LoadOrCreateKeyFile(path); err == nil {
		t.Fatal("accepted a world-readable key file")
	}
}

// TestSignWhileSyncing runs signing and syncing together (for -race).
func TestSignWhileSyncing(t *testing.T) {
	st := newStore(t)
	clk := &clock{t: time.Now()}
	s := newSigner(t, st, cfg(signer.EdDSA, encKey()), clk)
	ctx := context.Background()
	if err := s.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 20; i++ {
			if i == 5 {
				if _, _, err := s.Rotate(ctx); err != nil {
					t.Error(err)
				}
			}
			if err := s.Sync(ctx); err != nil {
				t.Error(err)
			}
		}
	}()
	for i := 0; i < 200; i++ {
		if _, err := s.Sign(jwt.MapClaims{"i": i}, "at+jwt"); err != nil {
			t.Fatal(err)
		}
		_ = s.JWKS()
	}
	<-done
}
