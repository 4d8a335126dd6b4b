package gateway_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/portcullis/portcullis/gateway/internal/config"
	"github.com/portcullis/portcullis/gateway/internal/gateway"
	"github.com/portcullis/portcullis/gateway/internal/gatewaytest"
	"github.com/portcullis/portcullis/shared/roles"
)

type env struct {
	clock    *gatewaytest.Clock
	issuer   *gatewaytest.Issuer
	upstream string
	gw       *gateway.Gateway
	url      string
	cfg      *config.File
}

// newEnv starts an issuer, an upstream and a gateway with the standard
// resources below; tweak may change the config before start.
func newEnv(t *testing.T, tweak func(*config.File)) *env {
	t.Helper()
	e := &env{clock: gatewaytest.NewClock(t0)}
	e.issuer = gatewaytest.NewIssuer(t, e.clock, "", "EdDSA")
	e.upstream = gatewaytest.Upstream(t).URL
	e.cfg = gatewaytest.Config([]config.Issuer{gatewaytest.PortcullisIssuer(e.issuer)}, []config.Resource{
		{Name: "hello", Path: "/public/{rest...}", Upstream: e.upstream, Access: "public"},
		{Name: "whoami", Path: "/whoami", Upstream: e.upstream, Access: "token"},
		{Name: "billing-api", Methods: []string{"GET", "POST"}, Path: "/billing/{rest...}", Upstream: e.upstream,
			StripPrefix: "/billing", Account: "acme", Application: "billing", Access: "roles", Roles: []string{"developer", "consumer"}},
		{Name: "tenant-api", Path: "/accounts/{account}/apps/{app}/{rest...}", Upstream: e.upstream,
			Account: "{account}", Application: "{app}", Access: "roles", Roles: []string{"developer"}},
		{Name: "admin", Path: "/admin/{rest...}", Upstream: e.upstream, Access: "roles", Roles: []string{"administrator"}},
		{Name: "forwarding", Path: "/fwd", Upstream: e.upstream, Access: "token", ForwardToken: true},
	})
	if tweak != nil {
		tweak(e.cfg)
	}
	var srv string
	e.gw, srv = startGateway(t, e.cfg, e.clock)
	e.url = srv
	return e
}

func startGateway(t *testing.T, cfg *config.File, clock *gatewaytest.Clock) (*gateway.Gateway, string) {
	t.Helper()
	g, srv := gatewaytest.Start(t, cfg, gateway.Options{Now: clock.Now})
	return g, srv.URL
}

func TestAccessModes(t *testing.T) {
	e := newEnv(t, nil)
	dev := e.issuer.Token(t, "alice", roles.Grant{Role: "developer", Account: "acme", Application: "billing"})
	none := e.issuer.Token(t, "bob")

	t.Run("public needs no token and gets no identity", func(t *testing.T) {
		r := get(t, e.url+"/public/x", "")
		wantStatus(t, r, http.StatusOK)
		if h := r.echo(t).Headers; h["X-Portcullis-Subject"] != nil {
			t.Fatalf("public request carried identity headers: %v", h)
		}
	})
	t.Run("token: any valid token", func(t *testing.T) {
		r := get(t, e.url+"/whoami", none)
		wantStatus(t, r, http.StatusOK)
		h := r.echo(t).Headers
		if got := h["X-Portcullis-Subject"]; len(got) != 1 || got[0] != "bob" {
			t.Fatalf("subject header %v", got)
		}
		if h["X-Portcullis-Client"][0] != "test-client" || h["X-Portcullis-Issuer"][0] != e.issuer.ID || h["X-Portcullis-Roles"][0] != "[]" {
			t.Fatalf("identity headers %v", h)
		}
		if h["Authorization"] != nil {
			t.Fatal("Authorization reached the upstream without forward_token")
		}
	})
	t.Run("token: none given", func(t *testing.T) {
		r := get(t, e.url+"/whoami", "")
		wantChallenge(t, r, http.StatusUnauthorized, "")
		if wa := r.header.Get("WWW-Authenticate"); wa != `Bearer realm="portcullis"` {
			t.Fatalf("no-token challenge %q", wa)
		}
	})
	t.Run("roles: granted", func(t *testing.T) {
		r := get(t, e.url+"/billing/invoices", dev)
		wantStatus(t, r, http.StatusOK)
		ec := r.echo(t)
		if ec.Path != "/invoices" {
			t.Fatalf("strip_prefix: upstream saw %q", ec.Path)
		}
		var grants []roles.Grant
		if err := json.Unmarshal([]byte(ec.Headers["X-Portcullis-Roles"][0]), &grants); err != nil || len(grants) != 1 || grants[0].Role != "developer" {
			t.Fatalf("roles header %q", ec.Headers["X-Portcullis-Roles"])
		}
	})
	t.Run("roles: valid token without the role", func(t *testing.T) {
		wantChallenge(t, get(t, e.url+"/billing/invoices", none), http.StatusForbidden, "insufficient_scope")
	})
	t.Run("roles: no token", func(t *testing.T) {
		wantChallenge(t, get(t, e.url+"/billing/invoices", ""), http.StatusUnauthorized, "")
	})
	t.Run("forward_token keeps Authorization", func(t *testing.T) {
		r := get(t, e.url+"/fwd", none)
		wantStatus(t, r, http.StatusOK)
		if got := r.echo(t).Headers["Authorization"]; len(got) != 1 || got[0] != "Bearer "+none {
			t.Fatalf("Authorization upstream %v", got)
		}
	})
}

func TestRoleScopes(t *testing.T) {
	e := newEnv(t, nil)
	g := func(role, account, app string) roles.Grant {
		return roles.Grant{Role: role, Account: account, Application: app}
	}
	cases := []struct {
		name  string
		grant roles.Grant
		path  string
		want  int
	}{
		{"global role", g("developer", "", ""), "/billing/x", 200},
		{"account-scoped role in the account", g("consumer", "acme", ""), "/billing/x", 200},
		{"application-scoped role on the application", g("developer", "acme", "billing"), "/billing/x", 200},
		{"administrator reaches everything", g("administrator", "", ""), "/billing/x", 200},
		{"account_manager reaches down into its account", g("account_manager", "acme", ""), "/billing/x", 200},
		{"account_manager of another account", g("account_manager", "globex", ""), "/billing/x", 403},
		{"wrong account", g("developer", "globex", "billing"), "/billing/x", 403},
		{"wrong application", g("developer", "acme", "payroll"), "/billing/x", 403},
		{"wrong role", g("application_manager", "acme", "billing"), "/billing/x", 403},
		{"administrator scoped to an account is not global", g("administrator", "acme", ""), "/admin/x", 403},
		{"wildcard tenant: own account and application", g("developer", "acme", "billing"), "/accounts/acme/apps/billing/v1/x", 200},
		{"wildcard tenant: another account", g("developer", "acme", "billing"), "/accounts/globex/apps/billing/v1/x", 403},
		{"wildcard tenant: another application", g("developer", "acme", "billing"), "/accounts/acme/apps/payroll/v1/x", 403},
		{"wildcard tenant: account_manager reaches down", g("account_manager", "globex", ""), "/accounts/globex/apps/crm/v1/x", 200},
		{"wildcard tenant: administrator", g("administrator", "", ""), "/accounts/any/apps/thing/x", 200},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tok := e.issuer.Token(t, "user", tc.grant)
			r := get(t, e.url+tc.path, tok)
			if tc.want == 403 {
				wantChallenge(t, r, 403, "insufficient_scope")
				return
			}
			wantStatus(t, r, tc.want)
		})
	}
}

func TestRejections(t *testing.T) {
	e := newEnv(t, nil)
	other := gatewaytest.NewIssuer(t, e.clock, "", "EdDSA") // not trusted
	k := e.issuer.Key(t, "")
	valid := e.issuer.Token(t, "alice")
	parts := strings.Split(valid, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(payload), "alice", "admin", 1))) + "." + parts[2]
	hdrNone := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"at+jwt","kid":"` + k.KID + `"}`))
	rsaIssuer := gatewaytest.NewIssuer(t, e.clock, "", "RS256")

	mod := func(f func(c jwt.MapClaims)) string {
		c := e.issuer.Claims("alice")
		f(c)
		return e.issuer.Sign(t, "", c)
	}
	cases := []struct {
		name  string
		token string
		extra map[string]string
		query string
		want  int
		code  string
	}{
		{"expired", mod(func(c jwt.MapClaims) { c["exp"] = t0.Add(-time.Minute).Unix() }), nil, "", 401, "invalid_token"},
		{"not yet valid", mod(func(c jwt.MapClaims) { c["nbf"] = t0.Add(time.Minute).Unix() }), nil, "", 401, "invalid_token"},
		{"wrong issuer (not trusted)", other.Token(t, "alice"), nil, "", 401, "invalid_token"},
		{"wrong audience", mod(func(c jwt.MapClaims) { c["aud"] = "someone-else" }), nil, "", 401, "invalid_token"},
		{"alg none", hdrNone + "." + parts[1] + ".", nil, "", 401, "invalid_token"},
		{"HS256 signed with the RSA public key", hs256WithPublicKey(t, rsaIssuer, e.issuer.Claims("alice")), nil, "", 401, "invalid_token"},
		{"unknown kid", func() string {
			c := e.issuer.Claims("alice")
			tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, c)
			tok.Header["kid"], tok.Header["typ"] = "made-up", "at+jwt"
			s, _ := tok.SignedString(k.Priv)
			return s
		}(), nil, "", 401, "invalid_token"},
		{"tampered payload", tampered, nil, "", 401, "invalid_token"},
		{"oversized", mod(func(c jwt.MapClaims) { c["pad"] = strings.Repeat("x", 9000) }), nil, "", 401, "invalid_token"},
		{"token in the query string", "", nil, "?access_token=" + valid, 400, "invalid_request"},
		{"two Authorization headers", valid, map[string]string{"Authorization": "Bearer " + valid}, "", 400, "invalid_request"},
		{"Basic instead of Bearer", "", map[string]string{"Authorization": "Basic YTpi"}, "", 400, "invalid_request"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, http.MethodGet, e.url+"/whoami"+tc.query, tc.token, tc.extra)
			wantChallenge(t, r, tc.want, tc.code)
			if tc.token != "" && strings.Contains(r.header.Get("WWW-Authenticate")+string(r.body), "alice") {
				t.Fatal("a claim value leaked into the error")
			}
		})
	}
}

// hs256WithPublicKey forges the classic key-confusion token: HS256 with the
// issuer's RSA public key (its JWKS form) as the HMAC secret.
func hs256WithPublicKey(t *testing.T, is *gatewaytest.Issuer, c jwt.MapClaims) string {
	t.Helper()
	c["iss"] = is.ID
	k := is.Key(t, "")
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, c)
	tok.Header["kid"], tok.Header["typ"] = k.KID, "at+jwt"
	s, err := tok.SignedString(is.JWKS(t))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestHeaderSpoofing(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.issuer.Token(t, "alice", roles.Grant{Role: "developer", Account: "acme", Application: "billing"})
	spoof := map[string]string{
		"X-Portcullis-Subject": "root",
		"x-portcullis-roles":   `[{"role":"administrator"}]`,
		"X_Portcullis_Subject": "root",
		"X-PORTCULLIS-ISSUER":  "https://evil",
		"x_portcullis_client":  "evil",
		"X-Portcullis-Extra":   "anything",
		// Naming our headers as hop-by-hop would make the proxy drop them.
		"Connection": "X-Portcullis-Roles, x_portcullis_subject",
	}
	for _, path := range []string{"/billing/x", "/public/x"} {
		t.Run(path, func(t *testing.T) {
			r := do(t, http.MethodGet, e.url+path, tok, spoof)
			wantStatus(t, r, http.StatusOK)
			h := r.echo(t).Headers
			for k, v := range h {
				lk := strings.ToLower(strings.ReplaceAll(k, "_", "-"))
				if !strings.HasPrefix(lk, "x-portcullis-") {
					continue
				}
				switch k {
				case "X-Portcullis-Subject", "X-Portcullis-Client", "X-Portcullis-Issuer", "X-Portcullis-Roles":
					if path == "/public/x" {
						t.Fatalf("public request carried %s: %v", k, v)
					}
					if len(v) != 1 || v[0] == "root" || v[0] == "evil" || v[0] == "https://evil" || strings.Contains(v[0], "administrator") {
						t.Fatalf("spoofed %s reached the upstream: %v", k, v)
					}
				default:
					t.Fatalf("spoofed header %s=%v reached the upstream", k, v)
				}
			}
			if path == "/billing/x" && (len(h["X-Portcullis-Subject"]) != 1 || h["X-Portcullis-Subject"][0] != "alice" || len(h["X-Portcullis-Roles"]) != 1) {
				t.Fatalf("identity headers %v", h)
			}
		})
	}
}

func TestPathTricks(t *testing.T) {
	e := newEnv(t, nil)
	cases := []struct {
		name     string
		path     string
		want     int
		upstream string
	}{
		{"dot-dot out of a public resource", "/public/../admin/x", 401, ""},
		{"percent-encoded dot-dot", "/public/%2e%2e/admin/x", 401, ""},
		{"upper-case percent-encoded dot-dot", "/public/%2E%2E/admin/x", 401, ""},
		{"encoded slash", "/public/..%2fadmin/x", 400, ""},
		{"encoded backslash", "/public/..%5cadmin/x", 400, ""},
		{"double slash", "//admin/x", 401, ""},
		{"dot segment stays inside", "/public/./a//b", 200, "/public/a/b"},
		{"dot-dot inside the public tree", "/public/a/../b", 200, "/public/b"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := get(t, e.url+tc.path, "")
			wantStatus(t, r, tc.want)
			if tc.upstream != "" {
				if got := r.echo(t).Path; got != tc.upstream {
					t.Fatalf("upstream saw %q, want %q", got, tc.upstream)
				}
			} else {
				r.errorBody(t)
			}
		})
	}
}

func TestNotFoundAndMethodNotAllowed(t *testing.T) {
	e := newEnv(t, nil)
	r := get(t, e.url+"/nowhere", "")
	wantStatus(t, r, http.StatusNotFound)
	if code, _ := r.errorBody(t); code != "not_found" {
		t.Fatalf("404 error %q", code)
	}
	r = do(t, http.MethodDelete, e.url+"/billing/x", "", nil)
	wantStatus(t, r, http.StatusMethodNotAllowed)
	if code, _ := r.errorBody(t); code != "method_not_allowed" {
		t.Fatalf("405 error %q", code)
	}
	allow := r.header.Get("Allow")
	if !strings.Contains(allow, "GET") || !strings.Contains(allow, "POST") || strings.Contains(allow, "DELETE") {
		t.Fatalf("Allow %q", allow)
	}
}

func TestUpstreamFailures(t *testing.T) {
	dead := gatewaytest.Upstream(t)
	deadURL := dead.URL
	dead.Close()
	e := newEnv(t, func(f *config.File) {
		f.Upstream.ResponseHeaderTimeout = 200 * time.Millisecond
		f.Resources = append(f.Resources, config.Resource{Name: "dead", Path: "/dead", Upstream: deadURL, Access: "public"})
	})
	r := get(t, e.url+"/dead", "")
	wantStatus(t, r, http.StatusBadGateway)
	if code, _ := r.errorBody(t); code != "bad_gateway" {
		t.Fatalf("502 error %q", code)
	}
	r = get(t, e.url+"/public/slow", "")
	wantStatus(t, r, http.StatusGatewayTimeout)
	if code, _ := r.errorBody(t); code != "gateway_timeout" {
		t.Fatalf("504 error %q", code)
	}
}

func TestOwnEndpointsAndRequestID(t *testing.T) {
	e := newEnv(t, nil)
	wantStatus(t, get(t, e.url+"/healthz", ""), 200)
	wantStatus(t, get(t, e.url+"/readyz", ""), 200)
	r := do(t, http.MethodGet, e.url+"/public/x", "", map[string]string{"X-Request-Id": "abc-123"})
	if r.header.Get("X-Request-Id") != "abc-123" || r.echo(t).Headers["X-Request-Id"][0] != "abc-123" {
		t.Fatalf("request id not propagated: %v", r.header)
	}
	r = get(t, e.url+"/public/x", "")
	if id := r.header.Get("X-Request-Id"); id == "" || r.echo(t).Headers["X-Request-Id"][0] != id {
		t.Fatal("no request id minted")
	}
	get(t, e.url+"/billing/x", "")
	wantStatus(t, get(t, e.url+"/public/hints", ""), 200) // 103 first: not the logged status
	m := string(get(t, e.url+"/metrics", "").body)
	for _, want := range []string{
		`portcullis_gateway_requests_total{decision="public",method="GET",resource="hello",status="200"} 3`,
		`portcullis_gateway_requests_total{decision="no_token",method="GET",resource="billing-api",status="401"}`,
		`portcullis_gateway_request_duration_seconds_bucket{resource="hello"`,
		`portcullis_gateway_jwks_refreshes_total{issuer="` + e.issuer.ID + `"}`,
		"portcullis_gateway_token_cache_misses_total",
	} {
		if !strings.Contains(m, want) {
			t.Fatalf("metrics lack %s", want)
		}
	}
}

func TestTokenCacheHitsAndKeepsChecking(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.issuer.Token(t, "alice")
	for range 3 {
		wantStatus(t, get(t, e.url+"/whoami", tok), 200)
	}
	m := string(get(t, e.url+"/metrics", "").body)
	if !strings.Contains(m, "portcullis_gateway_token_cache_hits_total 2") {
		t.Fatalf("want 2 cache hits:\n%s", grep(m, "token_cache"))
	}
	// A cached token still expires on time.
	e.clock.Advance(5*time.Minute + 31*time.Second) // past exp + leeway
	wantChallenge(t, get(t, e.url+"/whoami", tok), 401, "invalid_token")
}

func grep(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

var _ = context.Background
