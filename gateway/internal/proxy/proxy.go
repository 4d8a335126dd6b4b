package proxy

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"time"
)

// TransportOptions tune the shared upstream transport.
type TransportOptions struct {
	DialTimeout           time.Duration
	ResponseHeaderTimeout time.Duration
	IdleConnTimeout       time.Duration
	MaxIdleConnsPerHost   int
}

// NewTransport clones http.DefaultTransport and applies o.
func NewTransport(o TransportOptions) *http.Transport {
	t, _ := http.DefaultTransport.(*http.Transport)
	t = t.Clone()
	t.DialContext = (&net.Dialer{Timeout: o.DialTimeout, KeepAlive: 30 * time.Second}).DialContext
	t.ResponseHeaderTimeout = o.ResponseHeaderTimeout
	t.IdleConnTimeout = o.IdleConnTimeout
	t.MaxIdleConnsPerHost = o.MaxIdleConnsPerHost
	t.MaxIdleConns = 0 // no global cap: the per-host cap is the one that matters
	t.ForceAttemptHTTP2 = false
	return t
}

// New returns a ReverseProxy to target. stripPrefix, when set, is removed
// from the (already cleaned) request path before it is joined to target's
// path.
func New(target *url.URL, stripPrefix string, rt http.RoundTripper, onError func(http.ResponseWriter, *http.Request, error)) *httputil.ReverseProxy {
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			if stripPrefix != "" {
				p := strings.TrimPrefix(pr.Out.URL.Path, stripPrefix)
				if p == "" || p[0] != '/' {
					p = "/" + p
				}
				pr.Out.URL.Path = p
				pr.Out.URL.RawPath = ""
			}
			pr.SetURL(target)
			pr.SetXForwarded()
			// SetURL rewrites Host to the upstream's; keep the client's
			// in X-Forwarded-Host (set above) only.
		},
		// FlushInterval 0: ReverseProxy already flushes at once for
		// responses of unknown length and for text/event-stream, so
		// streaming works without paying a flush per write.
		Transport:    rt,
		ErrorHandler: onError,
	}
}

// Timeout reports whether err from the transport is a timeout (504) rather
// than a refused or broken connection (502).
func Timeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
