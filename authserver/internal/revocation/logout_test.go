package revocation_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/labstack/echo/v4"

	"github.com/portcullis/portcullis/authserver/internal/refresh"
	"github.com/portcullis/portcullis/authserver/internal/revocation"
	"github.com/portcullis/portcullis/authserver/internal/storage"
	sqlstore "github.com/portcullis/portcullis/authserver/internal/storage/sql"
	"github.com/portcullis/portcullis/shared/verify"
)

const testIssuer = "https://auth.test"

type logoutEnv struct {
	url   string
	st    *sqlstore.Store
	key   *ecdsa.PrivateKey
	clock *clock
	user  string
}

func newLogoutEnv(t *testing.T) *logoutEnv {
	t.Helper()
	c := newClock(time.Now())
	st := newStore(t, c)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	v, err := verify.New(verify.Config{Issuer: testIssuer, Audiences: []string{"portcullis"},
		Keys: verify.StaticKeys{"k1": {Public: &key.PublicKey, Algorithm: "ES256"}}, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	u := &storage.User{Username: "alice", Active: true}
	if err := st.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"web", "cli"} {
		if err := st.CreateClient(ctx, &storage.Client{ID: id, Name: id, GrantTypes: []string{"password", "refresh_token"}}); err != nil {
			t.Fatal(err)
		}
		if err := st.CreateRefreshToken(ctx, &storage.RefreshToken{TokenHash: "h-" + id, UserID: u.ID, ClientID: id,
			AuthTime: c.Now(), IssuedAt: c.Now(), ExpiresAt: c.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	e := echo.New()
	(&revocation.LogoutHandler{Verifier: v, Refresh: refresh.NewSQL(st), Emitter: newEmitter(t, st, nil, "", c),
		Logger: testLogger(t), Now: c.Now}).Register(e.Group(""))
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return &logoutEnv{url: srv.URL + revocation.LogoutPath, st: st, key: key, clock: c, user: u.ID}
}

func (e *logoutEnv) token(t *testing.T, client string) string {
	t.Helper()
	now := e.clock.Now()
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{
		"iss": testIssuer, "sub": e.user, "aud": []string{"portcullis"}, "client_id": client, "jti": "j-" + client,
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "roles": []any{},
	})
	tok.Header["kid"], tok.Header["typ"] = "k1", "at+jwt"
	s, err := tok.SignedString(e.key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (e *logoutEnv) post(t *testing.T, auth string, form url.Values) (*http.Response, map[string]string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, e.url, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]string
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp, body
}

func (e *logoutEnv) live(t *testing.T, client string) bool {
	t.Helper()
	rt, err := e.st.GetRefreshTokenByHash(t.Context(), "h-"+client)
	if err != nil {
		t.Fatal(err)
	}
	return rt.RevokedAt == nil
}

func TestLogoutRefusesRequestsWithoutAValidToken(t *testing.T) {
	e := newLogoutEnv(t)
	cases := []struct{ name, auth, code string }{
		{"no Authorization", "", "invalid_request"},
		{"not a bearer token", "Basic d2ViOng=", "invalid_request"},
		{"garbage token", "Bearer not.a.jwt", "invalid_token"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := e.post(t, tc.auth, nil)
			if resp.StatusCode != http.StatusUnauthorized || body["error"] != tc.code ||
				!strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer ") {
				t.Fatalf("got %d %v %q", resp.StatusCode, body, resp.Header.Get("WWW-Authenticate"))
			}
		})
	}
	if !e.live(t, "web") || !e.live(t, "cli") {
		t.Fatal("a refused logout revoked refresh tokens")
	}
}

func TestLogoutRevokesTheClientsSessionAndEmits(t *testing.T) {
	e := newLogoutEnv(t)
	resp, _ := e.post(t, "Bearer "+e.token(t, "web"), nil)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	if e.live(t, "web") || !e.live(t, "cli") {
		t.Fatal("logout must revoke the refresh tokens of the token's client only")
	}
	evs, err := e.st.ListRevocationEvents(t.Context(), 0, e.clock.Now(), 10)
	if err != nil || len(evs) != 1 {
		t.Fatalf("%d events (%v), want 1", len(evs), err)
	}
	if ev := evs[0]; ev.Kind != "sub" || ev.Subject != e.user || ev.ClientID != "web" || ev.NotBefore.Before(e.clock.Now()) {
		t.Fatalf("event %+v", ev)
	}

	resp, _ = e.post(t, "Bearer "+e.token(t, "cli"), url.Values{"everywhere": {"true"}})
	if resp.StatusCode != http.StatusNoContent || e.live(t, "cli") {
		t.Fatalf("logout everywhere: %d, cli session live=%v", resp.StatusCode, e.live(t, "cli"))
	}
	evs, _ = e.st.ListRevocationEvents(t.Context(), evs[0].Seq, e.clock.Now(), 10)
	if len(evs) != 1 || evs[0].ClientID != "" || evs[0].Subject != e.user {
		t.Fatalf("logout everywhere events %+v, want one subject-wide event", evs)
	}
}
