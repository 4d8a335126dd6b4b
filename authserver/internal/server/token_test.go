package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/portcullis/portcullis/authserver/internal/server/servertest"
	"github.com/portcullis/portcullis/authserver/internal/storage"
	"github.com/portcullis/portcullis/shared/claims"
	"github.com/portcullis/portcullis/shared/roles"
)

func TestClientCredentialsWithXOAuth2Client(t *testing.T) {
	s := servertest.New(t, servertest.Options{})
	id, secret := s.CreateClient(t, servertest.Client{
		GrantTypes: []string{"client_credentials"}, Scopes: []string{"reports.read", "revocations"},
		Grants: []roles.Grant{{Role: roles.Consumer, Account: "acme", Application: "billing"}},
	})
	for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams} {
		cc := clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: s.URL + "/oauth2/token",
			Scopes: []string{"reports.read"}, AuthStyle: style}
		tok, err := cc.Token(context.Background())
		if err != nil {
			t.Fatalf("auth style %v: %v", style, err)
		}
		if tok.TokenType != "Bearer" || tok.RefreshToken != "" {
			t.Fatalf("token_type %q, refresh %q: want Bearer and no refresh token", tok.TokenType, tok.RefreshToken)
		}
		if d := time.Until(tok.Expiry); d < 4*time.Minute || d > 5*time.Minute+time.Second {
			t.Fatalf("expires in %v, want ~5m", d)
		}
		h, c := decodeJWT(t, tok.AccessToken)
		if str(t, h["typ"]) != "at+jwt" || str(t, h["alg"]) != "EdDSA" || str(t, h["kid"]) == "" {
			t.Fatalf("header %v", h)
		}
		if str(t, c["sub"]) != id || str(t, c["client_id"]) != id || str(t, c["iss"]) != s.URL || str(t, c["scope"]) != "reports.read" {
			t.Fatalf("claims %v", c)
		}
		if string(c["aud"]) != `["portcullis"]` {
			t.Fatalf("aud %s", c["aud"])
		}
		if string(c["roles"]) != `[{"role":"consumer","account":"acme","application":"billing"}]` {
			t.Fatalf("roles %s", c["roles"])
		}
		if num(t, c["exp"])-num(t, c["iat"]) != 300 || num(t, c["nbf"]) != num(t, c["iat"]) || str(t, c["jti"]) == "" {
			t.Fatalf("times/jti %v", c)
		}
	}
}

func TestPasswordGrantWithXOAuth2Client(t *testing.T) {
	s := servertest.New(t, servertest.Options{})
	s.CreateUser(t, "alice", "s3cret-pass")
	id, secret := s.CreateClient(t, servertest.Client{})
	cfg := oauth2.Config{ClientID: id, ClientSecret: secret, Endpoint: oauth2.Endpoint{TokenURL: s.URL + "/oauth2/token"}}
	tok, err := cfg.PasswordCredentialsToken(context.Background(), "alice", "s3cret-pass")
	if err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken == "" || len(tok.RefreshToken) < 40 {
		t.Fatalf("refresh token %q: want an opaque high-entropy value", tok.RefreshToken)
	}
	// The x/oauth2 TokenSource refreshes through the refresh_token grant.
	expired := &oauth2.Token{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, Expiry: time.Now().Add(-time.Hour)}
	next, err := cfg.TokenSource(context.Background(), expired).Token()
	if err != nil {
		t.Fatal(err)
	}
	if next.AccessToken == tok.AccessToken || next.RefreshToken == tok.RefreshToken {
		t.Fatal("refresh did not rotate both tokens")
	}
}

func TestRolesClaim(t *testing.T) {
	many := []roles.Grant{
		{Role: roles.Administrator},
		{Role: roles.AccountManager, Account: "acme"},
		{Role: roles.Developer, Account: "acme", Application: "billing"},
		{Role: roles.Consumer, Account: "globex", Application: "shop"},
	}
	cases := []struct {
		name    string
		grants  []roles.Grant
		format  claims.Format
		account string
		want    string
	}{
		{"no grants", nil, claims.FormatScoped, "", `[]`},
		{"one grant", many[2:3], claims.FormatScoped, "", `[{"role":"developer","account":"acme","application":"billing"}]`},
		{"many grants", many, claims.FormatScoped, "",
			`[{"role":"administrator"},{"role":"account_manager","account":"acme"},{"role":"developer","account":"acme","application":"billing"},{"role":"consumer","account":"globex","application":"shop"}]`},
		{"compact", many, claims.FormatCompact, "", `["administrator","account_manager:acme","developer:acme/billing","consumer:globex/shop"]`},
		{"compact no grants", nil, claims.FormatCompact, "", `[]`},
		{"narrowed to account", many, claims.FormatCompact, "globex", `["administrator","consumer:globex/shop"]`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := servertest.New(t, servertest.Options{RolesFormat: tc.format})
			s.CreateUser(t, "bob", "pw-of-bob", tc.grants...)
			id, secret := s.CreateClient(t, servertest.Client{})
			form := url.Values{"grant_type": {"password"}, "username": {"bob"}, "password": {"pw-of-bob"}}
			if tc.account != "" {
				form.Set("account", tc.account)
			}
			tr := s.Token(t, id, secret, form)
			if tr.Status != 200 {
				t.Fatalf("%d %s", tr.Status, tr.Error)
			}
			_, c := decodeJWT(t, tr.AccessToken)
			if got := canonical(t, c["roles"]); got != canonical(t, json.RawMessage(tc.want)) {
				t.Fatalf("roles = %s, want %s", got, tc.want)
			}
			u, _ := s.Store.GetUserByUsername(context.Background(), "bob")
			if str(t, c["sub"]) != u.ID {
				t.Fatalf("sub %s, want user id %s", c["sub"], u.ID)
			}
			if _, ok := c["scope"]; ok {
				t.Fatalf("scope present without any scope granted: %s", c["scope"])
			}
		})
	}
}

// canonical sorts a roles array so the comparison does not depend on the
// store's (stable but unspecified) order.
func canonical(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		t.Fatalf("roles not an array: %s", raw)
	}
	ss := make([]string, len(items))
	for i, it := range items {
		ss[i] = string(it)
	}
	sortStrings(ss)
	return "[" + strings.Join(ss, ",") + "]"
}

func sortStrings(ss []string) {
	for i := 1; i < len(ss); i++ {
		for j := i; j > 0 && ss[j] < ss[j-1]; j-- {
			ss[j], ss[j-1] = ss[j-1], ss[j]
		}
	}
}

func TestRefreshRotationAndReuseDetection(t *testing.T) {
	s := servertest.New(t, servertest.Options{})
	s.CreateUser(t, "carol", "pw-carol")
	id, secret := s.CreateClient(t, servertest.Client{})
	first := s.PasswordToken(t, id, secret, "carol", "pw-carol")
	refreshWith := func(rt string) servertest.TokenResponse {
		return s.Token(t, id, secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
	}
	second := refreshWith(first.RefreshToken)
	if second.Status != 200 || second.RefreshToken == "" || second.RefreshToken == first.RefreshToken {
		t.Fatalf("rotation: %+v", second)
	}
	third := refreshWith(second.RefreshToken)
	if third.Status != 200 {
		t.Fatalf("second rotation: %+v", third)
	}
	// Reuse of the spent first token: refused, and the family is revoked,
	// so even the latest token stops working.
	if r := refreshWith(first.RefreshToken); r.Status != 400 || r.Error != "invalid_grant" {
		t.Fatalf("reuse: %d %s", r.Status, r.Error)
	}
	if r := refreshWith(third.RefreshToken); r.Status != 400 || r.Error != "invalid_grant" {
		t.Fatalf("latest token after reuse: %d %s, want invalid_grant", r.Status, r.Error)
	}
	// A new login starts a new family.
	fresh := s.PasswordToken(t, id, secret, "carol", "pw-carol")
	if r := refreshWith(fresh.RefreshToken); r.Status != 200 {
		t.Fatalf("new family: %+v", r)
	}
}

func TestRefreshReuseGrace(t *testing.T) {
	s := servertest.New(t, servertest.Options{RefreshReuseGrace: 10 * time.Second})
	s.CreateUser(t, "dave", "pw-dave")
	id, secret := s.CreateClient(t, servertest.Client{})
	first := s.PasswordToken(t, id, secret, "dave", "pw-dave")
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first.RefreshToken}}
	if r := s.Token(t, id, secret, form); r.Status != 200 {
		t.Fatalf("first use: %+v", r)
	}
	s.Clock.Advance(5 * time.Second)
	if r := s.Token(t, id, secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first.RefreshToken}}); r.Status != 200 {
		t.Fatalf("racing reuse inside the grace window: %+v", r)
	}
	s.Clock.Advance(6 * time.Second)
	if r := s.Token(t, id, secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first.RefreshToken}}); r.Error != "invalid_grant" {
		t.Fatalf("reuse after the grace window: %+v", r)
	}
}

func TestRefreshBoundToClientAndExpiry(t *testing.T) {
	s := servertest.New(t, servertest.Options{RefreshTTL: time.Hour})
	s.CreateUser(t, "erin", "pw-erin")
	id, secret := s.CreateClient(t, servertest.Client{})
	other, otherSecret := s.CreateClient(t, servertest.Client{})
	tr := s.PasswordToken(t, id, secret, "erin", "pw-erin")
	if r := s.Token(t, other, otherSecret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken}}); r.Error != "invalid_grant" {
		t.Fatalf("another client's refresh token: %+v", r)
	}
	s.Clock.Advance(time.Hour + time.Second)
	if r := s.Token(t, id, secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken}}); r.Error != "invalid_grant" {
		t.Fatalf("expired refresh token: %+v", r)
	}
}

func TestRoleChangeReachesNextToken(t *testing.T) {
	s := servertest.New(t, servertest.Options{RolesFormat: claims.FormatCompact})
	g := roles.Grant{Role: roles.Developer, Account: "acme", Application: "billing"}
	u := s.CreateUser(t, "frank", "pw-frank", g)
	id, secret := s.CreateClient(t, servertest.Client{})
	tr := s.PasswordToken(t, id, secret, "frank", "pw-frank")
	if _, c := decodeJWT(t, tr.AccessToken); string(c["roles"]) != `["developer:acme/billing"]` {
		t.Fatalf("roles %s", c["roles"])
	}
	ctx := context.Background()
	gs, _, err := s.Store.ListGrants(ctx, storage.GrantFilter{UserID: u.ID}, storage.Page{Limit: 10})
	if err != nil || len(gs) != 1 {
		t.Fatalf("grants %v %v", gs, err)
	}
	if err := s.Store.DeleteGrant(ctx, gs[0].ID); err != nil {
		t.Fatal(err)
	}
	r := s.Token(t, id, secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken}})
	if r.Status != 200 {
		t.Fatalf("refresh: %+v", r)
	}
	if _, c := decodeJWT(t, r.AccessToken); string(c["roles"]) != `[]` {
		t.Fatalf("roles after removal %s, want []", c["roles"])
	}
}

func TestDisabledUser(t *testing.T) {
	s := servertest.New(t, servertest.Options{})
	u := s.CreateUser(t, "gina", "pw-gina")
	id, secret := s.CreateClient(t, servertest.Client{})
	tr := s.PasswordToken(t, id, secret, "gina", "pw-gina")
	if _, err := s.Store.UpdateUser(context.Background(), u.ID, func(x *storage.User) error { x.Active = false; return nil }); err != nil {
		t.Fatal(err)
	}
	if r := s.Token(t, id, secret, url.Values{"grant_type": {"password"}, "username": {"gina"}, "password": {"pw-gina"}}); r.Status != 400 || r.Error != "invalid_grant" {
		t.Fatalf("disabled user login: %+v", r)
	}
	if r := s.Token(t, id, secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken}}); r.Status != 400 || r.Error != "invalid_grant" {
		t.Fatalf("disabled user refresh: %+v", r)
	}
}

func TestPublicClientPasswordGrant(t *testing.T) {
	s := servertest.New(t, servertest.Options{})
	s.CreateUser(t, "hank", "pw-hank")
	id, _ := s.CreateClient(t, servertest.Client{Public: true})
	tr := s.PasswordToken(t, id, "", "hank", "pw-hank")
	if tr.RefreshToken == "" {
		t.Fatal("public client with refresh_token grant got no refresh token")
	}
	if r := s.Token(t, id, "", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken}}); r.Status != 200 {
		t.Fatalf("public refresh: %+v", r)
	}
}

func TestPasswordHashUpgradeFromBcrypt(t *testing.T) {
	s := servertest.New(t, servertest.Options{})
	ctx := context.Background()
	// bcrypt of "legacy-pass", cost 4, as ApiOpenStudio would have stored it.
	const bcryptHash = "$2a$04$PZQOiXqsQEtlBoUUPhxhpewHgmg81mhpsTnTZMI9.AxsoFJ/HkSaO"
	u := &storage.User{Username: "ivan", Email: "ivan@example.test", PasswordHash: bcryptHash, Active: true}
	if err := s.Store.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	id, secret := s.CreateClient(t, servertest.Client{})
	s.PasswordToken(t, id, secret, "ivan", "legacy-pass")
	got, err := s.Store.GetUser(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(got.PasswordHash, "$argon2id$") {
		t.Fatalf("hash not upgraded: %q", got.PasswordHash)
	}
	s.PasswordToken(t, id, secret, "ivan", "legacy-pass")
}

func TestLoginRateLimit(t *testing.T) {
	s := servertest.New(t, servertest.Options{Limits: limits(3, 100), LimitWindow: time.Minute})
	s.CreateUser(t, "judy", "pw-judy")
	id, secret := s.CreateClient(t, servertest.Client{})
	bad := url.Values{"grant_type": {"password"}, "username": {"judy"}, "password": {"wrong"}}
	for i := 0; i < 3; i++ {
		if r := s.Token(t, id, secret, cloneForm(bad)); r.Status != 400 || r.Error != "invalid_grant" {
			t.Fatalf("attempt %d: %+v", i, r)
		}
	}
	r := s.Token(t, id, secret, url.Values{"grant_type": {"password"}, "username": {"judy"}, "password": {"pw-judy"}})
	if r.Status != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
		t.Fatalf("over the limit: %d %s Retry-After=%q", r.Status, r.Error, r.Header.Get("Retry-After"))
	}
	s.Clock.Advance(time.Minute)
	s.PasswordToken(t, id, secret, "judy", "pw-judy")
}

func TestLoginRateLimitPerIP(t *testing.T) {
	s := servertest.New(t, servertest.Options{Limits: limits(100, 2)})
	id, secret := s.CreateClient(t, servertest.Client{})
	s.CreateUser(t, "kim", "pw-kim")
	for _, u := range []string{"nobody1", "nobody2"} {
		if r := s.Token(t, id, secret, url.Values{"grant_type": {"password"}, "username": {u}, "password": {"x"}}); r.Error != "invalid_grant" {
			t.Fatalf("%+v", r)
		}
	}
	if r := s.Token(t, id, secret, url.Values{"grant_type": {"password"}, "username": {"kim"}, "password": {"pw-kim"}}); r.Status != 429 {
		t.Fatalf("per-IP limit: %+v", r)
	}
}

func TestRefreshScopeNarrowingKeepsRefreshScope(t *testing.T) {
	s := servertest.New(t, servertest.Options{})
	s.CreateUser(t, "uma", "pw-uma")
	id, secret := s.CreateClient(t, servertest.Client{Scopes: []string{"read", "write"}})
	tr := s.Token(t, id, secret, url.Values{"grant_type": {"password"}, "username": {"uma"}, "password": {"pw-uma"}, "scope": {"read write"}})
	if tr.Status != 200 || tr.Scope != "read write" {
		t.Fatalf("%+v", tr)
	}
	narrow := s.Token(t, id, secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken}, "scope": {"read"}})
	if narrow.Status != 200 || narrow.Scope != "read" {
		t.Fatalf("narrowed refresh: %+v", narrow)
	}
	if _, c := decodeJWT(t, narrow.AccessToken); str(t, c["scope"]) != "read" {
		t.Fatalf("access token scope %s", c["scope"])
	}
	wide := s.Token(t, id, secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {narrow.RefreshToken}})
	if wide.Status != 200 || wide.Scope != "read write" {
		t.Fatalf("the new refresh token lost the original scope: %+v", wide)
	}
	if r := s.Token(t, id, secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {wide.RefreshToken}, "scope": {"admin"}}); r.Error != "invalid_scope" {
		t.Fatalf("widening scope on refresh: %+v", r)
	}
}
