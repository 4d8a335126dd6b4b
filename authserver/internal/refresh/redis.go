package refresh

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/portcullis/portcullis/authserver/internal/storage"
)

// Client is the part of go-redis the Redis store uses, so that a
// *redis.Client, a ring or a cluster client all fit.
type Client interface {
	redis.Cmdable
}

// Redis keeps refresh tokens in Redis, each under a key that expires with
// the token, so nothing needs sweeping. Layout under the prefix:
//
//	rt:<hash>        the token record (JSON), TTL = its lifetime
//	rtused:<id>      spent marker, value = unix nanos; SET NX makes the
//	                 first rotation the only winner
//	rtfam:<family>   revoked-family marker, value = unix nanos
//	rtuser:<user>    set of "family client" entries, for RevokeUser
type Redis struct {
	c      Client
	prefix string
	maxTTL time.Duration
}

var _ Store = (*Redis)(nil)

// NewRedis returns a Store on c. maxTTL (the refresh lifetime) bounds how
// long the family and user markers live.
func NewRedis(c Client, prefix string, maxTTL time.Duration) *Redis {
	return &Redis{c: c, prefix: prefix, maxTTL: maxTTL}
}

type redisRecord struct {
	ID        string    `json:"id"`
	FamilyID  string    `json:"fam"`
	ParentID  string    `json:"par,omitempty"`
	UserID    string    `json:"uid,omitempty"`
	ClientID  string    `json:"cid"`
	Scope     string    `json:"scp,omitempty"`
	Account   string    `json:"acc,omitempty"`
	AuthTime  time.Time `json:"at"`
	IssuedAt  time.Time `json:"iat"`
	ExpiresAt time.Time `json:"exp"`
}

func (r *Redis) key(parts ...string) string {
	k := r.prefix
	for _, p := range parts {
		k += p
	}
	return k
}

// Create implements Store.
func (r *Redis) Create(ctx context.Context, t *storage.RefreshToken) error {
	_, err := r.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		return r.put(ctx, p, t)
	})
	if err != nil {
		return fmt.Errorf("redis: create refresh token: %w", err)
	}
	return nil
}

func (r *Redis) put(ctx context.Context, p redis.Pipeliner, t *storage.RefreshToken) error {
	b, err := json.Marshal(redisRecord{ID: t.ID, FamilyID: t.FamilyID, ParentID: t.ParentID, UserID: t.UserID,
		ClientID: t.ClientID, Scope: t.Scope, Account: t.Account, AuthTime: t.AuthTime, IssuedAt: t.IssuedAt, ExpiresAt: t.ExpiresAt})
	if err != nil {
		return fmt.Errorf("encode refresh token: %w", err)
	}
	ttl := time.Until(t.ExpiresAt)
	if d := t.ExpiresAt.Sub(t.IssuedAt); d > 0 && d < ttl {
		ttl = d // an injected clock may be far from wall time; trust the lifetime
	}
	if ttl <= 0 {
		ttl = time.Second
	}
	p.Set(ctx, r.key("rt:", t.TokenHash), b, ttl)
	if t.UserID != "" {
		uk := r.key("rtuser:", t.UserID)
		p.SAdd(ctx, uk, t.FamilyID+" "+t.ClientID)
		p.Expire(ctx, uk, r.maxTTL)
	}
	return nil
}

// GetByHash implements Store.
func (r *Redis) GetByHash(ctx context.Context, hash string) (*storage.RefreshToken, error) {
	b, err := r.c.Get(ctx, r.key("rt:", hash)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("refresh token: %w", storage.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("redis: get refresh token: %w", err)
	}
	var rec redisRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return nil, fmt.Errorf("decode refresh token: %w", err)
	}
	t := &storage.RefreshToken{ID: rec.ID, TokenHash: hash, FamilyID: rec.FamilyID, ParentID: rec.ParentID,
		UserID: rec.UserID, ClientID: rec.ClientID, Scope: rec.Scope, Account: rec.Account, AuthTime: rec.AuthTime,
		IssuedAt: rec.IssuedAt, ExpiresAt: rec.ExpiresAt}
	vals, err := r.c.MGet(ctx, r.key("rtused:", rec.ID), r.key("rtfam:", rec.FamilyID)).Result()
	if err != nil {
		return nil, fmt.Errorf("redis: get refresh token state: %w", err)
	}
	t.UsedAt, t.RevokedAt = nanosTime(vals[0]), nanosTime(vals[1])
	return t, nil
}

func nanosTime(v any) *time.Time {
	s, ok := v.(string)
	if !ok {
		return nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return nil
	}
	t := time.Unix(0, n).UTC()
	return &t
}

// Rotate implements Store. SET NX on the spent marker decides the winner;
// the loser reads the marker's time to apply the grace window.
func (r *Redis) Rotate(ctx context.Context, parent, child *storage.RefreshToken, now time.Time, grace time.Duration) error {
	usedKey := r.key("rtused:", parent.ID)
	ok, err := r.c.SetNX(ctx, usedKey, strconv.FormatInt(now.UnixNano(), 10), r.maxTTL).Result()
	if err != nil {
		return fmt.Errorf("redis: mark refresh token used: %w", err)
	}
	if !ok {
		v, err := r.c.Get(ctx, usedKey).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return fmt.Errorf("redis: read refresh token use: %w", err)
		}
		if !withinGrace(nanosTime(v), now, grace) {
			return ErrReused
		}
	}
	return r.Create(ctx, child)
}

// RevokeFamily implements Store.
func (r *Redis) RevokeFamily(ctx context.Context, familyID string, at time.Time) error {
	// SET NX keeps the first revocation time, as the SQL store does.
	if err := r.c.SetNX(ctx, r.key("rtfam:", familyID), strconv.FormatInt(at.UnixNano(), 10), r.maxTTL).Err(); err != nil {
		return fmt.Errorf("redis: revoke refresh family: %w", err)
	}
	return nil
}

// RevokeUser implements Store.
func (r *Redis) RevokeUser(ctx context.Context, userID, clientID string, at time.Time) error {
	members, err := r.c.SMembers(ctx, r.key("rtuser:", userID)).Result()
	if err != nil {
		return fmt.Errorf("redis: list refresh families of user: %w", err)
	}
	for _, m := range members {
		fam, cid, _ := cutSpace(m)
		if clientID != "" && cid != clientID {
			continue
		}
		if err := r.RevokeFamily(ctx, fam, at); err != nil {
			return err
		}
	}
	return nil
}

func cutSpace(s string) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}
