package metrics

import (
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics are the gateway's collectors.
type Metrics struct {
	Registry *prometheus.Registry

	requests       *prometheus.CounterVec
	latency        *prometheus.HistogramVec
	jwksRefreshes  *prometheus.CounterVec
	jwksFailures   *prometheus.CounterVec
	CacheHits      prometheus.Counter
	CacheMisses    prometheus.Counter
	reloads        *prometheus.CounterVec
	issuerReady    *prometheus.GaugeVec
	requestsByKey  atomic.Pointer[map[requestKey]prometheus.Counter]
	requestsMu     sync.Mutex
	latencyByRoute atomic.Pointer[map[string]prometheus.Observer]
}

type requestKey struct {
	resource, method, decision string
	status                     int
}

// New registers every collector on a fresh registry (plus the Go and
// process collectors).
func New() *Metrics {
	m := &Metrics{Registry: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "portcullis_gateway_requests_total",
		Help: "Requests by resource, method, decision and status code.",
	}, []string{"resource", "method", "decision", "status"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "portcullis_gateway_request_duration_seconds",
		Help:    "Time from the request's arrival to the end of the response, by resource.",
		Buckets: []float64{.0002, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"resource"})
	m.jwksRefreshes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "portcullis_gateway_jwks_refreshes_total",
		Help: "Successful JWKS fetches by issuer.",
	}, []string{"issuer"})
	m.jwksFailures = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "portcullis_gateway_jwks_refresh_failures_total",
		Help: "Failed discovery or JWKS fetches by issuer.",
	}, []string{"issuer"})
	m.CacheHits = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "portcullis_gateway_token_cache_hits_total",
		Help: "Requests whose token was found in the verified-token cache.",
	})
	m.CacheMisses = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "portcullis_gateway_token_cache_misses_total",
		Help: "Requests whose token had to be verified (cache miss or cache disabled).",
	})
	m.reloads = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "portcullis_gateway_config_reloads_total",
		Help: "Configuration reloads by result (applied or refused).",
	}, []string{"result"})
	m.issuerReady = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "portcullis_gateway_issuer_keys_ready",
		Help: "1 when the issuer's key set is loaded and fresh, 0 otherwise (updated on /readyz and on each JWKS fetch).",
	}, []string{"issuer"})
	m.Registry.MustRegister(m.requests, m.latency, m.jwksRefreshes, m.jwksFailures, m.CacheHits, m.CacheMisses,
		m.reloads, m.issuerReady, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	empty := map[requestKey]prometheus.Counter{}
	m.requestsByKey.Store(&empty)
	emptyL := map[string]prometheus.Observer{}
	m.latencyByRoute.Store(&emptyL)
	return m
}

// Request counts one finished request. After the first request of a label
// set it is a lock-free map read.
func (m *Metrics) Request(resource, method, decision string, status int) {
	k := requestKey{resource, method, decision, status}
	if c, ok := (*m.requestsByKey.Load())[k]; ok {
		c.Inc()
		return
	}
	m.requestsMu.Lock()
	cur := *m.requestsByKey.Load()
	c, ok := cur[k]
	if !ok {
		c = m.requests.WithLabelValues(resource, method, decision, strconv.Itoa(status))
		next := make(map[requestKey]prometheus.Counter, len(cur)+1)
		for kk, vv := range cur {
			next[kk] = vv
		}
		next[k] = c
		m.requestsByKey.Store(&next)
	}
	m.requestsMu.Unlock()
	c.Inc()
}

// Latency records a request duration in seconds.
func (m *Metrics) Latency(resource string, seconds float64) {
	if o, ok := (*m.latencyByRoute.Load())[resource]; ok {
		o.Observe(seconds)
		return
	}
	m.requestsMu.Lock()
	cur := *m.latencyByRoute.Load()
	o, ok := cur[resource]
	if !ok {
		o = m.latency.WithLabelValues(resource)
		next := make(map[string]prometheus.Observer, len(cur)+1)
		for kk, vv := range cur {
			next[kk] = vv
		}
		next[resource] = o
		m.latencyByRoute.Store(&next)
	}
	m.requestsMu.Unlock()
	o.Observe(seconds)
}

// JWKS records one fetch of an issuer's key set.
func (m *Metrics) JWKS(issuer string, err error) {
	if err != nil {
		m.jwksFailures.WithLabelValues(issuer).Inc()
		return
	}
	m.jwksRefreshes.WithLabelValues(issuer).Inc()
	m.issuerReady.WithLabelValues(issuer).Set(1)
}

// IssuerReady publishes an issuer's readiness.
func (m *Metrics) IssuerReady(issuer string, ready bool) {
	v := 0.0
	if ready {
		v = 1
	}
	m.issuerReady.WithLabelValues(issuer).Set(v)
}

// Reload counts a configuration reload.
func (m *Metrics) Reload(applied bool) {
	if applied {
		m.reloads.WithLabelValues("applied").Inc()
		return
	}
	m.reloads.WithLabelValues("refused").Inc()
}
