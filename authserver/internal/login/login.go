package login

import (
	"context"
	"crypto/subtle"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	oerrors "github.com/go-oauth2/oauth2/v4/errors"
	"github.com/labstack/echo/v4"

	"github.com/portcullis/portcullis/authserver/internal/oautherr"
	"github.com/portcullis/portcullis/authserver/internal/storage"
)

// Paths served by this package.
const (
	PathLogin  = "/oauth2/login"
	PathLogout = "/oauth2/logout"
	PathCSS    = "/oauth2/assets/login.css"
	// PathAuthorize is where a successful sign-in returns to.
	PathAuthorize = "/oauth2/authorize"
)

// DefaultSessionTTL is the login session's lifetime: long enough to hop
// between a few applications, short enough that a shared computer forgets
// the user soon.
const DefaultSessionTTL = 15 * time.Minute

// bodyLimit bounds the login form (a few short fields plus the original
// authorization request).
const bodyLimit = 16 << 10

//go:embed assets/login.css assets/pages.html
var assets embed.FS

var pages = template.Must(template.ParseFS(assets, "assets/pages.html"))

var css = func() []byte {
	b, err := assets.ReadFile("assets/login.css")
	if err != nil {
		panic(err)
	}
	return b
}()

// Authenticator checks a username and password with the token endpoint's
// rules (oauth.Service.AuthenticatePassword).
type Authenticator interface {
	AuthenticatePassword(ctx context.Context, username, password, remoteIP string) (*storage.User, error)
}

// Handler serves the login form's POST, logout and the stylesheet, and
// renders the form for the authorization endpoint.
type Handler struct {
	Issuer     string        // https issuer: Secure, __Host- cookies
	SessionTTL time.Duration // 0: DefaultSessionTTL
	Auth       Authenticator
	Sessions   Sessions
	Store      storage.Store // clients, for logout redirects and the client's name
	// Revoke, when set, is called by GET /oauth2/logout with a client_id:
	// it revokes the signed-in user's tokens at that client, as POST
	// /oauth2/logout does (refresh-token families and a revocation event
	// for the access tokens).
	Revoke func(ctx context.Context, userID, clientID string) error
	Logger *slog.Logger
	Now    func() time.Time
}

// Register implements the handler-group convention.
func (h *Handler) Register(g *echo.Group) {
	g.POST(PathLogin, h.login)
	g.GET(PathLogout, h.logout)
	g.GET(PathCSS, func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "public, max-age=3600")
		return c.Blob(http.StatusOK, "text/css; charset=utf-8", css)
	})
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func (h *Handler) ttl() time.Duration {
	if h.SessionTTL > 0 {
		return h.SessionTTL
	}
	return DefaultSessionTTL
}

func (h *Handler) secure() bool { return strings.HasPrefix(h.Issuer, "https://") }

// cookieName uses the __Host- prefix on https: such a cookie cannot be set
// by a sibling subdomain, which is what keeps double-submit CSRF sound.
func (h *Handler) cookieName(base string) string {
	if h.secure() {
		return "__Host-" + base
	}
	return base
}

// SessionCookie and CSRFCookie are the cookie names on an http issuer.
const (
	SessionCookie = "portcullis_session"
	CSRFCookie    = "portcullis_csrf"
	csrfField     = "csrf_token"
)

// cookie builds every cookie this package sets: HttpOnly, host-only,
// Path=/, and Secure exactly when the issuer is https.
func (h *Handler) cookie(name, value string, maxAge int, sameSite http.SameSite) *http.Cookie {
	//nolint:gosec // G124: Secure follows the issuer's scheme; a Secure cookie would never come back over an http (development) issuer
	return &http.Cookie{Name: h.cookieName(name), Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: h.secure(), SameSite: sameSite}
}

// Current returns the browser's live login session, or nil.
func (h *Handler) Current(c echo.Context) (*Session, error) {
	ck, _ := c.Cookie(h.cookieName(SessionCookie)) // the only error is "no such cookie"
	if ck == nil || ck.Value == "" {
		return nil, nil //nolint:nilnil // no cookie: signed out, not an error
	}
	s, err := h.Sessions.Get(c.Request().Context(), ck.Value, h.now())
	if errors.Is(err, ErrNoSession) {
		return nil, nil //nolint:nilnil // expired or logged out
	}
	if err != nil {
		return nil, fmt.Errorf("load login session: %w", err)
	}
	return s, nil
}

// End ends the browser's login session (if any) and clears its cookie.
func (h *Handler) End(c echo.Context) {
	if ck, err := c.Cookie(h.cookieName(SessionCookie)); err == nil && ck.Value != "" {
		if err := h.Sessions.Delete(c.Request().Context(), ck.Value); err != nil {
			h.Logger.ErrorContext(c.Request().Context(), "end login session", "err", err)
		}
	}
	c.SetCookie(h.cookie(SessionCookie, "", -1, http.SameSiteLaxMode))
}

// Form is what the login form shows.
type Form struct {
	ClientName string
	Request    string // the authorization request's query string, replayed after sign-in
	Username   string
	Error      string
	Profile    bool // the request asks for profile or email claims
}

type loginPage struct {
	Form
	Title string
	CSRF  string
}

// securityHeaders keeps the pages out of frames and caches and limits
// them to this origin's stylesheet.
func securityHeaders(c echo.Context) {
	hd := c.Response().Header()
	hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Cache-Control", "no-store")
	hd.Set("Pragma", "no-cache")
}

func render(c echo.Context, status int, name string, data any) error {
	securityHeaders(c)
	var b strings.Builder
	if err := pages.ExecuteTemplate(&b, name, data); err != nil {
		return fmt.Errorf("render %s page: %w", name, err)
	}
	return c.HTML(status, b.String())
}

// RenderLogin renders the form with a CSRF token (reusing the browser's,
// when it has one).
func (h *Handler) RenderLogin(c echo.Context, status int, f Form) error {
	token := ""
	if ck, err := c.Cookie(h.cookieName(CSRFCookie)); err == nil && validToken(ck.Value) {
		token = ck.Value
	} else {
		var err error
		if token, err = newID(); err != nil {
			return err
		}
	}
	// Strict: the form is only ever posted from this origin.
	c.SetCookie(h.cookie(CSRFCookie, token, int((2 * time.Hour).Seconds()), http.SameSiteStrictMode))
	return render(c, status, "login", loginPage{Form: f, Title: "Sign in", CSRF: token})
}

// validToken accepts what newID makes: 43 base64url characters.
func validToken(s string) bool {
	if len(s) != 43 {
		return false
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if (ch < 'A' || ch > 'Z') && (ch < 'a' || ch > 'z') && (ch < '0' || ch > '9') && ch != '-' && ch != '_' {
			return false
		}
	}
	return true
}

type messagePage struct {
	Title, Message, Link, LinkText string
}

// RenderMessage renders a plain page (errors that must not redirect,
// "signed out").
func RenderMessage(c echo.Context, status int, title, message string) error {
	return render(c, status, "message", messagePage{Title: title, Message: message})
}

// ClientName is what the form calls a client: its name, else its id.
func (h *Handler) ClientName(ctx context.Context, clientID string) string {
	if cl, err := h.Store.GetClient(ctx, clientID); err == nil && cl.Name != "" {
		return cl.Name
	}
	return clientID
}

// Messages shown on the form. Wrong credentials never say which part was
// wrong.
const (
	msgBadCredentials = "The username or password is incorrect."
	msgMissing        = "Enter your username and password."
	msgExpiredForm    = "The sign-in form expired. Please sign in again."
)

func (h *Handler) login(c echo.Context) error {
	ctx := c.Request().Context()
	form, err := readForm(c)
	if err != nil {
		return RenderMessage(c, http.StatusBadRequest, "Bad request", "The sign-in form could not be read. Go back to the application and try again.")
	}
	request := form.Get("request")
	q, err := url.ParseQuery(request)
	if err != nil || q.Get("client_id") == "" {
		return RenderMessage(c, http.StatusBadRequest, "Bad request", "The sign-in form is missing its authorization request. Go back to the application and try again.")
	}
	f := Form{ClientName: h.ClientName(ctx, q.Get("client_id")), Request: request, Username: strings.TrimSpace(form.Get("username")),
		Profile: wantsProfile(q.Get("scope"))}

	ck, err := c.Cookie(h.cookieName(CSRFCookie))
	sent := form.Get(csrfField)
	if err != nil || !validToken(ck.Value) || subtle.ConstantTimeCompare([]byte(ck.Value), []byte(sent)) != 1 {
		h.Logger.InfoContext(ctx, "login form refused: CSRF token missing or wrong")
		f.Error = msgExpiredForm
		return h.RenderLogin(c, http.StatusForbidden, f)
	}
	pass := form.Get("password")
	if f.Username == "" || pass == "" {
		f.Error = msgMissing
		return h.RenderLogin(c, http.StatusBadRequest, f)
	}

	u, err := h.Auth.AuthenticatePassword(ctx, f.Username, pass, c.RealIP())
	var oe *oautherr.Error
	switch {
	case err == nil:
	case errors.Is(err, oerrors.ErrInvalidGrant):
		f.Error = msgBadCredentials
		return h.RenderLogin(c, http.StatusUnauthorized, f)
	case errors.As(err, &oe) && oe.Status == http.StatusTooManyRequests:
		wait := oe.Header.Get("Retry-After")
		c.Response().Header().Set("Retry-After", wait)
		f.Error = "Too many failed sign-in attempts. Try again in " + waitText(wait) + "."
		return h.RenderLogin(c, http.StatusTooManyRequests, f)
	default:
		h.Logger.ErrorContext(ctx, "login failed", "err", err)
		return RenderMessage(c, http.StatusInternalServerError, "Something went wrong", "Sign-in is unavailable right now. Please try again in a moment.")
	}

	now := h.now()
	id, err := h.Sessions.Create(ctx, &Session{UserID: u.ID, AuthTime: now, ExpiresAt: now.Add(h.ttl())})
	if err != nil {
		h.Logger.ErrorContext(ctx, "create login session", "err", err)
		return RenderMessage(c, http.StatusInternalServerError, "Something went wrong", "Sign-in is unavailable right now. Please try again in a moment.")
	}
	// A fresh id at every sign-in: a session id planted before login is
	// never promoted (session fixation).
	c.SetCookie(h.cookie(SessionCookie, id, int(h.ttl().Seconds()), http.SameSiteLaxMode))
	h.Logger.InfoContext(ctx, "browser sign-in", "user_id", u.ID, "client_id", q.Get("client_id"))
	securityHeaders(c)
	// Back to the authorization endpoint, which re-validates the request
	// and now finds the session. Only our own path is ever a target here.
	return c.Redirect(http.StatusSeeOther, PathAuthorize+"?"+q.Encode())
}

func wantsProfile(scope string) bool {
	sc := strings.Fields(scope)
	return slices.Contains(sc, "profile") || slices.Contains(sc, "email")
}

func waitText(retryAfter string) string {
	s, err := strconv.Atoi(retryAfter)
	if err != nil || s <= 60 {
		return "a minute"
	}
	return strconv.Itoa((s+59)/60) + " minutes"
}

func readForm(c echo.Context) (url.Values, error) {
	r := c.Request()
	mt, _, err := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType))
	if err != nil || mt != echo.MIMEApplicationForm {
		return nil, errors.New("not a form")
	}
	r.Body = http.MaxBytesReader(c.Response(), r.Body, bodyLimit)
	if err := r.ParseForm(); err != nil {
		return nil, fmt.Errorf("parse login form: %w", err)
	}
	return r.PostForm, nil
}

// logout ends the login session (OpenID Connect RP-Initiated Logout 1.0,
// GET). post_logout_redirect_uri must exactly match a redirect URI
// registered for client_id (or, without client_id, for some client);
// anything else gets a page, never a redirect.
func (h *Handler) logout(c echo.Context) error {
	ctx := c.Request().Context()
	q := c.QueryParams()
	target := q.Get("post_logout_redirect_uri")
	if target != "" {
		ok, err := h.registeredURI(ctx, q.Get("client_id"), target)
		if err != nil {
			h.Logger.ErrorContext(ctx, "logout: check redirect", "err", err)
			return RenderMessage(c, http.StatusInternalServerError, "Something went wrong", "Please try again in a moment.")
		}
		if !ok {
			return RenderMessage(c, http.StatusBadRequest, "Invalid sign-out request",
				"The address to return to after signing out is not registered for this application.")
		}
	}
	if clientID := q.Get("client_id"); h.Revoke != nil && clientID != "" {
		if err := h.revokeAtClient(c, clientID); err != nil {
			h.Logger.ErrorContext(ctx, "logout: revoke tokens", "client_id", clientID, "err", err)
			return RenderMessage(c, http.StatusInternalServerError, "Something went wrong", "Please try again in a moment.")
		}
	}
	h.End(c)
	if target == "" {
		return RenderMessage(c, http.StatusOK, "Signed out", "You are signed out. You can close this window.")
	}
	u, err := url.Parse(target)
	if err != nil {
		return RenderMessage(c, http.StatusBadRequest, "Invalid sign-out request", "The return address is malformed.")
	}
	if st := q.Get("state"); st != "" {
		v := u.Query()
		v.Set("state", st)
		u.RawQuery = v.Encode()
	}
	securityHeaders(c)
	return c.Redirect(http.StatusFound, u.String())
}

// revokeAtClient revokes the session user's tokens at a registered client.
func (h *Handler) revokeAtClient(c echo.Context, clientID string) error {
	ctx := c.Request().Context()
	sess, err := h.Current(c)
	if err != nil || sess == nil {
		return err
	}
	if _, err := h.Store.GetClient(ctx, clientID); errors.Is(err, storage.ErrNotFound) {
		return nil
	} else if err != nil {
		return fmt.Errorf("get client: %w", err)
	}
	if err := h.Revoke(ctx, sess.UserID, clientID); err != nil {
		return err
	}
	h.Logger.InfoContext(ctx, "browser logout revoked the user's tokens at the client", "user_id", sess.UserID, "client_id", clientID)
	return nil
}

func (h *Handler) registeredURI(ctx context.Context, clientID, target string) (bool, error) {
	if clientID != "" {
		cl, err := h.Store.GetClient(ctx, clientID)
		if errors.Is(err, storage.ErrNotFound) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("get client: %w", err)
		}
		return slices.Contains(cl.RedirectURIs, target), nil
	}
	p := storage.Page{Limit: 200}
	for {
		cls, next, err := h.Store.ListClients(ctx, storage.ClientFilter{}, p)
		if err != nil {
			return false, fmt.Errorf("list clients: %w", err)
		}
		for _, cl := range cls {
			if slices.Contains(cl.RedirectURIs, target) {
				return true, nil
			}
		}
		if next == "" {
			return false, nil
		}
		p.Cursor = next
	}
}
