package authorize_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/portcullis/portcullis/authserver/internal/authcode"
	"github.com/portcullis/portcullis/authserver/internal/server/servertest"
	"github.com/portcullis/portcullis/authserver/internal/storage"
	"github.com/portcullis/portcullis/shared/roles"
)

const (
	password    = "correct horse battery staple"
	redirectURI = "http://127.0.0.1:9999/callback"
	verifier    = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-plus-some-more-entropy"
)

// env is a running auth server with one user, a public client ("spa") and
// a confidential one ("web"), and a browser-like HTTP client (cookie jar,
// redirects not followed).
type env struct {
	t         *testing.T
	s         *servertest.Server
	user      *storage.User
	webSecret string
	browser   *http.Client
}

func newEnv(t *testing.T, o servertest.Options) *env {
	t.Helper()
	s := servertest.New(t, o)
	e := &env{t: t, s: s}
	e.user = s.CreateUser(t, "alice", password, roles.Grant{Role: roles.Developer, Account: "acme", Application: "billing"})
	e.createClient("spa", true, []string{"authorization_code", "refresh_token"})
	e.webSecret = e.createClient("web", false, []string{"authorization_code", "refresh_token"})
	e.createClient("legacy", false, []string{"password"})
	e.browser = e.newBrowser()
	return e
}

func (e *env) newBrowser() *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (e *env) createClient(id string, public bool, grants []string) string {
	e.t.Helper()
	ctx := context.Background()
	c := &storage.Client{ID: id, Name: "App " + id, Public: public, GrantTypes: grants, RedirectURIs: []string{redirectURI},
		Scopes: []string{"openid", "profile", "email", "offline_access"}}
	secret := ""
	if !public {
		secret = "s3cret-" + id + "-0123456789abcdef"
		h, err := e.s.Passwords.Hash(ctx, secret)
		if err != nil {
			e.t.Fatal(err)
		}
		c.SecretHash = h
	}
	if err := e.s.Store.CreateClient(ctx, c); err != nil {
		e.t.Fatal(err)
	}
	return secret
}

// params is a valid authorization request of the public client.
func params() url.Values {
	return url.Values{
		"response_type": {"code"}, "client_id": {"spa"}, "redirect_uri": {redirectURI},
		"scope": {"openid profile email offline_access"}, "state": {"st-123"}, "nonce": {"n-456"},
		"code_challenge": {authcode.S256(verifier)}, "code_challenge_method": {"S256"},
	}
}

func (e *env) get(c *http.Client, path string, q url.Values) *http.Response {
	e.t.Helper()
	u := e.s.URL + path
	if q != nil {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, u, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp
}

func body(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var hiddenRE = regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)">`)

// hidden returns the login form's hidden fields.
func hidden(t *testing.T, page string) url.Values {
	t.Helper()
	out := url.Values{}
	for _, m := range hiddenRE.FindAllStringSubmatch(page, -1) {
		out.Set(m[1], html.UnescapeString(m[2]))
	}
	if out.Get("csrf_token") == "" || out.Get("request") == "" {
		t.Fatalf("no login form in page:\n%s", page)
	}
	return out
}

func (e *env) postLogin(c *http.Client, form url.Values) *http.Response {
	e.t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, e.s.URL+"/oauth2/login", strings.NewReader(form.Encode()))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp
}

// redirected checks resp is a redirect to the client and returns the
// query it carries.
func redirected(t *testing.T, resp *http.Response) url.Values {
	t.Helper()
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("status %d, want 302 to the client", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != redirectURI {
		t.Fatalf("redirected to %s", loc)
	}
	return loc.Query()
}

// login runs authorize → form → sign-in → authorize and returns the
// final redirect's query (code, state, iss).
func (e *env) login(c *http.Client, q url.Values, user, pass string) url.Values {
	e.t.Helper()
	resp := e.get(c, "/oauth2/authorize", q)
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("authorize: status %d: %s", resp.StatusCode, body(e.t, resp))
	}
	form := hidden(e.t, body(e.t, resp))
	form.Set("username", user)
	form.Set("password", pass)
	resp = e.postLogin(c, form)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("login: status %d", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Path != "/oauth2/authorize" || loc.Host != "" {
		e.t.Fatalf("login redirected to %q", resp.Header.Get("Location"))
	}
	return redirected(e.t, e.get(c, "/oauth2/authorize", loc.Query()))
}

// exchange redeems a code at the token endpoint.
func (e *env) exchange(clientID, secret, code, redirect, codeVerifier string) servertest.TokenResponse {
	e.t.Helper()
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect}}
	if codeVerifier != "" {
		form.Set("code_verifier", codeVerifier)
	}
	return e.s.Token(e.t, clientID, secret, form)
}

// tokenWithID decodes the id_token field too.
func (e *env) rawToken(clientID, code string) map[string]any {
	e.t.Helper()
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI},
		"code_verifier": {verifier}, "client_id": {clientID}}
	resp := e.s.PostForm(e.t, "/oauth2/token", form, "", "")
	var m map[string]any
	if err := json.Unmarshal([]byte(body(e.t, resp)), &m); err != nil {
		e.t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("token: %d %v", resp.StatusCode, m)
	}
	return m
}

func claimsOf(t *testing.T, tok string) (header, claims map[string]any) {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", tok)
	}
	dec := func(s string) map[string]any {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	return dec(parts[0]), dec(parts[1])
}

func (e *env) userinfo(token string) (*http.Response, map[string]any) {
	e.t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, e.s.URL+"/userinfo", nil)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := e.s.HTTP.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	var m map[string]any
	_ = json.Unmarshal([]byte(body(e.t, resp)), &m)
	return resp, m
}
