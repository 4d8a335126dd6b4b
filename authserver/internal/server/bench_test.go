package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/portcullis/portcullis/authserver/internal/password"
	"github.com/portcullis/portcullis/authserver/internal/server/servertest"
	"github.com/portcullis/portcullis/authserver/internal/signer"
	"github.com/portcullis/portcullis/shared/roles"
)

// The issuance benchmarks go through the real listener with concurrent
// clients (b.RunParallel, keep-alive connections), so tokens/s includes
// HTTP, client authentication, one roles read, signing and, for refresh,
// the rotation write. `make bench` and `go test -bench Token` list them.

var benchGrants = []roles.Grant{
	{Role: roles.Developer, Account: "acme", Application: "billing"},
	{Role: roles.Consumer, Account: "acme", Application: "shop"},
	{Role: roles.AccountManager, Account: "globex"},
}

func benchServer(b *testing.B, alg string, params *password.Params) *servertest.Server {
	b.Helper()
	bits := 0
	if alg == "RS256-4096" {
		alg, bits = signer.RS256, 4096
	}
	return servertest.New(b, servertest.Options{Algorithm: alg, RSABits: bits, PasswordParams: params,
		Limits: limits(1<<30, 1<<30)})
}

func post(b *testing.B, hc *http.Client, u, id, secret string, form url.Values) map[string]any {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		b.Error(err)
		return nil
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, secret)
	resp, err := hc.Do(req)
	if err != nil {
		b.Error(err)
		return nil
	}
	defer func() { _ = resp.Body.Close() }()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		b.Errorf("status %d: %v %v", resp.StatusCode, out, err)
		return nil
	}
	return out
}

func reportRate(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
}

func benchClientCredentials(b *testing.B, alg string) {
	s := benchServer(b, alg, nil)
	id, secret := s.CreateClient(b, servertest.Client{GrantTypes: []string{"client_credentials"}, Grants: benchGrants})
	u := s.URL + "/oauth2/token"
	form := url.Values{"grant_type": {"client_credentials"}}
	post(b, s.HTTP.Client(), u, id, secret, form) // warm the secret cache
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		hc := s.HTTP.Client()
		for pb.Next() {
			post(b, hc, u, id, secret, form)
		}
	})
	reportRate(b)
}

func BenchmarkTokenClientCredentials(b *testing.B) { benchClientCredentials(b, signer.EdDSA) }

// BenchmarkTokenClientCredentialsByAlgorithm compares the candidates for
// keys.algorithm end to end, with RS256-4096 as the yardstick.
func BenchmarkTokenClientCredentialsByAlgorithm(b *testing.B) {
	for _, alg := range []string{signer.EdDSA, signer.ES256, signer.RS256, "RS256-4096"} {
		b.Run(alg, func(b *testing.B) { benchClientCredentials(b, alg) })
	}
}

func BenchmarkTokenRefreshToken(b *testing.B) {
	s := benchServer(b, signer.EdDSA, nil)
	s.CreateUser(b, "bench", "bench-password", benchGrants...)
	id, secret := s.CreateClient(b, servertest.Client{})
	u := s.URL + "/oauth2/token"
	var seq atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		hc := s.HTTP.Client()
		// Each goroutine refreshes its own family, rotating every time.
		_ = seq.Add(1)
		first := post(b, hc, u, id, secret, url.Values{"grant_type": {"password"}, "username": {"bench"}, "password": {"bench-password"}})
		if first == nil {
			return
		}
		rt, _ := first["refresh_token"].(string)
		for pb.Next() {
			out := post(b, hc, u, id, secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
			if out == nil {
				return
			}
			rt, _ = out["refresh_token"].(string)
		}
	})
	reportRate(b)
}

// BenchmarkTokenPassword uses the production argon2id parameters: the
// password check, not the token, is what this grant costs.
func BenchmarkTokenPassword(b *testing.B) {
	s := benchServer(b, signer.EdDSA, &password.DefaultParams)
	s.CreateUser(b, "bench", "bench-password", benchGrants...)
	id, secret := s.CreateClient(b, servertest.Client{})
	u := s.URL + "/oauth2/token"
	form := url.Values{"grant_type": {"password"}, "username": {"bench"}, "password": {"bench-password"}}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		hc := s.HTTP.Client()
		for pb.Next() {
			post(b, hc, u, id, secret, form)
		}
	})
	reportRate(b)
}
