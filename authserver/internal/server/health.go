package server

import (
	"context"
	"log/slog"
	"net/http"
	"sort"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/portcullis/portcullis/authserver/internal/signer"
)

// HealthHandler serves GET /healthz (the process is up) and GET /readyz
// (it can serve tokens: dependencies reachable, a signing key loaded).
type HealthHandler struct {
	Signer *signer.Signer
	Checks map[string]Pinger
	Logger *slog.Logger
}

// Register implements the handler-group convention.
func (h *HealthHandler) Register(g *echo.Group) {
	g.GET("/healthz", h.healthz)
	g.GET("/readyz", h.readyz)
}

func (h *HealthHandler) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// readyz reports each check as ok or failing; the cause goes to the log,
// not to the response.
func (h *HealthHandler) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	checks := map[string]string{}
	ready := true
	names := make([]string, 0, len(h.Checks))
	for n := range h.Checks {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := h.Checks[n].Ping(ctx); err != nil {
			h.Logger.WarnContext(ctx, "readiness check failed", "check", n, "err", err)
			checks[n], ready = "unreachable", false
			continue
		}
		checks[n] = "ok"
	}
	if h.Signer.Ready() {
		checks["signing_key"] = "ok"
	} else {
		checks["signing_key"], ready = "not loaded", false
	}
	status, code := "ready", http.StatusOK
	if !ready {
		status, code = "not ready", http.StatusServiceUnavailable
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(code, map[string]any{"status": status, "checks": checks})
}
