package gateway

import (
	"path"
	"strings"
)

// cleanPath returns the path the gateway matches and forwards. Dot
// segments and repeated slashes are resolved (percent-encoded dots are
// already decoded in URL.Path, so %2E%2E is resolved too); an encoded slash
// or backslash, a literal backslash or a NUL is refused (ok=false), because
// an upstream may decode it into a separator the gateway did not match on.
// The common case (an already clean path) returns p itself and does not
// allocate.
func cleanPath(p, rawPath string) (string, bool) {
	if rawPath != "" && containsEncodedSeparator(rawPath) {
		return "", false
	}
	if strings.ContainsAny(p, "\\\x00") {
		return "", false
	}
	if p == "" || p[0] != '/' {
		p = "/" + p
	}
	if !needsClean(p) {
		return p, true
	}
	c := path.Clean(p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c, true
}

func needsClean(p string) bool {
	return strings.Contains(p, "//") || strings.Contains(p, "/./") || strings.Contains(p, "/../") ||
		strings.HasSuffix(p, "/.") || strings.HasSuffix(p, "/..")
}

func containsEncodedSeparator(raw string) bool {
	for i := 0; i+2 < len(raw); i++ {
		if raw[i] != '%' {
			continue
		}
		switch {
		case raw[i+1] == '2' && (raw[i+2] == 'f' || raw[i+2] == 'F'):
			return true
		case raw[i+1] == '5' && (raw[i+2] == 'c' || raw[i+2] == 'C'):
			return true
		case raw[i+1] == '0' && raw[i+2] == '0':
			return true
		}
	}
	return false
}
