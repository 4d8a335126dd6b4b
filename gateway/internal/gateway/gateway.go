package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/portcullis/portcullis/gateway/internal/config"
	"github.com/portcullis/portcullis/gateway/internal/keys"
	"github.com/portcullis/portcullis/gateway/internal/metrics"
	"github.com/portcullis/portcullis/gateway/internal/proxy"
)

// Revoker is the revocation seam (issue 6): when set, every request whose
// token verified (from the cache or not) is refused with 401 invalid_token
// if Revoked says so. It is called on the hot path and must be an
// allocation-free in-memory lookup; shared/revocation's Set fits.
type Revoker interface {
	Revoked(jti, sub, clientID string, issuedAt time.Time) bool
}

// A Revoker may also report readiness (/readyz is not ready while it
// returns an error) and register its metrics on the gateway's registry;
// gateway/internal/revocation.Revocations does both.
type (
	readiness         interface{ Ready() error }
	metricsRegisterer interface {
		RegisterMetrics(prometheus.Registerer) error
	}
)

// Options are the gateway's dependencies.
type Options struct {
	Logger *slog.Logger
	// Now is the clock (tests inject one); nil means time.Now.
	Now func() time.Time
	// HTTPClient fetches discovery documents and JWKS; nil means a client
	// with a 10s timeout.
	HTTPClient *http.Client
	// Revocations is optional; see Revoker.
	Revocations Revoker
}

// Gateway is the HTTP handler and its lifecycle. Build it with New.
type Gateway struct {
	log         *slog.Logger
	now         func() time.Time
	client      *http.Client
	revocations Revoker
	metrics     *metrics.Metrics
	metricsH    http.Handler

	rt atomic.Pointer[runtime]

	ctx        context.Context
	reloadMu   sync.Mutex
	sources    map[string]*keys.Source
	reqIDBase  string
	reqCounter atomic.Uint64
}

// New validates cfg, builds the first runtime and starts loading every
// issuer's keys in the background (until then their tokens are refused and
// /readyz says not ready). ctx bounds the background work.
func New(ctx context.Context, cfg *config.File, opts Options) (*Gateway, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	g := &Gateway{
		log:         opts.Logger,
		now:         opts.Now,
		client:      opts.HTTPClient,
		revocations: opts.Revocations,
		metrics:     metrics.New(),
		ctx:         ctx,
		sources:     map[string]*keys.Source{},
	}
	if g.log == nil {
		g.log = slog.New(slog.DiscardHandler)
	}
	if g.now == nil {
		g.now = time.Now
	}
	if g.client == nil {
		g.client = &http.Client{Timeout: 10 * time.Second}
	}
	g.metricsH = promhttp.HandlerFor(g.metrics.Registry, promhttp.HandlerOpts{})
	if m, ok := g.revocations.(metricsRegisterer); ok {
		if err := m.RegisterMetrics(g.metrics.Registry); err != nil {
			return nil, err
		}
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	g.reqIDBase = hex.EncodeToString(b[:]) + "-"
	if err := g.apply(cfg); err != nil {
		return nil, err
	}
	return g, nil
}

// Config returns the configuration being served.
func (g *Gateway) Config() *config.File { return g.rt.Load().cfg }

// Apply validates cfg and, if it is valid, swaps it in atomically. An
// invalid config is refused and the current one keeps serving.
func (g *Gateway) Apply(cfg *config.File) error {
	if err := cfg.Validate(); err != nil {
		g.metrics.Reload(false)
		return err
	}
	if err := g.apply(cfg); err != nil {
		g.metrics.Reload(false)
		return err
	}
	g.metrics.Reload(true)
	return nil
}

func (g *Gateway) apply(cfg *config.File) error {
	g.reloadMu.Lock()
	defer g.reloadMu.Unlock()
	if old := g.rt.Load(); old != nil && old.cfg.Listen != cfg.Listen {
		g.log.Warn("listen address changes need a restart; keeping the old one", "listen", old.cfg.Listen, "wanted", cfg.Listen)
	}
	next := map[string]*keys.Source{}
	var started []*keys.Source
	rt, err := g.buildRuntime(cfg, func(ic config.Issuer) *keys.Source {
		opts := keys.Options{
			Issuer:             ic.Issuer,
			JWKSURI:            ic.JWKSURI,
			StaleMax:           ic.StaleKeysMax,
			RefreshMin:         ic.RefreshMin,
			RefreshMax:         ic.RefreshMax,
			RefetchMinInterval: ic.RefetchMinInterval,
			Client:             g.client,
			Logger:             g.log,
			Now:                g.now,
			Observe:            g.metrics.JWKS,
		}
		if s, ok := g.sources[ic.Issuer]; ok && s.SameSettings(opts) {
			next[ic.Issuer] = s
			return s
		}
		s := keys.New(opts)
		next[ic.Issuer] = s
		started = append(started, s)
		return s
	})
	if err != nil {
		return err
	}
	for _, s := range started {
		s.Start(g.ctx)
	}
	for iss, s := range g.sources {
		if next[iss] != s {
			s.Stop()
		}
	}
	g.sources = next
	if old := g.rt.Swap(rt); old != nil {
		// Idle upstream connections of the old transport are no longer
		// reachable; in-flight requests keep theirs until they finish.
		old.transport.CloseIdleConnections()
	}
	return nil
}

// Close stops every key source.
func (g *Gateway) Close() {
	g.reloadMu.Lock()
	defer g.reloadMu.Unlock()
	for _, s := range g.sources {
		s.Stop()
	}
	g.sources = map[string]*keys.Source{}
}

// Ready reports whether every issuer has usable keys, and which do not.
func (g *Gateway) Ready() (bool, []string) { return g.rt.Load().ready() }

// ServeHTTP is the outer chain: request id, access log and metrics, the
// gateway's own endpoints, path cleaning, then route matching (whose
// handlers run the rest of the chain, see route.ServeHTTP).
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := g.now()
	rt := g.rt.Load()
	st := getState(w, rt.realm)
	defer putState(st)

	// 1. Request id: keep a sane incoming one, otherwise mint one.
	id := requestID(r.Header["X-Request-Id"])
	var idHeader []string
	if id == "" {
		var buf [48]byte
		id = string(strconv.AppendUint(append(buf[:0], g.reqIDBase...), g.reqCounter.Add(1), 10))
		idHeader = []string{id}
		r.Header["X-Request-Id"] = idHeader
	} else {
		idHeader = r.Header["X-Request-Id"][:1]
	}
	w.Header()["X-Request-Id"] = idHeader

	// 2. Access log and metrics once the response is done.
	defer g.finish(st, r, rt, id, start)

	// 3. Own endpoints, never proxied.
	switch r.URL.Path {
	case rt.cfg.Paths.Health:
		st.routed, st.decision, st.resource = true, decOwnEndpoint, "gateway"
		st.Header().Set("Content-Type", "application/json")
		_, _ = st.Write([]byte(`{"status":"ok"}` + "\n"))
		return
	case rt.cfg.Paths.Ready:
		st.routed, st.decision, st.resource = true, decOwnEndpoint, "gateway"
		g.serveReady(st, rt)
		return
	case rt.cfg.Paths.Metrics:
		st.routed, st.decision, st.resource = true, decOwnEndpoint, "gateway"
		g.metricsH.ServeHTTP(st, r)
		return
	}

	// 4. Path cleaning before matching.
	clean, ok := cleanPath(r.URL.Path, r.URL.RawPath)
	if !ok {
		st.routed, st.decision = true, decBadPath
		writeError(st, http.StatusBadRequest, "invalid_request", "the request path is not allowed", "")
		return
	}
	if clean != r.URL.Path {
		r.URL.Path, r.URL.RawPath = clean, ""
	}

	// 5. Route match; the matched route runs verify -> authorise ->
	// headers -> proxy. No match: reqState renders ServeMux's 404/405.
	rt.mux.ServeHTTP(st, r)
}

func (g *Gateway) serveReady(st *reqState, rt *runtime) {
	ready, missing := rt.ready()
	for iss := range rt.issuers {
		g.metrics.IssuerReady(iss, !contains(missing, iss))
	}
	st.Header().Set("Content-Type", "application/json")
	if !ready {
		st.WriteHeader(http.StatusServiceUnavailable)
		_, _ = st.Write([]byte(`{"status":"not ready","reason":"issuer keys not loaded"}` + "\n"))
		return
	}
	if r, ok := g.revocations.(readiness); ok && r.Ready() != nil {
		st.WriteHeader(http.StatusServiceUnavailable)
		_, _ = st.Write([]byte(`{"status":"not ready","reason":"revocation set not in sync"}` + "\n"))
		return
	}
	_, _ = st.Write([]byte(`{"status":"ready"}` + "\n"))
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func (g *Gateway) finish(st *reqState, r *http.Request, rt *runtime, id string, start time.Time) {
	status := st.status
	if status == 0 {
		status = http.StatusOK
	}
	method := methodLabel(r.Method)
	g.metrics.Request(st.resource, method, st.decision.String(), status)
	elapsed := g.now().Sub(start)
	g.metrics.Latency(st.resource, elapsed.Seconds())
	if rt.cfg.Log.AccessOn() && g.log.Enabled(r.Context(), slog.LevelInfo) {
		g.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("request_id", id),
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.String("resource", st.resource),
			slog.String("decision", st.decision.String()),
			slog.Int("status", status),
			slog.String("subject", st.subject),
			slog.String("reason", st.reason),
			slog.Int64("bytes", st.bytes),
			slog.Duration("duration", elapsed),
			slog.String("remote", r.RemoteAddr),
		)
	}
}

// requestID accepts an incoming X-Request-Id only if it is short and made
// of safe characters (it is echoed into logs and headers).
func requestID(v []string) string {
	if len(v) != 1 || len(v[0]) == 0 || len(v[0]) > 128 {
		return ""
	}
	for i := 0; i < len(v[0]); i++ {
		c := v[0][i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':'
		if !ok {
			return ""
		}
	}
	return v[0]
}

func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	default:
		return "OTHER"
	}
}

// proxyError is every ReverseProxy's ErrorHandler: 504 for a timeout, 502
// otherwise, in the gateway's JSON shape.
func (g *Gateway) proxyError(w http.ResponseWriter, r *http.Request, err error) {
	st, _ := w.(*reqState)
	if ew, ok := w.(*expiringWriter); ok {
		st = ew.reqState
	}
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		// The client went away; nobody will read an answer.
		if st != nil {
			st.decision, st.status = decUpstreamError, 499
		}
		return
	}
	g.log.LogAttrs(r.Context(), slog.LevelWarn, "upstream error",
		slog.String("request_id", r.Header.Get("X-Request-Id")), slog.String("error", err.Error()))
	if proxy.Timeout(err) {
		if st != nil {
			st.decision = decUpstreamTimeout
		}
		writeError(w, http.StatusGatewayTimeout, "gateway_timeout", "the upstream did not answer in time", "")
		return
	}
	if st != nil {
		st.decision = decUpstreamError
	}
	writeError(w, http.StatusBadGateway, "bad_gateway", "the upstream is unavailable", "")
}
