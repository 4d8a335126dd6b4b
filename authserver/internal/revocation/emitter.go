package revocation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/portcullis/portcullis/authserver/internal/storage"
	"github.com/portcullis/portcullis/shared/revocation"
)

// EventStore is the part of storage.Store the emitter and the feed use. A
// transaction's Store satisfies it too, so an event can be recorded in the
// same transaction as the change that caused it.
type EventStore interface {
	AppendRevocationEvent(ctx context.Context, e *storage.RevocationEvent) error
	ListRevocationEvents(ctx context.Context, afterSeq int64, now time.Time, limit int) ([]storage.RevocationEvent, error)
	DeleteExpiredRevocationEvents(ctx context.Context, before time.Time) (int, error)
}

// Redis is the part of go-redis the emitter uses.
type Redis interface {
	redis.Scripter
	Exists(ctx context.Context, keys ...string) *redis.IntCmd
	Set(ctx context.Context, key string, value any, expiration time.Duration) *redis.StatusCmd
}

var (
	_ EventStore = storage.Store(nil)
	_ Redis      = (*redis.Client)(nil)
)

// DefaultLeeway covers gateways configured with a leeway of up to a minute
// (their default is 30s).
const DefaultLeeway = time.Minute

// Config holds the emitter's settings.
type Config struct {
	// MaxAccessTTL is the longest lifetime of an access token the server
	// issues (tokens.access_ttl): a subject event is moot once every token
	// issued before its not_before has expired.
	MaxAccessTTL time.Duration
	// Leeway is how long past exp a verifier may still accept a token (the
	// gateway's issuers[].leeway, 30s by default). Every event lives this
	// much longer, so that no verifier accepts a revoked token in the gap.
	// Zero means DefaultLeeway; negative means none.
	Leeway time.Duration
	// Prefix namespaces the Redis keys and channel (revocation.DefaultPrefix
	// when empty).
	Prefix string
	// ReconcileEvery is the period of the repair loop (default 5s).
	ReconcileEvery time.Duration
	// PruneEvery is the period of deleting moot events from the store
	// (default 1m).
	PruneEvery time.Duration
}

// Deps are the emitter's collaborators. Redis is nil when the deployment has
// none: the feed is then the only way events reach gateways.
type Deps struct {
	Store   EventStore
	Redis   Redis
	Logger  *slog.Logger
	Now     func() time.Time
	Metrics *Metrics // optional
}

// Emitter records and publishes revocation events. It is safe for
// concurrent use.
type Emitter struct {
	cfg     Config
	store   EventStore
	redis   Redis
	log     *slog.Logger
	now     func() time.Time
	metrics *Metrics

	mu         sync.Mutex
	reconciled int64 // seq up to which Redis is known to hold every event
}

// New returns an emitter. MaxAccessTTL must be positive.
func New(cfg Config, d Deps) (*Emitter, error) {
	if cfg.MaxAccessTTL <= 0 {
		return nil, errors.New("revocation emitter: MaxAccessTTL must be positive")
	}
	if d.Store == nil {
		return nil, errors.New("revocation emitter: a store is required")
	}
	switch {
	case cfg.Leeway == 0:
		cfg.Leeway = DefaultLeeway
	case cfg.Leeway < 0:
		cfg.Leeway = 0
	}
	if cfg.Prefix == "" {
		cfg.Prefix = revocation.DefaultPrefix
	}
	if cfg.ReconcileEvery <= 0 {
		cfg.ReconcileEvery = 5 * time.Second
	}
	if cfg.PruneEvery <= 0 {
		cfg.PruneEvery = time.Minute
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	return &Emitter{cfg: cfg, store: d.Store, redis: d.Redis, log: d.Logger, now: d.Now, metrics: d.Metrics}, nil
}

// Retention is how long a subject event is kept: the longest access-token
// lifetime plus the leeway.
func (e *Emitter) Retention() time.Duration { return e.cfg.MaxAccessTTL + e.cfg.Leeway }

// RevokeToken emits a jti event for an access token that expires at exp. A
// token already past exp plus the leeway needs no event.
func (e *Emitter) RevokeToken(ctx context.Context, jti string, exp time.Time) error {
	return e.EmitIn(ctx, e.store, revocation.Event{Kind: revocation.KindJTI, JTI: jti, Expires: exp.Add(e.cfg.Leeway)})
}

// RevokeSubject emits a subject event refusing every token of sub (of
// clientID only, when not empty) issued before now.
func (e *Emitter) RevokeSubject(ctx context.Context, sub, clientID string) error {
	return e.RevokeSubjectIn(ctx, e.store, sub, clientID)
}

// RevokeSubjectIn is RevokeSubject recording the event in st, which may be
// a transaction: the event then commits or rolls back with the change that
// caused it.
func (e *Emitter) RevokeSubjectIn(ctx context.Context, st EventStore, sub, clientID string) error {
	return e.EmitIn(ctx, st, revocation.Event{Kind: revocation.KindSubject, Subject: sub, ClientID: clientID})
}

// EmitIn records ev in st and publishes it to Redis. It fills EmittedAt;
// for a subject event without NotBefore it sets NotBefore to now, rounded
// up to the millisecond (the wire precision) so that a token issued in the
// same millisecond before the event is not spared; Expires defaults to
// NotBefore plus Retention. A publish failure is logged and left to the
// repair loop: the event is durable in the store, which is what counts.
func (e *Emitter) EmitIn(ctx context.Context, st EventStore, ev revocation.Event) error {
	now := e.now()
	ev.EmittedAt = now
	if ev.Kind == revocation.KindSubject {
		if ev.NotBefore.IsZero() {
			ev.NotBefore = ceilMilli(now)
		}
		if ev.Expires.IsZero() {
			ev.Expires = ev.NotBefore.Add(e.Retention())
		}
	}
	if err := ev.Validate(); err != nil {
		return fmt.Errorf("emit revocation event: %w", err)
	}
	if !ev.Expires.After(now) {
		return nil // moot already: nothing could be refused by it
	}
	rec := toStorage(&ev)
	if err := st.AppendRevocationEvent(ctx, rec); err != nil {
		return fmt.Errorf("emit revocation event: %w", err)
	}
	ev.Seq = rec.Seq
	e.metrics.emitted(ev.Kind)
	e.log.InfoContext(ctx, "revocation event emitted", "seq", ev.Seq, "kind", ev.Kind,
		"sub", ev.Subject, "client_id", ev.ClientID, "expires", ev.Expires)
	if e.redis != nil {
		if _, err := e.publish(ctx, &ev); err != nil {
			e.metrics.publishFailed()
			e.log.WarnContext(ctx, "revocation event not published to Redis; the repair loop will retry",
				"seq", ev.Seq, "err", err)
		}
	}
	return nil
}

func ceilMilli(t time.Time) time.Time {
	if r := t.Truncate(time.Millisecond); !r.Equal(t) {
		return r.Add(time.Millisecond)
	}
	return t
}

// publishScript writes the live key unless it already holds an event with
// a seq at least as high (so a repair pass can never replace a newer rule
// for the same subject with an older one), and publishes the event when it
// wrote it. It returns 1 when it wrote, 0 otherwise.
//
// KEYS[1] the event's key; ARGV: event JSON, seq, TTL in ms, channel.
var publishScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if cur then
  local ok, old = pcall(cjson.decode, cur)
  if ok and type(old) == 'table' and tonumber(old['seq'] or 0) >= tonumber(ARGV[2]) then
    return 0
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
redis.call('PUBLISH', ARGV[4], ARGV[1])
return 1
`)

func (e *Emitter) publish(ctx context.Context, ev *revocation.Event) (bool, error) {
	body, err := json.Marshal(ev)
	if err != nil {
		return false, fmt.Errorf("encode revocation event: %w", err)
	}
	ttl := revocation.TTL(ev, e.now())
	n, err := publishScript.Run(ctx, e.redis, []string{revocation.Key(e.cfg.Prefix, ev)},
		string(body), strconv.FormatInt(ev.Seq, 10), strconv.FormatInt(ttl.Milliseconds()+1, 10),
		revocation.Channel(e.cfg.Prefix)).Int()
	if err != nil {
		return false, fmt.Errorf("publish revocation event %d: %w", ev.Seq, err)
	}
	return n == 1, nil
}

// markerKey exists (without expiry) while Redis holds every live event up
// to the seq stored in it. Its absence means Redis lost its data (restart
// without persistence, flush) or never had it: the repair loop then
// republishes every live event.
func (e *Emitter) markerKey() string { return e.cfg.Prefix + "revocations:reconciled" }

// Reconcile makes Redis hold every live event of the store: events recorded
// since the last pass (by this or another auth server process, or whose
// publish failed), or all of them when Redis has lost its data. Writing and
// publishing are idempotent, so several auth servers may reconcile at once.
// It returns the number of events it wrote.
func (e *Emitter) Reconcile(ctx context.Context) (int, error) {
	if e.redis == nil {
		return 0, nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	marker := e.markerKey()
	n, err := e.redis.Exists(ctx, marker).Result()
	if err != nil {
		return 0, fmt.Errorf("reconcile revocations: %w", err)
	}
	after := e.reconciled
	if n == 0 {
		after = 0
	}
	written := 0
	for {
		page, err := e.store.ListRevocationEvents(ctx, after, e.now(), 500)
		if err != nil {
			return written, fmt.Errorf("reconcile revocations: %w", err)
		}
		for i := range page {
			ev := fromStorage(&page[i])
			wrote, err := e.publish(ctx, &ev)
			if err != nil {
				return written, fmt.Errorf("reconcile revocations: %w", err)
			}
			if wrote {
				written++
			}
			after = ev.Seq
		}
		if len(page) < 500 {
			break
		}
	}
	if err := e.redis.Set(ctx, marker, strconv.FormatInt(after, 10), 0).Err(); err != nil {
		return written, fmt.Errorf("reconcile revocations: %w", err)
	}
	e.reconciled = after
	if written > 0 {
		e.metrics.repaired(written)
		e.log.InfoContext(ctx, "revocation events republished to Redis", "count", written, "full", n == 0)
	}
	return written, nil
}

// Prune deletes the events that are moot and returns how many it deleted.
func (e *Emitter) Prune(ctx context.Context) (int, error) {
	n, err := e.store.DeleteExpiredRevocationEvents(ctx, e.now())
	if err != nil {
		return 0, fmt.Errorf("prune revocation events: %w", err)
	}
	return n, nil
}

// Run prunes and reconciles periodically until ctx ends. Errors are logged
// and retried at the next tick.
func (e *Emitter) Run(ctx context.Context) {
	reconcile := time.NewTicker(e.cfg.ReconcileEvery)
	defer reconcile.Stop()
	prune := time.NewTicker(e.cfg.PruneEvery)
	defer prune.Stop()
	e.runReconcile(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-reconcile.C:
			e.runReconcile(ctx)
		case <-prune.C:
			if n, err := e.Prune(ctx); err != nil {
				e.log.WarnContext(ctx, "pruning revocation events failed", "err", err)
			} else if n > 0 {
				e.log.DebugContext(ctx, "moot revocation events pruned", "count", n)
			}
		}
	}
}

func (e *Emitter) runReconcile(ctx context.Context) {
	if _, err := e.Reconcile(ctx); err != nil && ctx.Err() == nil {
		e.metrics.publishFailed()
		e.log.WarnContext(ctx, "reconciling revocation events with Redis failed", "err", err)
	}
}

func toStorage(ev *revocation.Event) *storage.RevocationEvent {
	return &storage.RevocationEvent{
		Seq: ev.Seq, Kind: string(ev.Kind), JTI: ev.JTI, Subject: ev.Subject, ClientID: ev.ClientID,
		NotBefore: ev.NotBefore, ExpiresAt: ev.Expires, CreatedAt: ev.EmittedAt,
	}
}

func fromStorage(r *storage.RevocationEvent) revocation.Event {
	ev := revocation.Event{
		Seq: r.Seq, Kind: revocation.Kind(r.Kind), JTI: r.JTI, Subject: r.Subject, ClientID: r.ClientID,
		NotBefore: r.NotBefore, Expires: r.ExpiresAt, EmittedAt: r.CreatedAt,
	}
	if ev.Kind == revocation.KindJTI {
		ev.NotBefore = time.Time{}
	}
	return ev
}
