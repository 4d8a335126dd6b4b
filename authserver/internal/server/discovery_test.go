package server_test

import (
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/portcullis/portcullis/authserver/internal/server/servertest"
)

func TestDiscoveryDocuments(t *testing.T) {
	s := servertest.New(t, servertest.Options{})
	for _, path := range []string{"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"} {
		resp, err := s.HTTP.Client().Get(s.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		md := readJSON(t, resp)
		if md["issuer"] != s.URL || md["token_endpoint"] != s.URL+"/oauth2/token" || md["jwks_uri"] != s.URL+"/.well-known/jwks.json" ||
			md["revocation_endpoint"] != s.URL+"/oauth2/revoke" || md["introspection_endpoint"] != s.URL+"/oauth2/introspect" {
			t.Fatalf("%s: %v", path, md)
		}
		grants, _ := md["grant_types_supported"].([]any)
		for _, want := range []string{"password", "client_credentials", "refresh_token"} {
			if !slices.Contains(grants, any(want)) {
				t.Fatalf("grant types %v lack %s", grants, want)
			}
		}
		if algs, _ := md["id_token_signing_alg_values_supported"].([]any); len(algs) != 1 || algs[0] != "EdDSA" {
			t.Fatalf("algs %v", algs)
		}
	}
}

func TestHealthReadinessAndMetrics(t *testing.T) {
	s := servertest.New(t, servertest.Options{})
	get := func(path string) (int, string) {
		resp, err := s.HTTP.Client().Get(s.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get("/healthz"); code != 200 {
		t.Fatalf("healthz %d", code)
	}
	if code, body := get("/readyz"); code != 200 || !strings.Contains(body, `"signing_key":"ok"`) || !strings.Contains(body, `"database":"ok"`) {
		t.Fatalf("readyz %d %s", code, body)
	}

	id, secret := s.CreateClient(t, servertest.Client{})
	s.Token(t, id, secret, url.Values{"grant_type": {"client_credentials"}})
	s.Token(t, id, "wrong-secret", url.Values{"grant_type": {"client_credentials"}})
	_, metrics := get("/metrics")
	for _, want := range []string{
		`portcullis_authserver_tokens_issued_total{grant="client_credentials"} 1`,
		`portcullis_authserver_token_failures_total{error="invalid_client",grant="client_credentials"} 1`,
		`portcullis_authserver_http_request_duration_seconds_count{code="200",method="POST",route="/oauth2/token"} 1`,
		`portcullis_authserver_refresh_token_reuse_total 0`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}

	// A lost database makes the server unready, without leaking the cause.
	_ = s.Store.Close()
	if code, body := get("/readyz"); code != 503 || !strings.Contains(body, `"database":"unreachable"`) {
		t.Fatalf("readyz with closed DB: %d %s", code, body)
	}
}

// TestWellKnownAnswersHEAD: caches and monitors probe the key set and the
// metadata with HEAD; they get the GET headers (Cache-Control included) and
// no body.
func TestWellKnownAnswersHEAD(t *testing.T) {
	s := servertest.New(t, servertest.Options{})
	for _, path := range []string{"/.well-known/jwks.json", "/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"} {
		resp, err := s.HTTP.Client().Head(s.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK || len(body) != 0 || !strings.Contains(resp.Header.Get("Content-Type"), "json") {
			t.Errorf("HEAD %s = %d, %d body bytes, Content-Type %q", path, resp.StatusCode, len(body), resp.Header.Get("Content-Type"))
		}
		if path == "/.well-known/jwks.json" && !strings.Contains(resp.Header.Get("Cache-Control"), "max-age=") {
			t.Errorf("HEAD %s Cache-Control = %q, want a max-age", path, resp.Header.Get("Cache-Control"))
		}
	}
}
