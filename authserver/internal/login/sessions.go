package login

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Session is a signed-in browser.
type Session struct {
	UserID    string    `json:"user_id"`
	AuthTime  time.Time `json:"auth_time"` // when the password was checked (OIDC auth_time)
	ExpiresAt time.Time `json:"expires_at"`
}

// ErrNoSession means the cookie names no live session.
var ErrNoSession = errors.New("no login session")

// Sessions keeps login sessions by an opaque id (stored as its SHA-256).
type Sessions interface {
	// Create stores s and returns the id to put in the cookie.
	Create(ctx context.Context, s *Session) (string, error)
	// Get returns the live session with this id at now, or ErrNoSession.
	Get(ctx context.Context, id string, now time.Time) (*Session, error)
	// Delete ends a session; an unknown id is not an error.
	Delete(ctx context.Context, id string) error
}

func newID() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("session id: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func hashID(id string) string {
	s := sha256.Sum256([]byte(id))
	return hex.EncodeToString(s[:])
}

// MemorySessions keeps sessions in process (one replica).
type MemorySessions struct {
	now func() time.Time

	mu      sync.Mutex
	m       map[string]Session
	sweepAt time.Time
}

var _ Sessions = (*MemorySessions)(nil)

// NewMemorySessions returns an empty in-process session store.
func NewMemorySessions(now func() time.Time) *MemorySessions {
	if now == nil {
		now = time.Now
	}
	return &MemorySessions{now: now, m: map[string]Session{}}
}

// Create implements Sessions.
func (s *MemorySessions) Create(_ context.Context, sess *Session) (string, error) {
	id, err := newID()
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if now := s.now(); !now.Before(s.sweepAt) {
		for k, v := range s.m {
			if !now.Before(v.ExpiresAt) {
				delete(s.m, k)
			}
		}
		s.sweepAt = now.Add(time.Minute)
	}
	s.m[hashID(id)] = *sess
	return id, nil
}

// Get implements Sessions.
func (s *MemorySessions) Get(_ context.Context, id string, now time.Time) (*Session, error) {
	s.mu.Lock()
	v, ok := s.m[hashID(id)]
	s.mu.Unlock()
	if !ok || !now.Before(v.ExpiresAt) {
		return nil, ErrNoSession
	}
	return &v, nil
}

// Delete implements Sessions.
func (s *MemorySessions) Delete(_ context.Context, id string) error {
	s.mu.Lock()
	delete(s.m, hashID(id))
	s.mu.Unlock()
	return nil
}

// RedisSessions keeps sessions in Redis, shared by replicas; each key
// expires with its session.
type RedisSessions struct {
	c      redis.Cmdable
	prefix string
	now    func() time.Time
}

var _ Sessions = (*RedisSessions)(nil)

// NewRedisSessions returns a Redis session store writing under prefix.
func NewRedisSessions(c redis.Cmdable, prefix string, now func() time.Time) *RedisSessions {
	if now == nil {
		now = time.Now
	}
	return &RedisSessions{c: c, prefix: prefix, now: now}
}

// Create implements Sessions.
func (r *RedisSessions) Create(ctx context.Context, sess *Session) (string, error) {
	id, err := newID()
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(sess)
	if err != nil {
		return "", fmt.Errorf("encode session: %w", err)
	}
	ttl := sess.ExpiresAt.Sub(r.now())
	if ttl < time.Second {
		ttl = time.Second
	}
	if err := r.c.Set(ctx, r.prefix+"session:"+hashID(id), b, ttl).Err(); err != nil {
		return "", fmt.Errorf("redis: store session: %w", err)
	}
	return id, nil
}

// Get implements Sessions.
func (r *RedisSessions) Get(ctx context.Context, id string, now time.Time) (*Session, error) {
	b, err := r.c.Get(ctx, r.prefix+"session:"+hashID(id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, ErrNoSession
	}
	if err != nil {
		return nil, fmt.Errorf("redis: load session: %w", err)
	}
	var s Session
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("decode session: %w", err)
	}
	if !now.Before(s.ExpiresAt) {
		return nil, ErrNoSession
	}
	return &s, nil
}

// Delete implements Sessions.
func (r *RedisSessions) Delete(ctx context.Context, id string) error {
	if err := r.c.Del(ctx, r.prefix+"session:"+hashID(id)).Err(); err != nil {
		return fmt.Errorf("redis: delete session: %w", err)
	}
	return nil
}
