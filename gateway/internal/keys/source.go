package keys

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/portcullis/portcullis/shared/verify"
)

// Options configure one issuer's Source.
type Options struct {
	Issuer             string
	JWKSURI            string // empty: discover it
	StaleMax           time.Duration
	RefreshMin         time.Duration
	RefreshMax         time.Duration
	RefetchMinInterval time.Duration
	// FetchTimeout bounds one discovery or JWKS request (default 5s).
	FetchTimeout time.Duration
	Client       *http.Client
	Logger       *slog.Logger
	Now          func() time.Time
	// Observe is told about every JWKS fetch (err nil on success); it feeds
	// the refresh/failure metrics. Optional.
	Observe func(issuer string, err error)
}

// snapshot is an immutable parsed key set.
type snapshot struct {
	keys      map[string]verify.Key
	fetchedAt time.Time
}

// Source is one issuer's key set. It implements verify.Keys.
type Source struct {
	opts   Options
	cancel context.CancelFunc
	done   chan struct{}

	snap    atomic.Pointer[snapshot]
	jwksURI atomic.Pointer[string]
	cache   atomic.Pointer[jwk.Cache]

	loadMu      sync.Mutex
	refetchMu   sync.Mutex
	lastRefetch time.Time
}

var _ verify.Keys = (*Source)(nil)

// New builds a Source; Start begins loading keys.
func New(opts Options) *Source {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Client == nil {
		opts.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.FetchTimeout == 0 {
		opts.FetchTimeout = 5 * time.Second
	}
	return &Source{opts: opts, done: make(chan struct{})}
}

// SameSettings reports whether o would build an identical Source, so that a
// config reload can keep the running one (and its keys).
func (s *Source) SameSettings(o Options) bool {
	a := s.opts
	return a.Issuer == o.Issuer && a.JWKSURI == o.JWKSURI && a.StaleMax == o.StaleMax &&
		a.RefreshMin == o.RefreshMin && a.RefreshMax == o.RefreshMax && a.RefetchMinInterval == o.RefetchMinInterval
}

// Start loads the keys in the background (discovery, then the JWKS) and
// keeps them fresh until Stop. It returns at once; Ready reports progress.
func (s *Source) Start(ctx context.Context) {
	ctx, s.cancel = context.WithCancel(ctx)
	go s.run(ctx)
}

// Stop ends the background work and waits for it.
func (s *Source) Stop() {
	if s.cancel != nil {
		s.cancel()
		<-s.done
	}
}

// Issuer is the issuer these keys belong to.
func (s *Source) Issuer() string { return s.opts.Issuer }

// Ready reports whether a key set is loaded and not older than StaleMax.
func (s *Source) Ready() bool {
	snap := s.snap.Load()
	return snap != nil && s.opts.Now().Sub(snap.fetchedAt) <= s.opts.StaleMax
}

// Has reports whether kid is in the current, non-stale key set. The
// gateway's verified-token cache calls it on every hit so that a withdrawn
// key (or a set gone stale) stops a cached token at once. It does not
// allocate.
func (s *Source) Has(kid string) bool {
	snap := s.snap.Load()
	if snap == nil || s.opts.Now().Sub(snap.fetchedAt) > s.opts.StaleMax {
		return false
	}
	_, ok := snap.keys[kid]
	if !ok && kid == "" {
		return len(snap.keys) == 1
	}
	return ok
}

// Key implements verify.Keys.
func (s *Source) Key(ctx context.Context, kid string) (verify.Key, error) {
	snap := s.snap.Load()
	if k, found, err := s.lookup(snap, kid); found {
		return k, err
	}
	// Unknown kid (the issuer may have rotated) or no usable set (it may be
	// back after an outage): refetch, rate-limited so a flood of made-up
	// kids cannot become a flood of fetches.
	s.refetch(ctx, snap)
	k, _, err := s.lookup(s.snap.Load(), kid)
	return k, err
}

// lookup reports found=true only for a usable key; otherwise the error
// says why (a refetch may help either way).
func (s *Source) lookup(snap *snapshot, kid string) (verify.Key, bool, error) {
	if snap == nil {
		return verify.Key{}, false, &verify.Error{Reason: verify.ReasonKeysUnavailable, Err: errors.New("keys not loaded yet")}
	}
	if s.opts.Now().Sub(snap.fetchedAt) > s.opts.StaleMax {
		return verify.Key{}, false, &verify.Error{Reason: verify.ReasonKeysUnavailable, Err: errors.New("key set is older than stale_keys_max")}
	}
	if k, ok := snap.keys[kid]; ok {
		return k, true, nil
	}
	if kid == "" && len(snap.keys) == 1 {
		for _, k := range snap.keys {
			return k, true, nil
		}
	}
	return verify.Key{}, false, verify.ErrUnknownKey
}

func (s *Source) refetch(ctx context.Context, seen *snapshot) {
	s.refetchMu.Lock()
	defer s.refetchMu.Unlock()
	if s.snap.Load() != seen {
		return // someone refreshed while we waited
	}
	now := s.opts.Now()
	if !s.lastRefetch.IsZero() && now.Sub(s.lastRefetch) < s.opts.RefetchMinInterval {
		return
	}
	s.lastRefetch = now
	if s.jwksURI.Load() == nil || s.cache.Load() == nil {
		return
	}
	if err := s.fetchNow(ctx); err != nil {
		s.failed(fmt.Errorf("refetch: %w", err))
	}
}

// fetchNow fetches and installs the set outside jwk.Cache's schedule. (A
// forced jwk.Cache.Refresh would also enqueue one more periodic refresh
// each time it is called, so repeated forced refreshes would pile up
// background fetches; the cache keeps exactly the one schedule Load starts.)
func (s *Source) fetchNow(ctx context.Context) error {
	u := *s.jwksURI.Load()
	ctx, cancel := context.WithTimeout(ctx, s.opts.FetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("jwks request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	res, err := s.opts.Client.Do(req)
	if err != nil {
		return fmt.Errorf("fetch jwks %s: %w", u, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("fetch jwks %s: status %d", u, res.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, maxJWKSBytes))
	if err != nil {
		return fmt.Errorf("read jwks %s: %w", u, err)
	}
	set, err := jwk.Parse(body)
	if err != nil {
		return fmt.Errorf("parse jwks %s: %w", u, err)
	}
	_, err = s.install(u, set)
	return err
}

// maxJWKSBytes bounds a JWKS (and a discovery document) we are willing to read.
const maxJWKSBytes = 1 << 20

func (s *Source) failed(err error) {
	s.opts.Logger.Warn("jwks fetch failed", "issuer", s.opts.Issuer, "error", err)
	if s.opts.Observe != nil {
		s.opts.Observe(s.opts.Issuer, err)
	}
}

// run discovers the JWKS URI (retrying with backoff), registers it with the
// jwk.Cache, loads it once and then enforces refresh_max.
func (s *Source) run(ctx context.Context) {
	defer close(s.done)
	backoff := time.Second
	wait := func(d time.Duration) bool {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
			return true
		}
	}
	for {
		if err := s.Load(ctx); err == nil {
			break
		} else if ctx.Err() == nil {
			s.failed(err)
		}
		if !wait(backoff) {
			return
		}
		backoff = min(backoff*2, 30*time.Second, s.opts.RefreshMin)
		backoff = max(backoff, time.Second)
	}
	tick := max(min(s.opts.RefreshMax/4, 30*time.Second), time.Second)
	var lastForced time.Time
	for wait(tick) {
		snap := s.snap.Load()
		now := s.opts.Now()
		if snap != nil && now.Sub(snap.fetchedAt) < s.opts.RefreshMax {
			continue
		}
		if now.Sub(lastForced) < s.opts.RefreshMin {
			continue
		}
		lastForced = now
		if err := s.fetchNow(ctx); err != nil && ctx.Err() == nil {
			s.failed(fmt.Errorf("refresh_max refresh: %w", err))
		}
	}
}

// Load discovers (if needed), registers and fetches the key set once,
// synchronously. Start calls it; `gateway explain` calls it directly.
func (s *Source) Load(ctx context.Context) error {
	s.loadMu.Lock()
	defer s.loadMu.Unlock()
	if s.jwksURI.Load() == nil {
		u := s.opts.JWKSURI
		if u == "" {
			var err error
			if u, err = s.discover(ctx); err != nil {
				return err
			}
		}
		s.jwksURI.Store(&u)
	}
	u := *s.jwksURI.Load()
	c := s.cache.Load()
	if c != nil {
		// Already registered (an earlier attempt failed): the cache's own
		// schedule is running; fetch once more without adding to it.
		return s.fetchNow(ctx)
	}
	c = jwk.NewCache(ctx,
		jwk.WithRefreshWindow(time.Second),
		jwk.WithErrSink(errSink{s}),
	)
	err := c.Register(u,
		jwk.WithMinRefreshInterval(s.opts.RefreshMin),
		jwk.WithHTTPClient(s.opts.Client),
		jwk.WithPostFetcher(jwk.PostFetchFunc(s.install)),
	)
	if err != nil {
		return fmt.Errorf("register jwks %s: %w", u, err)
	}
	s.cache.Store(c)
	fctx, cancel := context.WithTimeout(ctx, s.opts.FetchTimeout)
	defer cancel()
	if _, err := c.Refresh(fctx, u); err != nil {
		return fmt.Errorf("fetch jwks %s: %w", u, err)
	}
	return nil
}

type errSink struct{ s *Source }

func (e errSink) Error(err error) { e.s.failed(err) }

// install runs after every successful fetch and parse: it replaces the
// snapshot, so a key the issuer withdrew stops verifying now.
func (s *Source) install(_ string, set jwk.Set) (jwk.Set, error) {
	keys := make(map[string]verify.Key, set.Len())
	for i := range set.Len() {
		k, ok := set.Key(i)
		if !ok {
			continue
		}
		if use := k.KeyUsage(); use != "" && use != "sig" {
			continue
		}
		pub, err := publicKey(k)
		if err != nil {
			s.opts.Logger.Warn("jwks key skipped", "issuer", s.opts.Issuer, "kid", k.KeyID(), "error", err)
			continue
		}
		if _, dup := keys[k.KeyID()]; dup {
			s.opts.Logger.Warn("jwks has a duplicate kid; keeping the first", "issuer", s.opts.Issuer, "kid", k.KeyID())
			continue
		}
		keys[k.KeyID()] = verify.Key{Public: pub, Algorithm: k.Algorithm().String()}
	}
	if len(keys) == 0 {
		// An empty set would turn every token away as "unknown key"; treat
		// it as a failed fetch so the last good set keeps serving.
		return nil, errors.New("the JWKS has no usable signing keys")
	}
	s.snap.Store(&snapshot{keys: keys, fetchedAt: s.opts.Now()})
	if s.opts.Observe != nil {
		s.opts.Observe(s.opts.Issuer, nil)
	}
	return set, nil
}

// publicKey extracts the raw public key, refusing symmetric keys outright.
func publicKey(k jwk.Key) (crypto.PublicKey, error) {
	pk, err := k.PublicKey()
	if err != nil {
		return nil, fmt.Errorf("not an asymmetric key: %w", err)
	}
	var raw any
	if err := pk.Raw(&raw); err != nil {
		return nil, fmt.Errorf("decode key: %w", err)
	}
	switch raw.(type) {
	case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
		return raw, nil
	default:
		return nil, fmt.Errorf("unsupported key type %T", raw)
	}
}

// discover reads {issuer}/.well-known/openid-configuration and returns its
// jwks_uri after checking the document names the same issuer (OpenID
// Connect Discovery 1.0, 4.3).
func (s *Source) discover(ctx context.Context) (string, error) {
	u := strings.TrimSuffix(s.opts.Issuer, "/") + "/.well-known/openid-configuration"
	ctx, cancel := context.WithTimeout(ctx, s.opts.FetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", fmt.Errorf("discovery request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	res, err := s.opts.Client.Do(req)
	if err != nil {
		return "", fmt.Errorf("discovery %s: %w", u, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return "", fmt.Errorf("discovery %s: status %d", u, res.StatusCode)
	}
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.NewDecoder(io.LimitReader(res.Body, maxJWKSBytes)).Decode(&doc); err != nil {
		return "", fmt.Errorf("discovery %s: %w", u, err)
	}
	if doc.Issuer != s.opts.Issuer {
		return "", fmt.Errorf("discovery %s names issuer %q, want %q", u, doc.Issuer, s.opts.Issuer)
	}
	ju, err := url.Parse(doc.JWKSURI)
	if err != nil || (ju.Scheme != "https" && ju.Scheme != "http") || ju.Host == "" {
		return "", fmt.Errorf("discovery %s: jwks_uri is not an absolute http(s) URL", u)
	}
	return doc.JWKSURI, nil
}
