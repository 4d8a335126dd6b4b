package gatewaytest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/portcullis/portcullis/shared/roles"
)

// Clock is a settable clock for the gateway and the token minting.
type Clock struct{ ns atomic.Int64 }

// NewClock starts at t.
func NewClock(t time.Time) *Clock {
	c := &Clock{}
	c.ns.Store(t.UnixNano())
	return c
}

// Now is the clock's time.
func (c *Clock) Now() time.Time { return time.Unix(0, c.ns.Load()) }

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// SigningKey is one of an Issuer's keys.
type SigningKey struct {
	KID    string
	Alg    string
	Method jwt.SigningMethod
	Priv   crypto.Signer
}

// Issuer is a fake token issuer served over httptest: discovery at
// /.well-known/openid-configuration and the JWKS at /jwks.json.
type Issuer struct {
	// ID is the issuer identifier (the server URL, plus Suffix).
	ID      string
	Server  *httptest.Server
	clock   *Clock
	mu      sync.Mutex
	keys    []SigningKey
	nextKID int
	outage  atomic.Bool
	fetches atomic.Int64
	// CacheControl is sent with the JWKS (default "max-age=300").
	CacheControl string
}

// NewIssuer starts an issuer with one key per algorithm (RS256, ES256 or
// EdDSA). suffix is appended to the server URL to form the issuer id (auth0
// issuers end in "/").
func NewIssuer(t testing.TB, clock *Clock, suffix string, algs ...string) *Issuer {
	t.Helper()
	is := &Issuer{clock: clock, CacheControl: "max-age=300"}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		if is.outage.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": is.ID, "jwks_uri": is.Server.URL + "/jwks.json"})
	})
	mux.HandleFunc("GET /jwks.json", func(w http.ResponseWriter, _ *http.Request) {
		is.fetches.Add(1)
		if is.outage.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", is.CacheControl)
		_, _ = w.Write(is.JWKS(t))
	})
	is.Server = httptest.NewServer(mux)
	t.Cleanup(is.Server.Close)
	is.ID = is.Server.URL + suffix
	for _, a := range algs {
		is.AddKey(t, a)
	}
	return is
}

// AddKey generates and publishes a new key; it returns its kid.
func (is *Issuer) AddKey(t testing.TB, alg string) string {
	t.Helper()
	k := SigningKey{Alg: alg}
	var err error
	switch alg {
	case "RS256":
		k.Method = jwt.SigningMethodRS256
		k.Priv, err = rsa.GenerateKey(rand.Reader, 2048)
	case "ES256":
		k.Method = jwt.SigningMethodES256
		k.Priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "EdDSA":
		k.Method = jwt.SigningMethodEdDSA
		_, k.Priv, err = ed25519.GenerateKey(rand.Reader)
	default:
		t.Fatalf("unsupported alg %s", alg)
	}
	if err != nil {
		t.Fatalf("generate %s key: %v", alg, err)
	}
	is.mu.Lock()
	defer is.mu.Unlock()
	is.nextKID++
	k.KID = fmt.Sprintf("%s-%d", strings.ToLower(alg), is.nextKID)
	is.keys = append(is.keys, k)
	return k.KID
}

// RemoveKey withdraws kid from the JWKS.
func (is *Issuer) RemoveKey(kid string) {
	is.mu.Lock()
	defer is.mu.Unlock()
	for i, k := range is.keys {
		if k.KID == kid {
			is.keys = append(is.keys[:i], is.keys[i+1:]...)
			return
		}
	}
}

// Key returns the key named kid (or the first key when kid is empty).
func (is *Issuer) Key(t testing.TB, kid string) SigningKey {
	t.Helper()
	is.mu.Lock()
	defer is.mu.Unlock()
	for _, k := range is.keys {
		if kid == "" || k.KID == kid {
			return k
		}
	}
	t.Fatalf("issuer has no key %q", kid)
	return SigningKey{}
}

// SetOutage makes discovery and the JWKS answer 503 (true) or recover.
func (is *Issuer) SetOutage(down bool) { is.outage.Store(down) }

// Fetches counts JWKS requests.
func (is *Issuer) Fetches() int64 { return is.fetches.Load() }

// JWKS is the current public key set.
func (is *Issuer) JWKS(t testing.TB) []byte {
	is.mu.Lock()
	defer is.mu.Unlock()
	set := jwk.NewSet()
	for _, k := range is.keys {
		pk, err := jwk.FromRaw(k.Priv.Public())
		if err != nil {
			t.Errorf("jwk: %v", err)
			return nil
		}
		_ = pk.Set(jwk.KeyIDKey, k.KID)
		_ = pk.Set(jwk.AlgorithmKey, k.Alg)
		_ = pk.Set(jwk.KeyUsageKey, "sig")
		_ = set.AddKey(pk)
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Errorf("jwks: %v", err)
	}
	return b
}

// Claims returns a valid claim set for sub with the given grants (scoped
// format), expiring in 5 minutes on the issuer's clock.
func (is *Issuer) Claims(sub string, grants ...roles.Grant) jwt.MapClaims {
	now := is.clock.Now()
	if grants == nil {
		grants = []roles.Grant{}
	}
	return jwt.MapClaims{
		"iss":       is.ID,
		"sub":       sub,
		"aud":       []string{"portcullis"},
		"exp":       now.Add(5 * time.Minute).Unix(),
		"iat":       now.Unix(),
		"nbf":       now.Unix(),
		"jti":       fmt.Sprintf("jti-%s-%d", sub, now.UnixNano()),
		"client_id": "test-client",
		"roles":     grants,
	}
}

// Sign signs claims with kid (empty: the first key) as an at+jwt.
func (is *Issuer) Sign(t testing.TB, kid string, claims jwt.MapClaims) string {
	t.Helper()
	k := is.Key(t, kid)
	tok := jwt.NewWithClaims(k.Method, claims)
	tok.Header["kid"] = k.KID
	tok.Header["typ"] = "at+jwt"
	s, err := tok.SignedString(k.Priv)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return s
}

// Token is Sign(Claims(sub, grants...)) with the first key.
func (is *Issuer) Token(t testing.TB, sub string, grants ...roles.Grant) string {
	t.Helper()
	return is.Sign(t, "", is.Claims(sub, grants...))
}
