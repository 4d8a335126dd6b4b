// Package oauthsyntax checks the syntax of OAuth2 protocol elements that
// several endpoints parse: scope strings (RFC 6749 section 3.3) and bearer
// credentials in the Authorization header (RFC 6750 section 2.1). Keeping
// them in one place means the token endpoint, the authorize endpoint, the
// admin API and logout accept exactly the same inputs.
package oauthsyntax

import "strings"

// ValidScope reports whether s is a scope string: space-separated
// scope-tokens, or empty.
func ValidScope(s string) bool {
	if s == "" {
		return true
	}
	for _, tok := range strings.Split(s, " ") {
		if !ValidScopeToken(tok) {
			return false
		}
	}
	return true
}

// ValidScopeToken reports whether tok is one scope-token:
// 1*( %x21 / %x23-5B / %x5D-7E ).
func ValidScopeToken(tok string) bool {
	if tok == "" {
		return false
	}
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		if c < 0x21 || c == 0x22 || c == 0x5C || c > 0x7E {
			return false
		}
	}
	return true
}

// BearerToken extracts the token of an "Authorization: Bearer" header
// value. The scheme is case-insensitive; an empty token is no token.
func BearerToken(header string) (string, bool) {
	scheme, tok, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}
