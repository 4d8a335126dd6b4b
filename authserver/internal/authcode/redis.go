package authcode

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is a Store shared by every replica. A code is a JSON value under
// PREFIX code:HASH; redemption is claimed with SET NX on PREFIX
// code:HASH:spent, so exactly one redemption wins across replicas.
type Redis struct {
	c      redis.Cmdable
	prefix string
	now    func() time.Time
}

var _ Store = (*Redis)(nil)

// NewRedis returns a Redis store writing keys under prefix.
func NewRedis(c redis.Cmdable, prefix string, now func() time.Time) *Redis {
	if now == nil {
		now = time.Now
	}
	return &Redis{c: c, prefix: prefix, now: now}
}

func (r *Redis) key(code string) string { return r.prefix + "code:" + Hash(code) }

// keep is how long Redis holds a code: its life plus RememberSpent.
func (r *Redis) keep(c *Code) time.Duration {
	d := c.ExpiresAt.Sub(r.now()) + RememberSpent
	if d < time.Second {
		d = time.Second
	}
	return d
}

// Create implements Store.
func (r *Redis) Create(ctx context.Context, code string, c *Code) error {
	b, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("encode authorization code: %w", err)
	}
	if err := r.c.Set(ctx, r.key(code), b, r.keep(c)).Err(); err != nil {
		return fmt.Errorf("redis: store authorization code: %w", err)
	}
	return nil
}

func (r *Redis) load(ctx context.Context, code string) (*Code, error) {
	b, err := r.c.Get(ctx, r.key(code)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("redis: load authorization code: %w", err)
	}
	var c Code
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("decode authorization code: %w", err)
	}
	return &c, nil
}

// Redeem implements Store.
func (r *Redis) Redeem(ctx context.Context, code string, now time.Time) (*Code, error) {
	c, err := r.load(ctx, code)
	if err != nil {
		return nil, err
	}
	spent := r.key(code) + ":spent"
	if !now.Before(c.ExpiresAt) {
		n, err := r.c.Exists(ctx, spent).Result()
		if err != nil {
			return nil, fmt.Errorf("redis: check authorization code: %w", err)
		}
		if n > 0 {
			return c, ErrReused
		}
		return nil, ErrNotFound
	}
	won, err := r.c.SetNX(ctx, spent, 1, r.keep(c)).Result()
	if err != nil {
		return nil, fmt.Errorf("redis: claim authorization code: %w", err)
	}
	if !won {
		// Re-read: the winner may have recorded its tokens meanwhile.
		if again, err := r.load(ctx, code); err == nil {
			c = again
		}
		return c, ErrReused
	}
	return c, nil
}

// Issued implements Store.
func (r *Redis) Issued(ctx context.Context, code, familyID, jti string, exp time.Time) error {
	c, err := r.load(ctx, code)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	c.FamilyID, c.AccessJTI, c.AccessExpiresAt = familyID, jti, exp
	b, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("encode authorization code: %w", err)
	}
	if err := r.c.SetArgs(ctx, r.key(code), b, redis.SetArgs{KeepTTL: true}).Err(); err != nil {
		return fmt.Errorf("redis: record tokens of authorization code: %w", err)
	}
	return nil
}
