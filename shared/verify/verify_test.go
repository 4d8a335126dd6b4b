package verify_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/portcullis/portcullis/shared/roles"
	"github.com/portcullis/portcullis/shared/verify"
)

const iss = "https://issuer.test"

var now = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

type testKeys struct {
	rsa, rsa2 *rsa.PrivateKey
	ec        *ecdsa.PrivateKey
	ed        ed25519.PrivateKey
}

var (
	keysOnce sync.Once
	tk       testKeys
)

func keys(t testing.TB) testKeys {
	t.Helper()
	keysOnce.Do(func() {
		var err error
		if tk.rsa, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if tk.rsa2, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if tk.ec, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			panic(err)
		}
		if _, tk.ed, err = ed25519.GenerateKey(rand.Reader); err != nil {
			panic(err)
		}
	})
	return tk
}

func keySet(k testKeys) verify.StaticKeys {
	return verify.StaticKeys{
		"rsa": {Public: &k.rsa.PublicKey},
		"ec":  {Public: &k.ec.PublicKey},
		"ed":  {Public: k.ed.Public()},
		"ps":  {Public: &k.rsa2.PublicKey, Algorithm: "RS256"},
	}
}

func baseClaims() jwt.MapClaims {
	return jwt.MapClaims{
		"iss":       iss,
		"sub":       "user-1",
		"aud":       []string{"portcullis"},
		"exp":       now.Add(5 * time.Minute).Unix(),
		"iat":       now.Add(-time.Minute).Unix(),
		"nbf":       now.Add(-time.Minute).Unix(),
		"jti":       "jti-1",
		"client_id": "client-1",
		"scope":     "read write",
		"roles":     []map[string]string{{"role": "developer", "account": "acme", "application": "billing"}},
	}
}

func sign(t testing.TB, m jwt.SigningMethod, key any, header map[string]any, c jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, c)
	tok.Header["typ"] = "at+jwt"
	for k, v := range header {
		if v == nil {
			delete(tok.Header, k)
			continue
		}
		tok.Header[k] = v
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return s
}

// unsigned builds an "alg: none" token by hand (jwt/v5 refuses to sign one
// without the unsafe marker, which is the point).
func unsigned(c string) string {
	h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"at+jwt","kid":"rsa"}`))
	return h + "." + base64.RawURLEncoding.EncodeToString([]byte(c)) + "."
}

func newVerifier(t testing.TB, tweak func(*verify.Config)) *verify.Verifier {
	t.Helper()
	cfg := verify.Config{
		Issuer:    iss,
		Audiences: []string{"portcullis", "other"},
		Leeway:    30 * time.Second,
		Keys:      keySet(keys(t)),
		Now:       func() time.Time { return now },
	}
	if tweak != nil {
		tweak(&cfg)
	}
	v, err := verify.New(cfg)
	if err != nil {
		t.Fatalf("verify.New: %v", err)
	}
	return v
}

func with(mod func(jwt.MapClaims)) jwt.MapClaims {
	c := baseClaims()
	mod(c)
	return c
}

func TestVerifyRejects(t *testing.T) {
	k := keys(t)
	rsaPubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: must(x509.MarshalPKIXPublicKey(&k.rsa.PublicKey))})
	valid := sign(t, jwt.SigningMethodRS256, k.rsa, map[string]any{"kid": "rsa"}, baseClaims())
	parts := strings.Split(valid, ".")
	tamperedPayload := base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(
		string(must(base64.RawURLEncoding.DecodeString(parts[1]))), `"user-1"`, `"admin-0"`, 1)))

	cases := []struct {
		name  string
		token string
		tweak func(*verify.Config)
		want  *verify.Error
	}{
		{"alg none", unsigned(`{"iss":"` + iss + `","sub":"x","aud":"portcullis","exp":9999999999}`), nil, verify.ErrAlgorithm},
		{"HS256 signed with the RSA public key as secret", sign(t, jwt.SigningMethodHS256, rsaPubPEM, map[string]any{"kid": "rsa"}, baseClaims()), nil, verify.ErrAlgorithm},
		{"no issuer", sign(t, jwt.SigningMethodES256, k.ec, map[string]any{"kid": "ec"}, with(func(c jwt.MapClaims) { delete(c, "iss") })), nil, verify.ErrIssuer},
		{"alg outside the allow-list", sign(t, jwt.SigningMethodRS384, k.rsa, map[string]any{"kid": "rsa"}, baseClaims()), nil, verify.ErrAlgorithm},
		{"ES256 token naming an RSA key", sign(t, jwt.SigningMethodES256, k.ec, map[string]any{"kid": "rsa"}, baseClaims()), nil, verify.ErrAlgorithm},
		{"RS256 token naming an Ed25519 key", sign(t, jwt.SigningMethodRS256, k.rsa, map[string]any{"kid": "ed"}, baseClaims()), nil, verify.ErrAlgorithm},
		{"key published for another alg", sign(t, jwt.SigningMethodPS256, k.rsa2, map[string]any{"kid": "ps"}, baseClaims()),
			func(c *verify.Config) { c.Algorithms = []string{"RS256", "PS256"} }, verify.ErrAlgorithm},
		{"unknown kid", sign(t, jwt.SigningMethodRS256, k.rsa, map[string]any{"kid": "nope"}, baseClaims()), nil, verify.ErrUnknownKey},
		{"no kid with several keys", sign(t, jwt.SigningMethodRS256, k.rsa, nil, baseClaims()), nil, verify.ErrUnknownKey},
		{"issuer has no keys", valid, func(c *verify.Config) { c.Keys = verify.StaticKeys{} }, verify.ErrKeysUnavailable},
		{"tampered payload", parts[0] + "." + tamperedPayload + "." + parts[2], nil, verify.ErrSignature},
		{"signed by another key under the right kid", sign(t, jwt.SigningMethodRS256, k.rsa2, map[string]any{"kid": "rsa"}, baseClaims()), nil, verify.ErrSignature},
		{"signature stripped", parts[0] + "." + parts[1] + ".", nil, verify.ErrSignature},
		{"expired beyond leeway", sign(t, jwt.SigningMethodEdDSA, k.ed, map[string]any{"kid": "ed"}, with(func(c jwt.MapClaims) { c["exp"] = now.Add(-31 * time.Second).Unix() })), nil, verify.ErrExpired},
		{"exp not a number", sign(t, jwt.SigningMethodEdDSA, k.ed, map[string]any{"kid": "ed"}, with(func(c jwt.MapClaims) { c["exp"] = "tomorrow" })), nil, verify.ErrMalformed},
		{"aud not strings", sign(t, jwt.SigningMethodEdDSA, k.ed, map[string]any{"kid": "ed"}, with(func(c jwt.MapClaims) { c["aud"] = []int{1} })), nil, verify.ErrMalformed},
		{"no exp", sign(t, jwt.SigningMethodEdDSA, k.ed, map[string]any{"kid": "ed"}, with(func(c jwt.MapClaims) { delete(c, "exp") })), nil, verify.ErrClaims},
		{"nbf in the future", sign(t, jwt.SigningMethodEdDSA, k.ed, map[string]any{"kid": "ed"}, with(func(c jwt.MapClaims) { c["nbf"] = now.Add(time.Minute).Unix() })), nil, verify.ErrNotYetValid},
		{"iat in the future", sign(t, jwt.SigningMethodEdDSA, k.ed, map[string]any{"kid": "ed"}, with(func(c jwt.MapClaims) { c["iat"] = now.Add(time.Minute).Unix(); delete(c, "nbf") })), nil, verify.ErrIssuedInFuture},
		{"wrong issuer", sign(t, jwt.SigningMethodES256, k.ec, map[string]any{"kid": "ec"}, with(func(c jwt.MapClaims) { c["iss"] = "https://evil.test" })), nil, verify.ErrIssuer},
		{"issuer differs by a trailing slash", sign(t, jwt.SigningMethodES256, k.ec, map[string]any{"kid": "ec"}, with(func(c jwt.MapClaims) { c["iss"] = iss + "/" })), nil, verify.ErrIssuer},
		{"wrong audience", sign(t, jwt.SigningMethodES256, k.ec, map[string]any{"kid": "ec"}, with(func(c jwt.MapClaims) { c["aud"] = []string{"someone-else"} })), nil, verify.ErrAudience},
		{"no audience", sign(t, jwt.SigningMethodES256, k.ec, map[string]any{"kid": "ec"}, with(func(c jwt.MapClaims) { delete(c, "aud") })), nil, verify.ErrAudience},
		{"typ missing", sign(t, jwt.SigningMethodES256, k.ec, map[string]any{"kid": "ec", "typ": nil}, baseClaims()), nil, verify.ErrType},
		{"typ is an ID token's", sign(t, jwt.SigningMethodES256, k.ec, map[string]any{"kid": "ec", "typ": "id_token+jwt"}, baseClaims()), nil, verify.ErrType},
		{"critical header", sign(t, jwt.SigningMethodES256, k.ec, map[string]any{"kid": "ec", "crit": []string{"exp"}}, baseClaims()), nil, verify.ErrMalformed},
		{"kid not a string", sign(t, jwt.SigningMethodES256, k.ec, map[string]any{"kid": 7}, baseClaims()), nil, verify.ErrMalformed},
		{"oversized", valid, func(c *verify.Config) { c.MaxTokenSize = len(valid) - 1 }, verify.ErrTooLarge},
		{"oversized by default", sign(t, jwt.SigningMethodEdDSA, k.ed, map[string]any{"kid": "ed"}, with(func(c jwt.MapClaims) { c["pad"] = strings.Repeat("x", 8<<10) })), nil, verify.ErrTooLarge},
		{"two segments", parts[0] + "." + parts[1], nil, verify.ErrMalformed},
		{"garbage", "not-a-token", nil, verify.ErrMalformed},
		{"payload not JSON", parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte("{")) + "." + parts[2], nil, verify.ErrMalformed},
		{"subject not a string", sign(t, jwt.SigningMethodEdDSA, k.ed, map[string]any{"kid": "ed"}, with(func(c jwt.MapClaims) { c["sub"] = 42 })), nil, verify.ErrMalformed},
		{"subject missing", sign(t, jwt.SigningMethodEdDSA, k.ed, map[string]any{"kid": "ed"}, with(func(c jwt.MapClaims) { delete(c, "sub") })), nil, verify.ErrClaims},
		{"roles in the wrong format", sign(t, jwt.SigningMethodEdDSA, k.ed, map[string]any{"kid": "ed"}, with(func(c jwt.MapClaims) { c["roles"] = []string{"developer"} })), nil, verify.ErrClaims},
		{"grant naming an application without account", sign(t, jwt.SigningMethodEdDSA, k.ed, map[string]any{"kid": "ed"}, with(func(c jwt.MapClaims) {
			c["roles"] = []map[string]string{{"role": "developer", "application": "billing"}}
		})), nil, verify.ErrClaims},
		{"malformed role string", sign(t, jwt.SigningMethodEdDSA, k.ed, map[string]any{"kid": "ed"}, with(func(c jwt.MapClaims) { c["roles"] = []string{"developer:"} })),
			func(c *verify.Config) { c.RolesFormat = "strings" }, verify.ErrClaims},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := newVerifier(t, tc.tweak)
			got, err := v.Verify(context.Background(), tc.token)
			if err == nil {
				t.Fatalf("Verify accepted the token: %+v", got)
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v (reason %s), want reason %s", err, verify.ReasonOf(err), tc.want.Reason)
			}
			var ve *verify.Error
			if !errors.As(err, &ve) {
				t.Fatalf("error %T is not *verify.Error", err)
			}
			// The client-facing text is fixed per reason: never a claim value.
			if ve.Description() != tc.want.Reason.Description() || strings.Contains(ve.Description(), "user-1") {
				t.Fatalf("description %q", ve.Description())
			}
		})
	}
}

func TestVerifyAccepts(t *testing.T) {
	k := keys(t)
	cases := []struct {
		name   string
		token  string
		tweak  func(*verify.Config)
		grants []roles.Grant
	}{
		{"RS256", sign(t, jwt.SigningMethodRS256, k.rsa, map[string]any{"kid": "rsa"}, baseClaims()), nil,
			[]roles.Grant{{Role: "developer", Account: "acme", Application: "billing"}}},
		{"ES256", sign(t, jwt.SigningMethodES256, k.ec, map[string]any{"kid": "ec"}, baseClaims()), nil,
			[]roles.Grant{{Role: "developer", Account: "acme", Application: "billing"}}},
		{"EdDSA with typ JWT", sign(t, jwt.SigningMethodEdDSA, k.ed, map[string]any{"kid": "ed", "typ": "JWT"}, baseClaims()), nil,
			[]roles.Grant{{Role: "developer", Account: "acme", Application: "billing"}}},
		{"typ application/at+jwt", sign(t, jwt.SigningMethodEdDSA, k.ed, map[string]any{"kid": "ed", "typ": "application/at+jwt"}, baseClaims()), nil,
			[]roles.Grant{{Role: "developer", Account: "acme", Application: "billing"}}},
		{"expired within leeway", sign(t, jwt.SigningMethodEdDSA, k.ed, map[string]any{"kid": "ed"}, with(func(c jwt.MapClaims) { c["exp"] = now.Add(-29 * time.Second).Unix() })), nil,
			[]roles.Grant{{Role: "developer", Account: "acme", Application: "billing"}}},
		{"aud as a string naming the second audience", sign(t, jwt.SigningMethodEdDSA, k.ed, map[string]any{"kid": "ed"}, with(func(c jwt.MapClaims) { c["aud"] = "other" })), nil,
			[]roles.Grant{{Role: "developer", Account: "acme", Application: "billing"}}},
		{"fractional exp and an escaped aud", sign(t, jwt.SigningMethodEdDSA, k.ed, map[string]any{"kid": "ed"}, with(func(c jwt.MapClaims) {
			c["exp"] = float64(now.Add(time.Minute).Unix()) + 0.5
			c["aud"] = "a<b" // json.Marshal writes "a\u003cb": the slow path
		})), func(c *verify.Config) { c.Audiences = []string{"a<b"} }, []roles.Grant{{Role: "developer", Account: "acme", Application: "billing"}}},
		{"no roles claim", sign(t, jwt.SigningMethodEdDSA, k.ed, map[string]any{"kid": "ed"}, with(func(c jwt.MapClaims) { delete(c, "roles") })), nil, nil},
		{"strings format", sign(t, jwt.SigningMethodEdDSA, k.ed, map[string]any{"kid": "ed"}, with(func(c jwt.MapClaims) {
			c["roles"] = []string{"administrator", "account_manager:acme", "consumer:acme/billing"}
		})), func(c *verify.Config) { c.RolesFormat = "strings" },
			[]roles.Grant{{Role: "administrator"}, {Role: "account_manager", Account: "acme"}, {Role: "consumer", Account: "acme", Application: "billing"}}},
		{"JSON pointer to nested roles", sign(t, jwt.SigningMethodEdDSA, k.ed, map[string]any{"kid": "ed"}, with(func(c jwt.MapClaims) {
			c["realm_access"] = map[string]any{"roles": []string{"developer:acme/billing"}}
		})), func(c *verify.Config) { c.RolesClaim = "/realm_access/roles"; c.RolesFormat = "strings" },
			[]roles.Grant{{Role: "developer", Account: "acme", Application: "billing"}}},
		{"URL-named claim taken whole", sign(t, jwt.SigningMethodRS256, k.rsa, map[string]any{"kid": "rsa", "typ": "JWT"}, with(func(c jwt.MapClaims) {
			c["https://example.com/roles"] = []string{"consumer:acme/billing"}
		})), func(c *verify.Config) { c.RolesClaim = "https://example.com/roles"; c.RolesFormat = "strings" },
			[]roles.Grant{{Role: "consumer", Account: "acme", Application: "billing"}}},
		{"JSON pointer to a missing object", sign(t, jwt.SigningMethodEdDSA, k.ed, map[string]any{"kid": "ed"}, baseClaims()),
			func(c *verify.Config) { c.RolesClaim = "/realm_access/roles"; c.RolesFormat = "strings" }, nil},
		{"PS256 allowed when listed", sign(t, jwt.SigningMethodPS256, k.rsa, map[string]any{"kid": "rsa"}, baseClaims()),
			func(c *verify.Config) { c.Algorithms = []string{"PS256"} },
			[]roles.Grant{{Role: "developer", Account: "acme", Application: "billing"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := newVerifier(t, tc.tweak)
			got, err := v.Verify(context.Background(), tc.token)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if got.Subject != "user-1" || got.ClientID != "client-1" || got.Issuer != iss || got.ID != "jti-1" || got.Scope != "read write" {
				t.Fatalf("claims: %+v", got)
			}
			if len(got.Roles) != len(tc.grants) {
				t.Fatalf("roles %v, want %v", got.Roles, tc.grants)
			}
			for i := range tc.grants {
				if got.Roles[i] != tc.grants[i] {
					t.Fatalf("roles %v, want %v", got.Roles, tc.grants)
				}
			}
		})
	}
}

func TestVerifyExtractsTimesAndKey(t *testing.T) {
	k := keys(t)
	v := newVerifier(t, nil)
	got, err := v.Verify(context.Background(), sign(t, jwt.SigningMethodES256, k.ec, map[string]any{"kid": "ec"}, baseClaims()))
	if err != nil {
		t.Fatal(err)
	}
	if !got.ExpiresAt.Equal(now.Add(5*time.Minute)) || !got.IssuedAt.Equal(now.Add(-time.Minute)) || !got.NotBefore.Equal(now.Add(-time.Minute)) {
		t.Fatalf("times: exp %v iat %v nbf %v", got.ExpiresAt, got.IssuedAt, got.NotBefore)
	}
	if got.KeyID != "ec" || got.Algorithm != "ES256" || len(got.Audience) != 1 || got.Audience[0] != "portcullis" {
		t.Fatalf("key %q alg %q aud %v", got.KeyID, got.Algorithm, got.Audience)
	}
}

func TestVerifyConfigurableSubjectAndAZP(t *testing.T) {
	k := keys(t)
	v := newVerifier(t, func(c *verify.Config) { c.SubjectClaim = "/ext/uid" })
	tok := sign(t, jwt.SigningMethodEdDSA, k.ed, map[string]any{"kid": "ed"}, with(func(c jwt.MapClaims) {
		c["ext"] = map[string]string{"uid": "u-77"}
		delete(c, "client_id")
		c["azp"] = "spa"
		c["scope"] = []string{"a", "b"}
	}))
	got, err := v.Verify(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if got.Subject != "u-77" || got.ClientID != "spa" || got.Scope != "a b" {
		t.Fatalf("got %+v", got)
	}
}

func TestNewRefusesUnsafeConfig(t *testing.T) {
	ks := verify.StaticKeys{}
	cases := map[string]verify.Config{
		"HS256 in the allow-list": {Issuer: iss, Audiences: []string{"a"}, Keys: ks, Algorithms: []string{"HS256"}},
		"none in the allow-list":  {Issuer: iss, Audiences: []string{"a"}, Keys: ks, Algorithms: []string{"none"}},
		"no issuer":               {Audiences: []string{"a"}, Keys: ks},
		"no audience":             {Issuer: iss, Keys: ks},
		"no keys":                 {Issuer: iss, Audiences: []string{"a"}},
		"bad roles format":        {Issuer: iss, Audiences: []string{"a"}, Keys: ks, RolesFormat: "xml"},
		"empty pointer segment":   {Issuer: iss, Audiences: []string{"a"}, Keys: ks, RolesClaim: "/a//b"},
		"negative leeway":         {Issuer: iss, Audiences: []string{"a"}, Keys: ks, Leeway: -time.Second},
	}
	for name, cfg := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := verify.New(cfg); err == nil {
				t.Fatal("New accepted the config")
			}
		})
	}
}

// Each issuer's keys verify only that issuer's tokens (RFC 8725 3.8): a
// token claiming issuer B but signed with A's key must fail even though A's
// verifier would accept the signature.
func TestIssuersKeepKeysApart(t *testing.T) {
	k := keys(t)
	a := newVerifier(t, func(c *verify.Config) { c.Keys = verify.StaticKeys{"a": {Public: &k.rsa.PublicKey}} })
	b := newVerifier(t, func(c *verify.Config) {
		c.Issuer = "https://b.test"
		c.Keys = verify.StaticKeys{"b": {Public: &k.rsa2.PublicKey}}
	})
	is, err := verify.NewIssuers(a, b)
	if err != nil {
		t.Fatal(err)
	}
	okA := sign(t, jwt.SigningMethodRS256, k.rsa, map[string]any{"kid": "a"}, baseClaims())
	if _, v, err := is.Verify(context.Background(), okA); err != nil || v != a {
		t.Fatalf("issuer A token: %v", err)
	}
	forged := sign(t, jwt.SigningMethodRS256, k.rsa, map[string]any{"kid": "b"}, with(func(c jwt.MapClaims) { c["iss"] = "https://b.test" }))
	if _, _, err := is.Verify(context.Background(), forged); !errors.Is(err, verify.ErrSignature) {
		t.Fatalf("A-signed token claiming B: %v", err)
	}
	forged2 := sign(t, jwt.SigningMethodRS256, k.rsa, map[string]any{"kid": "a"}, with(func(c jwt.MapClaims) { c["iss"] = "https://b.test" }))
	if _, _, err := is.Verify(context.Background(), forged2); !errors.Is(err, verify.ErrUnknownKey) {
		t.Fatalf("token claiming B with A's kid: %v", err)
	}
	stranger := sign(t, jwt.SigningMethodRS256, k.rsa, map[string]any{"kid": "a"}, with(func(c jwt.MapClaims) { c["iss"] = "https://c.test" }))
	if _, _, err := is.Verify(context.Background(), stranger); !errors.Is(err, verify.ErrIssuer) {
		t.Fatalf("unknown issuer: %v", err)
	}
	if _, err := verify.NewIssuers(a, a); err == nil {
		t.Fatal("NewIssuers accepted a duplicate issuer")
	}
}

func TestStaticKeysSingleKeyWithoutKID(t *testing.T) {
	k := keys(t)
	v := newVerifier(t, func(c *verify.Config) { c.Keys = verify.StaticKeys{"only": {Public: k.ed.Public()}} })
	if _, err := v.Verify(context.Background(), sign(t, jwt.SigningMethodEdDSA, k.ed, nil, baseClaims())); err != nil {
		t.Fatalf("single key, no kid: %v", err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
