package gateway

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/portcullis/portcullis/gateway/internal/config"
)

// Serve answers on ln until ctx is done, then shuts down gracefully:
// the listener closes at once and in-flight requests get up to
// server.shutdown_timeout to finish.
func (g *Gateway) Serve(ctx context.Context, ln net.Listener) error {
	cfg := g.Config()
	srv := &http.Server{
		Handler:           g,
		ReadHeaderTimeout: cfg.Server.ReadHeaderTimeout,
		IdleTimeout:       cfg.Server.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          nil,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	g.log.Info("gateway listening", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	g.log.Info("shutting down: draining in-flight requests", "timeout", cfg.Server.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), cfg.Server.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// WatchConfig reloads path on SIGHUP and whenever its content changes
// (checked every reload.poll_interval; negative: no watch), until ctx is
// done. A config that
// fails to load or validate is logged and refused; the running one stays.
func (g *Gateway) WatchConfig(ctx context.Context, path string, environ map[string]string) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	last := fileDigest(path)
	interval := g.Config().Reload.PollInterval
	var tick <-chan time.Time
	if interval > 0 {
		t := time.NewTicker(interval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			last = fileDigest(path)
			g.reloadFrom(path, environ, "SIGHUP")
		case <-tick:
			d := fileDigest(path)
			if d == nil || bytes.Equal(d, last) {
				continue
			}
			last = d
			g.reloadFrom(path, environ, "file change")
		}
	}
}

func (g *Gateway) reloadFrom(path string, environ map[string]string, why string) {
	cfg, err := config.Load(path, environ)
	if err == nil {
		err = g.Apply(cfg)
	} else {
		g.metrics.Reload(false)
	}
	if err != nil {
		g.log.Error("config reload refused; the previous config keeps serving", "trigger", why, "path", path, "error", err)
		return
	}
	g.log.Info("config reloaded", "trigger", why, "path", path, "resources", len(cfg.Resources), "issuers", len(cfg.Issuers))
}

func fileDigest(path string) []byte {
	b, err := os.ReadFile(path) // #nosec G304 -- the operator's config file
	if err != nil {
		return nil
	}
	s := sha256.Sum256(b)
	return s[:]
}
