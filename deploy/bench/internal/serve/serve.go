package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"time"

	"github.com/portcullis/portcullis/deploy/bench/internal/proxy"
	"github.com/portcullis/portcullis/deploy/bench/internal/stateful"
	"github.com/portcullis/portcullis/deploy/bench/internal/upstream"
)

// Options are the flags of the server subcommands.
type Options struct {
	Listen   string
	Upstream string
	Database string
}

// Upstream serves the fallback upstream.
func Upstream(ctx context.Context, o Options, logger *slog.Logger) error {
	return listenAndServe(ctx, o.Listen, upstream.Handler(), logger)
}

// BareProxy serves a plain reverse proxy to o.Upstream.
func BareProxy(ctx context.Context, o Options, logger *slog.Logger) error {
	u, err := upstreamURL(o)
	if err != nil {
		return err
	}
	return listenAndServe(ctx, o.Listen, proxy.WithReadiness(proxy.New(u, proxy.NewTransport(), logger)), logger)
}

// StatefulProxy serves the per-request database check in front of
// o.Upstream. The database must already be migrated and seeded.
func StatefulProxy(ctx context.Context, o Options, logger *slog.Logger) error {
	u, err := upstreamURL(o)
	if err != nil {
		return err
	}
	if o.Database == "" {
		return errors.New("stateful-proxy: -database is required")
	}
	// Enough connections for every in-flight request of the bench's load
	// (64 connections) on PostgreSQL; SQLite readers scale with cores.
	conns := 64
	db, err := stateful.Open(ctx, o.Database, conns)
	if err != nil {
		return err
	}
	if db.Dialect() == "sqlite" {
		db.SetMaxOpenConns(4 * runtime.GOMAXPROCS(0))
		db.SetMaxIdleConns(4 * runtime.GOMAXPROCS(0))
	}
	defer func() { _ = db.Close() }()
	dec, err := stateful.NewDecider(ctx, db, stateful.Account, stateful.Application, []string{stateful.RequiredRole})
	if err != nil {
		return err
	}
	defer func() { _ = dec.Close() }()
	h := stateful.Handler(dec, proxy.New(u, proxy.NewTransport(), logger), logger)
	return listenAndServe(ctx, o.Listen, proxy.WithReadiness(h), logger)
}

func upstreamURL(o Options) (*url.URL, error) {
	if o.Upstream == "" {
		return nil, errors.New("-upstream is required")
	}
	u, err := url.Parse(o.Upstream)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("-upstream %q: not an absolute URL", o.Upstream)
	}
	return u, nil
}

func listenAndServe(ctx context.Context, addr string, h http.Handler, logger *slog.Logger) error {
	var lc net.ListenConfig
	l, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", addr, err)
	}
	srv := proxy.NewServer(addr, h)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	logger.Info("listening", "addr", l.Addr().String())
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}
