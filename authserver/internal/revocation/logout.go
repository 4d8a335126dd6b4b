package revocation

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/portcullis/portcullis/authserver/internal/oautherr"
	"github.com/portcullis/portcullis/authserver/internal/oauthsyntax"
	"github.com/portcullis/portcullis/shared/verify"
)

// LogoutPath is where LogoutHandler is mounted.
const LogoutPath = "/oauth2/logout"

// AccessTokenVerifier verifies the auth server's own access tokens (the
// token service's verifier, the same checks a gateway runs).
type AccessTokenVerifier interface {
	Verify(ctx context.Context, raw string) (*verify.Token, error)
}

// RefreshRevoker revokes refresh tokens (the token service's refresh store,
// SQL or Redis).
type RefreshRevoker interface {
	RevokeUser(ctx context.Context, userID, clientID string, at time.Time) error
}

// LogoutHandler serves POST /oauth2/logout, authenticated by the access
// token being logged out (Authorization: Bearer). It revokes the caller's
// refresh tokens at the token's client and emits a subject event for that
// subject and client, so the access token, and every other one the client
// holds for the user, is refused by every gateway within the event's
// propagation time. With the form field everywhere=true it does the same
// for every client of the user ("log out everywhere"). The answer is 204.
type LogoutHandler struct {
	Verifier AccessTokenVerifier
	Refresh  RefreshRevoker
	Emitter  *Emitter
	Logger   *slog.Logger
	Now      func() time.Time
	Realm    string // WWW-Authenticate realm (default "portcullis")
}

// Register mounts the handler on g at LogoutPath.
func (h *LogoutHandler) Register(g *echo.Group) {
	g.POST(LogoutPath, h.serve)
}

func (h *LogoutHandler) serve(c echo.Context) error {
	ctx := c.Request().Context()
	log := h.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	realm := h.Realm
	if realm == "" {
		realm = "portcullis"
	}
	raw, ok := oauthsyntax.BearerToken(c.Request().Header.Get(echo.HeaderAuthorization))
	if !ok {
		return h.fail(c, oautherr.ErrInvalidRequest.WithDescription("A bearer access token is required").
			WithHeader("WWW-Authenticate", `Bearer realm="`+realm+`"`), http.StatusUnauthorized)
	}
	tok, err := h.Verifier.Verify(ctx, raw)
	if err != nil {
		desc := verify.ReasonOf(err).Description()
		return h.fail(c, (&oautherr.Error{Code: "invalid_token", Description: desc}).
			WithHeader("WWW-Authenticate", `Bearer realm="`+realm+`", error="invalid_token", error_description="`+desc+`"`),
			http.StatusUnauthorized)
	}
	everywhere := c.FormValue("everywhere") == "true"
	client := tok.ClientID
	if everywhere {
		client = ""
	}
	now := time.Now
	if h.Now != nil {
		now = h.Now
	}
	if err := h.Refresh.RevokeUser(ctx, tok.Subject, client, now()); err != nil {
		log.ErrorContext(ctx, "logout: revoke refresh tokens", "sub", tok.Subject, "client_id", client, "err", err)
		return h.fail(c, oautherr.ErrServerError, 0)
	}
	if err := h.Emitter.RevokeSubject(ctx, tok.Subject, client); err != nil {
		log.ErrorContext(ctx, "logout: emit revocation event", "sub", tok.Subject, "client_id", client, "err", err)
		return h.fail(c, oautherr.ErrServerError, 0)
	}
	log.InfoContext(ctx, "logged out", "sub", tok.Subject, "client_id", tok.ClientID, "everywhere", everywhere)
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.NoContent(http.StatusNoContent)
}

func (h *LogoutHandler) fail(c echo.Context, e *oautherr.Error, status int) error {
	if status != 0 {
		e.Status = status
	}
	if e.Status == 0 {
		e.Status = http.StatusUnauthorized
	}
	oautherr.Write(c.Response(), e)
	return nil
}
