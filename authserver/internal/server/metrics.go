package server

import (
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/portcullis/portcullis/authserver/internal/oauth"
)

// Metrics are the auth server's Prometheus metrics, on a registry of its
// own (no global default registry).
type Metrics struct {
	issued       *prometheus.CounterVec
	failures     *prometheus.CounterVec
	latency      *prometheus.HistogramVec
	RefreshReuse prometheus.Counter
}

// NewMetrics registers the metrics (and the Go/process collectors) on reg.
func NewMetrics(reg *prometheus.Registry) *Metrics {
	m := &Metrics{
		issued: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "portcullis", Subsystem: "authserver", Name: "tokens_issued_total",
			Help: "Access tokens issued, by grant type.",
		}, []string{"grant"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "portcullis", Subsystem: "authserver", Name: "token_failures_total",
			Help: "Refused or failed token requests, by grant type and OAuth2 error code.",
		}, []string{"grant", "error"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "portcullis", Subsystem: "authserver", Name: "http_request_duration_seconds",
			Help:    "HTTP request latency by route, method and status.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route", "method", "code"}),
		RefreshReuse: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "portcullis", Subsystem: "authserver", Name: "refresh_token_reuse_total",
			Help: "Refresh-token reuses detected (each revoked a token family).",
		}),
	}
	reg.MustRegister(m.issued, m.failures, m.latency, m.RefreshReuse,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, g := range oauth.GrantTypes {
		m.issued.WithLabelValues(g)
	}
	return m
}

// grantLabel keeps label cardinality bounded: unknown grant types from
// callers collapse into one value.
func grantLabel(g string) string {
	for _, k := range oauth.GrantTypes {
		if g == k {
			return g
		}
	}
	return "other"
}

// MetricsHandler serves GET /metrics.
type MetricsHandler struct {
	Registry *prometheus.Registry
}

// Register implements the handler-group convention.
func (h *MetricsHandler) Register(g *echo.Group) {
	if h.Registry == nil {
		return
	}
	g.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(h.Registry, promhttp.HandlerOpts{})))
}
