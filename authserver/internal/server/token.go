package server

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/portcullis/portcullis/authserver/internal/oauth"
	"github.com/portcullis/portcullis/authserver/internal/oautherr"
)

// TokenHandler serves POST /oauth2/token (RFC 6749 3.2).
type TokenHandler struct {
	Tokens    *oauth.Service
	Metrics   *Metrics
	BodyLimit int64
}

// Register implements the handler-group convention.
func (h *TokenHandler) Register(g *echo.Group) {
	g.POST("/oauth2/token", h.token)
}

func (h *TokenHandler) token(c echo.Context) error {
	ctx := c.Request().Context()
	grant := "other"
	fail := func(err error) error {
		oe := h.Tokens.ErrorFor(ctx, err)
		if h.Metrics != nil {
			h.Metrics.failures.WithLabelValues(grant, oe.Code).Inc()
		}
		return oe
	}
	form, err := readForm(c, h.BodyLimit)
	if err != nil {
		return fail(err)
	}
	grant = grantLabel(form.Get("grant_type"))
	user, pass, hasBasic := c.Request().BasicAuth()
	req, err := oauth.ParseTokenRequest(form, user, pass, hasBasic, c.RealIP())
	if err != nil {
		return fail(err)
	}
	resp, err := h.Tokens.Token(ctx, req)
	if err != nil {
		return fail(err)
	}
	if h.Metrics != nil {
		h.Metrics.issued.WithLabelValues(grant).Inc()
	}
	noStore(c)
	return c.JSON(http.StatusOK, resp)
}

// noStore marks a response carrying tokens uncacheable (RFC 6749 5.1).
func noStore(c echo.Context) {
	h := c.Response().Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
}

// RevocationHandler serves POST /oauth2/revoke (RFC 7009).
type RevocationHandler struct {
	Tokens    *oauth.Service
	BodyLimit int64
}

// Register implements the handler-group convention.
func (h *RevocationHandler) Register(g *echo.Group) {
	g.POST("/oauth2/revoke", h.revoke)
}

func (h *RevocationHandler) revoke(c echo.Context) error {
	ctx := c.Request().Context()
	form, token, creds, err := tokenForm(c, h.BodyLimit)
	if err != nil {
		return h.Tokens.ErrorFor(ctx, err)
	}
	client, err := h.Tokens.AuthenticateClient(ctx, creds)
	if err != nil {
		return h.Tokens.ErrorFor(ctx, err)
	}
	if err := h.Tokens.Revoke(ctx, client, token, form.Get("token_type_hint")); err != nil {
		return h.Tokens.ErrorFor(ctx, err)
	}
	noStore(c)
	return c.NoContent(http.StatusOK)
}

// IntrospectionHandler serves POST /oauth2/introspect (RFC 7662).
type IntrospectionHandler struct {
	Tokens    *oauth.Service
	BodyLimit int64
}

// Register implements the handler-group convention.
func (h *IntrospectionHandler) Register(g *echo.Group) {
	g.POST("/oauth2/introspect", h.introspect)
}

func (h *IntrospectionHandler) introspect(c echo.Context) error {
	ctx := c.Request().Context()
	_, token, creds, err := tokenForm(c, h.BodyLimit)
	if err != nil {
		return h.Tokens.ErrorFor(ctx, err)
	}
	if creds.Method == oauth.AuthNone {
		// RFC 7662 2.1: the endpoint requires authorization; a public
		// client cannot prove who it is.
		return oautherr.ErrInvalidClient.WithDescription("introspection requires client authentication")
	}
	client, err := h.Tokens.AuthenticateClient(ctx, creds)
	if err != nil {
		return h.Tokens.ErrorFor(ctx, err)
	}
	if client.Public {
		return oautherr.ErrInvalidClient.WithDescription("introspection requires client authentication")
	}
	out, err := h.Tokens.Introspect(ctx, client, token)
	if err != nil {
		return h.Tokens.ErrorFor(ctx, err)
	}
	noStore(c)
	return c.JSON(http.StatusOK, out)
}

// tokenForm parses the body shared by revocation and introspection.
func tokenForm(c echo.Context, limit int64) (form url.Values, token string, creds oauth.Credentials, err error) {
	f, err := readForm(c, limit)
	if err != nil {
		return nil, "", creds, err
	}
	if err := oauth.CheckSingleValues(f); err != nil {
		return nil, "", creds, err
	}
	token = f.Get("token")
	if token == "" {
		return nil, "", creds, oautherr.ErrInvalidRequest.WithDescription("token is required")
	}
	user, pass, hasBasic := c.Request().BasicAuth()
	creds, err = oauth.ParseClientCredentials(f, user, pass, hasBasic)
	if err != nil {
		return nil, "", creds, err
	}
	return f, token, creds, nil
}
