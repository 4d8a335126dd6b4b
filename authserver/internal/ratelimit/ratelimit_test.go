package ratelimit_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/portcullis/portcullis/authserver/internal/ratelimit"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestMemory(t *testing.T) {
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	l := ratelimit.NewMemory(time.Minute, c.now)
	runSuite(t, l, func(d time.Duration) { c.t = c.t.Add(d) })
}

func TestMiniredis(t *testing.T) {
	mr := miniredis.RunT(t)
	rc := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { _ = rc.Close() })
	runSuite(t, ratelimit.NewRedis(rc, "t:", time.Minute), mr.FastForward)
}

func TestRedis(t *testing.T) {
	addr := os.Getenv("PORTCULLIS_TEST_REDIS_ADDR")
	if addr == "" {
		t.Skip("PORTCULLIS_TEST_REDIS_ADDR not set")
	}
	rc := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { _ = rc.Close() })
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	// A one-second window so the real server's expiry can be observed.
	l := ratelimit.NewRedis(rc, "pc_test_"+hex.EncodeToString(b)+":", time.Second)
	ctx := context.Background()
	for i := 0; i < 2; i++ {
		if err := l.Fail(ctx, "k"); err != nil {
			t.Fatal(err)
		}
	}
	if d, err := l.Blocked(ctx, "k", 2); err != nil || d <= 0 || d > time.Second {
		t.Fatalf("blocked %v %v", d, err)
	}
	if err := l.Reset(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if d, _ := l.Blocked(ctx, "k", 2); d != 0 {
		t.Fatalf("after reset: %v", d)
	}
}

func runSuite(t *testing.T, l ratelimit.Limiter, forward func(time.Duration)) {
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		if d, err := l.Blocked(ctx, "user:a", 3); err != nil || d != 0 {
			t.Fatalf("attempt %d blocked early: %v %v", i, d, err)
		}
		if err := l.Fail(ctx, "user:a"); err != nil {
			t.Fatal(err)
		}
	}
	d, err := l.Blocked(ctx, "user:a", 3)
	if err != nil || d <= 0 || d > time.Minute {
		t.Fatalf("over limit: %v %v", d, err)
	}
	if d, _ := l.Blocked(ctx, "user:b", 3); d != 0 {
		t.Fatal("keys are not independent")
	}
	forward(30 * time.Second)
	if d, _ := l.Blocked(ctx, "user:a", 3); d <= 0 || d > 30*time.Second {
		t.Fatalf("retry-after does not shrink: %v", d)
	}
	forward(31 * time.Second)
	if d, _ := l.Blocked(ctx, "user:a", 3); d != 0 {
		t.Fatalf("window did not end: %v", d)
	}
	_ = l.Fail(ctx, "user:c")
	_ = l.Fail(ctx, "user:c")
	if err := l.Reset(ctx, "user:c"); err != nil {
		t.Fatal(err)
	}
	if d, _ := l.Blocked(ctx, "user:c", 1); d != 0 {
		t.Fatal("reset did not clear")
	}
}
