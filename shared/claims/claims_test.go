package claims_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/portcullis/portcullis/shared/claims"
	"github.com/portcullis/portcullis/shared/roles"
)

func TestAccessTokenJSON(t *testing.T) {
	issued := time.Date(2026, 11, 28, 12, 0, 0, 123_456_789, time.UTC)
	grants := []roles.Grant{
		{Role: roles.Administrator},
		{Role: roles.AccountManager, Account: "acme"},
		{Role: roles.Developer, Account: "acme", Application: "billing"},
	}
	tests := []struct {
		name      string
		format    claims.Format
		grants    []roles.Grant
		wantRoles string
	}{
		{"no grants", claims.FormatScoped, nil, `"roles":[]`},
		{"scoped", claims.FormatScoped, grants, `"roles":[{"role":"administrator"},{"role":"account_manager","account":"acme"},{"role":"developer","account":"acme","application":"billing"}]`},
		{"compact", claims.FormatCompact, grants, `"roles":["administrator","account_manager:acme","developer:acme/billing"]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := claims.AccessToken{
				Issuer: "http://127.0.0.1:9096", Subject: "u_1", Audience: jwt.ClaimStrings{"portcullis"},
				IssuedAt: claims.At(issued), NotBefore: claims.At(issued), ExpiresAt: claims.At(issued.Add(5 * time.Minute)),
				ID: "j1", ClientID: "cl_1", Roles: claims.Roles{Grants: tc.grants, Format: tc.format},
			}
			b, err := json.Marshal(&c)
			if err != nil {
				t.Fatal(err)
			}
			s := string(b)
			for _, want := range []string{tc.wantRoles, `"aud":["portcullis"]`, `"iat":1795867200.123`, `"exp":1795867500.123`, `"client_id":"cl_1"`} {
				if !strings.Contains(s, want) {
					t.Errorf("marshalled token %s\nlacks %s", s, want)
				}
			}
			if strings.Contains(s, `"scope"`) {
				t.Errorf("empty scope must be omitted: %s", s)
			}
			var back claims.AccessToken
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			if !back.IssuedAt.Equal(issued.Truncate(time.Millisecond)) || len(back.Roles.Grants) != len(tc.grants) || back.Roles.Format != tc.format && len(tc.grants) > 0 {
				t.Errorf("round trip: iat %v roles %+v", back.IssuedAt, back.Roles)
			}
		})
	}
}

func TestTimeWholeSeconds(t *testing.T) {
	b, err := json.Marshal(claims.At(time.Unix(1764331200, 0)))
	if err != nil || string(b) != "1764331200" {
		t.Fatalf("whole second = %s, %v; want 1764331200", b, err)
	}
	b, _ = json.Marshal(claims.At(time.Unix(1764331200, 100*int64(time.Millisecond))))
	if string(b) != "1764331200.1" {
		t.Fatalf("tenth = %s, want 1764331200.1", b)
	}
}

func TestDecodeRolesRejectsMalformed(t *testing.T) {
	for _, in := range []string{`{}`, `[1]`, `[{"account":"acme"}]`, `[":acme"]`, `["dev:acme/"]`} {
		if _, _, err := claims.DecodeRoles([]byte(in)); err == nil {
			t.Errorf("DecodeRoles(%s) succeeded, want an error", in)
		}
	}
}
