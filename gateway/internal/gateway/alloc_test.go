package gateway

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/portcullis/portcullis/gateway/internal/config"
	"github.com/portcullis/portcullis/shared/roles"
)

// miniIssuer serves one Ed25519 key as a JWKS (gatewaytest cannot be used
// from inside the package: it imports it).
func miniIssuer(t *testing.T) (*httptest.Server, ed25519.PrivateKey) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := jwk.FromRaw(pub)
	if err != nil {
		t.Fatal(err)
	}
	_ = k.Set(jwk.KeyIDKey, "k1")
	set := jwk.NewSet()
	_ = set.AddKey(k)
	body, _ := json.Marshal(set)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(body) }))
	t.Cleanup(srv.Close)
	return srv, priv
}

// discardWriter is a reusable ResponseWriter so the measurement sees only
// the gateway's own allocations.
type discardWriter struct {
	h    http.Header
	code int
}

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(c int)           { d.code = c }

// Authorisation on the cached path adds no allocations: a roles request
// with a cached token allocates no more than a public request to the same
// (stubbed) upstream.
func TestCachedAuthorisationAddsNoAllocations(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	jwks, priv := miniIssuer(t)
	const iss = "https://issuer.test"
	access := false
	cfg := &config.File{Issuers: []config.Issuer{{Issuer: iss, JWKSURI: jwks.URL, Audiences: []string{"portcullis"}}}, Resources: []config.Resource{
		// Same pattern shape as the roles resource: ServeMux allocates per
		// wildcard, and that cost is routing, not authorisation.
		{Name: "pub", Path: "/pub/{account}/apps/{app}/{rest...}", Upstream: "http://127.0.0.1:1", Access: "public"},
		{Name: "tenant", Path: "/accounts/{account}/apps/{app}/{rest...}", Upstream: "http://127.0.0.1:1",
			Account: "{account}", Application: "{app}", Access: "roles", Roles: []string{"developer"}},
	}}
	cfg.ApplyDefaults()
	cfg.Log.Access = &access
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	g, err := New(ctx, cfg, Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if errs := g.LoadKeys(ctx); len(errs) > 0 {
		t.Fatal(errs)
	}
	upstream := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	for _, r := range g.rt.Load().routes {
		r.proxy = upstream
	}
	claims := jwt.MapClaims{"iss": iss, "sub": "alice", "aud": "portcullis", "exp": now.Add(time.Hour).Unix(),
		"roles": []roles.Grant{{Role: "developer", Account: "acme", Application: "billing"}}}
	jt := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims)
	jt.Header["kid"], jt.Header["typ"] = "k1", "at+jwt"
	tok, err := jt.SignedString(priv)
	if err != nil {
		t.Fatal(err)
	}
	auth := []string{"Bearer " + tok}
	reqID := []string{"fixed-id"}

	measure := func(path string, withToken bool) float64 {
		req, _ := http.NewRequest(http.MethodGet, "http://gw"+path, nil)
		w := &discardWriter{h: http.Header{}}
		run := func() {
			if withToken {
				req.Header["Authorization"] = auth
			}
			req.Header["X-Request-Id"] = reqID
			w.code = 0
			g.ServeHTTP(w, req)
			if w.code != http.StatusOK {
				t.Fatalf("%s: status %d", path, w.code)
			}
		}
		run() // warm: fills the token cache and the metric maps
		return testing.AllocsPerRun(500, run)
	}
	public := measure("/pub/acme/apps/billing/x", false)
	cached := measure("/accounts/acme/apps/billing/x", true)
	t.Logf("allocations per request: public %.1f, roles with cached token %.1f", public, cached)
	if cached > public {
		t.Fatalf("cached authorisation adds %.1f allocations per request", cached-public)
	}
}
