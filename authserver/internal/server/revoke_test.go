package server_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/portcullis/portcullis/authserver/internal/server/servertest"
	"github.com/portcullis/portcullis/shared/roles"
)

func TestRevokeAndIntrospect(t *testing.T) {
	s := servertest.New(t, servertest.Options{})
	s.CreateUser(t, "mia", "pw-mia", roles.Grant{Role: roles.Developer, Account: "acme", Application: "billing"})
	id, secret := s.CreateClient(t, servertest.Client{Scopes: []string{"read"}})
	other, otherSecret := s.CreateClient(t, servertest.Client{})
	public, _ := s.CreateClient(t, servertest.Client{Public: true})
	tr := s.Token(t, id, secret, url.Values{"grant_type": {"password"}, "username": {"mia"}, "password": {"pw-mia"}, "scope": {"read"}})
	if tr.Status != 200 {
		t.Fatalf("%+v", tr)
	}

	introspect := func(token, cid, csecret string) map[string]any {
		t.Helper()
		resp := s.PostForm(t, "/oauth2/introspect", url.Values{"token": {token}}, cid, csecret)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("introspect: %d %v", resp.StatusCode, readJSON(t, resp))
		}
		return readJSON(t, resp)
	}
	revoke := func(token, hint, cid, csecret string) {
		t.Helper()
		form := url.Values{"token": {token}}
		if hint != "" {
			form.Set("token_type_hint", hint)
		}
		resp := s.PostForm(t, "/oauth2/revoke", form, cid, csecret)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("revoke: %d", resp.StatusCode)
		}
	}

	got := introspect(tr.AccessToken, other, otherSecret)
	if got["active"] != true || got["client_id"] != id || got["scope"] != "read" || got["token_type"] != "Bearer" || got["iss"] != s.URL {
		t.Fatalf("introspect access token: %v", got)
	}
	if rs, _ := got["roles"].([]any); len(rs) != 1 {
		t.Fatalf("roles in introspection: %v", got["roles"])
	}
	if got := introspect(tr.RefreshToken, id, secret); got["active"] != true || got["token_type"] != "refresh_token" {
		t.Fatalf("introspect own refresh token: %v", got)
	}
	if got := introspect(tr.RefreshToken, other, otherSecret); got["active"] != false || len(got) != 1 {
		t.Fatalf("introspect another client's refresh token: %v", got)
	}
	if got := introspect("not-a-token", id, secret); got["active"] != false {
		t.Fatalf("unknown token: %v", got)
	}

	// Revoking the access token by jti: introspection says inactive.
	revoke(tr.AccessToken, "access_token", id, secret)
	if got := introspect(tr.AccessToken, id, secret); got["active"] != false {
		t.Fatalf("revoked access token still active: %v", got)
	}

	// Another client cannot revoke the refresh token; the owner can, and
	// that kills the whole family.
	revoke(tr.RefreshToken, "", other, otherSecret)
	if got := introspect(tr.RefreshToken, id, secret); got["active"] != true {
		t.Fatalf("foreign revocation took effect: %v", got)
	}
	rotated := s.Token(t, id, secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken}})
	if rotated.Status != 200 {
		t.Fatalf("%+v", rotated)
	}
	revoke(rotated.RefreshToken, "refresh_token", id, secret)
	if r := s.Token(t, id, secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rotated.RefreshToken}}); r.Error != "invalid_grant" {
		t.Fatalf("refresh after revocation: %+v", r)
	}
	if got := introspect(rotated.RefreshToken, id, secret); got["active"] != false {
		t.Fatalf("revoked refresh token active: %v", got)
	}

	// Unknown tokens: 200, nothing else.
	revoke("no-such-token", "", id, secret)
	revoke("a.b.c", "access_token", public, "")

	// Expired access tokens are inactive.
	fresh := s.PasswordToken(t, id, secret, "mia", "pw-mia")
	s.Clock.Advance(5*time.Minute + time.Second)
	if got := introspect(fresh.AccessToken, id, secret); got["active"] != false {
		t.Fatalf("expired token active: %v", got)
	}

	// Introspection needs an authenticated confidential client.
	resp := s.PostForm(t, "/oauth2/introspect", url.Values{"token": {fresh.AccessToken}, "client_id": {public}}, "", "")
	if b := readJSON(t, resp); resp.StatusCode != http.StatusUnauthorized || b["error"] != "invalid_client" {
		t.Fatalf("public introspection: %d %v", resp.StatusCode, b)
	}
	resp = s.PostForm(t, "/oauth2/introspect", url.Values{"token": {fresh.AccessToken}}, public, "")
	if b := readJSON(t, resp); resp.StatusCode != http.StatusUnauthorized || b["error"] != "invalid_client" {
		t.Fatalf("public introspection through Basic: %d %v", resp.StatusCode, b)
	}
	resp = s.PostForm(t, "/oauth2/introspect", url.Values{"token": {fresh.AccessToken}}, id, "wrong")
	if b := readJSON(t, resp); resp.StatusCode != http.StatusUnauthorized || b["error"] != "invalid_client" {
		t.Fatalf("bad secret introspection: %d %v", resp.StatusCode, b)
	}
	resp = s.PostForm(t, "/oauth2/revoke", url.Values{}, id, secret)
	if b := readJSON(t, resp); resp.StatusCode != http.StatusBadRequest || b["error"] != "invalid_request" {
		t.Fatalf("revoke without token: %d %v", resp.StatusCode, b)
	}
}
