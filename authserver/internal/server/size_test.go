package server_test

import (
	"fmt"
	"testing"

	"github.com/portcullis/portcullis/authserver/internal/server/servertest"
	"github.com/portcullis/portcullis/shared/claims"
	"github.com/portcullis/portcullis/shared/roles"
	"github.com/portcullis/portcullis/shared/verify"
)

// TestTokenSize records the access-token size for 1, 10 and 100 grants in
// both roles formats (docs/tokens.md quotes it) and holds the compact
// format under the verifier's default size limit at 100 grants.
func TestTokenSize(t *testing.T) {
	for _, format := range []claims.Format{claims.FormatScoped, claims.FormatCompact} {
		s := servertest.New(t, servertest.Options{RolesFormat: format})
		for _, n := range []int{1, 10, 100} {
			grants := make([]roles.Grant, n)
			for i := range grants {
				grants[i] = roles.Grant{Role: roles.Developer, Account: fmt.Sprintf("account-%02d", i%10), Application: fmt.Sprintf("application-%03d", i)}
			}
			tok, _ := s.MintUserToken(t, fmt.Sprintf("user-%d", n), grants...)
			t.Logf("format=%v grants=%d size=%d bytes", map[claims.Format]string{0: "scoped", 1: "compact"}[format], n, len(tok))
			if format == claims.FormatCompact && n == 100 && len(tok) > verify.DefaultMaxTokenSize {
				t.Fatalf("compact token with 100 grants is %d bytes, over the verifier's %d", len(tok), verify.DefaultMaxTokenSize)
			}
		}
	}
}
