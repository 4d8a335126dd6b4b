package revocation_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/portcullis/portcullis/authserver/internal/revocation"
	sqlstore "github.com/portcullis/portcullis/authserver/internal/storage/sql"
)

var t0 = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

type clock struct{ ns atomic.Int64 }

func newClock(t time.Time) *clock {
	c := &clock{}
	c.ns.Store(t.UnixNano())
	return c
}
func (c *clock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// newStore opens a migrated SQLite store in a temp dir, on clock c.
func newStore(t *testing.T, c *clock) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.Open(t.Context(), "sqlite:"+filepath.Join(t.TempDir(), "test.db"), testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if _, err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	s.Now = c.Now
	return s
}

func newMiniredis(t *testing.T) (*miniredis.Miniredis, *redis.Client) {
	t.Helper()
	mr := miniredis.RunT(t)
	rc := redis.NewClient(&redis.Options{Addr: mr.Addr(), MaxRetries: -1, DialTimeout: time.Second})
	t.Cleanup(func() { _ = rc.Close() })
	return mr, rc
}

// realRedis returns a client for PORTCULLIS_TEST_REDIS_ADDR and a key prefix
// unique to this test, or skips.
func realRedis(t *testing.T) (*redis.Client, string) {
	t.Helper()
	addr := os.Getenv("PORTCULLIS_TEST_REDIS_ADDR")
	if addr == "" {
		t.Skip("PORTCULLIS_TEST_REDIS_ADDR not set")
	}
	rc := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { _ = rc.Close() })
	if err := rc.Ping(t.Context()).Err(); err != nil {
		t.Fatalf("redis at %s: %v", addr, err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	prefix := "pctest:" + hex.EncodeToString(b[:]) + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		keys, _ := rc.Keys(ctx, prefix+"*").Result()
		if len(keys) > 0 {
			_ = rc.Del(ctx, keys...).Err()
		}
	})
	return rc, prefix
}

func newEmitter(t *testing.T, st revocation.EventStore, rc revocation.Redis, prefix string, c *clock) *revocation.Emitter {
	t.Helper()
	e, err := revocation.New(revocation.Config{MaxAccessTTL: 5 * time.Minute, Leeway: 30 * time.Second, Prefix: prefix},
		revocation.Deps{Store: st, Redis: rc, Logger: testLogger(t), Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	return e
}
