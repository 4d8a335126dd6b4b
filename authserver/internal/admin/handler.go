package admin

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/portcullis/portcullis/authserver/internal/identity"
	"github.com/portcullis/portcullis/authserver/internal/oauthsyntax"
	"github.com/portcullis/portcullis/authserver/internal/reqctx"
	"github.com/portcullis/portcullis/authserver/internal/signer"
	"github.com/portcullis/portcullis/authserver/internal/storage"
	"github.com/portcullis/portcullis/shared/verify"
)

// Prefix is where the server mounts the admin API.
const Prefix = "/api/v1"

// Page sizes of collections.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

// maxBody bounds JSON request bodies: the largest is a client with a few
// redirect URIs.
const maxBody = 64 << 10

// Handler serves the admin API. All fields are required except Now.
type Handler struct {
	// Identity runs every change (validation, transaction, audit, events).
	Identity *identity.Service
	// Store answers reads.
	Store storage.Store
	// Verifier checks the caller's access token: the server's own
	// verifier over its own keys, the same code the gateway runs.
	Verifier *verify.Verifier
	// Signer lists and rotates signing keys.
	Signer *signer.Signer
	// Revocations, when set, refuses tokens revoked since they were issued
	// (a disabled user, a logout): a revoked administrator must not keep
	// managing the server until the token expires.
	Revocations RevocationChecker
	Logger      *slog.Logger
	Now         func() time.Time
}

// RevocationChecker tells whether a verified token has been revoked
// (*oauth.Service implements it over the revocation events).
type RevocationChecker interface {
	Revoked(ctx context.Context, tok *verify.Token) (bool, error)
}

// Register mounts the routes on g (the /api/v1 group).
func (h *Handler) Register(g *echo.Group) {
	if h.Logger == nil {
		h.Logger = slog.New(slog.DiscardHandler)
	}
	if h.Now == nil {
		h.Now = time.Now
	}
	g.GET("/openapi.json", h.openAPI)
	for _, r := range h.routes() {
		g.Add(r.method, r.path, h.wrap(r.fn))
	}
}

type route struct {
	method, path string
	fn           func(echo.Context, *caller) error
}

// routes is the whole authenticated API, in one table so that the
// OpenAPI test and the server agree on what exists.
func (h *Handler) routes() []route {
	return []route{
		{http.MethodGet, "/me", h.getMe},
		{http.MethodPost, "/me/password", h.changeMyPassword},
		{http.MethodGet, "/accounts", h.listAccounts},
		{http.MethodPost, "/accounts", h.createAccount},
		{http.MethodGet, "/accounts/:account", h.getAccount},
		{http.MethodPatch, "/accounts/:account", h.updateAccount},
		{http.MethodDelete, "/accounts/:account", h.deleteAccount},
		{http.MethodGet, "/accounts/:account/applications", h.listApplications},
		{http.MethodPost, "/accounts/:account/applications", h.createApplication},
		{http.MethodGet, "/accounts/:account/applications/:application", h.getApplication},
		{http.MethodPatch, "/accounts/:account/applications/:application", h.updateApplication},
		{http.MethodDelete, "/accounts/:account/applications/:application", h.deleteApplication},
		{http.MethodGet, "/users", h.listUsers},
		{http.MethodPost, "/users", h.createUser},
		{http.MethodGet, "/users/:user", h.getUser},
		{http.MethodPatch, "/users/:user", h.updateUser},
		{http.MethodDelete, "/users/:user", h.deleteUser},
		{http.MethodGet, "/roles", h.listRoles},
		{http.MethodPost, "/roles", h.createRole},
		{http.MethodGet, "/roles/:role", h.getRole},
		{http.MethodDelete, "/roles/:role", h.deleteRole},
		{http.MethodGet, "/grants", h.listGrants},
		{http.MethodPost, "/grants", h.createGrant},
		{http.MethodGet, "/grants/:id", h.getGrant},
		{http.MethodDelete, "/grants/:id", h.deleteGrant},
		{http.MethodGet, "/clients", h.listClients},
		{http.MethodPost, "/clients", h.createClient},
		{http.MethodGet, "/clients/:client", h.getClient},
		{http.MethodPatch, "/clients/:client", h.updateClient},
		{http.MethodDelete, "/clients/:client", h.deleteClient},
		{http.MethodGet, "/keys", h.listKeys},
		{http.MethodPost, "/keys/rotate", h.rotateKey},
		{http.MethodGet, "/audit", h.listAudit},
	}
}

// wrap authenticates the bearer token, runs fn and renders its error.
func (h *Handler) wrap(fn func(echo.Context, *caller) error) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		// Answers carry account data and, once, client secrets.
		c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
		raw, ok := oauthsyntax.BearerToken(c.Request().Header.Get(echo.HeaderAuthorization))
		if !ok {
			return h.writeError(c, unauthorized(nil))
		}
		tok, err := h.Verifier.Verify(ctx, raw)
		if err != nil {
			return h.writeError(c, unauthorized(err))
		}
		if h.Revocations != nil {
			revoked, err := h.Revocations.Revoked(ctx, tok)
			if err != nil {
				return h.writeError(c, fmt.Errorf("revocation check: %w", err))
			}
			if revoked {
				return h.writeError(c, unauthorized(verify.ErrRevoked))
			}
		}
		if err := fn(c, newCaller(tok, reqctx.RequestID(ctx))); err != nil {
			return h.writeError(c, err)
		}
		return nil
	}
}

// decode reads a JSON object body into v, refusing unknown fields so a
// misspelt field is an error rather than silently ignored.
func decode(c echo.Context, v any) error {
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), c.Request().Body, maxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &apiError{Status: http.StatusRequestEntityTooLarge, Code: "invalid_request", Description: "The request body is too large"}
		}
		return badRequest("The request body could not be read", nil)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) && ute.Field != "" {
			return badRequest("The request has invalid fields", map[string]string{ute.Field: "has the wrong type"})
		}
		return &apiError{Status: http.StatusBadRequest, Code: "invalid_request", Description: "The request body must be a JSON object with the documented fields", cause: err}
	}
	if dec.More() {
		return badRequest("The request body must hold one JSON object", nil)
	}
	return nil
}

// pageParams reads ?limit= and ?cursor=.
func pageParams(c echo.Context) (storage.Page, error) {
	p := storage.Page{Limit: DefaultLimit, Cursor: c.QueryParam("cursor")}
	if s := c.QueryParam("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxLimit {
			return p, badRequest("The request has invalid fields", map[string]string{"limit": "must be an integer from 1 to " + strconv.Itoa(MaxLimit)})
		}
		p.Limit = n
	}
	return p, nil
}

// list is a collection response.
type list[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

func respondList[S, T any](c echo.Context, rows []S, next string, view func(*S) T) error {
	out := list[T]{Items: make([]T, len(rows)), NextCursor: next}
	for i := range rows {
		out.Items[i] = view(&rows[i])
	}
	return c.JSON(http.StatusOK, out)
}

// created answers a POST: 201, Location, the new object.
func created(c echo.Context, location string, v any) error {
	c.Response().Header().Set(echo.HeaderLocation, Prefix+location)
	return c.JSON(http.StatusCreated, v)
}

// collect serves a filtered list to a caller who may see only some scopes:
// it reads every matching row of each scope (a non-administrator's share is
// small), drops duplicates, orders by key and pages in memory with a cursor
// of the last key. The store's own cursor cannot page a union of queries.
func collect[T any](p storage.Page, scopes []scope, fetch func(s scope, p storage.Page) ([]T, string, error), key func(*T) string) ([]T, string, error) {
	after := ""
	if p.Cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(p.Cursor)
		if err != nil {
			return nil, "", badRequest("The request has invalid fields", map[string]string{"cursor": "is not a cursor this API returned"})
		}
		after = string(b)
	}
	seen := map[string]bool{}
	var all []T
	for _, s := range scopes {
		cursor := ""
		for {
			rows, next, err := fetch(s, storage.Page{Limit: 1000, Cursor: cursor})
			if err != nil {
				return nil, "", err
			}
			for i := range rows {
				k := key(&rows[i])
				if k > after && !seen[k] {
					seen[k] = true
					all = append(all, rows[i])
				}
			}
			if next == "" {
				break
			}
			cursor = next
		}
	}
	slices.SortFunc(all, func(a, b T) int {
		ka, kb := key(&a), key(&b)
		switch {
		case ka < kb:
			return -1
		case ka > kb:
			return 1
		}
		return 0
	})
	if len(all) <= p.Limit {
		return all, "", nil
	}
	all = all[:p.Limit]
	return all, base64.RawURLEncoding.EncodeToString([]byte(key(&all[len(all)-1]))), nil
}

// storeList maps the store's cursor errors to a 400 on cursor.
func storeList[T any](rows []T, next string, err error) ([]T, string, error) {
	if err != nil && errors.Is(err, storage.ErrInvalid) {
		return nil, "", badRequest("The request has invalid fields", map[string]string{"cursor": "is not a cursor this API returned"})
	}
	return rows, next, err
}

func isNotFound(err error) bool { return errors.Is(err, storage.ErrNotFound) }
