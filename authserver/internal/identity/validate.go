package identity

import (
	"net/mail"
	"net/url"
	"unicode"
	"unicode/utf8"
)

// Limits on free-form input. Slugs appear inside compact role strings
// ("role:account/application") and URLs, so they are kept to a safe alphabet.
const (
	maxSlug        = 63
	maxUsername    = 128
	maxDisplayName = 200
	minPassword    = 8
	maxPassword    = 1024
)

// validSlug: lowercase letters, digits, '-' and '_', 1 to 63 characters.
func validSlug(s string) bool {
	if s == "" || len(s) > maxSlug {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

func checkSlug(f fields, field, s string) {
	if !validSlug(s) {
		f.add(field, "must be 1-%d characters of lowercase letters, digits, '-' and '_'", maxSlug)
	}
}

func checkDisplayName(f fields, field, s string) {
	if utf8.RuneCountInString(s) > maxDisplayName || !utf8.ValidString(s) || hasControl(s) {
		f.add(field, "must be valid text of at most %d characters without control characters", maxDisplayName)
	}
}

func hasControl(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) {
			return true
		}
	}
	return false
}

// checkUsername: printable, no spaces, at most 128 characters. Uniqueness is
// case-insensitive (enforced by the store).
func checkUsername(f fields, s string) {
	if s == "" || utf8.RuneCountInString(s) > maxUsername || !utf8.ValidString(s) {
		f.add("username", "must be 1-%d characters", maxUsername)
		return
	}
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) || !unicode.IsPrint(r) {
			f.add("username", "must not contain spaces or control characters")
			return
		}
	}
}

func checkEmail(f fields, s string) {
	if s == "" {
		return
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s {
		f.add("email", "must be a plain e-mail address like alice@example.com")
	}
}

func checkPassword(f fields, s string) {
	switch n := utf8.RuneCountInString(s); {
	case n < minPassword:
		f.add("password", "must be at least %d characters", minPassword)
	case len(s) > maxPassword:
		f.add("password", "must be at most %d bytes", maxPassword)
	}
}

// validRedirectURI: absolute URL with a scheme and host (or a custom scheme
// for native apps, RFC 8252 7.1), no fragment (RFC 6749 3.1.2).
func validRedirectURI(s string) bool {
	u, err := url.Parse(s)
	if err != nil || !u.IsAbs() || u.Fragment != "" || u.RawFragment != "" {
		return false
	}
	if u.Scheme == "http" || u.Scheme == "https" {
		return u.Host != ""
	}
	return u.Opaque == "" || u.Path != ""
}
