package proxy

import (
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"time"
)

// NewTransport returns a transport tuned exactly as the gateway tunes its own
// with its default configuration (gateway/internal/proxy.NewTransport and the
// upstream.* defaults of gateway/internal/config). The figure that matters is
// MaxIdleConnsPerHost: Go's default keeps 2 idle connections per host, so
// under 64 concurrent requests most requests would open a fresh upstream
// connection (and leave a TIME_WAIT socket behind).
func NewTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.ResponseHeaderTimeout = 30 * time.Second
	t.IdleConnTimeout = 90 * time.Second
	t.MaxIdleConnsPerHost = 512
	t.MaxIdleConns = 0 // no global cap, as in the gateway
	t.ForceAttemptHTTP2 = false
	return t
}

// New returns a reverse proxy to upstream that renders upstream failures as
// the gateway does (502 with a JSON body) rather than an empty response.
func New(upstream *url.URL, t http.RoundTripper, logger *slog.Logger) *httputil.ReverseProxy {
	return &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(upstream)
			r.SetXForwarded()
		},
		Transport: t,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			logger.WarnContext(r.Context(), "upstream error", "err", err)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadGateway)
			_, _ = w.Write([]byte(`{"error":"bad_gateway","error_description":"upstream unavailable"}`))
		},
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// WithReadiness answers GET /readyz itself (so the bench can wait for the
// process) and passes everything else to next. A single string comparison:
// nothing that would add measurable cost to the bare-proxy row.
func WithReadiness(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/readyz" {
			w.WriteHeader(http.StatusOK)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// NewServer returns an http.Server for h with the timeouts a loopback
// benchmark needs (no Slowloris exposure even here).
func NewServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
}
