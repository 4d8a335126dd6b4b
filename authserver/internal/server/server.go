package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/portcullis/portcullis/authserver/internal/oauth"
	"github.com/portcullis/portcullis/authserver/internal/signer"
)

// DefaultBodyLimit bounds request bodies: token requests are a few hundred
// bytes.
const DefaultBodyLimit = 16 << 10

// Config is the HTTP layer's runtime configuration.
type Config struct {
	Issuer          string
	BodyLimit       int64         // 0: DefaultBodyLimit
	ShutdownTimeout time.Duration // 0: 15s
}

// Pinger is a dependency /readyz checks (the database, Redis).
type Pinger interface {
	Ping(ctx context.Context) error
}

// Deps are the server's collaborators.
type Deps struct {
	Tokens   *oauth.Service
	Signer   *signer.Signer
	Checks   map[string]Pinger // name → dependency, for /readyz
	Registry *prometheus.Registry
	Metrics  *Metrics
	Logger   *slog.Logger
	// Browser are the browser-flow handler groups (authorize, login,
	// logout, userinfo; see authorize.Routes), registered at the root.
	Browser []interface{ Register(g *echo.Group) }
	// Admin, when set, is the admin API, mounted under /api/v1.
	Admin Registrar
}

// Registrar is a handler group that registers its routes on a group.
type Registrar interface {
	Register(g *echo.Group)
}

// Server is the auth server's HTTP server.
type Server struct {
	cfg  Config
	echo *echo.Echo
	log  *slog.Logger
}

// New builds the echo instance and registers every route.
func New(cfg Config, d Deps) *Server {
	if cfg.BodyLimit == 0 {
		cfg.BodyLimit = DefaultBodyLimit
	}
	if cfg.ShutdownTimeout == 0 {
		cfg.ShutdownTimeout = 15 * time.Second
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	// Trust the TCP peer only: X-Forwarded-For would let a client pick the
	// IP its failed logins are counted against.
	e.IPExtractor = echo.ExtractIPDirect()
	e.HTTPErrorHandler = errorHandler(d.Logger)
	e.Use(requestContext, recoverer(d.Logger), accessLog(d.Logger, d.Metrics))

	root := e.Group("")
	(&TokenHandler{Tokens: d.Tokens, Metrics: d.Metrics, BodyLimit: cfg.BodyLimit}).Register(root)
	(&RevocationHandler{Tokens: d.Tokens, BodyLimit: cfg.BodyLimit}).Register(root)
	(&IntrospectionHandler{Tokens: d.Tokens, BodyLimit: cfg.BodyLimit}).Register(root)
	(&DiscoveryHandler{Issuer: cfg.Issuer, Signer: d.Signer, Browser: len(d.Browser) > 0}).Register(root)
	(&HealthHandler{Signer: d.Signer, Checks: d.Checks, Logger: d.Logger}).Register(root)
	(&MetricsHandler{Registry: d.Registry}).Register(root)
	for _, b := range d.Browser {
		b.Register(root)
	}
	if d.Admin != nil {
		d.Admin.Register(e.Group("/api/v1"))
	}
	return &Server{cfg: cfg, echo: e, log: d.Logger}
}

// Echo exposes the echo instance so later handler groups (admin API,
// authorize, logout) can register on the same chain.
func (s *Server) Echo() *echo.Echo { return s.echo }

// Handler is the server as an http.Handler (for httptest).
func (s *Server) Handler() http.Handler { return s.echo }

// Run serves ln until ctx ends, then stops accepting connections and waits
// up to ShutdownTimeout for in-flight requests to finish.
func (s *Server) Run(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.echo,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       90 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	s.log.Info("shutting down: draining in-flight requests", "timeout", s.cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("http shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http server: %w", err)
	}
	return nil
}
