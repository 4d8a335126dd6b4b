package servertest

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/portcullis/portcullis/authserver/internal/admin"
	"github.com/portcullis/portcullis/authserver/internal/authcode"
	"github.com/portcullis/portcullis/authserver/internal/authorize"
	"github.com/portcullis/portcullis/authserver/internal/identity"
	"github.com/portcullis/portcullis/authserver/internal/login"
	"github.com/portcullis/portcullis/authserver/internal/oauth"
	"github.com/portcullis/portcullis/authserver/internal/password"
	"github.com/portcullis/portcullis/authserver/internal/ratelimit"
	"github.com/portcullis/portcullis/authserver/internal/refresh"
	"github.com/portcullis/portcullis/authserver/internal/server"
	"github.com/portcullis/portcullis/authserver/internal/signer"
	"github.com/portcullis/portcullis/authserver/internal/storage"
	sqlstore "github.com/portcullis/portcullis/authserver/internal/storage/sql"
	"github.com/portcullis/portcullis/shared/claims"
	"github.com/portcullis/portcullis/shared/roles"
)

// Clock is a settable clock shared by every component of a test server.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock starts a clock at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Options tweak a test server. Zero values mean the production defaults
// (except the argon2id cost, which is always cheap).
type Options struct {
	Algorithm         string // default EdDSA
	RSABits           int
	AccessTTL         time.Duration
	RefreshTTL        time.Duration
	RefreshReuseGrace time.Duration
	RotateEvery       time.Duration
	Prepublish        time.Duration
	RolesFormat       claims.Format
	Audience          []string
	Limits            oauth.LoginLimits // zero: 5 per username, 20 per IP
	LimitWindow       time.Duration
	// Refresh replaces the SQL refresh-token store (e.g. with Redis).
	Refresh func(storage.Store) refresh.Store
	// Start is the clock's initial time; default now, truncated to seconds.
	Start time.Time
	// Logger; default writes warnings to t.Output().
	Logger *slog.Logger
	// PasswordParams overrides the cheap argon2id parameters (benchmarks
	// use the production defaults); MaxConcurrent sizes the hashing pool.
	PasswordParams *password.Params
	MaxConcurrent  int
	// DSN opens this database instead of a fresh SQLite file (e.g. a
	// Postgres schema of the caller's); it is migrated here.
	DSN string
	// Revocations is handed to the token service (the logout issue's
	// emitter); nil records jti events in the store directly.
	Revocations oauth.RevocationEmitter
	// Mount registers extra handler groups (authorize, login, logout,
	// revocation feed) on the echo server before it starts listening; the
	// Server passed in is complete except that nothing has been served yet.
	Mount func(ts *Server, e *echo.Echo)
}

// Server is a running auth server.
type Server struct {
	URL       string // also the issuer
	HTTP      *httptest.Server
	Store     *sqlstore.Store
	Signer    *signer.Signer
	Tokens    *oauth.Service
	Codes     authcode.Store    // authorization codes (the browser flow)
	Identity  *identity.Service // the service behind the admin API
	Passwords *password.Hasher
	Clock     *Clock
	Registry  *prometheus.Registry
	Logger    *slog.Logger
	Options   Options
}

// CheapPasswordParams are argon2id parameters that cost microseconds.
var CheapPasswordParams = password.Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1}

// New boots a server and stops it when the test ends.
func New(tb testing.TB, o Options) *Server {
	tb.Helper()
	ctx := context.Background()
	if o.Algorithm == "" {
		o.Algorithm = signer.EdDSA
	}
	if o.RSABits == 0 {
		o.RSABits = 2048
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&o.AccessTTL, 5*time.Minute)
	def(&o.RefreshTTL, 720*time.Hour)
	def(&o.RotateEvery, 720*time.Hour)
	def(&o.Prepublish, time.Hour)
	def(&o.LimitWindow, 15*time.Minute)
	if o.Limits == (oauth.LoginLimits{}) {
		o.Limits = oauth.LoginLimits{PerUsername: 5, PerIP: 20}
	}
	if len(o.Audience) == 0 {
		o.Audience = []string{claims.DefaultAudience}
	}
	if o.Start.IsZero() {
		o.Start = time.Now().UTC().Truncate(time.Second)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(testOutput(tb), &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	clock := NewClock(o.Start)

	dsn := o.DSN
	if dsn == "" {
		dsn = "sqlite:" + filepath.Join(tb.TempDir(), "auth.db")
	}
	st, err := sqlstore.Open(ctx, dsn, o.Logger)
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() { _ = st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		tb.Fatalf("migrate: %v", err)
	}
	params, maxConc := CheapPasswordParams, 8
	if o.PasswordParams != nil {
		params = *o.PasswordParams
	}
	if o.MaxConcurrent > 0 {
		maxConc = o.MaxConcurrent
	}
	pw, err := password.New(params, maxConc)
	if err != nil {
		tb.Fatalf("password hasher: %v", err)
	}
	encKey := make([]byte, signer.EncryptionKeySize)
	_, _ = rand.Read(encKey)
	sg, err := signer.New(st, signer.Config{
		Algorithm: o.Algorithm, RSABits: o.RSABits, RotateEvery: o.RotateEvery, Prepublish: o.Prepublish,
		TokenTTL: o.AccessTTL, EncryptionKey: encKey,
	}, o.Logger, clock.Now)
	if err != nil {
		tb.Fatalf("signer: %v", err)
	}
	if err := sg.Sync(ctx); err != nil {
		tb.Fatalf("signer sync: %v", err)
	}

	hs := httptest.NewUnstartedServer(nil)
	issuer := "http://" + hs.Listener.Addr().String()
	var rs refresh.Store = refresh.NewSQL(st)
	if o.Refresh != nil {
		rs = o.Refresh(st)
	}
	reg := prometheus.NewRegistry()
	metrics := server.NewMetrics(reg)
	codes := authcode.NewMemory(clock.Now)
	svc, err := oauth.New(oauth.Config{
		Issuer: issuer, Audience: o.Audience, AccessTTL: o.AccessTTL, RefreshTTL: o.RefreshTTL,
		RefreshReuseGrace: o.RefreshReuseGrace, RolesFormat: o.RolesFormat, Limits: o.Limits,
		OnReuse: metrics.RefreshReuse.Inc,
	}, oauth.Deps{
		Store: st, Refresh: rs, Signer: sg, Keys: sg, Passwords: pw, Revocations: o.Revocations,
		Limiter: ratelimit.NewMemory(o.LimitWindow, clock.Now), Logger: o.Logger, Now: clock.Now,
		Codes: codes,
	})
	if err != nil {
		tb.Fatalf("token service: %v", err)
	}
	ids := identity.New(st, pw, o.Logger)
	ids.Now = clock.Now
	srv := server.New(server.Config{Issuer: issuer}, server.Deps{
		Tokens: svc, Signer: sg, Checks: map[string]server.Pinger{"database": st},
		Registry: reg, Metrics: metrics, Logger: o.Logger,
		Browser: authorize.Routes(authorize.Deps{Issuer: issuer, Store: st, Tokens: svc, Codes: codes,
			Sessions: login.NewMemorySessions(clock.Now), Logger: o.Logger, Now: clock.Now,
			Revoke: func(ctx context.Context, userID, clientID string) error {
				return rs.RevokeUser(ctx, userID, clientID, clock.Now())
			}}),
		Admin: &admin.Handler{Identity: ids, Store: st, Verifier: svc.Verifier(), Revocations: svc, Signer: sg,
			Logger: o.Logger, Now: clock.Now},
	})
	ts := &Server{URL: issuer, HTTP: hs, Store: st, Signer: sg, Tokens: svc, Codes: codes, Identity: ids, Passwords: pw, Clock: clock,
		Registry: reg, Logger: o.Logger, Options: o}
	if o.Mount != nil {
		o.Mount(ts, srv.Echo())
	}
	hs.Config.Handler = srv.Handler()
	hs.Start()
	tb.Cleanup(hs.Close)
	return ts
}

func testOutput(tb testing.TB) io.Writer {
	if t, ok := tb.(interface{ Output() io.Writer }); ok {
		return t.Output()
	}
	return io.Discard
}

// CreateUser creates an active user with the given password and grants.
func (s *Server) CreateUser(tb testing.TB, username, pass string, grants ...roles.Grant) *storage.User {
	tb.Helper()
	ctx := context.Background()
	h, err := s.Passwords.Hash(ctx, pass)
	if err != nil {
		tb.Fatalf("hash: %v", err)
	}
	u := &storage.User{Username: username, Email: username + "@example.test", PasswordHash: h, Active: true}
	if err := s.Store.CreateUser(ctx, u); err != nil {
		tb.Fatalf("create user: %v", err)
	}
	for _, g := range grants {
		s.EnsureScope(tb, g)
		if err := s.Store.CreateGrant(ctx, &storage.Grant{UserID: u.ID, Grant: g}); err != nil {
			tb.Fatalf("grant %v: %v", g, err)
		}
	}
	return u
}

// EnsureScope creates the account and application a grant names.
func (s *Server) EnsureScope(tb testing.TB, g roles.Grant) {
	tb.Helper()
	ctx := context.Background()
	if g.Account != "" {
		if _, err := s.Store.GetAccount(ctx, g.Account); err != nil {
			if err := s.Store.CreateAccount(ctx, &storage.Account{Name: g.Account, DisplayName: g.Account}); err != nil {
				tb.Fatalf("create account: %v", err)
			}
		}
	}
	if g.Application != "" {
		if _, err := s.Store.GetApplication(ctx, g.Account, g.Application); err != nil {
			if err := s.Store.CreateApplication(ctx, &storage.Application{Account: g.Account, Name: g.Application, DisplayName: g.Application}); err != nil {
				tb.Fatalf("create application: %v", err)
			}
		}
	}
}

// Client describes a client to create.
type Client struct {
	ID         string   // default: random
	Public     bool     // no secret
	GrantTypes []string // default: password, refresh_token, client_credentials (not the latter for public)
	Scopes     []string
	Grants     []roles.Grant // role grants of the client itself (client_credentials)
}

// CreateClient creates a client and returns its id and secret ("" for a
// public client).
func (s *Server) CreateClient(tb testing.TB, c Client) (id, secret string) {
	tb.Helper()
	ctx := context.Background()
	if c.ID == "" {
		c.ID = "c_" + password.NewSecret()[:12]
	}
	if c.GrantTypes == nil {
		c.GrantTypes = []string{oauth.GrantPassword, oauth.GrantRefreshToken}
		if !c.Public {
			c.GrantTypes = append(c.GrantTypes, oauth.GrantClientCredentials)
		}
	}
	sc := &storage.Client{ID: c.ID, Public: c.Public, Name: c.ID, GrantTypes: c.GrantTypes, Scopes: c.Scopes}
	if !c.Public {
		secret = password.NewSecret()
		h, err := s.Passwords.Hash(ctx, secret)
		if err != nil {
			tb.Fatalf("hash: %v", err)
		}
		sc.SecretHash = h
	}
	if err := s.Store.CreateClient(ctx, sc); err != nil {
		tb.Fatalf("create client: %v", err)
	}
	for _, g := range c.Grants {
		s.EnsureScope(tb, g)
		if err := s.Store.CreateGrant(ctx, &storage.Grant{ClientID: c.ID, Grant: g}); err != nil {
			tb.Fatalf("grant %v: %v", g, err)
		}
	}
	return c.ID, secret
}

// TokenResponse is the token endpoint's answer (success or error).
type TokenResponse struct {
	Status           int         `json:"-"`
	AccessToken      string      `json:"access_token"`
	TokenType        string      `json:"token_type"`
	ExpiresIn        int64       `json:"expires_in"`
	RefreshToken     string      `json:"refresh_token"`
	Scope            string      `json:"scope"`
	Error            string      `json:"error"`
	ErrorDescription string      `json:"error_description"`
	Header           http.Header `json:"-"`
}

// PostForm posts form to path with optional HTTP Basic credentials.
func (s *Server) PostForm(tb testing.TB, path string, form url.Values, basicUser, basicPass string) *http.Response {
	tb.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, s.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basicUser != "" {
		req.SetBasicAuth(url.QueryEscape(basicUser), url.QueryEscape(basicPass))
	}
	resp, err := s.HTTP.Client().Do(req)
	if err != nil {
		tb.Fatalf("POST %s: %v", path, err)
	}
	return resp
}

// Token posts a token request authenticating with HTTP Basic when secret
// is set, and with client_id in the body otherwise.
func (s *Server) Token(tb testing.TB, clientID, secret string, form url.Values) TokenResponse {
	tb.Helper()
	user := ""
	if secret != "" {
		user = clientID
	} else {
		form.Set("client_id", clientID)
	}
	resp := s.PostForm(tb, "/oauth2/token", form, user, secret)
	defer func() { _ = resp.Body.Close() }()
	var tr TokenResponse
	if err := json.NewDecoder(resp.Body).Decode(&tr); err != nil {
		tb.Fatalf("decode token response (status %d): %v", resp.StatusCode, err)
	}
	tr.Status, tr.Header = resp.StatusCode, resp.Header
	return tr
}

// PasswordToken runs the password grant and fails the test unless it
// succeeds.
func (s *Server) PasswordToken(tb testing.TB, clientID, secret, username, pass string) TokenResponse {
	tb.Helper()
	tr := s.Token(tb, clientID, secret, url.Values{"grant_type": {"password"}, "username": {username}, "password": {pass}})
	if tr.Status != http.StatusOK {
		tb.Fatalf("password grant: %d %s: %s", tr.Status, tr.Error, tr.ErrorDescription)
	}
	return tr
}

// MintUserToken creates a user holding grants and a client, and returns an
// access token for that user issued by the real token endpoint.
func (s *Server) MintUserToken(tb testing.TB, username string, grants ...roles.Grant) (accessToken string, user *storage.User) {
	tb.Helper()
	const pass = "correct horse battery staple"
	user = s.CreateUser(tb, username, pass, grants...)
	id, secret := s.CreateClient(tb, Client{})
	return s.PasswordToken(tb, id, secret, username, pass).AccessToken, user
}
