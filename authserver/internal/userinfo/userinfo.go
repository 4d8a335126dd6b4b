package userinfo

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/portcullis/portcullis/authserver/internal/oauth"
	"github.com/portcullis/portcullis/authserver/internal/oautherr"
	"github.com/portcullis/portcullis/authserver/internal/oauthsyntax"
	"github.com/portcullis/portcullis/authserver/internal/storage"
	"github.com/portcullis/portcullis/shared/verify"
)

// Path is the endpoint's path.
const Path = "/userinfo"

// Verifier verifies access tokens (oauth.Service.VerifyAccess).
type Verifier interface {
	VerifyAccess(ctx context.Context, raw string) (*verify.Token, error)
}

// Handler serves /userinfo.
type Handler struct {
	Tokens Verifier
	Store  storage.Store
	Logger *slog.Logger
}

// Register implements the handler-group convention.
func (h *Handler) Register(g *echo.Group) {
	g.GET(Path, h.userinfo)
	g.POST(Path, h.userinfo)
}

func challenge(code, desc string, status int) *oautherr.Error {
	e := &oautherr.Error{Code: code, Description: desc, Status: status}
	return e.WithHeader("WWW-Authenticate", `Bearer realm="portcullis", error="`+code+`", error_description="`+desc+`"`)
}

func (h *Handler) userinfo(c echo.Context) error {
	ctx := c.Request().Context()
	raw, ok := oauthsyntax.BearerToken(c.Request().Header.Get(echo.HeaderAuthorization))
	if !ok {
		// RFC 6750 3.1: no error code in the challenge when the request
		// carried no token at all.
		e := &oautherr.Error{Code: "invalid_request", Description: "A bearer access token is required", Status: http.StatusUnauthorized}
		return e.WithHeader("WWW-Authenticate", `Bearer realm="portcullis"`)
	}
	tok, err := h.Tokens.VerifyAccess(ctx, raw)
	if err != nil {
		var ve *verify.Error
		if errors.As(err, &ve) && ve.Reason != verify.ReasonKeysUnavailable {
			return challenge("invalid_token", ve.Description(), http.StatusUnauthorized)
		}
		h.Logger.ErrorContext(ctx, "userinfo: verify token", "err", err)
		return oautherr.ErrUnavailable
	}
	if !oauth.HasScope(tok.Scope, oauth.ScopeOpenID) {
		return challenge("insufficient_scope", "the token was not granted the openid scope", http.StatusForbidden)
	}
	u, err := h.Store.GetUser(ctx, tok.Subject)
	if errors.Is(err, storage.ErrNotFound) {
		return challenge("invalid_token", "the token's subject is not a user", http.StatusUnauthorized)
	}
	if err != nil {
		h.Logger.ErrorContext(ctx, "userinfo: load user", "err", err)
		return oautherr.ErrServerError
	}
	if !u.Active {
		return challenge("invalid_token", "the user is disabled", http.StatusUnauthorized)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, oauth.ProfileClaims(u, tok.Scope))
}
