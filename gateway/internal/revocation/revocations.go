package revocation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/portcullis/portcullis/shared/revocation"
)

// Config is the gateway's `revocation:` section. Exactly one of Redis and
// Feed is set, or none (no revocation checks). The tuning fields are not
// in the file; their zero values mean the defaults.
type Config struct {
	Redis  string `yaml:"redis" env:"REDIS"`   // redis://host:port/db URL
	Prefix string `yaml:"prefix" env:"PREFIX"` // Redis key and channel prefix (revocation.DefaultPrefix)

	Feed         string        `yaml:"feed" env:"FEED"` // URL of the auth server's GET /oauth2/revocations
	ClientID     string        `yaml:"client_id" env:"CLIENT_ID"`
	ClientSecret string        `yaml:"client_secret" env:"CLIENT_SECRET"`
	Interval     time.Duration `yaml:"interval" env:"INTERVAL"` // feed poll period (2s)

	// FailClosed refuses every token while the source is out of sync (see
	// Revoked). Either way, tokens are refused until the first full sync.
	FailClosed bool `yaml:"fail_closed" env:"FAIL_CLOSED"`

	MinBackoff  time.Duration `yaml:"-" env:"-"` // first reconnect delay (100ms)
	MaxBackoff  time.Duration `yaml:"-" env:"-"` // reconnect delay cap (5s)
	PingEvery   time.Duration `yaml:"-" env:"-"` // Redis: ping an idle subscription this often (15s)
	ResyncEvery time.Duration `yaml:"-" env:"-"` // feed: re-read the whole live set this often (5m)
	SweepEvery  time.Duration `yaml:"-" env:"-"` // drop moot entries this often (10s)
}

// Enabled reports whether a source is configured.
func (c *Config) Enabled() bool { return c.Redis != "" || c.Feed != "" }

// Validate reports every problem at once. It does no I/O.
func (c *Config) Validate() error {
	var errs []error
	switch {
	case c.Redis != "" && c.Feed != "":
		errs = append(errs, errors.New("revocation: set redis or feed, not both"))
	case c.Redis != "":
		if _, err := redis.ParseURL(c.Redis); err != nil {
			errs = append(errs, fmt.Errorf("revocation.redis: %w", err))
		}
	case c.Feed != "":
		if u, err := url.Parse(c.Feed); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("revocation.feed: %q is not an http(s) URL", c.Feed))
		}
		if c.ClientID == "" {
			errs = append(errs, errors.New("revocation.client_id: required with feed"))
		}
		if c.ClientSecret == "" {
			errs = append(errs, errors.New("revocation.client_secret: required with feed (or PORTCULLIS_REVOCATION_CLIENT_SECRET)"))
		}
		if c.Interval < 0 {
			errs = append(errs, errors.New("revocation.interval: must not be negative"))
		}
	default:
		errs = append(errs, errors.New("revocation: set redis or feed"))
	}
	return errors.Join(errs...)
}

func (c *Config) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.Interval, 2*time.Second)
	def(&c.MinBackoff, 100*time.Millisecond)
	def(&c.MaxBackoff, 5*time.Second)
	def(&c.PingEvery, 15*time.Second)
	def(&c.ResyncEvery, 5*time.Minute)
	def(&c.SweepEvery, 10*time.Second)
	if c.Prefix == "" {
		c.Prefix = revocation.DefaultPrefix
	}
}

// Deps are the collaborators.
type Deps struct {
	Logger     *slog.Logger
	Now        func() time.Time
	HTTPClient *http.Client // feed requests (a 10s-timeout client when nil)
}

// Status is a snapshot of the sync state.
type Status struct {
	Source     string    // "redis" or "feed"
	Synced     bool      // following the source right now
	LastSync   time.Time // last moment the set was known complete
	LastError  string    // the last source error, empty after a success
	FailClosed bool
	Size       int
}

// Revocations is the gateway's revocation state: the set, the source that
// fills it and the policy for when the source is out of sync.
type Revocations struct {
	cfg     Config
	set     *revocation.Set
	log     *slog.Logger
	now     func() time.Time
	metrics atomic.Pointer[metrics] // nil until RegisterMetrics
	source  source

	// refuseAll is the one flag the request path reads besides the set:
	// true before the first sync, and while out of sync with FailClosed.
	refuseAll  atomic.Bool
	mu         sync.Mutex // guards the fields below (written by the source)
	synced     bool
	everSynced bool
	lastSync   time.Time
	lastErr    string
}

type source interface {
	name() string
	run(ctx context.Context)
}

// New validates cfg and builds the revocation state and its source. Nothing
// connects until Run.
func New(cfg Config, d Deps) (*Revocations, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.defaults()
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	r := &Revocations{cfg: cfg, set: revocation.NewSet(d.Now), log: d.Logger, now: d.Now}
	r.refuseAll.Store(true)
	if cfg.Redis != "" {
		opts, err := redis.ParseURL(cfg.Redis)
		if err != nil {
			return nil, fmt.Errorf("revocation.redis: %w", err)
		}
		r.source = newRedisSource(r, opts)
	} else {
		hc := d.HTTPClient
		if hc == nil {
			hc = &http.Client{Timeout: 10 * time.Second}
		}
		r.source = newFeedSource(r, hc)
	}
	return r, nil
}

// RegisterMetrics registers the Prometheus collectors on reg (the gateway's
// registry). Until it is called nothing is recorded.
func (r *Revocations) RegisterMetrics(reg prometheus.Registerer) error {
	m, err := newMetrics(reg, r.source.name(), r.set)
	if err != nil {
		return err
	}
	r.metrics.Store(m)
	// The source may have synced before registration: start from its state.
	r.mu.Lock()
	synced, at := r.synced, r.lastSync
	r.mu.Unlock()
	m.synced(synced, at)
	return nil
}

// Run follows the source and sweeps moot entries until ctx ends.
func (r *Revocations) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() { r.source.run(ctx) })
	t := time.NewTicker(r.cfg.SweepEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			wg.Wait()
			return
		case <-t.C:
			r.set.Sweep()
		}
	}
}

// Revoked is the request path's check (the gateway's Revoker seam): a map
// lookup, allocation-free. It also says "revoked" for every token while the
// gateway cannot vouch for its set: before the first full sync (an empty
// set would accept every revoked token), and, with FailClosed, whenever
// the source is out of sync.
func (r *Revocations) Revoked(jti, sub, clientID string, issuedAt time.Time) bool {
	return r.refuseAll.Load() || r.set.Revoked(jti, sub, clientID, issuedAt)
}

// Ready is nil when the gateway may take traffic as far as revocation goes:
// after the first full sync, and, with FailClosed, while in sync (out of
// sync it would refuse every token, so it should leave the load balancer).
func (r *Revocations) Ready() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case !r.everSynced:
		return fmt.Errorf("revocations: not yet loaded from %s", r.source.name())
	case !r.synced && r.cfg.FailClosed:
		return fmt.Errorf("revocations: out of sync with %s (fail_closed)", r.source.name())
	}
	return nil
}

// Status returns the current sync state.
func (r *Revocations) Status() Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	return Status{Source: r.source.name(), Synced: r.synced, LastSync: r.lastSync, LastError: r.lastErr,
		FailClosed: r.cfg.FailClosed, Size: r.set.Len()}
}

// Set exposes the set (for gateway explain and tests).
func (r *Revocations) Set() *revocation.Set { return r.set }

// apply adds events to the set. live events were received as they
// happened (pub/sub, an incremental poll); their emit-to-apply lag is
// recorded. Catch-up loads are not: their lag is the age of the event.
func (r *Revocations) apply(events []revocation.Event, live bool) {
	if len(events) == 0 {
		return
	}
	n, err := r.set.Apply(events...)
	if err != nil {
		r.log.Warn("revocation events skipped", "err", err)
	}
	if n == 0 {
		return
	}
	now := r.now()
	for i := range events {
		if events[i].Validate() != nil {
			continue
		}
		r.metrics.Load().applied(events[i].Kind)
		if live && !events[i].EmittedAt.IsZero() {
			r.metrics.Load().lag(now.Sub(events[i].EmittedAt))
		}
	}
}

// markSynced records that the set is complete as of now.
func (r *Revocations) markSynced() {
	now := r.now()
	r.mu.Lock()
	first := !r.everSynced
	back := !r.synced
	r.synced, r.everSynced, r.lastSync, r.lastErr = true, true, now, ""
	r.refuseAll.Store(false)
	r.mu.Unlock()
	r.metrics.Load().synced(true, now)
	if back {
		r.log.Info("revocations in sync", "source", r.source.name(), "first", first, "entries", r.set.Len())
	}
}

// markLost records that the source failed; the set keeps serving as it is
// unless FailClosed.
func (r *Revocations) markLost(err error) {
	r.mu.Lock()
	was := r.synced
	r.synced, r.lastErr = false, err.Error()
	r.refuseAll.Store(r.cfg.FailClosed || !r.everSynced)
	r.mu.Unlock()
	r.metrics.Load().sourceError()
	r.metrics.Load().synced(false, time.Time{})
	if was {
		r.log.Warn("revocations out of sync; serving the last known set", "source", r.source.name(),
			"fail_closed", r.cfg.FailClosed, "err", err)
	} else {
		r.log.Debug("revocation source still failing", "source", r.source.name(), "err", err)
	}
}

// backoff is a capped exponential delay with jitter.
type backoff struct {
	min, max, cur time.Duration
}

func (b *backoff) next() time.Duration {
	if b.cur < b.min {
		b.cur = b.min
	}
	d := b.cur
	b.cur = min(2*b.cur, b.max)
	// ±20% so that gateways restarted together do not reconnect in step.
	return d - d/5 + time.Duration(jitter(int64(d/5)*2+1))
}

func (b *backoff) reset() { b.cur = b.min }

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
