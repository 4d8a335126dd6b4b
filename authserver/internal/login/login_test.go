package login_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	oerrors "github.com/go-oauth2/oauth2/v4/errors"
	"github.com/labstack/echo/v4"
	"github.com/redis/go-redis/v9"

	"github.com/portcullis/portcullis/authserver/internal/login"
	"github.com/portcullis/portcullis/authserver/internal/storage"
	sqlstore "github.com/portcullis/portcullis/authserver/internal/storage/sql"
)

// fixedAuth accepts one username and password.
type fixedAuth struct{}

func (fixedAuth) AuthenticatePassword(_ context.Context, u, p, _ string) (*storage.User, error) {
	if u == "alice" && p == "pw" {
		return &storage.User{ID: "u_alice", Username: "alice", Active: true}, nil
	}
	return nil, oerrors.ErrInvalidGrant
}

// TestHTTPSCookies checks the cookies of an https issuer: __Host- names,
// Secure, HttpOnly, SameSite (Lax for the session, Strict for CSRF).
func TestHTTPSCookies(t *testing.T) {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := sqlstore.Open(t.Context(), "sqlite:"+t.TempDir()+"/t.db", logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if _, err := st.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	h := &login.Handler{Issuer: "https://auth.example", Auth: fixedAuth{}, Sessions: login.NewMemorySessions(nil),
		Store: st, Logger: logger, SessionTTL: 10 * time.Minute}
	e := echo.New()
	h.Register(e.Group(""))
	e.GET("/form", func(c echo.Context) error {
		return h.RenderLogin(c, http.StatusOK, login.Form{ClientName: "x", Request: "client_id=x"})
	})
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)

	resp, err := http.Get(srv.URL + "/form") //nolint:noctx // test
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	csrf := cookie(resp, "__Host-portcullis_csrf")
	if csrf == nil || !csrf.Secure || !csrf.HttpOnly || csrf.SameSite != http.SameSiteStrictMode || csrf.Path != "/" || csrf.Domain != "" {
		t.Fatalf("CSRF cookie: %+v", csrf)
	}
	m := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindSubmatch(b)
	if m == nil || string(m[1]) != csrf.Value {
		t.Fatal("form token is not the cookie's")
	}

	form := url.Values{"csrf_token": {csrf.Value}, "request": {"client_id=x&state=s"}, "username": {"alice"}, "password": {"pw"}}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/oauth2/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(csrf)
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	sess := cookie(resp, "__Host-portcullis_session")
	if resp.StatusCode != http.StatusSeeOther || sess == nil || !sess.Secure || !sess.HttpOnly ||
		sess.SameSite != http.SameSiteLaxMode || sess.MaxAge != 600 || sess.Path != "/" {
		t.Fatalf("login: %d, session cookie %+v", resp.StatusCode, sess)
	}
	if loc := resp.Header.Get("Location"); loc != "/oauth2/authorize?client_id=x&state=s" {
		t.Fatalf("Location %q", loc)
	}
}

func cookie(resp *http.Response, name string) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func runSessions(t *testing.T, s login.Sessions, now time.Time) {
	t.Helper()
	ctx := t.Context()
	id, err := s.Create(ctx, &login.Session{UserID: "u_1", AuthTime: now, ExpiresAt: now.Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, id, now.Add(59*time.Second))
	if err != nil || got.UserID != "u_1" || !got.AuthTime.Equal(now) {
		t.Fatalf("get: %+v %v", got, err)
	}
	if _, err := s.Get(ctx, id, now.Add(time.Minute)); !errors.Is(err, login.ErrNoSession) {
		t.Fatalf("expired: %v", err)
	}
	if _, err := s.Get(ctx, "unknown", now); !errors.Is(err, login.ErrNoSession) {
		t.Fatalf("unknown: %v", err)
	}
	if err := s.Delete(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, id, now); !errors.Is(err, login.ErrNoSession) {
		t.Fatalf("deleted: %v", err)
	}
}

func TestMemorySessions(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	runSessions(t, login.NewMemorySessions(func() time.Time { return now }), now)
}

func TestRedisSessions(t *testing.T) {
	addr := os.Getenv("PORTCULLIS_TEST_REDIS_ADDR")
	prefix := "portcullis-test:login:" + time.Now().Format("150405.000000000") + ":"
	if addr == "" {
		addr = miniredis.RunT(t).Addr() // fast path; CI sets the real server
	}
	rc := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { _ = rc.Close() })
	now := time.Now().UTC()
	runSessions(t, login.NewRedisSessions(rc, prefix, func() time.Time { return now }), now)
}
