package refresh_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/portcullis/portcullis/authserver/internal/refresh"
	"github.com/portcullis/portcullis/authserver/internal/storage"
	sqlstore "github.com/portcullis/portcullis/authserver/internal/storage/sql"
	"github.com/portcullis/portcullis/authserver/internal/storage/storagetest"
)

// backend is one Store under test plus the means to fast-forward its TTLs
// (nil where expiry is checked by the caller, as with SQL).
type backend struct {
	store   refresh.Store
	sql     storage.Store // for creating the user/client rows SQL needs
	forward func(time.Duration)
}

func sqliteBackend(t *testing.T) backend {
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "r.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return backend{store: refresh.NewSQL(st), sql: st}
}

func miniredisBackend(t *testing.T) backend {
	mr := miniredis.RunT(t)
	c := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { _ = c.Close() })
	return backend{store: refresh.NewRedis(c, "test:", 720*time.Hour), forward: mr.FastForward}
}

// realRedisBackend runs against the server named by PORTCULLIS_TEST_REDIS_ADDR
// under a random prefix, removed afterwards.
func realRedisBackend(t *testing.T) backend {
	addr := os.Getenv("PORTCULLIS_TEST_REDIS_ADDR")
	if addr == "" {
		t.Skip("PORTCULLIS_TEST_REDIS_ADDR not set")
	}
	c := redis.NewClient(&redis.Options{Addr: addr})
	if err := c.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("redis at %s: %v", addr, err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	prefix := "pc_test_" + hex.EncodeToString(b) + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		keys, _ := c.Keys(ctx, prefix+"*").Result()
		if len(keys) > 0 {
			_ = c.Del(ctx, keys...).Err()
		}
		_ = c.Close()
	})
	return backend{store: refresh.NewRedis(c, prefix, 720*time.Hour)}
}

// postgresBackend runs in a fresh schema of the server named by
// PORTCULLIS_TEST_POSTGRES_DSN, dropped afterwards.
func postgresBackend(t *testing.T) backend {
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, storagetest.PostgresDSN(t, "pc_test_"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return backend{store: refresh.NewSQL(st), sql: st}
}

func TestSQLite(t *testing.T)    { runSuite(t, sqliteBackend) }
func TestPostgres(t *testing.T)  { runSuite(t, postgresBackend) }
func TestMiniredis(t *testing.T) { runSuite(t, miniredisBackend) }
func TestRedis(t *testing.T)     { runSuite(t, realRedisBackend) }

// fixture creates what a token row refers to (user and client) and returns
// a first token of a new family.
func fixture(t *testing.T, b backend, now time.Time) *storage.RefreshToken {
	t.Helper()
	ctx := context.Background()
	uid, cid := "", "client-1"
	if b.sql != nil {
		u := &storage.User{Username: "u" + randHex(), Email: randHex() + "@x.test", PasswordHash: "x", Active: true}
		if err := b.sql.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		uid = u.ID
		cid = "cl" + randHex()
		if err := b.sql.CreateClient(ctx, &storage.Client{ID: cid, Name: cid, GrantTypes: []string{"password"}}); err != nil {
			t.Fatal(err)
		}
	} else {
		uid = "user-" + randHex()
	}
	return newToken(t, uid, cid, "fam-"+randHex(), "", now)
}

func newToken(t *testing.T, uid, cid, fam, parent string, now time.Time) *storage.RefreshToken {
	t.Helper()
	_, hash, err := refresh.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	id, _ := refresh.NewID()
	return &storage.RefreshToken{ID: id, TokenHash: hash, FamilyID: fam, ParentID: parent, UserID: uid, ClientID: cid,
		Scope: "read", Account: "acme", AuthTime: now, IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
}

func randHex() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func runSuite(t *testing.T, newBackend func(*testing.T) backend) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)

	t.Run("create and get", func(t *testing.T) {
		b := newBackend(t)
		tok := fixture(t, b, now)
		if err := b.store.Create(ctx, tok); err != nil {
			t.Fatal(err)
		}
		got, err := b.store.GetByHash(ctx, tok.TokenHash)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != tok.ID || got.FamilyID != tok.FamilyID || got.UserID != tok.UserID || got.ClientID != tok.ClientID ||
			got.Scope != "read" || got.Account != "acme" || !got.ExpiresAt.Equal(tok.ExpiresAt) || got.UsedAt != nil || got.RevokedAt != nil {
			t.Fatalf("got %+v, want %+v", got, tok)
		}
	})
	t.Run("missing is ErrNotFound", func(t *testing.T) {
		b := newBackend(t)
		if _, err := b.store.GetByHash(ctx, refresh.Hash("nope")); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("rotate once, reuse refused", func(t *testing.T) {
		b := newBackend(t)
		p := fixture(t, b, now)
		if err := b.store.Create(ctx, p); err != nil {
			t.Fatal(err)
		}
		c1 := newToken(t, p.UserID, p.ClientID, p.FamilyID, p.ID, now)
		if err := b.store.Rotate(ctx, p, c1, now, 0); err != nil {
			t.Fatal(err)
		}
		got, _ := b.store.GetByHash(ctx, p.TokenHash)
		if got.UsedAt == nil {
			t.Fatal("parent not marked used")
		}
		c2 := newToken(t, p.UserID, p.ClientID, p.FamilyID, p.ID, now)
		if err := b.store.Rotate(ctx, p, c2, now.Add(time.Second), 0); !errors.Is(err, refresh.ErrReused) {
			t.Fatalf("second rotation: %v, want ErrReused", err)
		}
		if _, err := b.store.GetByHash(ctx, c2.TokenHash); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("losing child was stored: %v", err)
		}
	})
	t.Run("concurrent rotations: one winner", func(t *testing.T) {
		b := newBackend(t)
		p := fixture(t, b, now)
		_ = b.store.Create(ctx, p)
		const n = 6
		errs := make(chan error, n)
		for i := 0; i < n; i++ {
			go func() {
				errs <- b.store.Rotate(ctx, p, newToken(t, p.UserID, p.ClientID, p.FamilyID, p.ID, now), now, 0)
			}()
		}
		wins := 0
		for i := 0; i < n; i++ {
			err := <-errs
			switch {
			case err == nil:
				wins++
			case !errors.Is(err, refresh.ErrReused):
				t.Errorf("rotation: %v", err)
			}
		}
		if wins != 1 {
			t.Fatalf("%d concurrent rotations won, want 1", wins)
		}
	})
	t.Run("grace window", func(t *testing.T) {
		b := newBackend(t)
		p := fixture(t, b, now)
		_ = b.store.Create(ctx, p)
		if err := b.store.Rotate(ctx, p, newToken(t, p.UserID, p.ClientID, p.FamilyID, p.ID, now), now, 5*time.Second); err != nil {
			t.Fatal(err)
		}
		if err := b.store.Rotate(ctx, p, newToken(t, p.UserID, p.ClientID, p.FamilyID, p.ID, now), now.Add(3*time.Second), 5*time.Second); err != nil {
			t.Fatalf("inside grace: %v", err)
		}
		if err := b.store.Rotate(ctx, p, newToken(t, p.UserID, p.ClientID, p.FamilyID, p.ID, now), now.Add(6*time.Second), 5*time.Second); !errors.Is(err, refresh.ErrReused) {
			t.Fatalf("after grace: %v", err)
		}
	})
	t.Run("revoke family", func(t *testing.T) {
		b := newBackend(t)
		p := fixture(t, b, now)
		_ = b.store.Create(ctx, p)
		c := newToken(t, p.UserID, p.ClientID, p.FamilyID, p.ID, now)
		_ = b.store.Rotate(ctx, p, c, now, 0)
		other := newToken(t, p.UserID, p.ClientID, "fam-other-"+randHex(), "", now)
		if err := b.store.Create(ctx, other); err != nil {
			t.Fatal(err)
		}
		if err := b.store.RevokeFamily(ctx, p.FamilyID, now); err != nil {
			t.Fatal(err)
		}
		for _, h := range []string{p.TokenHash, c.TokenHash} {
			if got, _ := b.store.GetByHash(ctx, h); got == nil || got.RevokedAt == nil {
				t.Fatalf("token of revoked family not revoked: %+v", got)
			}
		}
		if got, _ := b.store.GetByHash(ctx, other.TokenHash); got.RevokedAt != nil {
			t.Fatal("other family revoked too")
		}
	})
	t.Run("revoke user", func(t *testing.T) {
		b := newBackend(t)
		p := fixture(t, b, now)
		_ = b.store.Create(ctx, p)
		if err := b.store.RevokeUser(ctx, p.UserID, p.ClientID, now); err != nil {
			t.Fatal(err)
		}
		if got, _ := b.store.GetByHash(ctx, p.TokenHash); got.RevokedAt == nil {
			t.Fatal("not revoked")
		}
	})
	t.Run("expired tokens vanish", func(t *testing.T) {
		b := newBackend(t)
		if b.forward == nil {
			t.Skip("expiry is checked by the caller on this backend")
		}
		p := fixture(t, b, now)
		_ = b.store.Create(ctx, p)
		b.forward(time.Hour + time.Second)
		if _, err := b.store.GetByHash(ctx, p.TokenHash); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("expired token still there: %v", err)
		}
	})
}
