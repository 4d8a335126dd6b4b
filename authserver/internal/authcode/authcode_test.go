package authcode_test

import (
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/portcullis/portcullis/authserver/internal/authcode"
)

func TestPKCE(t *testing.T) {
	// RFC 7636 appendix B.
	const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	const challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
	if got := authcode.S256(verifier); got != challenge {
		t.Fatalf("S256 = %s", got)
	}
	if !authcode.VerifyS256(challenge, verifier) || authcode.VerifyS256(challenge, verifier+"x") {
		t.Fatal("VerifyS256 wrong")
	}
	if !authcode.ValidVerifier(verifier) || authcode.ValidVerifier("short") || authcode.ValidVerifier(verifier+"!") {
		t.Fatal("ValidVerifier wrong")
	}
	if !authcode.ValidChallenge(challenge) || authcode.ValidChallenge(challenge[:42]) || authcode.ValidChallenge(verifier[:42]+"=") {
		t.Fatal("ValidChallenge wrong")
	}
}

func runStore(t *testing.T, s authcode.Store, now time.Time) {
	t.Helper()
	ctx := t.Context()
	code, err := authcode.New()
	if err != nil {
		t.Fatal(err)
	}
	c := &authcode.Code{ClientID: "web", RedirectURI: "https://app.example/cb", UserID: "u_1", Scope: "openid",
		AuthTime: now, ExpiresAt: now.Add(authcode.MaxTTL)}
	if err := s.Create(ctx, code, c); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Redeem(ctx, "nope", now); !errors.Is(err, authcode.ErrNotFound) {
		t.Fatalf("unknown code: %v", err)
	}
	got, err := s.Redeem(ctx, code, now.Add(time.Second))
	if err != nil || got.ClientID != "web" || got.RedirectURI != c.RedirectURI || got.UserID != "u_1" {
		t.Fatalf("first redeem: %+v %v", got, err)
	}
	exp := now.Add(5 * time.Minute).Truncate(time.Second)
	if err := s.Issued(ctx, code, "fam1", "jti1", exp); err != nil {
		t.Fatal(err)
	}
	got, err = s.Redeem(ctx, code, now.Add(2*time.Second))
	if !errors.Is(err, authcode.ErrReused) || got == nil || got.FamilyID != "fam1" || got.AccessJTI != "jti1" || !got.AccessExpiresAt.Equal(exp) {
		t.Fatalf("second redeem: %+v %v", got, err)
	}
	// Reuse is still recognised after the code's own expiry.
	if _, err := s.Redeem(ctx, code, now.Add(2*time.Minute)); !errors.Is(err, authcode.ErrReused) {
		t.Fatalf("late reuse: %v", err)
	}

	// Racing redemptions: exactly one wins.
	racy, _ := authcode.New()
	if err := s.Create(ctx, racy, c); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for range 16 {
		wg.Go(func() {
			if _, err := s.Redeem(ctx, racy, now); err == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d concurrent redemptions won", wins)
	}

	expired, _ := authcode.New()
	if err := s.Create(ctx, expired, c); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Redeem(ctx, expired, now.Add(authcode.MaxTTL)); !errors.Is(err, authcode.ErrNotFound) {
		t.Fatalf("expired code: %v", err)
	}
}

func TestMemory(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	runStore(t, authcode.NewMemory(func() time.Time { return now }), now)
}

func TestRedisMini(t *testing.T) {
	mr := miniredis.RunT(t)
	rc := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { _ = rc.Close() })
	now := time.Now()
	runStore(t, authcode.NewRedis(rc, "test:", func() time.Time { return now }), now)
}

func TestRedisReal(t *testing.T) {
	addr := os.Getenv("PORTCULLIS_TEST_REDIS_ADDR")
	if addr == "" {
		t.Skip("PORTCULLIS_TEST_REDIS_ADDR not set")
	}
	rc := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { _ = rc.Close() })
	now := time.Now()
	prefix := "portcullis-test:authcode:" + now.Format("150405.000000000") + ":"
	runStore(t, authcode.NewRedis(rc, prefix, func() time.Time { return now }), now)
}
