package authorize

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/portcullis/portcullis/authserver/internal/authcode"
	"github.com/portcullis/portcullis/authserver/internal/login"
	"github.com/portcullis/portcullis/authserver/internal/oauthsyntax"
	"github.com/portcullis/portcullis/authserver/internal/storage"
)

// GrantAuthorizationCode is the grant a client needs to use this endpoint.
const GrantAuthorizationCode = "authorization_code"

// Handler serves GET /oauth2/authorize.
type Handler struct {
	Issuer string
	Store  storage.Store
	Codes  authcode.Store
	Login  *login.Handler
	// CodeTTL is a code's lifetime; 0 or more than authcode.MaxTTL means
	// authcode.MaxTTL.
	CodeTTL time.Duration
	Logger  *slog.Logger
	Now     func() time.Time
}

// Register implements the handler-group convention.
func (h *Handler) Register(g *echo.Group) {
	g.GET(login.PathAuthorize, h.authorize)
}

// request is a parsed authorization request.
type request struct {
	client      *storage.Client
	redirectURI string
	state       string
	scope       string
	nonce       string
	challenge   string
	prompt      string
	raw         url.Values
}

// redirectError is an error returned to the client's redirect URI (RFC
// 6749 4.1.2.1).
type redirectError struct {
	code, description string
}

func (h *Handler) authorize(c echo.Context) error {
	ctx := c.Request().Context()
	q := c.QueryParams()

	// 1. Who is asking, and where do answers go? Until both are known to
	// be right, nothing is sent to the redirect URI: it could be an
	// attacker's (open redirector, RFC 6749 10.15).
	for _, k := range []string{"client_id", "redirect_uri"} {
		if len(q[k]) > 1 {
			return badRequest(c, "The request names more than one "+k+".")
		}
	}
	clientID := q.Get("client_id")
	if clientID == "" {
		return badRequest(c, "The request does not name an application (client_id is missing).")
	}
	client, err := h.Store.GetClient(ctx, clientID)
	if errors.Is(err, storage.ErrNotFound) {
		h.Logger.InfoContext(ctx, "authorize: unknown client", "client_id", clientID)
		return badRequest(c, "The application that sent you here is not registered.")
	}
	if err != nil {
		h.Logger.ErrorContext(ctx, "authorize: load client", "err", err)
		return login.RenderMessage(c, http.StatusInternalServerError, "Something went wrong", "Please try again in a moment.")
	}
	redirectURI := q.Get("redirect_uri")
	if redirectURI == "" || !slices.Contains(client.RedirectURIs, redirectURI) {
		// Exact string match, no normalisation (RFC 9700 2.1).
		h.Logger.InfoContext(ctx, "authorize: redirect_uri not registered", "client_id", clientID)
		return badRequest(c, "The address this application asked to return to is not registered for it.")
	}
	req := &request{client: client, redirectURI: redirectURI, state: q.Get("state"), raw: q}

	// 2. Everything else is reported to the client.
	if rerr := h.validate(req); rerr != nil {
		h.Logger.InfoContext(ctx, "authorize: request refused", "client_id", clientID, "error", rerr.code, "detail", rerr.description)
		return h.redirect(c, req, url.Values{"error": {rerr.code}, "error_description": {rerr.description}})
	}

	// 3. A signed-in browser gets its code; anyone else the login form.
	sess, err := h.Login.Current(c)
	if err != nil {
		h.Logger.ErrorContext(ctx, "authorize: session", "err", err)
		return h.redirect(c, req, url.Values{"error": {"server_error"}})
	}
	var user *storage.User
	if sess != nil {
		user, err = h.Store.GetUser(ctx, sess.UserID)
		switch {
		case errors.Is(err, storage.ErrNotFound):
			user = nil
		case err != nil:
			h.Logger.ErrorContext(ctx, "authorize: load user", "err", err)
			return h.redirect(c, req, url.Values{"error": {"server_error"}})
		}
		if user == nil || !user.Active {
			// Deleted or disabled since signing in: the session is void.
			h.Login.End(c)
			sess, user = nil, nil
		}
	}
	if sess == nil || req.prompt == "login" {
		if req.prompt == "none" {
			return h.redirect(c, req, url.Values{"error": {"login_required"}, "error_description": {"The user is not signed in"}})
		}
		if req.prompt == "login" && sess != nil {
			h.Login.End(c)
		}
		return h.Login.RenderLogin(c, http.StatusOK, login.Form{
			ClientName: clientName(client), Request: withoutPromptLogin(q).Encode(),
			Profile: strings.Contains(" "+req.scope+" ", " profile ") || strings.Contains(" "+req.scope+" ", " email "),
		})
	}

	code, err := authcode.New()
	if err != nil {
		return h.redirect(c, req, url.Values{"error": {"server_error"}})
	}
	now := h.now()
	ttl := h.CodeTTL
	if ttl <= 0 || ttl > authcode.MaxTTL {
		ttl = authcode.MaxTTL
	}
	rec := &authcode.Code{ClientID: client.ID, RedirectURI: redirectURI, UserID: user.ID, Scope: req.scope,
		Nonce: req.nonce, Challenge: req.challenge, AuthTime: sess.AuthTime, ExpiresAt: now.Add(ttl)}
	if err := h.Codes.Create(ctx, code, rec); err != nil {
		h.Logger.ErrorContext(ctx, "authorize: store code", "err", err)
		return h.redirect(c, req, url.Values{"error": {"server_error"}})
	}
	h.Logger.InfoContext(ctx, "authorization code issued", "client_id", client.ID, "user_id", user.ID, "scope", req.scope)
	return h.redirect(c, req, url.Values{"code": {code}})
}

// validate checks the parameters that may be reported to the client.
func (h *Handler) validate(r *request) *redirectError {
	q := r.raw
	for k, v := range q {
		if len(v) > 1 {
			return &redirectError{"invalid_request", "parameter " + k + " is repeated"}
		}
	}
	// state is required: with it the client can tie the answer to the
	// browser that asked (RFC 6749 10.12). Without it there is no state to
	// echo, and the refusal goes back without one.
	if r.state == "" {
		return &redirectError{"invalid_request", "state is required"}
	}
	switch rt := q.Get("response_type"); rt {
	case "code":
	case "":
		return &redirectError{"invalid_request", "response_type is required"}
	default:
		return &redirectError{"unsupported_response_type", "only response_type=code is supported"}
	}
	if !slices.Contains(r.client.GrantTypes, GrantAuthorizationCode) {
		return &redirectError{"unauthorized_client", "the client may not use the authorization code grant"}
	}
	if rm := q.Get("response_mode"); rm != "" && rm != "query" {
		return &redirectError{"invalid_request", "only response_mode=query is supported"}
	}
	r.scope = q.Get("scope")
	if !oauthsyntax.ValidScope(r.scope) {
		return &redirectError{"invalid_scope", "scope is malformed"}
	}
	for _, s := range strings.Fields(r.scope) {
		if !slices.Contains(r.client.Scopes, s) {
			return &redirectError{"invalid_scope", "scope " + s + " is not allowed for this client"}
		}
	}
	r.nonce = q.Get("nonce")
	if len(r.nonce) > 512 {
		return &redirectError{"invalid_request", "nonce is too long"}
	}
	r.challenge = q.Get("code_challenge")
	method := q.Get("code_challenge_method")
	switch {
	case r.challenge == "" && method != "":
		return &redirectError{"invalid_request", "code_challenge_method without code_challenge"}
	case r.challenge == "" && r.client.Public:
		// RFC 9700 2.1.1: public clients must use PKCE.
		return &redirectError{"invalid_request", "code_challenge is required for public clients (PKCE, S256)"}
	case r.challenge != "" && method != authcode.MethodS256:
		// An absent method means "plain" (RFC 7636 4.3), refused like an
		// explicit one: it protects nothing when the request leaks.
		return &redirectError{"invalid_request", "code_challenge_method must be S256"}
	case r.challenge != "" && !authcode.ValidChallenge(r.challenge):
		return &redirectError{"invalid_request", "code_challenge is not a valid S256 challenge"}
	}
	r.prompt = q.Get("prompt")
	switch r.prompt {
	case "", "login", "none":
	default:
		// consent and select_account have no meaning here (no consent
		// screen, one account per browser).
		if !slices.Contains(strings.Fields(r.prompt), "none") {
			r.prompt = ""
		} else {
			return &redirectError{"invalid_request", "prompt=none cannot be combined with other values"}
		}
	}
	return nil
}

// redirect sends the answer to the client's redirect URI in the query,
// with state and the issuer (RFC 9207, mix-up defence).
func (h *Handler) redirect(c echo.Context, r *request, v url.Values) error {
	u, err := url.Parse(r.redirectURI)
	if err != nil {
		return badRequest(c, "The registered return address is malformed.")
	}
	q := u.Query()
	for k, vs := range v {
		q[k] = vs
	}
	if r.state != "" {
		q.Set("state", r.state)
	}
	q.Set("iss", h.Issuer)
	u.RawQuery = q.Encode()
	hd := c.Response().Header()
	hd.Set("Cache-Control", "no-store")
	hd.Set("Referrer-Policy", "no-referrer")
	return c.Redirect(http.StatusFound, u.String())
}

func badRequest(c echo.Context, msg string) error {
	return login.RenderMessage(c, http.StatusBadRequest, "This sign-in link is not valid", msg)
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func clientName(c *storage.Client) string {
	if c.Name != "" {
		return c.Name
	}
	return c.ID
}

// withoutPromptLogin drops prompt=login from the request replayed after
// sign-in, so the fresh session is not refused again.
func withoutPromptLogin(q url.Values) url.Values {
	out := url.Values{}
	for k, v := range q {
		if k == "prompt" && len(v) == 1 && v[0] == "login" {
			continue
		}
		out[k] = v
	}
	return out
}
