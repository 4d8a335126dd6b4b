package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jwt"

	"github.com/portcullis/portcullis/authserver/internal/server/servertest"
	"github.com/portcullis/portcullis/authserver/internal/signer"
)

// verifyWithJWX checks a token the way a third party would: a stock JWT
// library, the served JWKS, nothing of ours.
func verifyWithJWX(t *testing.T, s *servertest.Server, tok string) error {
	t.Helper()
	set, err := jwk.Fetch(context.Background(), s.URL+"/.well-known/jwks.json", jwk.WithHTTPClient(s.HTTP.Client()))
	if err != nil {
		t.Fatalf("fetch JWKS: %v", err)
	}
	_, err = jwt.Parse([]byte(tok), jwt.WithKeySet(set), jwt.WithValidate(true), jwt.WithIssuer(s.URL),
		jwt.WithAudience("portcullis"), jwt.WithClock(jwt.ClockFunc(s.Clock.Now)))
	return err
}

func TestIssuedTokenVerifiesWithJWXAgainstJWKS(t *testing.T) {
	for _, alg := range []string{signer.EdDSA, signer.ES256, signer.RS256} {
		t.Run(alg, func(t *testing.T) {
			s := servertest.New(t, servertest.Options{Algorithm: alg})
			tok, _ := s.MintUserToken(t, "nina")
			if err := verifyWithJWX(t, s, tok); err != nil {
				t.Fatalf("jwx: %v", err)
			}
			h, _ := decodeJWT(t, tok)
			if str(t, h["alg"]) != alg {
				t.Fatalf("alg %s", h["alg"])
			}
			resp, err := s.HTTP.Client().Get(s.URL + "/.well-known/jwks.json")
			if err != nil {
				t.Fatal(err)
			}
			var set struct {
				Keys []map[string]any `json:"keys"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			if len(set.Keys) != 1 || set.Keys[0]["alg"] != alg || set.Keys[0]["use"] != "sig" || set.Keys[0]["kid"] != str(t, h["kid"]) {
				t.Fatalf("JWKS %v", set)
			}
			for _, private := range []string{"d", "p", "q", "dp", "dq", "qi"} {
				if _, ok := set.Keys[0][private]; ok {
					t.Fatalf("JWKS leaks private member %q", private)
				}
			}
		})
	}
}

func TestKeyRotationKeepsTokensInFlightValid(t *testing.T) {
	s := servertest.New(t, servertest.Options{RotateEvery: 3 * time.Hour, Prepublish: time.Hour})
	ctx := context.Background()
	tokA, _ := s.MintUserToken(t, "olga")
	hA, _ := decodeJWT(t, tokA)
	kid1 := str(t, hA["kid"])

	resp, err := s.HTTP.Client().Get(s.URL + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	cc := resp.Header.Get("Cache-Control")
	maxAge, err := strconv.Atoi(strings.TrimPrefix(strings.Split(cc, ", ")[1], "max-age="))
	if err != nil || maxAge <= 0 || time.Duration(maxAge)*time.Second > time.Hour {
		t.Fatalf("JWKS Cache-Control %q: want 0 < max-age <= prepublish", cc)
	}

	// Manual rotation: the next key is published now and signs an hour later.
	next, created, err := s.Signer.Rotate(ctx)
	if err != nil || !created {
		t.Fatalf("rotate: %v %v", created, err)
	}
	if _, again, _ := s.Signer.Rotate(ctx); again {
		t.Fatal("second rotate created another next key")
	}
	if n := jwksKids(t, s); len(n) != 2 || !n[next.ID] || !n[kid1] {
		t.Fatalf("JWKS after rotate: %v", n)
	}
	id, secret := s.CreateClient(t, servertest.Client{})
	s.CreateUser(t, "pete", "pw-pete")
	s.Clock.Advance(59 * time.Minute)
	tokOld := s.PasswordToken(t, id, secret, "pete", "pw-pete").AccessToken
	if h, _ := decodeJWT(t, tokOld); str(t, h["kid"]) != kid1 {
		t.Fatal("next key signed before its activation")
	}
	s.Clock.Advance(time.Minute)
	if err := s.Signer.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	tokNew := s.PasswordToken(t, id, secret, "pete", "pw-pete").AccessToken
	if h, _ := decodeJWT(t, tokNew); str(t, h["kid"]) != next.ID {
		t.Fatalf("new key not active after prepublish: %s", h["kid"])
	}
	// The token signed by the old key a minute ago still verifies through
	// the JWKS, with jwx and with our own introspection.
	if err := verifyWithJWX(t, s, tokOld); err != nil {
		t.Fatalf("old-key token after rotation: %v", err)
	}
	if err := verifyWithJWX(t, s, tokNew); err != nil {
		t.Fatalf("new-key token: %v", err)
	}
	states := map[string]signer.State{}
	keys, _ := s.Store.ListSigningKeys(ctx)
	for _, k := range signer.Describe(keys, s.Clock.Now()) {
		states[k.ID] = k.State
	}
	if states[kid1] != signer.StateRetired || states[next.ID] != signer.StateActive {
		t.Fatalf("states %v", states)
	}

	// Once every token of the old key has expired, the key leaves the JWKS.
	s.Clock.Advance(s.Signer.Retention() - time.Second)
	if err := s.Signer.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if n := jwksKids(t, s); !n[kid1] {
		t.Fatal("old key withdrawn before its tokens expired")
	}
	s.Clock.Advance(2 * time.Second)
	if err := s.Signer.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if n := jwksKids(t, s); len(n) != 1 || !n[next.ID] {
		t.Fatalf("JWKS after retention: %v", n)
	}

	// Automatic rotation: prepublish before rotate_every is up, Sync makes
	// the next key by itself.
	s.Clock.Advance(2*time.Hour - 7*time.Minute) // just past activation + rotate_every - prepublish
	if err := s.Signer.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if n := jwksKids(t, s); len(n) != 2 {
		t.Fatalf("automatic rotation did not publish a next key: %v", n)
	}
}

func jwksKids(t *testing.T, s *servertest.Server) map[string]bool {
	t.Helper()
	resp, err := s.HTTP.Client().Get(s.URL + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("JWKS status %d", resp.StatusCode)
	}
	set, err := jwk.ParseReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for i := 0; i < set.Len(); i++ {
		k, _ := set.Key(i)
		out[k.KeyID()] = true
	}
	return out
}
