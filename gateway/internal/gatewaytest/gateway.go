package gatewaytest

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/portcullis/portcullis/gateway/internal/config"
	"github.com/portcullis/portcullis/gateway/internal/gateway"
)

// Echo is what the Upstream answers: the request as the upstream saw it.
type Echo struct {
	Method  string              `json:"method"`
	Path    string              `json:"path"`
	RawPath string              `json:"raw_path"`
	Headers map[string][]string `json:"headers"`
}

// Upstream starts an upstream that echoes every request as JSON. The path
// /slow blocks until the client goes away (for timeouts), .../delay answers
// after 300ms (for draining), .../hints sends 103 Early Hints first, and an
// Upgrade request is accepted and its bytes echoed.
func Upstream(t testing.TB) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/slow") {
			select {
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
			return
		}
		if strings.HasSuffix(r.URL.Path, "/hints") {
			w.Header().Set("Link", "</style.css>; rel=preload")
			w.WriteHeader(http.StatusEarlyHints)
		}
		if strings.HasSuffix(r.URL.Path, "/delay") {
			time.Sleep(300 * time.Millisecond)
		}
		if r.Header.Get("Upgrade") != "" {
			serveUpgrade(w)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(Echo{Method: r.Method, Path: r.URL.Path, RawPath: r.URL.RawPath, Headers: r.Header})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func serveUpgrade(w http.ResponseWriter) {
	conn, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	_, _ = rw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
	_ = rw.Flush()
	_, _ = io.Copy(conn, rw)
}

// Config returns a defaulted config with the given issuers and resources;
// the access log is on (it goes to the test output).
func Config(issuers []config.Issuer, resources []config.Resource) *config.File {
	f := &config.File{Issuers: issuers, Resources: resources}
	f.ApplyDefaults()
	return f
}

// PortcullisIssuer is a config section trusting is with audience
// "portcullis" and the scoped roles format.
func PortcullisIssuer(is *Issuer) config.Issuer {
	return config.Issuer{Issuer: is.ID, Audiences: []string{"portcullis"}}
}

// Start serves a gateway for cfg on a real listener and waits (up to 10s)
// until /readyz says ready. The gateway logs to the test output.
func Start(t testing.TB, cfg *config.File, opts gateway.Options) (*gateway.Gateway, *httptest.Server) {
	t.Helper()
	g, srv := StartUnready(t, cfg, opts)
	WaitReady(t, srv.URL+cfg.Paths.Ready)
	return g, srv
}

// StartUnready is Start without waiting for readiness.
func StartUnready(t testing.TB, cfg *config.File, opts gateway.Options) (*gateway.Gateway, *httptest.Server) {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(output(t), &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	ctx, cancel := context.WithCancel(context.Background())
	g, err := gateway.New(ctx, cfg, opts)
	if err != nil {
		cancel()
		t.Fatalf("gateway.New: %v", err)
	}
	srv := httptest.NewServer(g)
	t.Cleanup(func() {
		srv.Close()
		g.Close()
		cancel()
	})
	return g, srv
}

func output(t testing.TB) io.Writer {
	if tt, ok := t.(interface{ Output() io.Writer }); ok {
		return tt.Output()
	}
	return io.Discard
}

// WaitReady polls url until it answers 200.
func WaitReady(t testing.TB, url string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
		if err != nil {
			t.Fatalf("readiness request: %v", err)
		}
		res, err := http.DefaultClient.Do(req)
		if err == nil {
			_ = res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s never became ready", url)
}
