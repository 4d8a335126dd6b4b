package gateway_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/portcullis/portcullis/gateway/internal/config"
	"github.com/portcullis/portcullis/gateway/internal/gateway"
	"github.com/portcullis/portcullis/gateway/internal/gatewaytest"
	"github.com/portcullis/portcullis/shared/roles"
)

func noCache(f *config.File) {
	off := false
	f.TokenCache.Enabled = &off
}

// The issuer rotates: a token signed by the new key verifies on its first
// request (an unknown kid triggers one refetch), and once the old key is
// withdrawn from a fetched JWKS, tokens signed by it stop verifying at once,
// even those already in the verified-token cache.
func TestKeyRotation(t *testing.T) {
	e := newEnv(t, nil)
	oldKID := e.issuer.Key(t, "").KID
	oldTok := e.issuer.Token(t, "alice")
	wantStatus(t, get(t, e.url+"/whoami", oldTok), 200) // now cached

	newKID := e.issuer.AddKey(t, "ES256")
	newTok := e.issuer.Sign(t, newKID, e.issuer.Claims("bob"))
	wantStatus(t, get(t, e.url+"/whoami", newTok), 200)
	wantStatus(t, get(t, e.url+"/whoami", oldTok), 200) // both keys published

	e.issuer.RemoveKey(oldKID)
	e.clock.Advance(10 * time.Second) // past refetch_min_interval
	newer := e.issuer.AddKey(t, "EdDSA")
	wantStatus(t, get(t, e.url+"/whoami", e.issuer.Sign(t, newer, e.issuer.Claims("carol"))), 200)
	r := get(t, e.url+"/whoami", oldTok)
	wantChallenge(t, r, http.StatusUnauthorized, "invalid_token")
	wantStatus(t, get(t, e.url+"/whoami", newTok), 200)
}

// A flood of made-up kids costs at most one JWKS fetch per
// refetch_min_interval.
func TestUnknownKIDFloodIsRateLimited(t *testing.T) {
	e := newEnv(t, noCache)
	k := e.issuer.Key(t, "")
	before := e.issuer.Fetches()
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, e.issuer.Claims("mallory"))
			tok.Header["kid"], tok.Header["typ"] = "made-up-"+strings.Repeat("x", i), "at+jwt"
			s, _ := tok.SignedString(k.Priv)
			r := get(t, e.url+"/whoami", s)
			if r.status != http.StatusUnauthorized {
				t.Errorf("made-up kid: status %d", r.status)
			}
		}()
	}
	wg.Wait()
	if n := e.issuer.Fetches() - before; n > 1 {
		t.Fatalf("%d JWKS fetches for 40 unknown kids, want at most 1", n)
	}
}

// While the JWKS endpoint is down the last good set keeps serving, up to
// stale_keys_max; after that the issuer's tokens are refused and /readyz
// says not ready; when the endpoint returns, everything recovers.
func TestJWKSOutageServesLastGoodSet(t *testing.T) {
	e := newEnv(t, func(f *config.File) {
		noCache(f)
		f.Issuers[0].StaleKeysMax = 2 * time.Hour
	})
	tok := func() string { return e.issuer.Token(t, "alice") }
	wantStatus(t, get(t, e.url+"/whoami", tok()), 200)

	e.issuer.SetOutage(true)
	e.clock.Advance(time.Hour)
	// Force a refetch attempt during the outage: it fails, the set stays.
	k := e.issuer.Key(t, "")
	probe := jwt.NewWithClaims(jwt.SigningMethodEdDSA, e.issuer.Claims("x"))
	probe.Header["kid"], probe.Header["typ"] = "unknown", "at+jwt"
	s, _ := probe.SignedString(k.Priv)
	wantStatus(t, get(t, e.url+"/whoami", s), 401)
	wantStatus(t, get(t, e.url+"/whoami", tok()), 200)
	wantStatus(t, get(t, e.url+"/readyz", ""), 200)

	e.clock.Advance(61 * time.Minute) // now older than stale_keys_max
	r := get(t, e.url+"/whoami", tok())
	wantChallenge(t, r, 401, "invalid_token")
	if !strings.Contains(r.header.Get("WWW-Authenticate"), "signing keys are unavailable") {
		t.Fatalf("challenge %q", r.header.Get("WWW-Authenticate"))
	}
	wantStatus(t, get(t, e.url+"/readyz", ""), 503)

	e.issuer.SetOutage(false)
	e.clock.Advance(10 * time.Second)                  // past refetch_min_interval
	wantStatus(t, get(t, e.url+"/whoami", tok()), 200) // a stale set triggers a refetch
	wantStatus(t, get(t, e.url+"/whoami", tok()), 200)
	wantStatus(t, get(t, e.url+"/readyz", ""), 200)
}

// An issuer whose keys cannot be loaded at start refuses its tokens (never
// "skip verification") and keeps /readyz not ready until keys arrive.
func TestIssuerWithoutKeysRefusesTokens(t *testing.T) {
	clock := gatewaytest.NewClock(t0)
	is := gatewaytest.NewIssuer(t, clock, "", "EdDSA")
	is.SetOutage(true)
	up := gatewaytest.Upstream(t)
	cfg := gatewaytest.Config([]config.Issuer{gatewaytest.PortcullisIssuer(is)}, []config.Resource{
		{Name: "whoami", Path: "/whoami", Upstream: up.URL, Access: "token"},
	})
	_, srv := gatewaytest.StartUnready(t, cfg, gateway.Options{Now: clock.Now})
	wantStatus(t, get(t, srv.URL+"/readyz", ""), 503)
	wantChallenge(t, get(t, srv.URL+"/whoami", is.Token(t, "alice")), 401, "invalid_token")
	is.SetOutage(false)
	gatewaytest.WaitReady(t, srv.URL+"/readyz") // the background loader retries
	wantStatus(t, get(t, srv.URL+"/whoami", is.Token(t, "alice")), 200)
}

// An auth0-style third-party issuer (issuer id ending in "/", RS256 keys
// found through discovery, typ JWT, roles as namespaced strings) beside the
// Portcullis issuer. Each issuer's keys verify only its own tokens.
func TestThirdPartyIssuerBesidePortcullis(t *testing.T) {
	clock := gatewaytest.NewClock(t0)
	pc := gatewaytest.NewIssuer(t, clock, "", "EdDSA")
	auth0 := gatewaytest.NewIssuer(t, clock, "/", "RS256")
	up := gatewaytest.Upstream(t)
	cfg := gatewaytest.Config([]config.Issuer{
		gatewaytest.PortcullisIssuer(pc),
		{Issuer: auth0.ID, Audiences: []string{"https://api.example.com"}, Algorithms: []string{"RS256"},
			RolesClaim: "https://example.com/roles", RolesFormat: "strings"},
	}, []config.Resource{
		{Name: "billing", Path: "/billing/{rest...}", Upstream: up.URL, Account: "acme", Application: "billing",
			Access: "roles", Roles: []string{"developer"}},
	})
	_, srv := gatewaytest.Start(t, cfg, gateway.Options{Now: clock.Now})

	a0 := func(mod func(jwt.MapClaims)) string {
		c := auth0.Claims("auth0|123")
		delete(c, "roles")
		delete(c, "client_id")
		c["azp"] = "spa-client"
		c["aud"] = []string{"https://api.example.com", auth0.ID + "userinfo"}
		c["https://example.com/roles"] = []string{"developer:acme/billing"}
		if mod != nil {
			mod(c)
		}
		k := auth0.Key(t, "")
		tok := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
		tok.Header["kid"], tok.Header["typ"] = k.KID, "JWT"
		s, err := tok.SignedString(k.Priv)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	r := get(t, srv.URL+"/billing/x", a0(nil))
	wantStatus(t, r, 200)
	h := r.echo(t).Headers
	if h["X-Portcullis-Subject"][0] != "auth0|123" || h["X-Portcullis-Client"][0] != "spa-client" || h["X-Portcullis-Issuer"][0] != auth0.ID {
		t.Fatalf("identity headers %v", h)
	}
	wantChallenge(t, get(t, srv.URL+"/billing/x", a0(func(c jwt.MapClaims) {
		c["https://example.com/roles"] = []string{"developer:acme/payroll"}
	})), 403, "insufficient_scope")

	// The Portcullis issuer's tokens still work beside it.
	wantStatus(t, get(t, srv.URL+"/billing/x", pc.Token(t, "alice", roles.Grant{Role: "developer", Account: "acme", Application: "billing"})), 200)

	// auth0's key cannot vouch for a token claiming the Portcullis issuer,
	// nor the other way round.
	wantChallenge(t, get(t, srv.URL+"/billing/x", a0(func(c jwt.MapClaims) {
		c["iss"], c["aud"] = pc.ID, []string{"portcullis"}
	})), 401, "invalid_token")
	forged := pc.Claims("alice", roles.Grant{Role: "administrator"})
	forged["iss"], forged["aud"] = auth0.ID, []string{"https://api.example.com"}
	wantChallenge(t, get(t, srv.URL+"/billing/x", pc.Sign(t, "", forged)), 401, "invalid_token")
}
