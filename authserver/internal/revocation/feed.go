package revocation

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/portcullis/portcullis/authserver/internal/oautherr"
	"github.com/portcullis/portcullis/authserver/internal/storage"
	"github.com/portcullis/portcullis/shared/revocation"
)

// ClientAuthenticator checks an OAuth2 client's credentials (the token
// service's client authentication: argon2id-hashed secrets, compared in
// constant time, with its cache of recent successes). It returns
// ErrBadClient, or an error wrapping it, when the credentials are wrong.
type ClientAuthenticator interface {
	AuthenticateClient(ctx context.Context, clientID, secret string) (*storage.Client, error)
}

// ErrBadClient is what a ClientAuthenticator returns for an unknown client
// or a wrong secret.
var ErrBadClient = errors.New("client authentication failed")

// defaultPageSize bounds one feed response.
const defaultPageSize = 500

// FeedHandler serves GET /oauth2/revocations?since=CURSOR to gateways that
// poll instead of subscribing to Redis. The caller authenticates with HTTP
// Basic as a confidential OAuth2 client holding the "revocations" scope.
// The cursor is the seq of the last event returned; an empty or absent
// since starts from the oldest live event, which is how a gateway catches
// up after a restart.
type FeedHandler struct {
	Store    EventStore
	Clients  ClientAuthenticator
	Logger   *slog.Logger
	Now      func() time.Time
	PageSize int // default 500
}

// Register mounts the feed on g at revocation.FeedPath.
func (h *FeedHandler) Register(g *echo.Group) {
	g.GET(revocation.FeedPath, h.serve)
}

func (h *FeedHandler) serve(c echo.Context) error {
	ctx := c.Request().Context()
	log := h.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	user, pass, ok := c.Request().BasicAuth()
	if !ok || user == "" {
		return h.fail(c, oautherr.ErrInvalidClient.WithDescription("HTTP Basic client authentication is required"))
	}
	// RFC 6749 2.3.1: both parts are form-urlencoded inside Basic.
	id, err1 := url.QueryUnescape(user)
	secret, err2 := url.QueryUnescape(pass)
	if err1 != nil || err2 != nil {
		return h.fail(c, oautherr.ErrInvalidClient.WithDescription("malformed HTTP Basic client credentials"))
	}
	client, err := h.Clients.AuthenticateClient(ctx, id, secret)
	switch {
	case errors.Is(err, ErrBadClient):
		log.InfoContext(ctx, "revocation feed: client authentication failed", "client_id", id)
		return h.fail(c, oautherr.ErrInvalidClient)
	case err != nil:
		log.ErrorContext(ctx, "revocation feed: client authentication", "client_id", id, "err", err)
		return h.fail(c, oautherr.ErrServerError)
	case client.Public:
		return h.fail(c, oautherr.ErrInvalidClient.WithDescription("A public client cannot read the revocation feed"))
	case !slices.Contains(client.Scopes, revocation.Scope):
		return h.fail(c, oautherr.ErrUnauthorizedClient.WithDescription("The client lacks the revocations scope"))
	}

	var since int64
	if s := c.QueryParam("since"); s != "" {
		since, err = strconv.ParseInt(s, 10, 64)
		if err != nil || since < 0 {
			return h.fail(c, oautherr.ErrInvalidRequest.WithDescription("since must be a cursor returned by this endpoint"))
		}
	}
	limit := h.PageSize
	if limit <= 0 {
		limit = defaultPageSize
	}
	now := time.Now
	if h.Now != nil {
		now = h.Now
	}
	rows, err := h.Store.ListRevocationEvents(ctx, since, now(), limit)
	if err != nil {
		log.ErrorContext(ctx, "revocation feed: list events", "err", err)
		return h.fail(c, oautherr.ErrServerError)
	}
	page := revocation.FeedPage{Events: make([]revocation.Event, len(rows)), Cursor: strconv.FormatInt(since, 10)}
	for i := range rows {
		page.Events[i] = fromStorage(&rows[i])
	}
	if n := len(rows); n > 0 {
		page.Cursor = strconv.FormatInt(rows[n-1].Seq, 10)
		page.More = n == limit
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, page)
}

func (h *FeedHandler) fail(c echo.Context, e *oautherr.Error) error {
	oautherr.Write(c.Response(), e)
	return nil
}
