package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/portcullis/portcullis/authserver/internal/server/servertest"
)

func TestTokenErrors(t *testing.T) {
	s := servertest.New(t, servertest.Options{})
	s.CreateUser(t, "lee", "pw-lee")
	id, secret := s.CreateClient(t, servertest.Client{Scopes: []string{"read"}})
	ccOnly, ccSecret := s.CreateClient(t, servertest.Client{GrantTypes: []string{"client_credentials"}})
	public, _ := s.CreateClient(t, servertest.Client{Public: true})

	type req struct {
		form        string
		user, pass  string // HTTP Basic
		contentType string
		path        string
	}
	cases := []struct {
		name       string
		req        req
		status     int
		code       string
		wwwAuthent bool
	}{
		{"missing grant_type", req{form: "", user: id, pass: secret}, 400, "invalid_request", false},
		{"unknown grant_type", req{form: "grant_type=urn:made:up", user: id, pass: secret}, 400, "unsupported_grant_type", false},
		{"implicit is not a grant", req{form: "grant_type=__implicit", user: id, pass: secret}, 400, "unsupported_grant_type", false},
		{"password without username", req{form: "grant_type=password&password=x", user: id, pass: secret}, 400, "invalid_request", false},
		{"refresh without token", req{form: "grant_type=refresh_token", user: id, pass: secret}, 400, "invalid_request", false},
		{"repeated parameter", req{form: "grant_type=client_credentials&scope=read&scope=read", user: id, pass: secret}, 400, "invalid_request", false},
		{"two auth methods", req{form: "grant_type=client_credentials&client_id=" + id + "&client_secret=" + secret, user: id, pass: secret}, 400, "invalid_request", false},
		{"no client authentication", req{form: "grant_type=client_credentials"}, 401, "invalid_client", true},
		{"wrong secret", req{form: "grant_type=client_credentials", user: id, pass: "nope"}, 401, "invalid_client", true},
		{"unknown client", req{form: "grant_type=client_credentials", user: "no-such-client", pass: "x"}, 401, "invalid_client", true},
		{"confidential client without secret", req{form: "grant_type=client_credentials&client_id=" + id}, 401, "invalid_client", true},
		{"public client with a secret", req{form: "grant_type=password&username=lee&password=pw-lee&client_id=" + public + "&client_secret=x"}, 401, "invalid_client", true},
		{"public client_credentials", req{form: "grant_type=client_credentials&client_id=" + public}, 400, "unauthorized_client", false},
		{"grant not allowed for client", req{form: "grant_type=password&username=lee&password=pw-lee", user: ccOnly, pass: ccSecret}, 400, "unauthorized_client", false},
		{"wrong password", req{form: "grant_type=password&username=lee&password=bad", user: id, pass: secret}, 400, "invalid_grant", false},
		{"unknown user", req{form: "grant_type=password&username=ghost&password=bad", user: id, pass: secret}, 400, "invalid_grant", false},
		{"unknown refresh token", req{form: "grant_type=refresh_token&refresh_token=abc", user: id, pass: secret}, 400, "invalid_grant", false},
		{"scope not allowed", req{form: "grant_type=client_credentials&scope=admin", user: id, pass: secret}, 400, "invalid_scope", false},
		{"malformed scope", req{form: "grant_type=client_credentials&scope=a%20%20b", user: id, pass: secret}, 400, "invalid_scope", false},
		{"bad account name", req{form: "grant_type=password&username=lee&password=pw-lee&account=ACME!", user: id, pass: secret}, 400, "invalid_request", false},
		{"json body", req{form: `{"grant_type":"client_credentials"}`, user: id, pass: secret, contentType: "application/json"}, 400, "invalid_request", false},
		{"no content type", req{form: "grant_type=client_credentials", user: id, pass: secret, contentType: "-"}, 400, "invalid_request", false},
		{"parameters in URL", req{form: "grant_type=client_credentials", user: id, pass: secret, path: "/oauth2/token?client_secret=x"}, 400, "invalid_request", false},
		{"malformed form encoding", req{form: "grant_type=%zz", user: id, pass: secret}, 400, "invalid_request", false},
		{"oversized body", req{form: "grant_type=client_credentials&pad=" + strings.Repeat("a", 20<<10), user: id, pass: secret}, 413, "invalid_request", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := tc.req.path
			if path == "" {
				path = "/oauth2/token"
			}
			r, err := http.NewRequestWithContext(context.Background(), http.MethodPost, s.URL+path, strings.NewReader(tc.req.form))
			if err != nil {
				t.Fatal(err)
			}
			switch tc.req.contentType {
			case "":
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			case "-":
			default:
				r.Header.Set("Content-Type", tc.req.contentType)
			}
			if tc.req.user != "" {
				r.SetBasicAuth(url.QueryEscape(tc.req.user), url.QueryEscape(tc.req.pass))
			}
			resp, err := s.HTTP.Client().Do(r)
			if err != nil {
				t.Fatal(err)
			}
			body := readJSON(t, resp)
			if resp.StatusCode != tc.status || body["error"] != tc.code {
				t.Fatalf("got %d %v, want %d %s", resp.StatusCode, body, tc.status, tc.code)
			}
			if d, _ := body["error_description"].(string); d == "" {
				t.Fatal("error_description is empty")
			}
			if got := resp.Header.Get("WWW-Authenticate") != ""; got != tc.wwwAuthent {
				t.Fatalf("WWW-Authenticate present = %v, want %v", got, tc.wwwAuthent)
			}
			if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
				t.Fatalf("Cache-Control %q", cc)
			}
		})
	}
	// Nothing was written by any of the refused requests.
	n, _, err := s.Store.ListAudit(context.Background(), storageAll())
	if err != nil || len(n) != 0 {
		t.Fatalf("audit after refused requests: %v %v", n, err)
	}
}

func TestUnknownRouteAndMethod(t *testing.T) {
	s := servertest.New(t, servertest.Options{})
	resp, err := s.HTTP.Client().Get(s.URL + "/nope")
	if err != nil {
		t.Fatal(err)
	}
	if b := readJSON(t, resp); resp.StatusCode != http.StatusNotFound || b["error"] != "not_found" {
		t.Fatalf("404: %d %v", resp.StatusCode, b)
	}
	resp, err = s.HTTP.Client().Get(s.URL + "/oauth2/token")
	if err != nil {
		t.Fatal(err)
	}
	if b := readJSON(t, resp); resp.StatusCode != http.StatusMethodNotAllowed || b["error"] != "invalid_request" {
		t.Fatalf("405: %d %v", resp.StatusCode, b)
	}
}
