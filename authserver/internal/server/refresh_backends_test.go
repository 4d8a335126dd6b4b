package server_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/portcullis/portcullis/authserver/internal/refresh"
	"github.com/portcullis/portcullis/authserver/internal/server/servertest"
	"github.com/portcullis/portcullis/authserver/internal/storage"
)

// refreshFlow runs rotation and reuse detection end to end on s.
func refreshFlow(t *testing.T, s *servertest.Server) {
	t.Helper()
	s.CreateUser(t, "quinn", "pw-quinn")
	id, secret := s.CreateClient(t, servertest.Client{})
	first := s.PasswordToken(t, id, secret, "quinn", "pw-quinn")
	next := s.Token(t, id, secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first.RefreshToken}})
	if next.Status != 200 {
		t.Fatalf("rotate: %+v", next)
	}
	if r := s.Token(t, id, secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first.RefreshToken}}); r.Error != "invalid_grant" {
		t.Fatalf("reuse: %+v", r)
	}
	if r := s.Token(t, id, secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {next.RefreshToken}}); r.Error != "invalid_grant" {
		t.Fatalf("family not revoked: %+v", r)
	}
}

func TestRefreshTokensInMiniredis(t *testing.T) {
	mr := miniredis.RunT(t)
	rc := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { _ = rc.Close() })
	s := servertest.New(t, servertest.Options{Refresh: func(storage.Store) refresh.Store {
		return refresh.NewRedis(rc, "t:", 720*time.Hour)
	}})
	refreshFlow(t, s)
}

func TestRefreshTokensInRedis(t *testing.T) {
	addr := os.Getenv("PORTCULLIS_TEST_REDIS_ADDR")
	if addr == "" {
		t.Skip("PORTCULLIS_TEST_REDIS_ADDR not set")
	}
	rc := redis.NewClient(&redis.Options{Addr: addr})
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	prefix := "pc_test_" + hex.EncodeToString(b) + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		if keys, _ := rc.Keys(ctx, prefix+"*").Result(); len(keys) > 0 {
			_ = rc.Del(ctx, keys...).Err()
		}
		_ = rc.Close()
	})
	s := servertest.New(t, servertest.Options{Refresh: func(storage.Store) refresh.Store {
		return refresh.NewRedis(rc, prefix, 720*time.Hour)
	}})
	refreshFlow(t, s)
}

// TestConcurrentRefreshOneWinner: of several simultaneous uses of one
// refresh token, exactly one succeeds; the others are reuse.
func TestConcurrentRefreshOneWinner(t *testing.T) {
	s := servertest.New(t, servertest.Options{})
	s.CreateUser(t, "rita", "pw-rita")
	id, secret := s.CreateClient(t, servertest.Client{})
	first := s.PasswordToken(t, id, secret, "rita", "pw-rita")
	const n = 8
	var wg sync.WaitGroup
	codes := make([]int, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			codes[i] = s.Token(t, id, secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first.RefreshToken}}).Status
		}(i)
	}
	wg.Wait()
	ok := 0
	for _, c := range codes {
		if c == 200 {
			ok++
		} else if c != 400 {
			t.Fatalf("unexpected status %d", c)
		}
	}
	if ok != 1 {
		t.Fatalf("%d of %d concurrent refreshes succeeded, want exactly 1 (%v)", ok, n, codes)
	}
}

// TestRotatedClientSecretNotServedFromCache: the verified-secret cache is
// keyed to the stored hash, so a secret change takes effect at once.
func TestRotatedClientSecretNotServedFromCache(t *testing.T) {
	s := servertest.New(t, servertest.Options{})
	id, secret := s.CreateClient(t, servertest.Client{GrantTypes: []string{"client_credentials"}})
	form := func() url.Values { return url.Values{"grant_type": {"client_credentials"}} }
	if r := s.Token(t, id, secret, form()); r.Status != 200 {
		t.Fatalf("%+v", r)
	}
	newSecret := "a-brand-new-secret-value"
	h, err := s.Passwords.Hash(context.Background(), newSecret)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Store.UpdateClient(context.Background(), id, func(c *storage.Client) error { c.SecretHash = h; return nil }); err != nil {
		t.Fatal(err)
	}
	if r := s.Token(t, id, secret, form()); r.Status != 401 || r.Error != "invalid_client" {
		t.Fatalf("old secret after rotation: %+v", r)
	}
	if r := s.Token(t, id, newSecret, form()); r.Status != 200 {
		t.Fatalf("new secret: %+v", r)
	}
}
