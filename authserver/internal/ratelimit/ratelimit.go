package ratelimit

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Limiter counts failures per key.
type Limiter interface {
	// Blocked reports how long key must wait, 0 when it may try now.
	Blocked(ctx context.Context, key string, limit int) (time.Duration, error)
	// Fail records one failure of key.
	Fail(ctx context.Context, key string) error
	// Reset forgets key's failures (after a success).
	Reset(ctx context.Context, key string) error
}

// Memory is an in-process Limiter with fixed windows.
type Memory struct {
	window time.Duration
	now    func() time.Time

	mu      sync.Mutex
	entries map[string]*entry
	sweepAt time.Time
}

type entry struct {
	count int
	until time.Time // end of the window opened by the first failure
}

var _ Limiter = (*Memory)(nil)

// NewMemory returns a Memory limiter with the given window.
func NewMemory(window time.Duration, now func() time.Time) *Memory {
	if now == nil {
		now = time.Now
	}
	return &Memory{window: window, now: now, entries: map[string]*entry{}}
}

// Blocked implements Limiter.
func (m *Memory) Blocked(_ context.Context, key string, limit int) (time.Duration, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	e, ok := m.entries[key]
	if !ok || !now.Before(e.until) || e.count < limit {
		return 0, nil
	}
	return e.until.Sub(now), nil
}

// Fail implements Limiter.
func (m *Memory) Fail(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	m.sweep(now)
	e, ok := m.entries[key]
	if !ok || !now.Before(e.until) {
		m.entries[key] = &entry{count: 1, until: now.Add(m.window)}
		return nil
	}
	e.count++
	return nil
}

// Reset implements Limiter.
func (m *Memory) Reset(_ context.Context, key string) error {
	m.mu.Lock()
	delete(m.entries, key)
	m.mu.Unlock()
	return nil
}

// sweep drops closed windows once per window so a flood of distinct keys
// cannot grow the map without bound.
func (m *Memory) sweep(now time.Time) {
	if now.Before(m.sweepAt) {
		return
	}
	for k, e := range m.entries {
		if !now.Before(e.until) {
			delete(m.entries, k)
		}
	}
	m.sweepAt = now.Add(m.window)
}

// Redis is a Limiter shared by replicas: INCR on a key that expires with
// its window.
type Redis struct {
	c      redis.Cmdable
	prefix string
	window time.Duration
}

var _ Limiter = (*Redis)(nil)

// NewRedis returns a Redis limiter.
func NewRedis(c redis.Cmdable, prefix string, window time.Duration) *Redis {
	return &Redis{c: c, prefix: prefix, window: window}
}

// Blocked implements Limiter.
func (r *Redis) Blocked(ctx context.Context, key string, limit int) (time.Duration, error) {
	k := r.prefix + key
	p := r.c.Pipeline()
	get := p.Get(ctx, k)
	ttl := p.PTTL(ctx, k)
	if _, err := p.Exec(ctx); err != nil && err != redis.Nil { //nolint:errorlint // redis.Nil is a sentinel value compared as documented
		return 0, fmt.Errorf("redis: read login failures: %w", err)
	}
	n, err := get.Int()
	if err != nil || n < limit {
		return 0, nil //nolint:nilerr // a missing or unreadable counter means no failures recorded
	}
	d := ttl.Val()
	if d <= 0 {
		return 0, nil
	}
	return d, nil
}

// Fail implements Limiter.
func (r *Redis) Fail(ctx context.Context, key string) error {
	k := r.prefix + key
	p := r.c.TxPipeline()
	p.Incr(ctx, k)
	p.ExpireNX(ctx, k, r.window)
	if _, err := p.Exec(ctx); err != nil {
		return fmt.Errorf("redis: record login failure: %w", err)
	}
	return nil
}

// Reset implements Limiter.
func (r *Redis) Reset(ctx context.Context, key string) error {
	if err := r.c.Del(ctx, r.prefix+key).Err(); err != nil {
		return fmt.Errorf("redis: reset login failures: %w", err)
	}
	return nil
}
