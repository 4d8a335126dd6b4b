package oauthsyntax_test

import (
	"testing"

	"github.com/portcullis/portcullis/authserver/internal/oauthsyntax"
)

func TestValidScope(t *testing.T) {
	for s, want := range map[string]bool{
		"":                     true,
		"openid":               true,
		"openid profile email": true,
		"a:b/c!#~":             true,
		"openid  profile":      false, // empty token between two spaces
		" openid":              false,
		`quo"te`:               false,
		`back\slash`:           false,
		"tab\tsep":             false,
		"caf\xc3\xa9":          false,
	} {
		if got := oauthsyntax.ValidScope(s); got != want {
			t.Errorf("ValidScope(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestBearerToken(t *testing.T) {
	tests := []struct {
		header, token string
		ok            bool
	}{
		{"Bearer abc.def.ghi", "abc.def.ghi", true},
		{"bearer abc", "abc", true},
		{"Bearer  abc ", "abc", true},
		{"Bearer ", "", false},
		{"Bearer", "", false},
		{"Basic dXNlcjpwYXNz", "", false},
		{"", "", false},
	}
	for _, tc := range tests {
		tok, ok := oauthsyntax.BearerToken(tc.header)
		if tok != tc.token || ok != tc.ok {
			t.Errorf("BearerToken(%q) = %q, %v; want %q, %v", tc.header, tok, ok, tc.token, tc.ok)
		}
	}
}
