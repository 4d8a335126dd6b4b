package authorize_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jwt"

	"github.com/portcullis/portcullis/authserver/internal/authcode"
	"github.com/portcullis/portcullis/authserver/internal/server/servertest"
	"github.com/portcullis/portcullis/authserver/internal/storage"
)

func TestCodeFlowPublicClientWithIDToken(t *testing.T) {
	e := newEnv(t, servertest.Options{})
	start := e.s.Clock.Now()
	got := e.login(e.browser, params(), "alice", password)
	if got.Get("state") != "st-123" || got.Get("iss") != e.s.URL || got.Get("code") == "" || got.Get("error") != "" {
		t.Fatalf("redirect query: %v", got)
	}

	m := e.rawToken("spa", got.Get("code"))
	if m["token_type"] != "Bearer" || m["access_token"] == "" || m["refresh_token"] == nil || m["id_token"] == nil {
		t.Fatalf("token response: %v", m)
	}
	if m["scope"] != "openid profile email offline_access" {
		t.Fatalf("scope %v", m["scope"])
	}
	idt := m["id_token"].(string)
	h, c := claimsOf(t, idt)
	if h["typ"] != "JWT" || h["kid"] == nil {
		t.Fatalf("id_token header %v", h)
	}
	want := map[string]any{"iss": e.s.URL, "sub": e.user.ID, "aud": "spa", "nonce": "n-456",
		"preferred_username": "alice", "name": "alice", "email": "alice@example.test"}
	for k, v := range want {
		if c[k] != v {
			t.Errorf("id_token %s = %v, want %v", k, c[k], v)
		}
	}
	if int64(c["auth_time"].(float64)) != start.Unix() || int64(c["iat"].(float64)) != start.Unix() ||
		int64(c["exp"].(float64)) != start.Add(5*time.Minute).Unix() {
		t.Errorf("id_token times: %v", c)
	}
	// A stock library verifies it against the published JWKS.
	set, err := jwk.Fetch(context.Background(), e.s.URL+"/.well-known/jwks.json", jwk.WithHTTPClient(e.s.HTTP.Client()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := jwt.Parse([]byte(idt), jwt.WithKeySet(set), jwt.WithValidate(true), jwt.WithIssuer(e.s.URL),
		jwt.WithAudience("spa"), jwt.WithClock(jwt.ClockFunc(e.s.Clock.Now))); err != nil {
		t.Fatalf("id_token does not verify: %v", err)
	}

	// The access token is the usual RFC 9068 token of the user.
	_, ac := claimsOf(t, m["access_token"].(string))
	if ac["sub"] != e.user.ID || ac["client_id"] != "spa" || ac["roles"] == nil {
		t.Fatalf("access token claims %v", ac)
	}
	// /userinfo releases the claims of the token's scope.
	resp, ui := e.userinfo(m["access_token"].(string))
	if resp.StatusCode != http.StatusOK || ui["sub"] != e.user.ID || ui["preferred_username"] != "alice" || ui["email"] != "alice@example.test" {
		t.Fatalf("userinfo %d %v", resp.StatusCode, ui)
	}
	// The refresh token works, and keeps the scope.
	rt := e.s.Token(t, "spa", "", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {m["refresh_token"].(string)}})
	if rt.Status != http.StatusOK || rt.Scope != "openid profile email offline_access" {
		t.Fatalf("refresh: %+v", rt)
	}

	// Signed in: the next authorization skips the form.
	resp = e.get(e.browser, "/oauth2/authorize", params())
	again := redirected(t, resp)
	if again.Get("code") == "" || again.Get("code") == got.Get("code") {
		t.Fatalf("second authorize: %v", again)
	}
	// ... until the session expires.
	e.s.Clock.Advance(16 * time.Minute)
	resp = e.get(e.browser, "/oauth2/authorize", params())
	if resp.StatusCode != http.StatusOK || !strings.Contains(body(t, resp), `name="password"`) {
		t.Fatalf("expired session: status %d, want the form", resp.StatusCode)
	}
}

func TestProfileClaimsFollowScope(t *testing.T) {
	e := newEnv(t, servertest.Options{})
	q := params()
	q.Set("scope", "openid")
	q.Del("nonce")
	got := e.login(e.browser, q, "alice", password)
	m := e.rawToken("spa", got.Get("code"))
	_, c := claimsOf(t, m["id_token"].(string))
	for _, k := range []string{"preferred_username", "name", "email", "nonce"} {
		if _, ok := c[k]; ok {
			t.Errorf("scope openid released %s", k)
		}
	}
	if _, ok := m["refresh_token"]; !ok {
		t.Error("no refresh token for a client allowed to refresh")
	}
	// Without openid: no ID token.
	q.Set("scope", "email")
	got = redirected(t, e.get(e.browser, "/oauth2/authorize", q))
	m = e.rawToken("spa", got.Get("code"))
	if _, ok := m["id_token"]; ok {
		t.Fatal("id_token without the openid scope")
	}
	resp, ui := e.userinfo(m["access_token"].(string))
	if resp.StatusCode != http.StatusForbidden || ui["error"] != "insufficient_scope" ||
		!strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="insufficient_scope"`) {
		t.Fatalf("userinfo without openid: %d %v", resp.StatusCode, ui)
	}
}

func TestConfidentialClient(t *testing.T) {
	e := newEnv(t, servertest.Options{})
	q := params()
	q.Set("client_id", "web")
	q.Del("code_challenge")
	q.Del("code_challenge_method")
	got := e.login(e.browser, q, "alice", password)
	// PKCE is optional for a confidential client, but the secret is not.
	if tr := e.exchange("web", "wrong-secret", got.Get("code"), redirectURI, ""); tr.Status != http.StatusUnauthorized || tr.Error != "invalid_client" {
		t.Fatalf("wrong secret: %+v", tr)
	}
	got = redirected(t, e.get(e.browser, "/oauth2/authorize", q))
	tr := e.exchange("web", e.webSecret, got.Get("code"), redirectURI, "")
	if tr.Status != http.StatusOK || tr.AccessToken == "" || tr.RefreshToken == "" {
		t.Fatalf("exchange: %+v", tr)
	}
	// A verifier without a challenge is a downgrade attempt.
	got = redirected(t, e.get(e.browser, "/oauth2/authorize", q))
	if tr := e.exchange("web", e.webSecret, got.Get("code"), redirectURI, verifier); tr.Status != http.StatusBadRequest || tr.Error != "invalid_grant" {
		t.Fatalf("verifier without challenge: %+v", tr)
	}
}

func TestTokenEndpointCodeErrors(t *testing.T) {
	e := newEnv(t, servertest.Options{})
	code := func() string { return redirected(t, e.get(e.browser, "/oauth2/authorize", params())).Get("code") }
	e.login(e.browser, params(), "alice", password) // sign in once; later codes come without the form

	cases := []struct {
		name                       string
		client, redirect, verifier string
		code                       string
	}{
		{"bad PKCE verifier", "spa", redirectURI, strings.Repeat("x", 43), code()},
		{"missing verifier", "spa", redirectURI, "", code()},
		{"mismatched redirect_uri", "spa", "http://127.0.0.1:9999/other", verifier, code()},
		{"unknown code", "spa", redirectURI, verifier, "not-a-code"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tr := e.exchange(tc.client, "", tc.code, tc.redirect, tc.verifier)
			if tr.Status != http.StatusBadRequest || tr.Error != "invalid_grant" {
				t.Fatalf("got %d %s %s", tr.Status, tr.Error, tr.ErrorDescription)
			}
		})
	}

	t.Run("code of another client", func(t *testing.T) {
		tr := e.exchange("web", e.webSecret, code(), redirectURI, verifier)
		if tr.Status != http.StatusBadRequest || tr.Error != "invalid_grant" {
			t.Fatalf("got %+v", tr)
		}
	})
	t.Run("failed attempt spends the code", func(t *testing.T) {
		c := code()
		if tr := e.exchange("spa", "", c, redirectURI, strings.Repeat("y", 43)); tr.Error != "invalid_grant" {
			t.Fatalf("got %+v", tr)
		}
		if tr := e.exchange("spa", "", c, redirectURI, verifier); tr.Error != "invalid_grant" {
			t.Fatalf("right verifier after a wrong one: %+v", tr)
		}
	})
	t.Run("expired code", func(t *testing.T) {
		c := code()
		e.s.Clock.Advance(authcode.MaxTTL)
		tr := e.exchange("spa", "", c, redirectURI, verifier)
		if tr.Status != http.StatusBadRequest || tr.Error != "invalid_grant" {
			t.Fatalf("got %+v", tr)
		}
	})
	t.Run("code just before expiry", func(t *testing.T) {
		c := code()
		e.s.Clock.Advance(authcode.MaxTTL - time.Second)
		if tr := e.exchange("spa", "", c, redirectURI, verifier); tr.Status != http.StatusOK {
			t.Fatalf("got %+v", tr)
		}
	})
	t.Run("missing code or redirect_uri", func(t *testing.T) {
		tr := e.s.Token(t, "spa", "", url.Values{"grant_type": {"authorization_code"}, "code": {"x"}})
		if tr.Status != http.StatusBadRequest || tr.Error != "invalid_request" {
			t.Fatalf("got %+v", tr)
		}
	})
	t.Run("client without the grant", func(t *testing.T) {
		tr := e.exchange("legacy", "s3cret-legacy-0123456789abcdef", "x", redirectURI, "")
		if tr.Status != http.StatusBadRequest || tr.Error != "unauthorized_client" {
			t.Fatalf("got %+v", tr)
		}
	})
}

func TestReusedCodeRevokesItsTokens(t *testing.T) {
	e := newEnv(t, servertest.Options{})
	got := e.login(e.browser, params(), "alice", password)
	first := e.exchange("spa", "", got.Get("code"), redirectURI, verifier)
	if first.Status != http.StatusOK {
		t.Fatalf("first exchange: %+v", first)
	}
	if resp, _ := e.userinfo(first.AccessToken); resp.StatusCode != http.StatusOK {
		t.Fatalf("userinfo before reuse: %d", resp.StatusCode)
	}
	second := e.exchange("spa", "", got.Get("code"), redirectURI, verifier)
	if second.Status != http.StatusBadRequest || second.Error != "invalid_grant" {
		t.Fatalf("reused code: %+v", second)
	}
	// The refresh token issued from the code is revoked ...
	rt := e.s.Token(t, "spa", "", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first.RefreshToken}})
	if rt.Status != http.StatusBadRequest || rt.Error != "invalid_grant" {
		t.Fatalf("refresh after code reuse: %+v", rt)
	}
	// ... and so is the access token.
	resp, m := e.userinfo(first.AccessToken)
	if resp.StatusCode != http.StatusUnauthorized || m["error"] != "invalid_token" {
		t.Fatalf("userinfo after code reuse: %d %v", resp.StatusCode, m)
	}
	intro := e.s.PostForm(t, "/oauth2/introspect", url.Values{"token": {first.AccessToken}}, "web", e.webSecret)
	if b := body(t, intro); !strings.Contains(b, `"active":false`) {
		t.Fatalf("introspection after code reuse: %s", b)
	}
}

// authorizeErr runs an authorization request of a signed-out browser and
// returns the error redirect's query.
func authorizeErr(t *testing.T, e *env, q url.Values) url.Values {
	t.Helper()
	return redirected(t, e.get(e.newBrowser(), "/oauth2/authorize", q))
}

func TestAuthorizeRedirectErrors(t *testing.T) {
	e := newEnv(t, servertest.Options{})
	cases := []struct {
		name   string
		change func(url.Values)
		err    string
	}{
		{"plain refused", func(q url.Values) { q.Set("code_challenge", verifier); q.Set("code_challenge_method", "plain") }, "invalid_request"},
		{"method missing means plain", func(q url.Values) { q.Del("code_challenge_method") }, "invalid_request"},
		{"unknown method", func(q url.Values) { q.Set("code_challenge_method", "S512") }, "invalid_request"},
		{"malformed challenge", func(q url.Values) { q.Set("code_challenge", "short") }, "invalid_request"},
		{"public client without PKCE", func(q url.Values) { q.Del("code_challenge"); q.Del("code_challenge_method") }, "invalid_request"},
		{"method without challenge", func(q url.Values) { q.Del("code_challenge") }, "invalid_request"},
		{"response_type token", func(q url.Values) { q.Set("response_type", "token") }, "unsupported_response_type"},
		{"response_type missing", func(q url.Values) { q.Del("response_type") }, "invalid_request"},
		{"scope not allowed", func(q url.Values) { q.Set("scope", "openid admin") }, "invalid_scope"},
		{"repeated parameter", func(q url.Values) { q.Add("scope", "openid") }, "invalid_request"},
		{"client without the grant", func(q url.Values) { q.Set("client_id", "legacy") }, "unauthorized_client"},
		{"prompt=none signed out", func(q url.Values) { q.Set("prompt", "none") }, "login_required"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q := params()
			tc.change(q)
			got := authorizeErr(t, e, q)
			if got.Get("error") != tc.err || got.Get("state") != "st-123" || got.Get("iss") != e.s.URL || got.Get("code") != "" {
				t.Fatalf("got %v, want error=%s with state", got, tc.err)
			}
		})
	}
	t.Run("missing state", func(t *testing.T) {
		q := params()
		q.Del("state")
		got := authorizeErr(t, e, q)
		if got.Get("error") != "invalid_request" || got.Has("state") || !strings.Contains(got.Get("error_description"), "state") {
			t.Fatalf("got %v", got)
		}
	})
	t.Run("missing state while signed in", func(t *testing.T) {
		b := e.newBrowser()
		e.login(b, params(), "alice", password)
		q := params()
		q.Del("state")
		got := redirected(t, e.get(b, "/oauth2/authorize", q))
		if got.Get("error") != "invalid_request" || got.Get("code") != "" {
			t.Fatalf("got %v", got)
		}
	})
}

func TestAuthorizeErrorPagesNeverRedirect(t *testing.T) {
	e := newEnv(t, servertest.Options{})
	cases := []struct {
		name   string
		change func(url.Values)
	}{
		{"unknown client", func(q url.Values) { q.Set("client_id", "nobody") }},
		{"missing client", func(q url.Values) { q.Del("client_id") }},
		{"mismatched redirect_uri", func(q url.Values) { q.Set("redirect_uri", "https://evil.example/callback") }},
		{"redirect_uri with extra path", func(q url.Values) { q.Set("redirect_uri", redirectURI+"/x") }},
		{"redirect_uri with extra query", func(q url.Values) { q.Set("redirect_uri", redirectURI+"?a=1") }},
		{"missing redirect_uri", func(q url.Values) { q.Del("redirect_uri") }},
		{"repeated redirect_uri", func(q url.Values) { q.Add("redirect_uri", redirectURI) }},
		{"bad redirect and other errors", func(q url.Values) { q.Set("redirect_uri", "https://evil.example/"); q.Del("state") }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q := params()
			tc.change(q)
			resp := e.get(e.newBrowser(), "/oauth2/authorize", q)
			b := body(t, resp)
			if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" ||
				!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(b, "<h1") {
				t.Fatalf("status %d, location %q, type %q", resp.StatusCode, resp.Header.Get("Location"), resp.Header.Get("Content-Type"))
			}
		})
	}
}

func TestLoginForm(t *testing.T) {
	e := newEnv(t, servertest.Options{})
	resp := e.get(e.browser, "/oauth2/authorize", params())
	page := body(t, resp)
	for _, want := range []string{
		`<html lang="en">`, `name="viewport"`, `<label for="username">`, `<label for="password">`,
		`autocomplete="username"`, `autocomplete="current-password"`, `href="/oauth2/assets/login.css"`, "App spa",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("login page lacks %s", want)
		}
	}
	if strings.Contains(page, "http://") && strings.Contains(page, "<script") {
		t.Error("login page loads scripts")
	}
	hd := resp.Header
	if !strings.Contains(hd.Get("Content-Security-Policy"), "frame-ancestors 'none'") || hd.Get("X-Frame-Options") != "DENY" ||
		hd.Get("Cache-Control") != "no-store" {
		t.Errorf("security headers: %v", hd)
	}
	css := e.get(e.browser, "/oauth2/assets/login.css", nil)
	if css.StatusCode != http.StatusOK || !strings.HasPrefix(css.Header.Get("Content-Type"), "text/css") || !strings.Contains(body(t, css), "@media") {
		t.Fatalf("stylesheet: %d", css.StatusCode)
	}

	form := hidden(t, page)
	try := func(user, pass string, csrf string) (*http.Response, string) {
		f := url.Values{"csrf_token": {csrf}, "request": {form.Get("request")}, "username": {user}, "password": {pass}}
		r := e.postLogin(e.browser, f)
		return r, body(t, r)
	}
	// Wrong password and unknown user: the same generic message.
	r1, p1 := try("alice", "wrong password", form.Get("csrf_token"))
	r2, p2 := try("mallory", "wrong password", form.Get("csrf_token"))
	for _, c := range []struct {
		r *http.Response
		p string
	}{{r1, p1}, {r2, p2}} {
		if c.r.StatusCode != http.StatusUnauthorized || !strings.Contains(c.p, "The username or password is incorrect.") ||
			!strings.Contains(c.p, `role="alert"`) || !strings.Contains(c.p, `aria-invalid="true"`) {
			t.Fatalf("wrong credentials: %d\n%s", c.r.StatusCode, c.p)
		}
	}
	if !strings.Contains(p1, `value="alice"`) || strings.Contains(p1, "wrong password") {
		t.Error("the form should keep the username and never echo the password")
	}
	// CSRF: a missing or foreign token is refused.
	if r, _ := try("alice", password, ""); r.StatusCode != http.StatusForbidden {
		t.Fatalf("no CSRF token: %d", r.StatusCode)
	}
	other := e.get(e.newBrowser(), "/oauth2/authorize", params())
	if r, _ := try("alice", password, hidden(t, body(t, other)).Get("csrf_token")); r.StatusCode != http.StatusForbidden {
		t.Fatalf("another browser's CSRF token: %d", r.StatusCode)
	}
	if r, _ := try("", "", form.Get("csrf_token")); r.StatusCode != http.StatusBadRequest {
		t.Fatalf("empty fields: %d", r.StatusCode)
	}
	// Success sets the session cookie: HttpOnly, SameSite=Lax, not Secure on http.
	r, _ := try("alice", password, form.Get("csrf_token"))
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d", r.StatusCode)
	}
	var sc *http.Cookie
	for _, c := range r.Cookies() {
		if c.Name == "portcullis_session" {
			sc = c
		}
	}
	if sc == nil || !sc.HttpOnly || sc.SameSite != http.SameSiteLaxMode || sc.Secure || sc.MaxAge != 900 || sc.Path != "/" {
		t.Fatalf("session cookie: %+v", sc)
	}
}

func TestLoginThrottledLikeTokenEndpoint(t *testing.T) {
	e := newEnv(t, servertest.Options{})
	page := body(t, e.get(e.browser, "/oauth2/authorize", params()))
	form := hidden(t, page)
	form.Set("username", "alice")
	form.Set("password", "nope")
	for i := range 5 {
		if r := e.postLogin(e.browser, form); r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i, r.StatusCode)
		}
	}
	form.Set("password", password)
	r := e.postLogin(e.browser, form)
	p := body(t, r)
	if r.StatusCode != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" || !strings.Contains(p, "Too many failed sign-in attempts") {
		t.Fatalf("over the limit: %d %q", r.StatusCode, r.Header.Get("Retry-After"))
	}
	// The counters are the token endpoint's: the password grant is blocked too.
	legacy := "s3cret-legacy-0123456789abcdef"
	tr := e.s.Token(t, "legacy", legacy, url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {password}})
	if tr.Status != http.StatusTooManyRequests {
		t.Fatalf("password grant after login-page failures: %+v", tr)
	}
	e.s.Clock.Advance(16 * time.Minute)
	if r := e.postLogin(e.browser, form); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("after the window: %d", r.StatusCode)
	}
}

func TestDisabledUserLosesSession(t *testing.T) {
	e := newEnv(t, servertest.Options{})
	e.login(e.browser, params(), "alice", password)
	if _, err := e.s.Store.UpdateUser(context.Background(), e.user.ID, func(u *storage.User) error { u.Active = false; return nil }); err != nil {
		t.Fatal(err)
	}
	resp := e.get(e.browser, "/oauth2/authorize", params())
	if resp.StatusCode != http.StatusOK || !strings.Contains(body(t, resp), `name="password"`) {
		t.Fatalf("disabled user: %d, want the form", resp.StatusCode)
	}
}

func TestPromptLoginForcesTheForm(t *testing.T) {
	e := newEnv(t, servertest.Options{})
	e.login(e.browser, params(), "alice", password)
	q := params()
	q.Set("prompt", "login")
	got := e.login(e.browser, q, "alice", password)
	if got.Get("code") == "" {
		t.Fatalf("prompt=login: %v", got)
	}
	q.Set("prompt", "none")
	if got := redirected(t, e.get(e.browser, "/oauth2/authorize", q)); got.Get("code") == "" {
		t.Fatalf("prompt=none signed in: %v", got)
	}
}

func TestLogout(t *testing.T) {
	e := newEnv(t, servertest.Options{})
	e.login(e.browser, params(), "alice", password)

	bad := e.get(e.browser, "/oauth2/logout", url.Values{"post_logout_redirect_uri": {"https://evil.example/"}})
	if bad.StatusCode != http.StatusBadRequest || bad.Header.Get("Location") != "" {
		t.Fatalf("unregistered logout redirect: %d %q", bad.StatusCode, bad.Header.Get("Location"))
	}
	_ = bad.Body.Close()
	wrongClient := e.get(e.browser, "/oauth2/logout", url.Values{"post_logout_redirect_uri": {redirectURI}, "client_id": {"nobody"}})
	if wrongClient.StatusCode != http.StatusBadRequest {
		t.Fatalf("unknown client_id: %d", wrongClient.StatusCode)
	}
	_ = wrongClient.Body.Close()
	// Still signed in after refused logouts.
	if got := redirected(t, e.get(e.browser, "/oauth2/authorize", params())); got.Get("code") == "" {
		t.Fatal("refused logout ended the session")
	}

	tokens := e.exchange("spa", "", redirected(t, e.get(e.browser, "/oauth2/authorize", params())).Get("code"), redirectURI, verifier)
	if tokens.Status != http.StatusOK {
		t.Fatalf("exchange: %+v", tokens)
	}
	resp := e.get(e.browser, "/oauth2/logout", url.Values{"post_logout_redirect_uri": {redirectURI}, "client_id": {"spa"}, "state": {"bye"}})
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != redirectURI+"?state=bye" {
		t.Fatalf("logout: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	// Logging out of a client revokes the user's tokens there, as POST
	// /oauth2/logout does.
	rt := e.s.Token(t, "spa", "", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tokens.RefreshToken}})
	if rt.Status != http.StatusBadRequest || rt.Error != "invalid_grant" {
		t.Fatalf("refresh after logout: %+v", rt)
	}
	after := e.get(e.browser, "/oauth2/authorize", params())
	if after.StatusCode != http.StatusOK || !strings.Contains(body(t, after), `name="password"`) {
		t.Fatalf("after logout: %d, want the form", after.StatusCode)
	}
	plain := e.get(e.browser, "/oauth2/logout", nil)
	if plain.StatusCode != http.StatusOK || !strings.Contains(body(t, plain), "signed out") {
		t.Fatalf("logout without redirect: %d", plain.StatusCode)
	}
}

func TestUserinfoErrors(t *testing.T) {
	e := newEnv(t, servertest.Options{})
	resp, m := e.userinfo("")
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") != `Bearer realm="portcullis"` || m["error"] == nil {
		t.Fatalf("no token: %d %v %q", resp.StatusCode, m, resp.Header.Get("WWW-Authenticate"))
	}
	resp, m = e.userinfo("not.a.token")
	if resp.StatusCode != http.StatusUnauthorized || m["error"] != "invalid_token" ||
		!strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Fatalf("bad token: %d %v", resp.StatusCode, m)
	}
	got := e.login(e.browser, params(), "alice", password)
	tok := e.rawToken("spa", got.Get("code"))
	// An ID token is not an access token (typ JWT, audience the client).
	if resp, m := e.userinfo(tok["id_token"].(string)); resp.StatusCode != http.StatusUnauthorized || m["error"] != "invalid_token" {
		t.Fatalf("ID token as bearer: %d %v", resp.StatusCode, m)
	}
	e.s.Clock.Advance(6 * time.Minute)
	if resp, m := e.userinfo(tok["access_token"].(string)); resp.StatusCode != http.StatusUnauthorized || m["error"] != "invalid_token" {
		t.Fatalf("expired token: %d %v", resp.StatusCode, m)
	}
}

func TestDiscoveryListsTheBrowserFlow(t *testing.T) {
	e := newEnv(t, servertest.Options{})
	for _, path := range []string{"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"} {
		b := body(t, e.get(e.browser, path, nil))
		for _, want := range []string{
			`"authorization_endpoint":"` + e.s.URL + `/oauth2/authorize"`, `"userinfo_endpoint":"` + e.s.URL + `/userinfo"`,
			`"end_session_endpoint":"` + e.s.URL + `/oauth2/logout"`, `"response_types_supported":["code"]`,
			`"code_challenge_methods_supported":["S256"]`, `"authorization_code"`, `"id_token_signing_alg_values_supported":["EdDSA"]`,
			`"scopes_supported":["openid","profile","email","offline_access"]`, `"auth_time"`, `"nonce"`, `"preferred_username"`,
			`"authorization_response_iss_parameter_supported":true`,
		} {
			if !strings.Contains(b, want) {
				t.Errorf("%s lacks %s", path, want)
			}
		}
	}
}
